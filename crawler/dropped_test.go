package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vplanet/store"
)

// wordpressFeed writes an RSS feed of n items the way WordPress writes
// one (an export-sized feed, as some blogs configure "Syndication feeds
// show the most recent" to thousands of items).
func wordpressFeed(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	>
<channel>
	<title>Big Archive</title>
	<atom:link href="https://archive.example.com/feed/" rel="self" type="application/rss+xml" />
	<link>https://archive.example.com</link>
	<description>Every post since 2009</description>
	<language>en-US</language>
	<generator>https://wordpress.org/?v=6.7.1</generator>
`)
	start := time.Date(2024, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		id := n - i
		fmt.Fprintf(&b, `	<item>
		<title>Homelab notes, part %d</title>
		<link>https://archive.example.com/%d/homelab-notes-part-%d/</link>
		<dc:creator><![CDATA[admin]]></dc:creator>
		<pubDate>%s</pubDate>
		<guid isPermaLink="false">https://archive.example.com/?p=%d</guid>
		<description><![CDATA[Part %d of the notes on the homelab cluster.]]></description>
		<content:encoded><![CDATA[<p>Part %d of the notes on the homelab cluster: hosts, switches and the vSAN witness.</p>]]></content:encoded>
	</item>
`, id, id, id, start.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), id, id, id)
	}
	b.WriteString("</channel>\n</rss>\n")
	return []byte(b.String())
}

// TestDroppedKept: a feed trimmed to its newest 1,000 items says so in its
// status, which a 304 keeps and the next full fetch sets again.
func TestDroppedKept(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var items atomic.Int64
			items.Store(1003)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				etag := fmt.Sprintf(`"%d"`, items.Load())
				if r.Header.Get("If-None-Match") == etag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", etag)
				w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
				w.Write(wordpressFeed(int(items.Load())))
			}))
			defer srv.Close()
			syncFeeds(t, db, srv.URL+"/feed/")
			c := New(db, Options{Logger: testLogger(t), SkipPages: true})
			steps := []struct {
				name        string
				items       int64
				notModified int
				dropped     int
				posts       int
			}{
				{"trimmed", 1003, 0, 3, 1000},
				{"not modified", 1003, 1, 3, 1000},
				{"short again", 20, 0, 0, 1003}, // its oldest three items are new
			}
			for _, s := range steps {
				items.Store(s.items)
				sum, err := c.Run(ctx, RunOptions{All: true})
				if err != nil || sum.Failed != 0 || sum.NotModified != s.notModified {
					t.Fatalf("%s: crawl %+v, %v", s.name, sum, err)
				}
				f := feedsByURL(t, db)[srv.URL+"/feed/"]
				if f.Dropped != s.dropped || f.PostCount != s.posts {
					t.Errorf("%s: feed dropped %d, posts %d; want %d, %d", s.name, f.Dropped, f.PostCount, s.dropped, s.posts)
				}
			}
		})
	}
}

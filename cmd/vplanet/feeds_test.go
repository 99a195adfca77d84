package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vplanet/index"
)

// bigFeed is an RSS feed of n items as WordPress writes one.
func bigFeed(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Big Archive</title><link>https://archive.example.com</link><description>Every post</description><language>en-US</language>
<generator>https://wordpress.org/?v=6.7.1</generator>
`)
	start := time.Date(2024, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Homelab notes, part %d</title><link>https://archive.example.com/%d/notes/</link>
<pubDate>%s</pubDate><guid isPermaLink="false">https://archive.example.com/?p=%d</guid>
<content:encoded><![CDATA[<p>Part %d of the notes on the homelab cluster and its vSAN witness.</p>]]></content:encoded></item>
`, n-i, n-i, start.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), n-i, n-i)
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// TestFeedsWithoutIndex: without a server, `vplanet feeds` reads the store
// alone. It creates no index, and an index locked by another process does
// not hold it up. It also shows a feed trimmed to its newest 1,000 items.
func TestFeedsWithoutIndex(t *testing.T) {
	feed := bigFeed(1004)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
		fmt.Fprint(w, feed)
	}))
	defer srv.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	feeds := filepath.Join(dir, "feeds.txt")
	if err := os.WriteFile(feeds, []byte(srv.URL+"/feed/ Big Archive\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runBinary(t, 0, "crawl", "--data", data, "--feeds", feeds)
	indexDir := filepath.Join(data, "index")

	out := runBinary(t, 0, "feeds", "--data", data)
	if _, err := os.Stat(indexDir); !os.IsNotExist(err) {
		t.Errorf("vplanet feeds touched the index directory %s (stat: %v)", indexDir, err)
	}
	for _, want := range []string{"127.0.0.1", "ok", "1000", "4 items beyond the newest 1,000 not kept"} {
		if !strings.Contains(out, want) {
			t.Errorf("vplanet feeds says\n%s\nwithout %q", out, want)
		}
	}

	// Another process holds the index (a rebuild, a search opening it).
	ix, err := index.Open(indexDir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	js := runBinary(t, 0, "feeds", "--json", "--data", data)
	if !strings.Contains(js, `"dropped": 4`) {
		t.Errorf("vplanet feeds --json says\n%s\nwithout \"dropped\": 4", js)
	}
}

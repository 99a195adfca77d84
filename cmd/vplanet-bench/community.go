package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// community is a blog community on loopback: each blog's Atom feed is
// served from one of many addresses 127.0.0.x, after a fixed latency, with
// ETag and Last-Modified so that an unchanged feed answers 304.
type community struct {
	feeds   []*blogFeed
	servers []*http.Server
	posts   int // in all feeds
	jaPosts int

	ok, notModified atomic.Int64 // answers given

	mu sync.RWMutex // held to change a feed (publish) while it is served
}

// blogFeed is one blog's rendered feed.
type blogFeed struct {
	url     string
	body    []byte
	etag    string
	lastMod time.Time
	gets    atomic.Int64 // requests answered, 200 or 304
}

// newCommunity renders nFeeds blogs of nPosts posts from c and serves them
// on nHosts loopback addresses (127.0.0.1 … 127.0.0.nHosts; Linux routes all
// of 127/8 to lo). Three blogs in five write Japanese, the others English.
func newCommunity(c *corpus, seed uint64, nFeeds, nPosts, nHosts int, latency time.Duration) (*community, error) {
	if nHosts < 1 || nHosts > 254 {
		return nil, fmt.Errorf("community: %d hosts: want 1 to 254", nHosts)
	}
	nHosts = min(nHosts, nFeeds)
	cm := &community{}
	// A host's blogs are blog h, h+nHosts, …; its server finds them by number.
	byPath := make([]map[string]*blogFeed, nHosts)
	addrs := make([]string, nHosts)
	var lns []net.Listener
	for h := range nHosts {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", h+1))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("community: listen on loopback address 127.0.0.%d: %w", h+1, err)
		}
		lns = append(lns, ln)
		addrs[h] = ln.Addr().String()
		byPath[h] = map[string]*blogFeed{}
	}
	lastMod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range nFeeds {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		ja := i%5 < 3
		host := addrs[i%nHosts]
		path := fmt.Sprintf("/blog%d/feed.atom", i)
		f := &blogFeed{url: "http://" + host + path, lastMod: lastMod}
		f.body = renderAtom(host, i, ja, c.synthesize(rng, i, nPosts, 3000, ja))
		sum := sha256.Sum256(f.body)
		f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		byPath[i%nHosts][path] = f
		cm.feeds = append(cm.feeds, f)
		cm.posts += nPosts
		if ja {
			cm.jaPosts += nPosts
		}
	}
	for h, ln := range lns {
		srv := &http.Server{Handler: cm.handler(byPath[h], latency), ReadHeaderTimeout: 10 * time.Second}
		cm.servers = append(cm.servers, srv)
		go srv.Serve(ln)
	}
	return cm, nil
}

// handler answers GET path with its feed after latency, 304 when the
// request's validators match.
func (cm *community) handler(feeds map[string]*blogFeed, latency time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := feeds[r.URL.Path]
		time.Sleep(latency)
		if f == nil {
			http.NotFound(w, r)
			return
		}
		f.gets.Add(1)
		cm.mu.RLock()
		defer cm.mu.RUnlock()
		h := w.Header()
		h.Set("ETag", f.etag)
		h.Set("Last-Modified", f.lastMod.Format(http.TimeFormat))
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			if strings.Contains(inm, f.etag) {
				cm.notModified.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
		} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !f.lastMod.After(ims) {
			cm.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		cm.ok.Add(1)
		h.Set("Content-Type", "application/atom+xml; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(f.body)))
		w.Write(f.body)
	})
}

// feedList returns feeds.txt for the community.
func (cm *community) feedList() []byte {
	var b bytes.Buffer
	b.WriteString("# the benchmark's synthetic community\n")
	for _, f := range cm.feeds {
		b.WriteString(f.url + "\n")
	}
	return b.Bytes()
}

// Close stops every server.
func (cm *community) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range cm.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Shutdown(ctx)
		}()
	}
	wg.Wait()
}

// renderAtom writes blog n's Atom feed; its entries carry HTML content.
func renderAtom(host string, n int, ja bool, posts []synthPost) []byte {
	lang, name := "en", fmt.Sprintf("Virtual Notes %d", n)
	if ja {
		lang, name = "ja", fmt.Sprintf("仮想化メモ %d", n)
	}
	var b bytes.Buffer
	base := fmt.Sprintf("http://%s/blog%d/", host, n)
	updated := posts[0].Published
	for _, p := range posts {
		if p.Published.After(updated) {
			updated = p.Published
		}
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="%s">
<title>%s</title>
<link rel="alternate" href="%s"/>
<id>tag:bench.vplanet.example,2026:blog%d</id>
<updated>%s</updated>
`, lang, name, base, n, updated.Format(time.RFC3339))
	var content strings.Builder
	for _, p := range posts {
		content.Reset()
		for _, para := range p.Paras {
			content.WriteString("<p>" + html.EscapeString(para) + "</p>\n")
		}
		fmt.Fprintf(&b, `<entry>
<title>%s</title>
<link rel="alternate" href="%s%s"/>
<id>tag:bench.vplanet.example,2026:%s</id>
<published>%s</published>
<updated>%s</updated>
<author><name>%s</name></author>
<content type="html">%s</content>
</entry>
`, html.EscapeString(p.Title), base, p.ID, p.ID, p.Published.Format(time.RFC3339), p.Published.Format(time.RFC3339),
			name, html.EscapeString(content.String()))
	}
	b.WriteString("</feed>\n")
	return b.Bytes()
}

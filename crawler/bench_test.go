package crawler

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchCommunity serves n feeds of 20 posts each, spread over hosts of ten
// feeds (loopback addresses 127.0.0.2, .3, … where the system allows, so the
// per-host limit behaves as on the web), each answering after latency and
// honouring If-None-Match.
func benchCommunity(b *testing.B, n int, latency time.Duration) []string {
	b.Helper()
	template := string(benchFeed(b, 20))
	var urls []string
	const perHost = 10
	for h := 0; h*perHost < n; h++ {
		host := h
		mux := http.NewServeMux()
		mux.HandleFunc("/feed/", func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(latency)
			id := strings.TrimPrefix(r.URL.Path, "/feed/")
			etag := `"` + strconv.Itoa(host) + "-" + id + `"`
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
			fmt.Fprint(w, strings.ReplaceAll(template, "bench.example", "blog"+strconv.Itoa(host)+"-"+id+".example"))
		})
		srv := httptest.NewUnstartedServer(mux)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", 2+h%250)); err == nil {
			srv.Listener.Close()
			srv.Listener = l
		}
		srv.Start()
		b.Cleanup(srv.Close)
		for i := 0; i < perHost && len(urls) < n; i++ {
			urls = append(urls, fmt.Sprintf("%s/feed/%d", srv.URL, i))
		}
	}
	return urls
}

// benchFeeds is how many feeds BenchmarkCrawl crawls: few by default, so
// that -benchtime=1x stays quick; VPLANET_BENCH_FEEDS=1000 for the figure
// the README reports.
func benchFeeds(b *testing.B) int {
	if s := os.Getenv("VPLANET_BENCH_FEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("VPLANET_BENCH_FEEDS=%q: want a positive number", s)
		}
		return n
	}
	return 20
}

// BenchmarkCrawl crawls a community of feeds that answer after 50 ms into a
// real store: the first crawl, and a re-crawl where every feed answers 304
// and nothing is parsed or stored.
func BenchmarkCrawl(b *testing.B) {
	n := benchFeeds(b)
	urls := benchCommunity(b, n, 50*time.Millisecond)
	ctx := context.Background()

	b.Run(fmt.Sprintf("first/feeds=%d", n), func(b *testing.B) {
		var sum Summary
		for range b.N {
			b.StopTimer()
			db := openStore(b)
			syncFeeds(b, db, urls...)
			c := New(db, Options{})
			b.StartTimer()
			var err error
			sum, err = c.Run(ctx, RunOptions{All: true})
			if err != nil {
				b.Fatal(err)
			}
			if sum.OK != n || sum.New != 20*n {
				b.Fatalf("first crawl: %s; want %d ok, %d new", sum, n, 20*n)
			}
		}
		b.ReportMetric(float64(sum.New)/sum.Duration.Seconds(), "posts/s")
		b.ReportMetric(float64(sum.Feeds)/sum.Duration.Seconds(), "feeds/s")
	})

	b.Run(fmt.Sprintf("recrawl304/feeds=%d", n), func(b *testing.B) {
		db := openStore(b)
		syncFeeds(b, db, urls...)
		c := New(db, Options{})
		if _, err := c.Run(ctx, RunOptions{All: true}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		var sum Summary
		for range b.N {
			var err error
			sum, err = c.Run(ctx, RunOptions{All: true})
			if err != nil {
				b.Fatal(err)
			}
			if sum.NotModified != n || sum.New+sum.Updated != 0 {
				b.Fatalf("re-crawl: %s; want all %d not modified, nothing stored", sum, n)
			}
		}
		b.ReportMetric(float64(sum.Feeds)/sum.Duration.Seconds(), "feeds/s")
	})
}

package main

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vplanet/index"
	"vplanet/server"
	"vplanet/store"
)

// BenchmarkSeedCorpus measures the whole spine on the seed blogs: the first
// crawl into the store, indexing what it stored, the index's size on disk, and
// the latency of a search through the HTTP API with snippets and facets.
func BenchmarkSeedCorpus(b *testing.B) {
	blogs := newBlogs(b)
	ctx := context.Background()
	queries := []string{"VCHA", "重複排除", "拡張クラスタ", "ESX", `"vSAN 6.6"`}
	var crawl, indexing, searching time.Duration
	var size int64
	var searches int
	for range b.N {
		dir := b.TempDir()
		data := filepath.Join(dir, "data")
		feeds := filepath.Join(dir, "feeds.txt")
		os.WriteFile(feeds, []byte(blogs.srv.URL+"/ja/feed ja\n"+blogs.srv.URL+"/en/atom.xml en\n"), 0o644)

		start := time.Now()
		err := run(ctx, []string{"vplanet", "crawl", "--all", "--data", data, "--feeds", feeds},
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		crawl += time.Since(start)

		db, err := store.Open(ctx, filepath.Join(data, "vplanet.db"))
		if err != nil {
			b.Fatal(err)
		}
		ix, err := index.Open(filepath.Join(data, "index"), index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if _, err := ix.CatchUp(ctx, db, nil); err != nil {
			b.Fatal(err)
		}
		indexing += time.Since(start)
		size += dirSize(filepath.Join(data, "index"))

		h := server.NewServer(server.Config{SearchPerMinute: -1}, db, ix)
		for range 20 {
			for _, q := range queries {
				req := httptest.NewRequest(http.MethodGet, "/api/search?q="+url.QueryEscape(q), nil)
				rec := httptest.NewRecorder()
				start = time.Now()
				h.ServeHTTP(rec, req)
				searching += time.Since(start)
				searches++
				var res searchResult
				json.Unmarshal(rec.Body.Bytes(), &res)
				if rec.Code != 200 || len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Snippet, "<mark>") {
					b.Fatalf("search %q: %d %s", q, rec.Code, rec.Body.String())
				}
			}
		}
		ix.Close()
		db.Close()
	}
	b.ReportMetric(float64(crawl.Milliseconds())/float64(b.N), "crawl-ms")
	b.ReportMetric(float64(indexing.Milliseconds())/float64(b.N), "index-ms")
	b.ReportMetric(float64(size)/1024/float64(b.N), "index-KiB")
	b.ReportMetric(float64(searching.Microseconds())/float64(searches), "search-µs")
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

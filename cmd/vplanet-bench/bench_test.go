package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corpusDir is the shared corpus as seen from this package's directory.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// TestSmall runs the small mode end to end: a real vplanet binary crawls,
// serves and reindexes a community of 20 blogs, and the naive baseline
// indexes the same posts. Groonga is left out.
func TestSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vplanet and runs it for about 20 seconds; skipped with -short")
	}
	if _, err := loadCorpus(corpusDir); errors.Is(err, errNoCorpus) {
		t.Skipf("corpus not found at %s: %v", corpusDir, err)
	}
	out := filepath.Join(t.TempDir(), "benchmark.md")
	var stdout, stderr bytes.Buffer
	args := []string{"-small", "-groonga=false", "-corpus", corpusDir, "-out", out, "-work", t.TempDir()}
	p, err := parseParams(args, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := measure(context.Background(), p, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	const posts = 20 * 10
	if rep.posts != posts {
		t.Errorf("community has %d posts, want %d", rep.posts, posts)
	}
	if got, want := rep.crawlSummary, "20 feeds: 20 ok, 0 not modified, 0 failed; 200 new"; !strings.HasPrefix(got, want) {
		t.Errorf("first crawl printed %q, want it to start %q", got, want)
	}
	if rep.recrawl304 != 20 {
		t.Errorf("re-crawl: %d feeds answered 304, want all 20", rep.recrawl304)
	}
	if rep.hitCounts[0] == 0 || rep.hitCounts[1] == 0 {
		t.Errorf("the first queries (%q, %q) find %v posts, want some", queries[0].q, queries[1].q, rep.hitCounts[:2])
	}
	if got, want := len(rep.searchLat), p.requests; got != want {
		t.Errorf("%d single-client searches measured, want %d", got, want)
	}
	if rep.searchRPS <= 0 || rep.feed200RPS <= 0 || rep.feed304RPS <= 0 {
		t.Errorf("throughputs: search %.0f, feed 200 %.0f, feed 304 %.0f req/s; want all positive", rep.searchRPS, rep.feed200RPS, rep.feed304RPS)
	}
	if rep.served.hwm < 10<<20 || rep.indexSize == 0 {
		t.Errorf("serve's peak RSS %d bytes, index %d bytes; want both measured", rep.served.hwm, rep.indexSize)
	}
	for _, m := range []memFigures{rep.restarted, rep.afterDrop} {
		if m.hwm < 10<<20 || m.anon == 0 || m.file == 0 {
			t.Errorf("restarted serve's peak RSS %d, private %d, mapped %d bytes; want all measured", m.hwm, m.anon, m.file)
		}
	}
	if rep.naiveErr != nil || rep.naive.Posts != posts {
		t.Errorf("naive baseline: %d posts, %v; want %d", rep.naive.Posts, rep.naiveErr, posts)
	}
	if rep.groongaErr == nil {
		t.Error("Groonga ran with -groonga=false")
	}

	if err := run(context.Background(), args, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, stdout.Bytes()) {
		t.Error("the Markdown file differs from the table printed")
	}
	for _, want := range []string{"| First crawl, 20 feeds × 10 posts, 5ms latency |", "| All-304 re-crawl |", "Groonga: skipped: -groonga=false", "-small -feeds 20 -posts 10"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
}

// TestCommunity checks the feed servers' conditional answers: the same
// validators a crawler sends back turn a 200 into a 304.
func TestCommunity(t *testing.T) {
	c := &corpus{
		ja: []string{"拡張クラスタの検証をしました。", "重複排除が有効です。"}, en: []string{"We tested vSAN.", "VCHA keeps vCenter up."},
		jaTitles: []string{"検証"}, enTitles: []string{"Tests"},
	}
	cm, err := newCommunity(c, 1, 4, 3, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	if got, want := len(cm.feeds), 4; got != want {
		t.Fatalf("%d feeds, want %d", got, want)
	}
	if got, want := cm.jaPosts, 3*3; got != want { // blogs 0, 1 and 2 of 4 write Japanese
		t.Errorf("%d Japanese posts, want %d", got, want)
	}
	f := cm.feeds[3]
	if !strings.HasPrefix(f.url, "http://127.0.0.2:") {
		t.Errorf("blog 3 at %s, want it on 127.0.0.2", f.url)
	}
	do := func(h http.Header) (int, http.Header, string) {
		req, _ := http.NewRequest(http.MethodGet, f.url, nil)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	code, h, body := do(http.Header{})
	if code != http.StatusOK || !strings.Contains(body, "<entry>") || strings.Count(body, "<entry>") != 3 {
		t.Fatalf("GET: %d with %d entries, want 200 with 3", code, strings.Count(body, "<entry>"))
	}
	tests := []struct {
		name string
		hdr  http.Header
		want int
	}{
		{"If-None-Match", http.Header{"If-None-Match": {h.Get("ETag")}}, http.StatusNotModified},
		{"If-Modified-Since", http.Header{"If-Modified-Since": {h.Get("Last-Modified")}}, http.StatusNotModified},
		{"older If-Modified-Since", http.Header{"If-Modified-Since": {time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)}}, http.StatusOK},
		{"other ETag", http.Header{"If-None-Match": {`"other"`}}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _, _ := do(tt.hdr); got != tt.want {
				t.Errorf("GET with %s: %d, want %d", tt.name, got, tt.want)
			}
		})
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {100000, "100,000"}, {-1234567, "-1,234,567"}, {math.MinInt64, "-9,223,372,036,854,775,808"}}
	for _, tt := range tests {
		if got := num(tt.n); got != tt.want {
			t.Errorf("num(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

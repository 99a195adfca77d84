package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vplanet"
	"vplanet/store"
)

// feedServer serves the files in testdata and the misbehaviours a crawler
// meets on the web.
type feedServer struct {
	*httptest.Server
	secretHits  atomic.Int64 // requests for what an XML bomb's external entity names
	conditional atomic.Int64 // requests that carried If-None-Match
	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	gzipBomb    []byte
}

func newFeedServer(t testing.TB) *feedServer {
	t.Helper()
	s := &feedServer{}
	mux := http.NewServeMux()
	file := func(name, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body := mustRead(t, name)
			body = bytes.ReplaceAll(body, []byte("{{base}}"), []byte(s.URL))
			w.Header().Set("Content-Type", contentType)
			w.Write(body)
		}
	}
	mux.HandleFunc("/rss2.xml", file("rss2.xml", "application/rss+xml; charset=utf-8"))
	mux.HandleFunc("/feed/", file("rss2.xml", "application/rss+xml; charset=utf-8"))
	mux.HandleFunc("/atom.xml", file("atom.xml", "application/atom+xml"))
	mux.HandleFunc("/rss1.rdf", file("rss1.rdf", "application/rdf+xml"))
	mux.HandleFunc("/feed.json", file("feed.json", "application/feed+json"))
	mux.HandleFunc("/sjis.xml", file("sjis-header.xml", "application/rss+xml; charset=Shift_JIS"))
	mux.HandleFunc("/eucjp.xml", file("eucjp-prolog.xml", "text/xml"))
	mux.HandleFunc("/iso2022jp.xml", file("iso2022jp.xml", "application/xml"))
	mux.HandleFunc("/bom.xml", file("utf8-bom.xml", "application/xml"))
	mux.HandleFunc("/home/", file("home.html", "text/html; charset=utf-8"))
	mux.HandleFunc("/nofeed/", file("nofeed.html", "text/html"))
	mux.HandleFunc("/bomb.xml", file("bomb.xml", "application/xml"))
	mux.HandleFunc("/hostile.xml", file("hostile.xml", "application/rss+xml"))
	mux.HandleFunc("/nul.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, "<rss version=\"2.0\"><channel><title>NUL\x00 feed</title><item><title>bad\xff\xfe bytes\x1b</title>"+
			"<link>https://nul.example/1</link><description>text\x00 with NUL</description></item></channel></rss>")
	})
	mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) {
		s.secretHits.Add(1)
		fmt.Fprint(w, "SECRET")
	})
	mux.HandleFunc("/secret.dtd", func(w http.ResponseWriter, r *http.Request) {
		s.secretHits.Add(1)
		fmt.Fprint(w, `<!ENTITY evil "EVIL">`)
	})
	mux.HandleFunc("/etag.xml", func(w http.ResponseWriter, r *http.Request) {
		const etag = `"v1"`
		if r.Header.Get("If-None-Match") != "" {
			s.conditional.Add(1)
		}
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Mon, 02 Oct 2017 10:00:00 GMT")
		w.Write(mustRead(t, "atom.xml"))
	})
	mux.Handle("/moved301", http.RedirectHandler("/atom.xml", http.StatusMovedPermanently))
	mux.Handle("/moved308", http.RedirectHandler("/moved301", http.StatusPermanentRedirect))
	mux.Handle("/found302", http.RedirectHandler("/rss1.rdf", http.StatusFound))
	mux.Handle("/loop-a", http.RedirectHandler("/loop-b", http.StatusMovedPermanently))
	mux.Handle("/loop-b", http.RedirectHandler("/loop-a", http.StatusMovedPermanently))
	mux.HandleFunc("/chain/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/chain/"), "%d", &n)
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusFound)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(3*time.Hour).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// Announce 200 MB; the crawler must refuse before reading it.
		w.Header().Set("Content-Length", "200000000")
		w.Write([]byte("<rss>"))
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		// No length announced: the limit is found by reading.
		chunk := bytes.Repeat([]byte("<!-- padding -->"), 4096)
		w.Write([]byte("<rss><channel>"))
		for range 1 << 20 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/gzip.xml", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "gzip expected", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(mustRead(t, "rss1.rdf"))
		zw.Close()
	})
	mux.HandleFunc("/gzipbomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(s.gzipBomb)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		for _, c := range []byte(`<rss version="2.0"><channel><title>slow</title></channel></rss>`) {
			if _, err := w.Write([]byte{c}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(200 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	})
	mux.HandleFunc("/tracked/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		s.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
		w.Write(mustRead(t, "rss1.rdf"))
	})
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.BestCompression)
	zw.Write([]byte(`<rss version="2.0"><channel><title>`))
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	s.gzipBomb = zb.Bytes()
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func openStore(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "vplanet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// syncFeeds lists urls in the store as feeds.txt would.
func syncFeeds(t testing.TB, db *store.DB, urls ...string) {
	t.Helper()
	var srcs []vplanet.FeedSource
	for i, u := range urls {
		srcs = append(srcs, vplanet.FeedSource{URL: u, Line: i + 1})
	}
	if _, _, err := db.SyncFeeds(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
}

func feedsByURL(t testing.TB, db *store.DB) map[string]*vplanet.Feed {
	t.Helper()
	feeds, err := db.FindFeeds(context.Background(), vplanet.FeedFilter{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*vplanet.Feed{}
	for _, f := range feeds {
		m[f.URL] = f
	}
	return m
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// closedPort returns an address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestRun(t *testing.T) {
	srv := newFeedServer(t)
	db := openStore(t)
	refused := "http://" + closedPort(t) + "/feed"
	u := func(path string) string { return srv.URL + path }

	type want struct {
		status   string
		posts    int    // for feeds whose items no other feed serves
		err      string // substring of LastError
		feedURL  string
		redirect string
		title    string
	}
	cases := map[string]want{
		u("/rss2.xml"):      {status: vplanet.StatusOK, title: "vHoge & Friends"},
		u("/atom.xml"):      {status: vplanet.StatusOK, title: "Cormac Hogan"},
		u("/rss1.rdf"):      {status: vplanet.StatusOK},
		u("/feed.json"):     {status: vplanet.StatusOK, posts: 2},
		u("/sjis.xml"):      {status: vplanet.StatusOK, title: "シフトJISのブログ"},
		u("/eucjp.xml"):     {status: vplanet.StatusOK, title: "EUC-JPのブログ"},
		u("/iso2022jp.xml"): {status: vplanet.StatusOK, title: "ISO-2022-JPのブログ"},
		u("/bom.xml"):       {status: vplanet.StatusOK, title: "BOM付きのブログ"},
		// The home page's feed is rss2.xml's content again: the same posts, so
		// they stay with the feed that brought them first.
		u("/home/"):       {status: vplanet.StatusOK, feedURL: u("/feed/"), title: "vHoge & Friends"},
		u("/nofeed/"):     {status: vplanet.StatusError, err: "not a feed: the page is HTML and links no feed"},
		u("/etag.xml"):    {status: vplanet.StatusOK},
		u("/moved301"):    {status: vplanet.StatusOK, feedURL: u("/atom.xml"), redirect: u("/moved301") + " → " + u("/atom.xml")},
		u("/moved308"):    {status: vplanet.StatusOK, feedURL: u("/atom.xml"), redirect: u("/moved308") + " → " + u("/atom.xml")},
		u("/found302"):    {status: vplanet.StatusOK},
		u("/gone"):        {status: vplanet.StatusGone, err: "HTTP 410 Gone"},
		u("/missing"):     {status: vplanet.StatusError, err: "HTTP 404 Not Found"},
		u("/busy"):        {status: vplanet.StatusError, err: "HTTP 429 Too Many Requests: the server asks to wait until"},
		u("/unavailable"): {status: vplanet.StatusError, err: "HTTP 503 Service Unavailable: the server asks to wait"},
		u("/broken"):      {status: vplanet.StatusError, err: "HTTP 500 Internal Server Error"},
		u("/loop-a"):      {status: vplanet.StatusError, err: "redirect loop: " + u("/loop-b") + " leads back to " + u("/loop-a")},
		u("/chain/0"):     {status: vplanet.StatusError, err: "too many redirects: more than 5"},
		u("/huge"):        {status: vplanet.StatusError, err: "feed too large: 200 MB, over the 16 MiB limit"},
		u("/endless"):     {status: vplanet.StatusError, err: "feed too large: over the 16 MiB limit"},
		u("/gzipbomb"):    {status: vplanet.StatusError, err: "feed too large: over the 16 MiB limit"},
		u("/slow"):        {status: vplanet.StatusError, err: "timed out"},
		u("/bomb.xml"):    {status: vplanet.StatusOK, posts: 1},
		u("/hostile.xml"): {status: vplanet.StatusOK, posts: 2},
		u("/gzip.xml"):    {status: vplanet.StatusOK, title: "tDiary のにっき"},
		u("/nul.xml"):     {status: vplanet.StatusOK, posts: 1, title: "NUL feed"},
		refused:           {status: vplanet.StatusError, err: "connection refused"},
	}
	var urls []string
	for u := range cases {
		urls = append(urls, u)
	}
	syncFeeds(t, db, urls...)

	// The fixtures' posts link to sites that are not on loopback.
	c := New(db, Options{Logger: testLogger(t), Timeout: time.Second, SkipPages: true})
	var progress []int
	start := time.Now()
	sum, err := c.Run(context.Background(), RunOptions{All: true, Progress: func(done, total int) {
		if total != len(cases) {
			t.Errorf("progress total: got %d, want %d", total, len(cases))
		}
		progress = append(progress, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %s", sum)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the run took %v: a slow or huge feed held it up", d)
	}
	if len(progress) != len(cases) || progress[len(progress)-1] != len(cases) {
		t.Errorf("progress: got %v, want 1…%d", progress, len(cases))
	}
	okWant, failWant := 0, 0
	for _, w := range cases {
		if w.status == vplanet.StatusOK {
			okWant++
		} else {
			failWant++
		}
	}
	if sum.Feeds != len(cases) || sum.OK != okWant || sum.Failed != failWant || sum.NotModified != 0 {
		t.Errorf("summary: got %s; want %d feeds, %d ok, %d failed", sum, len(cases), okWant, failWant)
	}

	now := time.Now()
	feeds := feedsByURL(t, db)
	for url, w := range cases {
		t.Run(strings.TrimPrefix(url, srv.URL), func(t *testing.T) {
			f := feeds[url]
			if f == nil {
				t.Fatalf("feed %s not in the store", url)
			}
			if f.Status != w.status {
				t.Errorf("status: got %q, want %q (last error %q)", f.Status, w.status, f.LastError)
			}
			if w.err == "" && f.LastError != "" || !strings.Contains(f.LastError, w.err) {
				t.Errorf("last error: got %q, want %q", f.LastError, w.err)
			}
			if w.posts > 0 && f.PostCount != w.posts {
				t.Errorf("posts: got %d, want %d", f.PostCount, w.posts)
			}
			if w.feedURL != "" && f.FeedURL != w.feedURL {
				t.Errorf("feed URL: got %q, want %q", f.FeedURL, w.feedURL)
			}
			if f.Redirect != w.redirect {
				t.Errorf("redirect: got %q, want %q", f.Redirect, w.redirect)
			}
			if w.title != "" && f.Title != w.title {
				t.Errorf("title: got %q, want %q", f.Title, w.title)
			}
			if f.LastAttempt.IsZero() {
				t.Error("last attempt not recorded")
			}
			switch f.Status {
			case vplanet.StatusOK:
				// Due again by the feed's rhythm, less the slack (see rhythm).
				if due := f.NextAttempt.Sub(start); f.ErrorCount != 0 || f.LastSuccess.IsZero() || due < minRhythm-2*time.Minute || due > maxRhythm {
					t.Errorf("success: error count %d, last success %v, next attempt %v", f.ErrorCount, f.LastSuccess, f.NextAttempt)
				}
			case vplanet.StatusError:
				if f.ErrorCount != 1 || !f.NextAttempt.After(now) {
					t.Errorf("failure: error count %d, next attempt %v", f.ErrorCount, f.NextAttempt)
				}
			}
		})
	}

	// Retry-After is honoured: seconds and an HTTP date.
	if got := feeds[u("/busy")].NextAttempt.Sub(now); got < 119*time.Minute || got > 121*time.Minute {
		t.Errorf("429 Retry-After 7200: next attempt in %v, want 2h", got)
	}
	if got := feeds[u("/unavailable")].NextAttempt.Sub(now); got < 179*time.Minute || got > 181*time.Minute {
		t.Errorf("503 Retry-After date: next attempt in %v, want 3h", got)
	}
	if got := feeds[u("/broken")].NextAttempt.Sub(now); got < 3*time.Minute || got > 7*time.Minute {
		t.Errorf("500: next attempt in %v, want the first backoff, 5m ± 25%%", got)
	}
	if n := srv.secretHits.Load(); n != 0 {
		t.Errorf("the XML bomb's external entities were fetched %d times", n)
	}

	// Feeds that serve the same items share their posts: a post reached
	// through two feeds (a cross-post, a blog listed twice) is one post, kept
	// by the feed that brought it first.
	if got, want := sum.New, 4+2+1+2+1+1+2+1; got != want {
		t.Errorf("new posts: got %d, want %d (rss2, atom, rss1, json, the Japanese one, bomb, hostile, nul)", got, want)
	}
	posts, err := db.RecentPosts(context.Background(), vplanet.PostFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seenTitle := map[string]int{}
	for _, p := range posts {
		seenTitle[p.Title+"|"+p.URL]++
		if strings.Contains(p.Content, "<script") || strings.Contains(p.Content, "javascript:") {
			t.Errorf("post %q keeps script: %s", p.Title, p.Content)
		}
	}
	if n := seenTitle["VMworld 2017 Europe #5|https://vhoge.example/2017/09/vmworld-2017-europe-5/"]; n != 1 {
		t.Errorf("a post reached through two feeds is stored %d times, want once", n)
	}

	// A second run: the ETag feed answers 304, failed feeds count again, a
	// gone feed is not fetched.
	sum2, err := c.Run(context.Background(), RunOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second run: %s", sum2)
	if sum2.Feeds != len(cases)-1 {
		t.Errorf("second run: %d feeds, want %d (the gone feed skipped)", sum2.Feeds, len(cases)-1)
	}
	if sum2.NotModified != 1 || srv.conditional.Load() != 1 {
		t.Errorf("second run: %d not modified, %d conditional requests; want 1, 1", sum2.NotModified, srv.conditional.Load())
	}
	if sum2.New != 0 || sum2.Updated != 0 {
		t.Errorf("second run: %d new, %d updated posts; want none", sum2.New, sum2.Updated)
	}
	feeds = feedsByURL(t, db)
	if f := feeds[u("/broken")]; f.ErrorCount != 2 {
		t.Errorf("500 twice: error count %d, want 2", f.ErrorCount)
	}
	if f := feeds[u("/etag.xml")]; f.Status != vplanet.StatusOK || f.ETag != `"v1"` || f.LastModified == "" {
		t.Errorf("304: status %q, etag %q, last modified %q", f.Status, f.ETag, f.LastModified)
	}
	if f := feeds[u("/moved301")]; f.FeedURL != u("/atom.xml") || f.Redirect == "" {
		t.Errorf("moved feed after a second run: feed URL %q, redirect %q", f.FeedURL, f.Redirect)
	}

	// Due feeds only: everything was just fetched, nothing is due.
	sum3, err := c.Run(context.Background(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum3.Feeds != 0 {
		t.Errorf("a run right after: %d feeds due, want 0", sum3.Feeds)
	}
}

func TestRunPerHostLimit(t *testing.T) {
	var servers []*feedServer
	var urls []string
	for range 3 {
		srv := newFeedServer(t)
		servers = append(servers, srv)
		for i := range 8 {
			urls = append(urls, fmt.Sprintf("%s/tracked/%d", srv.URL, i))
		}
	}
	db := openStore(t)
	syncFeeds(t, db, urls...)
	c := New(db, Options{Workers: 16, PerHost: 2, SkipPages: true})
	start := time.Now()
	sum, err := c.Run(context.Background(), RunOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK != len(urls) {
		t.Fatalf("summary: %s", sum)
	}
	for i, s := range servers {
		if s.maxInFlight > 2 {
			t.Errorf("server %d: %d requests at once, want at most 2", i, s.maxInFlight)
		}
		if s.maxInFlight < 2 {
			t.Errorf("server %d: at most %d request at once; the pool did not run in parallel", i, s.maxInFlight)
		}
	}
	// 8 feeds per host, 2 at a time, 50 ms each: about 200 ms with hosts in parallel.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// panicTransport panics on every request, as a bug deep in a fetch might.
type panicTransport struct{}

func (panicTransport) RoundTrip(*http.Request) (*http.Response, error) { panic("boom") }

func TestRunRecoversPanic(t *testing.T) {
	db := openStore(t)
	syncFeeds(t, db, "http://a.example/feed", "http://b.example/feed")
	c := New(db, Options{Client: &http.Client{Transport: panicTransport{}}})
	sum, err := c.Run(context.Background(), RunOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 {
		t.Errorf("summary: %s, want 2 failed", sum)
	}
	for _, f := range feedsByURL(t, db) {
		if f.Status != vplanet.StatusError || !strings.Contains(f.LastError, "internal error while crawling this feed: boom") {
			t.Errorf("%s: status %q, last error %q", f.URL, f.Status, f.LastError)
		}
	}
}

func TestRunCancelled(t *testing.T) {
	srv := newFeedServer(t)
	db := openStore(t)
	syncFeeds(t, db, srv.URL+"/slow")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c := New(db, Options{})
	start := time.Now()
	_, err := c.Run(ctx, RunOptions{All: true})
	if err == nil {
		t.Fatal("a cancelled run returned no error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancel took %v", d)
	}
	// A cancelled fetch is not the feed's failure.
	if f := feedsByURL(t, db)[srv.URL+"/slow"]; f.ErrorCount != 0 || f.Status != vplanet.StatusNew {
		t.Errorf("cancelled feed: status %q, error count %d, last error %q", f.Status, f.ErrorCount, f.LastError)
	}
}

func TestSummaryString(t *testing.T) {
	s := Summary{Feeds: 12, OK: 10, NotModified: 1, Failed: 1, New: 40, Updated: 2, Duration: 3200 * time.Millisecond}
	if got, want := s.String(), "12 feeds: 10 ok, 1 not modified, 1 failed; 40 new, 2 updated posts in 3.2s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRunRediscovers(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	mux := http.NewServeMux()
	mux.HandleFunc("/blog/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><link rel="alternate" type="application/atom+xml" href="feed-v%d.xml"></head><body></body></html>`, version.Load())
	})
	mux.HandleFunc("/blog/feed-v1.xml", func(w http.ResponseWriter, r *http.Request) { serveVersion(w, r, &version, 1, t) })
	mux.HandleFunc("/blog/feed-v2.xml", func(w http.ResponseWriter, r *http.Request) { serveVersion(w, r, &version, 2, t) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	db := openStore(t)
	syncFeeds(t, db, srv.URL+"/blog/")
	c := New(db, Options{Logger: testLogger(t), SkipPages: true})
	for v := int64(1); v <= 2; v++ {
		version.Store(v)
		sum, err := c.Run(context.Background(), RunOptions{All: true})
		if err != nil {
			t.Fatal(err)
		}
		f := feedsByURL(t, db)[srv.URL+"/blog/"]
		if want := fmt.Sprintf("%s/blog/feed-v%d.xml", srv.URL, v); sum.OK != 1 || f.FeedURL != want {
			t.Errorf("run %d: %s; feed URL %q, want %q (last error %q)", v, sum, f.FeedURL, want, f.LastError)
		}
		if f.SiteURL == "" {
			t.Errorf("run %d: no site URL", v)
		}
	}
}

// serveVersion serves the feed at version v, and 404 once the blog moved on.
func serveVersion(w http.ResponseWriter, r *http.Request, version *atomic.Int64, v int64, t *testing.T) {
	if version.Load() != v {
		http.NotFound(w, r)
		return
	}
	w.Write(mustRead(t, "atom.xml"))
}

// TestRunOneBlogTwoFeeds lists a blog's RSS and Atom feeds, whose GUIDs
// differ for the same posts (as Hatena's do): each post is stored once.
func TestRunOneBlogTwoFeeds(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>b</title><link>http://%[1]s/</link>
<item><title>one</title><link>http://%[1]s/entry/1</link><guid isPermaLink="false">hatenablog://entry/1</guid><description><![CDATA[<p>one</p>]]></description></item>
<item><title>two</title><link>http://%[1]s/entry/2</link><guid isPermaLink="false">hatenablog://entry/2</guid><description><![CDATA[<p>two</p>]]></description></item>
</channel></rss>`, r.Host)
	})
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<feed xmlns="http://www.w3.org/2005/Atom"><title>b</title><link href="http://%[1]s/"/>
<entry><title>one</title><link href="http://%[1]s/entry/1"/><id>tag:blog.hatena.ne.jp,2013:blog-b-1</id><content type="html">&lt;p&gt;one&lt;/p&gt;</content></entry>
<entry><title>two</title><link href="http://%[1]s/entry/2#more"/><id>tag:blog.hatena.ne.jp,2013:blog-b-2</id><content type="html">&lt;p&gt;two&lt;/p&gt;</content></entry>
</feed>`, r.Host)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	db := openStore(t)
	syncFeeds(t, db, srv.URL+"/rss", srv.URL+"/feed")
	c := New(db, Options{SkipPages: true})
	sum, err := c.Run(context.Background(), RunOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK != 2 || sum.New != 2 {
		t.Errorf("summary: %s; want 2 ok, 2 new posts", sum)
	}
	if n, err := db.CountPosts(context.Background()); err != nil || n != 2 {
		t.Errorf("posts stored: %d, %v; want 2", n, err)
	}
}

package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, Config{Registry: reg})
	e.get(t, "/api/search?q=VCHA")
	e.get(t, "/feed.atom")
	r := newRequest(http.MethodGet, "/metrics", nil)
	r.RemoteAddr = "127.0.0.1:41000"
	w := e.do(t, r)
	if w.Code != 200 {
		t.Fatalf("status: got %d, want 200", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`vplanet_http_request_duration_seconds_count{code="200",route="GET /api/search"} 1`,
		`vplanet_http_request_duration_seconds_count{code="200",route="GET /feed.atom"} 1`,
		`vplanet_search_duration_seconds_count 1`,
		`vplanet_posts 4`,
		`vplanet_index_lag 0`,
		`vplanet_feeds{status="ok"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The registry is the caller's: another server gets its own.
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	newEnv(t, Config{}) // would panic on duplicate registration if metrics were global
}

func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, Config{Logger: log})
	buf.Reset()
	e.get(t, "/api/search?q=VCHA")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("log lines: got %d, want 1:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"level=DEBUG", `route="GET /api/search"`, "status=200", "path=/api/search"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %s: %s", want, lines[0])
		}
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, Config{Token: "t"})
	r := newRequest(http.MethodPost, "/api/reindex", strings.NewReader(strings.Repeat("x", 2<<20)))
	r.Header.Set("Authorization", "Bearer wrong")
	if got, want := e.do(t, r).Code, 403; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
}

// FuzzAPISearch sends arbitrary queries and parameters to /api/search: the
// answer is always 200 or 400, never a 500.
func FuzzAPISearch(f *testing.F) {
	for _, seed := range []struct{ q, limit, offset, sort string }{
		{"VCHA", "", "", ""},
		{"重複排除", "5", "0", "date"},
		{`"unbalanced`, "-1", "-1", "relevance"},
		{"blog:x lang:ja after:2017-01-01 before:2017-12-31", "100", "10000", ""},
		{"a OR -b (c", "1e9", "0x10", "newest"},
		{"\xff\xfe", "", "", "x"},
	} {
		f.Add(seed.q, seed.limit, seed.offset, seed.sort)
	}
	e := newEnv(f, Config{})
	f.Fuzz(func(t *testing.T, q, limit, offset, sort string) {
		v := url.Values{"q": {q}, "limit": {limit}, "offset": {offset}, "sort": {sort}}
		w := e.do(t, newRequest(http.MethodGet, "/api/search?"+v.Encode(), nil))
		if w.Code != 200 && w.Code != 400 {
			t.Errorf("q=%q limit=%q offset=%q sort=%q: got %d, want 200 or 400: %s", q, limit, offset, sort, w.Code, w.Body)
		}
	})
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Config{SearchPerMinute: 60}) // bursts of 10
	for i := range 10 {
		if got := e.get(t, "/api/search?q=VCHA").Code; got != 200 {
			t.Fatalf("search %d: got %d, want 200", i, got)
		}
	}
	w := e.get(t, "/api/search?q=VCHA")
	if got, want := w.Code, 429; got != want {
		t.Fatalf("search 11: got %d, want %d", got, want)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another client is not affected, nor are requests without a query.
	r := newRequest(http.MethodGet, "/api/search?q=VCHA", nil)
	r.RemoteAddr = "192.0.2.99:1234"
	if got := e.do(t, r).Code; got != 200 {
		t.Errorf("other client: got %d, want 200", got)
	}
	if got := e.get(t, "/feed.atom").Code; got != 200 {
		t.Errorf("feed without q: got %d, want 200", got)
	}

	t.Run("refill", func(t *testing.T) {
		l := newRateLimiter(60)
		now := time.Unix(0, 0)
		l.now = func() time.Time { return now }
		for range 10 {
			l.allow("a", 1)
		}
		if ok, wait := l.allow("a", 1); ok || wait <= 0 || wait > time.Second {
			t.Errorf("empty bucket: got %v %v, want refused with a wait up to 1s", ok, wait)
		}
		now = now.Add(time.Second)
		if ok, _ := l.allow("a", 1); !ok {
			t.Error("after a second: refused, want allowed")
		}
		now = now.Add(2 * time.Minute)
		l.allow("b", 1)
		if _, ok := l.buckets["a"]; ok {
			t.Error("a full bucket was not swept")
		}
	})
	if newRateLimiter(-1) != nil {
		t.Error("negative rate: want no limiter")
	}
}

func TestBlogCache(t *testing.T) {
	e := newEnv(t, Config{})
	c := newBlogCache(30 * time.Second)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := t.Context()
	bySlug, _, err := c.get(ctx, e.st)
	if err != nil {
		t.Fatal(err)
	}
	slug := e.feeds[enBlog].Slug
	if got, want := bySlug[slug].DisplayName(), "Example Blog"; got != want {
		t.Fatalf("name: got %q, want %q", got, want)
	}
	f := e.feeds[enBlog]
	f.Title = "Renamed Blog"
	if _, _, err := e.st.SaveFetch(ctx, f, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Second)
	if bySlug, _, _ = c.get(ctx, e.st); bySlug[slug].DisplayName() != "Example Blog" {
		t.Errorf("within the TTL: got %q, want the cached name", bySlug[slug].DisplayName())
	}
	now = now.Add(30 * time.Second)
	if bySlug, _, _ = c.get(ctx, e.st); bySlug[slug].DisplayName() != "Renamed Blog" {
		t.Errorf("after the TTL: got %q, want %q", bySlug[slug].DisplayName(), "Renamed Blog")
	}
}

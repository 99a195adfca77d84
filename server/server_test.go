package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vplanet"
	"vplanet/index"
	"vplanet/store"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// env is a server over a real store and a real index in a temporary
// directory.
type env struct {
	st    *store.DB
	ix    *index.Index
	feeds map[string]*vplanet.Feed // by URL
	s     *server
	h     http.Handler
}

const (
	jaBlog = "https://blog.example.jp/"
	enBlog = "https://blog.example.com/feed"
)

// testPosts are the posts every test starts with; times are fixed so that
// golden files stay put.
func testPosts() map[string][]*vplanet.Post {
	day := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return map[string][]*vplanet.Post{
		jaBlog: {
			{
				ID: "ja-4", GUID: "https://blog.example.jp/entry/4", URL: "https://blog.example.jp/entry/4",
				Title: "VMworld 2017 Europe #4", Author: "山田",
				Published: day("2017-09-14T09:00:00Z"), Updated: day("2017-09-14T09:00:00Z"),
				Content: "<p>vCenter HA（VCHA）の構成について説明します。</p>",
				Text:    "vCenter HA（VCHA）の構成について説明します。VCHA はアクティブとパッシブの二つのノードで動きます。",
				Lang:    "ja", Hash: "h-ja-4",
			},
			{
				ID: "ja-5", GUID: "https://blog.example.jp/entry/5", URL: "https://blog.example.jp/entry/5",
				Title: "VMworld 2017 Europe #5", Author: "山田",
				Published: day("2017-09-15T09:00:00Z"),
				Content:   "<p>vSAN の重複排除と圧縮</p>",
				Text:      "vSAN の重複排除と圧縮について。拡張クラスタでも使えます。",
				Lang:      "ja", Hash: "h-ja-5",
			},
		},
		enBlog: {
			{
				ID: "en-3", GUID: "tag:blog.example.com,2005:3", URL: "https://blog.example.com/2005/day3",
				Title: "VMWorld 2005 Day 3", Author: "Jane Doe",
				Published: day("2005-10-20T18:00:00Z"),
				Content:   "<p>ESX 3 and VirtualCenter 2 were shown today.</p>",
				Text:      "ESX 3 and VirtualCenter 2 were shown today.",
				Lang:      "en", Hash: "h-en-3",
			},
			{
				ID: "en-evil", GUID: "evil", URL: "https://blog.example.com/evil",
				Title:     `<script>alert("title")</script> VCHA & friends`,
				Published: day("2018-01-01T00:00:00Z"),
				Content:   `<p onclick="alert(1)">VCHA</p><script>alert("content")</script><img src="x" onerror="alert(2)"><a href="javascript:alert(3)">x</a>`,
				Text:      `<script>alert("text")</script> VCHA explained by a hostile feed`,
				Lang:      "en", Hash: "h-en-evil",
			},
		},
	}
}

// newEnv builds a server over the test posts, indexed.
func newEnv(tb testing.TB, cfg Config) *env {
	tb.Helper()
	e := newEmptyEnv(tb, cfg)
	e.save(tb, testPosts())
	e.catchUp(tb)
	return e
}

// newEmptyEnv builds a server whose store lists the two test blogs but has
// no posts yet.
func newEmptyEnv(tb testing.TB, cfg Config) *env {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "vplanet.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	if _, _, err := st.SyncFeeds(ctx, []vplanet.FeedSource{
		{URL: jaBlog, Name: "例のブログ", Lang: "ja", Line: 1},
		{URL: enBlog, Line: 2},
	}); err != nil {
		tb.Fatal(err)
	}
	feeds, err := st.FindFeeds(ctx, vplanet.FeedFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{st: st, ix: ix, feeds: map[string]*vplanet.Feed{}}
	for _, f := range feeds {
		e.feeds[f.URL] = f
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://planet.example.org/"
	}
	if cfg.SearchPerMinute == 0 {
		cfg.SearchPerMinute = -1 // benchmarks and fuzzing search far faster than a person
	}
	if testing.Verbose() && cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e.s = newServer(cfg, st, ix)
	e.h = e.s.handler()
	return e
}

// save stores posts as a successful fetch of their feeds would.
func (e *env) save(tb testing.TB, posts map[string][]*vplanet.Post) {
	tb.Helper()
	ok := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for u, ps := range posts {
		f := e.feeds[u]
		f.Status = vplanet.StatusOK
		f.LastSuccess, f.LastAttempt, f.NextAttempt = ok, ok, ok.Add(30*time.Minute)
		if u == enBlog {
			f.Title, f.SiteURL = "Example Blog", "https://blog.example.com/"
		} else {
			f.Title, f.SiteURL = "Example JP", jaBlog
		}
		if _, _, err := e.st.SaveFetch(context.Background(), f, ps); err != nil {
			tb.Fatal(err)
		}
	}
}

func (e *env) catchUp(tb testing.TB) {
	tb.Helper()
	if _, err := e.ix.CatchUp(context.Background(), e.st, nil); err != nil {
		tb.Fatal(err)
	}
}

func newRequest(method, target string, body io.Reader) *http.Request {
	return httptest.NewRequest(method, target, body)
}

// get answers one request; header holds key/value pairs.
func (e *env) get(tb testing.TB, target string, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	return e.do(tb, httptest.NewRequest(http.MethodGet, target, nil), header...)
}

func (e *env) do(tb testing.TB, r *http.Request, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func TestAPISearch(t *testing.T) {
	e := newEnv(t, Config{})
	long := strings.Repeat("vsan+", 1000)
	tests := []struct {
		name      string
		query     string
		status    int
		minTotal  uint64
		minHits   int
		maxHits   int
		wantError string // prefix of the error message
	}{
		{name: "acronym", query: "q=VCHA", status: 200, minTotal: 2, minHits: 2, maxHits: 10},
		{name: "limit one", query: "q=VCHA&limit=1", status: 200, minTotal: 2, minHits: 1, maxHits: 1},
		{name: "limit clamped", query: "q=VCHA&limit=10000000", status: 200, minTotal: 2, minHits: 2, maxHits: 100},
		{name: "limit zero clamped", query: "q=VCHA&limit=0", status: 200, minTotal: 2, minHits: 1, maxHits: 1},
		{name: "negative offset clamped", query: "q=VCHA&offset=-5", status: 200, minTotal: 2, minHits: 2, maxHits: 10},
		{name: "huge offset clamped", query: "q=VCHA&offset=99999999999999999999999", status: 200, minTotal: 2, maxHits: 0},
		{name: "sort by date", query: "q=VCHA&sort=date", status: 200, minTotal: 2, minHits: 2, maxHits: 10},
		{name: "no hits", query: "q=zzyzx", status: 200, maxHits: 0},
		{name: "empty query", query: "q=", status: 400, wantError: "empty query: "},
		{name: "blank query", query: "q=+++", status: 400, wantError: "empty query: "},
		{name: "missing query", query: "", status: 400, wantError: "empty query: "},
		{name: "bad limit", query: "q=VCHA&limit=ten", status: 400, wantError: "limit must be"},
		{name: "bad offset", query: "q=VCHA&offset=1.5", status: 400, wantError: "offset must be"},
		{name: "bad sort", query: "q=VCHA&sort=random", status: 400, wantError: "sort must be"},
		{name: "too long", query: "q=" + long, status: 400, wantError: "query too long"},
		{name: "invalid utf-8", query: "q=%ff%fe", status: 400, wantError: "query is not valid UTF-8"},
		{name: "bad date", query: "q=after:yesterday", status: 400, wantError: "after: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.get(t, "/api/search?"+tt.query)
			if got := w.Code; got != tt.status {
				t.Fatalf("status: got %d, want %d; body %s", got, tt.status, w.Body)
			}
			if got, want := w.Header().Get("Content-Type"), "application/json; charset=utf-8"; got != want {
				t.Errorf("content type: got %q, want %q", got, want)
			}
			if tt.status != 200 {
				var body struct{ Error string }
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(body.Error, tt.wantError) {
					t.Errorf("error: got %q, want prefix %q", body.Error, tt.wantError)
				}
				return
			}
			var res apiSearch
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if res.Total < tt.minTotal {
				t.Errorf("total: got %d, want at least %d", res.Total, tt.minTotal)
			}
			if got := len(res.Hits); got < tt.minHits || got > tt.maxHits {
				t.Errorf("hits: got %d, want %d..%d", got, tt.minHits, tt.maxHits)
			}
			for _, name := range []string{"blog", "lang", "year"} {
				if _, ok := res.Facets[name]; !ok {
					t.Errorf("facets: no %q", name)
				}
			}
		})
	}
}

func TestAPISearchHit(t *testing.T) {
	e := newEnv(t, Config{})
	w := e.get(t, "/api/search?q=VCHA+lang:ja")
	if w.Code != 200 {
		t.Fatalf("status: got %d, want 200; body %s", w.Code, w.Body)
	}
	var res map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"query", "total", "took_ms", "hits", "facets"} {
		if _, ok := res[k]; !ok {
			t.Errorf("answer has no %q: %s", k, w.Body)
		}
	}
	hits := res["hits"].([]any)
	if len(hits) != 1 {
		t.Fatalf("hits: got %d, want 1: %s", len(hits), w.Body)
	}
	hit := hits[0].(map[string]any)
	want := map[string]string{
		"id": "ja-4", "title": "VMworld 2017 Europe #4", "url": "https://blog.example.jp/entry/4",
		"blog": "例のブログ", "blog_id": e.feeds[jaBlog].Slug, "published": "2017-09-14T09:00:00Z", "lang": "ja",
	}
	for k, v := range want {
		if got := hit[k]; got != v {
			t.Errorf("hit %s: got %v, want %q", k, got, v)
		}
	}
	if s, _ := hit["snippet"].(string); !strings.Contains(s, "<mark>VCHA</mark>") {
		t.Errorf("snippet: got %q, want <mark>VCHA</mark> in it", s)
	}
}

// TestJSONLayout checks that JSON answers come compact, one line, and
// indented for a person who adds ?pretty, with the same content.
func TestJSONLayout(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name, target string
		status       int
	}{
		{"search", "/api/search?q=VCHA", 200},
		{"error", "/api/search?q=VCHA&limit=ten", 400},
		{"health", "/healthz", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sep := "?"
			if strings.Contains(tt.target, "?") {
				sep = "&"
			}
			compact, pretty := e.get(t, tt.target), e.get(t, tt.target+sep+"pretty")
			for _, w := range []*httptest.ResponseRecorder{compact, pretty} {
				if w.Code != tt.status {
					t.Fatalf("status: got %d, want %d; body %s", w.Code, tt.status, w.Body)
				}
			}
			if body := strings.TrimSuffix(compact.Body.String(), "\n"); strings.Contains(body, "\n") {
				t.Errorf("compact answer has more than one line:\n%s", body)
			}
			if !strings.HasPrefix(pretty.Body.String(), "{\n  \"") {
				t.Errorf("?pretty answer not indented:\n%s", pretty.Body)
			}
			var a, b map[string]any
			if err := json.Unmarshal(compact.Body.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(pretty.Body.Bytes(), &b); err != nil {
				t.Fatal(err)
			}
			delete(a, "took_ms")
			delete(b, "took_ms")
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("content differs:\ncompact %v\npretty  %v", a, b)
			}
		})
	}
}

// TestAPISearchNever500 sends queries meant to confuse the parser: each
// must answer 200 or 400.
func TestAPISearchNever500(t *testing.T) {
	e := newEnv(t, Config{})
	queries := []string{
		`"unbalanced`, `((((((((VCHA`, `*`, `*VCHA`, `/.*/`, `VCHA~10`, `blog:`, `lang:xx`,
		`after:yesterday`, `before:2017-13-45`, `OR`, `-`, `- -VCHA`, `OR OR OR`, `a:b:c`,
		`"" ""`, `\`, `+VCHA`, `VCHA^100`, `%`, "\x00", `<script>`, strings.Repeat("(", 500),
		strings.Repeat("a OR ", 300) + "b",
	}
	for _, q := range queries {
		t.Run(q[:min(len(q), 20)], func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/search", nil)
			r.URL.RawQuery = "q=" + url.QueryEscape(q)
			w := e.do(t, r)
			if w.Code != 200 && w.Code != 400 {
				t.Errorf("status: got %d, want 200 or 400; body %s", w.Code, w.Body)
			}
		})
	}
}

func TestAPIFeeds(t *testing.T) {
	e := newEnv(t, Config{})
	w := e.get(t, "/api/feeds")
	if w.Code != 200 {
		t.Fatalf("status: got %d, want 200", w.Code)
	}
	var feeds []map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &feeds); err != nil {
		t.Fatal(err)
	}
	if got, want := len(feeds), 2; got != want {
		t.Fatalf("feeds: got %d, want %d", got, want)
	}
	keys := []string{"id", "url", "feed_url", "title", "name", "status", "last_error", "last_success",
		"last_attempt", "next_attempt", "redirect", "post_count"}
	for _, f := range feeds {
		for _, k := range keys {
			if _, ok := f[k]; !ok {
				t.Errorf("feed %v has no %q", f["url"], k)
			}
		}
		if got, want := f["status"], "ok"; got != want {
			t.Errorf("status: got %v, want %v", got, want)
		}
		if got, want := f["post_count"], 2.0; got != want {
			t.Errorf("post_count of %v: got %v, want %v", f["url"], got, want)
		}
		if got, want := f["last_success"], "2026-11-22T12:00:00Z"; got != want {
			t.Errorf("last_success: got %v, want %v", got, want)
		}
	}
}

func TestErrorStatus(t *testing.T) {
	s := &server{log: slog.New(slog.DiscardHandler)}
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	tests := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"bad query", fmt.Errorf("after: wants a date, not %q: %w", "x", vplanet.ErrBadQuery), 400, `after: wants a date, not "x"`},
		{"bad parameter", badRequest("limit must be a number"), 400, "limit must be a number"},
		{"not found", fmt.Errorf("feed %q: %w", "x", vplanet.ErrNotFound), 404, "not found"},
		{"timeout", fmt.Errorf("search: %w", context.DeadlineExceeded), 503, "the search took too long; try fewer or more specific words"},
		{"conflict", errRebuilding, 409, errRebuilding.msg},
		{"internal", errors.New("open /var/lib/vplanet/x.db: disk I/O error"), 500, "internal error: the server could not answer; it has been logged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg := s.errorStatus(r, tt.err)
			if status != tt.status || msg != tt.msg {
				t.Errorf("got %d %q, want %d %q", status, msg, tt.status, tt.msg)
			}
		})
	}
}

// TestPartialMatches checks that a piece of Japanese text pasted with its
// end words cut still finds its post, and that the answer says the match
// is partial, in the JSON and on the page, and that an exact match does
// not say so.
func TestPartialMatches(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name, query string
		partial     bool
	}{
		{"cut at both ends", "ティブとパッシブの二つのノー", true},
		{"exact words", "アクティブ パッシブ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res apiSearch
			w := e.get(t, "/api/search?q="+url.QueryEscape(tt.query))
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != 200 {
				t.Fatalf("status %d, %v: %s", w.Code, err, w.Body)
			}
			if len(res.Hits) == 0 || res.Hits[0].ID != "ja-4" {
				t.Fatalf("hits %+v, want ja-4 first", res.Hits)
			}
			if res.Partial != tt.partial {
				t.Errorf("partial = %v, want %v", res.Partial, tt.partial)
			}
			for _, hl := range []string{"en", "ja"} {
				page := e.get(t, "/search?hl="+hl+"&q="+url.QueryEscape(tt.query)).Body.String()
				if got := strings.Contains(page, `class="help partial"`); got != tt.partial {
					t.Errorf("hl=%s: the page says partial: %v, want %v", hl, got, tt.partial)
				}
			}
		})
	}
}

// TestWiderMatches: a kanji word's exact matches come alone, the answer
// says how many posts hold it only inside longer words, and wider=1 adds
// them after the exact ones, in the JSON and on the page, in both
// languages.
func TestWiderMatches(t *testing.T) {
	e := newEnv(t, Config{})
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	mk := func(id, text string) *vplanet.Post {
		return &vplanet.Post{ID: id, GUID: id, URL: "https://blog.example.jp/" + id, Title: "勉強会の記録",
			Published: at, Text: text, Content: "<p>" + text + "</p>", Lang: "ja", Hash: "h-" + id}
	}
	e.save(t, map[string][]*vplanet.Post{jaBlog: {
		mk("motoki", "本木さんが登壇した。"),
		mk("roppongi1", "六本木で開かれた勉強会。"),
		mk("roppongi2", "六本木の会場で話をした。"),
	}})
	e.catchUp(t)
	api := func(query string) apiSearch {
		t.Helper()
		var res apiSearch
		w := e.get(t, "/api/search?"+query)
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != 200 {
			t.Fatalf("%s: status %d, %v: %s", query, w.Code, err, w.Body)
		}
		return res
	}
	q := url.QueryEscape("本木")
	if res := api("q=" + q); res.Total != 1 || res.More != 2 || res.Widened || len(res.Hits) != 1 || res.Hits[0].ID != "motoki" {
		t.Errorf("本木: total %d more %d widened %v hits %+v; want motoki alone, 2 more", res.Total, res.More, res.Widened, res.Hits)
	}
	res := api("q=" + q + "&wider=1")
	if res.Total != 3 || res.More != 0 || !res.Widened || len(res.Hits) != 3 || res.Hits[0].ID != "motoki" {
		t.Errorf("本木 wider: total %d more %d widened %v hits %+v; want motoki, then the two 六本木 posts", res.Total, res.More, res.Widened, res.Hits)
	}
	for _, hl := range []string{"en", "ja"} {
		page := e.get(t, "/search?hl="+hl+"&q="+q).Body.String()
		if !strings.Contains(page, `class="help more"`) || !strings.Contains(page, "wider=1") {
			t.Errorf("hl=%s: the page neither says that 2 more posts match in part nor links to them", hl)
		}
		wide := e.get(t, "/search?hl="+hl+"&wider=1&q="+q).Body.String()
		if !strings.Contains(wide, `class="help widened"`) || strings.Count(wide, `class="post`) < 3 {
			t.Errorf("hl=%s: the wider page does not say so or lacks the 六本木 posts", hl)
		}
	}
	if w := e.get(t, "/api/search?q="+q+"&wider=maybe"); w.Code != 400 || !strings.Contains(w.Body.String(), "wider") {
		t.Errorf("wider=maybe: %d %s, want 400 naming the parameter", w.Code, w.Body)
	}
}

// TestFeedRenderedOnce: readers asking at once for a feed that changed
// take one render between them.
func TestFeedRenderedOnce(t *testing.T) {
	var logs bytes.Buffer // slog's handler serializes its writes
	e := newEnv(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	// A hundred long posts: a render takes long enough for the readers
	// to arrive while it is made.
	var posts []*vplanet.Post
	html := strings.Repeat("<p>vSAN の <b>重複排除</b> と <a href=\"https://example.com/\">圧縮</a>。</p>", 400)
	for i := range 100 {
		id := fmt.Sprintf("long-%d", i)
		posts = append(posts, &vplanet.Post{ID: id, GUID: id, URL: "https://blog.example.jp/" + id, Title: id,
			Published: time.Date(2026, 11, 1, 0, i, 0, 0, time.UTC), Content: html, Text: "重複排除", Lang: "ja", Hash: id})
	}
	e.save(t, map[string][]*vplanet.Post{jaBlog: posts})
	e.catchUp(t)
	const readers = 32
	start := make(chan struct{})
	var wg sync.WaitGroup
	codes := make([]int, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = e.get(t, "/feed.atom?n=100").Code
		}()
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Fatalf("reader %d: %d, want 200", i, c)
		}
	}
	if n := strings.Count(logs.String(), `msg="feed rendered"`); n != 1 {
		t.Errorf("%d readers at once made %d renders, want 1", readers, n)
	}
}

package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"vplanet"
)

func TestSearchPage(t *testing.T) {
	e := newEnv(t, Config{})
	w := e.get(t, "/search?q=VCHA")
	if w.Code != 200 {
		t.Fatalf("status: got %d, want 200; body %s", w.Code, w.Body)
	}
	body := w.Body.String()
	wants := []string{
		`<mark>VCHA</mark>`,
		`lang="ja"`,
		`<label for="q">`,
		`value="VCHA"`,
		`href="https://blog.example.jp/entry/4"`,
		`例のブログ`,
		`2017-09-14`,
		`rel="alternate" type="application/atom+xml"`,
		`rel="search" type="application/opensearchdescription+xml"`,
		`&lt;script&gt;`, // the hostile title, escaped
		`sort=date`,      // the link to sort by date
		`blog%3A`,        // a blog facet link
	}
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "onerror", "onclick", "javascript:"} {
		if strings.Contains(body, bad) {
			t.Errorf("page carries %s", bad)
		}
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP: got %q, want no script allowed", csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
}

func TestSearchPageStates(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name   string
		target string
		header []string
		status int
		wants  []string
	}{
		{"no results", "/search?q=zzyzx", nil, 200, []string{"No posts match", "zzyzx"}},
		{"bad page", "/search?q=VCHA&page=two", nil, 400, []string{"page must be", `value="VCHA"`}},
		{"bad sort", "/search?q=VCHA&sort=up", nil, 400, []string{"sort must be"}},
		{"too long", "/search?q=" + strings.Repeat("x", 3000), nil, 400, []string{"query too long"}},
		{"japanese by header", "/search?q=zzyzx", []string{"Accept-Language", "ja,en;q=0.5"}, 200,
			[]string{`<html lang="ja">`, "に一致する記事はありません"}},
		{"english by switch", "/search?q=zzyzx&hl=en", []string{"Accept-Language", "ja"}, 200,
			[]string{`<html lang="en">`, "No posts match", `name="hl" value="en"`}},
		{"japanese by switch", "/search?q=VCHA&hl=ja", nil, 200, []string{`<html lang="ja">`, "hl=ja"}},
		{"sorted by date", "/search?q=VCHA&sort=date", nil, 200, []string{`aria-current="true">Newest`}},
		{"facet applied", "/search?q=VCHA+lang:ja", nil, 200, []string{"<strong>ja</strong>"}},
		{"empty query goes home", "/search?q=", nil, 303, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.get(t, tt.target, tt.header...)
			if got := w.Code; got != tt.status {
				t.Fatalf("status: got %d, want %d", got, tt.status)
			}
			for _, want := range tt.wants {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("page lacks %q:\n%s", want, w.Body)
				}
			}
		})
	}
}

func TestSearchPagination(t *testing.T) {
	e := newEnv(t, Config{})
	var posts []*vplanet.Post
	for i := range 15 {
		posts = append(posts, &vplanet.Post{
			ID: fmt.Sprintf("page-%02d", i), URL: fmt.Sprintf("https://blog.example.com/p%d", i),
			Title: fmt.Sprintf("Paging post %d", i), Text: "pagination words here",
			Published: time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC), Lang: "en", Hash: fmt.Sprint(i),
		})
	}
	e.save(t, map[string][]*vplanet.Post{enBlog: posts})
	e.catchUp(t)
	tests := []struct {
		target     string
		hits       int
		prev, next bool
	}{
		{"/search?q=pagination", 10, false, true},
		{"/search?q=pagination&page=2", 5, true, false},
		{"/search?q=pagination&page=3", 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			w := e.get(t, tt.target)
			if w.Code != 200 {
				t.Fatalf("status: got %d, want 200", w.Code)
			}
			body := w.Body.String()
			if got := strings.Count(body, `<li class="post">`); got != tt.hits {
				t.Errorf("hits: got %d, want %d", got, tt.hits)
			}
			if got := strings.Contains(body, `rel="prev"`); got != tt.prev {
				t.Errorf("prev link: got %v, want %v", got, tt.prev)
			}
			if got := strings.Contains(body, `rel="next"`); got != tt.next {
				t.Errorf("next link: got %v, want %v", got, tt.next)
			}
		})
	}
}

func TestHome(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		e := newEmptyEnv(t, Config{})
		w := e.get(t, "/")
		if w.Code != 200 {
			t.Fatalf("status: got %d, want 200", w.Code)
		}
		for _, want := range []string{"Welcome to vplanet", "Feeds listed: 2"} {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("empty home lacks %q", want)
			}
		}
		w = e.get(t, "/search?q=VCHA&hl=ja")
		if w.Code != 200 || !strings.Contains(w.Body.String(), "まだ記事がありません") {
			t.Errorf("search before the first crawl: got %d, want 200 saying there are no posts yet:\n%s", w.Code, w.Body)
		}
	})
	t.Run("posts", func(t *testing.T) {
		e := newEnv(t, Config{})
		body := e.get(t, "/").Body.String()
		if i, j := strings.Index(body, "Europe #5"), strings.Index(body, "Day 3"); i < 0 || j < 0 || i > j {
			t.Errorf("home lists posts out of order or not at all (%d, %d)", i, j)
		}
	})
}

func TestBlogPages(t *testing.T) {
	e := newEnv(t, Config{})
	slug := e.feeds[jaBlog].Slug
	tests := []struct {
		target string
		status int
		wants  []string
	}{
		{"/blogs", 200, []string{"例のブログ", "Example Blog", "/blogs/" + slug}},
		{"/blogs/" + slug, 200, []string{"例のブログ", "VMworld 2017 Europe #5", "/blogs/" + slug + "/feed.atom"}},
		{"/blogs/nope", 404, []string{"not found"}},
		{"/no/such/page", 404, []string{"not found"}},
		{"/static/style.css", 200, []string{"prefers-color-scheme: dark"}},
		{"/static/", 404, nil},
		{"/posts/ja-4", 302, nil},
		{"/posts/nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			w := e.get(t, tt.target)
			if got := w.Code; got != tt.status {
				t.Fatalf("status: got %d, want %d", got, tt.status)
			}
			for _, want := range tt.wants {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	srv := &server{cfg: Config{Location: time.UTC}, log: slog.New(slog.DiscardHandler), pages: mustParsePages()}
	h := srv.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom at /secret/path.go") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if got, want := w.Code, 500; got != want {
		t.Fatalf("status: got %d, want %d", got, want)
	}
	if strings.Contains(w.Body.String(), "secret") || strings.Contains(w.Body.String(), "boom") {
		t.Errorf("500 page leaks the panic: %s", w.Body)
	}
}

func TestDatesInTimeZone(t *testing.T) {
	jst := time.FixedZone("JST", 9*60*60)
	e := newEnv(t, Config{Location: jst})
	// Published 2005-10-20T18:00:00Z is the 21st in Tokyo.
	w := e.get(t, "/blogs/"+e.feeds[enBlog].Slug)
	for _, want := range []string{">2005-10-21</time>", `datetime="2005-10-21T03:00:00&#43;09:00"` /* html/template escapes the plus */} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("blog page lacks %s", want)
		}
	}
	// The API speaks UTC whatever the zone.
	var res apiSearch
	if err := json.Unmarshal(e.get(t, "/api/search?q=ESX").Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].Published != "2005-10-20T18:00:00Z" {
		t.Errorf("API date not in UTC: %+v", res.Hits)
	}
}

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
		`title="2017-09-14 09:00 UTC"`, // the exact time on hover
		`<span class="author">山田</span>`,
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
	for _, bad := range []string{"onerror", "onclick", "javascript:"} {
		if strings.Contains(body, bad) {
			t.Errorf("page carries %s", bad)
		}
	}
	// The one script is the site's own file; none is inline.
	if n, own := strings.Count(body, "<script"), strings.Count(body, `<script src="/static/search.js" defer></script>`); n != 1 || own != 1 {
		t.Errorf("page has %d script elements, %d of them the site's own file; want exactly that one", n, own)
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-") {
		t.Errorf("CSP: got %q, want scripts from the site's own files only", csp)
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
		name    string
		target  string
		header  []string
		status  int
		wants   []string
		unwants []string
	}{
		{"no results", "/search?q=zzyzx", nil, 200, []string{"No posts match", "zzyzx"}, []string{"/subscribe?q=", "sort=date"}},
		{"one result", "/search?q=ESX", nil, 200, []string{"1 result <span"}, nil},
		{"unclosed quote", "/search?q=%22vSAN+stretched", nil, 400, []string{"quote is not closed"}, nil},
		{"lone minus", "/search?q=vSAN+-", nil, 400, []string{"lone - excludes nothing"}, nil},
		{"bad date in Japanese", "/search?q=after:yesterday&hl=ja", nil, 400, []string{"2017-09-01 のような日付"}, []string{"wants a date"}},
		{"too many words in Japanese", "/search?q=" + strings.Repeat("a+", 70) + "&hl=ja", nil, 400, []string{"語を超えています"}, nil},
		{"404 in Japanese", "/no/such/page?hl=ja", nil, 404, []string{"このページはありません"}, []string{"not found"}},
		{"blog by name", "/search?q=VCHA+blog:例のブログ", nil, 200, []string{"VMworld 2017 Europe #4", "<strong>例のブログ</strong>"}, []string{"Day 3"}},
		{"blog by quoted name", "/search?q=ESX+blog:%22example+blog%22", nil, 200, []string{"VMWorld 2005 Day 3"}, nil},
		{"unknown blog", "/search?q=VCHA+blog:example.org", nil, 200,
			[]string{"No blog is called “example.org”", "Did you mean", `blog%3Ablog.example.com">Example Blog</a>`}, nil},
		{"facet removable", "/search?q=VCHA+lang:ja", nil, 200, []string{`class="remove" href="/search?q=VCHA"`}, nil},
		{"page past the end", "/search?q=VCHA&page=9", nil, 404, []string{"no page 9", "last page is 1"}, nil},
		{"empty query lists every post", "/search?q=", nil, 200, []string{"All posts, newest first: 4", "VMworld 2017 Europe #5", "lang%3Aja"}, nil},
		{"synonyms explained", "/search?q=VCHA", nil, 200, []string{"Also matched: <mark>vCenter HA</mark>", "VCHA finds vCenter HA"}, nil},
		{"nothing else matched, nothing to explain", "/search?q=ESX", nil, 200, nil, []string{"Also matched"}},
		{"bad page", "/search?q=VCHA&page=two", nil, 400, []string{"page must be", `value="VCHA"`}, nil},
		{"bad sort", "/search?q=VCHA&sort=up", nil, 400, []string{"sort must be"}, nil},
		{"too long", "/search?q=" + strings.Repeat("x", 3000), nil, 400, []string{"The query is too long"}, nil},
		{"japanese by header", "/search?q=zzyzx", []string{"Accept-Language", "ja,en;q=0.5"}, 200,
			[]string{`<html lang="ja">`, "に一致する記事はありません"}, nil},
		{"english by switch", "/search?q=zzyzx&hl=en", []string{"Accept-Language", "ja"}, 200,
			[]string{`<html lang="en">`, "No posts match", `name="hl" value="en"`}, nil},
		{"japanese by switch", "/search?q=VCHA&hl=ja", nil, 200, []string{`<html lang="ja">`, "hl=ja"}, nil},
		{"sorted by date", "/search?q=VCHA&sort=date", nil, 200, []string{`aria-current="true">Newest`}, nil},
		{"facet applied", "/search?q=VCHA+lang:ja", nil, 200, []string{`<strong lang="ja">日本語</strong>`}, nil},
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
			for _, bad := range tt.unwants {
				if strings.Contains(w.Body.String(), bad) {
					t.Errorf("page has %q", bad)
				}
			}
		})
	}
}

// TestPagination pages through search results, the home page and a
// blog's page: each page links its neighbours with rel=prev and rel=next,
// in the page and in its head, and a page past the last is not found.
func TestPagination(t *testing.T) {
	e := newEnv(t, Config{})
	var posts []*vplanet.Post
	for i := range 35 {
		posts = append(posts, &vplanet.Post{
			ID: fmt.Sprintf("page-%02d", i), URL: fmt.Sprintf("https://blog.example.com/p%d", i),
			Title: fmt.Sprintf("Paging post %d", i), Text: "pagination words here",
			Published: time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC), Lang: "en", Hash: fmt.Sprint(i),
		})
	}
	e.save(t, map[string][]*vplanet.Post{enBlog: posts})
	e.catchUp(t)
	blog := "/blogs/" + e.feeds[enBlog].Slug
	tests := []struct {
		target     string
		status     int
		hits       int
		prev, next string // the links' targets, "" for none
	}{
		{"/search?q=pagination", 200, 10, "", "/search?page=2&amp;q=pagination"},
		{"/search?q=pagination&page=2", 200, 10, "/search?q=pagination", "/search?page=3&amp;q=pagination"},
		{"/search?q=pagination&page=4", 200, 5, "/search?page=3&amp;q=pagination", ""},
		{"/search?q=pagination&page=5", 404, 0, "", ""},
		{"/", 200, 30, "", "/?page=2"},
		{"/?page=2", 200, 9, "/", ""},
		{"/?page=2&hl=ja", 200, 9, "/?hl=ja", ""},
		{"/?page=3", 404, 0, "", ""},
		{blog, 200, 30, "", blog + "?page=2"},
		{blog + "?page=2", 200, 7, blog, ""},
		{blog + "?page=3", 404, 0, "", ""},
		{"/search?q=", 200, 10, "", "/search?page=2"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			w := e.get(t, tt.target)
			if w.Code != tt.status {
				t.Fatalf("status: got %d, want %d", w.Code, tt.status)
			}
			body := w.Body.String()
			if got := strings.Count(body, `<li class="post">`); got != tt.hits {
				t.Errorf("hits: got %d, want %d", got, tt.hits)
			}
			for rel, want := range map[string]string{"prev": tt.prev, "next": tt.next} {
				link := fmt.Sprintf(`<link rel="%s" href="%s">`, rel, want)
				anchor := fmt.Sprintf(`<a rel="%s" href="%s">`, rel, want)
				if want == "" {
					if strings.Contains(body, `rel="`+rel+`"`) {
						t.Errorf("has a %s link, want none", rel)
					}
					continue
				}
				if !strings.Contains(body, link) || !strings.Contains(body, anchor) {
					t.Errorf("lacks %s or %s", link, anchor)
				}
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
		{"/blogs/nope", 404, []string{"does not exist"}},
		{"/no/such/page", 404, []string{"does not exist"}},
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

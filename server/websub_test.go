package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"vplanet"
)

func TestParseTopic(t *testing.T) {
	const base = "https://planet.example.org/"
	tests := []struct {
		name, topic string
		ok          bool
		blog, q     string
		format      string
	}{
		{"merged atom", base + "feed.atom", true, "", "", "atom"},
		{"merged json", base + "feed.json", true, "", "", "json"},
		{"blog rss", base + "blogs/example-jp/feed.rss", true, "example-jp", "", "rss"},
		{"search", base + "feed.atom?q=vSAN+%E9%87%8D%E8%A4%87", true, "", "vSAN 重複", "atom"},
		{"blog search", base + "blogs/x/feed.json?q=VCHA", true, "x", "VCHA", "json"},
		{"other host", "https://evil.example/feed.atom", false, "", "", ""},
		{"other scheme", "http://planet.example.org/feed.atom", false, "", "", ""},
		{"not a feed", base + "search?q=VCHA", false, "", "", ""},
		{"other query", base + "feed.atom?n=200", false, "", "", ""},
		{"q spelled otherwise", base + "feed.atom?q=vSAN%20x", false, "", "", ""},
		{"fragment", base + "feed.atom#top", false, "", "", ""},
		{"nested path", base + "blogs/a/b/feed.atom", false, "", "", ""},
		{"empty slug", base + "blogs//feed.atom", false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseTopic(base, tt.topic)
			if ok != tt.ok {
				t.Fatalf("parseTopic(%q) ok = %v, want %v", tt.topic, ok, tt.ok)
			}
			if ok && (got.blog != tt.blog || got.q != tt.q || got.format.name != tt.format) {
				t.Errorf("parseTopic(%q) = blog %q q %q format %q, want %q %q %q", tt.topic, got.blog, got.q, got.format.name, tt.blog, tt.q, tt.format)
			}
		})
	}
}

// TestWebSubRoutes checks that the callback and hub routes exist only when
// their handlers are given (with --base-url), and that the feeds then name
// the hub and themselves in every format and in the Link header.
func TestWebSubRoutes(t *testing.T) {
	mark := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name+" "+r.PathValue("id")) })
	}
	off := newEnv(t, Config{})
	on := newEnv(t, Config{WebSubCallback: mark("callback"), WebSubHub: mark("hub")})
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/websub/callback/abc", "callback abc"},
		{"POST", "/websub/callback/abc", "callback abc"},
		{"POST", "/websub/hub", "hub "},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			off.h.ServeHTTP(w, newRequest(tt.method, tt.path, nil))
			if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
				t.Errorf("without --base-url: %d, want 404", w.Code)
			}
			w = httptest.NewRecorder()
			on.h.ServeHTTP(w, newRequest(tt.method, tt.path, nil))
			if w.Body.String() != tt.want {
				t.Errorf("with --base-url: %d %q, want %q", w.Code, w.Body.String(), tt.want)
			}
		})
	}
	t.Run("a push larger than a request body", func(t *testing.T) {
		e := newEnv(t, Config{WebSubCallback: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, err := io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, n, err)
		})})
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, newRequest("POST", "/websub/callback/abc", strings.NewReader(strings.Repeat("x", 2*maxBody))))
		if want := fmt.Sprint(2*maxBody, nil); w.Body.String() != want {
			t.Errorf("callback read %q, want %q: the callback's own limit applies", w.Body.String(), want)
		}
	})
	const hub = "https://planet.example.org/websub/hub"
	for _, tt := range []struct{ path, self, inBody string }{
		{"/feed.atom", "https://planet.example.org/feed.atom", `<link rel="hub" href="` + hub + `">`},
		{"/feed.rss?q=VCHA", "https://planet.example.org/feed.rss?q=VCHA", `<atom:link rel="hub" href="` + hub + `">`},
		{"/feed.json", "https://planet.example.org/feed.json", `"hubs": [`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			on.h.ServeHTTP(w, newRequest("GET", tt.path, nil))
			if want := `<` + hub + `>; rel="hub", <` + tt.self + `>; rel="self"`; w.Header().Get("Link") != want {
				t.Errorf("Link = %q, want %q", w.Header().Get("Link"), want)
			}
			if !strings.Contains(w.Body.String(), tt.inBody) {
				t.Errorf("body has no %s:\n%.500s", tt.inBody, w.Body.String())
			}
			w = httptest.NewRecorder()
			off.h.ServeHTTP(w, newRequest("GET", tt.path, nil))
			if w.Header().Get("Link") != "" || strings.Contains(w.Body.String(), hub) {
				t.Errorf("without a hub the feed names one: %q", w.Header().Get("Link"))
			}
		})
	}
}

// TestRenderTopic checks the hub's rendering of a search topic: nothing
// from before the topic was asked for, then only the new posts that match,
// once.
func TestRenderTopic(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Config{WebSubHub: http.NotFoundHandler()})
	topics := &Topics{s: e.s}
	topic := "https://planet.example.org/feed.atom?q=VCHA"
	if !topics.Check(topic) {
		t.Fatal("Check refused a search feed of this vplanet")
	}
	if topics.Check("https://planet.example.org/blogs/no-such-blog/feed.atom") {
		t.Error("Check took a blog that is not listed")
	}
	if c, err := topics.Render(ctx, topic); err != nil || c.Body != nil {
		t.Fatalf("Render with nothing new = %q, %v; want nothing", c.Body, err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e.save(t, map[string][]*vplanet.Post{enBlog: {
		{ID: "en-new-1", GUID: "n1", URL: "https://blog.example.com/n1", Title: "VCHA upgrade notes",
			Published: at, Content: "<p>VCHA</p>", Text: "VCHA upgrade notes", Lang: "en", Hash: "n1"},
		{ID: "en-new-2", GUID: "n2", URL: "https://blog.example.com/n2", Title: "NSX routing",
			Published: at, Content: "<p>NSX</p>", Text: "NSX routing", Lang: "en", Hash: "n2"},
	}})
	e.catchUp(t)
	c, err := topics.Render(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	body := string(c.Body)
	if !strings.Contains(body, "VCHA upgrade notes") || strings.Contains(body, "NSX routing") || strings.Contains(body, "VMworld 2017") {
		t.Errorf("rendered:\n%s\nwant the new VCHA post alone", body)
	}
	if c.Type != formatAtom.contentType {
		t.Errorf("content type %q, want %q", c.Type, formatAtom.contentType)
	}
	// Another replica, or this one again, finds the watermark moved.
	if c, err := (&Topics{s: e.s}).Render(ctx, topic); err != nil || c.Body != nil {
		t.Errorf("second rendering = %q, %v; want nothing (pushed once)", c.Body, err)
	}
}

// FuzzParseTopic holds parseTopic, a parser of what readers send as
// hub.topic, to its promise: a topic it takes is exactly the self URL the
// server would give that feed, rebuilt from what it read.
func FuzzParseTopic(f *testing.F) {
	const base = "https://planet.example.org/"
	for _, s := range []string{base + "feed.atom", base + "blogs/x/feed.rss?q=a+b", base + "feed.json?q=%E9%87%8D",
		base + "feed.atom?q=a&q=b", base + "blogs/%2e%2e/feed.atom", "https://planet.example.org", base + "feed.atom?q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tp, ok := parseTopic(base, raw)
		if !ok {
			return
		}
		self := base
		if tp.blog != "" {
			self += "blogs/" + url.PathEscape(tp.blog) + "/"
		}
		self += "feed." + tp.format.name
		if tp.q != "" {
			self += "?q=" + url.QueryEscape(tp.q)
		}
		if self != raw {
			t.Errorf("parseTopic(%q) took it as %q", raw, self)
		}
	})
}

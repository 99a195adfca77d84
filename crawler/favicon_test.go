package crawler

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"vplanet/store"
)

// file is one response of iconServer.
type file struct {
	contentType string
	body        []byte
}

// iconServer serves a blog: its feed, its home page and its icons, with
// {{base}} in them replaced by its URL and {{other}} by another origin's.
type iconServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newIconServer(t *testing.T, files map[string]file, replace func(string) string) *iconServer {
	s := &iconServer{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body := f.body
		if strings.HasPrefix(f.contentType, "text/") || strings.Contains(f.contentType, "xml") {
			body = []byte(replace(string(body)))
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *iconServer) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// bigPNG is a PNG larger than maxFavicon: a photo put up as a site icon.
func bigPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 400))
	r := rand.New(rand.NewPCG(1, 2)) // seeded: the same photo every run
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32()) // noise does not compress
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if b.Len() <= maxFavicon {
		t.Fatalf("bigPNG is %d bytes, not more than %d", b.Len(), maxFavicon)
	}
	return b.Bytes()
}

// TestFavicon crawls blogs as WordPress, Blogger and hand-made sites serve
// their icons, and checks which icon each blog gets: one of the allowed
// image types, small, from the feed's own origin, never SVG or a page.
func TestFavicon(t *testing.T) {
	pngIcon := mustRead(t, "favicon/cropped-site-icon-32x32.png")
	icoIcon := mustRead(t, "favicon/favicon.ico")
	svg := mustRead(t, "favicon/icon.svg")
	wpFeed := file{"application/rss+xml; charset=UTF-8", mustRead(t, "identity/wordpress-before.xml")}
	bloggerFeed := file{"application/atom+xml; charset=UTF-8", mustRead(t, "identity/blogger-before.atom")}
	const wpIcon = "/wp-content/uploads/2024/01/cropped-site-icon-32x32.png"
	tests := []struct {
		name     string
		feedPath string
		files    map[string]file
		wantType string // "": no icon
		want     []byte
		noHome   bool // the home page must not be fetched
	}{
		{"wordpress site icon", "/feed/", map[string]file{
			"/feed/": wpFeed,
			"/":      {"text/html; charset=UTF-8", mustRead(t, "favicon/wordpress-home.html")},
			wpIcon:   {"image/png", pngIcon},
		}, "image/png", pngIcon, false},
		{"blogger favicon.ico", "/feeds/posts/default", map[string]file{
			"/feeds/posts/default": bloggerFeed,
			"/":                    {"text/html; charset=UTF-8", mustRead(t, "favicon/blogger-home.html")},
			"/favicon.ico":         {"image/x-icon", icoIcon},
		}, "image/x-icon", icoIcon, false},
		{"no link: /favicon.ico as image/vnd.microsoft.icon", "/feed/", map[string]file{
			"/feed/":       wpFeed,
			"/favicon.ico": {"image/vnd.microsoft.icon", icoIcon},
		}, "image/x-icon", icoIcon, false},
		{"svg only", "/feed/", map[string]file{
			"/feed/":       wpFeed,
			"/":            {"text/html", mustRead(t, "favicon/svg-home.html")},
			"/icon.svg":    {"image/svg+xml", svg},
			"/favicon.ico": {"image/x-icon", svg}, // SVG bytes under an icon's type
		}, "", nil, false},
		{"an error page at /favicon.ico", "/feed/", map[string]file{
			"/feed/":       wpFeed,
			"/favicon.ico": {"text/html; charset=utf-8", []byte("<!doctype html><title>Not Found</title><h1>Not Found</h1>")},
		}, "", nil, false},
		{"a page's bytes under image/png", "/feed/", map[string]file{
			"/feed/":       wpFeed,
			"/favicon.ico": {"image/png", []byte("<html><script>alert(1)</script></html>")},
		}, "", nil, false},
		{"robots.txt keeps the home page", "/feed/", map[string]file{
			"/feed/":       wpFeed,
			"/robots.txt":  {"text/plain", []byte("User-agent: *\nDisallow: /\n")},
			"/":            {"text/html; charset=UTF-8", mustRead(t, "favicon/wordpress-home.html")},
			wpIcon:         {"image/png", pngIcon},
			"/favicon.ico": {"image/x-icon", icoIcon},
		}, "image/x-icon", icoIcon, true},
		{"too large", "/feed/", map[string]file{
			"/feed/":     wpFeed,
			"/":          {"text/html; charset=UTF-8", []byte(`<html><head><link rel="icon" href="/photo.png"></head></html>`)},
			"/photo.png": {"image/png", bigPNG(t)},
		}, "", nil, false},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := context.Background()
					db, err := store.Open(ctx, b.dsn(t))
					if err != nil {
						t.Fatal(err)
					}
					defer db.Close()
					other := newIconServer(t, map[string]file{wpIcon: {"image/png", pngIcon}}, func(s string) string { return s })
					var srv *iconServer
					srv = newIconServer(t, tt.files, func(s string) string {
						s = strings.ReplaceAll(s, "{{base}}", srv.URL)
						s = strings.ReplaceAll(s, "{{other}}", other.URL)
						s = strings.ReplaceAll(s, "https://vhoge.example.com", srv.URL)
						return strings.ReplaceAll(s, "https://kwmtlog.blogspot.com", srv.URL)
					})
					syncFeeds(t, db, srv.URL+tt.feedPath)
					// Pages are on: the home page is read for its icon links. The
					// feeds carry whole posts, so no post page is fetched.
					c := New(db, Options{Logger: testLogger(t)})
					for range 2 {
						if sum, err := c.Run(ctx, RunOptions{All: true}); err != nil || sum.Failed > 0 {
							t.Fatalf("crawl: %+v, %v", sum, err)
						}
					}
					f := feedsByURL(t, db)[srv.URL+tt.feedPath]
					if f.FaviconChecked.IsZero() {
						t.Error("the icon was never looked for")
					}
					icon, err := db.FindFavicon(ctx, f.Slug)
					switch {
					case tt.wantType == "" && err == nil:
						t.Errorf("stored an icon of type %s, %d bytes; want none", icon.ContentType, len(icon.Data))
					case tt.wantType == "":
						if f.HasFavicon {
							t.Error("HasFavicon without an icon")
						}
					case err != nil:
						t.Fatalf("no icon: %v", err)
					case icon.ContentType != tt.wantType || !bytes.Equal(icon.Data, tt.want) || !f.HasFavicon:
						t.Errorf("icon %s, %d bytes, HasFavicon %v; want %s, %d bytes", icon.ContentType, len(icon.Data),
							f.HasFavicon, tt.wantType, len(tt.want))
					}
					if n := srv.hit("/"); tt.noHome && n != 0 {
						t.Errorf("fetched the home page %d times against robots.txt", n)
					}
					if n := other.hit(wpIcon); n != 0 {
						t.Errorf("fetched an icon on another origin %d times", n)
					}
					// Looked for once: the second crawl, within the week,
					// does not ask again.
					if n := srv.hit("/") + srv.hit("/favicon.ico"); n > 2 {
						t.Errorf("home page and /favicon.ico fetched %d times in two crawls, want at most once each", n)
					}
				})
			}
		})
	}
}

// TestFaviconRefresh: an icon is looked for again after a week, and a look
// that finds nothing keeps the icon found before.
func TestFaviconRefresh(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	ico := mustRead(t, "favicon/favicon.ico")
	var down sync.Mutex
	broken := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down.Lock()
		defer down.Unlock()
		switch {
		case r.URL.Path == "/feed/":
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(mustRead(t, "identity/wordpress-before.xml"))
		case r.URL.Path == "/favicon.ico" && !broken:
			w.Header().Set("Content-Type", "image/x-icon")
			w.Write(ico)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	syncFeeds(t, db, srv.URL+"/feed/")
	c := New(db, Options{Logger: testLogger(t), SkipPages: true})
	if _, err := c.Run(ctx, RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	f := feedsByURL(t, db)[srv.URL+"/feed/"]
	first := f.FaviconChecked
	down.Lock()
	broken = true
	down.Unlock()
	// A week on, as the store sees it.
	if err := db.UpdateFavicon(ctx, f.ID, first.Add(-faviconEvery), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(ctx, RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	f = feedsByURL(t, db)[srv.URL+"/feed/"]
	if !f.FaviconChecked.After(first.Add(-time.Second)) || !f.HasFavicon {
		t.Errorf("after a week: checked %v (first %v), HasFavicon %v; want checked again and the icon kept", f.FaviconChecked, first, f.HasFavicon)
	}
	if icon, err := db.FindFavicon(ctx, f.Slug); err != nil || !bytes.Equal(icon.Data, ico) {
		t.Errorf("icon after a failed refresh: %v", err)
	}
}

// FuzzFindIconLinks: any page gives icon links that are http(s) URLs and
// never claim SVG.
func FuzzFindIconLinks(f *testing.F) {
	for _, name := range []string{"favicon/wordpress-home.html", "favicon/blogger-home.html", "favicon/svg-home.html", "home.html"} {
		f.Add(mustRead(f, name))
	}
	base := mustURL(f, "https://blog.example.com/")
	f.Fuzz(func(t *testing.T, page []byte) {
		for _, l := range findIconLinks(page, base) {
			if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
				t.Errorf("link %q is not http(s)", l)
			}
			if strings.HasSuffix(strings.ToLower(l), ".svg") {
				t.Errorf("link %q is SVG", l)
			}
		}
	})
}

// FuzzCheckIcon: whatever the bytes and the declared type, an icon accepted
// is one of the allowed image types, and never SVG or markup.
func FuzzCheckIcon(f *testing.F) {
	f.Add(mustRead(f, "favicon/favicon.ico"), "image/x-icon")
	f.Add(mustRead(f, "favicon/cropped-site-icon-32x32.png"), "image/png")
	f.Add(mustRead(f, "favicon/icon.svg"), "image/svg+xml")
	f.Add(mustRead(f, "favicon/icon.svg"), "image/png")
	f.Add([]byte("<html><script>alert(1)</script>"), "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		icon, err := checkIcon(body, contentType)
		if err != nil {
			return
		}
		if !iconTypes[icon.ContentType] || icon.ContentType != http.DetectContentType(body) {
			t.Errorf("accepted %q as %s", body, icon.ContentType)
		}
		if strings.Contains(strings.ToLower(contentType), "svg") || strings.Contains(strings.ToLower(contentType), "html") {
			t.Errorf("accepted an icon the server called %q", contentType)
		}
	})
}

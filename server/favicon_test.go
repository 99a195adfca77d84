package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vplanet"
)

// TestFavicon: a blog's icon is served from vplanet itself with its type,
// caching headers and nosniff, shown beside the blog's name on the pages,
// and a blog without one shows no image at all.
func TestFavicon(t *testing.T) {
	e := newEnv(t, Config{})
	png, err := os.ReadFile(filepath.Join("..", "crawler", "testdata", "favicon", "cropped-site-icon-32x32.png"))
	if err != nil {
		t.Fatal(err)
	}
	with, without := e.feeds[enBlog], e.feeds[jaBlog]
	when := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if err := e.st.UpdateFavicon(context.Background(), with.ID, when,
		&vplanet.Favicon{ContentType: "image/png", Data: png, Updated: when}); err != nil {
		t.Fatal(err)
	}
	src := "/blogs/" + with.Slug + "/favicon"

	w := e.get(t, src)
	if w.Code != 200 || w.Body.String() != string(png) {
		t.Fatalf("GET %s: %d, %d bytes; want 200 and the icon", src, w.Code, w.Body.Len())
	}
	for k, want := range map[string]string{
		"Content-Type":           "image/png",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "public, max-age=86400",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	etag := w.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if w := e.get(t, src, "If-None-Match", etag); w.Code != 304 {
		t.Errorf("conditional GET: %d, want 304", w.Code)
	}
	if w := e.get(t, "/blogs/"+without.Slug+"/favicon"); w.Code != 404 {
		t.Errorf("a blog without an icon: %d, want 404", w.Code)
	}
	if w := e.get(t, "/blogs/no-such-blog/favicon"); w.Code != 404 {
		t.Errorf("an unknown blog: %d, want 404", w.Code)
	}

	img := `<img class="favicon" src="` + src + `"`
	for _, page := range []string{"/", "/blogs", "/blogs/" + with.Slug, "/search?q=VCHA"} {
		body := e.get(t, page).Body.String()
		if !strings.Contains(body, img) {
			t.Errorf("%s does not show the icon %s", page, src)
		}
		if strings.Contains(body, "/blogs/"+without.Slug+"/favicon") {
			t.Errorf("%s links an icon the blog %s does not have", page, without.Slug)
		}
	}
}

package server

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"vplanet"
	"vplanet/crawler"
	"vplanet/store"
)

// TestAutodiscoveryOwnPages lists vplanet's own pages in a second store's
// feed list, as an operator would list a blog's home page, and lets
// vplanet's own crawler resolve each to its feed: a blog page must give
// that blog's feed and a search page that search's feed, not the merged
// one.
func TestAutodiscoveryOwnPages(t *testing.T) {
	e := newEnv(t, Config{})
	ts := httptest.NewServer(e.h)
	defer ts.Close()
	slug := e.feeds[enBlog].Slug

	tests := []struct {
		name, page, want string
	}{
		{"blog page", "/blogs/" + slug, "/blogs/" + slug + "/feed.atom"},
		{"blog page in Japanese", "/blogs/" + slug + "?hl=ja", "/blogs/" + slug + "/feed.atom"},
		{"search page", "/search?q=VCHA", "/feed.atom?q=VCHA"},
		{"home", "/", "/feed.atom"},
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "reader.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var srcs []vplanet.FeedSource
	for i, tt := range tests {
		srcs = append(srcs, vplanet.FeedSource{URL: ts.URL + tt.page, Line: i + 1})
	}
	if _, _, err := st.SyncFeeds(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	if _, err := crawler.New(st, crawler.Options{}).Run(ctx, crawler.RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	feeds, err := st.FindFeeds(ctx, vplanet.FeedFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byURL := map[string]*vplanet.Feed{}
	for _, f := range feeds {
		byURL[f.URL] = f
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := byURL[ts.URL+tt.page]
			if f == nil {
				t.Fatalf("feed %s not in the store", tt.page)
			}
			if got, want := f.FeedURL, ts.URL+tt.want; got != want {
				t.Errorf("discovered %q, want %q (last error %q)", got, want, f.LastError)
			}
			if f.Status != vplanet.StatusOK {
				t.Errorf("status %q, last error %q", f.Status, f.LastError)
			}
		})
	}
}

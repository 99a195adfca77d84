package crawler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vplanet"
	"vplanet/internal/pgtest"
	"vplanet/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// backends are the store's two kinds: the crawler's promises about what
// it stores hold on both.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "vplanet.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
}

// versionServer serves testdata/identity/<name>-<version>.<ext> at
// /<name>.<ext>, the version being set by the test: a blog's feed before
// and after its author edits a post.
type versionServer struct {
	*httptest.Server
	mu      sync.Mutex
	version string
}

func newVersionServer(t *testing.T, version string) *versionServer {
	s := &versionServer{version: version}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		v := s.version
		s.mu.Unlock()
		name := strings.TrimPrefix(r.URL.Path, "/")
		base, ext, _ := strings.Cut(name, ".")
		body, err := os.ReadFile(filepath.Join("testdata", "identity", base+"-"+v+"."+ext))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		types := map[string]string{"xml": "application/rss+xml; charset=UTF-8", "rss": "application/rss+xml; charset=utf-8",
			"atom": "application/atom+xml; charset=UTF-8"}
		w.Header().Set("Content-Type", types[ext])
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *versionServer) set(v string) {
	s.mu.Lock()
	s.version = v
	s.mu.Unlock()
}

// visiblePosts returns the store's visible posts by link, failing on a
// GUID held twice.
func visiblePosts(t *testing.T, db *store.DB) map[string]*vplanet.Post {
	t.Helper()
	posts, err := db.RecentPosts(context.Background(), vplanet.PostFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	byGUID := map[string]*vplanet.Post{}
	byURL := map[string]*vplanet.Post{}
	for _, p := range posts {
		if old, ok := byGUID[p.GUID]; ok {
			t.Errorf("GUID %s stored twice: %s (%s) and %s (%s)", p.GUID, old.ID, old.URL, p.ID, p.URL)
		}
		byGUID[p.GUID] = p
		byURL[p.URL] = p
	}
	return byURL
}

// TestPostIdentity crawls feeds written the way WordPress, Blogger and
// Hatena write them, before and after the author edits a post's title and
// slug: the post's link changes, its GUID stays, and it stays one post
// under its first ID, whose address keeps working, and whose new link's ID
// names it too.
func TestPostIdentity(t *testing.T) {
	tests := []struct {
		name   string
		feeds  []string // paths on the server, as listed in feeds.txt
		guid   string   // the edited post's GUID in the first feed listed
		before string   // its link before, then after the edit
		after  string
		title  string // its title after the edit
		posts  int    // visible posts after the edit
	}{
		{"wordpress", []string{"/wordpress.xml"}, "https://vhoge.example.com/?p=123",
			"https://vhoge.example.com/2024/12/02/vsan-esa-dedupe-test/",
			"https://vhoge.example.com/2024/12/02/vsan-esa-dedupe-compression/",
			"vSAN ESA の重複排除と圧縮の効果", 2},
		{"blogger", []string{"/blogger.atom"}, "tag:blogger.com,1999:blog-4817295530412946173.post-7709158412366031840",
			"https://kwmtlog.blogspot.com/2024/11/vsphere-8-update-3-live-patch.html",
			"https://kwmtlog.blogspot.com/2024/11/esxi-live-patch.html",
			"ESXi Live Patch を試した (vSphere 8 Update 3)", 2},
		// One blog listed twice, as RSS and as Atom: one post per article,
		// before the edit and after.
		{"hatena rss and atom", []string{"/hatena.rss", "/hatena.atom"}, "hatenablog://entry/6802418398306124889",
			"https://vexpert-memo.hatenablog.com/entry/2024/11/25/120000",
			"https://vexpert-memo.hatenablog.com/entry/aria-operations-slack",
			"Aria Operations のアラートを Slack に通知する", 2},
		// The same, with a different GUID in each feed: each feed's GUID
		// names the post.
		{"two feeds, two guids", []string{"/twoguids.atom", "/twoguids.rss"}, "hatenablog://entry/6802418398306124889",
			"https://vexpert-memo.hatenablog.com/entry/2024/11/25/120000",
			"https://vexpert-memo.hatenablog.com/entry/aria-operations-slack",
			"Aria Operations のアラートを Slack に通知する", 2},
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
					srv := newVersionServer(t, "before")
					var urls []string
					for _, f := range tt.feeds {
						urls = append(urls, srv.URL+f)
					}
					syncFeeds(t, db, urls...)
					c := New(db, Options{Logger: testLogger(t), SkipPages: true})
					crawl := func() {
						t.Helper()
						sum, err := c.Run(ctx, RunOptions{All: true})
						if err != nil || sum.Failed > 0 {
							t.Fatalf("crawl: %v, %+v", err, sum)
						}
					}

					crawl()
					first := visiblePosts(t, db)[tt.before]
					if first == nil {
						t.Fatalf("before the edit: no post links %s", tt.before)
					}
					seq, err := db.MaxSeq(ctx)
					if err != nil {
						t.Fatal(err)
					}

					srv.set("after")
					crawl()
					got := visiblePosts(t, db)
					if len(got) != tt.posts {
						t.Errorf("after the edit: %d visible posts, want %d", len(got), tt.posts)
					}
					if old := got[tt.before]; old != nil {
						t.Errorf("after the edit: the old link's post %s is still visible", old.ID)
					}
					p := got[tt.after]
					if p == nil {
						t.Fatalf("after the edit: no post links %s", tt.after)
					}
					if p.ID != first.ID || p.URL != tt.after || p.Title != tt.title {
						t.Errorf("after the edit: post is %s %q %s, want %s %q %s", p.ID, p.Title, p.URL, first.ID, tt.title, tt.after)
					}
					if n, err := db.CountPosts(ctx); err != nil || n != tt.posts {
						t.Errorf("CountPosts = %d, %v; want %d", n, err, tt.posts)
					}

					// The new link's ID, as another feed or an old index
					// would compute it, names the same post.
					alias := PostID(tt.guid, tt.after, "", "")
					found, err := db.FindPosts(ctx, []string{alias, first.ID})
					if err != nil {
						t.Fatal(err)
					}
					if len(found) != 2 || found[0].ID != first.ID || found[1].ID != first.ID {
						t.Errorf("FindPosts(new link's ID, first ID) = %v, want the post %s twice", ids(found), first.ID)
					}

					// The index learns the change through the sequence: the
					// post, changed and visible; the alias, invisible.
					changes, err := db.Changes(ctx, seq, 100)
					if err != nil {
						t.Fatal(err)
					}
					seen := map[string]bool{}
					for _, ch := range changes {
						seen[ch.ID] = ch.Visible
					}
					if v, ok := seen[first.ID]; !ok || !v {
						t.Errorf("changes after the edit: post %s visible=%v present=%v, want a visible change", first.ID, v, ok)
					}
					if v, ok := seen[alias]; ok && v {
						t.Errorf("changes after the edit: the alias %s is visible", alias)
					}
				})
			}
		})
	}
}

// TestRepeatedGUID: a feed that lists one GUID twice (the old and the
// edited version of a post) holds one post, the newer.
func TestRepeatedGUID(t *testing.T) {
	n := newNormalizer()
	p, err := n.parse(mustRead(t, "identity/blogger-repeat.atom"), "application/atom+xml",
		"https://kwmtlog.blogspot.com/feeds/posts/default", "", mustTime(t, "2024-12-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, post := range p.Posts {
		titles = append(titles, post.Title)
	}
	want := []string{"ESXi Live Patch を試した (vSphere 8 Update 3)", "VCF 5.2 の Import 機能で既存環境を取り込む"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("posts = %q, want %q", titles, want)
	}
}

func ids(posts []*vplanet.Post) []string {
	var out []string
	for _, p := range posts {
		out = append(out, p.ID)
	}
	return out
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestChangedPostsAlias: a post whose link changed is not taken for a new
// one on every later crawl, so its page is not fetched again and again.
func TestChangedPostsAlias(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	syncFeeds(t, db, "https://vhoge.example.com/feed/")
	f := feedsByURL(t, db)["https://vhoge.example.com/feed/"]
	const guid = "https://vhoge.example.com/?p=123"
	before := &vplanet.Post{ID: "old-link", GUID: guid, URL: "https://vhoge.example.com/old/", Title: "t", Hash: "h1"}
	after := &vplanet.Post{ID: "new-link", GUID: guid, URL: "https://vhoge.example.com/new/", Title: "t2", Hash: "h2"}
	for _, p := range []*vplanet.Post{before, after} {
		if _, _, err := db.SaveFetch(ctx, f, []*vplanet.Post{p}); err != nil {
			t.Fatal(err)
		}
	}
	c := New(db, Options{Logger: testLogger(t)})
	again := &vplanet.Post{ID: "new-link", GUID: guid, URL: "https://vhoge.example.com/new/", Title: "t2", Hash: "h2"}
	if got := c.changedPosts(ctx, []*vplanet.Post{again}, time.Time{}); len(got) != 0 {
		t.Errorf("changedPosts = %v, want none: the post is stored, under its first ID", ids(got))
	}
	edited := &vplanet.Post{ID: "new-link", GUID: guid, URL: "https://vhoge.example.com/new/", Title: "t3", Hash: "h3"}
	if got := c.changedPosts(ctx, []*vplanet.Post{edited}, time.Time{}); len(got) != 1 {
		t.Errorf("changedPosts of an edited post = %v, want it", ids(got))
	}
}

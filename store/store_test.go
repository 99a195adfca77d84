package store_test

import (
	"context"
	"errors"
	"fmt"
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

// backends are the store's two kinds. Every test of what the store promises
// runs over both: the conformance suite is this file and find_test.go.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string // the address of a new, empty store
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "data", "vplanet.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
}

// eachBackend runs test as a subtest per backend, with a new store's
// address. A second Open of that address is a second process's view.
func eachBackend(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.dsn(t)) })
	}
}

func openDSN(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sync2(t *testing.T, db *store.DB, urls ...string) []*vplanet.Feed {
	t.Helper()
	var srcs []vplanet.FeedSource
	for _, u := range urls {
		srcs = append(srcs, vplanet.FeedSource{URL: u})
	}
	if _, _, err := db.SyncFeeds(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
	feeds, err := db.FindFeeds(context.Background(), vplanet.FeedFilter{Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return feeds
}

func post(id, hash string, published time.Time) *vplanet.Post {
	return &vplanet.Post{ID: id, GUID: id, URL: "https://example.org/" + id, Title: "title " + id,
		Text: "text " + id, Content: "<p>text " + id + "</p>", Lang: "en", Hash: hash, Published: published}
}

func TestSlug(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://www.yellow-bricks.com/", "yellow-bricks.com"},
		{"https://blogs.vmware.com/vsphere/", "blogs.vmware.com-vsphere"},
		{"https://blogs.vmware.com/vsphere/feed/", "blogs.vmware.com-vsphere"},
		{"https://vhoge.hateblo.jp/rss", "vhoge.hateblo.jp"},
		{"https://www.ntpro.nl/blog/", "ntpro.nl-blog"},
		{"https://kwmtlog.blogspot.com/feeds/posts/default", "kwmtlog.blogspot.com"},
		{"not a url", "feed"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := store.Slug(tt.url); got != tt.want {
				t.Errorf("Slug(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestSyncFeeds(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		feeds := sync2(t, db, "https://a.example/feed", "https://b.example/", "https://b.example/")
		if len(feeds) != 2 {
			t.Fatalf("got %d feeds, want 2 (a line listed twice is one feed)", len(feeds))
		}
		if feeds[0].Status != vplanet.StatusNew || feeds[0].Slug != "a.example" {
			t.Errorf("new feed = %+v, want status new, slug a.example", feeds[0])
		}
		a := feeds[0]
		if _, _, err := db.SaveFetch(ctx, a, []*vplanet.Post{post("p1", "h1", time.Now())}); err != nil {
			t.Fatal(err)
		}

		// Dropping a feed from the list hides its posts: a change the index sees.
		before, _ := db.MaxSeq(ctx)
		added, removed, err := db.SyncFeeds(ctx, []vplanet.FeedSource{{URL: "https://b.example/"}})
		if err != nil || added != 0 || removed != 1 {
			t.Fatalf("SyncFeeds = %d, %d, %v; want 0 added, 1 removed", added, removed, err)
		}
		changes, err := db.Changes(ctx, before, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 1 || changes[0].ID != "p1" || changes[0].Visible {
			t.Fatalf("changes after removal = %+v, want p1 invisible", changes)
		}
		if c := changes[0]; c.Text != "text p1" || c.Content != "" || c.BlogSlug == "" {
			t.Errorf("change = text %q, content %q, blog %q; want the text and blog without the HTML content", c.Text, c.Content, c.BlogSlug)
		}
		if n, _ := db.CountPosts(ctx); n != 0 {
			t.Errorf("visible posts = %d, want 0", n)
		}
		due, _ := db.FindFeeds(ctx, vplanet.FeedFilter{DueBy: time.Now()})
		if len(due) != 1 || due[0].URL != "https://b.example/" {
			t.Errorf("due feeds = %v, want only b", due)
		}

		// Listing it again brings the posts back.
		sync2(t, db, "https://a.example/feed", "https://b.example/")
		if n, _ := db.CountPosts(ctx); n != 1 {
			t.Errorf("visible posts after re-adding = %d, want 1", n)
		}
	})
}

func TestPurge(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		feeds := sync2(t, db, "https://a.example/", "https://b.example/")
		db.SaveFetch(ctx, feeds[0], []*vplanet.Post{post("a1", "h", time.Now()), post("a2", "h", time.Now())})
		db.SaveFetch(ctx, feeds[1], []*vplanet.Post{post("b1", "h", time.Now())})
		sync2(t, db, "https://b.example/")
		f, p, err := db.Purge(ctx)
		if err != nil || f != 1 || p != 2 {
			t.Fatalf("Purge = %d feeds, %d posts, %v; want 1, 2", f, p, err)
		}
		if got, _ := db.FindPosts(ctx, []string{"a1", "a2", "b1"}); len(got) != 1 || got[0].ID != "b1" {
			t.Errorf("posts after purge = %v, want b1 only", ids(got))
		}
		all, _ := db.FindFeeds(ctx, vplanet.FeedFilter{})
		if len(all) != 1 {
			t.Errorf("%d feeds after purge, want 1", len(all))
		}
	})
}

func TestSyncFeedsGone(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		f := sync2(t, db, "https://a.example/feed")[0]
		f.Status = vplanet.StatusGone
		if _, _, err := db.SaveFetch(ctx, f, nil); err != nil {
			t.Fatal(err)
		}
		sync2(t, db, "https://a.example/feed")
		if due, _ := db.FindFeeds(ctx, vplanet.FeedFilter{DueBy: time.Now()}); len(due) != 0 {
			t.Errorf("a gone feed is due again with its line unchanged: %v", due)
		}
		db.SyncFeeds(ctx, []vplanet.FeedSource{{URL: "https://a.example/feed", Name: "A blog"}})
		if due, _ := db.FindFeeds(ctx, vplanet.FeedFilter{DueBy: time.Now()}); len(due) != 1 {
			t.Errorf("a gone feed whose line changed is not due: %v", due)
		}
	})
}

func TestSaveFetch(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		feeds := sync2(t, db, "https://a.example/feed", "https://b.example/feed")
		a, b := feeds[0], feeds[1]
		t0 := time.Date(2017, 10, 12, 9, 0, 0, 0, time.UTC)

		tests := []struct {
			name                 string
			feed                 *vplanet.Feed
			posts                []*vplanet.Post
			created, updated     int
			wantOwner            int64
			wantTitle, wantCheck string
		}{
			{"new posts", a, []*vplanet.Post{post("p1", "h1", t0), post("p2", "h2", t0.Add(time.Hour))}, 2, 0, a.ID, "title p1", "p1"},
			{"unchanged costs nothing", a, []*vplanet.Post{post("p1", "h1", t0)}, 0, 0, a.ID, "title p1", "p1"},
			{"changed is updated in place", a, []*vplanet.Post{{ID: "p1", Title: "new title", Hash: "h1b", Published: t0}}, 0, 1, a.ID, "new title", "p1"},
			{"cross-post stays with its first feed", b, []*vplanet.Post{post("p2", "h2x", t0.Add(time.Hour))}, 0, 1, a.ID, "title p2", "p2"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, _ := db.MaxSeq(ctx)
				c, u, err := db.SaveFetch(ctx, tt.feed, tt.posts)
				if err != nil {
					t.Fatal(err)
				}
				if c != tt.created || u != tt.updated {
					t.Errorf("SaveFetch = %d created, %d updated; want %d, %d", c, u, tt.created, tt.updated)
				}
				after, _ := db.MaxSeq(ctx)
				if got, want := after-before, int64(tt.created+tt.updated); got != want {
					t.Errorf("sequence advanced by %d, want %d", got, want)
				}
				got, err := db.FindPosts(ctx, []string{tt.wantCheck})
				if err != nil || len(got) != 1 {
					t.Fatalf("FindPosts = %v, %v", got, err)
				}
				if got[0].FeedID != tt.wantOwner || got[0].Title != tt.wantTitle {
					t.Errorf("post = feed %d %q, want feed %d %q", got[0].FeedID, got[0].Title, tt.wantOwner, tt.wantTitle)
				}
			})
		}

		recent, err := db.RecentPosts(ctx, vplanet.PostFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(recent) != 2 || recent[0].ID != "p2" || recent[1].ID != "p1" {
			t.Errorf("recent = %v, want p2, p1 (newest first)", ids(recent))
		}
		if got := recent[1].Published; !got.Equal(t0) || got.Location() != time.UTC {
			t.Errorf("published = %v, want %v in UTC", got, t0)
		}
	})
}

func TestSaveFetchKeepsCrawlState(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		f := sync2(t, db, "https://a.example/")[0]
		now := time.Now().UTC().Truncate(time.Millisecond)
		f.FeedURL, f.Title, f.Status, f.ETag, f.LastModified = "https://a.example/feed", "A", vplanet.StatusOK, `"v1"`, "Mon, 02 Jan 2006 15:04:05 GMT"
		f.LastSuccess, f.LastAttempt, f.NextAttempt, f.Redirect = now, now, now.Add(time.Hour), "x → y"
		if _, _, err := db.SaveFetch(ctx, f, nil); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindFeed(ctx, f.Slug)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(*got) != fmt.Sprint(*f) {
			t.Errorf("feed read back\n got %+v\nwant %+v", *got, *f)
		}
		if _, err := db.FindFeed(ctx, "nope"); !errors.Is(err, vplanet.ErrNotFound) {
			t.Errorf("FindFeed(nope) = %v, want ErrNotFound", err)
		}
	})
}

func TestChangesPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		f := sync2(t, db, "https://a.example/")[0]
		var posts []*vplanet.Post
		for i := range 25 {
			posts = append(posts, post(fmt.Sprintf("p%02d", i), "h", time.Now()))
		}
		if _, _, err := db.SaveFetch(ctx, f, posts); err != nil {
			t.Fatal(err)
		}
		var seen []string
		var after int64
		for {
			page, err := db.Changes(ctx, after, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				if p.Seq <= after {
					t.Fatalf("seq %d not above %d", p.Seq, after)
				}
				after = p.Seq
				seen = append(seen, p.ID)
			}
		}
		if len(seen) != 25 {
			t.Errorf("followed %d changes, want 25", len(seen))
		}
	})
}

// TestConcurrentWriters checks that writers on separate connections take
// turns rather than failing with "database is locked", and that the change
// sequence stays unique.
func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db1, db2 := openDSN(t, dsn), openDSN(t, dsn)
		f := sync2(t, db1, "https://a.example/")[0]
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w, db := range []*store.DB{db1, db2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					if _, _, err := db.SaveFetch(ctx, f, []*vplanet.Post{post(fmt.Sprintf("w%d-%d", w, i), "h", time.Now())}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n, _ := db1.CountPosts(ctx); n != 100 {
			t.Errorf("posts = %d, want 100", n)
		}
		if seq, _ := db1.MaxSeq(ctx); seq != 100 {
			t.Errorf("max seq = %d, want 100", seq)
		}
	})
}

func TestBackup(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		f := sync2(t, db, "https://a.example/")[0]
		db.SaveFetch(ctx, f, []*vplanet.Post{post("p1", "h", time.Now())})
		path := filepath.Join(t.TempDir(), "backup.db")
		if db.Postgres() {
			// pg_dump's job: a clear error that says so, and no file.
			err := db.Backup(ctx, path)
			if !errors.Is(err, store.ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
				t.Errorf("Backup on PostgreSQL = %v, want ErrBackupPostgres naming pg_dump", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Backup on PostgreSQL left %s behind: %v", path, err)
			}
			return
		}
		if err := db.Backup(ctx, path); err != nil {
			t.Fatal(err)
		}
		copy, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer copy.Close()
		if n, _ := copy.CountPosts(ctx); n != 1 {
			t.Errorf("backup holds %d posts, want 1", n)
		}
		if err := db.Backup(ctx, path); err == nil {
			t.Error("backup over an existing file succeeded, want an error")
		}
	})
}

func TestLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crawl.lock")
	l, err := store.Acquire(ctx, path, "vplanet crawl (pid 1)", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Acquire(ctx, path, "second", 300*time.Millisecond)
	if !errors.Is(err, vplanet.ErrLocked) || !strings.Contains(err.Error(), "vplanet crawl (pid 1)") {
		t.Fatalf("second Acquire = %v, want ErrLocked naming the holder", err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		l.Release()
	}()
	l2, err := store.Acquire(ctx, path, "third", 5*time.Second)
	if err != nil {
		t.Fatalf("Acquire after release = %v, want the lock", err)
	}
	l2.Release()
}

func ids(posts []*vplanet.Post) []string {
	var s []string
	for _, p := range posts {
		s = append(s, p.ID)
	}
	return s
}

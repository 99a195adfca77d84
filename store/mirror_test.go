package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"vplanet"
	"vplanet/internal/pgtest"
	"vplanet/store"
)

// TestMirror checks a replica's local copy: filled by Changes, it answers
// the reads that pages and searches make while PostgreSQL is stopped, and
// the store itself answers again once PostgreSQL is back.
func TestMirror(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	db := openDSN(t, pg.NewDatabase(t))
	if err := db.OpenMirror(ctx, filepath.Join(t.TempDir(), "posts.db")); err != nil {
		t.Fatal(err)
	}
	feeds := sync2(t, db, "https://a.example/", "https://b.example/")
	t0 := time.Date(2017, 10, 12, 9, 0, 0, 0, time.UTC)
	db.SaveFetch(ctx, feeds[0], []*vplanet.Post{post("a1", "h", t0), post("a2", "h", t0.Add(time.Hour))})
	db.SaveFetch(ctx, feeds[1], []*vplanet.Post{post("b1", "h", t0.Add(2*time.Hour))})
	sync2(t, db, "https://a.example/") // b leaves feeds.txt: b1 is hidden
	want, err := db.FindPostsWithoutContent(ctx, []string{"a2", "a1", "b1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Changes(ctx, 0, 100); err != nil { // as the index follows
		t.Fatal(err)
	}
	if seq, _ := db.MirrorSeq(ctx); seq != 4 {
		t.Errorf("the copy followed to seq %d, want 4", seq)
	}

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MaxSeq(ctx); !errors.Is(err, store.ErrUnreachable) {
		t.Fatalf("MaxSeq with PostgreSQL stopped = %v, want ErrUnreachable (the copy must not hide it)", err)
	}
	got, err := db.FindPostsWithoutContent(ctx, []string{"a2", "a1", "b1"})
	if err != nil {
		t.Fatalf("FindPostsWithoutContent from the copy: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("the copy found %v, want %v", ids(got), ids(want))
	}
	for i := range got {
		g, w := *got[i], *want[i]
		if g != w {
			t.Errorf("from the copy\n%+v\nwant, as the store gave it\n%+v", g, w)
		}
	}
	recent, err := db.RecentPosts(ctx, vplanet.PostFilter{Limit: 10})
	if err != nil || len(recent) != 2 || recent[0].ID != "a2" {
		t.Errorf("RecentPosts from the copy = %v, %v; want a2, a1 (b1's feed left the list)", ids(recent), err)
	}
	if n, err := db.CountPosts(ctx); err != nil || n != 2 {
		t.Errorf("CountPosts from the copy = %d, %v; want 2", n, err)
	}
	if fs, err := db.FindFeeds(ctx, vplanet.FeedFilter{Active: true}); err != nil || len(fs) != 1 || fs[0].Slug != "a.example" || fs[0].URL != "https://a.example/" {
		t.Errorf("FindFeeds from the copy = %v, %v; want a.example with its URL", fs, err)
	}
	if _, err := db.FindFeeds(ctx, vplanet.FeedFilter{DueBy: time.Now()}); err == nil {
		t.Error("due feeds came from the copy: a crawl must fail while the store is away")
	}
	if _, _, err := db.SaveFetch(ctx, feeds[0], nil); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("SaveFetch with PostgreSQL stopped = %v, want ErrUnreachable", err)
	}
	if _, err := db.FindFeed(ctx, "a.example"); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("FindFeed with PostgreSQL stopped = %v, want ErrUnreachable", err)
	}

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MaxSeq(ctx); err != nil {
		t.Fatalf("MaxSeq after PostgreSQL came back: %v", err)
	}

	// A purged feed leaves the copy with its posts at the next change.
	if _, _, err := db.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	db.SaveFetch(ctx, feeds[0], []*vplanet.Post{post("a3", "h", t0)})
	if _, err := db.Changes(ctx, 4, 100); err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if fs, err := db.FindFeeds(ctx, vplanet.FeedFilter{}); err != nil || len(fs) != 1 {
		t.Errorf("FindFeeds from the copy after a purge = %v, %v; want a.example alone", fs, err)
	}
	if got, err := db.FindPosts(ctx, []string{"a3", "b1"}); err != nil || len(got) != 1 || got[0].ID != "a3" {
		t.Errorf("FindPosts from the copy after a purge = %v, %v; want a3 alone", ids(got), err)
	}
}

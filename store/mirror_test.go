package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"vplanet"
	"vplanet/internal/pgtest"
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
	if _, err := db.MaxSeq(ctx); err == nil {
		t.Fatal("MaxSeq answered with PostgreSQL stopped: the copy hides that the store is unreachable")
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
	if fs, err := db.FindFeeds(ctx, vplanet.FeedFilter{Active: true}); err != nil || len(fs) != 1 || fs[0].Slug != "a.example" {
		t.Errorf("FindFeeds from the copy = %v, %v; want a.example", fs, err)
	}
	if _, err := db.FindFeeds(ctx, vplanet.FeedFilter{DueBy: time.Now()}); err == nil {
		t.Error("due feeds came from the copy: a crawl must fail while the store is away")
	}
	if _, _, err := db.SaveFetch(ctx, feeds[0], nil); err == nil {
		t.Error("SaveFetch succeeded with PostgreSQL stopped")
	}

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MaxSeq(ctx); err != nil {
		t.Fatalf("MaxSeq after PostgreSQL came back: %v", err)
	}
}

package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"vplanet"
)

// TestCopyChangesNewerWins copies a post's newer version, then an older
// one read before it (a rebuild and the follower reading at once): the
// copy keeps the newer.
func TestCopyChangesNewerWins(t *testing.T) {
	ctx := context.Background()
	m, err := openSQLite(ctx, filepath.Join(t.TempDir(), "posts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	db := &DB{mirror: m}
	at := time.Date(2017, 10, 12, 9, 0, 0, 0, time.UTC)
	version := func(seq int64, title string) *vplanet.Post {
		return &vplanet.Post{ID: "p", FeedID: 1, BlogSlug: "a", BlogName: "A", Visible: true,
			Title: title, Text: title, Hash: title, Published: at, FirstSeen: at, Seq: seq}
	}
	for _, p := range []*vplanet.Post{version(7, "new title"), version(3, "old title")} {
		if err := db.copyChanges(ctx, []*vplanet.Post{p}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.FindPosts(ctx, []string{"p"})
	if err != nil || len(got) != 1 {
		t.Fatalf("FindPosts = %v, %v", got, err)
	}
	if got[0].Title != "new title" || got[0].Seq != 7 {
		t.Errorf("the copy holds %q at seq %d, want the newer %q at 7", got[0].Title, got[0].Seq, "new title")
	}
	if seq, _ := db.MirrorSeq(ctx); seq != 7 {
		t.Errorf("MirrorSeq = %d, want 7", seq)
	}
}

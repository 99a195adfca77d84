package index

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	bleveindex "github.com/blevesearch/bleve_index_api"

	"vplanet"
)

// TestApplySeqNeverAhead watches every snapshot of the index while batches
// go in side by side: whatever Seq a snapshot records, every post at or below
// it must be in that snapshot, since any snapshot may be the one a crash
// leaves on disk. After a reopen the index holds every post.
func TestApplySeqNeverAhead(t *testing.T) {
	const n = 8*batchSize + 123
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, Options{InFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	posts := make([]*vplanet.Post, n)
	ids := make([]string, n)
	for i := range posts {
		posts[i] = post(fmt.Sprint("p", i), fmt.Sprint("投稿 ", i), "拡張クラスタの検証と重複排除の話")
		posts[i].Seq = int64(i + 1)
		ids[i] = posts[i].ID
	}
	adv, err := ix.bi.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	checked := make(chan int)
	go func() {
		snapshots := 0
		defer func() { checked <- snapshots }()
		for {
			select {
			case <-done:
				return
			default:
			}
			r, err := adv.Reader()
			if err != nil {
				t.Error(err)
				return
			}
			v, err := r.GetInternal(keySeq)
			seq, _ := strconv.Atoi(string(v))
			if err == nil && seq > 0 {
				if got := countIDs(t, r, ids[:seq]); got != seq {
					t.Errorf("a snapshot records Seq %d but holds %d of the posts up to it", seq, got)
				}
				snapshots++
			}
			r.Close()
		}
	}()
	err = ix.Apply(context.Background(), posts)
	close(done)
	snapshots := <-checked
	t.Logf("%d snapshots checked", snapshots)
	if snapshots == 0 {
		t.Error("no snapshot with a recorded Seq was seen while the batches went in")
	}
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ix.Seq(), int64(n); got != want {
		t.Errorf("Seq: got %d, want %d", got, want)
	}
	reopenHolds(t, ix, dir, n)
}

// countIDs returns how many of ids the snapshot r holds.
func countIDs(t *testing.T, r interface {
	DocIDReaderOnly(ids []string) (bleveindex.DocIDReader, error)
}, ids []string) int {
	t.Helper()
	dr, err := r.DocIDReaderOnly(ids)
	if err != nil {
		t.Fatal(err)
	}
	defer dr.Close()
	n := 0
	for {
		id, err := dr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if id == nil {
			return n
		}
		n++
	}
}

// TestApplyRepeatedID applies a post twice in one call, in different
// batches: the later version must win.
func TestApplyRepeatedID(t *testing.T) {
	var posts []*vplanet.Post
	for i := range 3 * batchSize {
		posts = append(posts, post(fmt.Sprint("p", i), "投稿", "本文"))
	}
	again := post("p7", "書き直した投稿", "zebracorn")
	posts = append(posts, again)
	for i, p := range posts {
		p.Seq = int64(i + 1)
	}
	ix, err := Open(filepath.Join(t.TempDir(), "index"), Options{InFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Apply(context.Background(), posts); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(t, ix, Request{Query: "zebracorn"}), []string{"p7"}; !slices.Equal(got, want) {
		t.Errorf("search for the later version: got %v, want %v", got, want)
	}
	if got, want := ix.Seq(), int64(len(posts)); got != want {
		t.Errorf("Seq: got %d, want %d", got, want)
	}
}

// TestCatchUpDropsStaleReadAhead moves Seq between two reads of CatchUp: the
// changes read ahead from the old Seq must not be applied.
func TestCatchUpDropsStaleReadAhead(t *testing.T) {
	ctx := context.Background()
	src := &sliceSource{}
	for i := range 2 * changesLimit {
		src.put(post(fmt.Sprint("p", i), "投稿", "本文"))
	}
	ix := openTest(t)
	n, ahead, err := ix.catchUpOnce(ctx, src, nil)
	if err != nil || n != changesLimit || ahead == nil {
		t.Fatalf("first read: got %d, %v, %v; want %d posts and a read ahead", n, ahead, err, changesLimit)
	}
	moved := post("p1", "投稿", "本文")
	moved.Seq = changesLimit + 10
	if err := ix.Apply(ctx, []*vplanet.Post{moved}); err != nil {
		t.Fatal(err)
	}
	n, _, err = ix.catchUpOnce(ctx, src, ahead)
	if want := changesLimit - 10; err != nil || n != want {
		t.Errorf("second read: got %d, %v; want the %d posts after the new Seq", n, err, want)
	}
	if got, want := ix.Seq(), int64(2*changesLimit); got != want {
		t.Errorf("Seq: got %d, want %d", got, want)
	}
}

// TestRebuildPersisted rebuilds an index and reopens it: every post must be
// there.
func TestRebuildPersisted(t *testing.T) {
	const n = 3*changesLimit + 77
	src := &sliceSource{}
	for i := range n {
		src.put(post(fmt.Sprint("p", i), "投稿", fmt.Sprint("本文 ", i)))
	}
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, Options{InFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Rebuild(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	reopenHolds(t, ix, dir, n)
}

// reopenHolds closes ix, opens dir again and checks that it holds n posts
// up to Seq n.
func reopenHolds(t *testing.T, ix *Index, dir string, n int) {
	t.Helper()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got, want := ix.Seq(), int64(n); got != want {
		t.Errorf("Seq after reopen: got %d, want %d", got, want)
	}
	if got, _ := ix.DocCount(); got != uint64(n) {
		t.Errorf("DocCount after reopen: got %d, want %d", got, n)
	}
}

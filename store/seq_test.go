package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"vplanet"
	"vplanet/internal/pgtest"
)

// follower reads a change feed as the index does: everything above the
// last sequence number seen, moving past what it read.
type follower struct {
	after int64
	seen  map[int64]bool
}

func (f *follower) read(t *testing.T, changes func(after int64) []int64) {
	t.Helper()
	for _, seq := range changes(f.after) {
		f.seen[seq] = true
		f.after = max(f.after, seq)
	}
}

// TestOutOfOrderCommitsNaive shows the trap the change feed must avoid, on
// this very server: numbers from a SEQUENCE, taken by two transactions that
// commit in the other order, make a follower skip the first. Without it the
// next test would prove nothing.
func TestOutOfOrderCommitsNaive(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx", pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE log (seq BIGSERIAL PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	a, _ := db.BeginTx(ctx, nil)
	b, _ := db.BeginTx(ctx, nil)
	if _, err := a.ExecContext(ctx, `INSERT INTO log (v) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(ctx, `INSERT INTO log (v) VALUES ('b')`); err != nil {
		t.Fatal(err)
	}
	changes := func(after int64) []int64 {
		rows, err := db.QueryContext(ctx, `SELECT seq FROM log WHERE seq > $1 ORDER BY seq`, after)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var seqs []int64
		for rows.Next() {
			var s int64
			rows.Scan(&s)
			seqs = append(seqs, s)
		}
		return seqs
	}
	f := &follower{seen: map[int64]bool{}}
	b.Commit() // the later number commits first
	f.read(t, changes)
	a.Commit()
	f.read(t, changes)
	if len(f.seen) != 1 {
		t.Fatalf("the naive follower saw %v, want it to skip one of two (the trap this store avoids)", f.seen)
	}
}

// TestOutOfOrderCommits is the same race on the store: a transaction takes
// its change number and stays open while a second process writes and a
// follower reads. The second writer must wait for the first to commit, so
// its higher number never becomes visible before the lower one, and the
// follower sees every change.
func TestOutOfOrderCommits(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	first, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Open(ctx, url) // another process
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, _, err := first.SyncFeeds(ctx, []vplanet.FeedSource{{URL: "https://a.example/"}}); err != nil {
		t.Fatal(err)
	}
	feeds, _ := first.FindFeeds(ctx, vplanet.FeedFilter{})
	feed := feeds[0]
	mk := func(id string) *vplanet.Post {
		return &vplanet.Post{ID: id, Title: id, Text: id, Hash: id, Published: time.Now()}
	}

	f := &follower{seen: map[int64]bool{}}
	changes := func(after int64) []int64 {
		posts, err := second.Changes(ctx, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, p := range posts {
			seqs = append(seqs, p.Seq)
		}
		return seqs
	}

	held := make(chan int64)
	release := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- first.inTx(ctx, func(tx *wtx) error {
			_, _, err := savePost(ctx, tx, feed.ID, mk("a"), time.Now())
			if err != nil {
				return err
			}
			var seq int64
			tx.QueryRowContext(ctx, `SELECT seq FROM posts WHERE id = ?`, "a").Scan(&seq)
			held <- seq
			<-release
			return nil
		})
	}()
	seqA := <-held

	secondDone := make(chan error, 1)
	go func() {
		_, _, err := second.SaveFetch(ctx, feed, []*vplanet.Post{mk("b")})
		secondDone <- err
	}()
	// The second writer would commit first if it could: give it every
	// chance while the follower keeps reading.
	for range 20 {
		f.read(t, changes)
		select {
		case err := <-secondDone:
			t.Fatalf("the second write committed (%v) while the first, with a lower number, was open", err)
		case <-time.After(25 * time.Millisecond):
		}
	}
	if len(f.seen) != 0 {
		t.Fatalf("the follower saw %v before the first write committed", f.seen)
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	f.read(t, changes)
	if len(f.seen) != 2 || !f.seen[seqA] {
		t.Fatalf("the follower saw %v, want both changes (the first was %d)", f.seen, seqA)
	}
	if f.after <= seqA {
		t.Errorf("the second write's number %d is not above the first's %d", f.after, seqA)
	}
}

// TestListen checks that a commit in one process wakes a listener in
// another at once, not at its next poll.
func TestListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.URL(t)
	writer, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	poke := make(chan struct{}, 1)
	go reader.Listen(ctx, poke)
	select {
	case <-poke: // the first, on connecting
	case <-time.After(10 * time.Second):
		t.Fatal("Listen sent nothing on connecting")
	}
	if _, _, err := writer.SyncFeeds(ctx, []vplanet.FeedSource{{URL: "https://a.example/"}}); err != nil {
		t.Fatal(err)
	}
	feeds, _ := writer.FindFeeds(ctx, vplanet.FeedFilter{})
	select {
	case <-poke:
		t.Fatal("a write that changed no post woke the listener")
	case <-time.After(200 * time.Millisecond):
	}
	if _, _, err := writer.SaveFetch(ctx, feeds[0], []*vplanet.Post{{ID: "p", Hash: "h", Published: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-poke:
	case <-time.After(10 * time.Second):
		t.Fatal("a stored post did not wake the listener within 10 s")
	}
}

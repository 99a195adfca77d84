package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"vplanet"
	"vplanet/internal/pgtest"
	"vplanet/store"
)

// TestClaimFeeds checks the crawl claims on both backends: a due feed goes
// to one claimant, a claim outlives neither SaveFetch nor its lease, and
// --all claims what is not due but never a feed another crawl holds.
func TestClaimFeeds(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openDSN(t, dsn), openDSN(t, dsn) // two processes
		a.SetLease(time.Hour)
		b.SetLease(time.Hour)
		feeds := sync2(t, a, "https://a.example/", "https://b.example/", "https://c.example/")
		all := feedIDs(feeds)
		start := time.Now()

		got1, err := a.ClaimFeeds(ctx, start, false, []int64{all[2], all[0]})
		if err != nil {
			t.Fatal(err)
		}
		got2, err := b.ClaimFeeds(ctx, start, false, all)
		if err != nil {
			t.Fatal(err)
		}
		if len(got1) != 2 || len(got2) != 1 || got2[0].ID != all[1] {
			t.Fatalf("claims of c, a then of all three got %d and %v, want 2 and b alone", len(got1), got2)
		}
		if got1[0].ID != all[2] || got1[1].ID != all[0] {
			t.Errorf("claimed %d, %d; want c, a: the order asked", got1[0].ID, got1[1].ID)
		}
		seen := map[string]bool{}
		for _, f := range append(got1, got2...) {
			if seen[f.URL] {
				t.Errorf("%s claimed twice", f.URL)
			}
			seen[f.URL] = true
		}
		if more, _ := a.ClaimFeeds(ctx, start, true, all); len(more) != 0 {
			t.Errorf("--all claimed %d feeds that other crawls hold, want 0", len(more))
		}

		// A saved outcome ends the claim; the feed is not due again.
		f := got1[0]
		f.LastAttempt, f.NextAttempt, f.Status = start.Add(5*time.Millisecond), start.Add(time.Hour), vplanet.StatusOK
		if _, _, err := a.SaveFetch(ctx, f, nil); err != nil {
			t.Fatal(err)
		}
		later := start.Add(10 * time.Millisecond)
		if again, _ := b.ClaimFeeds(ctx, later, false, all); len(again) != 0 {
			t.Errorf("a fetched feed, not due, was claimed again: %v", again)
		}
		// Nor claimed twice in the same run with --all.
		if again, _ := b.ClaimFeeds(ctx, start, true, all); len(again) != 0 {
			t.Errorf("--all claimed a feed already attempted in this run: %v", again)
		}
		// A run that begins in the millisecond another run fetched the
		// feed does not pass over it.
		if again, _ := b.ClaimFeeds(ctx, f.LastAttempt.Truncate(time.Millisecond).Add(999*time.Microsecond), true, []int64{f.ID}); len(again) != 1 {
			t.Errorf("--all begun in the millisecond of the last attempt claimed %d feeds, want 1", len(again))
		}
	})
}

// TestClaimLease checks that the claims of a crawl that died are taken
// over once its lease has run out, and not before.
func TestClaimLease(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dead, live := openDSN(t, dsn), openDSN(t, dsn)
		const lease = 700 * time.Millisecond
		dead.SetLease(lease)
		all := feedIDs(sync2(t, dead, "https://a.example/", "https://b.example/"))
		start := time.Now()
		held, err := dead.ClaimFeeds(ctx, start, false, all)
		if err != nil || len(held) != 2 {
			t.Fatalf("claim = %d feeds, %v; want 2", len(held), err)
		}
		dead.Close() // the crawl dies holding its claims
		if got, _ := live.ClaimFeeds(ctx, time.Now(), false, all); len(got) != 0 {
			t.Fatalf("claims held within their lease were taken: %d", len(got))
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := live.ClaimFeeds(ctx, time.Now(), false, all)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the dead crawl's feeds were not taken over within 30 s (lease %v)", lease)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestClaimRace has several claimants walk a hundred due feeds in the same
// order, claiming three at a time, as crawls do: every feed goes to
// exactly one, and more than one gets work.
func TestClaimRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		first := openDSN(t, dsn)
		var urls []string
		for i := range 100 {
			urls = append(urls, fmt.Sprintf("https://blog%d.example/", i))
		}
		all := feedIDs(sync2(t, first, urls...))
		start := time.Now()
		var mu sync.Mutex
		byClaimant := map[int][]string{}
		var wg sync.WaitGroup
		for c := range 4 {
			db := openDSN(t, dsn)
			wg.Go(func() {
				for chunk := range slices.Chunk(all, 3) {
					got, err := db.ClaimFeeds(ctx, start, false, chunk)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, f := range got {
						byClaimant[c] = append(byClaimant[c], f.URL)
					}
					mu.Unlock()
					// Fetching what it claimed holds a crawl back; a chunk
					// others hold costs it nothing, so it moves ahead.
					time.Sleep(time.Duration(len(got)) * 2 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		var claimed []string
		for _, u := range byClaimant {
			claimed = append(claimed, u...)
		}
		sort.Strings(claimed)
		want := append([]string(nil), urls...)
		sort.Strings(want)
		if fmt.Sprint(claimed) != fmt.Sprint(want) {
			t.Fatalf("claimed %d feeds (%d distinct wanted), each once: got %v", len(claimed), len(want), claimed)
		}
		if len(byClaimant) < 2 {
			t.Errorf("one claimant took all the work: %v", byClaimant)
		}
		t.Logf("feeds per claimant: %d %d %d %d", len(byClaimant[0]), len(byClaimant[1]), len(byClaimant[2]), len(byClaimant[3]))
	})
}

// TestSchemaVersion checks that a new store holds the schema this vplanet
// knows, on both backends, and that stores opened at once migrate once.
func TestSchemaVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var wg sync.WaitGroup
		dbs := make([]*store.DB, 4)
		errs := make([]error, 4)
		for i := range dbs {
			wg.Go(func() { dbs[i], errs[i] = store.Open(ctx, dsn) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("open %d of 4 at once: %v", i, err)
			}
			defer dbs[i].Close()
		}
		v, err := dbs[0].SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := store.SchemaVersion(); v != want || want < 2 {
			t.Errorf("schema version = %d, want %d (at least 2)", v, want)
		}
	})
}

// TestFilePrivate checks that a new SQLite store, with its -wal and -shm
// files, is readable by its owner alone.
func TestFilePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "vplanet.db")
	db := openDSN(t, path)
	sync2(t, db, "https://a.example/") // a write makes the -wal
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), mode)
		}
	}
}

// BenchmarkSaveFetch stores a fetch of ten new posts, as a crawl does for
// each feed that changed, on each backend: the write every crawl worker
// takes its turn for.
func BenchmarkSaveFetch(b *testing.B) {
	for _, be := range []struct {
		name string
		dsn  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return b.TempDir() + "/vplanet.db" }},
		{"postgres", func(b *testing.B) string { return pgtest.URL(b) }},
	} {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, be.dsn(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SyncFeeds(ctx, []vplanet.FeedSource{{URL: "https://a.example/"}})
			feeds, _ := db.FindFeeds(ctx, vplanet.FeedFilter{})
			n := 0
			for b.Loop() {
				var posts []*vplanet.Post
				for range 10 {
					n++
					posts = append(posts, post(fmt.Sprint("p", n), "h", time.Now()))
				}
				if _, _, err := db.SaveFetch(ctx, feeds[0], posts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func feedIDs(feeds []*vplanet.Feed) []int64 {
	var ids []int64
	for _, f := range feeds {
		ids = append(ids, f.ID)
	}
	return ids
}

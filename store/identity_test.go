package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"

	"vplanet"
	"vplanet/store"
)

// oldStore creates a store at schema version 2, before a post's GUID was its
// identity within its feed, holding what that version stored for one
// WordPress post whose slug was edited: the post twice, under the ID of its
// old link and of its new one.
func oldStore(t *testing.T, backend, dsn string) {
	t.Helper()
	driver := "sqlite"
	if backend == "postgres" {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if backend == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string) {
		t.Helper()
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, name := range []string{"0001_init.sql", "0002_claims.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", backend, name))
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
	}
	if backend == "sqlite" {
		exec(`PRAGMA user_version = 2`)
	} else {
		exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`)
		exec(`INSERT INTO schema_migrations VALUES (1, 0), (2, 0)`)
	}
	exec(`INSERT INTO feeds (id, slug, url, status, created) VALUES (1, 'vhoge', 'https://vhoge.example.com/feed/', 'ok', 0)`)
	exec(`INSERT INTO feeds (id, slug, url, status, created) VALUES (2, 'other', 'https://other.example.org/feed/', 'ok', 0)`)
	posts := []struct {
		id, guid, url, title string
		feed, seq            int
	}{
		{"old-link-id", "https://vhoge.example.com/?p=123", "https://vhoge.example.com/2024/12/02/vsan-esa-dedupe-test/", "vSAN ESA で重複排除を試す", 1, 1},
		{"other-post", "https://vhoge.example.com/?p=118", "https://vhoge.example.com/2024/11/20/nsx-segment-terraform/", "NSX のセグメント", 1, 2},
		{"new-link-id", "https://vhoge.example.com/?p=123", "https://vhoge.example.com/2024/12/02/vsan-esa-dedupe-compression/", "vSAN ESA の重複排除と圧縮の効果", 1, 3},
		// Another blog's post 123: another feed, so another post.
		{"elsewhere", "https://vhoge.example.com/?p=123", "https://other.example.org/p/123", "Cross-posted", 2, 4},
		// Posts without a GUID are never merged.
		{"no-guid-1", "", "https://other.example.org/a", "A", 2, 5},
		{"no-guid-2", "", "https://other.example.org/b", "B", 2, 6},
	}
	for _, p := range posts {
		exec(`INSERT INTO posts (id, feed_id, guid, url, title, published, first_seen, seq, text) VALUES ('` +
			p.id + `', ` + strconv.Itoa(p.feed) + `, '` + p.guid + `', '` + p.url + `', '` + p.title +
			`', 1733130000000, 1733130000000, ` + strconv.Itoa(p.seq) + `, 'text')`)
	}
	exec(`UPDATE counters SET value = 6 WHERE name = 'seq'`)
}

// TestMigrateDuplicates: a store that holds one post twice (one feed, one
// GUID, two IDs) is merged in place when it opens: the newer version stays,
// the older ID still finds it, and the index learns to drop the older
// through the change sequence.
func TestMigrateDuplicates(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			oldStore(t, b.name, dsn)
			db := openDSN(t, dsn)
			if v, err := db.SchemaVersion(ctx); err != nil || v != store.SchemaVersion() {
				t.Fatalf("schema version %d, %v; want %d", v, err, store.SchemaVersion())
			}

			recent, err := db.RecentPosts(ctx, vplanet.PostFilter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, p := range recent {
				got[p.ID] = true
			}
			want := map[string]bool{"new-link-id": true, "other-post": true, "elsewhere": true, "no-guid-1": true, "no-guid-2": true}
			if len(got) != len(want) {
				t.Errorf("visible posts %v, want %v", ids(recent), want)
			}
			for id := range want {
				if !got[id] {
					t.Errorf("post %s is not visible after the migration", id)
				}
			}
			if n, err := db.CountPosts(ctx); err != nil || n != 5 {
				t.Errorf("CountPosts = %d, %v; want 5", n, err)
			}

			found, err := db.FindPosts(ctx, []string{"old-link-id"})
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != 1 || found[0].ID != "new-link-id" || found[0].Title != "vSAN ESA の重複排除と圧縮の効果" {
				t.Errorf("FindPosts(old-link-id) = %+v, want the post new-link-id", found)
			}

			changes, err := db.Changes(ctx, 6, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 1 || changes[0].ID != "old-link-id" || changes[0].Visible || changes[0].Seq != 7 {
				t.Errorf("changes after the migration = %+v, want old-link-id invisible at seq 7", changes)
			}
			if seq, err := db.MaxSeq(ctx); err != nil || seq != 7 {
				t.Errorf("MaxSeq = %d, %v; want 7", seq, err)
			}
			feeds, err := db.FindFeeds(ctx, vplanet.FeedFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if feeds[0].PostCount != 2 {
				t.Errorf("feed %s counts %d posts, want 2", feeds[0].Slug, feeds[0].PostCount)
			}
		})
	}
}

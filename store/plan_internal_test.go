package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostCountFromIndex: a blog's count of posts, which every listing of
// the feeds carries, reads the posts_feed_live index alone, never the
// posts' rows (at 1,000,000 posts those rows made it seconds). SQLite's
// planner says so for the query as FindFeeds writes it.
func TestPostCountFromIndex(t *testing.T) {
	ctx := context.Background()
	db, err := openSQLite(ctx, filepath.Join(t.TempDir(), "vplanet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT `+feedColumns+` FROM feeds f`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, step := range plan {
		if strings.Contains(step, "SEARCH p USING COVERING INDEX posts_feed_live") {
			found = true
		}
	}
	if !found {
		t.Errorf("the post count does not read posts_feed_live alone; plan:\n%s", strings.Join(plan, "\n"))
	}
}

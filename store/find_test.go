package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"vplanet"
	"vplanet/internal/pgtest"
	"vplanet/store"
)

// fill saves n posts of about 3 KB of text and as much HTML, as blogs
// publish them, to one feed, and returns their IDs.
func fill(tb testing.TB, db *store.DB, n int) []string {
	tb.Helper()
	ctx := context.Background()
	if _, _, err := db.SyncFeeds(ctx, []vplanet.FeedSource{{URL: "https://a.example/feed"}}); err != nil {
		tb.Fatal(err)
	}
	feeds, err := db.FindFeeds(ctx, vplanet.FeedFilter{Active: true})
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2017, 10, 12, 9, 0, 0, 0, time.UTC)
	var ids []string
	var batch []*vplanet.Post
	for i := range n {
		p := post(fmt.Sprintf("p%05d", i), fmt.Sprint("h", i), t0.Add(time.Duration(i)*time.Hour))
		p.Text = strings.Repeat(fmt.Sprintf("vSAN の重複排除 %d. ", i), 3000/24)
		p.Content = "<p>" + p.Text + "</p>"
		batch = append(batch, p)
		ids = append(ids, p.ID)
		if len(batch) == 500 || i == n-1 {
			if _, _, err := db.SaveFetch(ctx, feeds[0], batch); err != nil {
				tb.Fatal(err)
			}
			batch = nil
		}
	}
	return ids
}

func TestFindPosts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		all := fill(t, db, 260)
		tests := []struct {
			name string
			ids  []string
			want []string
		}{
			{"none", nil, nil},
			{"in the order asked", []string{"p00007", "p00002", "p00120"}, []string{"p00007", "p00002", "p00120"}},
			{"unknown skipped", []string{"nope", "p00003", "p99999"}, []string{"p00003"}},
			{"asked twice, found once", []string{"p00004", "p00004"}, []string{"p00004"}},
			{"more than one query holds", slices.Concat(all[200:], all[:200]), slices.Concat(all[200:], all[:200])},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				full, err := db.FindPosts(ctx, tt.ids)
				if err != nil {
					t.Fatal(err)
				}
				brief, err := db.FindPostsWithoutContent(ctx, tt.ids)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(full); !slices.Equal(got, tt.want) {
					t.Errorf("FindPosts = %v, want %v", got, tt.want)
				}
				if len(brief) != len(full) {
					t.Fatalf("FindPostsWithoutContent found %d, FindPosts %d", len(brief), len(full))
				}
				for i, p := range full {
					if p.Content == "" || !strings.Contains(p.Content, p.Text) {
						t.Errorf("%s: FindPosts gave Content %.40q", p.ID, p.Content)
					}
					b := *brief[i]
					if b.Content != "" {
						t.Errorf("%s: FindPostsWithoutContent gave Content %.40q", p.ID, b.Content)
					}
					b.Content = p.Content
					if b != *p {
						t.Errorf("%s: without content\n%+v\nwant the rest as FindPosts gives it\n%+v", p.ID, b, *p)
					}
				}
			})
		}
	})
}

// BenchmarkFindPosts fetches a page of ten search hits from 2,000 posts,
// on each backend (PostgreSQL over loopback).
func BenchmarkFindPosts(b *testing.B) {
	for _, be := range []struct {
		name string
		dsn  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return b.TempDir() + "/vplanet.db" }},
		{"postgres", func(b *testing.B) string { return pgtest.URL(b) }},
	} {
		b.Run(be.name, func(b *testing.B) { benchmarkFindPosts(b, be.dsn(b)) })
	}
}

func benchmarkFindPosts(b *testing.B, dsn string) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	all := fill(b, db, 2000)
	for _, bc := range []struct {
		name string
		find func(context.Context, []string) ([]*vplanet.Post, error)
	}{
		{"content", db.FindPosts},
		{"without-content", db.FindPostsWithoutContent},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				page := all[i%1990 : i%1990+10]
				i += 37
				posts, err := bc.find(ctx, page)
				if err != nil || len(posts) != 10 {
					b.Fatalf("found %d, %v", len(posts), err)
				}
			}
		})
	}
}

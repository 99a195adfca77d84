package index

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vplanet"
)

// TestCollectMatchesExhaustive checks the shortcuts of collect (hits and
// facets counted from bitmaps, ranking from the posts with title matches)
// against scoring every hit, on random queries: words from titles and
// bodies, in Japanese and English, with OR, -word, phrases, blog:, lang:,
// after: and before:, both sorts and several pages. Totals, facets and
// pages must be the same. The synthetic posts of testdata are the core;
// the shared corpus's blog posts, when present, add real text.
func TestCollectMatchesExhaustive(t *testing.T) {
	t.Run("synthetic", func(t *testing.T) {
		posts := fixtureSynth(t).posts(3000)
		checkExhaustive(t, openBatches(t, posts, 500), posts)
	})
	t.Run("corpus", func(t *testing.T) {
		posts := hatenaPosts(t)
		rng := rand.New(rand.NewPCG(3, 4))
		for i, p := range posts {
			p.BlogSlug = fmt.Sprint("blog", i%5)
			p.Published = time.Date(2012+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		}
		checkExhaustive(t, openTest(t, posts...), posts)
	})
}

// openBatches opens an index holding posts, applied in batches of n, each
// of which stays a segment of its own (see reopen).
func openBatches(t testing.TB, posts []*vplanet.Post, n int) *Index {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "index")
	var ix *Index
	for i := 0; i < len(posts); i += n {
		ix = reopen(t, ix, dir)
		if err := ix.Apply(context.Background(), posts[i:min(i+n, len(posts))]); err != nil {
			t.Fatal(err)
		}
	}
	return reopen(t, ix, dir)
}

// checkExhaustive compares collect's shortcuts with scoring every hit on
// random queries made of the words of posts, which ix holds.
func checkExhaustive(t *testing.T, ix *Index, posts []*vplanet.Post) {
	rng := rand.New(rand.NewPCG(3, 4))
	blogs := map[string]bool{}
	for _, p := range posts {
		blogs[p.BlogSlug] = true
	}
	slugs := slices.Sorted(maps.Keys(blogs))
	var words []string
	for _, p := range posts[:200] {
		for _, src := range []string{p.Title, p.Text[:min(len(p.Text), 400)]} {
			for _, tok := range ix.an.Analyze(src) {
				// A word that is not indexed on its own ("の" as a noun in
				// its sentence, a particle alone) makes "-word" an empty query.
				if w := src[tok.Start:tok.End]; !strings.ContainsAny(w, ` "-:`) && len(ix.an.Analyze(w)) > 0 {
					words = append(words, w)
				}
			}
		}
	}
	word := func() string { return words[rng.IntN(len(words))] }
	slug := func() string { return slugs[rng.IntN(len(slugs))] }
	filters := []func() string{
		func() string { return "lang:ja" },
		func() string { return "lang:en" },
		func() string { return "blog:" + slug() },
		func() string { return "blog:" + slug() + "," + slug() },
		func() string { return "-blog:" + slug() },
		func() string { return "after:2015" },
		func() string { return "before:2018-06-30" },
		func() string { return "after:2013-02 before:2020" },
	}
	ctx := context.Background()
	search := func(r Request, exhaustive bool) *Result {
		t.Helper()
		ix.exhaustive = exhaustive
		res, err := ix.Search(ctx, r)
		if err != nil {
			t.Fatalf("%q: %v", r.Query, err)
		}
		return res
	}
	byDate0, titles0, all0 := ix.paths.byDate.Load(), ix.paths.titles.Load(), ix.paths.all.Load()
	compared := 0
	for range 1000 {
		var q []string
		for range 1 + rng.IntN(3) {
			switch rng.IntN(10) {
			case 0:
				q = append(q, word()+" OR "+word())
			case 1:
				q = append(q, "-"+word())
			case 2:
				q = append(q, `"`+word()+" "+word()+`"`)
			case 3, 4:
				q = append(q, filters[rng.IntN(len(filters))]())
			default:
				q = append(q, word())
			}
		}
		r := Request{Query: strings.Join(q, " "), Limit: 1 + rng.IntN(20), Facets: true}
		if rng.IntN(3) == 0 {
			r.Sort = "date"
		}
		if rng.IntN(3) == 0 {
			r.Offset = rng.IntN(30)
		}
		want := search(r, true)
		got := search(r, false)
		if got.Total != want.Total {
			t.Errorf("%+v: total %d, want %d", r, got.Total, want.Total)
			continue
		}
		if fmt.Sprint(got.Facets) != fmt.Sprint(want.Facets) {
			t.Errorf("%+v: facets\n%v\nwant\n%v", r, got.Facets, want.Facets)
		}
		if g, w := hitIDs(got), hitIDs(want); !slices.Equal(g, w) {
			t.Errorf("%+v: hits\n%v\nwant\n%v", r, g, w)
		}
		if want.Total > 0 {
			compared++
		}
	}
	// Every way through collect was taken often enough to mean something
	// (the exhaustive searches count as "all" too).
	byDate, titles, all := ix.paths.byDate.Load()-byDate0, ix.paths.titles.Load()-titles0, ix.paths.all.Load()-all0-1000
	t.Logf("%d queries with hits; ranked by date from bitmaps %d, by title matches %d, by scoring every hit %d", compared, byDate, titles, all)
	if compared < 500 || byDate < 100 || titles < 50 || all < 100 {
		t.Errorf("too few queries took some way through collect")
	}
}

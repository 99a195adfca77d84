package index

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"vplanet"
)

// TestCollectMatchesStock checks collect, with its shortcuts (hits and
// facets counted from bitmaps, ranking from the posts with title matches,
// phrases from cached bitmaps), against Bleve's own search of the same
// queries (its collector, sort and facets; see collectStock), on random
// queries: words from titles and bodies, in Japanese and English, runs
// without spaces, OR, -word, phrases, blog:, lang:, after: and before:,
// both sorts and several pages. Totals, facets and pages must be the same.
// Synthetic posts made of testdata, in several segments, are the core; the
// shared corpus's blog posts, when present, add real text.
func TestCollectMatchesStock(t *testing.T) {
	t.Run("synthetic", func(t *testing.T) {
		// Short posts, so that indexing thousands takes little time.
		s := fixtureSynth(t)
		s.size = 500
		posts := s.posts(3000)
		for _, p := range posts {
			// Many posts a day: ties in date, broken in index order.
			p.Published = p.Published.Truncate(24 * time.Hour)
		}
		checkStock(t, openBatches(t, posts, 500), posts, 400)
	})
	t.Run("corpus", func(t *testing.T) {
		posts := hatenaPosts(t)
		rng := rand.New(rand.NewPCG(3, 4))
		for i, p := range posts {
			p.BlogSlug = fmt.Sprint("blog", i%5)
			p.Published = time.Date(2012+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		}
		checkStock(t, openBatches(t, posts, 100), posts, 400)
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

// checkStock compares collect with collectStock on n random queries made
// of the words of posts, which ix holds in at least three segments.
func checkStock(t *testing.T, ix *Index, posts []*vplanet.Post, n int) {
	ix.mu.RLock()
	snap, err := openSegments(ix.bi)
	ix.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	segs := len(snap.list)
	snap.Close()
	if segs < 3 {
		t.Fatalf("the index has %d segments; the check needs at least 3", segs)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	blogs := map[string]bool{}
	for _, p := range posts {
		blogs[p.BlogSlug] = true
	}
	slugs := slices.Sorted(maps.Keys(blogs))
	// Words, and runs of two or three words without the spaces between
	// them, from the first posts' titles and bodies.
	var words, runs []string
	for _, p := range posts[:200] {
		for _, src := range []string{p.Title, p.Text[:min(len(p.Text), 400)]} {
			toks := ix.an.Analyze(src)
			for i, tok := range toks {
				// A word that is not indexed on its own ("の" as a noun in
				// its sentence) makes "-word" an empty query.
				if w := src[tok.Start:tok.End]; !strings.ContainsAny(w, ` "-:`) && len(ix.an.Analyze(w)) > 0 {
					words = append(words, w)
				}
				if i+2 < len(toks) && tok.Start < toks[i+2].End {
					if r := src[tok.Start:toks[i+1+rng.IntN(2)].End]; !strings.ContainsAny(r, ` "-:'`+"\n\t") && len(ix.an.Analyze(r)) > 1 {
						runs = append(runs, r)
					}
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
		func() string { return "-after:2019" },
	}
	ways := map[string]int{}
	compared := 0
	for range n {
		var q []string
		for range 1 + rng.IntN(3) {
			switch rng.IntN(11) {
			case 0:
				q = append(q, word()+" OR "+word())
			case 1:
				q = append(q, "-"+word())
			case 2:
				q = append(q, `"`+word()+" "+word()+`"`)
			case 3:
				q = append(q, runs[rng.IntN(len(runs))])
			case 4, 5:
				q = append(q, filters[rng.IntN(len(filters))]())
			default:
				q = append(q, word())
			}
		}
		r := Request{Query: strings.Join(q, " "), Limit: 1 + rng.IntN(20), Facets: rng.IntN(4) > 0}
		if rng.IntN(3) == 0 {
			r.Sort = "date"
		}
		if rng.IntN(3) == 0 {
			r.Offset = rng.IntN(30)
		}
		r, err := checkRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		got, want := searchBoth(t, ix, r)
		if got == nil {
			continue // matches nothing: nothing to compare
		}
		ways[got.way]++
		if got.total != want.total {
			t.Errorf("%+v: total %d, Bleve's %d", r, got.total, want.total)
			continue
		}
		if fmt.Sprint(got.facets) != fmt.Sprint(want.facets) {
			t.Errorf("%+v: facets\n%v\nBleve's\n%v", r, got.facets, want.facets)
		}
		if g, w := collectedIDs(got), collectedIDs(want); !slices.Equal(g, w) {
			t.Errorf("%+v (%s): hits\n%v\nBleve's\n%v", r, got.way, g, w)
		} else {
			for i := range got.hits {
				if g, w := got.hits[i].Score, want.hits[i].Score; math.Abs(g-w) > 1e-9*math.Abs(w) {
					t.Errorf("%+v: hit %d %s scores %v, Bleve %v", r, i, got.hits[i].ID, g, w)
					break
				}
			}
		}
		if want.total > 0 {
			compared++
		}
	}
	t.Logf("%d segments, %d of %d queries with hits; ways through collect: %v", segs, compared, n, ways)
	// Every way through collect was taken often enough to mean something.
	if compared < n/2 || ways[wayByDate] < n/10 || ways[wayTitles] < n/20 || ways[wayAll] < n/10 {
		t.Errorf("too few queries took some way through collect")
	}
}

// searchBoth runs r with collect and with collectStock; nil, nil when its
// query matches nothing.
func searchBoth(t *testing.T, ix *Index, r Request) (got, want *collected) {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	pl, err := ix.plan(r, false, false)
	if err != nil && (strings.Contains(err.Error(), "no searchable word") || strings.Contains(err.Error(), "empty query")) {
		return nil, nil // only stop words (the terms drawn include them): nothing to compare
	}
	if err != nil {
		t.Fatalf("%q: %v", r.Query, err)
	}
	if pl.q == nil {
		return nil, nil
	}
	ctx := context.Background()
	if got, err = ix.collect(ctx, pl); err != nil {
		t.Fatalf("%q: %v", r.Query, err)
	}
	if want, err = ix.collectStock(ctx, pl); err != nil {
		t.Fatalf("%q: Bleve's search: %v", r.Query, err)
	}
	return got, want
}

func collectedIDs(c *collected) []string {
	var out []string
	for _, h := range c.hits {
		out = append(out, h.ID)
	}
	return out
}

// TestSearchWithoutSegments checks that an index that is not a scorch
// index (Bleve's in-memory upsidedown index here) is searched the stock
// way, and answers as the same posts in a scorch index do: the same
// totals, facets, hits in order and highlights.
func TestSearchWithoutSegments(t *testing.T) {
	s := fixtureSynth(t)
	s.size = 500
	posts := s.posts(300)
	fast := openBatches(t, posts, 100)

	other := openTest(t)
	mem, err := bleve.NewMemOnly(newMapping())
	if err != nil {
		t.Fatal(err)
	}
	other.mu.Lock()
	if err := other.bi.Close(); err != nil {
		t.Fatal(err)
	}
	other.bi = mem
	other.mu.Unlock()
	if err := other.Apply(context.Background(), posts); err != nil {
		t.Fatal(err)
	}

	queries := []Request{
		{Query: "クラスタ", Facets: true},
		{Query: "vSAN 6.6", Limit: 5, Offset: 3},
		{Query: `"stretched cluster" OR 拡張クラスタ`, Sort: "date", Facets: true},
		{Query: "ＶＣＨＡ -blog:blog-3", Facets: true},
		{Query: "after:2015 before:2018-06 lang:en", Sort: "date", Limit: 20},
		{Query: "清 -おれ after:2012", Facets: true},
	}
	for _, r := range queries {
		t.Run(r.Query, func(t *testing.T) {
			r, err := checkRequest(r)
			if err != nil {
				t.Fatal(err)
			}
			other.mu.RLock()
			pl, err := other.plan(r, false, false)
			var c *collected
			if err == nil {
				c, err = other.collect(context.Background(), pl)
			}
			other.mu.RUnlock()
			if err != nil {
				t.Fatal(err)
			}
			if c.way != wayStock {
				t.Errorf("way %q, want %q", c.way, wayStock)
			}
			want, err := fast.Search(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := other.Search(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != want.Total || want.Total == 0 {
				t.Errorf("total %d, want %d (and more than 0)", got.Total, want.Total)
			}
			if fmt.Sprint(got.Facets) != fmt.Sprint(want.Facets) {
				t.Errorf("facets\n%v\nwant\n%v", got.Facets, want.Facets)
			}
			if g, w := fmt.Sprint(got.Hits), fmt.Sprint(want.Hits); g != w {
				t.Errorf("hits\n%v\nwant\n%v", g, w)
			}
		})
	}
}

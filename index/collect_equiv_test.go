package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCollectMatchesExhaustive checks the shortcuts of collect (hits and
// facets counted from bitmaps, ranking from the posts with title matches)
// against scoring every hit, on random queries over the corpus posts:
// words from titles and bodies, in Japanese and English, with OR, -word,
// phrases, blog:, lang:, after: and before:, both sorts and several
// pages. Totals, facets and pages must be the same.
func TestCollectMatchesExhaustive(t *testing.T) {
	posts := hatenaPosts(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for i, p := range posts {
		p.BlogSlug = fmt.Sprint("blog", i%5)
		p.Published = time.Date(2012+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	}
	ix := openTest(t, posts...)
	var words []string
	for _, p := range posts[:200] {
		for _, src := range []string{p.Title, p.Text[:min(len(p.Text), 400)]} {
			for _, tok := range ix.an.Analyze(src) {
				if w := src[tok.Start:tok.End]; !strings.ContainsAny(w, ` "-:`) {
					words = append(words, w)
				}
			}
		}
	}
	word := func() string { return words[rng.IntN(len(words))] }
	filters := []string{"lang:ja", "lang:en", "blog:blog1", "blog:blog2,blog3", "-blog:blog4", "after:2015", "before:2018-06-30", "after:2013-02 before:2020"}
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
				q = append(q, filters[rng.IntN(len(filters))])
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
	byDate, titles, all := ix.paths.byDate.Load(), ix.paths.titles.Load(), ix.paths.all.Load()-1000
	t.Logf("%d queries with hits; ranked by date from bitmaps %d, by title matches %d, by scoring every hit %d", compared, byDate, titles, all)
	if compared < 500 || byDate < 100 || titles < 50 || all < 100 {
		t.Errorf("too few queries took some way through collect")
	}
}

package index

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"

	"vplanet"
)

// Request is a search as a person asked it.
type Request struct {
	Query    string // in the query language described in the package documentation
	Limit    int    // 1..100; 0 means 10, more than 100 means 100
	Offset   int    // 0..10000
	Sort     string // "relevance" (the default) or "date" (newest first)
	Facets   bool
	Location *time.Location // for after: and before: calendar days; nil means UTC
	// Wider also returns, after every post that matches exactly, the
	// posts that match only in part: a kanji word inside longer words
	// (本木 in 六本木), a pasted piece without its cut edge words. By
	// default they are returned only when nothing matches exactly, and
	// counted in Result.More otherwise.
	Wider bool
}

// Result is what a search found.
type Result struct {
	Total  uint64
	Hits   []Hit
	Facets map[string][]FacetCount // keys "blog" (slugs), "lang", "year"
	Took   time.Duration
	// Partial says that the exact query matched nothing and the hits
	// match it with the first or last word of a piece of Japanese text
	// left out (a piece pasted from a post that starts or ends inside a
	// word: "ンターの設定を変" of "センターの設定を変更"), or a kanji word
	// inside longer words (本木 of 六本木).
	Partial bool
	// More is how many posts match only in part when some match exactly:
	// those a Wider search adds after them. It is 0 for a Wider search.
	More uint64
	// Widened says that the hits are a Wider search's: those that match
	// exactly, then those that match only in part.
	Widened bool
}

// Hit is one post that matched.
type Hit struct {
	ID string
	// Score is the relevance score, or 0 when the search ranked by date
	// alone.
	Score float64
	// Spans are the matched byte ranges in the post's Title and Text as
	// stored in the store (keys "title", "text"), sorted and merged, so
	// that snippets can be cut from the store's copy.
	Spans map[string][]Span
}

// Span is a byte range [Start, End).
type Span struct{ Start, End int }

// FacetCount is how many hits have one value of a facet.
type FacetCount struct {
	Value string
	Count int
}

const maxOffset = 10000

// Search answers a query; a query it cannot understand returns an error
// wrapping vplanet.ErrBadQuery that says why.
func (ix *Index) Search(ctx context.Context, r Request) (*Result, error) {
	start := time.Now()
	r, err := checkRequest(r)
	if err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, errClosed
	}
	pl, err := ix.plan(r, false, false)
	if err != nil {
		return nil, err
	}
	res := &Result{Hits: []Hit{}}
	if r.Facets {
		res.Facets = map[string][]FacetCount{"blog": {}, "lang": {}, "year": {}}
	}
	if pl.q == nil {
		res.Took = time.Since(start)
		return res, nil
	}
	c, err := ix.collect(ctx, pl)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", r.Query, err)
	}
	switch {
	case c.total == 0 && pl.widens:
		// Nothing matched exactly: match again with the pieces' cut edge
		// words left out and kanji words inside longer ones, as Groonga
		// widens a query that finds nothing; first among the posts that
		// hold every pair of characters of the pieces, then among all.
		for _, grams := range []bool{true, false} {
			lp, err := ix.plan(r, true, grams)
			if err != nil || lp.q == nil {
				break
			}
			if grams && !lp.gramsUsed {
				continue
			}
			lc, err := ix.collect(ctx, lp)
			if err != nil {
				return nil, fmt.Errorf("search %q: %w", r.Query, err)
			}
			if lc.total > 0 {
				c, res.Partial = lc, true
				break
			}
		}
	case pl.widens:
		// Some posts match exactly, and rank alone: a word's exact
		// matches would otherwise share the page with posts holding it
		// inside longer words, the rarer term, which rank higher. The
		// others are counted, or with Wider follow them.
		if c, err = ix.widen(ctx, r, pl, c, res); err != nil {
			return nil, fmt.Errorf("search %q: %w", r.Query, err)
		}
	}
	if r.Facets {
		res.Facets = c.facets
	}
	res.Total = c.total
	res.Hits = c.hits
	res.Took = time.Since(start)
	if ix.log.Enabled(ctx, slog.LevelDebug) { // spares the arguments' allocations
		ix.log.Debug("index: search", "query", r.Query, "way", c.way, "total", c.total, "took", res.Took)
	}
	return res, nil
}

// widen counts, for a request whose exact plan ex matched the posts in c,
// the posts that its widened plan adds (Result.More); with r.Wider, it
// returns instead the exact page followed by those posts, their total and
// the widened plan's facets. The widened plan is the one the fallback
// tries first: among the posts holding the pieces' pairs of characters
// where the pieces have some.
func (ix *Index) widen(ctx context.Context, r Request, ex plan, c *collected, res *Result) (*collected, error) {
	lp, err := ix.plan(r, true, true)
	if err == nil && lp.q != nil && !lp.gramsUsed {
		lp, err = ix.plan(r, true, false)
	}
	if err != nil || lp.q == nil {
		return c, err
	}
	// The posts the widened query adds: it, and not the exact one.
	only := lp
	bq := bleve.NewBooleanQuery()
	bq.AddMust(lp.q)
	bq.AddMustNot(ex.q)
	only.q, only.facets = bq, false
	if !r.Wider {
		only.offset, only.k = 0, 1
		oc, err := ix.collect(ctx, only)
		if err != nil {
			return c, err
		}
		res.More = oc.total
		return c, nil
	}
	res.Widened = true
	out := &collected{way: c.way, total: c.total, hits: c.hits, facets: c.facets}
	// The exact hits fill the page from r.Offset; the others go on from
	// where they end.
	// A page the exact hits fill still needs the others' count: collect
	// wants a page of one hit at least.
	from, need := max(0, r.Offset-int(c.total)), r.Limit-len(c.hits)
	only.offset, only.k = from, from+max(need, 1)
	oc, err := ix.collect(ctx, only)
	if err != nil {
		return c, err
	}
	out.total += oc.total
	if need > 0 {
		out.hits = append(out.hits, oc.hits...)
	}
	if r.Facets {
		// The widened query matches the exact hits too: its facets count
		// them all.
		lp.offset, lp.k = 0, 1
		fc, err := ix.collect(ctx, lp)
		if err != nil {
			return c, err
		}
		out.facets = fc.facets
	}
	return out, nil
}

// checkRequest checks r's limits and fills in its defaults.
func checkRequest(r Request) (Request, error) {
	switch {
	case r.Limit < 0:
		return r, fmt.Errorf("limit must not be negative: %w", vplanet.ErrBadQuery)
	case r.Limit == 0:
		r.Limit = 10
	case r.Limit > 100:
		r.Limit = 100
	}
	if r.Offset < 0 || r.Offset > maxOffset {
		return r, fmt.Errorf("offset must be between 0 and %d: %w", maxOffset, vplanet.ErrBadQuery)
	}
	switch r.Sort {
	case "", "relevance", "date":
	default:
		return r, fmt.Errorf("sort must be relevance or date, not %q: %w", r.Sort, vplanet.ErrBadQuery)
	}
	if r.Location == nil {
		r.Location = time.UTC
	}
	return r, nil
}

// plan parses and builds the query of a checked request; a nil pl.q means
// that it can match nothing. The caller holds ix.mu.
//
// lenient leaves out the first and last word of each piece of Japanese text
// of three words or more that is not quoted, and lets a kanji word match
// inside longer words; pl.widens says whether the query has such a piece
// or word. grams, when lenient, also requires the pieces' pairs of
// characters; pl.gramsUsed says whether a piece had them.
func (ix *Index) plan(r Request, lenient, grams bool) (plan, error) {
	p, err := parseQuery(r.Query)
	if err != nil {
		return plan{}, err
	}
	b := &builder{an: ix.an, gloss: ix.gloss, loc: r.Location, cache: ix.cols, lenient: lenient, grams: grams}
	q, err := b.build(p)
	if err != nil || q == nil {
		return plan{}, err
	}
	pl := plan{q: q, offset: r.Offset, k: r.Offset + r.Limit, byDate: r.Sort == "date", facets: r.Facets,
		titles: b.titles, bound: b.bound, widens: b.widens, gramsUsed: b.gramsUsed}
	if !b.after.IsZero() || !b.before.IsZero() {
		pl.dated, pl.from, pl.to = true, math.MinInt64, math.MaxInt64
		if !b.after.IsZero() {
			pl.from = unixNano(b.after)
		}
		if !b.before.IsZero() {
			pl.to = unixNano(b.before)
		}
	}
	return pl, nil
}

// spans collects the match locations of title and text.
func spans(locs search.FieldTermLocationMap) map[string][]Span {
	out := map[string][]Span{}
	for _, field := range []string{"title", "text"} {
		var s []Span
		for _, ls := range locs[field] {
			for _, l := range ls {
				s = append(s, Span{int(l.Start), int(l.End)})
			}
		}
		if len(s) > 0 {
			out[field] = mergeSpans(s)
		}
	}
	return out
}

// mergeSpans sorts spans and merges those that overlap or touch.
func mergeSpans(s []Span) []Span {
	slices.SortFunc(s, func(a, b Span) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	out := s[:0]
	for _, sp := range s {
		if sp.End <= sp.Start {
			continue
		}
		if n := len(out); n > 0 && sp.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, sp.End)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// maxFacetValues is the number of values of each facet kept.
const maxFacetValues = 50

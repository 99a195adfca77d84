package index

import (
	"cmp"
	"context"
	"fmt"
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
}

// Result is what a search found.
type Result struct {
	Total  uint64
	Hits   []Hit
	Facets map[string][]FacetCount // keys "blog" (slugs), "lang", "year"
	Took   time.Duration
}

// Hit is one post that matched.
type Hit struct {
	ID    string
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
	switch {
	case r.Limit < 0:
		return nil, fmt.Errorf("limit must not be negative: %w", vplanet.ErrBadQuery)
	case r.Limit == 0:
		r.Limit = 10
	case r.Limit > 100:
		r.Limit = 100
	}
	if r.Offset < 0 || r.Offset > maxOffset {
		return nil, fmt.Errorf("offset must be between 0 and %d: %w", maxOffset, vplanet.ErrBadQuery)
	}
	var sortBy []string
	switch r.Sort {
	case "", "relevance":
		// Ties are broken by date within the page (see below): sorting
		// every hit by a second key costs Bleve a doc-value lookup per
		// hit, many times the search itself.
		sortBy = []string{"-_score"}
	case "date":
		sortBy = []string{"-published", "_id"}
	default:
		return nil, fmt.Errorf("sort must be relevance or date, not %q: %w", r.Sort, vplanet.ErrBadQuery)
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	p, err := parseQuery(r.Query)
	if err != nil {
		return nil, err
	}
	b := &builder{an: ix.an, gloss: ix.gloss, loc: loc}
	q, err := b.build(p)
	if err != nil {
		return nil, err
	}
	res := &Result{Hits: []Hit{}}
	if r.Facets {
		res.Facets = map[string][]FacetCount{"blog": {}, "lang": {}, "year": {}}
	}
	if q == nil {
		res.Took = time.Since(start)
		return res, nil
	}

	req := bleve.NewSearchRequestOptions(q, r.Limit, r.Offset, false)
	req.IncludeLocations = true
	req.SortBy(sortBy)
	if len(sortBy) == 1 {
		req.Fields = []string{"published"}
	}
	if r.Facets {
		req.AddFacet("blog", bleve.NewFacetRequest("blog", 50))
		req.AddFacet("lang", bleve.NewFacetRequest("lang", 10))
		req.AddFacet("year", bleve.NewFacetRequest("year", 50))
	}

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, errClosed
	}
	sr, err := ix.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", r.Query, err)
	}
	res.Total = sr.Total
	if len(sortBy) == 1 {
		// Among equal scores, newer first.
		slices.SortStableFunc(sr.Hits, func(a, b *search.DocumentMatch) int {
			if a.Score != b.Score {
				return cmp.Compare(b.Score, a.Score)
			}
			return published(b).Compare(published(a))
		})
	}
	for _, h := range sr.Hits {
		res.Hits = append(res.Hits, Hit{ID: h.ID, Score: h.Score, Spans: spans(h.Locations)})
	}
	for name, f := range sr.Facets {
		counts := []FacetCount{}
		for _, t := range f.Terms.Terms() {
			counts = append(counts, FacetCount{Value: t.Term, Count: t.Count})
		}
		if name == "year" {
			slices.SortStableFunc(counts, func(a, b FacetCount) int {
				switch {
				case a.Value > b.Value:
					return -1
				case a.Value < b.Value:
					return 1
				}
				return 0
			})
		}
		res.Facets[name] = counts
	}
	res.Took = time.Since(start)
	return res, nil
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

// published reads the stored date of a hit.
func published(h *search.DocumentMatch) time.Time {
	s, _ := h.Fields["published"].(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

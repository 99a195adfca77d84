package index

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// collectStock runs a plan the way Bleve runs any search: its own
// collector, sort and facets over whatever index it is. It is the way
// taken when the index has no segments for collect's shortcuts (it is not
// a scorch index), and the oracle that collect is tested against. It
// answers the same: the same hits in the same order (Bleve breaks ties in
// index order, as collect does), the same totals and facets. The caller
// holds ix.mu.
func (ix *Index) collectStock(ctx context.Context, pl plan) (*collected, error) {
	q := pl.q
	if pl.dated {
		q = &dateFilterQuery{q: q, dates: dateRange(pl.from, pl.to)}
	}
	size := max(pl.k-pl.offset, 0)
	req := bleve.NewSearchRequestOptions(q, size, pl.offset, false)
	if pl.byDate || len(pl.titles) == 0 {
		// Without title halves every post scores the same: by date, as
		// collect ranks them.
		req.SortBy([]string{"-date"})
	} else {
		req.SortBy([]string{"-_score", "-date"})
	}
	if pl.facets {
		// Every value, to keep the top ones as collect does.
		req.AddFacet("facet", bleve.NewFacetRequest("facet", math.MaxInt32))
	}
	sr, err := ix.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	locs, err := ix.locateStock(ctx, pl.q, sr.Hits)
	if err != nil {
		return nil, err
	}
	res := &collected{total: sr.Total, hits: make([]Hit, 0, len(sr.Hits))}
	for _, h := range sr.Hits {
		score := h.Score
		if pl.byDate || len(pl.titles) == 0 {
			score = 0 // ranked by date alone
		}
		res.hits = append(res.hits, Hit{ID: h.ID, Score: score, Spans: spans(locs[h.ID])})
	}
	if pl.facets {
		res.facets = stockFacets(sr.Facets["facet"])
	}
	return res, nil
}

// locateStock runs q again over the posts of hits alone, with term
// vectors, and returns where each matched, by post ID: match locations of
// every hit would cost more than the search.
func (ix *Index) locateStock(ctx context.Context, q query.Query, hits search.DocumentMatchCollection) (map[string]search.FieldTermLocationMap, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(q, bleve.NewDocIDQuery(ids)), len(ids), 0, false)
	req.IncludeLocations = true
	req.Score = "none"
	sr, err := ix.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(map[string]search.FieldTermLocationMap, len(sr.Hits))
	for _, h := range sr.Hits {
		out[h.ID] = h.Locations
	}
	return out, nil
}

// dateFilterQuery matches what q matches among the posts that dates
// matches, scored as q alone scores them. (A Bleve boolean query with a
// filter would score them as its must clause, but normalized once more,
// which changes the scores of a query that was not normalized.)
type dateFilterQuery struct {
	q, dates query.Query
}

func (f *dateFilterQuery) Searcher(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	s, err := f.q.Searcher(ctx, r, m, opts)
	if err != nil {
		return nil, err
	}
	ds, err := f.dates.Searcher(ctx, r, m, search.SearcherOptions{Score: "none"})
	if err != nil {
		s.Close()
		return nil, err
	}
	// The dates' searcher follows the hits, as Bleve's boolean filter
	// does it: it is only ever moved forward.
	var cur *search.DocumentMatch
	started := false
	accept := func(sctx *search.SearchContext, d *search.DocumentMatch) bool {
		var err error
		if !started {
			started = true
			if cur, err = ds.Next(sctx); err != nil {
				return false
			}
		}
		if cur != nil && cur.IndexInternalID.Compare(d.IndexInternalID) < 0 {
			sctx.DocumentMatchPool.Put(cur)
			if cur, err = ds.Advance(sctx, d.IndexInternalID); err != nil {
				cur = nil
			}
		}
		return cur != nil && cur.IndexInternalID.Equals(d.IndexInternalID)
	}
	return &closingSearcher{Searcher: searcher.NewFilteringSearcher(ctx, s, accept), also: ds}, nil
}

// closingSearcher closes another searcher with its own.
type closingSearcher struct {
	search.Searcher
	also search.Searcher
}

func (s *closingSearcher) Close() error {
	return errors.Join(s.Searcher.Close(), s.also.Close())
}

// DocumentMatchPoolSize makes room for the match the dates' searcher holds.
func (s *closingSearcher) DocumentMatchPoolSize() int {
	return s.Searcher.DocumentMatchPoolSize() + s.also.DocumentMatchPoolSize() + 1
}

// dateRange matches the posts dated in [from, to), Unix nanoseconds as
// unixNano gives them, by the date field's keys.
func dateRange(from, to int64) query.Query {
	key := func(ns int64) *string {
		if ns == math.MinInt64 || ns == math.MaxInt64 {
			return nil // open
		}
		s := time.Unix(0, ns).UTC().Format(dateKey)
		return &s
	}
	incl, excl := true, false
	q := bleve.NewTermRangeInclusiveQuery("", "", &incl, &excl)
	if k := key(from); k != nil {
		q.Min = *k
	}
	if k := key(to); k != nil {
		q.Max = *k
	}
	q.SetField("date")
	return q
}

// stockFacets turns Bleve's counts of the facet field's values
// ("blog:slug", "lang:ja", "year:2017") into a search's facets: of blogs
// and languages the maxFacetValues values with the most hits, most first
// (then by value), and of years the newest maxFacetValues, newest first.
func stockFacets(fr *search.FacetResult) map[string][]FacetCount {
	var blogs, langs []FacetCount
	years := map[int]int{}
	if fr != nil && fr.Terms != nil {
		for _, t := range fr.Terms.Terms() {
			name, value, _ := strings.Cut(t.Term, ":")
			switch name {
			case "blog":
				blogs = append(blogs, FacetCount{Value: value, Count: t.Count})
			case "lang":
				langs = append(langs, FacetCount{Value: value, Count: t.Count})
			case "year":
				y, _ := strconv.Atoi(value)
				years[y] += t.Count
			}
		}
	}
	top := func(fc []FacetCount) []FacetCount {
		values, counts := make([]string, len(fc)), make([]int, len(fc))
		for i, c := range fc {
			values[i], counts[i] = c.Value, c.Count
		}
		return topValues(values, counts)
	}
	yc := &facetCounter{}
	for y, n := range years {
		if i := y - 1900; i >= 0 && i < len(yc.years) {
			yc.years[i] += n
		} else {
			if yc.otherYears == nil {
				yc.otherYears = map[uint16]int{}
			}
			yc.otherYears[uint16(max(0, min(y, math.MaxUint16)))] += n
		}
	}
	return map[string][]FacetCount{"blog": top(blogs), "lang": top(langs), "year": yc.newestYears()}
}

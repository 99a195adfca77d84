package index

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
)

// A search visits every hit to count it, rank it and count its facets, but
// returns only one page. collect does that visit with as little per hit as
// it can: the searcher scores without match locations, the date and facet
// values come from the snapshot's columns, and the best hits are kept in a
// heap of plain values. Only the page's hits are then looked up again, by
// document number, for their IDs and the locations that highlighting needs.

// checkDoneEvery is how many hits pass between looks at the context.
const checkDoneEvery = 1024

// ranked is a hit as the ranking sees it.
type ranked struct {
	score float64
	date  int64 // Unix nanoseconds
	num   uint64
}

// before reports whether a ranks before b: by score, then newer first (by
// date alone when byDate), then in index order.
func before(a, b ranked, byDate bool) bool {
	if !byDate && a.score != b.score {
		return a.score > b.score
	}
	if a.date != b.date {
		return a.date > b.date
	}
	return a.num < b.num
}

// topK keeps the k best hits offered, the worst of them at the root.
type topK struct {
	h      []ranked
	k      int
	byDate bool
}

func (t *topK) offer(r ranked) {
	if len(t.h) < t.k {
		t.h = append(t.h, r)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !before(t.h[p], t.h[i], t.byDate) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if !before(r, t.h[0], t.byDate) {
		return
	}
	t.h[0] = r
	for i := 0; ; {
		worst, l, rt := i, 2*i+1, 2*i+2
		if l < len(t.h) && before(t.h[worst], t.h[l], t.byDate) {
			worst = l
		}
		if rt < len(t.h) && before(t.h[worst], t.h[rt], t.byDate) {
			worst = rt
		}
		if worst == i {
			return
		}
		t.h[i], t.h[worst] = t.h[worst], t.h[i]
		i = worst
	}
}

// sorted returns the hits kept, best first.
func (t *topK) sorted() []ranked {
	slices.SortFunc(t.h, func(a, b ranked) int {
		if before(a, b, t.byDate) {
			return -1
		}
		return 1
	})
	return t.h
}

// facetCounter counts the facet values of hits.
type facetCounter struct {
	blogs, langs []int
	years        [256]int // 1900..2155
	otherYears   map[uint16]int
}

func (f *facetCounter) add(c *segColumns, i uint64) {
	f.blogs[c.blog[i]]++
	f.langs[c.lang[i]]++
	if y := int(c.year[i]) - 1900; y >= 0 && y < len(f.years) {
		f.years[y]++
	} else {
		if f.otherYears == nil {
			f.otherYears = map[uint16]int{}
		}
		f.otherYears[c.year[i]]++
	}
}

func (f *facetCounter) result(cols *snapColumns) map[string][]FacetCount {
	out := map[string][]FacetCount{"blog": {}, "lang": {}, "year": {}}
	add := func(name, value string, n int) {
		if n > 0 && value != "" {
			out[name] = append(out[name], FacetCount{Value: value, Count: n})
		}
	}
	for i, n := range f.blogs {
		add("blog", cols.blogs[i], n)
	}
	for i, n := range f.langs {
		add("lang", cols.langs[i], n)
	}
	for i, n := range f.years {
		add("year", strconv.Itoa(1900+i), n)
	}
	for y, n := range f.otherYears {
		if y != 0 {
			add("year", strconv.Itoa(int(y)), n)
		}
	}
	sortFacets(out)
	return out
}

// collected is what collect found.
type collected struct {
	total  uint64
	hits   []Hit
	facets map[string][]FacetCount // nil unless asked for
}

// plan is a search as collect runs it.
type plan struct {
	q         query.Query
	offset, k int  // the page is the hits from offset to k, in rank order
	byDate    bool // rank by date alone
	facets    bool // count facets
	// from and to bound the dates of hits, [from, to), in Unix
	// nanoseconds; dated says whether they apply.
	dated    bool
	from, to int64
}

// collect runs a plan on a snapshot of the index. The caller holds ix.mu.
func (ix *Index) collect(ctx context.Context, pl plan) (*collected, error) {
	ai, err := ix.bi.Advanced()
	if err != nil {
		return nil, err
	}
	reader, err := ai.Reader()
	if err != nil {
		return nil, err
	}
	defer reader.Close()
	snap, ok := reader.(*scorch.IndexSnapshot)
	if !ok {
		return nil, errors.New("index: not a scorch index")
	}
	cols, err := ix.cols.forSnapshot(snap)
	if err != nil {
		return nil, err
	}

	s, err := pl.q.Searcher(ctx, reader, ix.bi.Mapping(), search.SearcherOptions{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sctx := &search.SearchContext{
		DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize()+1, 0),
		IndexReader:       reader,
	}
	top := &topK{h: make([]ranked, 0, min(pl.k, 1024)), k: pl.k, byDate: pl.byDate}
	var fc *facetCounter
	if pl.facets {
		fc = &facetCounter{blogs: make([]int, len(cols.blogs)), langs: make([]int, len(cols.langs))}
	}
	res := &collected{}
	seg := 0
	for {
		if res.total%checkDoneEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, err
		}
		if dm == nil {
			break
		}
		num := dm.IndexInternalID.Value()
		var local uint64
		seg, local = cols.at(num, seg)
		c := cols.segs[seg]
		if d := c.date[local]; pl.dated && (d < pl.from || d >= pl.to) {
			sctx.DocumentMatchPool.Put(dm)
			continue
		}
		res.total++
		if fc != nil {
			fc.add(c, local)
		}
		top.offer(ranked{score: dm.Score, date: c.date[local], num: num})
		sctx.DocumentMatchPool.Put(dm)
	}
	if fc != nil {
		res.facets = fc.result(cols)
	}

	best := top.sorted()
	page := best[min(pl.offset, len(best)):]
	if len(page) == 0 {
		res.hits = []Hit{}
		return res, nil
	}
	locs, err := ix.locate(ctx, reader, pl.q, page)
	if err != nil {
		return nil, err
	}
	res.hits = make([]Hit, 0, len(page))
	for _, r := range page {
		id, err := reader.ExternalID(bindex.NewIndexInternalID(nil, r.num))
		if err != nil {
			return nil, err
		}
		res.hits = append(res.hits, Hit{ID: id, Score: r.score, Spans: spans(locs[r.num])})
	}
	return res, nil
}

// locate runs q again over the documents of page alone, with term vectors,
// and returns where each matched.
func (ix *Index) locate(ctx context.Context, reader bindex.IndexReader, q query.Query, page []ranked) (map[uint64]search.FieldTermLocationMap, error) {
	s, err := q.Searcher(ctx, reader, ix.bi.Mapping(), search.SearcherOptions{IncludeTermVectors: true})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sctx := &search.SearchContext{
		DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize()+len(page), 0),
		IndexReader:       reader,
	}
	nums := make([]uint64, len(page))
	for i, r := range page {
		nums[i] = r.num
	}
	slices.Sort(nums)
	out := make(map[uint64]search.FieldTermLocationMap, len(page))
	for _, n := range nums {
		dm, err := s.Advance(sctx, bindex.NewIndexInternalID(nil, n))
		if err != nil {
			return nil, err
		}
		if dm == nil {
			break
		}
		if dm.IndexInternalID.Value() == n {
			dm.Complete(nil)
			out[n] = dm.Locations
		}
	}
	return out, nil
}

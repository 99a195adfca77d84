package index

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
)

// A search counts every hit and its facets and ranks them, but returns only
// one page. collect does that with as little per hit as it can: hits are
// counted from postings bitmaps where it can, the date and facet values
// come from the snapshot's columns, searchers score without match
// locations, only the hits that can reach the page are scored when that is
// known, and the best are kept in a heap of plain values. Only the page's
// hits are then looked up again, by document number, for their IDs and the
// locations that highlighting needs.

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

func newFacetCounter(cols *snapColumns) *facetCounter {
	return &facetCounter{blogs: make([]int, len(cols.blogs)), langs: make([]int, len(cols.langs))}
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

// result returns the counts: of blogs and languages the maxFacetValues
// values with the most hits, most first (then by value), and of years the
// newest maxFacetValues, newest first.
func (f *facetCounter) result(cols *snapColumns) map[string][]FacetCount {
	return map[string][]FacetCount{
		"blog": topValues(cols.blogs, f.blogs),
		"lang": topValues(cols.langs, f.langs),
		"year": f.newestYears(),
	}
}

// topValues returns the maxFacetValues values with the most hits, most
// first, then by value; counts[i] is the hits of values[i]. A common word
// has hits in every blog, so the best are kept in a sorted slice that a
// value must beat to enter, instead of sorting them all.
func topValues(values []string, counts []int) []FacetCount {
	top := make([]FacetCount, 0, min(len(values), maxFacetValues))
	for i, n := range counts {
		if n == 0 || values[i] == "" {
			continue
		}
		c := FacetCount{Value: values[i], Count: n}
		if len(top) == maxFacetValues && !facetBefore(c, top[len(top)-1]) {
			continue
		}
		at, _ := slices.BinarySearchFunc(top, c, func(a, b FacetCount) int {
			if facetBefore(a, b) {
				return -1
			}
			return 1
		})
		if len(top) == maxFacetValues {
			top = top[:len(top)-1]
		}
		top = slices.Insert(top, at, c)
	}
	return top
}

// facetBefore reports whether a lists before b: more hits, then by value.
func facetBefore(a, b FacetCount) bool {
	if a.Count != b.Count {
		return a.Count > b.Count
	}
	return a.Value < b.Value
}

// newestYears returns the counts of the newest maxFacetValues years with
// hits, newest first.
func (f *facetCounter) newestYears() []FacetCount {
	out := []FacetCount{}
	add := func(y, n int) {
		if n > 0 && len(out) < maxFacetValues {
			out = append(out, FacetCount{Value: strconv.Itoa(y), Count: n})
		}
	}
	others := slices.Sorted(maps.Keys(f.otherYears))
	slices.Reverse(others)
	for _, y := range others {
		if int(y) >= 1900+len(f.years) {
			add(int(y), f.otherYears[y])
		}
	}
	for i := len(f.years) - 1; i >= 0; i-- {
		add(1900+i, f.years[i])
	}
	for _, y := range others {
		if y != 0 && int(y) < 1900 {
			add(int(y), f.otherYears[y])
		}
	}
	return out
}

// The ways through collect, as collected.way names them.
const (
	wayByDate = "bitmaps-by-date" // counted and ranked from bitmaps and dates
	wayTitles = "bitmaps-titles"  // counted from bitmaps, ranked from title matches
	wayAll    = "score-all"       // every hit scored
	wayStock  = "stock"           // Bleve's own collector: the index has no segments
)

// collected is what collect found.
type collected struct {
	way    string // see wayByDate and the others
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
	// titles are the title halves of the query's positive words, and no
	// post without a match in one of them scores bound or more. Without
	// titles every post scores the same and ranks by date.
	titles []query.Query
	bound  float64
	// widens says that a lenient plan of the same request differs.
	widens bool
	// gramsUsed says that the plan requires a piece's pairs of characters.
	gramsUsed bool
}

// collect runs a plan on a snapshot of the index. The caller holds ix.mu.
//
// It counts the hits (and their facets) from the postings bitmaps when
// every part of the query has them (see matchBits). Ranking by date needs
// nothing more. Ranking by relevance first scores the posts with a query
// word in their title, which are few: when k of them score bound or more,
// no other post can reach the page. Otherwise every hit is scored. An
// index without segments is searched as Bleve searches any index.
func (ix *Index) collect(ctx context.Context, pl plan) (*collected, error) {
	snap, err := openSegments(ix.bi)
	var cols *snapColumns
	if err == nil {
		defer snap.Close()
		cols, err = ix.cols.forSnapshot(snap)
	}
	if errors.Is(err, errNoSegments) {
		c, err := ix.collectStock(ctx, pl)
		if c != nil {
			c.way = wayStock
		}
		return c, err
	}
	if err != nil {
		return nil, err
	}
	res := &collected{}
	top := &topK{h: make([]ranked, 0, min(pl.k, 1024)), k: pl.k, byDate: pl.byDate || len(pl.titles) == 0}
	counted, err := countBits(ctx, snap, cols, pl, res, top)
	if err != nil {
		return nil, err
	}
	done := false // top holds the page
	switch {
	case !counted:
	case top.byDate:
		done, res.way = true, wayByDate
	default:
		pl.facets = false // counted
		if done, err = ix.rankTitles(ctx, snap, cols, pl, top); err != nil {
			return nil, err
		}
		if done {
			res.way = wayTitles
		} else {
			top.h = top.h[:0]
		}
	}
	if !done {
		res.way = wayAll
		if err := ix.scoreAll(ctx, snap, cols, pl, res, top); err != nil {
			return nil, err
		}
	}

	best := top.sorted()
	if top.byDate {
		// Ranked by date alone: scores, where there were any, played no
		// part.
		for i := range best {
			best[i].score = 0
		}
	}
	page := best[min(pl.offset, len(best)):]
	if len(page) == 0 {
		res.hits = []Hit{}
		return res, nil
	}
	locs, err := ix.locate(ctx, snap.reader(), pl.q, page)
	if err != nil {
		return nil, err
	}
	res.hits = make([]Hit, 0, len(page))
	for _, r := range page {
		id, err := snap.externalID(r.num)
		if err != nil {
			return nil, err
		}
		res.hits = append(res.hits, Hit{ID: id, Score: r.score, Spans: spans(locs[r.num])})
	}
	return res, nil
}

// inRange reports whether a hit's date passes the plan's date filter.
func (pl *plan) inRange(date int64) bool {
	return !pl.dated || (date >= pl.from && date < pl.to)
}

// countBits counts the hits of pl and their facets, and offers them to top
// by date when top ranks by date, from the postings bitmaps of each
// segment. It reports false, having done nothing, when a part of the query
// has no bitmaps.
func countBits(ctx context.Context, snap *segments, cols *snapColumns, pl plan, res *collected, top *topK) (bool, error) {
	bms := make([]*roaring.Bitmap, len(snap.list))
	for i := range snap.list {
		bm, err := matchBits(pl.q, &snap.list[i])
		if errors.Is(err, errNoBits) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		bms[i] = bm
	}
	var fc *facetCounter
	if pl.facets {
		fc = newFacetCounter(cols)
	}
	for i, bm := range bms {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		c, base := cols.segs[i], snap.list[i].base
		it := bm.Iterator()
		for it.HasNext() {
			local := uint64(it.Next())
			if !pl.inRange(c.date[local]) {
				continue
			}
			res.total++
			if fc != nil {
				fc.add(c, local)
			}
			if top.byDate {
				top.offer(ranked{date: c.date[local], num: base + local})
			}
		}
	}
	if fc != nil {
		res.facets = fc.result(cols)
	}
	return true, nil
}

// rankTitles offers top the hits that have a query word in their title,
// scored as scoreAll would, by moving the query's searcher to each post
// whose title has one of the words. It reports whether that settles the
// page: top is full and its last hit scores bound or more, which no other
// post reaches.
func (ix *Index) rankTitles(ctx context.Context, snap *segments, cols *snapColumns, pl plan, top *topK) (bool, error) {
	// Candidates: the posts whose title matches one of the words.
	var cands []*roaring.Bitmap
	var n uint64
	for i := range snap.list {
		bm, err := orBits(pl.titles, &snap.list[i])
		if errors.Is(err, errNoBits) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		cands = append(cands, bm)
		n += bm.GetCardinality()
	}
	if n < uint64(pl.k) {
		return false, nil // too few to fill the page: not worth a searcher
	}
	s, sctx, err := ix.searcher(ctx, snap.reader(), pl.q, false, 1)
	if err != nil {
		return false, err
	}
	defer s.Close()
	id := internalID(0)
	var last uint64 // the next global number not yet visited
	visited := 0
	for i, bm := range cands {
		base := snap.list[i].base
		it := bm.Iterator()
		for it.HasNext() {
			local := uint64(it.Next())
			num := base + local
			if num < last || !pl.inRange(cols.segs[i].date[local]) {
				continue // visited on the way to an earlier one, or filtered
			}
			if visited++; visited%checkDoneEvery == 0 {
				if err := ctx.Err(); err != nil {
					return false, err
				}
			}
			id.SetValue(num)
			dm, err := s.Advance(sctx, id)
			if err != nil {
				return false, err
			}
			if dm == nil {
				return top.settled(pl.bound), nil
			}
			got := docNum(dm.IndexInternalID)
			last = got + 1
			seg, local := snap.at(got, i)
			if d := cols.segs[seg].date[local]; pl.inRange(d) {
				top.offer(ranked{score: dm.Score, date: d, num: got})
			}
			sctx.DocumentMatchPool.Put(dm)
		}
	}
	return top.settled(pl.bound), nil
}

// settled reports whether top is full with hits scoring bound or more.
func (t *topK) settled(bound float64) bool {
	return len(t.h) == t.k && t.h[0].score >= bound
}

// scoreAll scores every hit of pl, counting them and their facets, and
// offers them to top.
func (ix *Index) scoreAll(ctx context.Context, snap *segments, cols *snapColumns, pl plan, res *collected, top *topK) error {
	s, sctx, err := ix.searcher(ctx, snap.reader(), pl.q, false, 1)
	if err != nil {
		return err
	}
	defer s.Close()
	var fc *facetCounter
	if pl.facets {
		fc = newFacetCounter(cols)
	}
	res.total = 0
	seg := 0
	for n := 0; ; n++ {
		if n%checkDoneEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return err
		}
		if dm == nil {
			break
		}
		num := docNum(dm.IndexInternalID)
		var local uint64
		seg, local = snap.at(num, seg)
		c := cols.segs[seg]
		if d := c.date[local]; pl.inRange(d) {
			res.total++
			if fc != nil {
				fc.add(c, local)
			}
			top.offer(ranked{score: dm.Score, date: d, num: num})
		}
		sctx.DocumentMatchPool.Put(dm)
	}
	if fc != nil {
		res.facets = fc.result(cols)
	}
	return nil
}

// locate runs q again over the documents of page alone, with term vectors,
// and returns where each matched.
func (ix *Index) locate(ctx context.Context, reader bindex.IndexReader, q query.Query, page []ranked) (map[uint64]search.FieldTermLocationMap, error) {
	s, sctx, err := ix.searcher(ctx, reader, q, true, len(page))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	nums := make([]uint64, len(page))
	for i, r := range page {
		nums[i] = r.num
	}
	slices.Sort(nums)
	out := make(map[uint64]search.FieldTermLocationMap, len(page))
	for _, n := range nums {
		dm, err := s.Advance(sctx, internalID(n))
		if err != nil {
			return nil, err
		}
		if dm == nil {
			break
		}
		if docNum(dm.IndexInternalID) == n {
			dm.Complete(nil)
			out[n] = dm.Locations
		}
	}
	return out, nil
}

// searcher returns q's searcher on reader, with match locations when
// locations is set, and a context whose pool also holds held matches the
// caller keeps.
func (ix *Index) searcher(ctx context.Context, reader bindex.IndexReader, q query.Query, locations bool, held int) (search.Searcher, *search.SearchContext, error) {
	s, err := q.Searcher(ctx, reader, ix.bi.Mapping(), search.SearcherOptions{IncludeTermVectors: locations})
	if err != nil {
		return nil, nil, err
	}
	return s, &search.SearchContext{
		DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize()+held, 0),
		IndexReader:       reader,
	}, nil
}

package index

import (
	"context"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Bleve scores by tf-idf, and adds up the scores of a disjunction's
// matching parts. Two rules of vplanet's relevance need more than that: a
// title hit outranks a body hit, and the spellings of one glossary term are
// one word. tierQuery and disMaxQuery provide them.

// tierQuery puts its query's scores into a tier: the tf-idf score s becomes
// base + s/(1+s), which keeps the order within the tier and never reaches
// the next one. With the title in tier 1 and the body in tier 0, a title hit
// outranks any body hit however often, or with however rare a spelling, the
// body repeats the word.
type tierQuery struct {
	q    query.Query
	base float64
}

// Searcher wraps the query's searcher.
func (q *tierQuery) Searcher(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	s, err := q.q.Searcher(ctx, r, m, opts)
	if err != nil {
		return nil, err
	}
	return &tierSearcher{Searcher: s, base: q.base}, nil
}

type tierSearcher struct {
	search.Searcher
	base float64
}

func (s *tierSearcher) tier(d *search.DocumentMatch) *search.DocumentMatch {
	if d != nil {
		d.Score = s.base + d.Score/(1+d.Score)
	}
	return d
}

func (s *tierSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	d, err := s.Searcher.Next(ctx)
	return s.tier(d), err
}

func (s *tierSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	d, err := s.Searcher.Advance(ctx, id)
	return s.tier(d), err
}

// disMaxQuery matches what any of its alternatives matches and scores a
// post by its best alternative alone. Bleve's disjunction adds the scores
// of every alternative that matches and multiplies by the share that
// matched, so that a body spelling a glossary term two ways ("vCenter HA
// (VCHA)") would outrank a title that spells it once; the spellings of one
// query word are one word, and only the best counts. The match locations of
// every alternative are kept, for highlighting.
type disMaxQuery struct {
	alts []query.Query
}

// newDisMax returns a query matching any of alts, scored by the best; one
// alternative is returned as it is.
func newDisMax(alts ...query.Query) query.Query {
	if len(alts) == 1 {
		return alts[0]
	}
	return &disMaxQuery{alts: alts}
}

// Searcher builds the alternatives' searchers and merges them.
func (q *disMaxQuery) Searcher(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	s := &disMaxSearcher{}
	for _, alt := range q.alts {
		as, err := alt.Searcher(ctx, r, m, opts)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.children = append(s.children, as)
	}
	s.currs = make([]*search.DocumentMatch, len(s.children))
	return s, nil
}

// disMaxSearcher walks its children in step, by internal document ID, like
// Bleve's disjunction searcher, but keeps the best child's score.
type disMaxSearcher struct {
	children []search.Searcher
	currs    []*search.DocumentMatch // each child's current match; nil when done
	started  bool
}

func (s *disMaxSearcher) start(ctx *search.SearchContext) error {
	s.started = true
	for i, c := range s.children {
		d, err := c.Next(ctx)
		if err != nil {
			return err
		}
		s.currs[i] = d
	}
	return nil
}

// Next returns the next document any child matches.
func (s *disMaxSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if !s.started {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
	}
	var low bindex.IndexInternalID
	for _, d := range s.currs {
		if d != nil && (low == nil || d.IndexInternalID.Compare(low) < 0) {
			low = d.IndexInternalID
		}
	}
	if low == nil {
		return nil, nil
	}
	// The best match at this document becomes the result; the others give
	// it their locations and go back to the pool.
	var best *search.DocumentMatch
	var rest []*search.DocumentMatch
	var at []int
	for i, d := range s.currs {
		if d == nil || !d.IndexInternalID.Equals(low) {
			continue
		}
		at = append(at, i)
		if best == nil || d.Score > best.Score {
			if best != nil {
				rest = append(rest, best)
			}
			best = d
		} else {
			rest = append(rest, d)
		}
	}
	best.FieldTermLocations = search.MergeFieldTermLocations(best.FieldTermLocations, rest)
	for _, d := range rest {
		ctx.DocumentMatchPool.Put(d)
	}
	for _, i := range at {
		d, err := s.children[i].Next(ctx)
		if err != nil {
			return nil, err
		}
		s.currs[i] = d
	}
	return best, nil
}

// Advance moves to the first match at or after id.
func (s *disMaxSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	if !s.started {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
	}
	for i, c := range s.children {
		d := s.currs[i]
		if d == nil || d.IndexInternalID.Compare(id) >= 0 {
			continue
		}
		ctx.DocumentMatchPool.Put(d)
		d, err := c.Advance(ctx, id)
		if err != nil {
			return nil, err
		}
		s.currs[i] = d
	}
	return s.Next(ctx)
}

func (s *disMaxSearcher) Close() error {
	var first error
	for _, c := range s.children {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Weight is the children's, as for a disjunction, so that the query norm
// comes out the same.
func (s *disMaxSearcher) Weight() float64 {
	var w float64
	for _, c := range s.children {
		w += c.Weight()
	}
	return w
}

func (s *disMaxSearcher) SetQueryNorm(n float64) {
	for _, c := range s.children {
		c.SetQueryNorm(n)
	}
}

func (s *disMaxSearcher) Count() uint64 {
	var n uint64
	for _, c := range s.children {
		n += c.Count()
	}
	return n
}

func (s *disMaxSearcher) Min() int { return 0 }

func (s *disMaxSearcher) Size() int {
	n := 64
	for _, c := range s.children {
		n += c.Size()
	}
	return n
}

func (s *disMaxSearcher) DocumentMatchPoolSize() int {
	n := len(s.children)
	for _, c := range s.children {
		n += c.DocumentMatchPoolSize()
	}
	return n
}

// filterQuery matches what its query matches with a score of zero: blog:
// and lang: narrow a search without ranking one blog or language above
// another, and a post's score comes from its words alone, which the search
// relies on to bound the score of a post without title matches. Excluded
// words are filters too: only whether a post has them counts.
type filterQuery struct {
	q query.Query
}

// Searcher wraps the query's searcher, built without scores or term
// vectors. Without term frequencies and norms to keep in step, moving a
// filter's searcher to a post jumps there in its postings bitmap, where
// it would step through every post before it: lang:ja has most posts.
func (q *filterQuery) Searcher(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	opts.Score, opts.IncludeTermVectors, opts.Explain = "none", false, false
	s, err := q.q.Searcher(ctx, r, m, opts)
	if err != nil {
		return nil, err
	}
	return &filterSearcher{Searcher: s}, nil
}

type filterSearcher struct {
	search.Searcher
}

func (s *filterSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	d, err := s.Searcher.Next(ctx)
	if d != nil {
		d.Score = 0
	}
	return d, err
}

func (s *filterSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	d, err := s.Searcher.Advance(ctx, id)
	if d != nil {
		d.Score = 0
	}
	return d, err
}

// Weight is zero, so that a filter leaves the query norm, and with it the
// scores of the words, as they would be without it.
func (s *filterSearcher) Weight() float64 { return 0 }

func (s *filterSearcher) SetQueryNorm(float64) {}

package index

import (
	"context"
	"math"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// phraseQuery matches words at consecutive positions of one field, like
// Bleve's MultiPhraseQuery: terms holds the alternatives at each position,
// and a position without any ("" or none) is a word that is not indexed,
// which any word fills. Japanese turns many single query words into
// phrases (プラグイン is プラグ and イン), so phrases are as common as terms
// and often have tens of thousands of candidates. Bleve checks each
// candidate by building maps of every match location and walking them
// recursively; phraseSearcher checks the same positions from a sorted list,
// at less cost, and scores and highlights the same way
// (TestPhraseMatchesBleve compares the two).
type phraseQuery struct {
	field string
	terms [][]string
	// cache, when set, keeps the phrase's posts per segment (see
	// phrasebits.go): searches that need no positions score from there.
	cache *segmentCache
}

// phraseSlot is one indexed position of a phrase.
type phraseSlot struct {
	off   uint64   // position after the phrase's first indexed word
	terms []string // alternatives
}

// slots returns the indexed positions of the phrase; leading gaps
// constrain nothing, as in Bleve.
func (q *phraseQuery) slots() []phraseSlot {
	var slots []phraseSlot
	first := -1
	for i, alts := range q.terms {
		var terms []string
		for _, t := range alts {
			if t != "" {
				terms = append(terms, t)
			}
		}
		if len(terms) == 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		slots = append(slots, phraseSlot{off: uint64(i - first), terms: terms})
	}
	return slots
}

// Searcher builds a conjunction of the positions' terms: with term vectors
// to check positions, or, when the search needs no positions and the
// phrase's posts are known per segment, without, moved to those posts.
func (q *phraseQuery) Searcher(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	slots := q.slots()
	if len(slots) == 0 {
		return searcher.NewMatchNoneSearcher(r)
	}
	snap, isSnap := readerSegments(r)
	bits := !opts.IncludeTermVectors && q.cache != nil && isSnap
	opts.IncludeTermVectors = !bits
	var kids []search.Searcher
	for _, sl := range slots {
		kid, err := slotSearcher(ctx, r, q.field, sl.terms, opts)
		if err != nil {
			closeAll(kids)
			return nil, err
		}
		kids = append(kids, kid)
	}
	if bits {
		s, err := q.bitsSearcher(ctx, &snap, opts, slots, kids)
		if err != nil {
			closeAll(kids)
			return nil, err
		}
		s.SetQueryNorm(1 / math.Sqrt(s.Weight()))
		return s, nil
	}
	conj, err := searcher.NewConjunctionSearcher(ctx, r, kids, opts)
	if err != nil {
		closeAll(kids)
		return nil, err
	}
	s := &phraseSearcher{conj: conj, slots: slots}
	s.SetQueryNorm(1 / math.Sqrt(conj.Weight()))
	return s, nil
}

// slotSearcher returns the searcher of one position of a phrase: its
// term's, or the disjunction of its alternatives'.
func slotSearcher(ctx context.Context, r bindex.IndexReader, field string, terms []string, opts search.SearcherOptions) (search.Searcher, error) {
	var ts []search.Searcher
	for _, t := range terms {
		s, err := searcher.NewTermSearcher(ctx, r, t, field, 1, opts)
		if err != nil {
			closeAll(ts)
			return nil, err
		}
		ts = append(ts, s)
	}
	if len(ts) == 1 {
		return ts[0], nil
	}
	d, err := searcher.NewDisjunctionSearcher(ctx, r, ts, 1, opts)
	if err != nil {
		closeAll(ts)
		return nil, err
	}
	return d, nil
}

func closeAll(ss []search.Searcher) {
	for _, s := range ss {
		s.Close()
	}
}

// phraseSearcher passes on the candidates of its conjunction whose match
// locations hold every slot at consecutive positions, with the locations
// of those occurrences alone.
type phraseSearcher struct {
	conj   search.Searcher
	slots  []phraseSlot
	starts []phraseStart // reused
}

// phraseStart says that slot could begin a phrase at start.
type phraseStart struct {
	start uint64
	slot  int
}

func (s *phraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	for {
		dm, err := s.conj.Next(ctx)
		if dm == nil || err != nil {
			return nil, err
		}
		if s.check(dm) {
			return dm, nil
		}
		ctx.DocumentMatchPool.Put(dm)
	}
}

func (s *phraseSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	dm, err := s.conj.Advance(ctx, id)
	if dm == nil || err != nil {
		return nil, err
	}
	if s.check(dm) {
		return dm, nil
	}
	ctx.DocumentMatchPool.Put(dm)
	return s.Next(ctx)
}

// check reports whether dm's locations hold the phrase, and keeps only
// the locations of its occurrences.
func (s *phraseSearcher) check(dm *search.DocumentMatch) bool {
	// Every location proposes the start of a phrase for each slot its
	// term fills; a start proposed by every slot is an occurrence.
	s.starts = s.starts[:0]
	for _, l := range dm.FieldTermLocations {
		for i, sl := range s.slots {
			if l.Location.Pos >= sl.off && slices.Contains(sl.terms, l.Term) {
				s.starts = append(s.starts, phraseStart{start: l.Location.Pos - sl.off, slot: i})
			}
		}
	}
	found := phraseStarts(s.starts, len(s.slots))
	if len(found) == 0 {
		return false
	}
	kept := dm.FieldTermLocations[:0]
	for _, l := range dm.FieldTermLocations {
		for _, sl := range s.slots {
			if l.Location.Pos >= sl.off && slices.Contains(sl.terms, l.Term) {
				if _, ok := slices.BinarySearch(found, l.Location.Pos-sl.off); ok {
					kept = append(kept, l)
					break
				}
			}
		}
	}
	dm.FieldTermLocations = kept
	return true
}

func (s *phraseSearcher) Close() error               { return s.conj.Close() }
func (s *phraseSearcher) Weight() float64            { return s.conj.Weight() }
func (s *phraseSearcher) SetQueryNorm(n float64)     { s.conj.SetQueryNorm(n) }
func (s *phraseSearcher) Count() uint64              { return s.conj.Count() }
func (s *phraseSearcher) Min() int                   { return 0 }
func (s *phraseSearcher) Size() int                  { return s.conj.Size() }
func (s *phraseSearcher) DocumentMatchPoolSize() int { return s.conj.DocumentMatchPoolSize() }

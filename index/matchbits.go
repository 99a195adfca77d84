package index

import (
	"errors"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Counting the hits of a query and their facets needs to know which posts
// match, not how well. For queries of words, filters and their
// combinations, matchBits answers that with the postings bitmaps of each
// segment, combined by roaring's set operations, at a small part of the
// cost of walking Bleve's searchers hit by hit. A phrase's posts come from
// the cache of phrasebits.go.

// errNoBits says that a query needs positions to match.
var errNoBits = errors.New("index: query needs positions")

// matchBits returns the live documents of seg that q matches, by their
// numbers in the segment; the bitmap may be shared with the segment and
// must not be changed.
func matchBits(q query.Query, seg *segmentView) (*roaring.Bitmap, error) {
	switch q := q.(type) {
	case *query.TermQuery:
		return seg.termBits(q.FieldVal, q.Term)
	case *tierQuery:
		return matchBits(q.q, seg)
	case *filterQuery:
		return matchBits(q.q, seg)
	case *disMaxQuery:
		return orBits(q.alts, seg)
	case *query.DisjunctionQuery:
		if q.Min > 1 {
			return nil, errNoBits
		}
		return orBits(q.Disjuncts, seg)
	case *query.ConjunctionQuery:
		return andBits(q.Conjuncts, seg)
	case *query.BooleanQuery:
		if q.Should != nil || q.Filter != nil {
			return nil, errNoBits
		}
		var must *roaring.Bitmap
		var err error
		if q.Must != nil {
			if must, err = matchBits(q.Must, seg); err != nil {
				return nil, err
			}
		} else {
			must = seg.all()
		}
		if q.MustNot == nil {
			return must, nil
		}
		not, err := matchBits(q.MustNot, seg)
		if err != nil {
			return nil, err
		}
		return roaring.AndNot(must, not), nil
	case *query.MatchAllQuery:
		return seg.all(), nil
	case *query.MatchNoneQuery:
		return roaring.New(), nil
	case *phraseQuery:
		if q.cache == nil {
			return nil, errNoBits
		}
		slots := q.slots()
		if len(slots) == 0 {
			return roaring.New(), nil
		}
		return q.cache.phraseBits(seg, q.field, slots)
	}
	return nil, errNoBits
}

func orBits(qs []query.Query, seg *segmentView) (*roaring.Bitmap, error) {
	return combineBits(qs, seg, roaring.FastOr)
}

func andBits(qs []query.Query, seg *segmentView) (*roaring.Bitmap, error) {
	if len(qs) == 0 {
		return seg.all(), nil
	}
	return combineBits(qs, seg, roaring.FastAnd)
}

// combineBits combines the bitmaps of qs with op; one bitmap is returned
// as it is, not copied.
func combineBits(qs []query.Query, seg *segmentView, op func(...*roaring.Bitmap) *roaring.Bitmap) (*roaring.Bitmap, error) {
	bms := make([]*roaring.Bitmap, 0, len(qs))
	for _, q := range qs {
		bm, err := matchBits(q, seg)
		if err != nil {
			return nil, err
		}
		bms = append(bms, bm)
	}
	if len(bms) == 1 {
		return bms[0], nil
	}
	return op(bms...), nil
}

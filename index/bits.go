package index

import (
	"errors"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Counting the hits of a query and their facets needs to know which posts
// match, not how well. For queries of words, filters and their
// combinations, matchBits answers that with the postings bitmaps of each
// segment, combined by roaring's set operations, at a small part of the
// cost of walking Bleve's searchers hit by hit. A phrase's posts come from
// the cache of phrasebits.go.

// errNoBits says that a query needs positions to match.
var errNoBits = errors.New("index: query needs positions")

// matchBits returns the live documents of ss that q matches, by their
// numbers in the segment; the bitmap may be shared with the segment and
// must not be changed.
func matchBits(q query.Query, ss *scorch.SegmentSnapshot) (*roaring.Bitmap, error) {
	switch q := q.(type) {
	case *query.TermQuery:
		return termBits(ss, q.FieldVal, q.Term)
	case *tierQuery:
		return matchBits(q.q, ss)
	case *filterQuery:
		return matchBits(q.q, ss)
	case *disMaxQuery:
		return orBits(q.alts, ss)
	case *query.DisjunctionQuery:
		if q.Min > 1 {
			return nil, errNoBits
		}
		return orBits(q.Disjuncts, ss)
	case *query.ConjunctionQuery:
		return andBits(q.Conjuncts, ss)
	case *query.BooleanQuery:
		if q.Should != nil || q.Filter != nil {
			return nil, errNoBits
		}
		var must *roaring.Bitmap
		var err error
		if q.Must != nil {
			if must, err = matchBits(q.Must, ss); err != nil {
				return nil, err
			}
		} else {
			must = allBits(ss)
		}
		if q.MustNot == nil {
			return must, nil
		}
		not, err := matchBits(q.MustNot, ss)
		if err != nil {
			return nil, err
		}
		return roaring.AndNot(must, not), nil
	case *query.MatchAllQuery:
		return allBits(ss), nil
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
		return q.cache.phraseBits(ss, q.field, slots)
	}
	return nil, errNoBits
}

func orBits(qs []query.Query, ss *scorch.SegmentSnapshot) (*roaring.Bitmap, error) {
	return combineBits(qs, ss, roaring.FastOr)
}

func andBits(qs []query.Query, ss *scorch.SegmentSnapshot) (*roaring.Bitmap, error) {
	if len(qs) == 0 {
		return allBits(ss), nil
	}
	return combineBits(qs, ss, roaring.FastAnd)
}

// combineBits combines the bitmaps of qs with op; one bitmap is returned
// as it is, not copied.
func combineBits(qs []query.Query, ss *scorch.SegmentSnapshot, op func(...*roaring.Bitmap) *roaring.Bitmap) (*roaring.Bitmap, error) {
	bms := make([]*roaring.Bitmap, 0, len(qs))
	for _, q := range qs {
		bm, err := matchBits(q, ss)
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

// allBits returns the segment's live documents.
func allBits(ss *scorch.SegmentSnapshot) *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, ss.Segment().Count())
	if d := ss.Deleted(); d != nil {
		bm.AndNot(d)
	}
	return bm
}

// termBits returns the live documents of ss that have term in field.
func termBits(ss *scorch.SegmentSnapshot, field, term string) (*roaring.Bitmap, error) {
	dict, err := ss.Segment().Dictionary(field)
	if err != nil {
		return nil, err
	}
	pl, err := dict.PostingsList([]byte(term), ss.Deleted(), nil)
	if err != nil {
		return nil, err
	}
	return postingsBits(pl), nil
}

// postingsBits returns the documents of a postings list; the bitmap may be
// the list's own and must not be changed.
func postingsBits(pl segment.PostingsList) *roaring.Bitmap {
	it := pl.Iterator(false, false, false, nil)
	if opt, ok := it.(segment.OptimizablePostingsIterator); ok {
		if n, ok := opt.DocNum1Hit(); ok {
			return roaring.BitmapOf(uint32(n))
		}
		if bm := opt.ActualBitmap(); bm != nil {
			return bm
		}
		return roaring.New()
	}
	bm := roaring.New()
	for p, err := it.Next(); p != nil && err == nil; p, err = it.Next() {
		bm.Add(uint32(p.Number()))
	}
	return bm
}

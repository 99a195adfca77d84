package index

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Which posts of a segment hold a phrase never changes, since segments
// never do; only deletions take posts away. phraseBits finds them from the
// segment's postings, position by position, without Bleve's searchers, and
// keeps the answer with the segment's columns, so that a phrase is
// counted, faceted and ranked from a bitmap as a word is: the first search
// for a phrase pays for reading its positions, the next ones do not.

// maxPhraseBytes bounds the memory of the phrase bitmaps kept for an index.
const maxPhraseBytes = 16 << 20

// phraseKey names a phrase in a segment.
func phraseKey(field string, slots []phraseSlot) string {
	var b strings.Builder
	b.WriteString(field)
	for _, s := range slots {
		b.WriteByte(0)
		b.WriteString(strconv.FormatUint(s.off, 10))
		for _, t := range s.terms {
			b.WriteByte(1)
			b.WriteString(t)
		}
	}
	return b.String()
}

// phraseBits returns the live posts of ss whose field holds the phrase of
// slots.
func (c *segmentCache) phraseBits(seg *segmentView, field string, slots []phraseSlot) (*roaring.Bitmap, error) {
	id, key := seg.id, phraseKey(field, slots)
	c.mu.Lock()
	bm, ok := c.phrases[id][key]
	c.mu.Unlock()
	if !ok {
		var err error
		if bm, err = findPhrase(seg, field, slots); err != nil {
			return nil, err
		}
		bm.RunOptimize()
		size := int(bm.GetSizeInBytes())
		c.mu.Lock()
		if c.phraseBytes+size > maxPhraseBytes {
			c.phrases, c.phraseBytes = nil, 0
		}
		if c.phrases == nil {
			c.phrases = map[uint64]map[string]*roaring.Bitmap{}
		}
		if c.phrases[id] == nil {
			c.phrases[id] = map[string]*roaring.Bitmap{}
		}
		if _, dup := c.phrases[id][key]; !dup {
			c.phrases[id][key] = bm
			c.phraseBytes += size
		}
		c.mu.Unlock()
	}
	if d := seg.deleted(); d != nil && !d.IsEmpty() {
		return roaring.AndNot(bm, d), nil
	}
	return bm, nil
}

// findPhrase returns the posts of seg, deleted or not, whose field holds
// the phrase: those with every slot's terms, checked by their positions.
func findPhrase(seg *segmentView, field string, slots []phraseSlot) (*roaring.Bitmap, error) {
	// Each alternative term of a slot walks its postings with positions;
	// pos holds the positions of its posting at cur.
	type alt struct {
		it  *termPostings
		cur uint64
		has bool // whether it has moved; cur is math.MaxUint64 at the end
		pos []uint64
	}
	alts := make([][]*alt, len(slots))
	var cands *roaring.Bitmap
	for i, s := range slots {
		var bms []*roaring.Bitmap
		for _, t := range s.terms {
			bm, pos, err := seg.termPositions(field, t)
			if err != nil {
				return nil, err
			}
			bms = append(bms, bm)
			alts[i] = append(alts[i], &alt{it: pos})
		}
		bm := roaring.FastOr(bms...) // a new bitmap, even of one
		if cands == nil {
			cands = bm
		} else {
			cands.And(bm)
		}
	}
	out := roaring.New()
	if cands == nil {
		return out, nil
	}
	var starts []phraseStart
	it := cands.Iterator()
	for it.HasNext() {
		doc := uint64(it.Next())
		starts = starts[:0]
		for i, s := range slots {
			for _, a := range alts[i] {
				if !a.has || a.cur < doc {
					cur, pos, err := a.it.advance(doc, a.pos[:0])
					if err != nil {
						return nil, err
					}
					a.has, a.cur, a.pos = true, cur, pos
				}
				if a.cur != doc {
					continue
				}
				for _, pos := range a.pos {
					if pos >= s.off {
						starts = append(starts, phraseStart{start: pos - s.off, slot: i})
					}
				}
			}
		}
		if len(phraseStarts(starts, len(slots))) > 0 {
			out.Add(uint32(doc))
		}
	}
	return out, nil
}

// phraseStarts sorts starts and returns the positions where every one of
// n slots begins the phrase.
func phraseStarts(starts []phraseStart, n int) []uint64 {
	slices.SortFunc(starts, func(a, b phraseStart) int {
		if a.start != b.start {
			if a.start < b.start {
				return -1
			}
			return 1
		}
		return a.slot - b.slot
	})
	var found []uint64
	for i := 0; i < len(starts); {
		j, filled := i, 0
		for ; j < len(starts) && starts[j].start == starts[i].start; j++ {
			if j == i || starts[j].slot != starts[j-1].slot {
				filled++
			}
		}
		if filled == n {
			found = append(found, starts[i].start)
		}
		i = j
	}
	return found
}

// phraseBitsSearcher scores the posts in a phrase's bitmaps with the
// conjunction of its terms, which gives a phrase's score, without reading
// positions: it moves the conjunction to each post of the bitmaps.
type phraseBitsSearcher struct {
	conj    search.Searcher
	offsets []uint64
	bms     []*roaring.Bitmap
	seg     int
	it      roaring.IntPeekable
	id      bindex.IndexInternalID
	count   uint64
}

// bitsSearcher returns the searcher of a phrase from the bitmaps the cache
// gives for every segment of snap, with kids, the searchers of its slots.
func (q *phraseQuery) bitsSearcher(ctx context.Context, snap *segments, opts search.SearcherOptions, slots []phraseSlot, kids []search.Searcher) (search.Searcher, error) {
	s := &phraseBitsSearcher{id: internalID(0)}
	for i := range snap.list {
		seg := &snap.list[i]
		bm, err := q.cache.phraseBits(seg, q.field, slots)
		if err != nil {
			return nil, err
		}
		s.offsets = append(s.offsets, seg.base)
		s.bms = append(s.bms, bm)
		s.count += bm.GetCardinality()
	}
	conj, err := searcher.NewConjunctionSearcher(ctx, snap.reader(), kids, opts)
	if err != nil {
		return nil, err
	}
	s.conj = conj
	if len(s.bms) > 0 {
		s.it = s.bms[0].Iterator()
	}
	return s, nil
}

// next returns the global number of the next post of the bitmaps at or
// after num, or false at the end.
func (s *phraseBitsSearcher) next(num uint64) (uint64, bool) {
	for s.seg < len(s.bms) {
		base := s.offsets[s.seg]
		if num > base {
			s.it.AdvanceIfNeeded(uint32(min(num-base, math.MaxUint32)))
		}
		if s.it.HasNext() {
			return base + uint64(s.it.Next()), true
		}
		s.seg++
		if s.seg < len(s.bms) {
			s.it = s.bms[s.seg].Iterator()
		}
	}
	return 0, false
}

func (s *phraseBitsSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	return s.Advance(ctx, nil)
}

func (s *phraseBitsSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	var from uint64
	if id != nil {
		from = id.Value()
	}
	for {
		num, ok := s.next(from)
		if !ok {
			return nil, nil
		}
		s.id.SetValue(num)
		dm, err := s.conj.Advance(ctx, s.id)
		if dm == nil || err != nil {
			return nil, err
		}
		if got := dm.IndexInternalID.Value(); got != num {
			// Not in the phrase's bitmaps (it would have been found
			// first); go on from there.
			ctx.DocumentMatchPool.Put(dm)
			from = got
			continue
		}
		return dm, nil
	}
}

func (s *phraseBitsSearcher) Close() error               { return s.conj.Close() }
func (s *phraseBitsSearcher) Weight() float64            { return s.conj.Weight() }
func (s *phraseBitsSearcher) SetQueryNorm(n float64)     { s.conj.SetQueryNorm(n) }
func (s *phraseBitsSearcher) Count() uint64              { return s.count }
func (s *phraseBitsSearcher) Min() int                   { return 0 }
func (s *phraseBitsSearcher) Size() int                  { return s.conj.Size() }
func (s *phraseBitsSearcher) DocumentMatchPoolSize() int { return s.conj.DocumentMatchPoolSize() }

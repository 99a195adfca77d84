package index

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// Ordering the hits by date and counting facets needs a few values of every
// hit. Bleve reads them per hit from doc values, compressed in chunks: at
// tens of thousands of hits that costs more than finding the hits. Segments
// never change once written, so the values are read once per segment into
// columns, indexed by the segment's own document numbers, and a search
// reads them from there.

// segColumns holds the values of one segment's documents.
type segColumns struct {
	blog []uint32 // index into segmentCache.blogs
	lang []uint8  // index into segmentCache.langs
	year []uint16
	date []int64 // see unixNano; math.MinInt64 when unknown
}

// segmentCache keeps what searches read once per segment of one Bleve
// index, since segments never change: the columns of its documents, and
// the posts of the phrases searched for (phrasebits.go).
type segmentCache struct {
	mu    sync.Mutex
	segs  map[uint64]*segEntry // by segment ID
	blogs []string
	langs []string
	ids   map[string]uint32 // "blog:x" and "lang:y" to their index
	// live is the segment IDs of the last snapshot seen, to drop the
	// columns of segments merged away.
	live []uint64
	// phrases holds the posts of phrases, by segment ID and phraseKey,
	// with the bytes they take (see phrasebits.go).
	phrases     map[uint64]map[string]*roaring.Bitmap
	phraseBytes int
}

type segEntry struct {
	once sync.Once
	cols *segColumns
	err  error
}

// snapColumns is the columns of one snapshot's segments, in their order.
type snapColumns struct {
	segs  []*segColumns
	blogs []string
	langs []string
}

func newSegmentCache() *segmentCache {
	return &segmentCache{segs: map[uint64]*segEntry{}, ids: map[string]uint32{}}
}

// forSnapshot returns the columns of snap's segments, reading those of
// segments not seen before.
func (c *segmentCache) forSnapshot(snap *segments) (*snapColumns, error) {
	ss := snap.list
	ids := make([]uint64, len(ss))
	for i, s := range ss {
		ids[i] = s.id
	}
	entries := make([]*segEntry, len(ss))
	c.mu.Lock()
	if !slices.Equal(ids, c.live) {
		keep := make(map[uint64]*segEntry, len(ids))
		for _, id := range ids {
			if e, ok := c.segs[id]; ok {
				keep[id] = e
			}
		}
		c.segs, c.live = keep, ids
		for id, m := range c.phrases {
			if !slices.Contains(ids, id) {
				for _, bm := range m {
					c.phraseBytes -= int(bm.GetSizeInBytes())
				}
				delete(c.phrases, id)
			}
		}
	}
	for i, id := range ids {
		e := c.segs[id]
		if e == nil {
			e = &segEntry{}
			c.segs[id] = e
		}
		entries[i] = e
	}
	c.mu.Unlock()

	sc := &snapColumns{segs: make([]*segColumns, len(ss))}
	for i := range ss {
		e, s := entries[i], &ss[i]
		e.once.Do(func() { e.cols, e.err = c.read(s) })
		if e.err != nil {
			return nil, e.err
		}
		sc.segs[i] = e.cols
	}
	c.mu.Lock()
	sc.blogs, sc.langs = c.blogs, c.langs
	c.mu.Unlock()
	return sc, nil
}

// read reads the facet and date doc values of every document of seg.
func (c *segmentCache) read(seg *segmentView) (*segColumns, error) {
	n := int(seg.count)
	cols := &segColumns{
		blog: make([]uint32, n),
		lang: make([]uint8, n),
		year: make([]uint16, n),
		date: make([]int64, n),
	}
	for doc := range cols.date {
		cols.date[doc] = math.MinInt64
	}
	visit := func(doc uint64, field string, term []byte) {
		switch field {
		case "date":
			cols.date[doc] = parseDateKey(string(term))
		case "facet":
			t := string(term)
			name, value, _ := strings.Cut(t, ":")
			switch name {
			case "blog":
				cols.blog[doc] = c.intern(t, &c.blogs, value)
			case "lang":
				cols.lang[doc] = uint8(min(c.intern(t, &c.langs, value), math.MaxUint8))
			case "year":
				y, _ := strconv.Atoi(value)
				cols.year[doc] = uint16(max(0, min(y, math.MaxUint16)))
			}
		}
	}
	if err := seg.visitDocValues([]string{"facet", "date"}, visit); err != nil {
		return nil, err
	}
	return cols, nil
}

// intern returns the index of value in *list, adding it when new.
func (c *segmentCache) intern(key string, list *[]string, value string) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.ids[key]; ok {
		return i
	}
	i := uint32(len(*list))
	// A new slice, so that the lists handed to searches never change.
	*list = append(slices.Clip(*list), value)
	c.ids[key] = i
	return i
}

// parseDateKey reads a date key (see dateKey) as unixNano does.
func parseDateKey(s string) int64 {
	t, err := time.Parse(dateKey, s)
	if err != nil {
		return math.MinInt64
	}
	return unixNano(t)
}

// unixNano returns t in Unix nanoseconds, the dates before 1678 and after
// 2262, which int64 cannot hold, as the first and the last it can.
func unixNano(t time.Time) int64 {
	switch {
	case t.Year() < 1678:
		return math.MinInt64 + 1
	case t.Year() > 2261:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// warmColumns reads the columns of segments new since the last search, so
// that the first search after a restart or a merge does not wait for them.
func (ix *Index) warmColumns() error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return errClosed
	}
	snap, err := openSegments(ix.bi)
	if err == nil {
		defer snap.Close()
		_, err = ix.cols.forSnapshot(snap)
	}
	if errors.Is(err, errNoSegments) {
		return nil // searches take Bleve's own way: no columns
	}
	return err
}

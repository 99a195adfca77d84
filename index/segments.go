package index

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zapv17 "github.com/blevesearch/zapx/v17"
)

// This file is the index's one door into Bleve's internals: scorch's
// snapshots and segments, zap's settings, and how Bleve numbers the
// documents of a snapshot. Everything else reaches segments through the
// types below, so that a Bleve upgrade that changes any of it has one file
// to check, and TestCollectAcrossSegments, TestDisjunctionCoord and
// TestCollectMatchesStock say what must hold. An index that is not a
// scorch index has no segments: searches then take Bleve's own way (see
// stock.go).

// maxSegmentPosts bounds the posts Bleve merges into one segment.
const maxSegmentPosts = 20000

// mergeWriteSize is the size of the writes that build a merged segment
// file. Linux caches a file written in large writes as large folios, and a
// read fault in an mmapped large folio maps all of it: with zap's default
// of 1 MiB, a serve restarted on a freshly merged index counted nearly
// every page of the segments its searches touched in its RSS. 64 KiB is
// the kernel's default fault-around, so the segments map as they do once
// read back from disk.
const mergeWriteSize = 64 << 10

// setMergeWriteSize sets zap's merge buffer. zap offers it only as a
// package variable, read by every merge of every index in the process, so
// it is set once, by the first Open, before any index of this process can
// merge; vplanet opens no Bleve index but through Open.
var setMergeWriteSize = sync.OnceFunc(func() {
	zapv17.DefaultFileMergerBufferSize = mergeWriteSize
})

// segmentConfig returns the scorch settings of an index whose file lock is
// waited for at most timeout.
func segmentConfig(timeout string) map[string]interface{} {
	setMergeWriteSize()
	return map[string]interface{}{
		"bolt_timeout": timeout,
		// A merge reads every page of the segments it merges, and those
		// pages count in the process's memory until the kernel needs them
		// back; segments of at most maxSegmentPosts keep the largest merge
		// to a fraction of the index.
		"scorchMergePlanOptions": map[string]interface{}{"MaxSegmentSize": maxSegmentPosts},
		// The version whose merge buffer setMergeWriteSize sets.
		"forceSegmentType":    zapv17.Type,
		"forceSegmentVersion": int(zapv17.Version),
	}
}

// createIndex creates a scorch index in dir.
func createIndex(dir string, m mapping.IndexMapping, cfg map[string]interface{}) (bleve.Index, error) {
	return bleve.NewUsing(dir, m, scorch.Name, bleve.Config.DefaultKVStore, cfg)
}

// errNoSegments says that an index or a reader is not a scorch snapshot,
// or that its segments are not what the search's shortcuts read.
var errNoSegments = errors.New("index: not a scorch index")

// segments is a snapshot of the index as its segments. Bleve numbers the
// documents of a snapshot one segment after another: a document's global
// number, the value of its internal ID, is its segment's base plus its
// number in the segment.
type segments struct {
	snap *scorch.IndexSnapshot
	list []segmentView
}

// segmentView is one segment of a snapshot.
type segmentView struct {
	ss    *scorch.SegmentSnapshot
	id    uint64 // unique in the index; a merge makes a new segment
	base  uint64 // global number of its first document
	count uint64 // documents, deleted ones included
}

// openSegments returns the current snapshot of bi, which the caller
// closes, or errNoSegments when bi is not a scorch index.
func openSegments(bi bleve.Index) (*segments, error) {
	ai, err := bi.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := ai.Reader()
	if err != nil {
		return nil, err
	}
	s, ok := readerSegments(r)
	if !ok {
		r.Close()
		return nil, errNoSegments
	}
	return &s, nil
}

// readerSegments returns the segments of r when r is a scorch snapshot.
// The segments share r: closing either closes both.
func readerSegments(r bindex.IndexReader) (segments, bool) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return segments{}, false
	}
	ss := snap.Segments()
	s := segments{snap: snap, list: make([]segmentView, len(ss))}
	var base uint64
	for i, seg := range ss {
		n := seg.Segment().Count()
		s.list[i] = segmentView{ss: seg, id: seg.Id(), base: base, count: n}
		base += n
	}
	return s, true
}

// reader is the snapshot as Bleve's searchers read it.
func (s *segments) reader() bindex.IndexReader { return s.snap }

func (s *segments) Close() error { return s.snap.Close() }

// externalID returns the post ID of global document num.
func (s *segments) externalID(num uint64) (string, error) {
	return s.snap.ExternalID(internalID(num))
}

// at returns the segment and the local number of global document num;
// hint is the segment of the previous call, since hits come in order.
func (s *segments) at(num uint64, hint int) (int, uint64) {
	i := hint
	if i >= len(s.list) || num < s.list[i].base {
		i = 0
	}
	for i+1 < len(s.list) && num >= s.list[i+1].base {
		i++
	}
	return i, num - s.list[i].base
}

// internalID is the internal ID of global document num.
func internalID(num uint64) bindex.IndexInternalID { return bindex.NewIndexInternalID(nil, num) }

// docNum is the global document number of an internal ID.
func docNum(id bindex.IndexInternalID) uint64 { return id.Value() }

// deleted returns the segment's deleted documents, or nil.
func (g *segmentView) deleted() *roaring.Bitmap { return g.ss.Deleted() }

// all returns the segment's live documents.
func (g *segmentView) all() *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, g.count)
	if d := g.deleted(); d != nil {
		bm.AndNot(d)
	}
	return bm
}

// termBits returns the live documents of the segment that have term in
// field; the bitmap may be the segment's own and must not be changed.
func (g *segmentView) termBits(field, term string) (*roaring.Bitmap, error) {
	dict, err := g.ss.Segment().Dictionary(field)
	if err != nil {
		return nil, err
	}
	pl, err := dict.PostingsList([]byte(term), g.deleted(), nil)
	if err != nil {
		return nil, err
	}
	return postingsBits(pl), nil
}

// postingsBits returns the documents of a postings list; the bitmap may be
// the list's own (zap shares it) and must not be changed.
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

// termPositions returns the documents of the segment, deleted or not,
// that have term in field, and the way to their positions.
func (g *segmentView) termPositions(field, term string) (*roaring.Bitmap, *termPostings, error) {
	dict, err := g.ss.Segment().Dictionary(field)
	if err != nil {
		return nil, nil, err
	}
	pl, err := dict.PostingsList([]byte(term), nil, nil)
	if err != nil {
		return nil, nil, err
	}
	return postingsBits(pl), &termPostings{it: pl.Iterator(true, false, true, nil)}, nil
}

// termPostings walks a term's postings with their positions.
type termPostings struct {
	it segment.PostingsIterator
}

// advance moves to the first document at or after doc and appends its
// positions of the term to pos; at the end it returns math.MaxUint64.
func (p *termPostings) advance(doc uint64, pos []uint64) (uint64, []uint64, error) {
	post, err := p.it.Advance(doc)
	if err != nil || post == nil {
		return math.MaxUint64, pos, err
	}
	for _, l := range post.Locations() {
		pos = append(pos, l.Pos())
	}
	return post.Number(), pos, nil
}

// visitDocValues calls visit with the doc values of fields of every
// document of the segment, deleted ones included, in order.
func (g *segmentView) visitDocValues(fields []string, visit func(doc uint64, field string, term []byte)) error {
	dvv, ok := g.ss.Segment().(segment.DocValueVisitable)
	if !ok {
		return fmt.Errorf("index: segment %T has no doc values: %w", g.ss.Segment(), errNoSegments)
	}
	var doc uint64
	fn := func(field string, term []byte) { visit(doc, field, term) }
	var state segment.DocVisitState
	var err error
	for doc = 0; doc < g.count; doc++ {
		if state, err = dvv.VisitDocValues(doc, fields, fn, state); err != nil {
			return fmt.Errorf("index: read doc values: %w", err)
		}
	}
	return nil
}

package index

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"vplanet"
)

// TestCollectAcrossSegments checks the numbering of documents, the date
// order, the facets and the paging of a search over an index of at least
// three segments, where updates moved posts to newer segments and
// deletions left holes in older ones: the columns a search reads must
// follow every segment's own numbering.
func TestCollectAcrossSegments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix := reopen(t, nil, dir)
	ctx := context.Background()
	live := map[string]*vplanet.Post{}
	seq := int64(0)
	put := func(posts ...*vplanet.Post) {
		t.Helper()
		for _, p := range posts {
			seq++
			p.Seq = seq
			if p.Visible {
				live[p.ID] = p
			} else {
				delete(live, p.ID)
			}
		}
		if err := ix.Apply(ctx, posts); err != nil {
			t.Fatal(err)
		}
		ix = reopen(t, ix, dir)
	}
	mk := func(i, version int) *vplanet.Post {
		p := post(fmt.Sprint("p", i), "vSAN", "本文")
		p.Published = time.Date(2010+(i*7+version)%12, time.Month(1+i%12), 1+i%27, i%24, 0, 0, 0, time.UTC)
		p.BlogSlug = fmt.Sprint("blog", (i+version)%7)
		p.Lang = []string{"ja", "en"}[(i+version)%2]
		return p
	}
	// Three batches make three segments; one more updates every fifth
	// post (new date, blog and lang) and deletes every seventh, which
	// leaves holes in the first three, too few segments for Bleve to merge.
	for b := range 3 {
		var batch []*vplanet.Post
		for i := b * 80; i < (b+1)*80; i++ {
			batch = append(batch, mk(i, 0))
		}
		put(batch...)
	}
	var changes []*vplanet.Post
	for i := 0; i < 240; i++ {
		switch {
		case i%7 == 3:
			p := mk(i, 0)
			p.Visible = false
			changes = append(changes, p)
		case i%5 == 0:
			changes = append(changes, mk(i, 1))
		}
	}
	put(changes...)
	checkNumbering(t, ix, live)
	var want []*vplanet.Post
	facets := map[string]map[string]int{"blog": {}, "lang": {}, "year": {}}
	for _, p := range live {
		want = append(want, p)
		facets["blog"][p.BlogSlug]++
		facets["lang"][p.Lang]++
		facets["year"][strconv.Itoa(p.Published.Year())]++
	}
	slices.SortFunc(want, func(a, b *vplanet.Post) int { return b.Published.Compare(a.Published) })

	res, err := ix.Search(ctx, Request{Query: "vsan", Sort: "date", Limit: 100, Facets: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != uint64(len(want)) {
		t.Errorf("total: got %d, want %d", res.Total, len(want))
	}
	for name, want := range facets {
		got := map[string]int{}
		for _, c := range res.Facets[name] {
			got[c.Value] = c.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("facet %s: got %v, want %v", name, got, want)
		}
	}
	// Page through every hit: the pages join into the whole date order.
	var got []string
	for off := 0; off < len(want); off += 7 {
		for _, h := range ids(t, ix, Request{Query: "vsan", Sort: "date", Limit: 7, Offset: off}) {
			got = append(got, h)
		}
	}
	var wantIDs []string
	for _, p := range want {
		wantIDs = append(wantIDs, p.ID)
	}
	if !slices.EqualFunc(got, wantIDs, func(a, b string) bool {
		return live[a].Published.Equal(live[b].Published)
	}) {
		t.Errorf("date order over pages:\ngot  %v\nwant %v", got, wantIDs)
	}
	// Relevance with equal scores is newest first too.
	rel := ids(t, ix, Request{Query: "vsan", Limit: 100})
	if !slices.IsSortedFunc(rel, func(a, b string) int {
		return cmp.Compare(live[b].Published.UnixNano(), live[a].Published.UnixNano())
	}) {
		t.Errorf("equal scores not newest first: %v", rel)
	}
}

// checkNumbering checks segments' view of ix, which must have at least
// three segments: each live post is live in exactly one segment, and its
// global number there (the segment's base plus its number in the segment)
// is the one Bleve gives its ID; the bases follow each other.
func checkNumbering(t *testing.T, ix *Index, live map[string]*vplanet.Post) {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	snap, err := openSegments(ix.bi)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if len(snap.list) < 3 {
		t.Fatalf("the index has %d segments; the test needs at least 3 (did Bleve merge them?)", len(snap.list))
	}
	t.Logf("%d segments", len(snap.list))
	var next uint64
	for i, seg := range snap.list {
		if seg.base != next {
			t.Errorf("segment %d starts at %d, want %d", i, seg.base, next)
		}
		next += seg.count
	}
	seen := map[string]bool{}
	for i := range snap.list {
		seg := &snap.list[i]
		it := seg.all().Iterator()
		for it.HasNext() {
			local := uint64(it.Next())
			id, err := snap.externalID(seg.base + local)
			if err != nil {
				t.Fatal(err)
			}
			if live[id] == nil || seen[id] {
				t.Errorf("segment %d document %d is %q: not live, or live twice", i, local, id)
			}
			seen[id] = true
			bm, err := seg.termBits("_id", id)
			if err != nil {
				t.Fatal(err)
			}
			if !bm.Contains(uint32(local)) || bm.GetCardinality() != 1 {
				t.Errorf("segment %d: %q is document %d, but its _id term is in %v", i, id, local, bm.ToArray())
			}
			if got, want := snap.at(seg.base+local, 0); got != i || want != local {
				t.Errorf("at(%d) = %d, %d; want %d, %d", seg.base+local, got, want, i, local)
			}
		}
	}
	if len(seen) != len(live) {
		t.Errorf("%d live posts found in the segments, want %d", len(seen), len(live))
	}
}

// reopen closes ix, if not nil, and opens the index in dir again, with a
// merge policy that leaves up to a hundred segments apart. Closing
// persists what was applied as a segment of its own, where segments
// applied in quick succession may be merged in memory.
func reopen(t testing.TB, ix *Index, dir string) *Index {
	t.Helper()
	if ix != nil {
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := open(dir, Options{}, map[string]interface{}{
		"scorchMergePlanOptions": map[string]interface{}{
			"MaxSegmentSize": maxSegmentPosts, "MaxSegmentsPerTier": 100, "FloorSegmentSize": 1,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

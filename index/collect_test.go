package index

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"vplanet"
)

// TestCollectAcrossSegments checks the date order, the facets and the
// paging of a search over an index of many segments, where updates moved
// posts to newer segments and deletions left holes in older ones: the
// columns a search reads must follow every segment's own numbering.
func TestCollectAcrossSegments(t *testing.T) {
	ix := openTest(t)
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

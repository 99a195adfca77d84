package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"vplanet"
)

// post returns a visible post for tests.
func post(id, title, text string) *vplanet.Post {
	return &vplanet.Post{
		ID: id, Title: title, Text: text, Lang: "ja", BlogSlug: "blog",
		Published: time.Date(2017, 9, 1, 0, 0, 0, 0, time.UTC), Visible: true,
	}
}

// openTest opens an index in a temporary directory holding posts.
func openTest(t testing.TB, posts ...*vplanet.Post) *Index {
	t.Helper()
	ix, err := Open(filepath.Join(t.TempDir(), "index"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	for i, p := range posts {
		if p.Seq == 0 {
			p.Seq = int64(i + 1)
		}
	}
	if err := ix.Apply(context.Background(), posts); err != nil {
		t.Fatal(err)
	}
	return ix
}

func ids(t testing.TB, ix *Index, r Request) []string {
	t.Helper()
	res, err := ix.Search(context.Background(), r)
	if err != nil {
		t.Fatalf("search %q: %v", r.Query, err)
	}
	return hitIDs(res)
}

// hitIDs returns the IDs of r's hits, in order.
func hitIDs(r *Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

// sliceSource is a ChangeSource over posts held in memory, like the store's
// Changes.
type sliceSource struct {
	mu    sync.Mutex
	posts []*vplanet.Post
	seq   int64
	delay time.Duration // per Changes call, to make a rebuild last
}

func (s *sliceSource) put(p *vplanet.Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	cp := *p
	cp.Seq = s.seq
	s.posts = slices.DeleteFunc(s.posts, func(q *vplanet.Post) bool { return q.ID == p.ID })
	s.posts = append(s.posts, &cp)
}

func (s *sliceSource) Changes(ctx context.Context, after int64, limit int) ([]*vplanet.Post, error) {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*vplanet.Post
	for _, p := range s.posts { // kept in Seq order by put
		if p.Seq > after && len(out) < limit {
			out = append(out, p)
		}
	}
	return out, nil
}

func TestApplyDeletesInvisible(t *testing.T) {
	ix := openTest(t, post("a", "VCHA", "one"), post("b", "VCHA", "two"))
	if got := ids(t, ix, Request{Query: "vcha"}); len(got) != 2 {
		t.Fatalf("before: got %v, want 2 hits", got)
	}
	gone := post("a", "VCHA", "one")
	gone.Visible, gone.Seq = false, 3
	if err := ix.Apply(context.Background(), []*vplanet.Post{gone}); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(t, ix, Request{Query: "vcha"}), []string{"b"}; !slices.Equal(got, want) {
		t.Errorf("after: got %v, want %v", got, want)
	}
	if got, want := ix.Seq(), int64(3); got != want {
		t.Errorf("Seq: got %d, want %d", got, want)
	}
	if n, _ := ix.DocCount(); n != 1 {
		t.Errorf("DocCount: got %d, want 1", n)
	}
}

func TestCatchUpAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	src := &sliceSource{}
	const n = 2*changesLimit + 234
	for i := range n {
		src.put(post(fmt.Sprint("p", i), fmt.Sprint("投稿 ", i), "重複排除の話"))
	}
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var calls []int
	got, err := ix.CatchUp(context.Background(), src, func(applied int) { calls = append(calls, applied) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{changesLimit, 2 * changesLimit, n}; got != n || !slices.Equal(calls, want) {
		t.Errorf("CatchUp: got %d %v, want %d %v", got, calls, n, want)
	}
	src.put(post("p7", "消えた", "x"))
	src.posts[len(src.posts)-1].Visible = false
	if n, err := ix.CatchUp(context.Background(), src, nil); err != nil || n != 1 {
		t.Errorf("second CatchUp: got %d, %v; want 1, nil", n, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got, want := ix.Seq(), int64(n+1); got != want {
		t.Errorf("Seq after reopen: got %d, want %d", got, want)
	}
	if got, _ := ix.DocCount(); got != n-1 {
		t.Errorf("DocCount after reopen: got %d, want %d", got, n-1)
	}
	res, err := ix.Search(context.Background(), Request{Query: "重複排除"})
	if err != nil || res.Total != n-1 {
		t.Errorf("search after reopen: got %v, %v; want %d hits", res, err, n-1)
	}
}

func TestFollow(t *testing.T) {
	ix := openTest(t)
	src := &sliceSource{}
	ctx, cancel := context.WithCancel(context.Background())
	poke := make(chan struct{})
	done := make(chan struct{})
	go func() { ix.Follow(ctx, src, time.Hour, poke); close(done) }()
	src.put(post("late", "遅れて来た投稿", "本文"))
	poke <- struct{}{}
	// However loaded the machine, the poke is followed: wait for it
	// (go test's -timeout stops a follower that never catches up).
	for ix.Seq() != 1 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := ids(t, ix, Request{Query: "投稿"}); !slices.Equal(got, []string{"late"}) {
		t.Errorf("got %v, want [late]", got)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	_, err = Open(dir, Options{OpenTimeout: 200 * time.Millisecond})
	if !errors.Is(err, vplanet.ErrLocked) {
		t.Fatalf("second Open: got %v, want ErrLocked", err)
	}
	// The holder is untouched.
	if err := ix.Apply(context.Background(), []*vplanet.Post{post("a", "VCHA", "x")}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, ix, Request{Query: "vcha"}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("holder's search after a locked Open: got %v, want [a]", got)
	}
}

func TestOpenUnfinishedIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	if err := os.MkdirAll(dir, 0o700); err != nil { // created, then a crash before the metadata
		t.Fatal(err)
	}
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	// Recreated empty, at Seq 0, and working.
	if n, err := ix.DocCount(); err != nil || n != 0 || ix.Seq() != 0 {
		t.Errorf("reopened unfinished index: %d posts (%v), Seq %d; want an empty index at 0", n, err, ix.Seq())
	}
	p := post("a", "VCHA", "x")
	p.Seq = 1
	if err := ix.Apply(context.Background(), []*vplanet.Post{p}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, ix, Request{Query: "vcha"}); !slices.Equal(got, []string{"a"}) || ix.Seq() != 1 {
		t.Errorf("after Apply: hits %v, Seq %d; want [a], 1", got, ix.Seq())
	}
}

func TestMappingVersionMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Apply(context.Background(), []*vplanet.Post{{ID: "a", Title: "x", Seq: 9, Visible: true}}); err != nil {
		t.Fatal(err)
	}
	if err := ix.bi.SetInternal(keyVersion, []byte("0")); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	n, err := ix.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	if ix.Seq() != 0 || n != 0 {
		t.Errorf("after mismatch: got seq %d, %d docs; want 0, 0", ix.Seq(), n)
	}
}

func TestOpenRecoversInterruptedSwap(t *testing.T) {
	for _, tc := range []struct {
		name      string
		live, new bool
		old       bool
		wantSeq   int64 // which copy survives: live 1, new 2, old 3
	}{
		{"unfinished rebuild", true, true, false, 1},
		{"crash between renames", false, true, true, 2},
		{"crash after swap", true, false, true, 1},
		{"only old left", false, false, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			make := func(path string, seq int64) {
				ix, err := Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := ix.Apply(context.Background(), []*vplanet.Post{{ID: "a", Seq: seq, Visible: true}}); err != nil {
					t.Fatal(err)
				}
				if err := ix.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if tc.live {
				make(dir, 1)
			}
			if tc.new {
				make(dir+".new", 2)
			}
			if tc.old {
				make(dir+".old", 3)
			}
			ix, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if got := ix.Seq(); got != tc.wantSeq {
				t.Errorf("seq: got %d, want %d", got, tc.wantSeq)
			}
			for _, p := range []string{dir + ".new", dir + ".old"} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s left behind", filepath.Base(p))
				}
			}
		})
	}
}

func TestRebuildWhileSearching(t *testing.T) {
	src := &sliceSource{}
	for i := range 800 {
		src.put(post(fmt.Sprint("p", i), "サーバーの移行", fmt.Sprint("本文 ", i)))
	}
	ix := openTest(t)
	if _, err := ix.CatchUp(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	// The rebuilt index must reflect the source, not the old index.
	src.put(post("new", "新しい投稿", "移行しました"))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var searches, during, failures int
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			res, err := ix.Search(context.Background(), Request{Query: "サーバ"})
			rebuilding, _ := ix.Rebuilding()
			mu.Lock()
			searches++
			if rebuilding {
				during++
			}
			if err != nil || res.Total < 800 {
				failures++
			}
			mu.Unlock()
		}
	}()
	src.delay = 50 * time.Millisecond
	var progress []int
	if err := ix.Rebuild(context.Background(), src, func(n int) { progress = append(progress, n) }); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	if during == 0 || failures > 0 {
		t.Errorf("searches: %d, %d of them during the rebuild, %d failed; want some during, none failed", searches, during, failures)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 801 {
		t.Errorf("progress: got %v, want it to end at 801", progress)
	}
	if got := ids(t, ix, Request{Query: "新しい"}); !slices.Equal(got, []string{"new"}) {
		t.Errorf("after rebuild: got %v, want [new]", got)
	}
	if got, want := ix.Seq(), int64(801); got != want {
		t.Errorf("Seq after rebuild: got %d, want %d", got, want)
	}
	if r, _ := ix.Rebuilding(); r {
		t.Error("Rebuilding after Rebuild returned: got true")
	}
	if _, err := os.Stat(ix.dir + ".old"); err == nil {
		t.Error("old index left behind")
	}
}

func TestFacetsAndSort(t *testing.T) {
	a := post("a", "vSAN", "old")
	a.Published = time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC)
	b := post("b", "vSAN vSAN vSAN", "new")
	b.Published = time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)
	b.BlogSlug, b.Lang = "other", "en"
	c := post("c", "nothing", "vSAN")
	c.Published = time.Date(2018, 5, 1, 0, 0, 0, 0, time.UTC)
	ix := openTest(t, a, b, c)
	res, err := ix.Search(context.Background(), Request{Query: "vsan", Sort: "date", Facets: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hits {
		got = append(got, h.ID)
	}
	if want := []string{"b", "c", "a"}; !slices.Equal(got, want) {
		t.Errorf("date order: got %v, want %v", got, want)
	}
	if got, want := fmt.Sprint(res.Facets["year"]), "[{2019 1} {2018 1} {2016 1}]"; got != want {
		t.Errorf("year facet: got %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(res.Facets["blog"]), "[{blog 2} {other 1}]"; got != want {
		t.Errorf("blog facet: got %s, want %s", got, want)
	}
	// Relevance: the title hits come before the body hit.
	got = ids(t, ix, Request{Query: "vsan"})
	if got[2] != "c" {
		t.Errorf("relevance order: got %v, want c (body only) last", got)
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"vsan blog:other", []string{"b"}},
		{"vsan blog:other blog:blog", []string{"a", "b", "c"}},
		{"vsan -blog:other", []string{"a", "c"}},
		{"vsan lang:en", []string{"b"}},
		{"vsan lang:ja|en", []string{"a", "b", "c"}},
		{"vsan blog:other,nope", []string{"b"}},
		{"vsan after:2018-05-01", []string{"b", "c"}},
		{"vsan after:2018-05-02", []string{"b"}},
		{"vsan before:2018-05-01", []string{"a", "c"}},
		{"vsan before:2018-04-30", []string{"a"}},
		{"vsan after:2017 before:2018", []string{"c"}},
		{"vsan -after:2018-05-01", []string{"a"}},
		{"vsan -after:2018-05-02", []string{"a", "c"}},
		{"vsan -before:2018-05-01", []string{"b"}},
		{"vsan -before:2018", []string{"b"}},
		{"vsan -before:2016-04 -after:2019-05-01", []string{"a", "c"}},
		{"-after:2017", []string{"a"}},
		{"blog:other", []string{"b"}},
		{"-blog:other", []string{"a", "c"}},
		{"old OR new", []string{"a", "b"}},
		{"vsan -old", []string{"b", "c"}},
		{"vsan the", []string{"a", "b", "c"}},
	} {
		t.Run(tc.q, func(t *testing.T) {
			got := ids(t, ix, Request{Query: tc.q})
			sort.Strings(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEqualScoresNewestFirst(t *testing.T) {
	var posts []*vplanet.Post
	for i, d := range []int{3, 9, 1, 7} {
		p := post(fmt.Sprint("day", d), "同じ題名", "同じ本文")
		p.Published = time.Date(2020, 1, d, 0, 0, 0, 500*i, time.UTC)
		posts = append(posts, p)
	}
	ix := openTest(t, posts...)
	if got, want := ids(t, ix, Request{Query: "題名"}), []string{"day9", "day7", "day3", "day1"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDateFilterLocation(t *testing.T) {
	// 2017-09-01 20:00 UTC is already 2017-09-02 in Tokyo.
	p := post("a", "VCHA", "x")
	p.Published = time.Date(2017, 9, 1, 20, 0, 0, 0, time.UTC)
	ix := openTest(t, p)
	tokyo := time.FixedZone("JST", 9*3600)
	for _, tc := range []struct {
		q    string
		loc  *time.Location
		want int
	}{
		{"vcha after:2017-09-02", time.UTC, 0},
		{"vcha after:2017-09-02", tokyo, 1},
		{"vcha before:2017-09-01", time.UTC, 1},
		{"vcha before:2017-09-01", tokyo, 0},
	} {
		if got := len(ids(t, ix, Request{Query: tc.q, Location: tc.loc})); got != tc.want {
			t.Errorf("%s in %v: got %d hits, want %d", tc.q, tc.loc, got, tc.want)
		}
	}
}

// TestFacetsOfPagesAndChanges checks that a query's next page has the
// first page's facets, and that a change to the index shows in them.
func TestFacetsOfPagesAndChanges(t *testing.T) {
	var posts []*vplanet.Post
	for i := range 15 {
		p := post(fmt.Sprint("p", i), "vSAN", "x")
		p.BlogSlug = fmt.Sprint("blog", i%3)
		posts = append(posts, p)
	}
	ix := openTest(t, posts...)
	facets := func(r Request) string {
		t.Helper()
		r.Facets = true
		res, err := ix.Search(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.Facets)
	}
	first := facets(Request{Query: "vsan"})
	if want := "map[blog:[{blog0 5} {blog1 5} {blog2 5}] lang:[{ja 15}] year:[{2017 15}]]"; first != want {
		t.Errorf("first page: got %s, want %s", first, want)
	}
	if got := facets(Request{Query: "vsan", Offset: 10}); got != first {
		t.Errorf("second page: got %s, want %s", got, first)
	}
	p := post("new", "vSAN", "x")
	p.Seq, p.Lang = 100, "en"
	if err := ix.Apply(context.Background(), []*vplanet.Post{p}); err != nil {
		t.Fatal(err)
	}
	if got, want := facets(Request{Query: "vsan", Offset: 10}), "map[blog:[{blog0 5} {blog1 5} {blog2 5} {blog 1}] lang:[{ja 15} {en 1}] year:[{2017 16}]]"; got != want {
		t.Errorf("after a change: got %s, want %s", got, want)
	}
}

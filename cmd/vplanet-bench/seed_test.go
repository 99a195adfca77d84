package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vplanet"
	"vplanet/crawler"
	"vplanet/store"
)

// TestSeedMatchesCrawl checks that the seeded mode stores the posts a crawl
// of the community stores: the crawler (the oracle) takes each blog's Atom
// feed, as the community serves it, through its own decode, parse,
// sanitize and normalize into one store, seedPosts fills another, and
// every post must be the same in both, field by field. The sentences carry
// what escaping and white space could change.
func TestSeedMatchesCrawl(t *testing.T) {
	c := &corpus{
		ja:       []string{"拡張クラスタの検証をしました。", "「重複排除」が有効です。", "ホスト  A と B の\t比較。"},
		en:       []string{"We tested vSAN & NSX.", "It's <not> \"quoted\" here.", "VCHA  keeps\tvCenter up."},
		jaTitles: []string{"検証 & 比較"}, enTitles: []string{"Tests & \"things\""},
	}
	ctx := context.Background()
	dir := t.TempDir()
	p := &params{feeds: 6, posts: 4, hosts: 2, seed: 3}
	b := &bench{p: p, work: dir, progress: io.Discard}
	rep := &report{p: p, posts: p.feeds * p.posts}
	if err := b.seedPosts(ctx, rep, c, filepath.Join(dir, "seeded")); err != nil {
		t.Fatal(err)
	}
	if rep.seededCount != rep.posts {
		t.Errorf("seeded %d posts, want %d", rep.seededCount, rep.posts)
	}
	if got, want := rep.jaShare, 4.0/6; got != want { // blogs 0, 1, 2 and 5 of 6 write Japanese
		t.Errorf("Japanese share %.3f, want %.3f", got, want)
	}

	list, err := os.ReadFile(b.feeds)
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := crawler.ReadFeedList(bytes.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != p.feeds {
		t.Fatalf("feeds.txt lists %d feeds, want %d", len(srcs), p.feeds)
	}
	crawled, err := store.Open(ctx, filepath.Join(dir, "crawled.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer crawled.Close()
	if _, _, err := crawled.SyncFeeds(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	cr := crawler.New(crawled, crawler.Options{SkipPages: true})
	for i := range p.feeds {
		ja := i%5 < 3
		host := fmt.Sprintf("127.0.0.%d", i%p.hosts+1) // where the full run serves it, without the port
		body := renderAtom(host, i, ja, c.synthesize(rand.New(rand.NewPCG(p.seed, uint64(i))), i, p.posts, 3000, ja))
		if err := cr.Ingest(ctx, srcs[i].URL, body, "application/atom+xml; charset=utf-8"); err != nil {
			t.Fatalf("crawler took blog %d's feed: %v", i, err)
		}
	}

	seeded, err := store.Open(ctx, filepath.Join(dir, "seeded", "vplanet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer seeded.Close()
	want := postsByID(t, crawled)
	got := postsByID(t, seeded)
	if len(want) != rep.posts || len(got) != rep.posts {
		t.Fatalf("crawled %d posts, seeded %d; want %d of each", len(want), len(got), rep.posts)
	}
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Errorf("crawled post %s (%q) was not seeded", id, w.Title)
			continue
		}
		for _, f := range []struct{ name, got, want string }{
			{"GUID", g.GUID, w.GUID}, {"URL", g.URL, w.URL}, {"Title", g.Title, w.Title}, {"Author", g.Author, w.Author},
			{"Published", g.Published.String(), w.Published.String()}, {"Updated", g.Updated.String(), w.Updated.String()},
			{"Content", g.Content, w.Content}, {"Text", g.Text, w.Text}, {"Lang", g.Lang, w.Lang}, {"Hash", g.Hash, w.Hash},
			{"BlogName", g.BlogName, w.BlogName},
		} {
			if f.got != f.want {
				t.Errorf("post %q: seeded %s differs from the crawled one: %s", w.Title, f.name, firstDiff(f.got, f.want))
			}
		}
	}
}

// postsByID reads every post of db, without content, by ID.
func postsByID(t *testing.T, db *store.DB) map[string]*vplanet.Post {
	t.Helper()
	posts, err := db.Changes(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(posts))
	for i, p := range posts {
		ids[i] = p.ID
	}
	full, err := db.FindPosts(context.Background(), ids) // with their Content
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*vplanet.Post{}
	for _, p := range full {
		m[p.ID] = p
	}
	return m
}

// TestSmallSeeded runs -small -seed-store end to end: the store is filled
// without a crawl, a real serve indexes it, reindex rebuilds it, and the
// searches find what the posts hold.
func TestSmallSeeded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vplanet and runs it for about 15 seconds; skipped with -short")
	}
	if _, err := loadCorpus(corpusDir); errors.Is(err, errNoCorpus) {
		t.Skipf("corpus not found at %s: %v", corpusDir, err)
	}
	work := t.TempDir()
	var stderr bytes.Buffer
	p, err := parseParams([]string{"-small", "-seed-store", "-corpus", corpusDir, "-out", "", "-work", work}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := measure(context.Background(), p, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	const posts = 20 * 10

	db, err := store.Open(context.Background(), filepath.Join(work, "data", "vplanet.db"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.CountPosts(context.Background())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != posts || rep.seededCount != posts || rep.posts != posts {
		t.Errorf("the store holds %d posts, the run seeded %d of %d; want %d", n, rep.seededCount, rep.posts, posts)
	}
	if got, want := rep.reindexMsg, "reindexed 200 posts"; !strings.HasPrefix(got, want) {
		t.Errorf("reindex printed %q, want it to start %q", got, want)
	}
	if rep.coldCaughtUp <= 0 || rep.restartReady <= 0 {
		t.Errorf("serve indexed every post after %s and was ready after a restart after %s; want both measured", rep.coldCaughtUp, rep.restartReady)
	}
	for i, q := range queries[:2] {
		if rep.hitCounts[i] == 0 {
			t.Errorf("search %q found no post", q.q)
		}
	}
	if got, want := len(rep.searchLat), p.requests; got != want {
		t.Errorf("%d single-client searches measured, want %d", got, want)
	}
	if len(rep.distinctLat) != distinctCount || rep.searchRPS <= 0 {
		t.Errorf("%d distinct searches, %.0f req/s; want %d and some", len(rep.distinctLat), rep.searchRPS, distinctCount)
	}
	if rep.served.hwm < 10<<20 || rep.restarted.hwm < 10<<20 || rep.indexSize == 0 {
		t.Errorf("serve's peak RSS %d bytes, restarted %d, index %d bytes; want all measured", rep.served.hwm, rep.restarted.hwm, rep.indexSize)
	}
	if rep.crawl.Wall != 0 || rep.liveCrawl != 0 || rep.naiveErr == nil {
		t.Errorf("a seeded run crawled (%s, live %s) or ran the naive baseline (%v)", rep.crawl.Wall, rep.liveCrawl, rep.naiveErr)
	}

	md := rep.markdown()
	for _, want := range []string{"Posts were seeded into the store, not crawled", "-small -seed-store -feeds 20 -posts 10",
		"| serve started on the filled store without an index |", "| Index size on disk |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
	for _, absent := range []string{"| First crawl", "| All-304 re-crawl |", "| Every post searchable after the crawl ends"} {
		if strings.Contains(md, absent) {
			t.Errorf("the seeded table has a crawl row %q:\n%s", absent, md)
		}
	}
}

// firstDiff shows where a and b part, with a little of each from there.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	cut := func(s string) string { return s[i:min(len(s), i+40)] }
	return fmt.Sprintf("at byte %d, %q against %q (lengths %d, %d)", i, cut(a), cut(b), len(a), len(b))
}

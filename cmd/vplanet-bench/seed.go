package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vplanet"
	"vplanet/crawler"
	"vplanet/store"
)

// The seeded mode (-seed-store) writes the synthetic community's posts
// straight into the store with the store package, feed by feed, instead of
// serving them on loopback and crawling them. A crawl of 1,000,000 posts
// and a second one while serve runs take most of a full run's hours on two
// cores, and the crawl's speed is measured at smaller scales already; what
// a million posts change is indexing, the index, search and memory, and
// those phases run here as in a full run: serve started on the filled
// store without an index (it builds the index itself, as a replica joining
// does), search and memory, `vplanet reindex`, and serve restarted.
//
// The posts are those the crawler would store from the community's feeds:
// the same seeded sentences, titles and dates (corpus.synthesize with the
// same seed per blog), with each field filled as the crawler normalizes an
// Atom entry (see seedPost; TestSeedMatchesCrawl compares the two).

// seedFigures are what the seeded mode adds to the report.
type seedFigures struct {
	seeded      time.Duration // writing every post into the store
	seededCount int           // posts the store counted afterwards
	storeSeeded int64         // bytes under --data after seeding
}

// patience stretches a wait sized for the default community to the posts
// of this run: serve's first indexing grows with them (49.8 s at 100,000
// posts in docs/benchmark-100k.md), and a million posts must not time out
// on the 15 minutes meant for a hundred thousand.
func (b *bench) patience(d time.Duration) time.Duration {
	if n := b.p.feeds * b.p.posts; n > target100k {
		return d * time.Duration((n+target100k-1)/target100k)
	}
	return d
}

// seedPosts writes every blog's posts into the store under data, one feed
// at a time, and the matching feeds.txt to b.feeds. Posts are synthesized
// one blog ahead of the store on another goroutine, so at most a few blogs
// are in memory at once.
func (b *bench) seedPosts(ctx context.Context, rep *report, c *corpus, data string) error {
	p := b.p
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	nHosts := min(p.hosts, p.feeds)
	urls := make([]string, p.feeds)
	var list bytes.Buffer
	list.WriteString("# the benchmark's synthetic community, seeded into the store (no server answers these)\n")
	for i := range p.feeds {
		urls[i] = seedFeedURL(i, nHosts)
		list.WriteString(urls[i] + "\n")
	}
	b.feeds = filepath.Join(b.work, "feeds.txt")
	if err := os.WriteFile(b.feeds, list.Bytes(), 0o644); err != nil {
		return err
	}
	srcs, err := crawler.ReadFeedList(bytes.NewReader(list.Bytes()))
	if err != nil {
		return fmt.Errorf("seed: read the feed list: %w", err)
	}
	db, err := store.Open(ctx, filepath.Join(data, "vplanet.db"))
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer db.Close()
	if _, _, err := db.SyncFeeds(ctx, srcs); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	feeds, err := db.FindFeeds(ctx, vplanet.FeedFilter{})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	byURL := make(map[string]*vplanet.Feed, len(feeds))
	for _, f := range feeds {
		byURL[f.URL] = f
	}

	type blog struct {
		n     int
		ja    bool
		posts []*vplanet.Post
		text  int
	}
	// Two blogs ahead is enough to keep the store busy and bounds memory
	// at a few blogs whatever -feeds is.
	blogs := make(chan blog, 2)
	genCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(blogs)
		for i := range p.feeds {
			ja := i%5 < 3 // as newCommunity: three blogs in five write Japanese
			rng := rand.New(rand.NewPCG(p.seed, uint64(i)))
			synth := c.synthesize(rng, i, p.posts, 3000, ja)
			x := blog{n: i, ja: ja}
			for _, sp := range synth {
				post := seedPost(seedBase(i, nHosts), blogName(i, ja), ja, sp)
				x.text += len(post.Title) + len(post.Text)
				x.posts = append(x.posts, post)
			}
			select {
			case blogs <- x:
			case <-genCtx.Done():
				return
			}
		}
	}()

	start := time.Now()
	last := start
	var stored, text, ja int
	for x := range blogs {
		f := byURL[urls[x.n]]
		if f == nil {
			return fmt.Errorf("seed: feed %s is not in the store after syncing feeds.txt", urls[x.n])
		}
		now := time.Now().UTC()
		f.Title = blogName(x.n, x.ja)
		f.SiteURL = seedBase(x.n, nHosts)
		f.Status = vplanet.StatusOK
		f.LastSuccess, f.LastAttempt = now, now
		f.NextAttempt = now.Add(30 * time.Minute)
		created, _, err := db.SaveFetch(ctx, f, x.posts)
		if err != nil {
			return fmt.Errorf("seed: store blog %d: %w", x.n, err)
		}
		if created != len(x.posts) {
			return fmt.Errorf("seed: blog %d: %d posts created, want %d", x.n, created, len(x.posts))
		}
		stored += created
		text += x.text
		if x.ja {
			ja += created
		}
		if t := time.Now(); t.Sub(last) >= 5*time.Second || stored == rep.posts {
			last = t
			rate := float64(stored) / t.Sub(start).Seconds()
			left := time.Duration(float64(rep.posts-stored) / rate * float64(time.Second))
			b.say("  seeded %s of %s posts (%d%%), %s posts/s, about %s left",
				num(stored), num(rep.posts), stored*100/rep.posts, num(int(rate)), left.Round(time.Second))
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := db.CountPosts(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if n != rep.posts {
		return fmt.Errorf("seed: the store holds %d posts, want %d", n, rep.posts)
	}
	rep.seeded = time.Since(start)
	rep.seededCount = n
	rep.jaShare = float64(ja) / float64(n)
	rep.textMB = float64(text) / 1e6
	return nil
}

// seedFeedURL is blog n's feed URL, on the loopback address the full run
// would serve it from; seeded runs serve nothing, so there is no port.
func seedFeedURL(n, nHosts int) string {
	return seedBase(n, nHosts) + "feed.atom"
}

func seedBase(n, nHosts int) string {
	return fmt.Sprintf("http://127.0.0.%d/blog%d/", n%nHosts+1, n)
}

// blogName is blog n's title, as renderAtom writes it.
func blogName(n int, ja bool) string {
	if ja {
		return fmt.Sprintf("仮想化メモ %d", n)
	}
	return fmt.Sprintf("Virtual Notes %d", n)
}

// seedPost is sp as the crawler stores it from the Atom entry renderAtom
// writes for it: the content is that entry's HTML (paragraphs, escaped
// text; nothing for the sanitizer to take out), the text its paragraphs on
// lines of their own with runs of white space made one space, the author
// the blog, the language the feed's, and the ID and hash computed as the
// crawler computes them. The title is taken as it is: the crawler would
// strip markup from it, and the corpus's titles carry none (no < or > in
// any of its 426 Title lines).
func seedPost(base, author string, ja bool, sp synthPost) *vplanet.Post {
	var content strings.Builder
	lines := make([]string, 0, len(sp.Paras))
	for i, para := range sp.Paras {
		if i > 0 {
			content.WriteString("\n") // the parser trims the last one
		}
		content.WriteString("<p>" + html.EscapeString(para) + "</p>")
		if line := strings.Join(strings.Fields(para), " "); line != "" {
			lines = append(lines, line)
		}
	}
	lang := "en"
	if ja {
		lang = "ja"
	}
	post := &vplanet.Post{
		GUID:      "tag:bench.vplanet.example,2026:" + sp.ID,
		URL:       base + sp.ID,
		Title:     sp.Title,
		Author:    author,
		Published: sp.Published,
		Updated:   sp.Published,
		Content:   content.String(),
		Text:      strings.Join(lines, "\n"),
		Lang:      lang,
	}
	post.ID = crawler.PostID(post.GUID, post.URL, post.Title, post.Content)
	// The crawler's digest: what the post shows, NUL-separated.
	h := sha256.New()
	for i, s := range []string{post.Title, post.URL, post.Content, post.Author, sp.Published.Format(time.RFC3339)} {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(s))
	}
	post.Hash = hex.EncodeToString(h.Sum(nil))
	return post
}

// runSeeded is the seeded run: the store filled by seedPosts, then the
// phases that need no crawl.
func (b *bench) runSeeded(ctx context.Context, rep *report, c *corpus) error {
	p := b.p
	rep.posts = p.feeds * p.posts
	b.distinct = distinctQueries(c, distinctCount, p.seed)
	rep.distinct = len(b.distinct)
	data := filepath.Join(b.work, "data")
	b.say("seeding %s posts (%d feeds × %d) into the store, no crawl", num(rep.posts), p.feeds, p.posts)
	if err := b.seedPosts(ctx, rep, c, data); err != nil {
		return err
	}
	rep.storeSeeded = dirSize(data)
	b.say("  seeded in %s; store %s", rep.seeded.Round(time.Second), mib(rep.storeSeeded))
	if err := b.serving(ctx, rep, data); err != nil {
		return err
	}
	// A long run says what it has measured so far, so a later failure
	// leaves these figures in the log.
	b.say("  search p50 %s, p99 %s one client; %s req/s with %d clients; serve's peak RSS %s; index %s",
		ms(rep.searchLat.pct(50)), ms(rep.searchLat.pct(99)), num(int(rep.searchRPS)), p.clients, mib(rep.served.hwm), mib(rep.indexSize))
	if err := b.reindexing(ctx, rep, data); err != nil {
		return err
	}
	b.say("  ready %s after a restart; that serve's peak RSS %s, %s after the page cache was dropped",
		secs(rep.restartReady), mib(rep.restarted.hwm), mib(rep.afterDrop.hwm))
	skip := fmt.Errorf("%w: -seed-store (the baselines read every post into memory at once)", errSkip)
	rep.naiveErr, rep.groongaErr = skip, skip
	return nil
}

// seededNote is the paragraph the report adds in the seeded mode.
func (r *report) seededNote() string {
	if !r.p.seedStore {
		return ""
	}
	p := r.p
	return fmt.Sprintf("- Community: %d feeds × %d posts = %s posts (%.0f%% Japanese), %.1f MB of text; seed %d\n",
		p.feeds, p.posts, num(r.posts), r.jaShare*100, r.textMB, p.seed) + fmt.Sprintf("- **Posts were seeded into the store, not crawled**: `-seed-store` wrote the community's %s posts "+
		"(the same posts a crawl of its feeds stores) straight into the store with the store package in %s (store %s), "+
		"and no feed was served or fetched. So this table has no rows for the first crawl, the all-304 re-crawl, "+
		"the crawl while serve runs and search during it, and no naive or Groonga baseline; see the full runs for those. "+
		"Every other row is measured as in a full run: \"serve started on the filled store without an index\" is a serve "+
		"that built the whole index itself from the seeded store, as a replica joining does, and the peak RSS row is of "+
		"that serve, the process that indexed every post, after every load\n",
		num(r.seededCount), r.seeded.Round(time.Second), mib(r.storeSeeded))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"vplanet"
)

// bench is one run of the harness.
type bench struct {
	p        *params
	root     string // the module
	work     string
	progress io.Writer
	log      *os.File // the vplanet processes' stderr
	bin      string
	cm       *community
	feeds    string  // feeds.txt
	distinct []query // asked once each: see distinctQueries
}

// distinctCount is the number of distinct queries asked.
const distinctCount = 300

// report is everything measured.
type report struct {
	p        *params
	machine  machine
	started  time.Time
	total    time.Duration
	posts    int
	jaShare  float64
	distinct int // queries asked once each
	textMB   float64

	crawl, recrawl           procResult
	crawlSummary, recrawlSum string
	recrawl304               int64

	coldReady, coldCaughtUp time.Duration // serve on a filled store without index
	restartReady            time.Duration // serve on a filled store with its index
	// restarted and afterDrop are the memory of that serve after every
	// query asked once, then of the same after the index's pages were
	// dropped from the kernel's cache.
	restarted, afterDrop memFigures

	liveCrawl      time.Duration // crawl while serve runs
	liveSearchable time.Duration // from that crawl's end to lag 0
	liveLat        latency       // searches during that crawl and catch-up

	searchLat        latency
	searchPer        []latency // per query
	distinctLat      latency   // the distinct queries, each asked once
	searchRPS        float64
	feed200RPS       float64
	feed304RPS       float64
	served           memFigures // the serve that indexed every post, after all of the loads
	serveRSSIndexed  int64      // VmHWM once every post was indexed, before the loads
	serveFileIndexed int64      // the largest RssFile seen once every post was indexed, before the loads
	indexSize        int64
	storeSize        int64
	hitCounts        []int

	reindex     procResult
	reindexMsg  string
	reindexTook time.Duration // as the command reports it
	reindexRate float64

	naive    naiveResult
	naiveErr error

	groonga        *groongaResult
	groongaErr     error
	groongaVersion string

	seedFigures // -seed-store only
}

// groongaResult is Groonga's side of the table.
type groongaResult struct {
	load      time.Duration
	size      int64
	lat       latency
	per       []latency
	distinct  latency
	rps       float64
	dict      string
	hitCounts []int
}

func (b *bench) say(format string, args ...any) {
	fmt.Fprintf(b.progress, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) run(ctx context.Context) (*report, error) {
	p := b.p
	rep := &report{p: p, started: time.Now().UTC(), machine: describeMachine(ctx)}
	c, err := loadCorpus(p.corpus)
	if err != nil {
		return nil, err
	}
	// A kept work directory may hold an earlier run: start afresh.
	for _, d := range []string{"data", "live", "naive", "groonga"} {
		if err := os.RemoveAll(filepath.Join(b.work, d)); err != nil {
			return nil, err
		}
	}
	if b.log, err = os.Create(filepath.Join(b.work, "vplanet.log")); err != nil {
		return nil, err
	}
	defer b.log.Close()

	if b.bin = p.bin; b.bin == "" {
		b.say("building cmd/vplanet")
		if b.bin, err = buildBinary(ctx, b.root, b.work); err != nil {
			return nil, err
		}
	}
	if p.seedStore {
		if err := b.runSeeded(ctx, rep, c); err != nil {
			return nil, err
		}
		rep.total = time.Since(rep.started)
		b.say("done in %s", rep.total.Round(time.Second))
		return rep, nil
	}
	b.say("serving %d feeds × %d posts on %d loopback addresses, %s latency", p.feeds, p.posts, min(p.hosts, p.feeds), p.latency)
	if b.cm, err = newCommunity(c, p.seed, p.feeds, p.posts, p.hosts, p.latency); err != nil {
		return nil, err
	}
	defer b.cm.Close()
	b.feeds = filepath.Join(b.work, "feeds.txt")
	if err := os.WriteFile(b.feeds, b.cm.feedList(), 0o644); err != nil {
		return nil, err
	}
	b.distinct = distinctQueries(c, distinctCount, p.seed)
	rep.distinct = len(b.distinct)
	rep.posts = b.cm.posts
	rep.jaShare = float64(b.cm.jaPosts) / float64(b.cm.posts)

	data := filepath.Join(b.work, "data")
	if err := b.crawls(ctx, rep, data); err != nil {
		return nil, err
	}
	if err := b.serving(ctx, rep, data); err != nil {
		return nil, err
	}
	if err := b.reindexing(ctx, rep, data); err != nil {
		return nil, err
	}
	if err := b.live(ctx, rep, filepath.Join(b.work, "live")); err != nil {
		return nil, err
	}

	posts, err := loadPosts(ctx, filepath.Join(data, "vplanet.db"))
	if err != nil {
		return nil, fmt.Errorf("read the posts back: %w", err)
	}
	var text int
	for _, post := range posts {
		text += len(post.Title) + len(post.Text)
	}
	rep.textMB = float64(text) / 1e6
	if p.naive {
		b.say("naive Bleve + kagome baseline: indexing %d posts", len(posts))
		rep.naive, rep.naiveErr = indexNaive(posts, filepath.Join(b.work, "naive"))
		os.RemoveAll(filepath.Join(b.work, "naive"))
	} else {
		rep.naiveErr = fmt.Errorf("%w: -naive=false", errSkip)
	}
	if p.groonga {
		b.say("Groonga + MeCab baseline: loading %d posts", len(posts))
		rep.groonga, rep.groongaErr = b.groonga(ctx, rep, posts)
	} else {
		rep.groongaErr = fmt.Errorf("%w: -groonga=false", errSkip)
	}
	if rep.groongaErr != nil && !errors.Is(rep.groongaErr, errSkip) {
		b.say("Groonga baseline failed: %v", rep.groongaErr)
	}
	rep.total = time.Since(rep.started)
	b.say("done in %s", rep.total.Round(time.Second))
	return rep, nil
}

var reReindex = regexp.MustCompile(`reindexed \d+ posts in ([\d.]+)s`)

var reSummary = regexp.MustCompile(`(\d+) feeds: (\d+) ok, (\d+) not modified, (\d+) failed; (\d+) new`)

// crawls runs the first crawl into an empty store and the all-304 re-crawl.
func (b *bench) crawls(ctx context.Context, rep *report, data string) error {
	b.say("first crawl")
	var err error
	rep.crawl, err = runProc(ctx, b.log, b.bin, "crawl", "--all", "--quiet", "--data", data, "--feeds", b.feeds)
	if err != nil {
		return err
	}
	rep.crawlSummary = strings.TrimSpace(rep.crawl.Stdout)
	m := reSummary.FindStringSubmatch(rep.crawlSummary)
	if m == nil {
		return fmt.Errorf("first crawl printed %q, want a summary", rep.crawlSummary)
	}
	if ok, _ := strconv.Atoi(m[2]); ok != b.p.feeds {
		return fmt.Errorf("first crawl: %s; want all %d feeds ok (log: %s)", rep.crawlSummary, b.p.feeds, b.log.Name())
	}
	if n, _ := strconv.Atoi(m[5]); n != rep.posts {
		return fmt.Errorf("first crawl: %s; want %d new posts", rep.crawlSummary, rep.posts)
	}
	b.say("  %s", rep.crawlSummary)

	b.say("re-crawl, every feed unchanged")
	before := b.cm.notModified.Load()
	if rep.recrawl, err = runProc(ctx, b.log, b.bin, "crawl", "--all", "--quiet", "--data", data, "--feeds", b.feeds); err != nil {
		return err
	}
	rep.recrawlSum = strings.TrimSpace(rep.recrawl.Stdout)
	rep.recrawl304 = b.cm.notModified.Load() - before
	b.say("  %s (%d answered 304)", rep.recrawlSum, rep.recrawl304)
	return nil
}

// serving starts serve on the filled store without an index and measures
// readiness, catch-up, search, feeds and memory.
func (b *bench) serving(ctx context.Context, rep *report, data string) error {
	p := b.p
	hc := newClient(p.clients)
	b.say("serve on the filled store, no index yet")
	s, err := startServe(ctx, b.log, b.bin, data, b.feeds)
	if err != nil {
		return err
	}
	defer func() {
		if s != nil {
			s.stop()
		}
	}()
	ready, err := s.waitHealth(ctx, hc, b.patience(10*time.Minute), func(h health) bool { return h.code == http.StatusOK })
	if err != nil {
		return err
	}
	rep.coldReady = ready.Sub(s.started)
	done, err := s.waitHealth(ctx, hc, b.patience(15*time.Minute), func(h health) bool {
		return h.code == http.StatusOK && h.Lag == 0 && h.Posts == rep.posts
	})
	if err != nil {
		return err
	}
	rep.coldCaughtUp = done.Sub(s.started)
	b.say("  ready after %s, every post indexed after %s", rep.coldReady.Round(time.Millisecond), rep.coldCaughtUp.Round(time.Millisecond))

	urls := urlsOf(queries, s.base, query.vplanetURL)
	for _, u := range urls {
		n, err := searchTotal(ctx, hc, u)
		if err != nil {
			return err
		}
		rep.hitCounts = append(rep.hitCounts, n)
	}
	b.say("search: %d requests, one client", p.requests)
	rep.serveRSSIndexed = s.peakRSS()
	rep.serveFileIndexed = s.mem.file.Load()
	if _, _, err := sequential(ctx, hc, urls, len(urls)); err != nil { // warm up
		return err
	}
	if rep.searchLat, rep.searchPer, err = sequential(ctx, hc, urls, p.requests); err != nil {
		return err
	}
	b.say("search: %d distinct queries, each once", len(b.distinct))
	if rep.distinctLat, _, err = sequential(ctx, hc, urlsOf(b.distinct, s.base, query.vplanetURL), len(b.distinct)); err != nil {
		return err
	}
	b.say("search: %d clients for %s", p.clients, p.duration)
	if rep.searchRPS, err = concurrent(ctx, hc, urls, nil, http.StatusOK, p.clients, p.duration); err != nil {
		return err
	}
	b.say("/feed.atom: 200 and 304, %d clients", p.clients)
	feed := []string{s.base + "/feed.atom"}
	if rep.feed200RPS, err = concurrent(ctx, hc, feed, nil, http.StatusOK, p.clients, p.duration); err != nil {
		return err
	}
	etag, err := etagOf(ctx, hc, feed[0])
	if err != nil {
		return err
	}
	inm := http.Header{"If-None-Match": {etag}}
	if rep.feed304RPS, err = concurrent(ctx, hc, feed, inm, http.StatusNotModified, p.clients, p.duration); err != nil {
		return err
	}
	rep.served = s.stopMem()
	s = nil
	rep.indexSize = dirSize(filepath.Join(data, "index"))
	rep.storeSize = dirSize(data) - rep.indexSize
	return nil
}

// reindexing runs vplanet reindex with no server, then measures how soon a
// restarted serve answers on its filled store and index, and its memory
// once it has answered every query, fixed and distinct, once: the memory
// of a serve that holds the posts without having indexed them itself. It
// measures that memory again on a serve started after the index's pages
// were dropped from the kernel's cache, as after a reboot.
func (b *bench) reindexing(ctx context.Context, rep *report, data string) error {
	b.say("vplanet reindex")
	var err error
	if rep.reindex, err = runProc(ctx, b.log, b.bin, "reindex", "--data", data, "--feeds", b.feeds); err != nil {
		return err
	}
	rep.reindexMsg = strings.TrimSpace(rep.reindex.Stdout)
	// The command's own time leaves out the process's start, as the
	// baselines' times do; without it, the wall time counts.
	rep.reindexTook = rep.reindex.Wall
	if m := reReindex.FindStringSubmatch(rep.reindexMsg); m != nil {
		if s, err := strconv.ParseFloat(m[1], 64); err == nil && s > 0 {
			rep.reindexTook = time.Duration(s * float64(time.Second))
		}
	}
	rep.reindexRate = float64(rep.posts) / rep.reindexTook.Seconds()
	b.say("  %s", rep.reindexMsg)

	b.say("serve restarted on the filled store and index")
	if rep.restarted, rep.restartReady, err = b.askEachOnce(ctx, data); err != nil {
		return err
	}
	b.say("  again, the index dropped from the page cache")
	if err := dropCache(filepath.Join(data, "index")); err != nil {
		return err
	}
	rep.afterDrop, _, err = b.askEachOnce(ctx, data)
	return err
}

// askEachOnce starts serve on data, asks each fixed and distinct query
// once, stops it, and returns its memory and how soon it was ready.
func (b *bench) askEachOnce(ctx context.Context, data string) (memFigures, time.Duration, error) {
	hc := newClient(1)
	s, err := startServe(ctx, b.log, b.bin, data, b.feeds)
	if err != nil {
		return memFigures{}, 0, err
	}
	defer s.stop() // stopped below unless a step fails
	ready, err := s.waitHealth(ctx, hc, b.patience(5*time.Minute), func(h health) bool { return h.code == http.StatusOK })
	if err != nil {
		return memFigures{}, 0, err
	}
	urls := append(urlsOf(queries, s.base, query.vplanetURL), urlsOf(b.distinct, s.base, query.vplanetURL)...)
	if _, _, err := sequential(ctx, hc, urls, len(urls)); err != nil {
		return memFigures{}, 0, err
	}
	return s.stopMem(), ready.Sub(s.started), nil
}

// live starts serve on an empty store, crawls while it runs, and measures
// from the crawl's end until every post is searchable, with one client
// searching about ten times a second all along.
func (b *bench) live(ctx context.Context, rep *report, data string) error {
	b.say("crawl while serve runs")
	hc := newClient(2)
	s, err := startServe(ctx, b.log, b.bin, data, b.feeds)
	if err != nil {
		return err
	}
	defer s.stop()
	if _, err := s.waitHealth(ctx, hc, time.Minute, func(h health) bool { return h.code == http.StatusOK }); err != nil {
		return err
	}
	probeCtx, stopProbe := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var lat latency
	var probeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; probeCtx.Err() == nil; i++ {
			start := time.Now()
			if err := get(probeCtx, hc, queries[i%len(queries)].vplanetURL(s.base), nil, http.StatusOK); err != nil {
				if probeCtx.Err() == nil {
					probeErr = err
				}
				return
			}
			lat = append(lat, time.Since(start))
			// A reader, not a load: about ten searches a second.
			time.Sleep(100 * time.Millisecond)
		}
	}()
	defer func() {
		stopProbe()
		wg.Wait()
	}()
	crawl, err := runProc(ctx, b.log, b.bin, "crawl", "--all", "--quiet", "--data", data, "--feeds", b.feeds)
	if err != nil {
		return err
	}
	end := time.Now()
	rep.liveCrawl = crawl.Wall
	done, err := s.waitHealth(ctx, hc, 15*time.Minute, func(h health) bool {
		return h.code == http.StatusOK && h.Lag == 0 && h.Posts == rep.posts
	})
	if err != nil {
		return err
	}
	rep.liveSearchable = done.Sub(end)
	stopProbe()
	wg.Wait()
	if probeErr != nil {
		return fmt.Errorf("search during the crawl: %w", probeErr)
	}
	slices.Sort(lat)
	rep.liveLat = lat
	b.say("  crawl %s; every post searchable %s after it ended; %d searches meanwhile, p99 %s",
		crawl.Wall.Round(time.Millisecond), rep.liveSearchable.Round(time.Millisecond), len(lat), lat.pct(99).Round(time.Microsecond))
	return nil
}

// groonga loads posts into Groonga and asks it the same queries.
func (b *bench) groonga(ctx context.Context, rep *report, posts []*vplanet.Post) (*groongaResult, error) {
	dir := filepath.Join(b.work, "groonga")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	g, err := newGroonga(ctx, dir)
	if err != nil {
		return nil, err
	}
	rep.groongaVersion = g.version
	res := &groongaResult{dict: g.dict}
	if res.load, err = g.load(ctx, posts); err != nil {
		return nil, err
	}
	res.size = dirSize(dir)
	b.say("  loaded in %s; querying", res.load.Round(time.Millisecond))
	s, err := g.serve(ctx)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	hc := newClient(b.p.clients)
	urls := urlsOf(queries, s.base, query.groongaURL)
	for _, q := range queries {
		n, err := s.hits(ctx, hc, q)
		if err != nil {
			return nil, err
		}
		res.hitCounts = append(res.hitCounts, n)
	}
	if _, _, err := sequential(ctx, hc, urls, len(urls)); err != nil {
		return nil, err
	}
	if res.lat, res.per, err = sequential(ctx, hc, urls, b.p.requests); err != nil {
		return nil, err
	}
	if res.rps, err = concurrent(ctx, hc, urls, nil, http.StatusOK, b.p.clients, b.p.duration); err != nil {
		return nil, err
	}
	if res.distinct, _, err = sequential(ctx, hc, urlsOf(b.distinct, s.base, query.groongaURL), len(b.distinct)); err != nil {
		return nil, err
	}
	return res, nil
}

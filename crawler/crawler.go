// Package crawler fetches the feeds listed in feeds.txt, decodes and parses
// them, normalizes their items into posts and saves each feed's outcome in
// the store.
//
// It is polite (conditional GET, a per-host limit, backoff on errors,
// Retry-After, robots.txt for post pages), robust (timeouts, size limits,
// a budget for the bodies held at once, any charset, hostile markup) and
// independent per feed: one broken feed never stops the others.
//
// Each feed is checked again on its own rhythm, learned from how often its
// blog posts and from its TTL and caching headers, between 15 minutes and
// a day (see rhythm). Where a feed carries only excerpts, the main text of
// each new or changed post's page is fetched and indexed instead (see
// Crawler.fetchPages).
package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"vplanet"
	"vplanet/websub"
)

// Store is what the crawler needs of the store; *store.DB satisfies it.
type Store interface {
	FindFeeds(ctx context.Context, f vplanet.FeedFilter) ([]*vplanet.Feed, error)
	SaveFetch(ctx context.Context, feed *vplanet.Feed, posts []*vplanet.Post) (created, updated int, err error)
}

// Claimer is a store that hands out due feeds a few at a time, so that
// crawls running at once in several processes share them and fetch each
// once; *store.DB is one. A crawl claims as it goes when its store is one
// and says crawls are shared.
type Claimer interface {
	// SharedCrawls reports whether crawls in other processes may run at
	// the same time, so that a crawl must claim each feed before fetching
	// it. Where crawls take turns (a lock), claiming would only slow them.
	SharedCrawls() bool
	// ClaimFeeds claims, of the feeds with these IDs, those this run may
	// fetch (due, not held by another crawl), in the order of ids.
	ClaimFeeds(ctx context.Context, start time.Time, all bool, ids []int64) ([]*vplanet.Feed, error)
}

// claimBatch is how many feeds a crawl claims at a time, in the order it
// would fetch them (hosts interleaved): few enough that crawls running at
// once share the work, and a round trip to the store per eight fetches
// costs little beside them.
const claimBatch = 8

// Options configure a Crawler. The zero value of each field means its
// default.
type Options struct {
	Logger *slog.Logger
	// Client, when set, makes every request, and is trusted to refuse the
	// addresses it must: the crawler's own clients refuse non-public
	// addresses to every feed not listed at one (see guard).
	Client  *http.Client
	Workers int           // feeds fetched at once; default 64 (PerHost keeps each host polite)
	PerHost int           // requests at once to one host (host:port); default 2
	MaxBody int64         // largest body read, in bytes; default 16 MiB
	Timeout time.Duration // per request, the whole body included; default 30s
	// Interval is when a fetched feed is due again when neither its posts'
	// dates nor its TTL or caching headers say; default 30m. Otherwise a
	// feed follows its own rhythm (see rhythm), between MinRhythm (default
	// 15m) and MaxRhythm (default 2h): a quiet blog is still checked at
	// least every MaxRhythm.
	Interval             time.Duration
	MinRhythm, MaxRhythm time.Duration
	// BodyBudget bounds the bytes of feed bodies fetched and not yet
	// parsed, across all workers; default 32 MiB (raised, if needed, to
	// MaxBody plus 256 KiB per worker). Feeds being parsed, or parsed and
	// waiting for the store, are bounded apart (see parseBudget), and so
	// are post pages.
	BodyBudget int64
	// SkipPages turns off fetching the pages of posts whose feed item is
	// only an excerpt, and the blog's home page for its icon (the icon is
	// then looked for at /favicon.ico only). By default their main text
	// is fetched and indexed, where the site's robots.txt allows it.
	SkipPages bool
	// Subscriber, when set, is told the WebSub hubs of every feed fetched,
	// and slows the polling of feeds whose hub pushes.
	Subscriber Subscriber

	// public replaces publicAddr, for tests: on loopback, a test declares
	// one loopback address public and keeps the others private.
	public func(netip.Addr) bool
	// unboundedParse lifts the bound on feeds parsed and held at once, for
	// the benchmark that measures what the bound saves.
	unboundedParse bool
}

// parseBudget bounds the bytes of feed bodies whose feeds are being parsed,
// or are parsed and wait for the store, at once. A parsed feed costs about
// three times its body while it is parsed (gofeed's tree, the decoded
// text, the posts) and twice while its posts wait for the store, which
// saves one feed at a time: without the bound, every worker could hold a
// parsed feed, and a crawl's memory grew with the workers times the size
// of their feeds. 16 MiB keeps a crawl of any feeds under 256 MiB (see
// BenchmarkCrawlMemory) while enough feeds are always parsed and ready for
// the store that the crawl is no slower.
const parseBudget = 16 << 20

// Crawler crawls the store's feeds. It is safe for concurrent use, though
// runs are meant to be one at a time.
type Crawler struct {
	store    Store
	log      *slog.Logger
	open     *http.Client // may connect anywhere: for feeds listed at private addresses
	guarded  *http.Client // connects to public addresses only
	public   func(netip.Addr) bool
	workers  int
	maxBody  int64
	timeout  time.Duration
	interval time.Duration
	bounds   bounds
	hosts    *hostLimiter
	bodies   *budget // feed bodies, from their fetch until they are parsed
	// pageBodies holds the bodies of post pages and robots.txt files: they
	// are fetched by feeds that hold room in parsing, which must never wait
	// for room that feeds waiting for parsing hold.
	pageBodies *budget
	// parsing bounds the feeds being parsed, or parsed and waiting for the
	// store, by the size of their bodies (see parseBudget).
	parsing *budget
	pages   bool
	norm    *normalizer
	subs    Subscriber
}

// New returns a Crawler that reads its feeds from st and saves to it.
func New(st Store, opts Options) *Crawler {
	c := &Crawler{
		store:    st,
		log:      opts.Logger,
		open:     opts.Client,
		guarded:  opts.Client,
		public:   publicAddr,
		workers:  opts.Workers,
		maxBody:  opts.MaxBody,
		timeout:  opts.Timeout,
		interval: opts.Interval,
		pages:    !opts.SkipPages,
		norm:     newNormalizer(),
		subs:     opts.Subscriber,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.workers <= 0 {
		c.workers = 64
	}
	perHost := opts.PerHost
	if perHost <= 0 {
		perHost = 2
	}
	if c.maxBody <= 0 {
		c.maxBody = 16 << 20
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	c.bounds = defaultBounds
	if opts.MinRhythm > 0 {
		c.bounds.min = opts.MinRhythm
	}
	if opts.MaxRhythm > 0 {
		c.bounds.max = opts.MaxRhythm
	}
	c.bounds.max = max(c.bounds.max, c.bounds.min)
	if c.interval <= 0 {
		c.interval = 30 * time.Minute
	}
	if opts.public != nil {
		c.public = opts.public
	}
	if c.open == nil {
		c.open, c.guarded = newClients(c.timeout, perHost, c.public)
	}
	c.hosts = &hostLimiter{limit: perHost, sems: map[string]chan struct{}{}}
	if opts.BodyBudget <= 0 {
		opts.BodyBudget = 32 << 20
	}
	// Each worker has one request in flight at a time.
	c.bodies = newBudget(opts.BodyBudget, c.maxBody, c.workers)
	c.pageBodies = newBudget(0, c.maxBody, c.workers)
	c.parsing = &budget{size: max(parseBudget, c.maxBody+int64(c.workers)*admitChunk)}
	if opts.unboundedParse {
		c.parsing = newBudget(1<<62, 0, 0)
	}
	return c
}

// RunOptions select what one run crawls.
type RunOptions struct {
	All      bool                  // every active feed, due or not (feeds that are gone excepted)
	Progress func(done, total int) // called after each feed, never concurrently; may be nil
}

// Summary counts what one run did.
type Summary struct {
	Feeds, OK, NotModified, Failed, New, Updated int
	Duration                                     time.Duration
}

// String writes the summary on one line, as `vplanet crawl` prints it.
func (s Summary) String() string {
	return fmt.Sprintf("%d feeds: %d ok, %d not modified, %d failed; %d new, %d updated posts in %.1fs",
		s.Feeds, s.OK, s.NotModified, s.Failed, s.New, s.Updated, s.Duration.Seconds())
}

// outcome is how one feed's fetch ended.
type outcome int

const (
	fetched outcome = iota
	notModified
	failed
)

// Run crawls due feeds (all active with All), each independently, saving each feed's outcome
// with SaveFetch as soon as it is fetched. A feed's failure is recorded, never returned; Run
// returns an error only when the run itself could not go on (the store unreadable or refusing
// writes, ctx cancelled), with the summary of what it did before.
func (c *Crawler) Run(ctx context.Context, o RunOptions) (Summary, error) {
	start := time.Now()
	filter := vplanet.FeedFilter{Active: true}
	if !o.All {
		filter.DueBy = start.UTC()
	}
	feeds, err := c.store.FindFeeds(ctx, filter)
	if err != nil {
		return Summary{}, fmt.Errorf("crawl: find feeds: %w", err)
	}
	feeds = interleaveHosts(notGone(feeds))
	claimer, claims := c.store.(Claimer)
	claims = claims && claimer.SharedCrawls()

	rs := &runState{robots: newRobotsCache()}
	var (
		mu       sync.Mutex
		sum      = Summary{Feeds: len(feeds)} // with claims, those claimed
		total    = len(feeds)                 // for Progress; with claims, those due at the start
		storeErr error                        // the first write the store refused
		broken   = make(chan struct{})        // closed with storeErr: stop dispatching
		jobs     = make(chan *vplanet.Feed)
		wg       sync.WaitGroup
	)
	for range min(c.workers, len(feeds)) {
		wg.Go(func() {
			for f := range jobs {
				kind, created, updated, err := c.crawlOne(ctx, rs, f, start)
				if ctx.Err() != nil {
					continue // cancelled: neither a success nor the feed's failure
				}
				mu.Lock()
				switch {
				case err != nil:
					sum.Failed++
					if storeErr == nil {
						storeErr = err
						close(broken)
					}
				case kind == fetched:
					sum.OK++
				case kind == notModified:
					sum.NotModified++
				default:
					sum.Failed++
				}
				sum.New += created
				sum.Updated += updated
				done := sum.OK + sum.NotModified + sum.Failed
				if o.Progress != nil {
					o.Progress(done, max(total, done))
				}
				mu.Unlock()
			}
		})
	}
	var pending []*vplanet.Feed
	if claims {
		// The feeds found due are this run's order; the claims decide
		// which of them this process fetches.
		pending, feeds, sum.Feeds = feeds, nil, 0
	}
dispatch:
	for len(feeds) > 0 || len(pending) > 0 {
		if claims {
			chunk := pending[:min(claimBatch, len(pending))]
			pending = pending[len(chunk):]
			ids := make([]int64, len(chunk))
			for i, f := range chunk {
				ids[i] = f.ID
			}
			batch, err := claimer.ClaimFeeds(ctx, start.UTC(), o.All, ids)
			if err != nil {
				mu.Lock()
				if storeErr == nil && ctx.Err() == nil {
					storeErr = fmt.Errorf("claim feeds: %w", err)
				}
				mu.Unlock()
				break
			}
			mu.Lock()
			sum.Feeds += len(batch)
			mu.Unlock()
			feeds = batch // claimed by another crawl: not in batch
		}
		for _, f := range feeds {
			select {
			case jobs <- f:
			case <-ctx.Done():
				break dispatch
			case <-broken:
				break dispatch
			}
		}
		feeds = nil
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() == nil && storeErr == nil {
		c.updateFavicons(ctx, rs)
	}
	sum.Duration = time.Since(start)
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("crawl: %w", err)
	}
	if storeErr != nil {
		// A feed's own failure is recorded in the feed; a store that refuses
		// to write (a full disk) would refuse every feed after it, so the run
		// stops and says so.
		return sum, fmt.Errorf("crawl stopped: %w", storeErr)
	}
	return sum, nil
}

// crawlOne fetches one feed and saves its outcome. The error is the
// store's: a feed's own failure is recorded in the feed.
func (c *Crawler) crawlOne(ctx context.Context, rs *runState, f *vplanet.Feed, runStart time.Time) (kind outcome, created, updated int, err error) {
	start := time.Now()
	// The room the feed holds in c.parsing, given back once its posts are
	// saved.
	var room int64
	defer func() { c.parsing.release(room) }()
	posts, kind, every := c.crawlSafely(ctx, rs, f, start.UTC(), &room)
	if ctx.Err() != nil {
		return kind, 0, 0, nil
	}
	if kind != failed {
		// Due again its rhythm after the run started, less a little: the
		// next run, on a schedule of that period, must find the feed due
		// even if this run reached it late.
		f.NextAttempt = runStart.UTC().Add(every - dueSlack(every))
	}
	for _, p := range posts {
		p.FeedID = f.ID
	}
	created, updated, err = c.store.SaveFetch(ctx, f, posts)
	if errors.Is(err, vplanet.ErrNotFound) {
		// Purged from the store while it was fetched: nothing to keep.
		c.log.Info("feed left the store during the crawl", "feed", f.URL)
		return failed, 0, 0, nil
	}
	if err != nil {
		c.log.Error("save feed", "feed", f.URL, "err", err)
		return failed, 0, 0, fmt.Errorf("save %s: %w", f.URL, err)
	}
	if kind != failed && c.iconDue(f, start) {
		rs.mu.Lock()
		rs.iconsDue = append(rs.iconsDue, f)
		rs.mu.Unlock()
	}
	switch kind {
	case failed:
		next := "never (until its line in feeds.txt changes)"
		if !f.NextAttempt.IsZero() {
			next = f.NextAttempt.Format(time.RFC3339)
		}
		c.log.Warn("feed failed", "feed", f.FetchURL(), "error", f.LastError, "errors", f.ErrorCount, "next", next)
	default:
		c.log.Debug("feed crawled", "feed", f.FetchURL(), "posts", len(posts), "new", created,
			"updated", updated, "not_modified", kind == notModified, "took", time.Since(start), "every", every)
	}
	return kind, created, updated, nil
}

// crawlSafely runs crawl, turning a panic into the feed's error.
func (c *Crawler) crawlSafely(ctx context.Context, rs *runState, f *vplanet.Feed, now time.Time, room *int64) (posts []*vplanet.Post, kind outcome, every time.Duration) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("crawler panic", "feed", f.URL, "panic", r, "stack", string(debug.Stack()))
			c.fail(f, fmt.Errorf("internal error while crawling this feed: %v", r), now)
			posts, kind, every = nil, failed, 0
		}
	}()
	return c.crawl(ctx, rs, f, now, room)
}

// crawl fetches, decodes, parses and normalizes one feed, recording what it
// learned in f. every is the feed's rhythm when it did not fail: how long
// until it is checked again. *room is the room crawl took in c.parsing
// for the posts it returns, which the caller gives back once they are
// saved.
func (c *Crawler) crawl(ctx context.Context, rs *runState, f *vplanet.Feed, now time.Time, room *int64) (posts []*vplanet.Post, kind outcome, every time.Duration) {
	// The rhythm the last success gave, kept when the feed has not changed.
	var previous time.Duration
	if f.Status == vplanet.StatusOK && f.ErrorCount == 0 {
		previous = previousRhythm(f.LastAttempt, f.NextAttempt, c.bounds)
	}
	if previous == 0 {
		previous = c.bounds.round(c.interval)
	}
	since := f.LastSuccess
	f.LastAttempt = now
	from := f.FetchURL()
	// Trust follows the line in feeds.txt, not where the feed was found
	// since: a public blog's redirect or autodiscovery link to a private
	// address is refused even when it was pinned by an earlier version.
	private := c.listedPrivate(ctx, f.URL)
	if !c.admit(ctx, room) {
		return nil, failed, 0
	}
	resp, err := c.fetch(ctx, from, f.ETag, f.LastModified, private)
	var he *httpError
	if errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusGone) && from != f.URL {
		// The feed found earlier (by autodiscovery or a redirect) is gone:
		// start again from the URL the operator listed.
		c.log.Info("feed URL lost; trying the listed URL", "feed", f.URL, "lost", from, "error", describe(err))
		from = f.URL
		f.FeedURL, f.Redirect = "", ""
		resp, err = c.fetch(ctx, from, "", "", private)
	}
	if err != nil {
		c.fail(f, err, now)
		return nil, failed, 0
	}
	defer func() { c.done(resp) }()
	if resp.Moved != "" {
		c.moved(f, from, resp.Moved)
	}
	if resp.Status == http.StatusNotModified {
		c.succeed(f, resp, now)
		return nil, notModified, c.subscribe(ctx, f, nil, c.bounds.round(max(previous, resp.MaxAge)), now)
	}
	// The body's room passes from the fetch budget to the parse budget
	// here, where a worker waits, holding only its body, until the feeds
	// ahead of it are parsed and saved.
	if !c.holdForParse(ctx, resp, room) {
		return nil, failed, 0
	}
	var links *websub.Links
	if c.subs != nil {
		links = discover(resp)
	}
	p, err := c.norm.parse(resp.Body, resp.ContentType, resp.URL, f.Lang, now)
	c.done(resp)
	var page *htmlPageError
	if errors.As(err, &page) && page.Feed != "" {
		// A home page: fetch the feed it links, once. No room in the parse
		// budget is held while fetching: the feeds waiting for it hold the
		// fetch budget.
		c.parsing.release(*room)
		*room = 0
		if !c.admit(ctx, room) {
			return nil, failed, 0
		}
		feedURL := page.Feed
		resp, err = c.fetch(ctx, feedURL, "", "", private)
		if err != nil {
			c.fail(f, fmt.Errorf("the page links the feed %s, but: %w", feedURL, wordsError{err}), now)
			return nil, failed, 0
		}
		if !c.holdForParse(ctx, resp, room) {
			return nil, failed, 0
		}
		if c.subs != nil {
			links = discover(resp)
		}
		p, err = c.norm.parse(resp.Body, resp.ContentType, resp.URL, f.Lang, now)
		c.done(resp)
		if err != nil {
			c.fail(f, fmt.Errorf("the page links the feed %s, but: %w", feedURL, wordsError{err}), now)
			return nil, failed, 0
		}
		f.FeedURL = feedURL
		if resp.Moved != "" {
			f.FeedURL = resp.Moved
		}
		if p.SiteURL == "" {
			p.SiteURL = from // the page that linked the feed is the blog's home
		}
	}
	if err != nil {
		c.fail(f, err, now)
		return nil, failed, 0
	}
	if p.Dropped > 0 {
		c.log.Warn("feed has too many items; the rest were dropped", "feed", resp.URL,
			"kept", len(p.Posts), "dropped", p.Dropped)
	}
	f.Title = p.Title
	f.SiteURL = p.SiteURL
	// Kept on the feed until the next full fetch, so that the operator
	// sees it in the feed's status, not only in this run's log.
	f.Dropped = p.Dropped
	c.succeed(f, resp, now)
	if c.pages {
		c.fetchPages(ctx, rs, f, p, since, resp.URL, private)
	}
	dates := make([]time.Time, 0, len(p.Posts))
	for _, post := range p.Posts {
		dates = append(dates, post.Published)
	}
	h := p.Hints
	h.MaxAge = resp.MaxAge
	return p.Posts, fetched, c.subscribe(ctx, f, links, rhythm(dates, h, now, c.interval, c.bounds), now)
}

// admitChunk is the room a feed takes in c.parsing before it is fetched,
// its size being unknown: a worker starts a request only when the feeds
// ahead of it leave room, so that no body waits for parsing while the
// server is still sending it.
const admitChunk = 64 << 10

// admit takes admitChunk in c.parsing for a feed about to be fetched, and
// reports false when ctx ended first. The caller holds nothing else, so
// waiting here holds up no one.
func (c *Crawler) admit(ctx context.Context, room *int64) bool {
	if err := c.parsing.acquire(ctx, admitChunk); err != nil {
		return false
	}
	*room = admitChunk
	return true
}

// holdForParse makes the feed's room in c.parsing the size of resp's body,
// and reports false when ctx ended first. The request is over: waiting here
// costs the server nothing. With room in c.parsing for one largest body
// besides every worker's admitChunk, the first of the feeds waiting here
// always gets its room once the feeds being parsed or saved are done.
func (c *Crawler) holdForParse(ctx context.Context, resp *response, room *int64) bool {
	n := min(int64(len(resp.Body)), c.parsing.size)
	switch {
	case n > *room:
		if err := c.parsing.acquire(ctx, n-*room); err != nil {
			return false
		}
	case n < *room:
		c.parsing.release(*room - n)
	}
	*room = n
	return true
}

// wordsError shows an error in the words describe chooses for it.
type wordsError struct{ err error }

func (e wordsError) Error() string { return describe(e.err) }
func (e wordsError) Unwrap() error { return e.err }

// moved records a permanent redirect.
func (c *Crawler) moved(f *vplanet.Feed, from, to string) {
	if from == to {
		return
	}
	f.FeedURL = to
	f.Redirect = from + " → " + to
	c.log.Info("feed moved permanently", "feed", f.URL, "from", from, "to", to)
}

func (c *Crawler) succeed(f *vplanet.Feed, resp *response, now time.Time) {
	f.Status = vplanet.StatusOK
	if resp.Status == http.StatusOK || resp.ETag != "" || resp.LastModified != "" {
		f.ETag = resp.ETag
		f.LastModified = resp.LastModified
	}
	f.LastSuccess = now
	f.LastError = ""
	f.ErrorCount = 0
}

// fail records a failed fetch: the error in words, the next attempt after a
// backoff (or when the server asked), and 410 as gone.
func (c *Crawler) fail(f *vplanet.Feed, err error, now time.Time) {
	f.ErrorCount++
	f.LastError = describe(err)
	f.Status = vplanet.StatusError
	f.NextAttempt = now.Add(backoff(f.ErrorCount, rand.Float64()))
	var he *httpError
	if errors.As(err, &he) {
		switch {
		case he.Code == http.StatusGone:
			f.Status = vplanet.StatusGone
			f.NextAttempt = time.Time{} // never, until its line in feeds.txt changes
		case !he.RetryAfter.IsZero():
			f.NextAttempt = he.RetryAfter
		}
	}
}

// backoff is the wait before retrying a feed that failed n times in a row:
// 5 minutes doubling up to a day, with ±25% jitter (from r in [0,1)) so
// that feeds that failed together are not retried together.
func backoff(n int, r float64) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < n && d < 24*time.Hour; i++ {
		d *= 2
	}
	d = min(d, 24*time.Hour)
	return time.Duration(float64(d) * (0.75 + 0.5*r))
}

func notGone(feeds []*vplanet.Feed) []*vplanet.Feed {
	out := feeds[:0:0]
	for _, f := range feeds {
		if f.Status != vplanet.StatusGone && f.Status != vplanet.StatusRemoved {
			out = append(out, f)
		}
	}
	return out
}

// interleaveHosts orders feeds round-robin by host, so that the workers
// spread over hosts instead of queueing on the per-host limit of one.
func interleaveHosts(feeds []*vplanet.Feed) []*vplanet.Feed {
	var (
		order  []string
		byHost = map[string][]*vplanet.Feed{}
	)
	for _, f := range feeds {
		h := hostOf(f.FetchURL())
		if _, ok := byHost[h]; !ok {
			order = append(order, h)
		}
		byHost[h] = append(byHost[h], f)
	}
	out := make([]*vplanet.Feed, 0, len(feeds))
	for len(out) < len(feeds) {
		for _, h := range order {
			if q := byHost[h]; len(q) > 0 {
				out = append(out, q[0])
				byHost[h] = q[1:]
			}
		}
	}
	return out
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// hostLimiter bounds the requests in flight to each host.
type hostLimiter struct {
	mu    sync.Mutex
	limit int
	sems  map[string]chan struct{}
}

// acquire waits for a slot for host; release gives it back.
func (h *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	host = strings.ToLower(host)
	h.mu.Lock()
	sem, ok := h.sems[host]
	if !ok {
		sem = make(chan struct{}, h.limit)
		h.sems[host] = sem
	}
	h.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

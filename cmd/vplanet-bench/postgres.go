package main

// The PostgreSQL comparison (-postgres, -database): the same synthetic
// community crawled into SQLite and into PostgreSQL in one run, with
// -replicas serve processes on the PostgreSQL database, each with its own
// --data, so that the figures compare within one run (a shared machine's
// speed drifts between runs).
//
// On SQLite it measures: the first crawl; an all-304 re-crawl; serve on the
// filled store without an index until /healthz answers 200 and until every
// post is indexed; search latency, one client; throughput; the time from a
// crawl's exit until the posts it stored are searchable; serve's peak RSS;
// the store's and the index's size. On PostgreSQL the same, and: two
// crawls started at once into a second, empty database (how long, and how
// the feeds split between them, counted by the feed servers); each replica
// building its index from an empty --data, one after the other, its
// /healthz answering 503 until it can search; every figure of a serve for
// each replica; throughput with the clients on one replica and spread over
// all; the database's size (pg_database_size) and each replica's local
// files (index and posts.db); and, last, every replica started at once on
// an empty --data, as a first deploy starts them.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"vplanet/internal/pgtest"
)

// Names of the databases the comparison creates on the server, and drops
// at the end.
const (
	pgDatabase     = "vplanet_bench"
	pgPairDatabase = "vplanet_bench_pair"
)

// freshRounds is how many times a few new posts are published and crawled
// to time how soon each serve can find them; freshFeeds is how many feeds
// get one new post each round.
const (
	freshRounds = 3
	freshFeeds  = 10
)

// postgresDefaults completes the PostgreSQL flags: -database implies
// -postgres, whose table goes to its own file unless -out says otherwise.
func (p *params) postgresDefaults(fs *flag.FlagSet) error {
	if p.database != "" {
		p.postgres = true
	}
	if !p.postgres {
		return nil
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "out" })
	if !set {
		p.out = "docs/benchmark-postgres.md"
	}
	if p.replicas < 1 {
		return fmt.Errorf("-replicas must be positive")
	}
	return nil
}

// pgReport is everything the comparison measured.
type pgReport struct {
	p          *params
	machine    machine
	started    time.Time
	total      time.Duration
	loadAfter  string // the 1-minute load average at the end
	posts      int
	server     string // PostgreSQL's version and where it came from
	settings   string // the server settings that bear on write speed
	sqlite, pg *backendRun
	pub        *publisher
}

// backendRun is one store's side of the table.
type backendRun struct {
	crawl, recrawl procResult
	crawlSummary   string
	recrawlSummary string
	recrawl304     int64
	pair           []crawlShare // two crawls at once into an empty store (PostgreSQL)
	pairWall       time.Duration
	pairOnce       int // feeds the feed servers answered exactly once during the pair
	pairTwice      int // feeds they answered more than once
	replicas       []*replicaRun
	together       []*replicaRun // every replica started at once on an empty --data (PostgreSQL)
	sameHits       bool          // every replica found the same totals for every query
	rpsOne, rpsAll float64       // clients on the first serve; spread over all
	storeSize      int64         // vplanet.db and its WAL, or pg_database_size
	freshPosts     int           // new posts in each round of the freshness check
}

// crawlShare is one of two crawls run at once.
type crawlShare struct {
	res            procResult
	summary        string
	feeds, newPost int
}

// replicaRun is one serve process's figures.
type replicaRun struct {
	first           int           // the first /healthz status seen
	ready, caughtUp time.Duration // from its start: /healthz 200; every post indexed
	rssCaughtUp     int64
	hits            []int
	lat             latency
	fresh           []time.Duration // per round: from the crawl's exit until its posts were found
	mem             memFigures
	indexSize       int64
	mirrorSize      int64 // posts.db and its WAL (PostgreSQL)
}

// pgServer is the PostgreSQL server the comparison runs on.
type pgServer struct {
	admin   string         // URL of a database on it, from which databases are created
	srv     *pgtest.Server // nil: a server given with -database
	created []string
}

func openPGServer(ctx context.Context, p *params) (*pgServer, error) {
	if p.database != "" {
		return &pgServer{admin: p.database}, nil
	}
	srv, err := pgtest.StartServer()
	if err != nil {
		return nil, fmt.Errorf("start postgresql: %w", err)
	}
	return &pgServer{admin: srv.AdminURL(), srv: srv}, nil
}

// urlOf is the URL of database name on the server.
func (s *pgServer) urlOf(name string) (string, error) {
	u, err := url.Parse(s.admin)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// exec runs one statement on the admin database.
func (s *pgServer) exec(ctx context.Context, sql string, scan ...any) error {
	// A server that never answers fails the run within seconds, not the
	// minute a statement may take.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, s.admin)
	if err != nil {
		return fmt.Errorf("connect to postgresql: %w", err)
	}
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()
	defer conn.Close(context.WithoutCancel(ctx))
	if len(scan) > 0 {
		err = conn.QueryRow(ctx, sql).Scan(scan...)
	} else {
		_, err = conn.Exec(ctx, sql)
	}
	if err != nil {
		return fmt.Errorf("postgresql: %s: %w", strings.Fields(sql)[0], err)
	}
	return nil
}

// create makes an empty database, replacing one of that name, and returns
// its URL.
func (s *pgServer) create(ctx context.Context, name string) (string, error) {
	if err := s.drop(ctx, name); err != nil {
		return "", err
	}
	if err := s.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	s.created = append(s.created, name)
	return s.urlOf(name)
}

func (s *pgServer) drop(ctx context.Context, name string) error {
	return s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func (s *pgServer) size(ctx context.Context, name string) (int64, error) {
	var n int64
	err := s.exec(ctx, "SELECT pg_database_size('"+name+"')", &n)
	return n, err
}

// describe returns the server's version and its settings that bear on
// write speed. It is the first use of the server: a wrong URL fails here,
// before anything is measured.
func (s *pgServer) describe(ctx context.Context) (version, settings string, err error) {
	if err := s.exec(ctx, "SELECT version()", &version); err != nil {
		return "", "", err
	}
	if v, _, ok := strings.Cut(version, " on "); ok {
		version = v
	}
	if s.srv != nil {
		version += ", started for the run from Debian's postgresql package on a free loopback port"
	} else {
		version += ", given with -database"
	}
	var parts []string
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes", "shared_buffers"} {
		var v string
		if err := s.exec(ctx, "SHOW "+name, &v); err == nil {
			parts = append(parts, name+"="+v)
		}
	}
	return version, strings.Join(parts, ", "), nil
}

func (s *pgServer) close(ctx context.Context) {
	for _, name := range s.created {
		s.drop(ctx, name)
	}
	if s.srv != nil {
		s.srv.Close()
	}
}

// runPostgres is run for -postgres: it measures, prints and writes the
// comparison's table.
func runPostgres(ctx context.Context, p *params, stdout, stderr io.Writer) error {
	rep, err := measurePostgres(ctx, p, stderr)
	if err != nil {
		return err
	}
	return writeTable(p, rep.markdown(), stdout, stderr)
}

// measurePostgres sets the run up as measure does and runs the comparison.
func measurePostgres(ctx context.Context, p *params, progress io.Writer) (*pgReport, error) {
	b, done, err := newBench(ctx, p, progress, "vplanet-bench-pg-")
	if err != nil {
		return nil, err
	}
	defer done()
	return b.comparePostgres(ctx)
}

// comparePostgres starts PostgreSQL (or reaches the -database one), the
// community and the binary, then measures SQLite and PostgreSQL in turn.
func (b *bench) comparePostgres(ctx context.Context) (*pgReport, error) {
	p := b.p
	rep := &pgReport{p: p, started: time.Now().UTC(), machine: describeMachine(ctx)}
	c, err := loadCorpus(p.corpus)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(filepath.Join(b.work, "pg")); err != nil {
		return nil, err
	}
	if b.log, err = os.Create(filepath.Join(b.work, "vplanet.log")); err != nil {
		return nil, err
	}
	defer b.log.Close()
	if p.database == "" {
		b.say("starting PostgreSQL")
	}
	srv, err := openPGServer(ctx, p)
	if err != nil {
		return nil, err
	}
	defer srv.close(context.WithoutCancel(ctx))
	if rep.server, rep.settings, err = srv.describe(ctx); err != nil {
		return nil, err
	}
	b.say("  %s; %s", rep.server, rep.settings)

	if b.bin = p.bin; b.bin == "" {
		b.say("building cmd/vplanet")
		if b.bin, err = buildBinary(ctx, b.root, b.work); err != nil {
			return nil, err
		}
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
	rep.posts = b.cm.posts
	rep.pub = &publisher{cm: b.cm, saved: map[*blogFeed]feedState{}}

	b.say("SQLite")
	if rep.sqlite, err = b.backend(ctx, rep, srv, ""); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	b.say("PostgreSQL, %d replicas", p.replicas)
	if rep.pg, err = b.backend(ctx, rep, srv, pgDatabase); err != nil {
		return nil, fmt.Errorf("postgresql: %w", err)
	}
	rep.total = time.Since(rep.started)
	rep.loadAfter = describeMachine(ctx).load
	b.say("done in %s", rep.total.Round(time.Second))
	return rep, nil
}

// side is the store one column of the table runs on.
type side struct {
	dir string // this side's work directory
	url string // the PostgreSQL database; "": SQLite under dir
}

// data is the --data of the process called name: on SQLite every process
// shares the store's directory; on PostgreSQL each has its own, as each
// host would.
func (sd side) data(name string) string {
	if sd.url == "" {
		return sd.dir
	}
	return filepath.Join(sd.dir, name)
}

// storeArgs are the flags, besides --data, that open the store.
func (sd side) storeArgs() []string {
	if sd.url == "" {
		return nil
	}
	return []string{"--database", sd.url}
}

// crawlAll runs `vplanet crawl --all` with data as its --data.
func (b *bench) crawlAll(ctx context.Context, sd side, data string) (procResult, error) {
	args := append([]string{"crawl", "--all", "--quiet", "--data", data, "--feeds", b.feeds}, sd.storeArgs()...)
	return runProc(ctx, b.log, b.bin, args...)
}

// backend measures one store: SQLite under the work directory when db is
// "", else database db on srv with p.replicas serve processes.
func (b *bench) backend(ctx context.Context, rep *pgReport, srv *pgServer, db string) (*backendRun, error) {
	p := b.p
	run := &backendRun{}
	rep.pub.reset()
	sd := side{dir: filepath.Join(b.work, "pg", "sqlite")}
	if db != "" {
		sd.dir = filepath.Join(b.work, "pg", "postgres")
		var err error
		if sd.url, err = srv.create(ctx, db); err != nil {
			return nil, err
		}
	}
	if err := b.crawlTwice(ctx, rep, run, sd); err != nil {
		return nil, err
	}
	if db != "" {
		pair := sd
		var err error
		if pair.url, err = srv.create(ctx, pgPairDatabase); err != nil {
			return nil, err
		}
		if err := b.crawlPair(ctx, run, pair); err != nil {
			return nil, err
		}
		if err := srv.drop(ctx, pgPairDatabase); err != nil {
			return nil, err
		}
	}

	// The serves, one after the other, each from an empty --data: a
	// replica joins alone, the others serving.
	n := 1
	if db != "" {
		n = p.replicas
	}
	hc := newClient(p.clients)
	var serves []*serveProc
	defer func() {
		for _, s := range serves {
			s.stop()
		}
	}()
	for i := range n {
		b.say("  serve %d of %d, empty index", i+1, n)
		data := sd.data(fmt.Sprintf("replica%d", i+1))
		s, err := startServe(ctx, b.log, b.bin, data, b.feeds, sd.storeArgs()...)
		if err != nil {
			return nil, err
		}
		serves = append(serves, s)
		r, err := waitBuilt(ctx, hc, s, rep.posts)
		if err != nil {
			return nil, err
		}
		r.rssCaughtUp = s.peakRSS()
		run.replicas = append(run.replicas, r)
		b.say("    first /healthz %d; 200 after %s; every post indexed after %s", r.first, r.ready.Round(time.Millisecond), r.caughtUp.Round(time.Millisecond))
	}
	if err := b.searchEach(ctx, hc, run, serves); err != nil {
		return nil, err
	}
	if err := b.freshness(ctx, rep, run, sd, serves); err != nil {
		return nil, err
	}

	for i, s := range serves {
		r := run.replicas[i]
		r.mem = s.stopMem()
		r.indexSize = dirSize(filepath.Join(s.dataDir(), "index"))
		if db != "" {
			r.mirrorSize = dirSize(s.dataDir()) - r.indexSize
		}
	}
	serves = nil
	var err error
	if db == "" {
		run.storeSize = dirSize(sd.dir) - run.replicas[0].indexSize
	} else if run.storeSize, err = srv.size(ctx, db); err != nil {
		return nil, err
	}
	if db != "" && p.replicas > 1 {
		if run.together, err = b.startTogether(ctx, sd, rep.posts+freshRounds*run.freshPosts); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// crawlTwice runs the first crawl into the empty store and the all-304
// re-crawl.
func (b *bench) crawlTwice(ctx context.Context, rep *pgReport, run *backendRun, sd side) error {
	p := b.p
	b.say("  first crawl")
	var err error
	if run.crawl, err = b.crawlAll(ctx, sd, sd.data("crawl")); err != nil {
		return err
	}
	run.crawlSummary = strings.TrimSpace(run.crawl.Stdout)
	if sh, err := parseShare(run.crawlSummary); err != nil {
		return fmt.Errorf("first crawl: %w", err)
	} else if sh.feeds != p.feeds || sh.newPost != rep.posts {
		return fmt.Errorf("first crawl: %s; want %d feeds and %d new posts (log: %s)", run.crawlSummary, p.feeds, rep.posts, b.log.Name())
	}
	b.say("    %s in %s", run.crawlSummary, run.crawl.Wall.Round(time.Millisecond))
	b.say("  re-crawl, every feed unchanged")
	before := b.cm.notModified.Load()
	if run.recrawl, err = b.crawlAll(ctx, sd, sd.data("crawl")); err != nil {
		return err
	}
	run.recrawlSummary = strings.TrimSpace(run.recrawl.Stdout)
	run.recrawl304 = b.cm.notModified.Load() - before
	b.say("    %s in %s", run.recrawlSummary, run.recrawl.Wall.Round(time.Millisecond))
	return nil
}

// waitBuilt waits until s, started with an empty --data, answers /healthz
// 200 and has indexed all posts, and returns when each happened.
func waitBuilt(ctx context.Context, hc *http.Client, s *serveProc, posts int) (*replicaRun, error) {
	r := &replicaRun{}
	ready, err := s.waitHealth(ctx, hc, 30*time.Minute, func(h health) bool {
		if r.first == 0 {
			r.first = h.code
		}
		return h.code == http.StatusOK
	})
	if err != nil {
		return nil, err
	}
	done, err := s.waitHealth(ctx, hc, 30*time.Minute, func(h health) bool {
		return h.code == http.StatusOK && h.Lag == 0 && h.Posts == posts
	})
	if err != nil {
		return nil, err
	}
	r.ready, r.caughtUp = ready.Sub(s.started), done.Sub(s.started)
	return r, nil
}

// searchEach asks every serve the queries, one client at a time, then
// measures throughput with the clients on the first serve and spread over
// all.
func (b *bench) searchEach(ctx context.Context, hc *http.Client, run *backendRun, serves []*serveProc) error {
	p := b.p
	b.say("  search, one client on each serve, %d requests", p.requests)
	run.sameHits = true
	for i, s := range serves {
		r := run.replicas[i]
		urls := urlsOf(queries, s.base, query.vplanetURL)
		for _, u := range urls {
			n, err := searchTotal(ctx, hc, u)
			if err != nil {
				return err
			}
			r.hits = append(r.hits, n)
		}
		run.sameHits = run.sameHits && slices.Equal(r.hits, run.replicas[0].hits)
		if _, _, err := sequential(ctx, hc, urls, len(urls)); err != nil { // warm up
			return err
		}
		var err error
		if r.lat, _, err = sequential(ctx, hc, urls, p.requests); err != nil {
			return err
		}
		b.say("    serve %d: p50 %s, p99 %s", i+1, ms(r.lat.pct(50)), ms(r.lat.pct(99)))
	}
	b.say("  search, %d clients for %s on serve 1", p.clients, p.duration)
	var err error
	if run.rpsOne, err = concurrent(ctx, hc, urlsOf(queries, serves[0].base, query.vplanetURL), nil, http.StatusOK, p.clients, p.duration); err != nil {
		return err
	}
	if len(serves) == 1 {
		return nil
	}
	// Client w starts at URL w and walks the list, so interleaving the
	// serves' URLs spreads every client over all of them.
	var all []string
	for _, q := range queries {
		for _, s := range serves {
			all = append(all, q.vplanetURL(s.base))
		}
	}
	b.say("  search, %d clients for %s spread over %d serves", p.clients, p.duration, len(serves))
	run.rpsAll, err = concurrent(ctx, hc, all, nil, http.StatusOK, p.clients, p.duration)
	return err
}

// freshness publishes a few new posts, crawls, and times how soon after
// the crawl's exit every serve finds them, freshRounds times.
func (b *bench) freshness(ctx context.Context, rep *pgReport, run *backendRun, sd side, serves []*serveProc) error {
	run.freshPosts = min(freshFeeds, englishFeeds(b.p.feeds))
	for round := range freshRounds {
		token := freshToken(round)
		rep.pub.publish(round, token, run.freshPosts)
		if _, err := b.crawlAll(ctx, sd, sd.data("crawl")); err != nil {
			return err
		}
		end := time.Now()
		found, err := findOnEach(ctx, serves, token, run.freshPosts, end)
		if err != nil {
			return fmt.Errorf("new posts of round %d: %w", round+1, err)
		}
		for i, d := range found {
			run.replicas[i].fresh = append(run.replicas[i].fresh, d)
		}
		b.say("  round %d: %d new posts found %v after the crawl's exit", round+1, run.freshPosts, found)
	}
	return nil
}

// startTogether starts every replica at once, each with an empty --data,
// as a first deploy does, and returns how soon each answered /healthz 200
// and had indexed every one of the posts. They share the machine's cores
// and the database while they build.
func (b *bench) startTogether(ctx context.Context, sd side, posts int) ([]*replicaRun, error) {
	b.say("  %d replicas started at once, empty indexes", b.p.replicas)
	hc := newClient(b.p.replicas)
	var serves []*serveProc
	defer func() {
		for _, s := range serves {
			s.stop()
		}
	}()
	for i := range b.p.replicas {
		s, err := startServe(ctx, b.log, b.bin, sd.data(fmt.Sprintf("together%d", i+1)), b.feeds, sd.storeArgs()...)
		if err != nil {
			return nil, err
		}
		serves = append(serves, s)
	}
	runs := make([]*replicaRun, len(serves))
	errs := make([]error, len(serves))
	var wg sync.WaitGroup
	for i, s := range serves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = waitBuilt(ctx, hc, s, posts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, r := range runs {
		b.say("    replica %d: first /healthz %d; 200 after %s; every post indexed after %s", i+1, r.first, r.ready.Round(time.Millisecond), r.caughtUp.Round(time.Millisecond))
	}
	return runs, nil
}

// dataDir is the --data the serve was started with.
func (s *serveProc) dataDir() string {
	args := s.cmd.Args
	for i := range args[:len(args)-1] {
		if args[i] == "--data" {
			return args[i+1]
		}
	}
	return ""
}

// crawlPair starts two crawls at once into sd's empty database and
// counts, at the feed servers, how often each feed was fetched.
func (b *bench) crawlPair(ctx context.Context, run *backendRun, sd side) error {
	b.say("  two crawls at once into an empty database")
	before := make([]int64, len(b.cm.feeds))
	for i, f := range b.cm.feeds {
		before[i] = f.gets.Load()
	}
	run.pair = make([]crawlShare, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range run.pair {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run.pair[i].res, errs[i] = b.crawlAll(ctx, sd, sd.data(fmt.Sprintf("pair%d", i+1)))
		}()
	}
	wg.Wait()
	run.pairWall = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i := range run.pair {
		sh := &run.pair[i]
		summary := strings.TrimSpace(sh.res.Stdout)
		x, err := parseShare(summary)
		if err != nil {
			return fmt.Errorf("crawl %d of two: %w", i+1, err)
		}
		x.res = sh.res
		*sh = x
		b.say("    crawl %d: %s in %s", i+1, summary, sh.res.Wall.Round(time.Millisecond))
	}
	for i, f := range b.cm.feeds {
		switch f.gets.Load() - before[i] {
		case 0:
		case 1:
			run.pairOnce++
		default:
			run.pairTwice++
		}
	}
	b.say("    %d feeds fetched once, %d more than once, of %d", run.pairOnce, run.pairTwice, len(b.cm.feeds))
	return nil
}

// parseShare reads a crawl's summary line.
func parseShare(summary string) (crawlShare, error) {
	m := reSummary.FindStringSubmatch(summary)
	if m == nil {
		return crawlShare{}, fmt.Errorf("printed %q, want a summary", summary)
	}
	feeds, _ := strconv.Atoi(m[1])
	posts, _ := strconv.Atoi(m[5])
	return crawlShare{summary: summary, feeds: feeds, newPost: posts}, nil
}

// englishFeeds counts the blogs that write English: blogs 3 and 4 of
// every five (see newCommunity).
func englishFeeds(feeds int) int {
	n := 0
	for i := range feeds {
		if i%5 >= 3 {
			n++
		}
	}
	return n
}

// freshToken is a word found only in the posts of one round.
func freshToken(round int) string {
	return "qzfresh" + strings.Repeat(string(rune('a'+round)), 3)
}

// feedState is what publish changes of a feed.
type feedState struct {
	body    []byte
	etag    string
	lastMod time.Time
}

// publisher adds posts to the community's feeds and takes them back.
type publisher struct {
	cm    *community
	saved map[*blogFeed]feedState // as the feeds were before the first publish
}

// reset takes back every post published, so that the next store's crawl
// finds the community as the first one did.
func (pb *publisher) reset() {
	pb.cm.mu.Lock()
	defer pb.cm.mu.Unlock()
	for f, st := range pb.saved {
		f.body, f.etag, f.lastMod = st.body, st.etag, st.lastMod
	}
	clear(pb.saved)
}

// publish adds one post holding token to each of the first n English
// blogs, as their authors would: the feed's body, ETag and Last-Modified
// change, so the next crawl fetches it with 200.
func (pb *publisher) publish(round int, token string, n int) {
	cm := pb.cm
	cm.mu.Lock()
	defer cm.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Second)
	for i, f := range cm.feeds {
		if n == 0 {
			break
		}
		if i%5 < 3 {
			continue
		}
		n--
		if _, ok := pb.saved[f]; !ok {
			pb.saved[f] = feedState{f.body, f.etag, f.lastMod}
		}
		base := strings.TrimSuffix(f.url, "feed.atom")
		id := fmt.Sprintf("blog%d-fresh%d", i, round)
		text := fmt.Sprintf("<p>We upgraded the %s cluster of blog %d this morning and measured the hosts again.</p>", token, i)
		entry := fmt.Sprintf(`<entry>
<title>Fresh notes %s</title>
<link rel="alternate" href="%s%s"/>
<id>tag:bench.vplanet.example,2026:%s</id>
<published>%s</published>
<updated>%s</updated>
<author><name>Virtual Notes %d</name></author>
<content type="html">%s</content>
</entry>
</feed>
`, token, base, id, id, now.Format(time.RFC3339), now.Format(time.RFC3339), i, html.EscapeString(text))
		body := slices.Clone(f.body)
		body = append(body[:len(body)-len("</feed>\n")], entry...)
		sum := sha256.Sum256(body)
		f.body, f.etag = body, `"`+hex.EncodeToString(sum[:8])+`"`
		if now.After(f.lastMod) {
			f.lastMod = now
		} else {
			f.lastMod = f.lastMod.Add(time.Second)
		}
	}
}

// findOnEach polls each serve's search for token, every 5 ms at once,
// until it finds want posts, and returns for each how long after end that
// was. A serve that has not found them within a minute fails the run.
func findOnEach(ctx context.Context, serves []*serveProc, token string, want int, end time.Time) ([]time.Duration, error) {
	found := make([]time.Duration, len(serves))
	errs := make([]error, len(serves))
	var wg sync.WaitGroup
	for i, s := range serves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := newClient(1)
			u := query{q: token}.vplanetURL(s.base)
			deadline := end.Add(time.Minute)
			for {
				n, err := searchTotal(ctx, hc, u)
				if err == nil && n == want {
					found[i] = time.Since(end)
					return
				}
				if time.Now().After(deadline) {
					errs[i] = fmt.Errorf("serve %d found %d of %d new posts a minute after the crawl (%v)", i+1, n, want, err)
					return
				}
				select {
				case <-ctx.Done():
					errs[i] = ctx.Err()
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	wg.Wait()
	return found, errors.Join(errs...)
}

func (r *pgReport) rows() []row {
	p := r.p
	var rows []row
	add := func(measure, sqlite, pg string) {
		rows = append(rows, row{measure: measure, vplanet: sqlite, baseline: pg})
	}
	each := func(f func(i int, x *replicaRun) string) string {
		var parts []string
		for i, x := range r.pg.replicas {
			parts = append(parts, fmt.Sprintf("replica %d: %s", i+1, f(i, x)))
		}
		return strings.Join(parts, "; ")
	}
	crawl := func(x *backendRun) string {
		return fmt.Sprintf("%s (%s posts/s; crawl RSS %s)", secs(x.crawl.Wall), num(int(float64(r.posts)/x.crawl.Wall.Seconds())), mib(x.crawl.MaxRSS))
	}
	add(fmt.Sprintf("First crawl, %d feeds × %d posts, %s latency, one process", p.feeds, p.posts, p.latency), crawl(r.sqlite), crawl(r.pg))
	recrawl := func(x *backendRun) string {
		return fmt.Sprintf("%s (%d of %d feeds answered 304)", secs(x.recrawl.Wall), x.recrawl304, p.feeds)
	}
	add("All-304 re-crawl", recrawl(r.sqlite), recrawl(r.pg))
	var shares []string
	for i, s := range r.pg.pair {
		shares = append(shares, fmt.Sprintf("crawl %d: %d feeds, %s new posts, %s", i+1, s.feeds, num(s.newPost), secs(s.res.Wall)))
	}
	add("Two `crawl --all` started at once into an empty store",
		"— (on SQLite crawls take turns under crawl.lock)",
		fmt.Sprintf("%s until both exited (%s); the feed servers answered %d of %d feeds exactly once, %d more than once",
			secs(r.pg.pairWall), strings.Join(shares, "; "), r.pg.pairOnce, p.feeds, r.pg.pairTwice))
	build := func(x *replicaRun) string {
		ready := fmt.Sprintf("/healthz %d, then 200 after %s", x.first, secs(x.ready))
		if x.first == http.StatusOK {
			ready = fmt.Sprintf("/healthz 200 at its first answer, after %s", secs(x.ready))
		}
		return fmt.Sprintf("%s; every post indexed after %s (%s posts/s)", ready, secs(x.caughtUp), num(int(float64(r.posts)/x.caughtUp.Seconds())))
	}
	add("A serve started with an empty `--data` on the filled store (PostgreSQL: one replica after the other, the earlier ones serving)",
		build(r.sqlite.replicas[0]), each(func(_ int, x *replicaRun) string { return build(x) }))
	if len(r.pg.together) > 0 {
		var parts []string
		for i, x := range r.pg.together {
			parts = append(parts, fmt.Sprintf("replica %d: %s", i+1, build(x)))
		}
		add(fmt.Sprintf("The %d replicas started at once, each with an empty `--data`, as a first deploy", len(r.pg.together)),
			"—", strings.Join(parts, "; "))
	}
	fresh := func(x *replicaRun) string {
		var d []string
		for _, f := range x.fresh {
			d = append(d, secs(f))
		}
		return strings.Join(d, ", ")
	}
	add(fmt.Sprintf("From a crawl's exit until its new posts are searchable (%d new posts on %d feeds, a `crawl --all`; %d rounds)", r.pg.freshPosts, r.pg.freshPosts, freshRounds),
		fresh(r.sqlite.replicas[0]), each(func(_ int, x *replicaRun) string { return fresh(x) }))
	lat := func(x *replicaRun) string { return fmt.Sprintf("p50 %s, p99 %s", ms(x.lat.pct(50)), ms(x.lat.pct(99))) }
	add(fmt.Sprintf("Search over HTTP, one client, /api/search (%d queries × %d kinds)", p.requests, len(queries)),
		lat(r.sqlite.replicas[0]), each(func(_ int, x *replicaRun) string { return lat(x) }))
	same := "yes"
	if !r.pg.sameHits {
		same = "no"
	}
	add(fmt.Sprintf("Every replica found the same number of posts for each of the %d queries", len(queries)), "—", same)
	spread := fmt.Sprintf("all on replica 1: %s req/s", num(int(r.pg.rpsOne)))
	if len(r.pg.replicas) > 1 {
		spread += fmt.Sprintf("; spread over %d replicas: %s req/s", len(r.pg.replicas), num(int(r.pg.rpsAll)))
	}
	add(fmt.Sprintf("Search throughput, %d clients (the load generator and PostgreSQL share the %d cores)", p.clients, r.machine.cpus),
		fmt.Sprintf("%s req/s", num(int(r.sqlite.rpsOne))), spread)
	mem := func(x *replicaRun) string {
		return fmt.Sprintf("%s (%s once every post was indexed); largest private memory %s", mib(x.mem.hwm), mib(x.rssCaughtUp), mib(x.mem.anon))
	}
	add("Peak RSS of `vplanet serve` (VmHWM, after all of the above)", mem(r.sqlite.replicas[0]), each(func(_ int, x *replicaRun) string { return mem(x) }))
	add("Store size", fmt.Sprintf("%s (vplanet.db and its WAL)", mib(r.sqlite.storeSize)), fmt.Sprintf("%s (pg_database_size)", mib(r.pg.storeSize)))
	add("Each serve's local files under `--data`", fmt.Sprintf("index %s", mib(r.sqlite.replicas[0].indexSize)),
		each(func(_ int, x *replicaRun) string {
			return fmt.Sprintf("index %s, posts.db %s", mib(x.indexSize), mib(x.mirrorSize))
		}))
	return rows
}

func (r *pgReport) markdown() string {
	p := r.p
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark: PostgreSQL and replicas\n\n<!-- Written by go run ./cmd/vplanet-bench -postgres: change the harness, not this file. -->\n\n")
	fmt.Fprintf(&b, "The whole system on SQLite and on PostgreSQL with %d `serve` replicas, measured by `cmd/vplanet-bench -postgres` "+
		"in one run on one machine: the same synthetic community is crawled into each store, and every process is the real program. "+
		"Compare the columns inside one run: a shared machine's speed drifts between runs.\n\n", p.replicas)
	fmt.Fprintf(&b, "```\ngo run ./cmd/vplanet-bench -small -postgres -out ''   # 20 feeds × 10 posts in seconds, table on stdout\n")
	fmt.Fprintf(&b, "go run ./cmd/vplanet-bench -postgres -feeds 1000 -posts 100 -out docs/benchmark-postgres-100k.md   # 100,000 posts\n")
	fmt.Fprintf(&b, "go run ./cmd/vplanet-bench -database postgres://user:pass@host/db   # on a server of your own; creates and drops %s and %s\n```\n\n", pgDatabase, pgPairDatabase)
	fmt.Fprintf(&b, "`-postgres` needs Debian's postgresql package (`apt-get install postgresql`); the server it starts keeps nothing across a crash "+
		"(fsync off), so its writes are faster than a durable server's.\n\n")
	fmt.Fprintf(&b, "## Latest run\n\n")
	fmt.Fprintf(&b, "- Machine: %d cores (%s), %s memory, %s, %s; load average %s at the start and %s at the end (other work on the machine skews the figures)\n",
		r.machine.cpus, r.machine.model, r.machine.memory, r.machine.kernel, r.machine.goVer, r.machine.load, r.loadAfter)
	fmt.Fprintf(&b, "- When: %s; the whole run took %s\n", r.started.Format("2006-01-02 15:04 MST"), r.total.Round(time.Second))
	fmt.Fprintf(&b, "- Command: `go run ./cmd/vplanet-bench %s`\n", p.pgFlags())
	fmt.Fprintf(&b, "- Community: %d feeds × %d posts = %s posts, on %d loopback addresses, %s latency, ETag/Last-Modified; seed %d\n",
		p.feeds, p.posts, num(r.posts), min(p.hosts, p.feeds), p.latency, p.seed)
	fmt.Fprintf(&b, "- PostgreSQL: %s; %s; on the same machine as everything else\n", r.server, r.settings)
	fmt.Fprintf(&b, "- vplanet runs as its own processes (`crawl --all`, `serve --schedule off --search-per-minute -1`); on PostgreSQL each serve has its own `--data` and the same `--database`; the load generator runs in the harness\n")
	b.WriteString("\n| Measure | SQLite | PostgreSQL |\n|---|---|---|\n")
	for _, x := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", x.measure, x.vplanet, x.baseline)
	}
	b.WriteString("\nThe new posts' check publishes one post on each of a few feeds, runs `vplanet crawl --all` (every other feed answers 304), " +
		"and from the moment that process exits asks every serve's /api/search every 5 ms until each finds all of them.\n")
	return b.String()
}

// pgFlags renders the parameters as the command line that repeats the run.
func (p *params) pgFlags() string {
	f := []string{}
	if p.small {
		f = append(f, "-small")
	}
	if p.database != "" {
		f = append(f, "-database URL")
	} else {
		f = append(f, "-postgres")
	}
	f = append(f, fmt.Sprintf("-replicas %d -feeds %d -posts %d -hosts %d -latency %s -clients %d", p.replicas, p.feeds, p.posts, p.hosts, p.latency, p.clients))
	if p.bin != "" {
		f = append(f, "-vplanet "+p.bin)
	}
	return strings.Join(f, " ")
}

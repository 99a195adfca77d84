package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"

	"vplanet"
	"vplanet/crawler"
	"vplanet/index"
	"vplanet/server"
	"vplanet/store"
)

// serveConfig is serve's own settings.
type serveConfig struct {
	config
	addr     string
	schedule string
	baseURL  string
	tz       string
	rate     int

	trustedProxies  string
	metricsNetworks string
	connsPerClient  int
	hubAllowPrivate bool
	idleTimeout     time.Duration
}

func runServe(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg serveConfig
	fs := newFlagSet(env, "serve", &cfg.config)
	cfg.addDatabase(fs)
	cfg.addLease(fs)
	cfg.addRhythm(fs)
	fs.StringVar(&cfg.addr, "addr", ":8080", "listen `address`")
	fs.StringVar(&cfg.schedule, "schedule", "@every 30m", "crawl `schedule`: a cron spec (\"*/30 * * * *\", \"@hourly\", \"CRON_TZ=Asia/Tokyo 0 7 * * *\"); \"off\" to only serve")
	fs.StringVar(&cfg.baseURL, "base-url", "", "public `URL` for absolute links (default: from each request)")
	fs.StringVar(&cfg.tz, "tz", "Local", "time `zone` for dates and after:/before: (\"Asia/Tokyo\")")
	cfg.addMemoryLimit(fs, 256)
	fs.IntVar(&cfg.rate, "search-per-minute", 600, "searches a client address may make per minute, a search of many words counting as several (-1: no limit); behind a proxy, set --trusted-proxies")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxies", "", "`CIDR`s of reverse proxies whose X-Forwarded-For/-Proto/-Host and Forwarded headers are believed (\"10.0.0.0/8,::1\"): they give the client address and, without --base-url, the public address")
	fs.StringVar(&cfg.metricsNetworks, "metrics-networks", "", "`CIDR`s allowed to read /metrics (default: loopback and private networks)")
	fs.IntVar(&cfg.connsPerClient, "max-conns-per-client", 64, "open connections one client address may hold (trusted proxies excepted; 0: no cap)")
	fs.BoolVar(&cfg.hubAllowPrivate, "hub-allow-private", false, "let vplanet's WebSub hub deliver to callbacks on private, loopback or link-local addresses (intranets, tests)")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 30*time.Second, "how long an idle keep-alive connection is kept open")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if err := cfg.checkRhythm(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	trusted, err := server.ParsePrefixes(cfg.trustedProxies)
	if err != nil {
		return usagef("--trusted-proxies %q: %v (want CIDRs such as 10.0.0.0/8, comma-separated)", cfg.trustedProxies, err)
	}
	var metricsNets []netip.Prefix
	if cfg.metricsNetworks != "" {
		if metricsNets, err = server.ParsePrefixes(cfg.metricsNetworks); err != nil {
			return usagef("--metrics-networks %q: %v (want CIDRs such as 192.168.0.0/16, comma-separated)", cfg.metricsNetworks, err)
		}
	}
	log, err := cfg.logger(env.stderr)
	if err != nil {
		return err
	}
	cfg.setMemoryLimit(env.getenv)
	loc, err := time.LoadLocation(cfg.tz)
	if err != nil {
		return usagef("--tz %q: %v", cfg.tz, err)
	}
	glossary, err := glossaryGroups(cfg.glossary)
	if err != nil {
		return err
	}
	var sched cron.Schedule
	if cfg.schedule != "off" {
		if sched, err = cron.ParseStandard(cfg.schedule); err != nil {
			return usagef("--schedule %q: %v (want five fields such as \"*/30 * * * *\", or \"@every 30m\")", cfg.schedule, err)
		}
	}

	db, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	// A replica keeps a copy of the posts beside its index, to answer
	// searches while PostgreSQL is away.
	if err := db.OpenMirror(ctx, cfg.mirrorPath()); err != nil {
		return err
	}
	if err := cfg.syncFeeds(ctx, db, log); err != nil {
		return err
	}
	// One batch at a time: under serve's memory limit the collector takes
	// back more than a second batch in flight gains.
	ix, err := cfg.openIndex(log, 1)
	if err != nil {
		if errors.Is(err, vplanet.ErrLocked) {
			return fmt.Errorf("%w (is another vplanet serve running on %s?)", err, cfg.data)
		}
		return err
	}
	defer ix.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	token := make([]byte, 24)
	rand.Read(token)
	info := serverInfo{Addr: dialAddr(ln.Addr()), PID: os.Getpid(), Token: hex.EncodeToString(token), Started: time.Now().UTC()}
	if err := writeServerInfo(cfg.serverPath(), info); err != nil {
		ln.Close()
		return err
	}
	defer removeServerInfo(cfg.serverPath(), info)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	crawlStats := newCrawlMetrics(reg)
	// WebSub needs an address hubs and readers can reach: --base-url.
	var ps *push
	scfg := server.Config{
		BaseURL:  cfg.baseURL,
		Location: loc,
		Logger:   log,
		Token:    info.Token,

		SearchPerMinute: cfg.rate,
		TrustedProxies:  trusted,
		Glossary:        glossary,
		MetricsNetworks: metricsNets,
		Registry:        reg,
	}
	poke := make(chan struct{}, 1)
	if cfg.baseURL != "" {
		if ps, err = newPush(&cfg, db, log); err != nil {
			ln.Close()
			return usagef("--base-url %q: %v", cfg.baseURL, err)
		}
		cfg.subscriber = ps.manager
		scfg.WebSubCallback = ps.callback(poke)
		scfg.WebSubHub = ps.hub
		reg.MustRegister(websubCollector{ps})
	} else {
		log.Info("push (WebSub) is off: set --base-url to the public address to subscribe to the blogs' hubs and be the hub of vplanet's feeds")
	}
	handler, topics := server.NewWithTopics(scfg, db, ix)
	if ps != nil {
		ps.topics = topics
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       cfg.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(server.LimitListener(ln, cfg.connsPerClient, trusted)) }()
	log.Info("serving", "addr", "http://"+info.Addr+"/", "data", cfg.data, "store", db.String(), "schedule", cfg.schedule, "version", vplanet.Version)

	// The index follows the store: whatever a crawl commits, from this
	// process or from cron's, is searchable within a second or two.
	var wg sync.WaitGroup
	followCtx, stopFollow := context.WithCancel(context.Background())
	wg.Add(1)
	go func() {
		defer wg.Done()
		buildIndex(followCtx, db, ix, log)
		ix.Follow(followCtx, db, time.Second, poke)
	}()
	// On PostgreSQL a commit from any process wakes the follower at once
	// (LISTEN/NOTIFY); the poll each second covers a lost connection.
	wg.Add(1)
	go func() {
		defer wg.Done()
		db.Listen(followCtx, poke)
	}()

	if ps != nil {
		wg.Add(3)
		go func() {
			defer wg.Done()
			ps.publish(followCtx, ix.Seq)
		}()
		go func() {
			defer wg.Done()
			ps.renew(followCtx)
		}()
		go func() {
			defer wg.Done()
			ps.resume(followCtx)
		}()
	}
	// Crawls run on the schedule and once at start, never two at once.
	crawlCtx, stopCrawls := context.WithCancel(context.Background())
	crawl := func() {
		defer func() {
			if r := recover(); r != nil {
				log.Error("crawl panicked; serving goes on", "panic", r)
			}
		}()
		sum, err := crawlOnce(crawlCtx, &cfg.config, db, log, false, 0, nil)
		if crawlCtx.Err() != nil {
			log.Info("crawl stopped for shutdown; what it fetched is saved", "summary", sum.String())
			return
		}
		crawlStats.observe(sum, err)
		if ps != nil {
			ps.unsubscribeRemoved(crawlCtx)
		}
		switch {
		case errors.Is(err, vplanet.ErrLocked):
			log.Info("crawl skipped: another crawl is running", "reason", err)
		case err != nil:
			log.Error("crawl failed", "err", err)
		default:
			log.Info("crawl finished", "summary", sum.String())
		}
		select {
		case poke <- struct{}{}:
		default:
		}
	}
	var c *cron.Cron
	if sched != nil {
		c = cron.New(cron.WithLogger(cronLogger{log}))
		// The crawl at start goes through the same job as the scheduled
		// ones, so it too is skipped rather than stacked.
		job := cron.NewChain(cron.SkipIfStillRunning(cronLogger{log})).Then(cron.FuncJob(crawl))
		c.Schedule(sched, job)
		c.Start()
		wg.Add(1)
		go func() {
			defer wg.Done()
			job.Run()
		}()
	}

	select {
	case err := <-serveErr:
		stopCrawls()
		stopFollow()
		if c != nil {
			<-c.Stop().Done()
		}
		wg.Wait() // the store and the index close when this returns
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// Stop crawls first: each feed's outcome is saved atomically, so
	// cancelling loses nothing; then let in-flight requests finish.
	stopCrawls()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if c != nil {
		select {
		case <-c.Stop().Done():
		case <-shutdownCtx.Done():
		}
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown: requests still running were cut off", "err", err)
	}
	if ps != nil {
		ps.hub.Close() // deliveries still being retried stop; the store keeps them for the next start, or a sibling
	}
	stopFollow()
	wg.Wait()
	log.Info("stopped")
	return nil
}

// buildIndex builds an empty index from a store that has posts: a replica
// started with an empty --data (a new host, an emptyDir volume) or a first
// serve after a crawl. Built as a rebuild, beside the live index, /healthz
// answers 503 with the progress until it is done, so a load balancer sends
// no searches to a replica that would find nothing.
//
// A replica on PostgreSQL also rebuilds when its local copy of the posts is
// behind its index (the copy was deleted), since a rebuild refills it.
func buildIndex(ctx context.Context, db *store.DB, ix *index.Index, log *slog.Logger) {
	behind := false
	if db.HasMirror() {
		seq, err := db.MirrorSeq(ctx)
		behind = err == nil && seq < ix.Seq()
	}
	if ix.Seq() != 0 && !behind {
		return
	}
	seq, err := db.MaxSeq(ctx)
	if err != nil || seq == 0 {
		return // nothing to build, or the store is away: Follow retries
	}
	start := time.Now()
	log.Info("building the index from the store", "store", db.String(), "seq", seq)
	if err := ix.Rebuild(ctx, db, nil); err != nil {
		if ctx.Err() == nil {
			log.Error("build the index; following the store instead", "err", err)
		}
		return
	}
	log.Info("index built", "seq", ix.Seq(), "took", time.Since(start).Round(time.Millisecond).String())
}

// crawlOnce brings the store's feeds in line with the feed list and crawls.
//
// On SQLite it first takes the crawl lock under --data: a crawl already
// running makes it wait up to wait, then fail with an error wrapping
// vplanet.ErrLocked. A killed crawl's feeds are due again at once.
//
// On PostgreSQL crawls from any number of processes run at once and share
// the due feeds by claiming them (see store.DB.ClaimFeeds): there is no lock
// to wait for, wait is unused, and a crawl never fails with ErrLocked. A
// killed crawl's feeds wait out their claim's lease.
func crawlOnce(ctx context.Context, cfg *config, db *store.DB, log *slog.Logger, all bool, wait time.Duration, progress func(done, total int)) (crawler.Summary, error) {
	if !db.Postgres() {
		lock, err := store.Acquire(ctx, cfg.lockPath(), holder("vplanet crawl"), wait)
		if err != nil {
			return crawler.Summary{}, fmt.Errorf("crawl: %w", err)
		}
		defer lock.Release()
	}
	// A mistake in the feed list, made while serve runs, must not stop the
	// crawls: they go on with the list as it was last read, and say why.
	if err := cfg.syncFeeds(ctx, db, log); err != nil {
		log.Error("feed list not applied; crawling the feeds it listed before", "err", err)
	}
	c := crawler.New(db, crawler.Options{Logger: log, MinRhythm: cfg.minRhythm, MaxRhythm: cfg.maxRhythm, Subscriber: cfg.subscriber})
	return c.Run(ctx, crawler.RunOptions{All: all, Progress: progress})
}

// glossaryGroups returns the glossary's groups for the search box's
// suggestions: the built-in ones and the operator's file (one group a line,
// its spellings separated by "|", "#" comments). The index reads the same
// file for searching, and says what is wrong with one it cannot use.
func glossaryGroups(path string) ([][]string, error) {
	var b []byte
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("read glossary: %w", err)
		}
	}
	return index.GlossarySpellings(b), nil
}

// cronLogger lets robfig/cron log through slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

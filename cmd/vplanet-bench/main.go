// Command vplanet-bench measures the whole vplanet system on this machine
// and compares it, in the same run, with a naive Bleve + kagome index and
// with Groonga + MeCab.
//
//	go run ./cmd/vplanet-bench                    # 500 feeds × 20 posts, 50 ms latency, writes docs/benchmark.md
//	go run ./cmd/vplanet-bench -small -out ''     # 20 feeds × 10 posts, 5 ms: a smoke test, table on stdout only
//	go run ./cmd/vplanet-bench -feeds 1000 -posts 100 -naive=false -out /tmp/100k.md   # 100,000 posts, about 10 minutes
//	go run ./cmd/vplanet-bench -postgres          # SQLite beside PostgreSQL with two serve replicas: see postgres.go
//	go run ./cmd/vplanet-bench -seed-store -feeds 5000 -posts 200 -out docs/benchmark-1m.md   # 1,000,000 posts seeded, not crawled
//
// It builds cmd/vplanet into a temporary directory (or takes the binary
// given with -vplanet, to compare a change) and runs it as separate
// processes, so that times and memory are those of the real program. On
// loopback it serves a synthetic blog community: -feeds Atom feeds of -posts
// posts each, spread over -hosts addresses 127.0.0.x (Linux routes all of
// 127/8 to lo), every answer after -latency, with ETag and Last-Modified
// answered by 304. Posts are about 3 KB of text sampled, with a fixed seed,
// from the sentences of ../shared/corpus (the Hatena Blog entries, the seed
// posts and Botchan); three blogs in five write Japanese.
//
// It then measures, in this order: the first `vplanet crawl --all` into an
// empty store; an all-304 re-crawl; `vplanet serve` started on the filled
// store until /healthz first answers 200 and until every post is indexed
// (lag 0); search latency through /api/search, one client over a mixed set
// of queries (p50, p99) and over distinct queries cut from the posts, each
// asked once, and throughput with -clients concurrent clients
// (the load generator runs in this process and shares the cores: the
// table says so); /feed.atom answering 200 and, with If-None-Match, 304;
// serve's peak RSS (VmHWM), its largest private memory and mapped file
// pages (also as they were before the searches), and the index size;
// `vplanet reindex`; serve's readiness on a filled store with its index,
// and that serve's memory once it has answered every query once, then the
// same after the index's pages were dropped from the kernel's cache; and,
// on a second empty store, a crawl while serve runs: how long after
// the crawl ends every post is searchable, and search latency meanwhile.
//
// With -seed-store nothing is served or crawled: the same posts are
// written straight into the store, feed by feed, and only the phases that
// need no crawl run (serve on the filled store without an index, search,
// memory, reindex, restarts), so that a million posts can be measured in
// well under an hour. The table says so and which rows it therefore lacks.
//
// The baselines index the same posts, read back from vplanet's store: a
// naive Bleve index (Bleve's default mapping, which stores every field,
// keeps term vectors and fills the composite _all field, with kagome's IPA
// dictionary in search mode as its only analysis), built in this process;
// and Groonga with TokenMecab (Debian packages groonga-bin,
// groonga-tokenizer-mecab, mecab-ipadic-utf8), loaded with one load command
// and queried with the same queries over its HTTP server. Without Groonga
// the table says so and leaves its column empty.
//
// The table is printed and, unless -out is empty, written as Markdown with
// the machine, the parameters, and each target of the performance issue
// marked met or with its gap.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "vplanet-bench:", err)
		os.Exit(1)
	}
}

// params are the harness's settings.
type params struct {
	feeds, posts, hosts int
	latency             time.Duration
	corpus              string
	out                 string
	work                string // "" = a temporary directory, removed at the end
	groonga             bool
	naive               bool
	clients             int
	requests            int           // single-client searches
	duration            time.Duration // each concurrent load
	seed                uint64
	small               bool
	bin                 string // "" = build cmd/vplanet
	qualityParams              // the -quality mode's (quality.go)
	postgres            bool   // compare PostgreSQL and replicas with SQLite (postgres.go)
	database            string // that comparison on this server; "" with postgres: start one
	replicas            int
	seedStore           bool // write the posts into the store instead of crawling them (seed.go)
}

func parseParams(args []string, stderr io.Writer) (*params, error) {
	p := &params{}
	fs := flag.NewFlagSet("vplanet-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&p.feeds, "feeds", 500, "feeds in the synthetic community")
	fs.IntVar(&p.posts, "posts", 20, "posts in each feed")
	fs.IntVar(&p.hosts, "hosts", 100, "loopback addresses 127.0.0.1…N the feeds are spread over (at most 254)")
	fs.DurationVar(&p.latency, "latency", 50*time.Millisecond, "delay before each feed answer")
	fs.StringVar(&p.corpus, "corpus", "", "the shared corpus `directory` (default: ../shared/corpus beside the module)")
	fs.StringVar(&p.out, "out", "docs/benchmark.md", "Markdown `file` for the table, relative to the module root; empty: print only")
	fs.StringVar(&p.work, "work", "", "keep data, logs and indexes in this `directory` (default: a temporary one, removed)")
	fs.BoolVar(&p.groonga, "groonga", true, "compare with Groonga + MeCab when installed")
	fs.BoolVar(&p.naive, "naive", true, "compare with a naive Bleve + kagome index")
	fs.IntVar(&p.clients, "clients", 16, "concurrent clients for throughput")
	fs.IntVar(&p.requests, "requests", 1000, "searches made one at a time for latency")
	fs.DurationVar(&p.duration, "duration", 8*time.Second, "length of each throughput run")
	fs.Uint64Var(&p.seed, "seed", 7, "seed of the synthetic posts")
	fs.StringVar(&p.bin, "vplanet", "", "measure this vplanet `binary` instead of building cmd/vplanet (to compare a change)")
	fs.BoolVar(&p.postgres, "postgres", false, "compare PostgreSQL with -replicas serve processes against SQLite, on a PostgreSQL started for the run (Debian's postgresql package); default -out docs/benchmark-postgres.md")
	fs.StringVar(&p.database, "database", "", "the -postgres comparison on this PostgreSQL `URL` instead, as a user who may create databases (it creates and drops vplanet_bench and vplanet_bench_pair)")
	fs.IntVar(&p.replicas, "replicas", 2, "serve processes on one PostgreSQL database, with -postgres")
	fs.BoolVar(&p.seedStore, "seed-store", false, "write the posts straight into the store instead of serving and crawling them; measures indexing, search and memory only")
	fs.BoolVar(&p.small, "small", false, "a quick run: 20 feeds × 10 posts, 5 ms latency, short loads (explicit flags win)")
	qualityFlags(fs, p)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	modes := 0
	for _, on := range []bool{p.quality, p.postgres || p.database != "", p.seedStore} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return nil, fmt.Errorf("-quality, -postgres (or -database) and -seed-store are separate runs: give one of them")
	}
	if err := p.postgresDefaults(fs); err != nil {
		return nil, err
	}
	if p.small {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		defaults := map[string]func(){
			"feeds":    func() { p.feeds = 20 },
			"posts":    func() { p.posts = 10 },
			"hosts":    func() { p.hosts = 10 },
			"latency":  func() { p.latency = 5 * time.Millisecond },
			"requests": func() { p.requests = 100 },
			"duration": func() { p.duration = time.Second },
		}
		for name, apply := range defaults {
			if !set[name] {
				apply()
			}
		}
	}
	if p.feeds < 1 || p.posts < 1 || p.clients < 1 || p.requests < 1 {
		return nil, fmt.Errorf("-feeds, -posts, -clients and -requests must be positive")
	}
	return p, nil
}

// run is the whole harness; main only adds the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	p, err := parseParams(args, stderr)
	if err != nil {
		return err
	}
	if p.quality {
		return runQuality(ctx, p, stdout, stderr)
	}
	if p.postgres {
		return runPostgres(ctx, p, stdout, stderr)
	}
	rep, err := measure(ctx, p, stderr)
	if err != nil {
		return err
	}
	return writeTable(p, rep.markdown(), stdout, stderr)
}

// writeTable prints a run's Markdown table and writes it to -out.
func writeTable(p *params, md string, stdout, stderr io.Writer) error {
	fmt.Fprint(stdout, md)
	if p.out != "" {
		if err := os.MkdirAll(filepath.Dir(p.out), 0o755); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
		if err := os.WriteFile(p.out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
		fmt.Fprintf(stderr, "wrote %s\n", p.out)
	}
	return nil
}

// measure runs every measurement p asks for, saying what it does on
// progress.
func measure(ctx context.Context, p *params, progress io.Writer) (*report, error) {
	b, done, err := newBench(ctx, p, progress, "vplanet-bench-run-")
	if err != nil {
		return nil, err
	}
	defer done()
	return b.run(ctx)
}

// newBench sets a run up: the module root, the corpus and -out beside it,
// and the working directory (-work, or a temporary one named after
// prefix, which done removes).
func newBench(ctx context.Context, p *params, progress io.Writer, prefix string) (b *bench, done func(), err error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	root, err := moduleRoot(ctx, cwd)
	if err != nil {
		return nil, nil, err
	}
	if p.corpus == "" {
		p.corpus = filepath.Join(root, "..", "shared", "corpus")
	}
	if p.out != "" && !filepath.IsAbs(p.out) {
		p.out = filepath.Join(root, p.out)
	}
	work, done := p.work, func() {}
	if work == "" {
		if work, err = os.MkdirTemp("", prefix); err != nil {
			return nil, nil, err
		}
		done = func() { os.RemoveAll(work) }
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, nil, err
	}
	return &bench{p: p, root: root, work: work, progress: progress}, done, nil
}

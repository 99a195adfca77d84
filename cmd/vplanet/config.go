package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"vplanet/crawler"
	"vplanet/index"
	"vplanet/store"
)

// cmdEnv is what a command gets from the process: the environment and the
// standard streams.
type cmdEnv struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// config holds the settings every command shares.
type config struct {
	data     string // --data: the data directory
	feeds    string // --feeds: the feed list
	logLevel string
	logJSON  bool
	memLimit int    // MiB; see setMemoryLimit
	glossary string // an operator's glossary, beside the built-in one

	// database is --database: a postgres:// URL puts the store there,
	// and --data then holds only the index and the server record.
	database string
	lease    time.Duration // --claim-lease: how long a crawl holds a feed

	// --feed-min-interval and --feed-max-interval: the bounds of each
	// feed's own rhythm of checks (see crawler.Options.MinRhythm).
	minRhythm, maxRhythm time.Duration

	// subscriber, set by serve with --base-url, subscribes each feed
	// crawled to the WebSub hubs it names; nil elsewhere.
	subscriber crawler.Subscriber
}

// newFlagSet returns a flag set for command name with the shared flags.
func newFlagSet(env *cmdEnv, name string, cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet("vplanet "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.StringVar(&cfg.data, "data", "./data", "data `directory`: the store (SQLite), the index, the crawl lock and the server record; with --database, only this host's index, its copy of the posts and its server record")
	fs.StringVar(&cfg.feeds, "feeds", "./feeds.txt", "the feed list `file`")
	fs.StringVar(&cfg.glossary, "glossary", "", "a `file` of more acronyms and their long forms for search (\"VCHA | vCenter HA\" a line), added to the built-in glossary")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.BoolVar(&cfg.logJSON, "log-json", false, "write logs as JSON lines")
	return fs
}

// parseFlags sets each flag from its VPLANET_ variable (--base-url from
// VPLANET_BASE_URL; --database from VPLANET_DATABASE_URL), then from the
// command line, which wins.
func parseFlags(fs *flag.FlagSet, env *cmdEnv, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "VPLANET_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if f.Name == "database" {
			// The name operators know from other programs on PostgreSQL.
			name = "VPLANET_DATABASE_URL"
		}
		if v := env.getenv(name); v != "" && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = usagef("%s=%q: %v", name, v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usagef("%s -h: help shown", fs.Name())
		}
		return usagef("%v", err)
	}
	return nil
}

// addDatabase adds --database to a command that opens the store.
func (cfg *config) addDatabase(fs *flag.FlagSet) {
	fs.StringVar(&cfg.database, "database", "", "PostgreSQL `URL` of the store (postgres://user:password@host/db); without it the store is SQLite under --data")
}

// addLease adds --claim-lease to a command that crawls.
func (cfg *config) addLease(fs *flag.FlagSet) {
	fs.DurationVar(&cfg.lease, "claim-lease", store.DefaultLease, "how long a crawl holds the feeds it claims: a crawl killed while holding feeds delays them by at most this")
}

// addRhythm adds the bounds of a feed's rhythm to a command that crawls.
func (cfg *config) addRhythm(fs *flag.FlagSet) {
	fs.DurationVar(&cfg.minRhythm, "feed-min-interval", 15*time.Minute, "a feed is checked at most this often, however often its blog posts")
	fs.DurationVar(&cfg.maxRhythm, "feed-max-interval", 2*time.Hour, "a feed is checked at least this often, however quiet its blog: the longest a new post waits to be seen, beside the schedule's period")
}

// checkRhythm says what is wrong with the rhythm's bounds.
func (cfg *config) checkRhythm() error {
	switch {
	case cfg.minRhythm < time.Minute:
		return usagef("--feed-min-interval %v: want a minute or more", cfg.minRhythm)
	case cfg.maxRhythm < cfg.minRhythm:
		return usagef("--feed-max-interval %v is shorter than --feed-min-interval %v", cfg.maxRhythm, cfg.minRhythm)
	}
	return nil
}

// addMemoryLimit adds --memory-limit to a command that holds much in
// memory, with its default in MiB.
func (cfg *config) addMemoryLimit(fs *flag.FlagSet, def int) {
	fs.IntVar(&cfg.memLimit, "memory-limit", def, "soft memory `limit` in MiB: the garbage collector works harder near it (0: none; GOMEMLIMIT, if set, wins)")
}

// setMemoryLimit applies --memory-limit. It is soft: the process is never
// refused memory, the garbage collector only runs sooner as the heap nears
// it, which keeps indexing and crawling bursts from doubling the heap.
func (cfg *config) setMemoryLimit(getenv func(string) string) {
	if cfg.memLimit > 0 && getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(cfg.memLimit) << 20)
	}
}

// logger returns the structured logger the flags ask for, writing to stderr.
func (cfg *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", cfg.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func (cfg *config) storePath() string  { return filepath.Join(cfg.data, "vplanet.db") }
func (cfg *config) indexPath() string  { return filepath.Join(cfg.data, "index") }
func (cfg *config) lockPath() string   { return filepath.Join(cfg.data, "crawl.lock") }
func (cfg *config) serverPath() string { return filepath.Join(cfg.data, "server.json") }
func (cfg *config) mirrorPath() string { return filepath.Join(cfg.data, "posts.db") }

// openIndex opens the index in the data directory with the glossary,
// applying inFlight batches at once (see index.Options).
func (cfg *config) openIndex(log *slog.Logger, inFlight int) (*index.Index, error) {
	return index.Open(cfg.indexPath(), index.Options{Logger: log, GlossaryFile: cfg.glossary, InFlight: inFlight})
}

// openStore opens the store: in PostgreSQL with --database, else in the
// data directory; the error names the database or the file.
func (cfg *config) openStore(ctx context.Context) (*store.DB, error) {
	if err := os.MkdirAll(cfg.data, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	dsn := cfg.storePath()
	if cfg.database != "" {
		if !store.IsPostgres(cfg.database) {
			return nil, usagef("--database: want a postgres:// URL, such as postgres://vplanet:password@db.example/vplanet (without --database the store is SQLite under --data)")
		}
		dsn = cfg.database
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	db.SetLease(cfg.lease)
	return db, nil
}

// syncFeeds reads the feed list and makes the store's feeds match it.
func (cfg *config) syncFeeds(ctx context.Context, db *store.DB, log *slog.Logger) error {
	f, err := os.Open(cfg.feeds)
	if err != nil {
		return fmt.Errorf("feed list: %w (give another with --feeds)", err)
	}
	defer f.Close()
	srcs, err := crawler.ReadFeedList(f)
	if err != nil {
		return fmt.Errorf("feed list %s: %w", cfg.feeds, err)
	}
	added, removed, err := db.SyncFeeds(ctx, srcs)
	if err != nil {
		return err
	}
	if added > 0 || removed > 0 {
		log.Info("feed list changed", "file", cfg.feeds, "feeds", len(srcs), "added", added, "removed", removed)
	}
	return nil
}

// holder describes this process for the crawl lock's next visitor.
func holder(what string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s (pid %d on %s, since %s)", what, os.Getpid(), host, nowString())
}

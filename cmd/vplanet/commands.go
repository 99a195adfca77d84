package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"vplanet"
	"vplanet/crawler"
	"vplanet/server"
)

func runCrawl(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg config
	fs := newFlagSet(env, "crawl", &cfg)
	cfg.addDatabase(fs)
	all := fs.Bool("all", false, "crawl every feed now, not only those that are due")
	wait := fs.Duration("wait", 0, "how long to wait for a crawl already running (0: exit at once with code 3); with --database, crawls share the due feeds and never wait")
	cfg.addLease(fs)
	cfg.addRhythm(fs)
	quiet := fs.Bool("quiet", false, "no progress bar, even on a terminal")
	baseURL := fs.String("base-url", "", "serve's public `URL`: subscribe the feeds crawled to the WebSub hubs they name, with callbacks that serve answers there (as serve --base-url does)")
	cfg.addMemoryLimit(fs, 256)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if err := cfg.checkRhythm(); err != nil {
		return err
	}
	cfg.setMemoryLimit(env.getenv)
	if fs.NArg() > 0 {
		return usagef("crawl takes no arguments, got %q", fs.Args())
	}
	// In cron's mail only the summary and errors appear; on a terminal a
	// progress bar shows the run going.
	if cfg.logLevel == "info" && !env.terminal(env.stderr) {
		cfg.logLevel = "warn"
	}
	log, err := cfg.logger(env.stderr)
	if err != nil {
		return err
	}
	db, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if *baseURL != "" {
		if cfg.subscriber, _, err = newSubscriber(&cfg, strings.TrimSuffix(*baseURL, "/"), db, log); err != nil {
			return usagef("--base-url %q: %v", *baseURL, err)
		}
	}

	var progress func(done, total int)
	var bar *progressbar.ProgressBar
	if !*quiet && env.terminal(env.stderr) {
		progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(env.stderr),
					progressbar.OptionSetDescription("crawling"), progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
			}
			bar.Set(done)
		}
	}
	sum, err := crawlOnce(ctx, &cfg, db, log, *all, *wait, progress)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, sum.String())
	return nil
}

// searchHit and searchResult are what the terminal prints of /api/search's
// answer.
type searchHit struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Blog      string    `json:"blog"`
	Published time.Time `json:"published"`
	Lang      string    `json:"lang"`
	Snippet   string    `json:"snippet"`
}

type searchResult struct {
	Query   string      `json:"query"`
	Total   uint64      `json:"total"`
	TookMS  float64     `json:"took_ms"`
	Partial bool        `json:"partial"`
	More    uint64      `json:"more"`
	Widened bool        `json:"widened"`
	Hits    []searchHit `json:"hits"`
}

func runSearch(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg config
	fs := newFlagSet(env, "search", &cfg)
	cfg.addDatabase(fs)
	asJSON := fs.Bool("json", false, "print /api/search's JSON")
	limit := fs.Int("limit", 10, "how many results, 1 to 100")
	offset := fs.Int("offset", 0, "skip this many results")
	sort := fs.String("sort", "relevance", "relevance or date")
	wider := fs.Bool("wider", false, "after the posts that match exactly, also those that match only in part (a word inside longer words)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	q := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(q) == "" {
		return usagef("search: give a query, such as: vplanet search VCHA")
	}
	c, closeAll, err := connect(ctx, &cfg, env, true)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer closeAll()
	var raw json.RawMessage
	v := url.Values{"q": {q}, "limit": {strconv.Itoa(*limit)}, "offset": {strconv.Itoa(*offset)}, "sort": {*sort}}
	if *wider {
		v.Set("wider", "1")
	}
	if _, err := c.do(ctx, http.MethodGet, "/api/search", v, &raw); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if *asJSON {
		return writeJSON(env.stdout, raw)
	}
	var res searchResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	printResults(env.stdout, &res, env.terminal(env.stdout))
	return nil
}

// connect returns a client for the server running on the data directory, or
// when none runs, one that answers from a server built in this process on
// the store and the index. With catchUp, that local index is first brought
// up to date with the store, as no server keeps it caught up. The returned
// function closes what was opened.
func connect(ctx context.Context, cfg *config, env *cmdEnv, catchUp bool) (*client, func(), error) {
	if c := findServer(ctx, cfg); c != nil {
		return c, func() {}, nil
	}
	return openLocal(ctx, cfg, env, catchUp)
}

func openLocal(ctx context.Context, cfg *config, env *cmdEnv, catchUp bool) (*client, func(), error) {
	log, err := cfg.logger(env.stderr)
	if err != nil {
		return nil, nil, err
	}
	db, err := cfg.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	ix, err := cfg.openIndex(log, 1)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	closeAll := func() {
		ix.Close()
		db.Close()
	}
	if catchUp {
		if _, err := ix.CatchUp(ctx, db, nil); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	// The operator runs this command: it sees what the owner's token shows
	// (feeds' full errors), as it would from a running server.
	token := rand.Text()
	h := server.NewServer(server.Config{Logger: log, SearchPerMinute: -1, Token: token}, db, ix)
	c := localClient(h)
	c.token = token
	return c, closeAll, nil
}

// openStoreOnly answers, in this process, the requests that need only the
// store (/api/feeds): the server it builds has no index, and any route that
// searches must not be asked of it.
func openStoreOnly(ctx context.Context, cfg *config, env *cmdEnv) (*client, func(), error) {
	log, err := cfg.logger(env.stderr)
	if err != nil {
		return nil, nil, err
	}
	db, err := cfg.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	token := rand.Text()
	h := server.NewServer(server.Config{Logger: log, SearchPerMinute: -1, Token: token}, db, nil)
	c := localClient(h)
	c.token = token
	return c, func() { db.Close() }, nil
}

// printResults writes results for a person: marked words in bold on a
// terminal, between asterisks elsewhere.
func printResults(w io.Writer, res *searchResult, color bool) {
	mark, unmark := "*", "*"
	if color {
		mark, unmark = "\x1b[1;33m", "\x1b[0m"
	}
	fmt.Fprintf(w, "%d results for %q (%.1f ms)\n", res.Total, res.Query, res.TookMS)
	switch {
	case res.Partial:
		fmt.Fprintln(w, "No post matches every word exactly; these match in part.")
	case res.Widened:
		fmt.Fprintln(w, "Exact matches first, then those that match only in part.")
	case res.More > 0:
		fmt.Fprintf(w, "%d more match only in part (a word inside longer words): add --wider to list them.\n", res.More)
	}
	for _, h := range res.Hits {
		snippet := strings.NewReplacer("<mark>", mark, "</mark>", unmark).Replace(h.Snippet)
		fmt.Fprintf(w, "\n%s\n  %s · %s · %s\n  %s\n  %s\n", h.Title, h.Blog, h.Published.Format(time.DateOnly), h.Lang, h.URL, html.UnescapeString(snippet))
	}
}

func runReindex(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg config
	fs := newFlagSet(env, "reindex", &cfg)
	cfg.addDatabase(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	start := time.Now()
	if c := findServer(ctx, &cfg); c != nil {
		// The server rebuilds beside the live index and keeps answering
		// from the old one until the swap; wait for it here.
		if _, err := c.do(ctx, http.MethodPost, "/api/reindex", nil, nil); err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		for {
			var h struct {
				Status   string `json:"status"`
				Progress int    `json:"progress"`
			}
			code, err := c.do(ctx, http.MethodGet, "/healthz", nil, &h)
			if err != nil && code != http.StatusServiceUnavailable {
				return fmt.Errorf("reindex: %w", err)
			}
			if code == http.StatusOK {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		fmt.Fprintf(env.stdout, "reindexed by the running server in %.1fs\n", time.Since(start).Seconds())
		return nil
	}
	log, err := cfg.logger(env.stderr)
	if err != nil {
		return err
	}
	db, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	// Two batches in flight: a rebuild's own process has no memory limit
	// to keep, and the second batch's analysis fills the core that Bleve
	// leaves idle while it builds a segment.
	ix, err := cfg.openIndex(log, 2)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer ix.Close()
	total, err := db.CountPosts(ctx)
	if err != nil {
		return err
	}
	var progress func(int)
	if env.terminal(env.stderr) {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(env.stderr),
			progressbar.OptionSetDescription("indexing"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		progress = func(n int) { bar.Set(n) }
		defer bar.Finish()
	}
	if err := ix.Rebuild(ctx, db, progress); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	n, _ := ix.DocCount()
	fmt.Fprintf(env.stdout, "reindexed %d posts in %.1fs\n", n, time.Since(start).Seconds())
	return nil
}

// feedStatus is what the terminal prints of /api/feeds's answer.
type feedStatus struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	LastError   string    `json:"last_error"`
	LastSuccess time.Time `json:"last_success"`
	NextAttempt time.Time `json:"next_attempt"`
	Redirect    string    `json:"redirect"`
	PostCount   int       `json:"post_count"`
	Push        *feedPush `json:"push"`
	Dropped     int       `json:"dropped"`
}

func runFeeds(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg config
	fs := newFlagSet(env, "feeds", &cfg)
	cfg.addDatabase(fs)
	asJSON := fs.Bool("json", false, "print JSON, the same as /api/feeds")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	// The feeds' state is the store's: without a server, the store alone
	// answers, and the index is neither opened nor built (a large one
	// takes minutes, and a crawl's or a rebuild's lock would block).
	c := findServer(ctx, &cfg)
	if c == nil {
		local, closeStore, err := openStoreOnly(ctx, &cfg, env)
		if err != nil {
			return fmt.Errorf("feeds: %w", err)
		}
		defer closeStore()
		c = local
	}
	var raw json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, "/api/feeds", nil, &raw); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	if *asJSON {
		return writeJSON(env.stdout, raw)
	}
	var feeds []feedStatus
	if err := json.Unmarshal(raw, &feeds); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tSTATUS\tPOSTS\tLAST SUCCESS\tNEXT ATTEMPT\tPUSH\tLAST ERROR")
	for _, f := range feeds {
		problem := f.LastError
		if f.Redirect != "" {
			problem = strings.TrimSpace(problem + " (moved: " + f.Redirect + ")")
		}
		if f.Dropped > 0 {
			problem = strings.TrimSpace(problem + fmt.Sprintf(" (%d items beyond the newest 1,000 not kept)", f.Dropped))
		}
		next := ago(f.NextAttempt)
		if !f.NextAttempt.IsZero() && !f.NextAttempt.After(time.Now()) {
			next = "due now" // waits for the next crawl; never "5m ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", f.ID, f.Status, f.PostCount, ago(f.LastSuccess), next, f.Push, problem)
	}
	return tw.Flush()
}

// writeJSON writes a JSON answer indented, for people and for jq.
func writeJSON(w io.Writer, raw json.RawMessage) error {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := out.WriteTo(w)
	return err
}

// ago says when t was (or will be) relative to now, for a person.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Until(t).Round(time.Second)
	switch {
	case d > 0:
		return "in " + d.String()
	case d > -time.Second:
		return "now"
	}
	return (-d).String() + " ago"
}

func runBackup(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg config
	fs := newFlagSet(env, "backup", &cfg)
	cfg.addDatabase(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("backup: give one file to write, such as: vplanet backup vplanet-backup.db")
	}
	path := fs.Arg(0)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	db, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, path); err != nil {
		return err
	}
	n, _ := db.CountPosts(ctx)
	fmt.Fprintf(env.stdout, "wrote %s (%d posts); restore it as %s and run vplanet reindex\n", path, n, cfg.storePath())
	return nil
}

func runImportOPML(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg config
	fs := newFlagSet(env, "import-opml", &cfg)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("import-opml: give one OPML file, such as a feed reader's export: vplanet import-opml subscriptions.opml")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("import-opml: %w", err)
	}
	defer f.Close()
	srcs, err := crawler.ReadOPML(f)
	if err != nil && len(srcs) == 0 {
		return fmt.Errorf("import-opml %s: %w", fs.Arg(0), err)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "vplanet: import-opml: %v\n", err)
	}
	added, listed, err := appendFeeds(cfg.feeds, fs.Arg(0), srcs)
	if err != nil {
		return fmt.Errorf("import-opml: %w", err)
	}
	fmt.Fprintf(env.stdout, "added %d feeds to %s (%d already listed); the next crawl fetches them\n", added, cfg.feeds, listed)
	return nil
}

// appendFeeds adds the feeds of srcs that path does not list yet to its end,
// under a comment naming where they came from, keeping everything the file
// had. It replaces the file in one rename, so a reader never sees half of it.
func appendFeeds(path, from string, srcs []vplanet.FeedSource) (added, listed int, err error) {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, err
	}
	have, err := crawler.ReadFeedList(bytes.NewReader(old))
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w (fix it before importing)", path, err)
	}
	known := make(map[string]bool, len(have))
	for _, src := range have {
		known[strings.ToLower(src.URL)] = true
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\n# Imported from %s on %s\n", filepath.Base(from), time.Now().Format(time.DateOnly))
	for _, src := range srcs {
		if known[strings.ToLower(src.URL)] {
			listed++
			continue
		}
		known[strings.ToLower(src.URL)] = true
		b.WriteString(crawler.FormatFeedLine(src) + "\n")
		added++
	}
	if added == 0 {
		return 0, listed, nil
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".feeds-*.txt")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return 0, 0, err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return 0, 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, 0, err
	}
	return added, listed, os.Rename(tmp.Name(), path)
}

func runPurge(ctx context.Context, env *cmdEnv, args []string) error {
	var cfg config
	fs := newFlagSet(env, "purge", &cfg)
	cfg.addDatabase(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	db, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	feeds, posts, err := db.Purge(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "purged %d feeds no longer in the feed list, and their %d posts\n", feeds, posts)
	return nil
}

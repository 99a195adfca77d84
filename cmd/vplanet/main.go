// Command vplanet crawls a community's blogs, indexes their posts in Japanese
// and English, and serves search and one merged feed.
//
//	vplanet serve [--addr :8080] [--schedule "@every 30m"]   crawl on a schedule and serve
//	vplanet crawl [--all] [--wait 5m]                         crawl once (for cron) and exit
//	vplanet search [--json] [--limit N] QUERY                 search from a terminal
//	vplanet reindex                                           rebuild the index from the store
//	vplanet feeds [--json]                                    every feed and its crawl status
//	vplanet backup FILE                                       a consistent copy of the store
//	vplanet import-opml FILE                                  add a feed reader's subscriptions to feeds.txt
//	vplanet purge                                             delete feeds removed from feeds.txt, and their posts
//
// Every command takes --data DIR (default ./data) and --feeds FILE (default
// ./feeds.txt); those that open the store take --database URL (PostgreSQL);
// VPLANET_* environment variables mirror the flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"vplanet"
	"vplanet/store"
)

// Exit codes other than 0 and 1, for scripts and cron.
const (
	exitUsage  = 2 // the command line could not be understood
	exitLocked = 3 // another crawl held the lock past --wait
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vplanet:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode maps an error from run to the process's exit status.
func exitCode(err error) int {
	var usage usageError
	switch {
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, vplanet.ErrLocked):
		return exitLocked
	}
	return 1
}

// usageError is an error in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

const usage = `vplanet %s: search and one merged feed for a community's blogs.

Usage:
  vplanet serve [--addr :8080] [--schedule "@every 30m"] [--base-url URL] [--tz Asia/Tokyo]
  vplanet crawl [--all] [--wait 5m] [--base-url URL]
  vplanet search [--json] [--limit N] [--wider] QUERY
  vplanet reindex
  vplanet feeds [--json]
  vplanet backup FILE
  vplanet import-opml FILE
  vplanet purge
  vplanet --version

Every command takes --data DIR (default ./data) and --feeds FILE (default
./feeds.txt). Commands that open the store take --database URL: a
postgres:// URL puts the store in PostgreSQL, shared by every host, and
--data then holds only this host's index and server record. Each flag can also be set by a VPLANET_ environment variable:
--base-url by VPLANET_BASE_URL, and so on. Run "vplanet COMMAND -h" for a
command's flags.
`

// run is vplanet's whole program; main only adds the process around it, so
// tests call run directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprintf(stderr, usage, vplanet.Version)
		return usagef("no command given")
	}
	cmd, rest := args[1], args[2:]
	env := &cmdEnv{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return runServe(ctx, env, rest)
	case "crawl":
		return runCrawl(ctx, env, rest)
	case "search":
		return runSearch(ctx, env, rest)
	case "reindex":
		return runReindex(ctx, env, rest)
	case "feeds":
		return runFeeds(ctx, env, rest)
	case "backup":
		return runBackup(ctx, env, rest)
	case "import-opml":
		return runImportOPML(ctx, env, rest)
	case "purge":
		return runPurge(ctx, env, rest)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "vplanet %s (store schema %d)\n", vplanet.Version, store.SchemaVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, usage, vplanet.Version)
		return nil
	}
	fmt.Fprintf(stderr, usage, vplanet.Version)
	return usagef("unknown command %q", cmd)
}

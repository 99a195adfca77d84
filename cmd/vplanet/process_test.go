package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"vplanet/store"
)

// writeFeeds writes a feed list with the test blogs and returns its path.
func writeFeeds(t *testing.T, dir string, b *blogs) string {
	t.Helper()
	path := filepath.Join(dir, "feeds.txt")
	list := fmt.Sprintf("%s/ja/feed ja\n%s/en/atom.xml en\n", b.srv.URL, b.srv.URL)
	if err := os.WriteFile(path, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCrawlLock checks that two crawls never run at once: the second exits
// with code 3 naming the holder, or waits for it with --wait.
func TestCrawlLock(t *testing.T) {
	b := newBlogs(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	feeds := writeFeeds(t, dir, b)
	os.MkdirAll(data, 0o755)

	lock, err := store.Acquire(context.Background(), filepath.Join(data, "crawl.lock"), "the test's crawl (pid 1)", 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "crawl", "--data", data, "--feeds", feeds)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitLocked {
		t.Fatalf("crawl while locked: %v, want exit code %d", err, exitLocked)
	}
	if !strings.Contains(stderr.String(), "the test's crawl (pid 1)") {
		t.Errorf("crawl while locked said %q, want the holder named", stderr.String())
	}

	// With --wait, the second crawl runs once the first lets go.
	time.AfterFunc(500*time.Millisecond, func() { lock.Release() })
	out := runBinary(t, 0, "crawl", "--wait", "20s", "--data", data, "--feeds", feeds)
	if !strings.Contains(out, "2 ok") {
		t.Errorf("crawl after waiting printed %q, want both feeds ok", out)
	}
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad schedule", []string{"serve", "--schedule", "every tuesday", "--data", dir}, `--schedule "every tuesday"`},
		{"bad time zone", []string{"serve", "--tz", "Mars/Olympus", "--data", dir}, `--tz "Mars/Olympus"`},
		{"unknown command", []string{"crawlx"}, `unknown command "crawlx"`},
		{"search without query", []string{"search", "--data", dir}, "give a query"},
		{"feed bounds upside down", []string{"crawl", "--feed-min-interval", "3h", "--data", dir}, "--feed-max-interval 2h0m0s is shorter than --feed-min-interval 3h0m0s"},
		{"feed bound too short", []string{"serve", "--feed-min-interval", "10s", "--data", dir}, "--feed-min-interval 10s: want a minute or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, tt.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitUsage {
				t.Fatalf("vplanet %s: %v, want exit code %d", strings.Join(tt.args, " "), err, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr = %q, want it to mention %q", stderr.String(), tt.want)
			}
		})
	}
}

// TestServeSIGTERM checks that serve stops cleanly on SIGTERM: exit 0 within
// 10 seconds, its address record removed.
func TestServeSIGTERM(t *testing.T) {
	b := newBlogs(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	feeds := writeFeeds(t, dir, b)
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", data, "--feeds", feeds)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitForServer(t, data, done)

	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want 0\n%s", err, stderr.String())
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("serve took %s to stop, want under 10s", d)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve still running 15s after SIGTERM\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "server.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("server.json left behind after a clean stop: %v", err)
	}
}

// TestBackupWhileCrawling writes a backup while serve runs and a crawl
// writes, restores it into a new data directory, reindexes, and finds every
// post the backup holds.
func TestBackupWhileCrawling(t *testing.T) {
	_, feeds := community(t, 20, 25, 40*time.Millisecond)
	data := filepath.Join(t.TempDir(), "data")
	runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", feeds)

	serveOn(t, data, feeds)

	crawl := exec.Command(binary, "crawl", "--all", "--data", data, "--feeds", feeds)
	if err := crawl.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the crawl is writing now
	backup := filepath.Join(t.TempDir(), "backup.db")
	out := runBinary(t, 0, "backup", "--data", data, backup)
	if err := crawl.Wait(); err != nil {
		t.Fatalf("crawl beside the backup: %v", err)
	}
	if !strings.Contains(out, "500 posts") {
		t.Errorf("backup printed %q, want 500 posts", out)
	}

	restored := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(restored, 0o755)
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(restored, "vplanet.db"), b, 0o644)
	if out := runBinary(t, 0, "reindex", "--data", restored); !strings.Contains(out, "reindexed 500 posts") {
		t.Errorf("reindex of the restored store printed %q", out)
	}
	res := runBinary(t, 0, "search", "--json", "--limit", "1", "--data", restored, "zebracorn")
	if !strings.Contains(res, `"total": 500`) {
		t.Errorf("search in the restored store: %.300s, want total 500", res)
	}
}

// TestScheduleSkipsOverlap runs serve with a schedule that ticks faster than
// a crawl takes: the ticks that come while a crawl runs are skipped, not
// stacked, and crawls never overlap.
func TestScheduleSkipsOverlap(t *testing.T) {
	_, feeds := community(t, 4, 5, 1200*time.Millisecond)
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--schedule", "@every 1s", "--log-level", "debug",
		"--data", data, "--feeds", feeds)
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitForServer(t, data, done)
	time.Sleep(4 * time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	out := logs.String()
	finished, skipped := strings.Count(out, `msg="crawl finished"`), strings.Count(out, `msg="cron: skip"`)
	if finished < 1 || skipped < 1 {
		t.Errorf("%d crawls finished and %d ticks skipped, want at least one of each\n%s", finished, skipped, out)
	}
	if strings.Contains(out, "another crawl is running") {
		t.Errorf("two crawls ran into each other:\n%s", out)
	}
}

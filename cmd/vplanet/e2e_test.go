package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"vplanet/internal/pgtest"
)

// binary is the vplanet binary that TestMain builds, for the tests that are
// about separate processes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vplanet-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "vplanet")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vplanet:", err)
		os.Exit(1)
	}
	code := pgtest.Main(m) // runs the tests, then stops a PostgreSQL they started
	os.RemoveAll(dir)
	os.Exit(code)
}

// blogs serves the seed blogs as feeds, and lets a test publish more posts.
type blogs struct {
	mu     sync.Mutex
	ja, en []seedPost
	srv    *httptest.Server
}

func newBlogs(t testing.TB) *blogs {
	ja, en := readSeeds(t)
	return serveBlogs(t, ja, en)
}

// serveBlogs serves ja as a Hatena-like RSS feed at /ja/feed and en as an
// Atom feed at /en/atom.xml.
func serveBlogs(t testing.TB, ja, en []seedPost) *blogs {
	b := &blogs{ja: ja, en: en}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ja/feed", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		body := rss(b.srv.URL, b.ja)
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	})
	mux.HandleFunc("GET /en/atom.xml", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		body := atom(b.srv.URL, b.en)
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/atom+xml")
		w.Write(body)
	})
	mux.HandleFunc("GET /broken/feed", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the database is down", http.StatusInternalServerError)
	})
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *blogs) publish(p seedPost) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ja = append([]seedPost{p}, b.ja...)
}

// unreachable returns a loopback URL where nothing listens.
func unreachable(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/feed"
}

// TestEndToEnd runs the whole spine as a user would: serve crawls the seed
// blogs, search finds Japanese and English posts, the merged feed holds them
// newest first, a crawl from a second process shows up in search without a
// restart, and the commands run beside serve go through it.
func TestEndToEnd(t *testing.T) {
	b := newBlogs(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	feeds := filepath.Join(dir, "feeds.txt")
	list := fmt.Sprintf("# test blogs\n%s/ja/feed  vExpert ja\n%s/en/atom.xml  VMworld notes en\n%s/broken/feed\n%s\n",
		b.srv.URL, b.srv.URL, b.srv.URL, unreachable(t))
	if err := os.WriteFile(feeds, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}

	base := serveInProcess(t, data, nil, "--addr", "127.0.0.1:0", "--feeds", feeds, "--schedule", "@every 1h")
	// The crawl at start has run when every feed has been attempted.
	waitFor(t, 30*time.Second, "the first crawl", func() bool {
		var list []map[string]any
		if get(t, base+"/api/feeds", &list) != 200 || len(list) != 4 {
			return false
		}
		for _, f := range list {
			if f["last_attempt"] == nil {
				return false
			}
		}
		return true
	})
	waitFor(t, 30*time.Second, "search to catch up with the crawl", func() bool {
		return len(search(t, base, "VMworld").Hits) >= 5
	})

	t.Run("search", func(t *testing.T) {
		tests := []struct{ query, want string }{
			{"VCHA", "VMworld 2017 Europe #4"},
			{"重複排除", "VMworld 2017 Europe #5"},
			{"ESX", "VMWorld 2005 Day 3"},
			{"拡張クラスタ", "VMworld 2017 Europe #5"},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				res := search(t, base, tt.query)
				if !hasTitle(res, tt.want) {
					t.Fatalf("search %q: hits %v, want %q among them", tt.query, titles(res), tt.want)
				}
				for _, h := range res.Hits {
					if h.Title == tt.want && !strings.Contains(h.Snippet, "<mark>") {
						t.Errorf("search %q: snippet %q has no <mark>", tt.query, h.Snippet)
					}
				}
			})
		}
	})

	t.Run("bad query is a 400 with a message", func(t *testing.T) {
		for _, q := range []string{"", `"unbalanced`, strings.Repeat("VCHA ", 2000)} {
			var body map[string]any
			code := get(t, base+"/api/search?q="+url.QueryEscape(q), &body)
			if code >= 500 {
				t.Errorf("query %.30q: status %d, want no 5xx", q, code)
			}
			if msg, _ := body["error"].(string); code == 400 && msg == "" {
				t.Errorf("query %.30q: 400 without an error message", q)
			}
		}
		var body map[string]any
		if code := get(t, base+"/api/search?q=", &body); code != 400 || body["error"] == nil {
			t.Errorf("empty query: status %d body %v, want 400 with an error", code, body)
		}
	})

	t.Run("merged feed", func(t *testing.T) {
		resp, err := http.Get(base + "/feed.atom")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		feed, err := gofeed.NewParser().Parse(resp.Body)
		if err != nil {
			t.Fatalf("parse /feed.atom: %v", err)
		}
		if got, want := len(feed.Items), len(b.ja)+len(b.en); got != want {
			t.Errorf("/feed.atom has %d entries, want %d", got, want)
		}
		for i := 1; i < len(feed.Items); i++ {
			prev, cur := entryTime(feed.Items[i-1]), entryTime(feed.Items[i])
			if cur.IsZero() {
				t.Errorf("entry %d (%s) has no date", i, feed.Items[i].Title)
			}
			if cur.After(prev) {
				t.Errorf("entry %d (%s) is newer than entry %d (%s): not newest first", i, cur, i-1, prev)
			}
		}
		if len(feed.Items) > 0 && feed.Items[0].Title != "VMworld 2017 Europe #5" {
			t.Errorf("newest entry = %q, want VMworld 2017 Europe #5", feed.Items[0].Title)
		}
	})

	t.Run("broken feeds are reported and stop nothing", func(t *testing.T) {
		var got []struct {
			URL       string `json:"url"`
			Status    string `json:"status"`
			LastError string `json:"last_error"`
			PostCount int    `json:"post_count"`
		}
		get(t, base+"/api/feeds", &got)
		var ok, failed int
		for _, f := range got {
			switch {
			case f.Status == "ok" && f.PostCount > 0:
				ok++
			case f.Status == "error" && f.LastError != "":
				failed++
			default:
				t.Errorf("feed %s: status %q, error %q, %d posts", f.URL, f.Status, f.LastError, f.PostCount)
			}
		}
		if ok != 2 || failed != 2 {
			t.Errorf("%d feeds ok and %d failed, want 2 and 2", ok, failed)
		}
		out := runBinary(t, 0, "feeds", "--data", data)
		if !strings.Contains(out, "500") {
			t.Errorf("vplanet feeds does not show the broken feed's HTTP 500:\n%s", out)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`vplanet_crawl_runs_total{result="ok"} 1`,
			`vplanet_crawl_feeds_total{outcome="failed"} 2`,
			`vplanet_crawl_posts_total{kind="new"} 8`,
			"vplanet_posts 8",
			"vplanet_index_lag 0",
			`vplanet_feeds{status="error"} 2`,
			"vplanet_http_request_duration_seconds_bucket",
			"process_resident_memory_bytes",
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})

	t.Run("crawl from cron while serving", func(t *testing.T) {
		b.publish(seedPost{ID: "ja-new", Title: "vSAN ESA の検証メモ", Published: time.Now().UTC().Add(-time.Minute),
			Body: []string{"ストレッチクラスタとzebracorn構成を検証しました。"}})
		out := runBinary(t, 0, "crawl", "--all", "--wait", "30s", "--data", data, "--feeds", feeds)
		if !strings.Contains(out, "new") {
			t.Errorf("crawl printed %q, want a summary line", out)
		}
		waitFor(t, 30*time.Second, "the new post in serve's search", func() bool {
			return hasTitle(search(t, base, "zebracorn"), "vSAN ESA の検証メモ")
		})
	})

	t.Run("commands beside serve go through it", func(t *testing.T) {
		out := runBinary(t, 0, "search", "--data", data, "VCHA")
		if !strings.Contains(out, "VMworld 2017 Europe #4") || !strings.Contains(out, "*VCHA*") {
			t.Errorf("vplanet search VCHA:\n%s", out)
		}
		var res searchResult
		if err := json.Unmarshal([]byte(runBinary(t, 0, "search", "--json", "--data", data, "VCHA")), &res); err != nil {
			t.Fatalf("vplanet search --json: %v", err)
		}
		if !hasTitle(&res, "VMworld 2017 Europe #4") {
			t.Errorf("vplanet search --json VCHA: %v", titles(&res))
		}
		var feedsOut []feedStatus
		if err := json.Unmarshal([]byte(runBinary(t, 0, "feeds", "--json", "--data", data)), &feedsOut); err != nil || len(feedsOut) != 4 {
			t.Errorf("vplanet feeds --json: %d feeds, %v", len(feedsOut), err)
		}
		if out := runBinary(t, 0, "reindex", "--data", data); !strings.Contains(out, "reindexed") {
			t.Errorf("vplanet reindex printed %q", out)
		}
		if !hasTitle(search(t, base, "VCHA"), "VMworld 2017 Europe #4") {
			t.Error("VCHA not found after reindex")
		}
		if out := runBinary(t, 0, "--version"); !strings.HasPrefix(out, "vplanet ") {
			t.Errorf("vplanet --version printed %q", out)
		}
	})
}

// waitForServer waits for serve to record its address and answer /healthz.
// serveInProcess runs "vplanet serve --data data" with args in this
// process until the test ends, with getenv as its environment (nil: none),
// and returns its base URL once it answers /healthz. At the end it checks
// that serve stopped cleanly, and shows serve's log if the test failed.
func serveInProcess(t *testing.T, data string, getenv func(string) string, args ...string) string {
	t.Helper()
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"vplanet", "serve", "--data", data}, args...), getenv, strings.NewReader(""), io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15s of its context ending")
		}
		if t.Failed() {
			t.Logf("serve's log:\n%s", logs.String())
		}
	})
	return waitForServer(t, data, done)
}

func waitForServer(t *testing.T, data string, done <-chan error) string {
	t.Helper()
	var base string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v", err)
		default:
		}
		if info, err := readServerInfo(filepath.Join(data, "server.json")); err == nil {
			base = "http://" + info.Addr
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return base
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("serve did not become healthy within 60s")
	return ""
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %d %v: %.200s", u, resp.StatusCode, err, body)
		}
	}
	return resp.StatusCode
}

func search(t *testing.T, base, q string) *searchResult {
	t.Helper()
	var res searchResult
	if code := get(t, base+"/api/search?q="+url.QueryEscape(q), &res); code != 200 {
		t.Fatalf("search %q: status %d", q, code)
	}
	return &res
}

func hasTitle(res *searchResult, title string) bool {
	for _, h := range res.Hits {
		if h.Title == title {
			return true
		}
	}
	return false
}

func titles(res *searchResult) []string {
	var s []string
	for _, h := range res.Hits {
		s = append(s, h.Title)
	}
	return s
}

func entryTime(it *gofeed.Item) time.Time {
	if it.PublishedParsed != nil {
		return *it.PublishedParsed
	}
	if it.UpdatedParsed != nil {
		return *it.UpdatedParsed
	}
	return time.Time{}
}

// runBinary runs the built vplanet with args and returns its standard
// output, failing the test unless it exits with code want.
func runBinary(t *testing.T, want int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("vplanet %s: %v", strings.Join(args, " "), err)
	}
	if code != want {
		t.Fatalf("vplanet %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

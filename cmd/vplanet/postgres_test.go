package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"vplanet"
	"vplanet/internal/pgtest"
	"vplanet/store"
)

// countingBlogs serves n feeds of posts posts each, every request taking
// latency, and counts the requests of each feed.
type countingBlogs struct {
	srv   *httptest.Server
	feeds string // the feed list's path

	mu    sync.Mutex
	count map[int]int
	extra map[int][]string // posts published later, by feed
}

func newCountingBlogs(t *testing.T, n, posts int, latency time.Duration) *countingBlogs {
	t.Helper()
	b := &countingBlogs{count: map[int]int{}, extra: map[int][]string{}}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var feed int
		if _, err := fmt.Sscanf(r.URL.Path, "/blog%d/feed", &feed); err != nil {
			http.NotFound(w, r)
			return
		}
		b.mu.Lock()
		b.count[feed]++
		extra := b.extra[feed]
		b.mu.Unlock()
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Blog %d</title><link>http://%s/blog%d/</link>`, feed, r.Host, feed)
		item := func(guid, word string, i int) {
			fmt.Fprintf(w, `<item><title>vSAN の検証 %s</title><link>http://%s/blog%d/%s</link><guid>%s</guid>`+
				`<pubDate>%s</pubDate><description>&lt;p&gt;zebracorn 拡張クラスタと重複排除を検証しました。%s&lt;/p&gt;</description></item>`,
				guid, r.Host, feed, guid, guid, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(feed*1000+i)*time.Hour).Format(time.RFC1123Z), word)
		}
		for i := range posts {
			item(fmt.Sprintf("blog%d-post%d", feed, i), fmt.Sprintf("post%dx%d", feed, i), i)
		}
		for i, word := range extra {
			item(word, word, posts+i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(b.srv.Close)
	var list strings.Builder
	for i := range n {
		fmt.Fprintf(&list, "%s/blog%d/feed\n", b.srv.URL, i)
	}
	b.feeds = filepath.Join(t.TempDir(), "feeds.txt")
	if err := os.WriteFile(b.feeds, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *countingBlogs) counts() map[int]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := make(map[int]int, len(b.count))
	for k, v := range b.count {
		c[k] = v
	}
	return c
}

// publish adds a post with a unique word to a feed.
func (b *countingBlogs) publish(feed int, word string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.extra[feed] = append(b.extra[feed], word)
}

// startBinary starts vplanet with args, its stderr kept for the test's log,
// and stops it with SIGTERM at the end of the test.
func startBinary(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer, <-chan error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("vplanet %s log:\n%.4000s", args[0], logs.String())
		}
	})
	return cmd, logs, done
}

// serveDB starts serve on the database with its own data directory and
// returns its base URL once it answers /healthz with 200.
func serveDB(t *testing.T, db string, feeds string, args ...string) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--feeds", feeds, "--database", db}, args...)
	_, _, done := startBinary(t, all...)
	return waitForServer(t, data, done)
}

func openDB(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPostgresReplicas runs two serve processes (each crawling at start)
// and two crawl processes at once on one database: every feed is fetched
// once, every post is searchable on both replicas, and a post stored later
// by one crawl becomes searchable on both.
func TestPostgresReplicas(t *testing.T) {
	const nFeeds, nPosts = 24, 10
	b := newCountingBlogs(t, nFeeds, nPosts, 100*time.Millisecond)
	db := pgtest.URL(t)

	var wg sync.WaitGroup
	bases := make([]string, 2)
	for i := range bases {
		wg.Go(func() { bases[i] = serveDB(t, db, b.feeds) })
	}
	outs := make([]string, 2)
	for i := range outs {
		wg.Go(func() {
			cmd := exec.Command(binary, "crawl", "--database", db, "--data", t.TempDir(), "--feeds", b.feeds)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Errorf("crawl %d: %v\n%s", i, err, errb.String())
			}
			outs[i] = out.String()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	st := openDB(t, db)
	waitFor(t, 60*time.Second, "every feed to be fetched", func() bool {
		feeds, err := st.FindFeeds(context.Background(), vplanet.FeedFilter{Active: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range feeds {
			if f.LastSuccess.IsZero() {
				return false
			}
		}
		return len(feeds) == nFeeds
	})
	counts := b.counts()
	for i := range nFeeds {
		if counts[i] != 1 {
			t.Errorf("feed %d fetched %d times by the four processes, want once", i, counts[i])
		}
	}
	t.Logf("the two crawls printed: %q, %q", strings.TrimSpace(outs[0]), strings.TrimSpace(outs[1]))

	for i, base := range bases {
		waitIndexed(t, base, nFeeds*nPosts)
		if res := search(t, base, "zebracorn"); res.Total != nFeeds*nPosts {
			t.Errorf("replica %d: zebracorn finds %d posts, want %d", i, res.Total, nFeeds*nPosts)
		}
	}

	// A post stored later by a crawl from cron reaches both replicas.
	for round := range 3 {
		word := fmt.Sprintf("quokka%d", round)
		b.publish(round, word)
		runBinary(t, 0, "crawl", "--all", "--database", db, "--data", t.TempDir(), "--feeds", b.feeds)
		stored := time.Now()
		for i, base := range bases {
			waitFor(t, 10*time.Second, word+" on replica "+fmt.Sprint(i), func() bool {
				return search(t, base, word).Total == 1
			})
			t.Logf("round %d: %s searchable on replica %d %v after the crawl that stored it exited", round, word, i, time.Since(stored).Round(time.Millisecond))
		}
	}
}

// TestPostgresCrawlerKilled kills a crawl holding claims: a crawl right
// after it leaves the claimed feeds alone, and once the lease has run out
// another crawl fetches them. Nothing is lost.
func TestPostgresCrawlerKilled(t *testing.T) {
	const nFeeds, quick = 16, 4
	const lease = 8 * time.Second
	b := newCountingBlogs(t, nFeeds, 3, 0)
	// Feeds past the first few hang until the gate opens, so the crawl is
	// killed while it holds them.
	gate := make(chan struct{})
	inner := b.srv.Config.Handler
	gated := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var feed int
		fmt.Sscanf(r.URL.Path, "/blog%d/feed", &feed)
		if feed >= quick {
			select {
			case <-gate:
			case <-r.Context().Done():
				b.mu.Lock()
				b.count[feed]++ // counted, though never answered
				b.mu.Unlock()
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	// Each feed on its own address, so that the hanging ones do not queue
	// the quick ones behind the crawler's per-host limit.
	var list strings.Builder
	for i := range nFeeds {
		srv := httptest.NewServer(gated)
		t.Cleanup(srv.Close)
		fmt.Fprintf(&list, "%s/blog%d/feed\n", srv.URL, i)
	}
	if err := os.WriteFile(b.feeds, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	db := pgtest.URL(t)
	crawl := []string{"crawl", "--database", db, "--data", t.TempDir(), "--feeds", b.feeds, "--claim-lease", lease.String()}
	st := openDB(t, db)
	pending := func() map[string]bool {
		feeds, err := st.FindFeeds(context.Background(), vplanet.FeedFilter{Active: true})
		if err != nil {
			t.Fatal(err)
		}
		p := map[string]bool{}
		for _, f := range feeds {
			if f.LastSuccess.IsZero() {
				p[f.URL] = true
			}
		}
		return p
	}

	victim := exec.Command(binary, crawl...)
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the crawl to save the quick feeds", func() bool {
		p := pending()
		return len(p) == nFeeds-quick
	})
	claimed := time.Now()
	victim.Process.Signal(syscall.SIGKILL)
	victim.Wait()
	close(gate)
	held := pending()

	// The next crawl, within the lease, leaves the dead crawl's feeds.
	out := runBinary(t, 0, crawl...)
	if time.Since(claimed) < lease {
		if got := pending(); len(got) != len(held) {
			t.Errorf("a crawl within the lease fetched %d of the %d feeds the killed crawl held (it printed %q)", len(held)-len(got), len(held), out)
		}
	} else {
		t.Logf("the crawl after the kill took longer than the lease; claims not checked")
	}

	// Past the lease, they are fetched.
	time.Sleep(time.Until(claimed.Add(lease)))
	out = runBinary(t, 0, crawl...)
	if p := pending(); len(p) != 0 {
		t.Fatalf("after the lease, %d feeds were still not fetched (the crawl printed %q)", len(p), out)
	}
	if n, _ := st.CountPosts(context.Background()); n != nFeeds*3 {
		t.Errorf("store holds %d posts, want %d", n, nFeeds*3)
	}
	t.Logf("held by the killed crawl: %d feeds; fetched by the crawl after its lease: %q", len(held), strings.TrimSpace(out))
}

// TestPostgresEmptyReplica starts a replica with an empty --data on a
// database that has posts: it answers /healthz 503 until its index holds
// them all, never 200 before.
func TestPostgresEmptyReplica(t *testing.T) {
	const nFeeds, nPosts = 40, 25
	b := newCountingBlogs(t, nFeeds, nPosts, 0)
	db := pgtest.URL(t)
	runBinary(t, 0, "crawl", "--database", db, "--data", t.TempDir(), "--feeds", b.feeds)

	data := filepath.Join(t.TempDir(), "data")
	_, _, done := startBinary(t, "serve", "--addr", "127.0.0.1:0", "--schedule", "off", "--data", data, "--feeds", b.feeds, "--database", db)
	var base string
	waitFor(t, 30*time.Second, "serve to record its address", func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		default:
		}
		info, err := readServerInfo(filepath.Join(data, "server.json"))
		base = "http://" + info.Addr
		return err == nil
	})
	var sawBuilding int
	waitFor(t, 60*time.Second, "the replica to be ready", func() bool {
		var h struct {
			Status     string `json:"status"`
			Seq        int64  `json:"seq"`
			IndexedSeq int64  `json:"indexed_seq"`
			Progress   *int   `json:"progress"`
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(body, &h); err != nil {
			t.Fatalf("healthz: %v: %s", err, body)
		}
		if resp.StatusCode != 200 {
			sawBuilding++
			return false
		}
		if h.IndexedSeq != h.Seq {
			t.Fatalf("healthz answered 200 with the index at %d of %d", h.IndexedSeq, h.Seq)
		}
		return true
	})
	if res := search(t, base, "zebracorn"); res.Total != nFeeds*nPosts {
		t.Errorf("the new replica finds %d posts, want %d", res.Total, nFeeds*nPosts)
	}
	t.Logf("healthz answered 503 %d times while the replica built its index", sawBuilding)
}

// TestPostgresGoesAway stops PostgreSQL under a running serve: searches
// and pages go on answering from the replica's index and local copy,
// /healthz and /metrics say the store is unreachable, a crawl fails with a
// message that names the database, and all recovers when PostgreSQL is
// back.
func TestPostgresGoesAway(t *testing.T) {
	pg := pgtest.Start(t)
	db := pg.NewDatabase(t)
	b := newCountingBlogs(t, 3, 5, 0)
	base := serveDB(t, db, b.feeds)
	waitIndexed(t, base, 15)

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status, Error string
	}
	// Still ready: searches answer from the index and the local copy.
	if code := get(t, base+"/healthz", &h); code != http.StatusOK || h.Status != "store unreachable" || !strings.Contains(h.Error, "unreachable") {
		t.Errorf("healthz with the database down: %d %+v, want 200 saying the store is unreachable", code, h)
	}
	// The feed list shows its last known state.
	var apiFeeds []struct{ URL, Status string }
	if code := get(t, base+"/api/feeds", &apiFeeds); code != http.StatusOK || len(apiFeeds) != 3 || !strings.HasPrefix(apiFeeds[0].URL, b.srv.URL) || apiFeeds[0].Status != "ok" {
		t.Errorf("/api/feeds with the database down: %d %+v, want the 3 feeds as last known", code, apiFeeds)
	}
	res := search(t, base, "zebracorn")
	if res.Total != 15 || len(res.Hits) != 10 || res.Hits[0].Title == "" || res.Hits[0].Snippet == "" {
		t.Errorf("search with the database down: %d hits, first %+v; want 15 with titles and snippets", res.Total, res.Hits)
	}
	for _, page := range []string{"/", "/search?q=zebracorn"} {
		if code := get(t, base+page, nil); code != http.StatusOK {
			t.Errorf("GET %s with the database down: %d, want 200", page, code)
		}
	}
	// What needs the database (the posts' HTML) says it is away, that it
	// passes, and when to come back.
	for _, page := range []string{"/feed.atom", "/blogs/127.0.0.1-blog0/feed.atom", "/blogs/127.0.0.1-blog0"} {
		resp, err := http.Get(base + page)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "database is unreachable") {
			t.Errorf("GET %s with the database down: %d %.300s, want 503 saying the database is unreachable", page, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Retry-After"); got != "60" {
			t.Errorf("GET %s with the database down: Retry-After %q, want 60", page, got)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "vplanet_store_up 0") {
		t.Errorf("metrics with the database down lack vplanet_store_up 0")
	}
	start := time.Now()
	cmd := exec.Command(binary, "crawl", "--database", db, "--data", t.TempDir(), "--feeds", b.feeds)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Errorf("crawl with the database down: %v, want a failure", err)
	}
	port := fmt.Sprint(pg.Port())
	if !strings.Contains(stderr.String(), "127.0.0.1:"+port) || strings.Contains(stderr.String(), pgtest.Password) {
		t.Errorf("crawl with the database down said %q, want the database named without its password", stderr.String())
	}
	t.Logf("crawl with the database down failed in %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(stderr.String()))

	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "healthz to recover", func() bool { return get(t, base+"/healthz", nil) == 200 })
	b.publish(0, "wombat")
	runBinary(t, 0, "crawl", "--all", "--database", db, "--data", t.TempDir(), "--feeds", b.feeds)
	waitFor(t, 10*time.Second, "a post crawled after the restart to be searchable", func() bool {
		return search(t, base, "wombat").Total == 1
	})
}

// TestBadDatabase checks that a database that cannot be used fails the
// command at once, naming it, never hanging.
func TestBadDatabase(t *testing.T) {
	good := pgtest.URL(t)
	nobody := strings.TrimSuffix(strings.TrimPrefix(unreachable(t), "http://"), "/feed")
	tests := []struct {
		name, url string
		code      int
		want      string
	}{
		{"refused password", strings.Replace(good, pgtest.Password, "wrong", 1), 1, "password authentication failed"},
		{"nothing listening", "postgres://vplanet:pw@" + nobody + "/vplanet", 1, "cannot connect"},
		{"not a postgres URL", "mysql://db/vplanet", exitUsage, "want a postgres:// URL"},
	}
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	os.WriteFile(feeds, nil, 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cmd := range []string{"feeds", "crawl", "serve"} {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c := exec.CommandContext(ctx, binary, cmd, "--database", tt.url, "--data", t.TempDir(), "--feeds", feeds, "--addr", "127.0.0.1:0")
				if cmd != "serve" {
					c = exec.CommandContext(ctx, binary, cmd, "--database", tt.url, "--data", t.TempDir(), "--feeds", feeds)
				}
				var stderr bytes.Buffer
				c.Stderr = &stderr
				err := c.Run()
				hung := ctx.Err() != nil
				cancel()
				if hung {
					t.Fatalf("%s hung on %s", cmd, tt.url)
				}
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != tt.code {
					t.Errorf("%s: %v, want exit code %d", cmd, err, tt.code)
				}
				msg := stderr.String()
				if !strings.Contains(msg, tt.want) {
					t.Errorf("%s said %q, want %q", cmd, msg, tt.want)
				}
				if tt.code == 1 && (!strings.Contains(msg, "postgres://vplanet@") || strings.Contains(msg, pgtest.Password)) {
					t.Errorf("%s said %q, want the database named without its password", cmd, msg)
				}
			}
		})
	}

	t.Run("from VPLANET_DATABASE_URL", func(t *testing.T) {
		c := exec.Command(binary, "feeds", "--data", t.TempDir(), "--feeds", feeds)
		c.Env = append(os.Environ(), "VPLANET_DATABASE_URL="+good)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("feeds with VPLANET_DATABASE_URL: %v\n%s", err, out)
		}
		db := openDB(t, good)
		if v, err := db.SchemaVersion(context.Background()); err != nil || v != store.SchemaVersion() {
			t.Errorf("the database named by VPLANET_DATABASE_URL has schema %d, %v; want %d", v, err, store.SchemaVersion())
		}
	})
}

// TestPostgresReplicaKilled kills a replica several times while it builds
// its index from the database: each restart starts over cleanly, and the
// last one serves every post.
func TestPostgresReplicaKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes for several seconds; skipped with -short")
	}
	const nFeeds, nPosts = 60, 25
	b := newCountingBlogs(t, nFeeds, nPosts, 0)
	db := pgtest.URL(t)
	runBinary(t, 0, "crawl", "--database", db, "--data", t.TempDir(), "--feeds", b.feeds)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--schedule", "off", "--feeds", b.feeds, "--database", db}
	for _, d := range []time.Duration{0, 50, 150, 300} {
		killServeAfter(t, data, d*time.Millisecond, args...)
	}
	_, _, done := startBinary(t, args...)
	base := waitForServer(t, data, done)
	if res := search(t, base, "zebracorn"); res.Total != nFeeds*nPosts {
		t.Errorf("after the kills the replica finds %d posts, want %d", res.Total, nFeeds*nPosts)
	}
	for _, word := range []string{"post0x0", "post33x12", "post59x24"} {
		if res := search(t, base, word); res.Total != 1 {
			t.Errorf("search %s: %d hits, want 1", word, res.Total)
		}
	}
}

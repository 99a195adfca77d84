package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"vplanet"
	"vplanet/index"
	"vplanet/store"
)

// community serves nFeeds blogs of nPosts posts each, slowly enough that a
// crawl takes a few seconds, so it can be killed in the middle.
func community(t *testing.T, nFeeds, nPosts int, latency time.Duration) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var feed int
		if _, err := fmt.Sscanf(r.URL.Path, "/blog%d/feed", &feed); err != nil {
			http.NotFound(w, r)
			return
		}
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Blog %d</title><link>http://%s/blog%d/</link>`, feed, r.Host, feed)
		for i := range nPosts {
			fmt.Fprintf(w, `<item><title>vSAN の検証 %d-%d</title><link>http://%s/blog%d/%d</link><guid>blog%d-post%d</guid>`+
				`<pubDate>%s</pubDate><description>&lt;p&gt;zebracorn 拡張クラスタと重複排除を検証しました。post%dx%d&lt;/p&gt;</description></item>`,
				feed, i, r.Host, feed, i, feed, i, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(feed*nPosts+i)*time.Hour).Format(time.RFC1123Z), feed, i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	var list strings.Builder
	for i := range nFeeds {
		fmt.Fprintf(&list, "%s/blog%d/feed\n", srv.URL, i)
	}
	path := filepath.Join(t.TempDir(), "feeds.txt")
	if err := os.WriteFile(path, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, path
}

// killAfter starts vplanet with args and kills it with SIGKILL after d.
func killAfter(t *testing.T, d time.Duration, args ...string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// killServeAfter starts vplanet serve and kills it with SIGKILL d after it
// first answers on /healthz, while it builds its index.
func killServeAfter(t *testing.T, data string, d time.Duration, args ...string) {
	t.Helper()
	os.Remove(filepath.Join(data, "server.json"))
	cmd := exec.Command(binary, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if info, err := readServerInfo(filepath.Join(data, "server.json")); err == nil && info.PID == cmd.Process.Pid {
			if resp, err := http.Get("http://" + info.Addr + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(d)
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// checkStore opens the store after a crash: it must open, pass SQLite's
// integrity check through a normal read, and hold only whole posts.
func checkStore(t *testing.T, data string) int {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "vplanet.db"))
	if err != nil {
		t.Fatalf("store after kill -9: %v", err)
	}
	defer db.Close()
	n, err := db.CountPosts(ctx)
	if err != nil {
		t.Fatalf("store after kill -9: %v", err)
	}
	posts, err := db.RecentPosts(ctx, vplanet.PostFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range posts {
		if !strings.Contains(p.Text, "zebracorn") || p.Title == "" {
			t.Fatalf("post %s stored half-written: %q %q", p.ID, p.Title, p.Text)
		}
	}
	return n
}

// TestKill9 kills a crawl at several points of its run, then a server at
// several points of indexing, and checks that nothing committed is lost:
// the store opens consistent every time, the last crawl completes it, and
// after the index catches up every stored post is searchable.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes for about half a minute; skipped with -short")
	}
	const nFeeds, nPosts = 60, 25
	_, feeds := community(t, nFeeds, nPosts, 80*time.Millisecond)
	data := filepath.Join(t.TempDir(), "data")

	// The crawl: 60 feeds, two at a time on one host, 80 ms each, about 2.5 s.
	var counts []int
	for _, d := range []time.Duration{50, 400, 800, 1200, 1600, 2000} {
		killAfter(t, d*time.Millisecond, "crawl", "--all", "--data", data, "--feeds", feeds)
		counts = append(counts, checkStore(t, data))
	}
	t.Logf("posts stored when each crawl was killed: %v", counts)
	runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", feeds)
	if got := checkStore(t, data); got != nFeeds*nPosts {
		t.Fatalf("after a full crawl the store holds %d posts, want %d", got, nFeeds*nPosts)
	}

	// The indexing: serve builds the index from the store; kill it while it
	// does, several times, then let it finish.
	serveArgs := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--schedule", "off", "--feeds", feeds}
	var indexed []int64
	for _, d := range []time.Duration{0, 20, 50, 100, 150, 250} {
		killServeAfter(t, data, d*time.Millisecond, serveArgs...)
		ix, err := index.Open(filepath.Join(data, "index"), index.Options{})
		if err != nil {
			t.Fatalf("index after kill -9: %v", err)
		}
		indexed = append(indexed, ix.Seq())
		ix.Close()
	}
	t.Logf("changes indexed when each server was killed: %v of %d", indexed, nFeeds*nPosts)
	base := serveOn(t, data, feeds)
	waitFor(t, 60*time.Second, "the index to catch up", func() bool {
		var h struct {
			Lag int64 `json:"lag"`
		}
		return get(t, base+"/healthz", &h) == 200 && h.Lag == 0
	})
	res := search(t, base, "zebracorn")
	if res.Total != nFeeds*nPosts {
		t.Errorf("zebracorn finds %d posts after the kills, want all %d", res.Total, nFeeds*nPosts)
	}
	// Every post is findable by its own word, not only counted.
	for _, id := range []string{"post0x0", "post17x9", "post59x24"} {
		if r := search(t, base, id); r.Total != 1 {
			t.Errorf("search %s: %d hits, want 1", id, r.Total)
		}
	}
}

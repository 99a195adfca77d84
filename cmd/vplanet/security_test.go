package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"vplanet"
	"vplanet/store"
)

// The tests in this file attack vplanet the way strangers can: through the
// feeds it crawls, the requests it serves, the load it carries and the disk
// it writes. docs/security.md lists which test proves which promise.

// proc is how one run of the binary ended.
type proc struct {
	code           int
	stdout, stderr string
	took           time.Duration
	// peakRSS is the process's high-water resident memory, in bytes, from
	// /proc/PID/status (VmHWM), read until it exits. The rusage Maxrss
	// that wait4 reports would overstate it: Linux carries the parent's
	// high-water mark into a child started with vfork and exec, as os/exec
	// does, so a crawl started by a large test process inherits its size.
	peakRSS int64
	// maxRSS is rusage's Maxrss, in bytes: an upper bound of peakRSS.
	maxRSS int64
}

// runProc runs the binary with args (or, with shell set, `sh -c shell`
// with args), bounded by limit, and reports its exit code, output, time
// and peak memory.
func runProc(t *testing.T, limit time.Duration, shell string, args ...string) proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	if shell != "" {
		cmd = exec.CommandContext(ctx, "sh", append([]string{"-c", shell, "sh"}, args...)...)
	}
	cmd.Dir = t.TempDir() // a default ./data lands here, never in the source tree
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if hwm := vmHWM(status); hwm > peak.Load() {
				peak.Store(hwm) // the high-water mark only grows: the last read is the peak
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-polled
	p := proc{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start), peakRSS: peak.Load()}
	if ctx.Err() != nil {
		t.Fatalf("vplanet %s: still running after %s\nstderr:\n%.2000s", strings.Join(args, " "), limit, p.stderr)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		p.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("vplanet %s: %v", strings.Join(args, " "), err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.maxRSS = ru.Maxrss << 10 // Linux reports kilobytes
	}
	return p
}

// vmHWM reads the VmHWM line of a /proc/PID/status file, in bytes; 0 when
// the process is gone.
func vmHWM(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

// apiFeed is one feed of `vplanet feeds --json`.
type apiFeed struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	Title     string `json:"title"`
	Status    string `json:"status"`
	LastError string `json:"last_error"`
	PostCount int    `json:"post_count"`
}

func feedsJSON(t *testing.T, data string) map[string]apiFeed {
	t.Helper()
	var list []apiFeed
	if err := json.Unmarshal([]byte(runBinary(t, 0, "feeds", "--json", "--data", data)), &list); err != nil {
		t.Fatalf("vplanet feeds --json: %v", err)
	}
	byURL := make(map[string]apiFeed, len(list))
	for _, f := range list {
		byURL[f.URL] = f
	}
	return byURL
}

// storedPosts returns the visible posts of the feed listed as feedURL.
func storedPosts(t *testing.T, data, feedURL string) []*vplanet.Post {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(data, "vplanet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	feeds, err := db.FindFeeds(ctx, vplanet.FeedFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range feeds {
		if f.URL == feedURL {
			posts, err := db.RecentPosts(ctx, vplanet.PostFilter{FeedID: f.ID, Limit: 100000})
			if err != nil {
				t.Fatal(err)
			}
			return posts
		}
	}
	t.Fatalf("no feed %s in the store", feedURL)
	return nil
}

// serveOn starts `vplanet serve` on loopback with args added, waits for it
// to answer /healthz, and stops it with SIGTERM when the test ends.
func serveOn(t *testing.T, data, feeds string, args ...string) string {
	t.Helper()
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--schedule", "off", "--data", data, "--feeds", feeds}, args...)
	cmd := exec.Command(binary, all...)
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
			t.Logf("serve's log:\n%.5000s", logs.String())
		}
	})
	return waitForServer(t, data, done)
}

// waitIndexed waits until serve's index has caught up with its store.
func waitIndexed(t *testing.T, base string, posts int) {
	t.Helper()
	waitFor(t, 60*time.Second, "the index to catch up", func() bool {
		var h struct {
			Lag   int64 `json:"lag"`
			Posts int   `json:"posts"`
		}
		return get(t, base+"/healthz", &h) == 200 && h.Lag == 0 && h.Posts >= posts
	})
}

// feedList writes a feeds.txt with the lines of the list at normal (as
// community writes it) and extra URLs.
func feedList(t *testing.T, normal string, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile(normal)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range extra {
		b = append(b, u+"\n"...)
	}
	path := filepath.Join(t.TempDir(), "feeds.txt")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostile serves one hostile feed on its own address, so that the
// crawler's per-host limit does not queue it behind the others.
func hostile(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/feed"
}

// rssStart is the start of an ordinary RSS feed.
const rssStart = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Hostile</title><link>http://hostile.example/</link>`

// gzipBomb is a gzip stream of copies members, each of which expands to
// 64 MiB of spaces: copies = 64 makes 4 GiB from about 4 MB.
func gzipBomb(t *testing.T, copies int) []byte {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write([]byte(rssStart + "<item><title>"))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range 64 {
		zw.Write(chunk)
	}
	zw.Close()
	return bytes.Repeat(member.Bytes(), copies)
}

// TestHostileFeeds crawls, in one run of `vplanet crawl`, a community of
// ordinary blogs beside feeds that attack the crawler: entity bombs and
// external entities, a gzip bomb, endless and trickling bodies, a redirect
// loop, broken text, a huge title and a huge item count. The run must end
// in bounded time and memory, refuse or trim each attack with a clear
// error, fetch nothing an entity names, and crawl the ordinary blogs.
func TestHostileFeeds(t *testing.T) {
	t.Parallel() // most of its half minute is the trickle's wait
	_, normal := community(t, 3, 5, 0)

	// The listener an external entity would make the parser fetch.
	var xxeHits atomic.Int32
	xxe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		xxeHits.Add(1)
		fmt.Fprint(w, `<!ENTITY % leak "zebraleak">`)
	}))
	defer xxe.Close()

	var endlessSent, declaredSent atomic.Int64
	bomb := gzipBomb(t, 64)
	var items strings.Builder
	items.WriteString(rssStart)
	for i := range 100_000 {
		fmt.Fprintf(&items, "<item><title>many %d</title><link>http://hostile.example/%d</link></item>", i, i)
	}
	items.WriteString("</channel></rss>")

	type attack struct {
		name  string
		serve http.HandlerFunc
		// check judges the feed's outcome; posts are what the store kept.
		check func(t *testing.T, f apiFeed, posts []*vplanet.Post)
	}
	refused := func(words ...string) func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
		return func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
			if f.Status != "error" || len(posts) != 0 {
				t.Errorf("status %q with %d posts, want error and none", f.Status, len(posts))
			}
			for _, w := range words {
				if !strings.Contains(f.LastError, w) {
					t.Errorf("last_error = %q, want it to say %q", f.LastError, w)
				}
			}
		}
	}
	xmlFeed := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, body)
		}
	}
	noEntity := func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
		for _, p := range posts {
			all := p.Title + p.Content + p.Text + p.Author
			if strings.Contains(all, "root:") || strings.Contains(all, "zebraleak") {
				t.Errorf("post %q carries an external entity's text: %.200q", p.Title, all)
			}
			if n := strings.Count(all, "lol"); n > 100 || len(all) > 10000 {
				t.Errorf("post %q: entities expanded to %d bytes (%d lol)", p.Title, len(all), n)
			}
		}
	}
	attacks := []attack{
		{"billion laughs", xmlFeed(`<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Laughs &lol9;</title><link>http://hostile.example/</link>
<item><title>&lol9;</title><link>http://hostile.example/lol</link><description>&lol9; &lol9;</description></item>
</channel></rss>`), noEntity},
		{"external entity file", xmlFeed(`<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>Files</title><link>http://hostile.example/</link>
<item><title>passwd &xxe;</title><link>http://hostile.example/xxe</link><description>&xxe;</description></item>
</channel></rss>`), noEntity},
		{"external entity http", xmlFeed(`<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "` + xxe.URL + `/dtd" [
 <!ENTITY xxe SYSTEM "` + xxe.URL + `/entity">
 <!ENTITY % remote SYSTEM "` + xxe.URL + `/parameter"> %remote;
]>
<rss version="2.0"><channel><title>Remote</title><link>http://hostile.example/</link>
<item><title>remote &xxe; &leak;</title><link>http://hostile.example/xxe2</link><description>&xxe;</description></item>
</channel></rss>`), noEntity},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		}, refused("too large")},
		{"200 MB body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, rssStart+"<item><title>")
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			for endlessSent.Load() < 200e6 {
				n, err := w.Write(chunk)
				endlessSent.Add(int64(n))
				if err != nil {
					return
				}
			}
		}, refused("too large")},
		{"200 MB declared", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Header().Set("Content-Length", "200000000")
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			for declaredSent.Load() < 200e6 {
				n, err := w.Write(chunk)
				declaredSent.Add(int64(n))
				if err != nil {
					return
				}
			}
		}, refused("too large", "200 MB")},
		{"trickle", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			body := rssStart + "<item><title>slow</title></item></channel></rss>"
			for i := range len(body) {
				if _, err := io.WriteString(w, body[i:i+1]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(time.Second):
				}
			}
		}, refused("timed out")},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			next := "/loop/a"
			if r.URL.Path == "/loop/a" {
				next = "/loop/b"
			}
			http.Redirect(w, r, next, http.StatusFound)
		}, refused("redirect loop")},
		{"NUL bytes and invalid UTF-8", xmlFeed(rssStart +
			"<item><title>nul\x00 bytes\xff\xfe and \xc3( bad</title><link>http://hostile.example/nul</link>" +
			"<description>zero\x00zero \xed\xa0\x80 surrogate \xf8\x88\x80\x80\x80 long</description></item></channel></rss>"),
			func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
				if f.Status != "ok" || len(posts) != 1 {
					t.Fatalf("status %q (%s) with %d posts, want ok and 1", f.Status, f.LastError, len(posts))
				}
				p := posts[0]
				for _, s := range []string{p.Title, p.Content, p.Text} {
					if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
						t.Errorf("post keeps a NUL or invalid UTF-8: %q", s)
					}
				}
				if !strings.Contains(p.Title, "bytes") {
					t.Errorf("title %q lost its words", p.Title)
				}
			}},
		{"control characters", xmlFeed(rssStart +
			"<item><title>bell\x07 esc\x1b[31m red\x1b[0m back\x08space</title><link>http://hostile.example/ctl</link>" +
			"<author>ctl\x01\x02\x03@example.org</author><description>vt\x0b ff\x0c del\x7f text</description></item></channel></rss>"),
			func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
				if f.Status != "ok" || len(posts) != 1 {
					t.Fatalf("status %q (%s) with %d posts, want ok and 1", f.Status, f.LastError, len(posts))
				}
				p := posts[0]
				for _, s := range []string{p.Title, p.Content, p.Text, p.Author} {
					if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' && r != '\r' }); i >= 0 {
						t.Errorf("post keeps a control character at %d: %q", i, s)
					}
				}
			}},
		{"C1 controls and bidi overrides", xmlFeed(rssStart +
			"<item><title>csi\u009b31m red \u202eevil\u202c title</title><link>http://hostile.example/c1</link>" +
			"<description>clear\u009b2J screen</description></item></channel></rss>"),
			func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
				if f.Status != "ok" || len(posts) != 1 {
					t.Fatalf("status %q (%s) with %d posts, want ok and 1", f.Status, f.LastError, len(posts))
				}
				p := posts[0]
				for _, s := range []string{p.Title, p.Text} {
					if strings.ContainsAny(s, "\u009b\u202e") {
						t.Errorf("post keeps a C1 control or bidi override: %q", s)
					}
				}
			}},
		{"10 MB title", xmlFeed(rssStart + "<item><title>" + strings.Repeat("巨大なタイトル ", 10<<20/22) +
			"</title><link>http://hostile.example/big</link><description>big title</description></item></channel></rss>"),
			func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
				if f.Status != "ok" || len(posts) != 1 {
					t.Fatalf("status %q (%s) with %d posts, want ok and 1", f.Status, f.LastError, len(posts))
				}
				if n := utf8.RuneCountInString(posts[0].Title); n > 300 {
					t.Errorf("title kept %d runes, want at most 300", n)
				}
			}},
		{"100,000 items", xmlFeed(items.String()),
			func(t *testing.T, f apiFeed, posts []*vplanet.Post) {
				if f.Status != "ok" || len(posts) != 1000 {
					t.Errorf("status %q (%s) with %d posts, want ok and the first 1000", f.Status, f.LastError, len(posts))
				}
			}},
	}

	urls := make([]string, len(attacks))
	for i, a := range attacks {
		urls[i] = hostile(t, a.serve)
	}
	feeds := feedList(t, normal, urls...)
	data := filepath.Join(t.TempDir(), "data")

	// A crawl of the ordinary blogs alone is the baseline for memory.
	base := runProc(t, 60*time.Second, "", "crawl", "--all", "--data", filepath.Join(t.TempDir(), "data"), "--feeds", normal)
	run := runProc(t, 60*time.Second, "", "crawl", "--all", "--data", data, "--feeds", feeds)
	t.Logf("crawl with the attacks: %s, peak RSS %d MiB (rusage: %d MiB; ordinary blogs alone: %d MiB); %s",
		run.took.Round(100*time.Millisecond), run.peakRSS>>20, run.maxRSS>>20, base.peakRSS>>20, strings.TrimSpace(run.stdout))
	if run.code != 0 {
		t.Fatalf("crawl exited %d, want 0: feeds' failures are recorded, not fatal\n%s", run.code, run.stderr)
	}
	// The trickle is cut off by the 30 s request timeout; nothing else may
	// take long.
	if run.took > 45*time.Second {
		t.Errorf("crawl took %s, want under 45s", run.took)
	}
	// The ordinary blogs alone take about 70 MiB and the attacks about
	// 150 MiB more; reading one of the large bodies whole would pass 512.
	const maxRSS = 512 << 20
	if run.peakRSS == 0 {
		t.Error("the crawl's peak RSS could not be read from /proc")
	}
	if run.peakRSS > maxRSS {
		t.Errorf("crawl's peak RSS %d MiB, want under %d MiB", run.peakRSS>>20, maxRSS>>20)
	}
	if n := endlessSent.Load(); n > 64<<20 {
		t.Errorf("the endless body was read to %d MiB; want the crawler to stop near its 16 MiB limit", n>>20)
	}
	if n := declaredSent.Load(); n > 32<<20 {
		t.Errorf("the declared 200 MB body was read to %d MiB; want it refused from its Content-Length", n>>20)
	}

	got := feedsJSON(t, data)
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			f, ok := got[urls[i]]
			if !ok {
				t.Fatalf("feed %s missing from vplanet feeds --json", urls[i])
			}
			t.Logf("status %s, last_error %q, %d posts", f.Status, f.LastError, f.PostCount)
			a.check(t, f, storedPosts(t, data, urls[i]))
		})
	}
	if n := xxeHits.Load(); n != 0 {
		t.Errorf("the parser fetched %d external entities or DTDs from loopback", n)
	}
	t.Run("ordinary blogs crawled and searchable", func(t *testing.T) {
		for u, f := range got {
			if strings.Contains(u, "/blog") && (f.Status != "ok" || f.PostCount != 5) {
				t.Errorf("ordinary feed %s: status %q (%s), %d posts; want ok and 5", u, f.Status, f.LastError, f.PostCount)
			}
		}
		var res searchResult
		if err := json.Unmarshal([]byte(runBinary(t, 0, "search", "--json", "--limit", "1", "--data", data, "zebracorn")), &res); err != nil {
			t.Fatal(err)
		}
		if res.Total != 15 {
			t.Errorf("search zebracorn: %d hits, want the ordinary blogs' 15", res.Total)
		}
	})
}

// scriptHTML is markup that tries every way of running script a sanitizer
// has been known to miss, as it appears once the feed's XML is decoded.
const scriptHTML = `<p>zebracorn payload</p>
<script>alert(1)</script>
<img src="x" onerror="alert(2)">
<a href="javascript:alert(3)">js link</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==">data link</a>
<svg onload="alert(5)"><script>alert(6)</script></svg>
<div style="width: expression(alert(7))">css</div>
<style>body { background: url("javascript:alert(8)") }</style>
<iframe src="javascript:alert(9)"></iframe>
<a href="&#106;avascript:alert(10)">entity link</a>
<a href="jav&#x09;ascript:alert(11)">tab link</a>
<a href=" JaVaScRiPt:alert(12)">case link</a>
&lt;script&gt;alert(13)&lt;/script&gt;
&amp;lt;script&amp;gt;alert(14)&amp;lt;/script&amp;gt;
<math><mi xlink:href="javascript:alert(15)">m</mi></math>
<form action="javascript:alert(16)"><button formaction="javascript:alert(17)">b</button></form>
<object data="javascript:alert(18)"></object><embed src="javascript:alert(19)">
<meta http-equiv="refresh" content="0;url=javascript:alert(20)">
<img srcset="javascript:alert(21) 1x" src="https://ok.example/i.png">
<base href="javascript:alert(22)//">
<p onmouseover="alert(23)" title="x" style="background:url(javascript:alert(24))">hover</p>`

// scriptText is script in places that should hold plain text: titles and
// names.
const scriptText = `<script>alert(30)</script><img src=x onerror=alert(31)>&lt;script&gt;alert(32)&lt;/script&gt;`

// scriptFeeds serves an RSS, an Atom and a JSON feed that hide script in
// every field a feed has.
func scriptFeeds(t *testing.T) (rssURL, atomURL, jsonURL string) {
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>%[1]s RSS zebracorn</title><link>javascript:alert(40)</link><description>%[2]s</description>
<item><title>%[1]s rss-title zebracorn</title><link>javascript:alert(41)</link><guid>rss-1</guid>
<dc:creator>%[1]s</dc:creator><description>%[2]s</description><pubDate>Mon, 02 Jan 2023 10:00:00 +0000</pubDate></item>
<item><title><![CDATA[<img src=x onerror=alert(42)> cdata-title zebracorn]]></title><link>data:text/html,&lt;script&gt;alert(43)&lt;/script&gt;</link><guid>rss-2</guid>
<content:encoded><![CDATA[%[3]s]]></content:encoded><pubDate>Tue, 03 Jan 2023 10:00:00 +0000</pubDate>
<enclosure url="javascript:alert(44)" type="image/png" length="1"/></item>
</channel></rss>`, esc(scriptText), esc(scriptHTML), scriptHTML)
	})
	mux.HandleFunc("/atom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">%[1]s Atom zebracorn</title>
<link rel="alternate" href="javascript:alert(50)"/><id>urn:atom-hostile</id><updated>2023-01-04T10:00:00Z</updated>
<author><name>%[1]s</name><uri>javascript:alert(51)</uri></author>
<entry><title type="html">%[1]s atom-title zebracorn</title><link rel="alternate" href="jav&#x09;ascript:alert(52)"/>
<id>urn:atom-1</id><updated>2023-01-04T10:00:00Z</updated>
<summary type="html">%[2]s</summary>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>zebracorn xhtml</p><script>alert(53)</script><a href="javascript:alert(54)">x</a><svg xmlns="http://www.w3.org/2000/svg" onload="alert(55)"><script>alert(56)</script></svg></div></content>
</entry></feed>`, esc(scriptText), esc(scriptHTML))
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/feed+json")
		json.NewEncoder(w).Encode(map[string]any{
			"version":       "https://jsonfeed.org/version/1.1",
			"title":         scriptText + " JSON zebracorn",
			"home_page_url": "javascript:alert(60)",
			"authors":       []map[string]string{{"name": scriptText, "url": "javascript:alert(61)"}},
			"items": []map[string]any{{
				"id": "json-1", "url": "data:text/html,<script>alert(62)</script>",
				"title":          scriptText + " json-title zebracorn",
				"content_html":   scriptHTML,
				"summary":        scriptText,
				"image":          "javascript:alert(63)",
				"date_published": "2023-01-05T10:00:00Z",
				"authors":        []map[string]string{{"name": scriptText}},
			}},
		})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/rss", srv.URL + "/atom", srv.URL + "/json"
}

// urlAttrs are the attributes whose value a browser loads or navigates to.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "data": true,
	"xlink:href": true, "srcset": true, "poster": true, "background": true, "codebase": true, "cite": true, "ping": true}

// scriptIn lists what in an HTML document or fragment could run script:
// script, iframe, object and embed elements, on* attributes, javascript:,
// vbscript: and data: URLs, a meta refresh, CSS expression() and url(javascript:).
// It reads the markup as a browser's tokenizer does, entities decoded.
// attr is the value of a token's attribute key, "" when absent.
func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func scriptIn(doc string) []string {
	var found []string
	z := html.NewTokenizer(strings.NewReader(doc))
	inStyle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return found
		case html.TextToken:
			if inStyle && cssScript(string(z.Text())) {
				found = append(found, "<style> with "+string(z.Text()))
			}
		case html.EndTagToken:
			inStyle = false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script":
				// The site's own script file is the one script a page may
				// load; the CSP refuses any other source and inline code.
				if src := attr(tok, "src"); src != "/static/search.js" || tt != html.StartTagToken {
					found = append(found, "<script src="+strconv.Quote(src)+">")
				}
			case "iframe", "object", "embed", "frame", "frameset", "applet", "base":
				found = append(found, "<"+tok.Data+">")
			case "style":
				inStyle = tt == html.StartTagToken
			}
			for _, a := range tok.Attr {
				name := strings.ToLower(a.Key)
				if a.Namespace != "" {
					name = a.Namespace + ":" + name
				}
				v := strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1 // browsers skip whitespace and controls in a scheme
					}
					return r
				}, strings.ToLower(a.Val))
				switch {
				case strings.HasPrefix(name, "on"):
					found = append(found, fmt.Sprintf("<%s %s=%q>", tok.Data, a.Key, a.Val))
				case urlAttrs[name] && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:")):
					found = append(found, fmt.Sprintf("<%s %s=%q>", tok.Data, a.Key, a.Val))
				case name == "style" && cssScript(a.Val):
					found = append(found, fmt.Sprintf("<%s style=%q>", tok.Data, a.Val))
				case tok.Data == "meta" && name == "http-equiv" && strings.EqualFold(a.Val, "refresh"):
					found = append(found, "<meta http-equiv=refresh>")
				}
			}
		}
	}
}

func cssScript(css string) bool {
	css = strings.ToLower(strings.Join(strings.Fields(css), ""))
	return strings.Contains(css, "expression(") || strings.Contains(css, "javascript:") || strings.Contains(css, "behavior:")
}

// badURL reports whether u, a link a feed reader follows, is not http(s)
// or a relative link.
func badURL(u string) bool {
	v := strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, u))
	return strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:")
}

// scriptInXML checks a feed document: every text node is markup that a
// feed reader may render as HTML, and every href, src or url attribute a
// link it may follow.
func scriptInXML(t *testing.T, doc []byte) []string {
	t.Helper()
	var found []string
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return found
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			found = append(found, scriptIn(string(tok))...)
		case xml.StartElement:
			for _, a := range tok.Attr {
				if k := strings.ToLower(a.Name.Local); (k == "href" || k == "src" || k == "url" || k == "htmlurl" || k == "xmlurl") && badURL(a.Value) {
					found = append(found, fmt.Sprintf("<%s %s=%q>", tok.Name.Local, a.Name.Local, a.Value))
				}
			}
			if tok.Name.Local == "link" || tok.Name.Local == "uri" || tok.Name.Local == "guid" {
				// RSS links are text; the next token is checked below.
				if next, err := d.Token(); err == nil {
					if cd, ok := next.(xml.CharData); ok && badURL(string(cd)) {
						found = append(found, fmt.Sprintf("<%s>%s", tok.Name.Local, cd))
					}
				}
			}
		}
	}
}

// scriptInJSON checks every string of a JSON document as markup, and every
// string under a key that names a URL as a link.
func scriptInJSON(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, doc)
	}
	var found []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			found = append(found, scriptIn(v)...)
			if (strings.Contains(key, "url") || key == "image" || key == "icon" || key == "favicon" || key == "banner_image") && badURL(v) {
				found = append(found, fmt.Sprintf("%s: %q", key, v))
			}
		}
	}
	walk("", v)
	return found
}

// fetch GETs u without following redirects and returns the status, the
// headers and the body.
func fetch(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// TestScriptNeverExecutes crawls feeds that hide script in every field,
// serves them, and reads every page, API answer and feed that shows them
// as a browser or a feed reader would: no script element, event handler,
// script URL or CSS expression may reach any of them.
func TestScriptNeverExecutes(t *testing.T) {
	t.Parallel()
	rssURL, atomURL, jsonURL := scriptFeeds(t)
	// The checks below must see the attacks where they are not defused.
	if found := scriptIn(scriptHTML + scriptText); len(found) < 25 {
		t.Fatalf("the checker finds only %d of the attacks in the raw markup: %v", len(found), found)
	}
	for _, u := range []string{rssURL, atomURL} {
		if _, _, raw := fetch(t, u); len(scriptInXML(t, raw)) < 25 {
			t.Fatalf("the checker misses the attacks in the raw feed %s: %v", u, scriptInXML(t, raw))
		}
	}
	if _, _, raw := fetch(t, jsonURL); len(scriptInJSON(t, raw)) < 25 {
		t.Fatalf("the checker misses the attacks in the raw JSON feed: %v", scriptInJSON(t, raw))
	}
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	os.WriteFile(feeds, []byte(rssURL+"\n"+atomURL+"\n"+jsonURL+"\n"), 0o644)
	data := filepath.Join(t.TempDir(), "data")
	if out := runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", feeds); !strings.Contains(out, "3 ok") {
		t.Fatalf("crawl of the script feeds: %s", out)
	}
	base := serveOn(t, data, feeds)
	waitIndexed(t, base, 4)

	var api searchResult
	if code := get(t, base+"/api/search?limit=100&q=zebracorn", &api); code != 200 || api.Total != 4 {
		t.Fatalf("search zebracorn: status %d, %d hits; want the 4 hostile posts", code, api.Total)
	}
	var blogs []apiFeed
	get(t, base+"/api/feeds", &blogs)

	pages := []string{"/", "/search?q=zebracorn", "/search?q=alert", "/search?q=script", "/search?q=javascript", "/blogs"}
	feedDocs := []string{"/feed.atom", "/feed.rss", "/feed.atom?q=zebracorn", "/feed.rss?q=alert", "/blogs.opml"}
	jsonDocs := []string{"/feed.json", "/feed.json?q=zebracorn", "/api/search?limit=100&q=zebracorn",
		"/api/search?limit=100&q=alert", "/api/search?limit=100&q=script", "/api/feeds"}
	for _, b := range blogs {
		pages = append(pages, "/blogs/"+b.ID)
		feedDocs = append(feedDocs, "/blogs/"+b.ID+"/feed.atom", "/blogs/"+b.ID+"/feed.rss")
		jsonDocs = append(jsonDocs, "/blogs/"+b.ID+"/feed.json")
	}
	check := func(path string, kind func(*testing.T, []byte) []string) {
		t.Run(path, func(t *testing.T) {
			code, _, body := fetch(t, base+path)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			if found := kind(t, body); len(found) > 0 {
				t.Errorf("script survives:\n%s", strings.Join(found, "\n"))
			}
		})
	}
	for _, p := range pages {
		check(p, func(_ *testing.T, b []byte) []string { return scriptIn(string(b)) })
	}
	for _, p := range feedDocs {
		check(p, scriptInXML)
	}
	for _, p := range jsonDocs {
		check(p, scriptInJSON)
	}
	t.Run("api titles and snippets as markup", func(t *testing.T) {
		for _, h := range api.Hits {
			if found := scriptIn(h.Title + " " + h.Snippet); len(found) > 0 {
				t.Errorf("hit %q: %v", h.Title, found)
			}
			if badURL(h.URL) {
				t.Errorf("hit %q links %q", h.Title, h.URL)
			}
		}
	})
	t.Run("post redirects", func(t *testing.T) {
		for _, h := range api.Hits {
			code, hdr, _ := fetch(t, base+"/posts/"+h.ID)
			if loc := hdr.Get("Location"); badURL(loc) || (code != 302 && code != 404) {
				t.Errorf("/posts/%s: %d to %q", h.ID, code, loc)
			}
		}
	})
	t.Run("content security policy", func(t *testing.T) {
		_, hdr, _ := fetch(t, base+"/search?q=zebracorn")
		csp := hdr.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-") {
			t.Errorf("Content-Security-Policy = %q, want default-src 'none' and scripts from the site's own files only", csp)
		}
	})
}

// leaks are what an error page must not show: a stack trace, a source
// file, a path on the server.
func leaks(body, data string) []string {
	var found []string
	for _, s := range []string{"goroutine ", ".go:", "panic", "runtime.", "/work/", "/tmp/", "/home/", "/root/", data} {
		if strings.Contains(body, s) {
			found = append(found, s)
		}
	}
	return found
}

// TestHostileRequests sends a running server the requests a stranger can:
// abusive queries and parameters, oversized headers and bodies, paths
// that look for files and listings, and a connection that sends its
// headers a byte a second. Every answer is a 4xx or a bounded 200, fast,
// with no internal detail.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	_, feeds := community(t, 3, 10, 0)
	data := filepath.Join(t.TempDir(), "data")
	runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", feeds)
	base := serveOn(t, data, feeds, "--search-per-minute", "-1")
	waitIndexed(t, base, 30)
	client := &http.Client{Timeout: 15 * time.Second}

	t.Run("slowloris", func(t *testing.T) {
		t.Parallel() // ten seconds of waiting
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		closed := make(chan time.Duration, 1)
		go func() {
			io.Copy(io.Discard, conn) // returns when the server hangs up
			closed <- time.Since(start)
		}()
		header := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100)
		for i := 0; ; i++ {
			select {
			case d := <-closed:
				if d > 12*time.Second {
					t.Errorf("the server held a connection sending headers a byte a second for %s, want it cut within 12s", d)
				}
				t.Logf("slow headers cut off after %s", d.Round(100*time.Millisecond))
				return
			case <-time.After(time.Second):
			}
			if time.Since(start) > 20*time.Second {
				t.Fatal("the server still holds a connection sending headers a byte a second after 20s")
			}
			conn.Write([]byte{header[i%len(header)]})
		}
	})

	long := strings.Repeat("vSAN ", 1000)
	manyTerms := strings.TrimSpace(strings.Repeat("a ", 1000))
	manyOr := strings.Repeat("vsan OR ", 249) + "nsx"
	queries := []struct{ name, raw string }{
		{"5000 characters", "q=" + url.QueryEscape(long)},
		{"1000 terms", "q=" + url.QueryEscape(manyTerms)},
		{"250 ORs", "q=" + url.QueryEscape(manyOr)},
		{"nested parentheses", "q=" + url.QueryEscape(strings.Repeat("(", 900)+"vsan"+strings.Repeat(")", 900))},
		{"unbalanced parentheses", "q=" + url.QueryEscape(strings.Repeat("((", 500))},
		{"nested quotes", "q=" + url.QueryEscape(strings.Repeat(`"a `, 600))},
		{"mixed nesting", "q=" + url.QueryEscape(strings.Repeat(`("-(`, 400))},
		{"leading wildcard", "q=" + url.QueryEscape("*foo")},
		{"wildcards", "q=" + url.QueryEscape("*a*b*c*d*e*f*g*h*")},
		{"lone star", "q=*"},
		{"regexp", "q=" + url.QueryEscape("/.*/")},
		{"catastrophic regexp", "q=" + url.QueryEscape("/(a+)+$/")},
		{"fuzzy", "q=" + url.QueryEscape("zebracorn~2")},
		{"fuzzy 100", "q=" + url.QueryEscape("zebracorn~100 vsan~9")},
		{"bleve syntax", "q=" + url.QueryEscape("+title:/.*/ -_all:* content:*x^100000")},
		{"field wildcard", "q=" + url.QueryEscape("blog:* lang:* after:0000-00-00 before:99999-99-99")},
		{"invalid UTF-8", "q=%ff%fe%c3%28"},
		{"NUL", "q=vsan%00nsx"},
		{"huge limit", "q=zebracorn&limit=10000000"},
		{"limit overflow", "q=zebracorn&limit=99999999999999999999999"},
		{"negative limit", "q=zebracorn&limit=-1"},
		{"negative offset", "q=zebracorn&offset=-5"},
		{"huge offset", "q=zebracorn&offset=10000000"},
		{"limit not a number", "q=zebracorn&limit=1e9"},
		{"bad sort", "q=zebracorn&sort=" + url.QueryEscape("'; DROP TABLE posts; --")},
		{"repeated parameter", "q=zebracorn" + strings.Repeat("&q=x", 2000)},
	}
	for _, endpoint := range []string{"/api/search", "/search", "/feed.atom"} {
		for _, q := range queries {
			t.Run(endpoint+"/"+q.name, func(t *testing.T) {
				start := time.Now()
				resp, err := client.Get(base + endpoint + "?" + q.raw)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				took := time.Since(start)
				if resp.StatusCode != 200 && resp.StatusCode != 400 {
					t.Errorf("status %d, want 200 or 400: %.300s", resp.StatusCode, body)
				}
				if took > 5*time.Second {
					t.Errorf("took %s, want under 5s", took)
				}
				if len(body) > 1<<20 {
					t.Errorf("answer of %d bytes, want a bounded one", len(body))
				}
				if l := leaks(string(body), data); len(l) > 0 {
					t.Errorf("the answer shows %q", l)
				}
				if endpoint != "/api/search" {
					return
				}
				var res struct {
					Error string      `json:"error"`
					Hits  []searchHit `json:"hits"`
				}
				if err := json.Unmarshal(body, &res); err != nil {
					t.Fatalf("answer is not JSON: %v: %.200s", err, body)
				}
				if resp.StatusCode == 400 && res.Error == "" {
					t.Error("400 without an error message")
				}
				if len(res.Hits) > 100 {
					t.Errorf("%d hits, want at most 100", len(res.Hits))
				}
			})
		}
	}

	t.Run("1 MB header", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			// The server answers before it has read it all; a failed write
			// is expected.
			fmt.Fprintf(conn, "GET /api/search?q=vsan HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 1<<20))
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a 1 MB header: %v", err)
		}
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})

	t.Run("100 MB body", func(t *testing.T) {
		var sent atomic.Int64
		body := &countingReader{n: 100 << 20, sent: &sent}
		for _, path := range []string{"/api/reindex", "/api/search", "/"} {
			start := time.Now()
			req, _ := http.NewRequest(http.MethodPost, base+path, body)
			req.ContentLength = -1
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Errorf("POST %s with 100 MB: status %d, want a 4xx", path, resp.StatusCode)
				}
			}
			// A connection cut short is a fine answer too: what matters is that
			// the server did not read 100 MB.
			if n := sent.Load(); n >= 100<<20 {
				t.Errorf("POST %s: the server read all %d MiB", path, n>>20)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("POST %s with 100 MB took %s", path, d)
			}
			sent.Store(0)
			body.n = 100 << 20
		}
	})

	t.Run("no listing or files outside static", func(t *testing.T) {
		for _, path := range []string{"/static/", "/static", "/static/..", "/static/%2e%2e/", "/static/..%2f..%2f..%2fetc%2fpasswd",
			"/static/../../go.mod", "/../../../../etc/passwd", "/static/%2e%2e%2fserver.go", "/blogs/..%2f..%2fvplanet.db", "/data/vplanet.db", "/server.json"} {
			// A redirect to a cleaned path is fine; a file or a listing is not.
			code, _, body := fetch(t, base+path)
			b := string(body)
			if code == 200 || strings.Contains(b, "root:") || strings.Contains(b, `href="style.css"`) || strings.Contains(b, "<pre>") || strings.Contains(b, "module vplanet") || strings.Contains(b, "SQLite format") {
				t.Errorf("GET %s: %d %.200q, want no file and no listing", path, code, b)
			}
			if l := leaks(b, data); len(l) > 0 {
				t.Errorf("GET %s shows %q", path, l)
			}
		}
	})

	t.Run("error pages show no internals", func(t *testing.T) {
		cases := []struct {
			method, path string
		}{
			{"GET", "/nope"}, {"GET", "/blogs/nope"}, {"GET", "/posts/nope"}, {"GET", "/blogs/nope/feed.atom"},
			{"GET", "/search?q=" + url.QueryEscape(long)}, {"GET", "/api/search?q=vsan&limit=x"},
			{"GET", "/feed.atom?n=x"}, {"POST", "/api/search"}, {"DELETE", "/"}, {"PUT", "/api/feeds"},
			{"GET", "/api/reindex"}, {"TRACE", "/"}, {"GET", "/%ff%fe"}, {"GET", "/blogs/%00"},
		}
		for _, c := range cases {
			req, _ := http.NewRequest(c.method, base+c.path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: status %d, want a 4xx", c.method, c.path, resp.StatusCode)
			}
			if l := leaks(string(body), data); len(l) > 0 {
				t.Errorf("%s %s: the error page shows %q: %.300s", c.method, c.path, l, body)
			}
		}
	})
}

// countingReader yields n bytes of "a", counting what was read.
type countingReader struct {
	n    int64
	sent *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range k {
		p[i] = 'a'
	}
	r.n -= k
	r.sent.Add(k)
	return int(k), nil
}

// TestSearchRateLimit checks the per-client limit on searches that serve
// --search-per-minute sets: a burst passes, the next search is a 429 with
// Retry-After, and requests that do not search pass.
func TestSearchRateLimit(t *testing.T) {
	t.Parallel()
	_, feeds := community(t, 1, 3, 0)
	data := filepath.Join(t.TempDir(), "data")
	base := serveOn(t, data, feeds, "--search-per-minute", "6") // bursts of 10
	var codes []int
	for range 12 {
		resp, err := http.Get(base + "/api/search?q=zebracorn")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 {
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"error"`) {
				t.Errorf("429 without Retry-After or an error message: %v %s", resp.Header, body)
			}
		}
	}
	if codes[0] != 200 || codes[9] != 200 || codes[10] != 429 || codes[11] != 429 {
		t.Errorf("statuses of 12 quick searches: %v, want 10 × 200 then 429", codes)
	}
	for _, path := range []string{"/search?q=zebracorn", "/feed.atom?q=zebracorn"} {
		if code, _, _ := fetch(t, base+path); code != 429 {
			t.Errorf("GET %s after the burst: %d, want 429 (one limit for every kind of search)", path, code)
		}
	}
	for _, path := range []string{"/healthz", "/feed.atom", "/", "/api/feeds"} {
		if code, _, _ := fetch(t, base+path); code != 200 {
			t.Errorf("GET %s after the burst: %d, want 200: only searches are limited", path, code)
		}
	}
}

// TestStateChangeNeedsToken checks the one request that changes state,
// POST /api/reindex: refused without the token from server.json, or with
// a wrong one; that file is readable by its owner only; no other route
// accepts a write; and the token appears in no answer.
func TestStateChangeNeedsToken(t *testing.T) {
	t.Parallel()
	_, feeds := community(t, 1, 3, 0)
	data := filepath.Join(t.TempDir(), "data")
	base := serveOn(t, data, feeds)
	path := filepath.Join(data, "server.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("server.json has mode %v, want 0600: it holds the token", mode)
	}
	info, err := readServerInfo(path)
	if err != nil || len(info.Token) < 32 {
		t.Fatalf("server.json: token %q, %v; want one of at least 32 characters", info.Token, err)
	}
	post := func(auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/reindex", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, auth string
		want       []int
	}{
		{"no token", "", []int{401}},
		{"empty bearer", "Bearer ", []int{401}},
		{"basic", "Basic " + info.Token, []int{401}},
		{"wrong token", "Bearer " + strings.Repeat("0", len(info.Token)), []int{403}},
		{"token prefix", "Bearer " + info.Token[:len(info.Token)-1], []int{403}},
		{"token with more", "Bearer " + info.Token + "x", []int{403}},
		{"the token", "Bearer " + info.Token, []int{202}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(tt.auth)
			if !slices.Contains(tt.want, code) {
				t.Errorf("POST /api/reindex: %d %s, want %v", code, body, tt.want)
			}
		})
	}
	t.Run("no other route writes", func(t *testing.T) {
		before, _ := os.ReadFile(feeds)
		for _, p := range []string{"/", "/search", "/api/search", "/api/feeds", "/api/feeds/1", "/blogs", "/feed.atom", "/healthz", "/metrics", "/api/feed", "/api/subscribe"} {
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				req, _ := http.NewRequest(m, base+p, strings.NewReader(`{"url":"http://127.0.0.1/feed"}`))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 404 && resp.StatusCode != 405 {
					t.Errorf("%s %s: %d, want 404 or 405", m, p, resp.StatusCode)
				}
			}
		}
		if after, _ := os.ReadFile(feeds); !bytes.Equal(before, after) {
			t.Errorf("the feed list changed:\n%s", after)
		}
		var list []apiFeed
		if get(t, base+"/api/feeds", &list); len(list) != 1 {
			t.Errorf("%d feeds after the attempts to add one, want 1", len(list))
		}
	})
	t.Run("token in no answer", func(t *testing.T) {
		waitFor(t, 30*time.Second, "the rebuild to end", func() bool { code, _, _ := fetch(t, base+"/healthz"); return code == 200 })
		for _, p := range []string{"/", "/healthz", "/metrics", "/api/feeds", "/blogs", "/opensearch.xml", "/feed.atom"} {
			if _, _, body := fetch(t, base+p); strings.Contains(string(body), info.Token) {
				t.Errorf("GET %s shows the token", p)
			}
		}
	})
}

// latencies collects request times of one kind.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// quantile returns the q-quantile (0..1) of the times collected.
func (l *latencies) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// TestLoad runs 12 clients against /api/search and /feed.atom for 8
// seconds while a crawl of 100 blogs writes 3,000 posts that the server
// indexes: no request may fail, and the latencies are logged for
// docs/security.md.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test of about 15 seconds; skipped with -short")
	}
	const nFeeds, nPosts, clients, duration = 100, 30, 12, 8 * time.Second
	_, feeds := community(t, nFeeds, nPosts, 100*time.Millisecond)
	data := filepath.Join(t.TempDir(), "data")
	base := serveOn(t, data, feeds, "--search-per-minute", "-1")

	crawl := exec.Command(binary, "crawl", "--all", "--data", data, "--feeds", feeds)
	var crawlErr bytes.Buffer
	crawl.Stderr = &crawlErr
	crawlStart := time.Now()
	if err := crawl.Start(); err != nil {
		t.Fatal(err)
	}
	crawlDone := make(chan time.Duration, 1)
	go func() {
		if err := crawl.Wait(); err != nil {
			t.Errorf("crawl under load: %v\n%s", err, crawlErr.String())
		}
		crawlDone <- time.Since(crawlStart)
	}()

	queries := []string{"zebracorn", "vSAN", "拡張クラスタ", "重複排除", "検証", "post3x7", `"拡張クラスタ"`, "vsan -nsx", "zebracorn OR vcha", "lang:ja 検証"}
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		searches, feed latencies
		errs           atomic.Int64
		firstErr       atomic.Value
		wg             sync.WaitGroup
	)
	stop := time.Now().Add(duration)
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				u, l := base+"/api/search?q="+url.QueryEscape(queries[(c+i)%len(queries)]), &searches
				if i%4 == 3 {
					u, l = base+"/feed.atom", &feed
				}
				start := time.Now()
				resp, err := client.Get(u)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
					}
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				l.add(time.Since(start))
			}
		})
	}
	wg.Wait()
	crawlTook := <-crawlDone
	ns, nf := len(searches.d), len(feed.d)
	t.Logf("%d clients for %s, a crawl of %d posts (%s) beside them: /api/search %d requests (%.0f/s), p50 %s, p99 %s, max %s; /feed.atom %d requests, p50 %s, p99 %s, max %s; %d errors",
		clients, duration, nFeeds*nPosts, crawlTook.Round(100*time.Millisecond),
		ns, float64(ns)/duration.Seconds(), searches.quantile(0.5).Round(100*time.Microsecond), searches.quantile(0.99).Round(100*time.Microsecond), searches.quantile(1).Round(time.Millisecond),
		nf, feed.quantile(0.5).Round(100*time.Microsecond), feed.quantile(0.99).Round(100*time.Microsecond), feed.quantile(1).Round(time.Millisecond), errs.Load())
	if n := errs.Load(); n > 0 {
		t.Errorf("%d requests failed under load; the first: %v", n, firstErr.Load())
	}
	if crawlTook > duration {
		t.Logf("the crawl outlasted the load (%s); the load still ran beside it", crawlTook)
	}
	if ns < 100 || nf < 30 {
		t.Errorf("only %d searches and %d feeds answered in %s", ns, nf, duration)
	}
	if p := searches.quantile(0.99); p > 2*time.Second {
		t.Errorf("search p99 %s under load, want under 2s", p)
	}
	// What the crawl wrote while the server was busy is all searchable.
	waitIndexed(t, base, nFeeds*nPosts)
	if res := search(t, base, "zebracorn"); res.Total != nFeeds*nPosts {
		t.Errorf("after the load, zebracorn finds %d posts, want %d", res.Total, nFeeds*nPosts)
	}
}

// limited is a shell command that runs the binary with its files limited
// to blocks blocks (512 bytes each in dash, 1024 in bash: either is far
// below what the crawl needs).
func limited(blocks int) string {
	return fmt.Sprintf(`ulimit -f %d && exec "$@"`, blocks)
}

// TestFullDisk fills the disk under a crawl, simulated without privileges
// by a file-size limit (RLIMIT_FSIZE, set with the shell's ulimit) on the
// crawl's process: the crawl reports the store's failure, and afterwards,
// without the limit, the store opens, holds only whole posts, and a normal
// crawl completes it.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	const nFeeds, nPosts = 60, 30
	_, big := community(t, nFeeds, nPosts, 0)
	small := filepath.Join(t.TempDir(), "feeds.txt")
	b, _ := os.ReadFile(big)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(small, []byte(lines[0]+lines[1]), 0o644)

	t.Run("full before the store exists", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		p := runProc(t, 30*time.Second, limited(1), binary, "crawl", "--all", "--data", data, "--feeds", small)
		if p.code == 0 {
			t.Fatalf("crawl with no room for its store exited 0: %s", p.stdout)
		}
		if !strings.Contains(p.stderr, filepath.Join(data, "vplanet.db")) || !strings.Contains(p.stderr, "disk full") {
			t.Errorf("the error does not name the store and say the disk is full: %q", p.stderr)
		}
		t.Logf("exit %d: %s", p.code, strings.TrimSpace(p.stderr))
		runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", small)
		if n := checkStore(t, data); n != 2*nPosts {
			t.Errorf("after the disk has room again the store holds %d posts, want %d", n, 2*nPosts)
		}
	})

	t.Run("full in the middle of a crawl", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", small)
		fi, err := os.Stat(filepath.Join(data, "vplanet.db"))
		if err != nil {
			t.Fatal(err)
		}
		// Room for the store as it is and a few feeds more, not for 58.
		blocks := int(fi.Size()/512) + 64
		p := runProc(t, 60*time.Second, limited(blocks), binary, "crawl", "--all", "--data", data, "--feeds", big)
		t.Logf("crawl on a full disk: exit %d, %s; %d lines on stderr, the first: %.200s", p.code, strings.TrimSpace(p.stdout),
			strings.Count(p.stderr, "\n"), p.stderr)
		if !strings.Contains(p.stderr, "save") || !strings.Contains(p.stderr, "disk full") || !strings.Contains(p.stderr, filepath.Join(data, "vplanet.db")) {
			t.Errorf("the crawl does not say that the disk under its store is full: %q", p.stderr)
		}
		t.Run("exit code", func(t *testing.T) {
			if p.code == 0 {
				t.Errorf("crawl on a full disk exited 0, want non-zero")
			}
		})
		n := checkStore(t, data)
		if n < 2*nPosts || n >= nFeeds*nPosts {
			t.Errorf("the store holds %d posts after the disk filled, want between %d and %d", n, 2*nPosts, nFeeds*nPosts)
		}
		// checkStore found only whole posts; each feed's posts came in one
		// transaction, so a feed has all of them or none.
		ctx := context.Background()
		db, err := store.Open(ctx, filepath.Join(data, "vplanet.db"))
		if err != nil {
			t.Fatal(err)
		}
		fs, err := db.FindFeeds(ctx, vplanet.FeedFilter{})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.PostCount != 0 && f.PostCount != nPosts {
				t.Errorf("feed %s holds %d posts, want all %d or none", f.URL, f.PostCount, nPosts)
			}
		}
		out := runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", big)
		if !strings.Contains(out, fmt.Sprintf("%d ok", nFeeds)) {
			t.Errorf("the crawl after the disk has room again printed %q", out)
		}
		if n := checkStore(t, data); n != nFeeds*nPosts {
			t.Errorf("after a normal crawl the store holds %d posts, want %d", n, nFeeds*nPosts)
		}
		var res searchResult
		if err := json.Unmarshal([]byte(runBinary(t, 0, "search", "--json", "--limit", "1", "--data", data, "zebracorn")), &res); err != nil || res.Total != nFeeds*nPosts {
			t.Errorf("search after the full disk: %d hits, %v; want %d", res.Total, err, nFeeds*nPosts)
		}
	})
}

// TestUnwritableData points commands at data directories they cannot use:
// each exits non-zero with an error naming the path. Tests run as root
// here, where chmod 0500 stops no write; the directory is then replaced by
// a regular file, and the store by a directory, which stop root too.
func TestUnwritableData(t *testing.T) {
	t.Parallel()
	_, feeds := community(t, 1, 3, 0)
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("not a directory"), 0o644)
	storeDir := filepath.Join(dir, "store-is-a-dir")
	os.MkdirAll(filepath.Join(storeDir, "vplanet.db"), 0o755)
	readOnly := filepath.Join(dir, "read-only")
	os.MkdirAll(readOnly, 0o500)
	cases := []struct{ name, data, want string }{
		{"data is a file", file, file},
		{"data under a file", filepath.Join(file, "data"), file},
		{"store is a directory", storeDir, filepath.Join(storeDir, "vplanet.db")},
	}
	if f, err := os.Create(filepath.Join(readOnly, "probe")); err != nil {
		cases = append(cases, struct{ name, data, want string }{"read-only directory", readOnly, readOnly})
	} else {
		f.Close()
		t.Log("running as root: chmod 0500 does not stop writes; the read-only directory case is left out")
	}
	for _, c := range cases {
		for _, cmd := range [][]string{{"crawl", "--all"}, {"serve", "--addr", "127.0.0.1:0", "--schedule", "off"}, {"search", "vsan"}, {"reindex"}} {
			t.Run(c.name+"/"+cmd[0], func(t *testing.T) {
				args := append([]string{cmd[0], "--data", c.data, "--feeds", feeds}, cmd[1:]...)
				p := runProc(t, 30*time.Second, "", args...)
				if p.code == 0 {
					t.Fatalf("exit 0, want an error: %s", p.stdout)
				}
				if !strings.Contains(p.stderr, c.want) {
					t.Errorf("error %q does not name %s", strings.TrimSpace(p.stderr), c.want)
				}
			})
		}
	}
}

package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"vplanet/internal/pgtest"
)

// testHub is a WebSub hub of the test's own, written to the W3C
// Recommendation (23 January 2018) rather than with the websub package, so
// that vplanet is checked against an independent reading of the spec:
// section 5.1 (subscription requests answered 202), 5.3 (verification of
// intent, the challenge echoed), 7 (content distribution, signed with
// X-Hub-Signature: sha256 over the body with the subscriber's secret).
type testHub struct {
	srv      *httptest.Server
	mu       sync.Mutex
	subs     map[string]hubSub // by topic
	verified chan string       // topics verified
	requests atomic.Int64      // subscription requests received
}

type hubSub struct{ callback, secret string }

func newTestHub(t testing.TB) *testHub {
	h := &testHub{subs: map[string]hubSub{}, verified: make(chan string, 16)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			http.Error(w, "POST a form", http.StatusBadRequest)
			return
		}
		mode, topic, callback := r.PostForm.Get("hub.mode"), r.PostForm.Get("hub.topic"), r.PostForm.Get("hub.callback")
		secret := r.PostForm.Get("hub.secret")
		if (mode != "subscribe" && mode != "unsubscribe") || topic == "" || callback == "" {
			http.Error(w, "hub.mode, hub.topic and hub.callback are required", http.StatusBadRequest)
			return
		}
		h.requests.Add(1)
		w.WriteHeader(http.StatusAccepted)
		go h.verify(t, mode, topic, callback, secret)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// verify is section 5.3: GET the callback with a challenge, and take the
// subscription only if the challenge comes back.
func (h *testHub) verify(t testing.TB, mode, topic, callback, secret string) {
	challenge := "c" + strconv.FormatInt(time.Now().UnixNano(), 36)
	q := url.Values{"hub.mode": {mode}, "hub.topic": {topic}, "hub.challenge": {challenge}, "hub.lease_seconds": {"86400"}}
	sep := "?"
	if strings.Contains(callback, "?") {
		sep = "&"
	}
	resp, err := http.Get(callback + sep + q.Encode())
	if err != nil {
		t.Logf("test hub: verify %s: %v", callback, err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || string(body) != challenge {
		t.Logf("test hub: %s not verified: %d %q", callback, resp.StatusCode, body)
		return
	}
	h.mu.Lock()
	if mode == "subscribe" {
		h.subs[topic] = hubSub{callback, secret}
	} else {
		delete(h.subs, topic)
	}
	h.mu.Unlock()
	h.verified <- mode + " " + topic
}

// distribute is section 7: POST body to the topic's subscriber, signed
// with key (the subscriber's secret unless the test forges one).
func (h *testHub) distribute(t testing.TB, topic string, body []byte, key string) int {
	t.Helper()
	h.mu.Lock()
	s, ok := h.subs[topic]
	h.mu.Unlock()
	if !ok {
		t.Fatalf("test hub: no subscriber for %s", topic)
	}
	if key == "" {
		key = s.secret
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, s.callback, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/atom+xml")
	req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Add("Link", fmt.Sprintf(`<%s>; rel="hub", <%s>; rel="self"`, h.srv.URL+"/", topic))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// pushBlog is a blog whose Atom feed names a hub and itself.
type pushBlog struct {
	mu    sync.Mutex
	srv   *httptest.Server
	hub   string
	posts []blogPost // newest first
	next  int
}

// blogPost is one post of a pushBlog; its text repeats its title.
type blogPost struct {
	n     int
	title string
}

func newPushBlog(t testing.TB, hub string) *pushBlog {
	b := &pushBlog{hub: hub, posts: []blogPost{{1, "Welcome to the push blog"}}, next: 2}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/atom.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml")
		w.Write(b.atom())
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *pushBlog) feedURL() string { return b.srv.URL + "/atom.xml" }

// add publishes a post; the feed keeps the newest ten, as blogs' feeds
// keep their newest few.
func (b *pushBlog) add(title string) {
	b.mu.Lock()
	b.posts = append([]blogPost{{b.next, title}}, b.posts...)
	b.posts = b.posts[:min(len(b.posts), 10)]
	b.next++
	b.mu.Unlock()
}

// drop takes the newest post back.
func (b *pushBlog) drop() {
	b.mu.Lock()
	b.posts = b.posts[1:]
	b.mu.Unlock()
}

func (b *pushBlog) atom() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	fmt.Fprintf(&s, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Push blog</title><id>%s</id>
<link rel="hub" href="%s/"/><link rel="self" href="%s"/><link rel="alternate" href="%s/"/>
<updated>2026-12-01T00:00:00Z</updated>`, b.feedURL(), b.hub, b.feedURL(), b.srv.URL)
	for _, p := range b.posts {
		when := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(p.n) * time.Hour).Format(time.RFC3339)
		fmt.Fprintf(&s, `<entry><title>%s</title><id>%s/posts/%d</id><link href="%s/posts/%d"/><published>%s</published><updated>%s</updated><content type="html">%s, in a post long enough to be a post.</content></entry>`,
			html.EscapeString(p.title), b.srv.URL, p.n, b.srv.URL, p.n, when, when, html.EscapeString(p.title))
	}
	s.WriteString("</feed>")
	return []byte(s.String())
}

// newPushSetup is a push blog naming a test hub, listed alone in a
// feeds.txt in a temporary directory, which it returns with the file.
func newPushSetup(t testing.TB) (*testHub, *pushBlog, string, string) {
	t.Helper()
	hub := newTestHub(t)
	blog := newPushBlog(t, hub.srv.URL)
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.txt")
	if err := os.WriteFile(feeds, []byte(blog.feedURL()+"  Push blog en\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return hub, blog, dir, feeds
}

// freeAddr is a loopback address nothing listens on, for a serve that must
// know its own address (--base-url) before it starts.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestWebSub runs push end to end on loopback: serve with --base-url
// subscribes to the hub a blog names, a signed push is searchable at once
// and a forged one is ignored and counted; as a hub, vplanet verifies a
// reader's subscription to a search feed and pushes it only the posts that
// match, after a crawl stores them.
func TestWebSub(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testWebSub(t, nil) })
	t.Run("postgres", func(t *testing.T) { testWebSub(t, []string{"--database", pgtest.URL(t)}) })
}

// testWebSub is TestWebSub on one store; store names it (--database) or
// is empty for SQLite under --data.
func testWebSub(t *testing.T, store []string) {
	hub, blog, dir, feeds := newPushSetup(t)
	data := filepath.Join(dir, "data")
	addr := freeAddr(t)
	base := "http://" + addr + "/"

	ctx := context.Background()
	serveInProcess(t, data, nil, append([]string{"--addr", addr, "--base-url", base, "--hub-allow-private",
		"--feeds", feeds, "--schedule", "@every 1h"}, store...)...)

	// The crawl at start finds the hub and subscribes; the test hub
	// verifies the intent before it takes the subscription.
	select {
	case got := <-hub.verified:
		if want := "subscribe " + blog.feedURL(); got != want {
			t.Fatalf("hub verified %q, want %q", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no subscription verified within 30s of serve's start")
	}
	var list []struct {
		Push *struct{ State, Hub string } `json:"push"`
	}
	waitFor(t, 10*time.Second, "the subscription to show as active", func() bool {
		return get(t, base+"api/feeds", &list) == 200 && len(list) == 1 && list[0].Push != nil && list[0].Push.State == "active"
	})

	t.Run("forged signature ignored and counted", func(t *testing.T) {
		blog.add("Forgedquokka must not be stored")
		forged := blog.atom()
		blog.drop() // the blog never published it
		if code := hub.distribute(t, blog.feedURL(), forged, "not the secret"); code/100 != 2 {
			t.Errorf("forged push answered %d, want 2xx (section 7: the subscriber must not reveal the failure)", code)
		}
		if got := metric(t, base, `vplanet_websub_subscriber_events_total{event="bad_signature"}`); got != "1" {
			t.Errorf("bad_signature counter = %q, want 1", got)
		}
	})

	t.Run("signed push searchable", func(t *testing.T) {
		blog.add("Pushedwombat arrives by push")
		start := time.Now()
		if code := hub.distribute(t, blog.feedURL(), blog.atom(), ""); code/100 != 2 {
			t.Fatalf("push answered %d", code)
		}
		waitFor(t, 10*time.Second, "the pushed post in search", func() bool {
			return hasTitle(search(t, base, "Pushedwombat"), "Pushedwombat arrives by push")
		})
		t.Logf("pushed post searchable %v after the push began", time.Since(start).Round(time.Millisecond))
		if res := search(t, base, "Forgedquokka"); len(res.Hits) != 0 {
			t.Errorf("the forged push's post is searchable: %v", titles(res))
		}
	})

	t.Run("hub pushes a search feed only its matches", func(t *testing.T) {
		topic := base + "feed.atom?q=" + url.QueryEscape("koala")
		type delivery struct {
			body []byte
			sig  string
		}
		got := make(chan delivery, 4)
		verified := make(chan struct{}, 1)
		reader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			if r.Method == http.MethodGet {
				if q.Get("hub.mode") != "subscribe" || q.Get("hub.topic") != topic {
					http.NotFound(w, r)
					return
				}
				io.WriteString(w, q.Get("hub.challenge"))
				verified <- struct{}{}
				return
			}
			body, _ := io.ReadAll(r.Body)
			got <- delivery{body, r.Header.Get("X-Hub-Signature")}
		}))
		defer reader.Close()
		const secret = "the reader's own secret"
		resp, err := http.PostForm(base+"websub/hub", url.Values{
			"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {reader.URL + "/cb"},
			"hub.secret": {secret}, "hub.lease_seconds": {"3600"},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("subscription request answered %d, want 202", resp.StatusCode)
		}
		select {
		case <-verified:
		case <-time.After(10 * time.Second):
			t.Fatal("vplanet's hub did not verify the reader's intent within 10s")
		}

		blog.add("Koala sighting in the lab")
		blog.add("Nothing about marsupials here")
		if err := run(ctx, append([]string{"vplanet", "crawl", "--all", "--data", data, "--feeds", feeds, "--wait", "30s"}, store...),
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard); err != nil {
			t.Fatalf("crawl: %v", err)
		}
		var d delivery
		select {
		case d = <-got:
		case <-time.After(15 * time.Second):
			t.Fatal("no delivery to the search feed's reader within 15s of the crawl")
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(d.body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); d.sig != want {
			t.Errorf("X-Hub-Signature = %q, want %q", d.sig, want)
		}
		f, err := gofeed.NewParser().ParseString(string(d.body))
		if err != nil {
			t.Fatalf("delivered body: %v\n%s", err, d.body)
		}
		var titles []string
		for _, it := range f.Items {
			titles = append(titles, it.Title)
		}
		if len(titles) != 1 || titles[0] != "Koala sighting in the lab" {
			t.Errorf("delivered %q, want only the post matching koala", titles)
		}
		select {
		case d := <-got:
			t.Errorf("a second delivery: %.300s", d.body)
		case <-time.After(1500 * time.Millisecond):
		}
	})

	t.Run("feed removed from the list leaves its hub", func(t *testing.T) {
		if err := os.WriteFile(feeds, []byte("# the push blog is gone\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := run(ctx, append([]string{"vplanet", "crawl", "--data", data, "--feeds", feeds, "--wait", "30s"}, store...),
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard); err != nil {
			t.Fatalf("crawl: %v", err)
		}
		select {
		case got := <-hub.verified:
			if want := "unsubscribe " + blog.feedURL(); got != want {
				t.Errorf("hub verified %q, want %q", got, want)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no unsubscription verified within 15s of the feed leaving the list")
		}
	})

	t.Run("feeds name the hub and themselves", func(t *testing.T) {
		resp, err := http.Get(base + "feed.atom?q=koala")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		link := resp.Header.Get("Link")
		if !strings.Contains(link, `<`+base+`websub/hub>; rel="hub"`) || !strings.Contains(link, `<`+base+`feed.atom?q=koala>; rel="self"`) {
			t.Errorf("Link header %q, want the hub and the canonical self", link)
		}
		if !strings.Contains(string(body), `<link rel="hub" href="`+base+`websub/hub">`) {
			t.Errorf("the Atom feed names no hub:\n%.600s", body)
		}
	})
}

// TestWebSubReplicas runs two replicas on one PostgreSQL database behind
// one public address (--base-url is the first's): the feed is subscribed
// once, whichever replica crawled it, the replica the hub reaches answers
// for a subscription the other may have made, and the pushed post is
// searchable on both.
func TestWebSubReplicas(t *testing.T) {
	database := pgtest.URL(t)
	hub, blog, dir, feeds := newPushSetup(t)
	addrA := freeAddr(t)
	base := "http://" + addrA + "/"
	var bases []string
	for i, addr := range []string{addrA, freeAddr(t)} {
		data := filepath.Join(dir, "data"+strconv.Itoa(i))
		bases = append(bases, serveInProcess(t, data, nil, "--addr", addr, "--base-url", base, "--database", database,
			"--feeds", feeds, "--schedule", "@every 1h", "--log-level", "warn")+"/")
	}
	select {
	case <-hub.verified:
	case <-time.After(30 * time.Second):
		t.Fatal("no subscription verified within 30s")
	}
	time.Sleep(time.Second) // room for a second request, which must not come
	if n := hub.requests.Load(); n != 1 {
		t.Errorf("the hub got %d subscription requests for one feed from two replicas, want 1", n)
	}
	blog.add("Replicatedplatypus pushed once")
	if code := hub.distribute(t, blog.feedURL(), blog.atom(), ""); code/100 != 2 {
		t.Fatalf("push answered %d", code)
	}
	for i, b := range bases {
		waitFor(t, 10*time.Second, "the pushed post in replica "+strconv.Itoa(i)+"'s search", func() bool {
			return hasTitle(search(t, strings.TrimSuffix(b, "/"), "Replicatedplatypus"), "Replicatedplatypus pushed once")
		})
	}
}

// metric reads one sample from /metrics, "" when absent.
func metric(t testing.TB, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// BenchmarkPublishToSearchable measures the time from a blog publishing a
// post to the post being found by /api/search, on loopback: with push (the
// hub distributes, serve's callback ingests, the index follows at once),
// and with polling at its best (a crawl starts the moment the post is
// published; on the schedule it waits for the feed's next check, 15 min
// to 2 h by its rhythm, 8 h for a feed whose hub pushes).
func BenchmarkPublishToSearchable(b *testing.B) {
	hub, blog, dir, feeds := newPushSetup(b)
	data := filepath.Join(dir, "data")
	addr := freeAddr(b)
	base := "http://" + addr + "/"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"vplanet", "serve", "--addr", addr, "--base-url", base,
			"--data", data, "--feeds", feeds, "--schedule", "@every 1h", "--log-level", "warn"},
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-hub.verified:
	case err := <-done:
		b.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		b.Fatal("no subscription verified within 60s")
	}
	found := func(word string) bool {
		resp, err := http.Get(base + "api/search?q=" + word)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), word)
	}
	await := func(word string) {
		deadline := time.Now().Add(30 * time.Second)
		for !found(word) {
			if time.Now().After(deadline) {
				b.Fatalf("%s not searchable within 30s", word)
			}
			time.Sleep(time.Millisecond)
		}
	}
	n := 0
	word := func() string {
		n++
		return "benchword" + strconv.Itoa(n) + "x"
	}
	// The subscription turns active when its verification is stored.
	time.Sleep(200 * time.Millisecond)
	// Each publication's time, for the median and the slowest beside the
	// mean: a publication that just misses the index's turn waits for it.
	report := func(b *testing.B, times []time.Duration) {
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms")
	}
	b.Run("push", func(b *testing.B) {
		var times []time.Duration
		for b.Loop() {
			start := time.Now()
			w := word()
			blog.add(w + " pushed")
			if code := hub.distribute(b, blog.feedURL(), blog.atom(), ""); code/100 != 2 {
				b.Fatalf("push answered %d", code)
			}
			await(w)
			times = append(times, time.Since(start))
		}
		report(b, times)
	})
	b.Run("poll", func(b *testing.B) {
		var times []time.Duration
		for b.Loop() {
			start := time.Now()
			w := word()
			blog.add(w + " polled")
			if err := run(ctx, []string{"vplanet", "crawl", "--all", "--data", data, "--feeds", feeds, "--wait", "30s"},
				func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard); err != nil {
				b.Fatal(err)
			}
			await(w)
			times = append(times, time.Since(start))
		}
		report(b, times)
	})
}

// TestCrawlSubscribes: a crawl from cron beside serve, given serve's
// public address (VPLANET_BASE_URL, as a container sets it for both),
// subscribes to the hub a blog names; serve, which did not crawl, answers
// the hub's verification and takes the push.
func TestCrawlSubscribes(t *testing.T) {
	hub, blog, dir, feeds := newPushSetup(t)
	data := filepath.Join(dir, "data")
	addr := freeAddr(t)
	base := "http://" + addr + "/"
	env := func(name string) string {
		if name == "VPLANET_BASE_URL" {
			return base
		}
		return ""
	}
	ctx := context.Background()
	serveInProcess(t, data, env, "--addr", addr, "--feeds", feeds, "--schedule", "off")
	if n := hub.requests.Load(); n != 0 {
		t.Fatalf("serve with the schedule off sent %d subscription requests, want 0", n)
	}

	crawlLog := &syncBuffer{}
	if err := run(ctx, []string{"vplanet", "crawl", "--data", data, "--feeds", feeds, "--wait", "30s"},
		env, strings.NewReader(""), io.Discard, crawlLog); err != nil {
		t.Fatalf("crawl: %v\n%s", err, crawlLog.String())
	}
	select {
	case got := <-hub.verified:
		if want := "subscribe " + blog.feedURL(); got != want {
			t.Fatalf("hub verified %q, want %q", got, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no subscription verified within 15s of the crawl; crawl's log:\n%s", crawlLog.String())
	}
	blog.add("Cronwallaby arrives by push")
	waitFor(t, 10*time.Second, "the subscription to be active", func() bool {
		var list []struct {
			Push *struct{ State string } `json:"push"`
		}
		return get(t, base+"api/feeds", &list) == 200 && len(list) == 1 && list[0].Push != nil && list[0].Push.State == "active"
	})
	if code := hub.distribute(t, blog.feedURL(), blog.atom(), ""); code/100 != 2 {
		t.Fatalf("push answered %d", code)
	}
	waitFor(t, 10*time.Second, "the pushed post in search", func() bool {
		return hasTitle(search(t, base, "Cronwallaby"), "Cronwallaby arrives by push")
	})

	// A second crawl finds the subscription in the store and asks nothing.
	if err := run(ctx, []string{"vplanet", "crawl", "--all", "--data", data, "--feeds", feeds, "--wait", "30s"},
		env, strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatalf("second crawl: %v", err)
	}
	if n := hub.requests.Load(); n != 1 {
		t.Errorf("hub received %d subscription requests over two crawls, want 1", n)
	}
}

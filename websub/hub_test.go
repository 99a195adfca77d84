package websub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// specSubscriber is a subscriber written from the Recommendation alone: it
// answers verifications of intent (section 5.3.1) when it agrees, and takes
// content distributions (section 7), answering each with the next status
// of its script.
type specSubscriber struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	agree  bool                // echo the challenge
	echo   func(string) string // what to answer in its place, when set
	gets   []url.Values
	posts  []*http.Request
	bodies [][]byte
	script []int // statuses for successive POSTs; then 202
}

func newSpecSubscriber(t *testing.T, addr string) *specSubscriber {
	s := &specSubscriber{t: t, agree: true}
	s.srv = serveOn(t, addr, http.HandlerFunc(s.serve))
	return s
}

func (s *specSubscriber) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		s.gets = append(s.gets, q)
		if !s.agree {
			http.NotFound(w, r)
			return
		}
		answer := q.Get("hub.challenge")
		if s.echo != nil {
			answer = s.echo(answer)
		}
		io.WriteString(w, answer)
	case http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		s.posts = append(s.posts, r)
		s.bodies = append(s.bodies, b)
		status := http.StatusAccepted
		if len(s.script) > 0 {
			status, s.script = s.script[0], s.script[1:]
		}
		w.WriteHeader(status)
	}
}

func (s *specSubscriber) callback(path string) string { return s.srv.URL + path }

func (s *specSubscriber) verifications() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.gets)
}

func (s *specSubscriber) deliveries() ([]*http.Request, [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts), slices.Clone(s.bodies)
}

const planet = "http://planet.test/"

// testHub is a Hub served on loopback, its clock settable and its waits
// between attempts recorded instead of slept.
type testHub struct {
	h      *Hub
	store  *MemoryStore
	clk    *clock
	srv    *httptest.Server
	mu     sync.Mutex
	sleeps []time.Duration
}

func newTestHub(t *testing.T, edit func(*HubConfig)) *testHub {
	t.Helper()
	th := &testHub{store: NewMemoryStore(), clk: newClock()}
	cfg := HubConfig{
		URL:          planet + "websub/hub",
		Store:        th.store,
		Topic:        func(topic string) bool { return strings.HasPrefix(topic, planet) },
		AllowPrivate: true,
		Now:          th.clk.Now,
		Sleep: func(_ context.Context, d time.Duration) error {
			th.mu.Lock()
			defer th.mu.Unlock()
			th.sleeps = append(th.sleeps, d)
			return nil
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := NewHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	th.h = h
	th.srv = serveOn(t, "127.0.0.1", h)
	return th
}

// request posts an (un)subscription request to the hub's endpoint and
// waits for the verification that follows.
func (th *testHub) request(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(th.srv.URL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	th.h.Wait()
	return resp.StatusCode, string(b)
}

func subscribeForm(topic, callback, secret string, lease string) url.Values {
	f := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {callback}}
	if secret != "" {
		f.Set("hub.secret", secret)
	}
	if lease != "" {
		f.Set("hub.lease_seconds", lease)
	}
	return f
}

func (th *testHub) subscriptions(t *testing.T) []HubSubscription {
	t.Helper()
	subs, err := th.store.FindHubSubscriptions(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

func TestHub_Section5_3_VerifiesIntent(t *testing.T) {
	th := newTestHub(t, nil)
	sub := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "feed.atom?q=vsan"
	cb := sub.callback("/cb?id=7&hub.mode=keep")
	status, _ := th.request(t, subscribeForm(topic, cb, "s3cret", "3600"))
	if status != http.StatusAccepted {
		t.Fatalf("subscription request answered %d, want 202 (section 5.1.2)", status)
	}
	v := sub.verifications()
	if len(v) != 1 {
		t.Fatalf("%d verification requests, want 1", len(v))
	}
	q := v[0]
	if q.Get("hub.topic") != topic || q.Get("hub.lease_seconds") != "3600" || len(q.Get("hub.challenge")) < 32 {
		t.Errorf("verification query = %v", q)
	}
	// Section 5.1.1: the callback's own query is kept, parameters appended.
	if q.Get("id") != "7" || q["hub.mode"][0] != "keep" || q["hub.mode"][1] != "subscribe" {
		t.Errorf("the callback's query was not kept before the hub's: %v", q)
	}
	subs := th.subscriptions(t)
	if len(subs) != 1 || subs[0].Topic != topic || subs[0].Callback != cb || subs[0].Secret != "s3cret" ||
		!subs[0].Expires.Equal(th.clk.Now().Add(time.Hour)) {
		t.Errorf("subscriptions = %+v, want one until an hour from now", subs)
	}
}

func TestHub_Section5_3_1_LeaseBounds(t *testing.T) {
	tests := []struct{ asked, want string }{
		{"", "864000"},
		{"60", "300"},
		{"99999999999", "864000"},
		{"86400", "86400"},
	}
	for _, tt := range tests {
		t.Run("asked "+tt.asked, func(t *testing.T) {
			th := newTestHub(t, nil)
			sub := newSpecSubscriber(t, "127.0.0.1")
			th.request(t, subscribeForm(planet+"feed.atom", sub.callback("/cb"), "", tt.asked))
			if v := sub.verifications(); len(v) != 1 || v[0].Get("hub.lease_seconds") != tt.want {
				t.Errorf("verifications = %v, want hub.lease_seconds %s", v, tt.want)
			}
		})
	}
}

func TestHub_Section5_3_1_VerificationFails(t *testing.T) {
	tests := []struct {
		name string
		set  func(*specSubscriber)
	}{
		{"subscriber answers 404", func(s *specSubscriber) { s.agree = false }},
		{"challenge not echoed", func(s *specSubscriber) { s.echo = func(c string) string { return "ok" } }},
		{"challenge with more", func(s *specSubscriber) { s.echo = func(c string) string { return c + "\n" } }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := newTestHub(t, nil)
			sub := newSpecSubscriber(t, "127.0.0.1")
			tt.set(sub)
			if status, _ := th.request(t, subscribeForm(planet+"feed.atom", sub.callback("/cb"), "", "")); status != http.StatusAccepted {
				t.Errorf("answered %d, want 202 whatever the verification brings (section 5.1.2)", status)
			}
			if subs := th.subscriptions(t); len(subs) != 0 {
				t.Errorf("subscriptions = %+v, want none", subs)
			}
			if got := th.h.Counters.VerifyFailed.Load(); got != 1 {
				t.Errorf("VerifyFailed = %d, want 1", got)
			}
		})
	}
	t.Run("redirect not followed", func(t *testing.T) {
		th := newTestHub(t, nil)
		sub := newSpecSubscriber(t, "127.0.0.1")
		moved := serveOn(t, "127.0.0.1", http.RedirectHandler(sub.callback("/cb"), http.StatusFound))
		th.request(t, subscribeForm(planet+"feed.atom", moved.URL+"/cb", "", ""))
		if len(sub.verifications()) != 0 || len(th.subscriptions(t)) != 0 {
			t.Error("the hub followed a redirect during verification")
		}
	})
}

func TestHub_Section5_1_2_BadRequests(t *testing.T) {
	th := newTestHub(t, nil)
	cb := "http://127.0.0.1:9/cb"
	tests := []struct {
		name     string
		form     url.Values
		wantText string
	}{
		{"no mode", url.Values{"hub.topic": {planet}, "hub.callback": {cb}}, "hub.mode"},
		{"publish", url.Values{"hub.mode": {"publish"}, "hub.url": {planet}}, "hub.mode"},
		{"no topic", subscribeForm("", cb, "", ""), "hub.topic"},
		{"topic not served here", subscribeForm("https://elsewhere.example/feed", cb, "", ""), "not a feed this hub serves"},
		{"relative callback", subscribeForm(planet, "/cb", "", ""), "hub.callback"},
		{"ftp callback", subscribeForm(planet, "ftp://127.0.0.1/cb", "", ""), "hub.callback"},
		{"secret of 200 bytes", subscribeForm(planet, cb, strings.Repeat("s", 200), ""), "200 bytes"},
		{"negative lease", subscribeForm(planet, cb, "", "-5"), "hub.lease_seconds"},
		{"lease not a number", subscribeForm(planet, cb, "", "ten days"), "hub.lease_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := th.request(t, tt.form)
			if status != http.StatusBadRequest || !strings.Contains(body, tt.wantText) {
				t.Errorf("answered %d %q, want 400 naming %q", status, body, tt.wantText)
			}
		})
	}
	resp, err := http.Post(th.srv.URL, "application/json", strings.NewReader(`{"hub.mode":"subscribe"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a JSON body answered %d, want 400", resp.StatusCode)
	}
	resp, err = http.Get(th.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d, want 405", resp.StatusCode)
	}
}

func TestHub_Section7_Delivery(t *testing.T) {
	th := newTestHub(t, nil)
	signed := newSpecSubscriber(t, "127.0.0.1")
	unsigned := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "blogs/vnotes/feed.atom"
	th.request(t, subscribeForm(topic, signed.callback("/cb"), "the secret", ""))
	th.request(t, subscribeForm(topic, unsigned.callback("/cb"), "", ""))
	body := readTestdata(t, "atom-hub.xml")
	if err := th.h.Publish(context.Background(), topic, Content{Body: body, Type: "application/atom+xml; charset=utf-8"}); err != nil {
		t.Fatal(err)
	}
	th.h.Wait()

	reqs, bodies := signed.deliveries()
	if len(reqs) != 1 {
		t.Fatalf("%d deliveries, want 1", len(reqs))
	}
	r := reqs[0]
	if string(bodies[0]) != string(body) || r.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Errorf("delivered %d bytes as %q, want the content and its type", len(bodies[0]), r.Header.Get("Content-Type"))
	}
	l := linksFromHeader(r.Header.Values("Link"), nil)
	if !slices.Equal(l.Hubs, []string{planet + "websub/hub"}) || l.Self != topic {
		t.Errorf("Link header %q gives %+v, want the hub and the topic as self", r.Header.Values("Link"), l)
	}
	if got, want := r.Header.Get("X-Hub-Signature"), specSign("sha256", "the secret", body); got != want {
		t.Errorf("X-Hub-Signature = %q, want %q", got, want)
	}
	reqs, _ = unsigned.deliveries()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Hub-Signature") != "" {
		t.Errorf("a subscription without a secret got %d deliveries, signature %q; want 1 unsigned", len(reqs), reqs[0].Header.Get("X-Hub-Signature"))
	}
}

// searchPosts and renderSearch stand in for the server: a search topic's
// new content is the posts that match its query.
var searchPosts = []string{"vSAN ESA sizing", "NSX edge clusters", "vSAN stretched cluster", "Tanzu on vSphere"}

func renderSearch(_ context.Context, topic string) (Content, error) {
	u, err := url.Parse(topic)
	if err != nil {
		return Content{}, err
	}
	q := strings.ToLower(u.Query().Get("q"))
	var b strings.Builder
	for _, p := range searchPosts {
		if strings.Contains(strings.ToLower(p), q) {
			fmt.Fprintf(&b, "<entry><title>%s</title></entry>", p)
		}
	}
	if b.Len() == 0 {
		return Content{}, nil
	}
	return Content{Body: []byte("<feed>" + b.String() + "</feed>"), Type: "application/atom+xml"}, nil
}

func TestHub_PublishEach_SearchTopics(t *testing.T) {
	th := newTestHub(t, nil)
	subs := map[string]*specSubscriber{}
	for _, q := range []string{"vsan", "nsx", "horizon"} {
		subs[q] = newSpecSubscriber(t, "127.0.0.1")
		th.request(t, subscribeForm(planet+"feed.atom?q="+q, subs[q].callback("/cb"), "", ""))
	}
	sent, err := th.h.PublishEach(context.Background(), renderSearch)
	th.h.Wait()
	if err != nil || sent != 2 {
		t.Fatalf("PublishEach = %d, %v; want 2 topics with something new", sent, err)
	}
	want := map[string][]string{"vsan": {"vSAN ESA sizing", "vSAN stretched cluster"}, "nsx": {"NSX edge clusters"}, "horizon": nil}
	for q, s := range subs {
		_, bodies := s.deliveries()
		var titles []string
		for _, b := range bodies {
			for _, part := range strings.Split(string(b), "<title>")[1:] {
				titles = append(titles, strings.Split(part, "</title>")[0])
			}
		}
		if !slices.Equal(titles, want[q]) {
			t.Errorf("subscriber to q=%s received %q, want %q", q, titles, want[q])
		}
	}
}

func TestHub_Section7_RetriesWithBackoff(t *testing.T) {
	topic := planet + "feed.atom"
	tests := []struct {
		name          string
		attempts      int
		backoff, cap  time.Duration
		script        []int
		wantSleeps    []time.Duration
		wantDelivered int64
		wantFailed    int64
		wantKept      bool
	}{
		{"succeeds on the third attempt", 0, 0, 0, []int{500, 503, 200},
			[]time.Duration{30 * time.Second, time.Minute}, 1, 0, true},
		{"gives up after every attempt, keeps the subscription", 4, 0, 0, []int{500, 500, 500, 500, 200},
			[]time.Duration{30 * time.Second, time.Minute, 2 * time.Minute}, 0, 1, true},
		{"backoff capped", 4, time.Minute, 90 * time.Second, []int{500, 500, 500, 500},
			[]time.Duration{time.Minute, 90 * time.Second, 90 * time.Second}, 0, 1, true},
		{"3xx is a failure", 2, 0, 0, []int{302, 200},
			[]time.Duration{30 * time.Second}, 1, 0, true},
		{"410 ends the subscription", 0, 0, 0, []int{410},
			nil, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := newTestHub(t, func(c *HubConfig) { c.Attempts, c.Backoff, c.MaxBackoff = tt.attempts, tt.backoff, tt.cap })
			sub := newSpecSubscriber(t, "127.0.0.1")
			th.request(t, subscribeForm(topic, sub.callback("/cb"), "k", ""))
			sub.script = tt.script
			th.h.Publish(context.Background(), topic, Content{Body: []byte("<feed/>"), Type: "application/atom+xml"})
			th.h.Wait()
			if !slices.Equal(th.sleeps, tt.wantSleeps) {
				t.Errorf("waits between attempts = %v, want %v", th.sleeps, tt.wantSleeps)
			}
			c := &th.h.Counters
			if c.Deliveries.Load() != tt.wantDelivered || c.DeliveryFailures.Load() != tt.wantFailed {
				t.Errorf("delivered %d, failed %d; want %d, %d", c.Deliveries.Load(), c.DeliveryFailures.Load(), tt.wantDelivered, tt.wantFailed)
			}
			if kept := len(th.subscriptions(t)) == 1; kept != tt.wantKept {
				t.Errorf("subscription kept = %v, want %v", kept, tt.wantKept)
			}
		})
	}
}

func TestHub_LeaseExpiry(t *testing.T) {
	th := newTestHub(t, nil)
	sub := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "feed.atom"
	th.request(t, subscribeForm(topic, sub.callback("/cb"), "", "3600"))
	th.clk.Add(time.Hour)
	th.h.Publish(context.Background(), topic, Content{Body: []byte("<feed/>"), Type: "application/atom+xml"})
	th.h.Wait()
	if reqs, _ := sub.deliveries(); len(reqs) != 0 {
		t.Errorf("%d deliveries after the lease ended, want 0", len(reqs))
	}
	if n := len(th.subscriptions(t)); n != 0 || th.h.Counters.Expired.Load() != 1 {
		t.Errorf("%d subscriptions left, %d expired; want 0 and 1", n, th.h.Counters.Expired.Load())
	}
}

func TestHub_Section5_Unsubscribe(t *testing.T) {
	th := newTestHub(t, nil)
	sub := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "feed.atom"
	th.request(t, subscribeForm(topic, sub.callback("/cb"), "", ""))
	unsub := url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {topic}, "hub.callback": {sub.callback("/cb")}, "hub.lease_seconds": {"nonsense is ignored"}}

	// Section 5.1: a verification that fails leaves the state unchanged.
	sub.agree = false
	if status, _ := th.request(t, unsub); status != http.StatusAccepted {
		t.Fatalf("unsubscription answered %d, want 202", status)
	}
	if len(th.subscriptions(t)) != 1 {
		t.Fatal("an unverified unsubscription removed the subscription")
	}
	sub.agree = true
	th.request(t, unsub)
	v := sub.verifications()
	if last := v[len(v)-1]; last.Get("hub.mode") != "unsubscribe" || last.Get("hub.topic") != topic {
		t.Errorf("verification = %v, want mode unsubscribe for the topic", last)
	}
	if len(th.subscriptions(t)) != 0 {
		t.Error("a verified unsubscription left the subscription")
	}
}

func TestHub_PrivateCallbacks(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowPrivate=%v", allow), func(t *testing.T) {
			th := newTestHub(t, func(c *HubConfig) { c.AllowPrivate = allow })
			sub := newSpecSubscriber(t, "127.0.0.1")
			for _, cb := range []string{sub.callback("/cb"), strings.Replace(sub.callback("/cb2"), "127.0.0.1", "localhost", 1)} {
				status, body := th.request(t, subscribeForm(planet+"feed.atom", cb, "", ""))
				if !allow && (status != http.StatusForbidden || !strings.Contains(body, "private")) {
					t.Errorf("%s answered %d %q, want 403 naming the private address", cb, status, body)
				}
				if allow && status != http.StatusAccepted {
					t.Errorf("%s answered %d %q, want 202", cb, status, body)
				}
			}
			want := 0
			if allow {
				want = 2
			}
			if got := len(sub.verifications()); got != want {
				t.Errorf("the loopback subscriber received %d verifications, want %d", got, want)
			}
			if got := len(th.subscriptions(t)); got != want {
				t.Errorf("%d subscriptions, want %d", got, want)
			}
		})
	}
}

// TestHub_PrivateRefusedAtConnect: the address is checked when connecting,
// after name resolution, not only when the request comes in: a
// subscription whose callback became private since (a name that now
// resolves inside, or a row written by a replica that allows private
// callbacks) is not delivered to, and not retried.
func TestHub_PrivateRefusedAtConnect(t *testing.T) {
	th := newTestHub(t, func(c *HubConfig) { c.AllowPrivate = false })
	sub := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "feed.atom"
	th.store.PutHubSubscription(context.Background(), HubSubscription{Topic: topic, Callback: sub.callback("/cb"), Expires: th.clk.Now().Add(time.Hour)})
	th.h.Publish(context.Background(), topic, Content{Body: []byte("<feed/>"), Type: "application/atom+xml"})
	th.h.Wait()
	if reqs, _ := sub.deliveries(); len(reqs) != 0 {
		t.Errorf("%d deliveries reached a loopback callback, want 0", len(reqs))
	}
	c := &th.h.Counters
	if c.DeliveryAttempts.Load() != 1 || c.DeliveryFailures.Load() != 1 || len(th.sleeps) != 0 {
		t.Errorf("attempts %d, failures %d, waits %v; want 1, 1 and no retry", c.DeliveryAttempts.Load(), c.DeliveryFailures.Load(), th.sleeps)
	}
}

// TestHub_RedirectIntoPrivateNotFollowed: a callback on a public address
// that redirects inside gets nothing inside.
func TestHub_RedirectIntoPrivateNotFollowed(t *testing.T) {
	th := newTestHub(t, func(c *HubConfig) { c.AllowPrivate, c.Private = false, onlyLoopback2 })
	inside := newSpecSubscriber(t, "127.0.0.2")
	public := serveOn(t, "127.0.0.1", http.RedirectHandler(inside.callback("/cb"), http.StatusTemporaryRedirect))
	th.request(t, subscribeForm(planet+"feed.atom", public.URL+"/cb", "", ""))
	if got := len(inside.verifications()); got != 0 {
		t.Errorf("the private subscriber received %d requests through a redirect, want 0", got)
	}
	if th.h.Counters.VerifyFailed.Load() != 1 {
		t.Errorf("VerifyFailed = %d, want 1", th.h.Counters.VerifyFailed.Load())
	}
}

func TestNewClient_RefusesPrivateAfterResolution(t *testing.T) {
	srv := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, allow := range []bool{false, true} {
		resp, err := newClient(IsPrivate, allow, 5*time.Second, true).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		if refused := err != nil && strings.Contains(err.Error(), "private"); refused == allow {
			t.Errorf("allowPrivate=%v: GET %s = %v", allow, u, err)
		}
	}
}

func TestHub_Bounds(t *testing.T) {
	th := newTestHub(t, func(c *HubConfig) { c.MaxPerTopic, c.MaxTotal = 1, 2 })
	sub := newSpecSubscriber(t, "127.0.0.1")
	a, b := planet+"a.atom", planet+"b.atom"
	steps := []struct {
		topic, path string
		want        int
	}{
		{a, "/1", http.StatusAccepted},
		{a, "/2", http.StatusForbidden}, // topic full
		{a, "/1", http.StatusAccepted},  // a renewal always passes
		{b, "/2", http.StatusAccepted},
		{planet + "c.atom", "/3", http.StatusForbidden}, // hub full
	}
	for i, s := range steps {
		if status, body := th.request(t, subscribeForm(s.topic, sub.callback(s.path), "", "")); status != s.want {
			t.Errorf("step %d (%s %s) answered %d %q, want %d", i, s.topic, s.path, status, body, s.want)
		}
	}
	if n := len(th.subscriptions(t)); n != 2 {
		t.Errorf("%d subscriptions, want 2", n)
	}
}

// TestManagerAndHub: this package's subscriber against its hub, end to end.
func TestManagerAndHub(t *testing.T) {
	th := newTestHub(t, nil)
	s := newSubscriber(t, nil)
	topic := planet + "feed.atom?q=vsan"
	feed := "http://127.0.0.1:9/feed.atom?q=vsan"
	ctx := context.Background()
	if _, err := s.m.Subscribe(ctx, feed, Links{Hubs: []string{th.srv.URL}, Self: topic}); err != nil {
		t.Fatal(err)
	}
	th.h.Wait()
	if sub, _ := s.m.Find(ctx, feed); sub.State != StateActive {
		t.Fatalf("after the hub's verification the subscription is %s, want active", sub.State)
	}
	if _, err := th.h.PublishEach(ctx, renderSearch); err != nil {
		t.Fatal(err)
	}
	th.h.Wait()
	got := s.sink.all()
	if len(got) != 1 || got[0].feed != feed || !strings.Contains(string(got[0].body), "vSAN ESA sizing") || strings.Contains(string(got[0].body), "NSX") {
		t.Fatalf("ingested %+v, want the vsan search's posts once", got)
	}
	if err := s.m.Unsubscribe(ctx, feed); err != nil {
		t.Fatal(err)
	}
	th.h.Wait()
	if len(th.subscriptions(t)) != 0 {
		t.Error("the hub kept the subscription after a verified unsubscription")
	}
}

func BenchmarkHubFanOut(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			store := NewMemoryStore()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusAccepted)
			}))
			defer srv.Close()
			h, err := NewHub(HubConfig{URL: planet + "websub/hub", Store: store, Topic: func(string) bool { return true }, AllowPrivate: true})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			topic := planet + "feed.atom"
			for i := range n {
				store.PutHubSubscription(context.Background(), HubSubscription{Topic: topic, Callback: fmt.Sprintf("%s/cb/%d", srv.URL, i), Secret: randomToken(32), Expires: time.Now().Add(time.Hour)})
			}
			body := readTestdata(b, "atom-hub.xml")
			for b.Loop() {
				h.Publish(context.Background(), topic, Content{Body: body, Type: "application/atom+xml"})
				h.Wait()
			}
			if h.Counters.DeliveryFailures.Load() != 0 {
				b.Fatalf("%d deliveries failed", h.Counters.DeliveryFailures.Load())
			}
		})
	}
}

// BenchmarkPublishToIngest measures the time from the hub's Publish to the
// subscriber's Ingest receiving the verified body, over loopback: push's
// share of "published to searchable", against a polling rhythm of minutes
// to a day.
func BenchmarkPublishToIngest(b *testing.B) {
	got := make(chan struct{}, 1)
	mux := http.NewServeMux()
	subSrv := httptest.NewServer(mux)
	defer subSrv.Close()
	m, err := NewManager(ManagerConfig{Callback: subSrv.URL + "/websub/callback/", Store: NewMemoryStore()})
	if err != nil {
		b.Fatal(err)
	}
	mux.Handle("/websub/callback/{id}", m.Handler(func(context.Context, string, []byte, string) error {
		got <- struct{}{}
		return nil
	}))
	h, err := NewHub(HubConfig{URL: planet + "websub/hub", Store: NewMemoryStore(), Topic: func(string) bool { return true }, AllowPrivate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	hubSrv := httptest.NewServer(h)
	defer hubSrv.Close()
	ctx := context.Background()
	topic := planet + "feed.atom"
	if _, err := m.Subscribe(ctx, "http://127.0.0.1:9/feed.atom", Links{Hubs: []string{hubSrv.URL}, Self: topic}); err != nil {
		b.Fatal(err)
	}
	h.Wait()
	body := readTestdata(b, "atom-hub.xml")
	for b.Loop() {
		if err := h.Publish(ctx, topic, Content{Body: body, Type: "application/atom+xml"}); err != nil {
			b.Fatal(err)
		}
		<-got
	}
	h.Wait()
}

func TestHub_Closed(t *testing.T) {
	th := newTestHub(t, nil)
	sub := newSpecSubscriber(t, "127.0.0.1")
	th.h.Close()
	if status, _ := th.request(t, subscribeForm(planet+"feed.atom", sub.callback("/cb"), "", "")); status != http.StatusServiceUnavailable {
		t.Errorf("a closed hub answered %d, want 503", status)
	}
	if len(sub.verifications()) != 0 {
		t.Error("a closed hub verified a subscription")
	}
}

// TestHub_Section5_2_DeniedWhenFullAfterVerification: when the last place
// is taken while a subscription is verified, the subscriber is told it is
// denied rather than left believing it is subscribed.
func TestHub_Section5_2_DeniedWhenFullAfterVerification(t *testing.T) {
	th := newTestHub(t, func(c *HubConfig) { c.MaxPerTopic = 1 })
	sub := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "feed.atom"
	// The request passed its checks; then another subscriber got the place.
	req := hubRequest{mode: "subscribe", topic: topic, callback: sub.callback("/late"), lease: time.Hour}
	th.store.PutHubSubscription(context.Background(), HubSubscription{Topic: topic, Callback: sub.callback("/first"), Expires: th.clk.Now().Add(time.Hour)})
	th.h.verify(context.Background(), req)
	v := sub.verifications()
	if len(v) != 2 || v[0].Get("hub.mode") != "subscribe" || v[1].Get("hub.mode") != "denied" ||
		v[1].Get("hub.topic") != topic || !strings.Contains(v[1].Get("hub.reason"), "limit") {
		t.Errorf("the subscriber received %v, want a verification then a denial with the reason", v)
	}
	if subs := th.subscriptions(t); len(subs) != 1 || subs[0].Callback != sub.callback("/first") {
		t.Errorf("subscriptions = %+v, want only the first", subs)
	}
}

// TestHub_DeliveryOutlivesRestart: a delivery waiting for its next attempt
// when its hub stops is kept in the store, and the next hub on that store
// (the same process restarted, or a sibling replica) makes it when it is
// due, going on from its attempts; the store forgets it once made.
func TestHub_DeliveryOutlivesRestart(t *testing.T) {
	store, clk := NewMemoryStore(), newClock()
	waiting := make(chan struct{}, 1)
	start := func(sleep func(context.Context, time.Duration) error) *Hub {
		h, err := NewHub(HubConfig{
			URL: planet + "websub/hub", Store: store, AllowPrivate: true, Now: clk.Now, Sleep: sleep,
			Topic: func(topic string) bool { return strings.HasPrefix(topic, planet) },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	// The first hub's waits last until it stops, as a real one's would.
	first := start(func(ctx context.Context, d time.Duration) error {
		waiting <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	sub := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "feed.atom"
	store.PutHubSubscription(context.Background(), HubSubscription{Topic: topic, Callback: sub.callback("/cb"), Secret: "k",
		Expires: clk.Now().Add(24 * time.Hour), Created: clk.Now()})
	sub.script = []int{503}
	body := []byte("<feed><entry><title>kept across restarts</title></entry></feed>")
	if err := first.Publish(context.Background(), topic, Content{Body: body, Type: "application/atom+xml"}); err != nil {
		t.Fatal(err)
	}
	<-waiting // the first attempt failed; it waits 30 s for the second
	first.Close()

	second := start(func(context.Context, time.Duration) error { return nil })
	if n, err := second.Resume(context.Background()); err != nil || n != 0 {
		t.Fatalf("Resume before the second attempt is due = %d, %v; want 0", n, err)
	}
	clk.Add(30 * time.Second)
	if n, err := second.Resume(context.Background()); err != nil || n != 1 {
		t.Fatalf("Resume when due = %d, %v; want 1", n, err)
	}
	second.Wait()
	reqs, bodies := sub.deliveries()
	if len(reqs) != 2 || string(bodies[1]) != string(body) || reqs[1].Header.Get("X-Hub-Signature") != specSign("sha256", "k", body) {
		t.Fatalf("the subscriber received %d requests, want the failed one and then the same content, signed", len(reqs))
	}
	if second.Counters.Deliveries.Load() != 1 || first.Counters.DeliveryFailures.Load() != 0 {
		t.Errorf("delivered %d by the second hub, %d failures by the first; want 1 and 0 (stopping is not failing)",
			second.Counters.Deliveries.Load(), first.Counters.DeliveryFailures.Load())
	}
	clk.Add(time.Hour)
	if left, _ := store.ClaimHubDeliveries(context.Background(), clk.Now(), clk.Now(), 10); len(left) != 0 {
		t.Errorf("%d deliveries left in the store after it was made, want 0", len(left))
	}
}

// TestHub_ResumeDropsEndedSubscriptions: a delivery left for a subscription
// that ended since is dropped, not made.
func TestHub_ResumeDropsEndedSubscriptions(t *testing.T) {
	th := newTestHub(t, nil)
	sub := newSpecSubscriber(t, "127.0.0.1")
	topic := planet + "feed.atom"
	ctx := context.Background()
	th.store.PutHubSubscription(ctx, HubSubscription{Topic: topic, Callback: sub.callback("/cb"), Expires: th.clk.Now().Add(time.Hour)})
	if _, err := th.store.QueueHubDelivery(ctx, Delivery{Topic: topic, Callback: sub.callback("/cb"),
		Content: Content{Body: []byte("<feed/>"), Type: "application/atom+xml"}, Attempts: 2, Held: th.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	th.clk.Add(2 * time.Hour) // the lease ended meanwhile
	if n, err := th.h.Resume(ctx); err != nil || n != 0 {
		t.Errorf("Resume = %d, %v; want 0 started", n, err)
	}
	th.h.Wait()
	if reqs, _ := sub.deliveries(); len(reqs) != 0 {
		t.Errorf("%d deliveries made to an ended subscription, want 0", len(reqs))
	}
	if left, _ := th.store.ClaimHubDeliveries(ctx, th.clk.Now(), th.clk.Now(), 10); len(left) != 0 {
		t.Errorf("%d deliveries left, want 0", len(left))
	}
}

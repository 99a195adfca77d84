package websub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// subscriber is a Manager with its callback served on loopback.
type subscriber struct {
	m     *Manager
	store *MemoryStore
	sink  *sink
	clk   *clock
	srv   *httptest.Server
}

func newSubscriber(t *testing.T, edit func(*ManagerConfig)) *subscriber {
	t.Helper()
	s := &subscriber{store: NewMemoryStore(), sink: &sink{}, clk: newClock()}
	mux := http.NewServeMux()
	s.srv = serveOn(t, "127.0.0.1", mux)
	cfg := ManagerConfig{
		Callback: s.srv.URL + "/websub/callback/",
		Store:    s.store,
		Now:      s.clk.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.m = m
	h := m.Handler(s.sink.ingest)
	mux.Handle("GET /websub/callback/{id}", h)
	mux.Handle("POST /websub/callback/{id}", h)
	return s
}

// A feed served from loopback: under IsPrivate it is private, so its hub
// may be on loopback too.
const testFeed = "http://127.0.0.1:9/feed.xml"
const testTopic = "http://127.0.0.1:9/feed"

func (s *subscriber) subscribe(t *testing.T, hub *specHub) Subscription {
	t.Helper()
	sub, err := s.m.Subscribe(context.Background(), testFeed, Links{Hubs: []string{hub.URL()}, Self: testTopic})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func (s *subscriber) find(t *testing.T) Subscription {
	t.Helper()
	sub, err := s.m.Find(context.Background(), testFeed)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestNewManager_NeedsBaseURL(t *testing.T) {
	for _, cb := range []string{"", "/websub/callback/", "ftp://x/", "http://"} {
		if _, err := NewManager(ManagerConfig{Callback: cb, Store: NewMemoryStore()}); err == nil || !strings.Contains(err.Error(), "--base-url") {
			t.Errorf("NewManager(Callback %q) error = %v, want one naming --base-url", cb, err)
		}
	}
}

func TestSubscribe_Section5_1_Request(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	sub := s.subscribe(t, hub)
	form := hub.last()
	if got := form.Get("hub.mode"); got != "subscribe" {
		t.Errorf("hub.mode = %q, want subscribe", got)
	}
	if got := form.Get("hub.topic"); got != testTopic {
		t.Errorf("hub.topic = %q, want the self URL %q", got, testTopic)
	}
	cb := form.Get("hub.callback")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(s.srv.URL) + `/websub/callback/[0-9a-f]{32}$`).MatchString(cb) {
		t.Errorf("hub.callback = %q, want the base URL's callback route and a 128-bit id", cb)
	}
	if got := form.Get("hub.lease_seconds"); got != "864000" {
		t.Errorf("hub.lease_seconds = %q, want 864000 (10 days)", got)
	}
	secret := form.Get("hub.secret")
	if len(secret) != 64 || len(secret) >= 200 {
		t.Errorf("hub.secret has %d bytes, want 64 (and less than 200)", len(secret))
	}
	if sub.State != StatePending || sub.Secret != secret || sub.Hub != hub.URL() {
		t.Errorf("subscription = %+v, want pending with the secret sent", sub)
	}
	// Another feed: another callback and another secret.
	other, err := s.m.Subscribe(context.Background(), "http://127.0.0.1:9/other.xml", Links{Hubs: []string{hub.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	if other.Secret == sub.Secret || other.ID == sub.ID {
		t.Error("two subscriptions share a secret or a callback")
	}
	if got := hub.last().Get("hub.topic"); got != "http://127.0.0.1:9/other.xml" {
		t.Errorf("without a self link, hub.topic = %q, want the feed URL", got)
	}
}

func TestSubscribe_Idempotent(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	s.subscribe(t, hub)
	s.subscribe(t, hub)
	if n := len(hub.requests()); n != 1 {
		t.Errorf("two Subscribe calls sent %d requests, want 1", n)
	}
	// The feed names another hub: leave the first, subscribe at the second.
	hub2 := newSpecHub(t, "127.0.0.1")
	s.subscribe(t, hub2)
	if got := hub.last().Get("hub.mode"); got != "unsubscribe" {
		t.Errorf("the old hub's last request is %q, want unsubscribe", got)
	}
	if got := hub2.last().Get("hub.mode"); got != "subscribe" {
		t.Errorf("the new hub's request is %q, want subscribe", got)
	}
	// The feed names no hub any more: leave it, and say so.
	if _, err := s.m.Subscribe(context.Background(), testFeed, Links{Self: testTopic}); !errors.Is(err, ErrNoHub) {
		t.Errorf("Subscribe without hubs = %v, want ErrNoHub", err)
	}
	if got := hub2.last().Get("hub.mode"); got != "unsubscribe" {
		t.Errorf("the hub the feed no longer names last got %q, want unsubscribe", got)
	}
}

func TestVerify_Section5_3_Intent(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	s.subscribe(t, hub)
	form := hub.last()

	// Section 5.3.1: anything not asked for is answered 404.
	refusals := []struct {
		name, mode, topic string
		callback          string
	}{
		{"other topic", "subscribe", "http://127.0.0.1:9/elsewhere", ""},
		{"unsubscribe never asked for", "unsubscribe", testTopic, ""},
		{"unknown callback id", "subscribe", testTopic, s.srv.URL + "/websub/callback/0123456789abcdef0123456789abcdef"},
		{"unknown mode", "publish", testTopic, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			f := form
			if tt.callback != "" {
				f = map[string][]string{"hub.callback": {tt.callback}}
			}
			status, echoed := hub.verifyIntent(f, tt.mode, tt.topic, 3600)
			if status != http.StatusNotFound || echoed {
				t.Errorf("answered %d (echoed %v), want 404", status, echoed)
			}
		})
	}
	if got := s.find(t).State; got != StatePending {
		t.Fatalf("after refused verifications state = %s, want pending", got)
	}
	status, echoed := hub.verifyIntent(form, "subscribe", testTopic, 3600)
	if status != http.StatusOK || !echoed {
		t.Fatalf("verification answered %d, echoed %v; want 200 with the challenge", status, echoed)
	}
	sub := s.find(t)
	if want := s.clk.Now().Add(time.Hour); sub.State != StateActive || !sub.Expires.Equal(want) {
		t.Errorf("subscription = %s until %v, want active until %v (the lease the hub granted)", sub.State, sub.Expires, want)
	}
	if got := s.m.Counters.VerifyRejected.Load(); got != int64(len(refusals)) {
		t.Errorf("VerifyRejected = %d, want %d", got, len(refusals))
	}
}

func TestVerify_BeforeTheHubAnswers(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	var echoed bool
	hub.before = func(form url.Values) { _, echoed = hub.verifyIntent(form, "subscribe", form.Get("hub.topic"), 600) }
	s.subscribe(t, hub)
	if !echoed || s.find(t).State != StateActive {
		t.Errorf("a hub verifying before it answers: echoed %v, state %s; want the challenge echoed and active", echoed, s.find(t).State)
	}
}

func TestDenied_Section5_2(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	s.subscribe(t, hub)
	if status := hub.deny(hub.last(), "topic not hosted here"); status/100 != 2 {
		t.Errorf("denial answered %d, want 2xx", status)
	}
	sub := s.find(t)
	if sub.State != StateFailed || !strings.Contains(sub.Reason, "topic not hosted here") {
		t.Errorf("after denial: %s %q, want failed with the hub's reason", sub.State, sub.Reason)
	}
	// Section 5.2: the subscription is then taken as not possible.
	s.clk.Add(30 * 24 * time.Hour)
	s.subscribe(t, hub)
	if n := len(hub.requests()); n != 1 {
		t.Errorf("a denied subscription was asked for again: %d requests, want 1", n)
	}
}

func TestSubscribe_HubRefuses(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	hub.status, hub.body = http.StatusBadRequest, "hub.topic is not allowed"
	_, err := s.m.Subscribe(context.Background(), testFeed, Links{Hubs: []string{hub.URL()}, Self: testTopic})
	if err == nil {
		t.Fatal("Subscribe succeeded at a hub that answered 400")
	}
	sub := s.find(t)
	if sub.State != StateFailed || !strings.Contains(sub.Reason, "400") || !strings.Contains(sub.Reason, "hub.topic is not allowed") {
		t.Errorf("subscription = %s %q, want failed with the status and the hub's words", sub.State, sub.Reason)
	}
	// A failed subscription rests before the next try.
	hub.status = 0
	s.subscribe(t, hub)
	if n := len(hub.requests()); n != 1 {
		t.Errorf("retried at once: %d requests, want 1", n)
	}
	s.clk.Add(7 * time.Hour)
	if sub := s.subscribe(t, hub); sub.State != StatePending {
		t.Errorf("after the rest, state = %s, want pending", sub.State)
	}
}

func TestSubscribe_Section5_1_2_Redirect(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	moved := serveOn(t, "127.0.0.1", http.RedirectHandler(hub.URL(), http.StatusTemporaryRedirect))
	if _, err := s.m.Subscribe(context.Background(), testFeed, Links{Hubs: []string{moved.URL + "/hub"}, Self: testTopic}); err != nil {
		t.Fatal(err)
	}
	if got := hub.last().Get("hub.topic"); got != testTopic {
		t.Errorf("the hub redirected to got hub.topic %q, want %q", got, testTopic)
	}
}

// activeSubscription subscribes and has the hub verify, granting lease.
func activeSubscription(t *testing.T, s *subscriber, hub *specHub, lease int) Subscription {
	t.Helper()
	s.subscribe(t, hub)
	if _, ok := hub.verifyIntent(hub.last(), "subscribe", testTopic, lease); !ok {
		t.Fatal("verification failed")
	}
	return s.find(t)
}

func TestContent_Section7_1_EveryAlgorithm(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	sub := activeSubscription(t, s, hub, 3600)
	cb := hub.last().Get("hub.callback")
	body := readTestdata(t, "atom-hub.xml")
	for i, alg := range []string{"sha1", "sha256", "sha384", "sha512"} {
		t.Run(alg, func(t *testing.T) {
			if status := hub.distribute(cb, body, "application/atom+xml", specSign(alg, sub.Secret, body)); status/100 != 2 {
				t.Fatalf("answered %d, want 2xx", status)
			}
			got := s.sink.all()
			if len(got) != i+1 {
				t.Fatalf("ingested %d bodies, want %d", len(got), i+1)
			}
			p := got[i]
			if p.feed != testFeed || p.contentType != "application/atom+xml" || string(p.body) != string(body) {
				t.Errorf("ingested %s %s (%d bytes), want the listed feed %s, the content type and the body", p.feed, p.contentType, len(p.body), testFeed)
			}
		})
	}
	if got := s.find(t).Pushed; !got.Equal(s.clk.Now()) {
		t.Errorf("Pushed = %v, want %v: the crawler needs to know that pushes arrive", got, s.clk.Now())
	}
}

func TestContent_Section7_1_2_BadOrMissingSignature(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	sub := activeSubscription(t, s, hub, 3600)
	cb := hub.last().Get("hub.callback")
	body := []byte("<feed/>")
	tests := []struct{ name, sig string }{
		{"missing", ""},
		{"wrong secret", specSign("sha256", "not the secret", body)},
		{"another body's", specSign("sha256", sub.Secret, []byte("<feed>forged</feed>"))},
		{"malformed", "sha256:" + strings.Repeat("0", 64)},
		{"unknown algorithm", "md5=" + strings.Repeat("0", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status := hub.distribute(cb, body, "application/atom+xml", tt.sig); status/100 != 2 {
				t.Errorf("answered %d, want 2xx (section 7.1.2)", status)
			}
		})
	}
	if n := len(s.sink.all()); n != 0 {
		t.Errorf("ingested %d unsigned or badly signed bodies, want 0", n)
	}
	if got := s.m.Counters.MissingSignature.Load(); got != 1 {
		t.Errorf("MissingSignature = %d, want 1", got)
	}
	if got := s.m.Counters.BadSignature.Load(); got != int64(len(tests)-1) {
		t.Errorf("BadSignature = %d, want %d", got, len(tests)-1)
	}
}

func TestContent_Limits(t *testing.T) {
	s := newSubscriber(t, func(c *ManagerConfig) { c.MaxBody = 1024 })
	hub := newSpecHub(t, "127.0.0.1")
	sub := activeSubscription(t, s, hub, 3600)
	cb := hub.last().Get("hub.callback")

	big := []byte(strings.Repeat("x", 2048))
	if status := hub.distribute(cb, big, "application/atom+xml", specSign("sha256", sub.Secret, big)); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit answered %d, want 413", status)
	}
	if status := hub.distribute(s.srv.URL+"/websub/callback/ffffffffffffffffffffffffffffffff", big[:10], "text/xml", ""); status != http.StatusGone {
		t.Errorf("content for no subscription answered %d, want 410 (section 7)", status)
	}
	s.sink.fail = errors.New("store is busy")
	small := []byte("<feed/>")
	if status := hub.distribute(cb, small, "application/atom+xml", specSign("sha256", sub.Secret, small)); status/100 != 5 {
		t.Errorf("an ingest failure answered %d, want 5xx so that the hub retries", status)
	}
	c := s.m.Counters.Snapshot()
	if c["too_large"] != 1 || c["unknown"] != 1 || c["ingest_failures"] != 1 || c["delivered"] != 0 {
		t.Errorf("counters = %v", c)
	}
}

func TestRenewDue_Section5_3_1_Renewal(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	const tenDays = 864000
	first := activeSubscription(t, s, hub, tenDays)
	ctx := context.Background()

	s.clk.Add(8 * 24 * time.Hour)
	if n, err := s.m.RenewDue(ctx); n != 0 || err != nil {
		t.Fatalf("8 days into a 10-day lease RenewDue = %d, %v; want 0 renewals", n, err)
	}
	s.clk.Add(24*time.Hour + time.Minute) // within the last tenth of the lease
	if n, err := s.m.RenewDue(ctx); n != 1 || err != nil {
		t.Fatalf("RenewDue = %d, %v; want 1 renewal", n, err)
	}
	renewal := hub.last()
	if renewal.Get("hub.mode") != "subscribe" || renewal.Get("hub.callback") != hub.requests()[0].Get("hub.callback") || renewal.Get("hub.secret") != first.Secret {
		t.Errorf("renewal = %v, want a subscribe with the same callback and secret", renewal)
	}
	// While the hub checks the renewal, pushes signed with the secret
	// still count.
	body := []byte("<feed/>")
	hub.distribute(renewal.Get("hub.callback"), body, "application/atom+xml", specSign("sha1", first.Secret, body))
	if len(s.sink.all()) != 1 {
		t.Error("a push during renewal was not ingested")
	}
	if n, _ := s.m.RenewDue(ctx); n != 0 {
		t.Errorf("a renewal awaiting verification was sent again (%d)", n)
	}
	if _, ok := hub.verifyIntent(renewal, "subscribe", testTopic, tenDays); !ok {
		t.Fatal("renewal not verified")
	}
	if got, want := s.find(t).Expires, s.clk.Now().Add(tenDays*time.Second); !got.Equal(want) {
		t.Errorf("after renewal the lease ends %v, want %v", got, want)
	}
}

// TestRenewDue_ShortLease: a hub may grant a lease of minutes; it is
// renewed halfway, not after the lease has run out.
func TestRenewDue_ShortLease(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	activeSubscription(t, s, hub, 600)
	ctx := context.Background()
	s.clk.Add(4 * time.Minute)
	if n, _ := s.m.RenewDue(ctx); n != 0 {
		t.Errorf("4 minutes into a 10-minute lease: %d renewals, want 0", n)
	}
	s.clk.Add(time.Minute)
	if n, err := s.m.RenewDue(ctx); n != 1 || err != nil {
		t.Fatalf("5 minutes into a 10-minute lease: RenewDue = %d, %v; want 1 renewal", n, err)
	}
	// Not verified: sent again before the lease ends, not after.
	s.clk.Add(150 * time.Second)
	if n, _ := s.m.RenewDue(ctx); n != 1 {
		t.Errorf("an unverified renewal was not sent again: %d", n)
	}
	if got := s.find(t).State; got != StateActive {
		t.Errorf("state = %s, want still active", got)
	}
}

func TestRenewDue_Expiry(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	activeSubscription(t, s, hub, 7200)
	ctx := context.Background()
	// The hub is down when the renewal is due: the subscription stays
	// active until its lease ends, then fails.
	hub.status = http.StatusServiceUnavailable
	s.clk.Add(90 * time.Minute)
	if _, err := s.m.RenewDue(ctx); err == nil {
		t.Error("RenewDue hid the hub's 503")
	}
	if got := s.find(t).State; got != StateActive {
		t.Errorf("before the lease ends state = %s, want active", got)
	}
	s.clk.Add(31 * time.Minute)
	s.m.RenewDue(ctx)
	sub := s.find(t)
	if sub.State != StateFailed || !strings.Contains(sub.Reason, "lease expired") {
		t.Errorf("after the lease: %s %q, want failed, lease expired", sub.State, sub.Reason)
	}

	// A request the hub never verifies fails after VerifyWithin.
	s2 := newSubscriber(t, nil)
	s2.subscribe(t, newSpecHub(t, "127.0.0.1"))
	s2.clk.Add(61 * time.Minute)
	s2.m.RenewDue(ctx)
	if sub := s2.find(t); sub.State != StateFailed || !strings.Contains(sub.Reason, "did not verify") {
		t.Errorf("never verified: %s %q, want failed", sub.State, sub.Reason)
	}
}

func TestUnsubscribe_Section5_1(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	activeSubscription(t, s, hub, 3600)
	cb := hub.last().Get("hub.callback")
	if err := s.m.Unsubscribe(context.Background(), testFeed); err != nil {
		t.Fatal(err)
	}
	form := hub.last()
	if form.Get("hub.mode") != "unsubscribe" || form.Get("hub.topic") != testTopic || form.Get("hub.callback") != cb || form.Has("hub.secret") {
		t.Errorf("unsubscription request = %v", form)
	}
	if got := s.find(t).State; got != StateUnsubscribing {
		t.Errorf("state = %s, want unsubscribing", got)
	}
	if status, ok := hub.verifyIntent(form, "subscribe", testTopic, 3600); ok || status != http.StatusNotFound {
		t.Errorf("a subscribe verification while unsubscribing answered %d, want 404", status)
	}
	if _, ok := hub.verifyIntent(form, "unsubscribe", testTopic, 0); !ok {
		t.Fatal("unsubscription not verified")
	}
	if _, err := s.m.Find(context.Background(), testFeed); !errors.Is(err, ErrNotFound) {
		t.Errorf("after unsubscribing Find = %v, want ErrNotFound", err)
	}
	if status := hub.distribute(cb, []byte("<feed/>"), "application/atom+xml", ""); status != http.StatusGone {
		t.Errorf("a push after unsubscribing answered %d, want 410", status)
	}
}

// TestSubscribe_AddressPolicy: a hub is contacted only where the feed
// naming it could have been fetched.
func TestSubscribe_AddressPolicy(t *testing.T) {
	privateHub := newSpecHub(t, "127.0.0.2")
	tests := []struct {
		name, feed string
		wantErr    error
	}{
		{"public feed, private hub: refused", "http://127.0.0.1:9/feed", ErrPrivateAddress},
		{"private feed, private hub: allowed", "http://127.0.0.2:9/feed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSubscriber(t, func(c *ManagerConfig) { c.Private = onlyLoopback2 })
			before := len(privateHub.requests())
			_, err := s.m.Subscribe(context.Background(), tt.feed, Links{Hubs: []string{privateHub.URL()}})
			sent := len(privateHub.requests()) - before
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || sent != 0 {
					t.Errorf("Subscribe = %v with %d requests at the hub, want %v and none", err, sent, tt.wantErr)
				}
				return
			}
			if err != nil || sent != 1 {
				t.Errorf("Subscribe = %v with %d requests at the hub, want success and 1", err, sent)
			}
		})
	}
}

// TestSubscribe_RedirectIntoPrivate: a public hub that redirects to a
// private address is refused when connecting, after the redirect.
func TestSubscribe_RedirectIntoPrivate(t *testing.T) {
	privateHub := newSpecHub(t, "127.0.0.2")
	public := serveOn(t, "127.0.0.1", http.RedirectHandler(privateHub.URL(), http.StatusPermanentRedirect))
	s := newSubscriber(t, func(c *ManagerConfig) { c.Private = onlyLoopback2 })
	_, err := s.m.Subscribe(context.Background(), "http://127.0.0.1:9/feed", Links{Hubs: []string{public.URL + "/hub"}})
	if !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("Subscribe through a redirect into a private address = %v, want ErrPrivateAddress", err)
	}
	if n := len(privateHub.requests()); n != 0 {
		t.Errorf("the private hub received %d requests, want 0", n)
	}
	if got := s.m.Counters.Refused.Load(); got != 1 {
		t.Errorf("Refused = %d, want 1", got)
	}
}

// TestHandler_MountedOnPrefix: routed without a {id} pattern, the handler
// takes the id from the last path segment.
func TestHandler_MountedOnPrefix(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	sub := s.subscribe(t, hub)
	h := s.m.Handler(s.sink.ingest)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {testTopic}, "hub.challenge": {"c4"}, "hub.lease_seconds": {"60"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/push/"+sub.ID+"?"+q.Encode(), nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "c4" {
		t.Errorf("answered %d %q, want 200 c4", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/push/"+sub.ID, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT answered %d, want 405", rec.Code)
	}
}

// TestVerify_TopicDecoded: section 5.1.1 has hubs decode percent-encoded
// bytes of the topic, so the verification may spell it decoded.
func TestVerify_TopicDecoded(t *testing.T) {
	s := newSubscriber(t, nil)
	hub := newSpecHub(t, "127.0.0.1")
	const encoded = "http://127.0.0.1:9/%7Eblog/feed"
	if _, err := s.m.Subscribe(context.Background(), testFeed, Links{Hubs: []string{hub.URL()}, Self: encoded}); err != nil {
		t.Fatal(err)
	}
	if _, ok := hub.verifyIntent(hub.last(), "subscribe", "http://127.0.0.1:9/~blog/feed", 60); !ok {
		t.Error("a verification naming the decoded topic was refused")
	}
}

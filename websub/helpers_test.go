package websub

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock: leases are tested by moving it, not by
// sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// onlyLoopback2 is a classifier under which 127.0.0.2 is the one private
// address, so a test can have a "public" feed on 127.0.0.1 and a "private"
// hub on 127.0.0.2 while touching nothing beyond loopback.
func onlyLoopback2(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.2") }

// serveOn starts h on a loopback address of its own.
func serveOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil && addr != "127.0.0.1" {
		// Linux answers on all of 127.0.0.0/8; other systems may not.
		t.Skipf("this test needs the loopback address %s, which cannot be listened on here: %v", addr, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// specHub is a hub written from the Recommendation alone, independent of
// this package's Hub: it takes (un)subscription requests (section 5.1),
// verifies intent when the test says so (5.3), denies (5.2) and
// distributes signed content (7, 7.1).
type specHub struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []url.Values
	status int                   // answer to requests; 0 means 202
	body   string                // with a status other than 202
	before func(form url.Values) // runs before the answer, as a hub may verify at once
}

func newSpecHub(t *testing.T, addr string) *specHub {
	h := &specHub{t: t}
	h.srv = serveOn(t, addr, http.HandlerFunc(h.serve))
	return h
}

func (h *specHub) URL() string { return h.srv.URL + "/hub" }

func (h *specHub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") == "" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		http.Error(w, "section 5.1: POST application/x-www-form-urlencoded", http.StatusBadRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.reqs = append(h.reqs, r.PostForm)
	status, body, before := h.status, h.body, h.before
	h.mu.Unlock()
	if before != nil {
		before(r.PostForm)
	}
	if status == 0 {
		status = http.StatusAccepted
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (h *specHub) requests() []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]url.Values(nil), h.reqs...)
}

func (h *specHub) last() url.Values {
	h.t.Helper()
	r := h.requests()
	if len(r) == 0 {
		h.t.Fatal("the hub received no request")
	}
	return r[len(r)-1]
}

// verifyIntent sends the verification of section 5.3 for a request and
// reports the subscriber's status and whether it echoed the challenge.
func (h *specHub) verifyIntent(form url.Values, mode, topic string, lease int) (int, bool) {
	h.t.Helper()
	challenge := rand.Text()
	q := url.Values{"hub.mode": {mode}, "hub.topic": {topic}, "hub.challenge": {challenge}}
	if lease > 0 {
		q.Set("hub.lease_seconds", strconv.Itoa(lease))
	}
	resp, err := http.Get(form.Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.StatusCode/100 == 2 && string(b) == challenge
}

// deny sends the denial of section 5.2.
func (h *specHub) deny(form url.Values, reason string) int {
	h.t.Helper()
	q := url.Values{"hub.mode": {"denied"}, "hub.topic": {form.Get("hub.topic")}, "hub.reason": {reason}}
	resp, err := http.Get(form.Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var specHashes = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}

// specSign computes X-Hub-Signature as section 7.1 describes, with
// crypto/hmac directly rather than this package's Sign.
func specSign(alg, secret string, body []byte) string {
	m := hmac.New(specHashes[alg], []byte(secret))
	m.Write(body)
	return alg + "=" + hex.EncodeToString(m.Sum(nil))
}

// distribute sends a content distribution (section 7) to a callback; an
// empty signature header sends none.
func (h *specHub) distribute(callback string, body []byte, contentType, signature string) int {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, callback, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Link", `<`+h.URL()+`>; rel="hub", <https://elsewhere.example/>; rel="self"`)
	if signature != "" {
		req.Header.Set("X-Hub-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pushed is one body a subscriber's Ingest received.
type pushed struct {
	feed, contentType string
	body              []byte
}

// sink is an Ingest that records what it is given.
type sink struct {
	mu   sync.Mutex
	got  []pushed
	fail error
}

func (s *sink) ingest(_ context.Context, feed string, body []byte, contentType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.got = append(s.got, pushed{feed, contentType, body})
	return nil
}

func (s *sink) all() []pushed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pushed(nil), s.got...)
}

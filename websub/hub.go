package websub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// HubConfig configures a hub.
type HubConfig struct {
	// URL is the hub's own public URL, named in feeds and in the Link
	// header of every delivery (section 7). Required.
	URL   string
	Store HubStore // required
	// Topic reports whether the hub serves topic: vplanet is the hub of its
	// own feeds only. Required.
	Topic func(topic string) bool
	// AllowPrivate lets callbacks be on private, loopback or link-local
	// addresses (--hub-allow-private), for intranets and tests.
	AllowPrivate bool
	// Private classifies addresses; nil means IsPrivate.
	Private Classifier
	// Leases: the default when a subscriber asks for none, and the bounds
	// any asked lease is clamped to (section 5.3.1: no perpetual leases).
	// Zero means 10 days, 5 minutes and 10 days (section 8.2).
	DefaultLease, MinLease, MaxLease time.Duration
	// MaxPerTopic and MaxTotal bound the subscriptions; zero means 1,000
	// and 10,000.
	MaxPerTopic, MaxTotal int
	// Attempts is how many times one delivery is tried; zero means 6.
	// Backoff is the wait before the second attempt, doubled for each
	// later one up to MaxBackoff; zero means 30 seconds and 1 hour, so six
	// attempts span about 15 minutes.
	Attempts            int
	Backoff, MaxBackoff time.Duration
	// Hold is how long past its next attempt a process holds a delivery
	// it is making before another may claim it (Resume): longer than an
	// attempt can take, waiting for a connection slot included. Zero means
	// 5 minutes.
	Hold time.Duration
	// Concurrency bounds requests in flight to subscribers; zero means 16.
	Concurrency int
	// Timeout bounds one request to a subscriber; zero means 15 seconds.
	Timeout time.Duration
	// Now is the clock and Sleep the wait between attempts; nil means the
	// real ones. Sleep returns early with ctx's error when ctx ends.
	Now       func() time.Time
	Sleep     func(ctx context.Context, d time.Duration) error
	UserAgent string
	Logger    *slog.Logger
}

// HubCounters count what the hub did, for /metrics. Each is a monotonic
// counter.
type HubCounters struct {
	Requests         atomic.Int64 // (un)subscription requests received
	Rejected         atomic.Int64 // requests answered 4xx
	PrivateRefused   atomic.Int64 // callbacks refused for a private address
	Verified         atomic.Int64 // intents verified, and acted on
	VerifyFailed     atomic.Int64 // intents the subscriber did not confirm
	Deliveries       atomic.Int64 // content distributions a subscriber took
	DeliveryAttempts atomic.Int64 // requests sent, retries included
	DeliveryFailures atomic.Int64 // content distributions given up after every attempt
	Gone             atomic.Int64 // subscriptions ended by a 410 answer
	Expired          atomic.Int64 // subscriptions whose lease ran out
}

// Snapshot returns the counters by name, the label value /metrics gives
// each.
func (c *HubCounters) Snapshot() map[string]int64 {
	return map[string]int64{
		"requests": c.Requests.Load(), "rejected": c.Rejected.Load(),
		"private_refused": c.PrivateRefused.Load(), "verified": c.Verified.Load(),
		"verify_failed": c.VerifyFailed.Load(), "deliveries": c.Deliveries.Load(),
		"delivery_attempts": c.DeliveryAttempts.Load(), "delivery_failures": c.DeliveryFailures.Load(),
		"gone": c.Gone.Load(), "expired": c.Expired.Load(),
	}
}

// Content is one rendering of a topic to distribute: the body and its
// Content-Type, which must be the topic's (section 7).
type Content struct {
	Body []byte
	Type string
}

// Renderer renders a topic's new content: for vplanet's feeds, the feed
// at the topic URL holding only the posts indexed since the last
// distribution (section 7 lets a hub leave out entries already
// delivered), so a search topic carries only posts that match its search.
// A nil Body means nothing new for that topic.
type Renderer func(ctx context.Context, topic string) (Content, error)

// maxVerifying bounds the verifications of intent waiting or running.
const maxVerifying = 256

// Hub is vplanet as a WebSub hub for its own feeds.
type Hub struct {
	cfg       HubConfig
	client    *http.Client
	log       *slog.Logger
	sem       chan struct{}
	ctx       context.Context // ends with Close; verifications and deliveries run under it
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeMu   sync.Mutex // orders wg.Add before Close's wg.Wait
	closed    bool
	mu        sync.Mutex // serializes the bounds check with the write it guards
	verifying atomic.Int64
	Counters  HubCounters
}

// NewHub returns a hub. Close it to stop its verifications and deliveries.
func NewHub(cfg HubConfig) (*Hub, error) {
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("websub: hub URL %q must be an absolute http or https URL (set --base-url)", cfg.URL)
	}
	if cfg.Store == nil || cfg.Topic == nil {
		return nil, errors.New("websub: a hub needs a store and a topic check")
	}
	if cfg.Private == nil {
		cfg.Private = IsPrivate
	}
	cfg.DefaultLease = cmpOr(cfg.DefaultLease, DefaultLease)
	cfg.MinLease = cmpOr(cfg.MinLease, 5*time.Minute)
	cfg.MaxLease = cmpOr(cfg.MaxLease, DefaultLease)
	cfg.MaxPerTopic = cmpOr(cfg.MaxPerTopic, 1000)
	cfg.MaxTotal = cmpOr(cfg.MaxTotal, 10000)
	cfg.Attempts = cmpOr(cfg.Attempts, 6)
	cfg.Backoff = cmpOr(cfg.Backoff, 30*time.Second)
	cfg.MaxBackoff = cmpOr(cfg.MaxBackoff, time.Hour)
	cfg.Hold = cmpOr(cfg.Hold, 5*time.Minute)
	cfg.Concurrency = cmpOr(cfg.Concurrency, 16)
	cfg.Timeout = cmpOr(cfg.Timeout, 15*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{
		cfg: cfg,
		// Redirects are never followed: a 3xx fails verification and
		// delivery (sections 5.3.1 and 7), and cannot lead inside.
		client: newClient(cfg.Private, cfg.AllowPrivate, cfg.Timeout, false),
		log:    cfg.Logger,
		sem:    make(chan struct{}, cfg.Concurrency),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait blocks until every verification and delivery started so far has
// finished.
func (h *Hub) Wait() { h.wg.Wait() }

// Close stops the verifications and deliveries in flight and waits for
// them.
func (h *Hub) Close() error {
	h.closeMu.Lock()
	h.closed = true
	h.closeMu.Unlock()
	h.cancel()
	h.wg.Wait()
	return nil
}

// goAsync runs f in the background under the hub's context, unless the
// hub is closed; it reports whether f was started.
func (h *Hub) goAsync(f func(ctx context.Context)) bool {
	h.closeMu.Lock()
	defer h.closeMu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f(h.ctx)
	}()
	return true
}

// hubError is a request the hub refuses, with the status and the plain
// text explanation section 5.1.2 asks for.
type hubError struct {
	status int
	msg    string
}

func (e *hubError) Error() string { return e.msg }

// ServeHTTP is the hub's endpoint, "POST /websub/hub": subscription and
// unsubscription requests (section 5.1). A valid request is answered 202
// and verified afterwards; the answer does not depend on the verification
// (section 5.1.2).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "the hub takes POST requests with hub.mode, hub.topic and hub.callback", http.StatusMethodNotAllowed)
		return
	}
	h.Counters.Requests.Add(1)
	req, err := h.parseRequest(w, r)
	if err != nil {
		h.Counters.Rejected.Add(1)
		var he *hubError
		if !errors.As(err, &he) {
			he = &hubError{http.StatusServiceUnavailable, "the hub could not take the request: " + err.Error()}
			h.log.Error("websub hub: request", "err", err)
		}
		http.Error(w, he.msg, he.status)
		return
	}
	// Verifications wait for the hub's connection slots; past a bound,
	// a flood of requests is refused rather than queued without end.
	if h.verifying.Add(1) > int64(maxVerifying) {
		h.verifying.Add(-1)
		h.Counters.Rejected.Add(1)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many subscription requests are being verified; try again in a minute", http.StatusServiceUnavailable)
		return
	}
	started := h.goAsync(func(ctx context.Context) {
		defer h.verifying.Add(-1)
		h.verify(ctx, req)
	})
	if !started {
		h.verifying.Add(-1)
		http.Error(w, "the hub is shutting down; try again later", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// hubRequest is a subscription or unsubscription request that passed the
// checks.
type hubRequest struct {
	mode, topic, callback, secret string
	lease                         time.Duration
}

func (h *Hub) parseRequest(w http.ResponseWriter, r *http.Request) (hubRequest, error) {
	bad := func(format string, a ...any) (hubRequest, error) {
		return hubRequest{}, &hubError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return bad("the body must be application/x-www-form-urlencoded (section 5.1)")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return bad("the form could not be read: %v", err)
	}
	req := hubRequest{
		mode:     r.PostForm.Get("hub.mode"),
		topic:    r.PostForm.Get("hub.topic"),
		callback: r.PostForm.Get("hub.callback"),
		secret:   r.PostForm.Get("hub.secret"),
	}
	if req.mode != "subscribe" && req.mode != "unsubscribe" {
		return bad("hub.mode must be subscribe or unsubscribe, not %q", clip(req.mode))
	}
	if req.topic == "" || !h.cfg.Topic(req.topic) {
		return bad("hub.topic %q is not a feed this hub serves", clip(req.topic))
	}
	cb, err := url.Parse(req.callback)
	if err != nil || (cb.Scheme != "http" && cb.Scheme != "https") || cb.Host == "" {
		return bad("hub.callback %q must be an absolute http or https URL", clip(req.callback))
	}
	if len(req.secret) >= 200 {
		return bad("hub.secret must be less than 200 bytes (section 5.1)")
	}
	// Section 5.1: lease_seconds is ignored for unsubscription.
	req.lease = h.cfg.DefaultLease
	if v := r.PostForm.Get("hub.lease_seconds"); v != "" && req.mode == "subscribe" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return bad("hub.lease_seconds must be a positive whole number of seconds, not %q", clip(v))
		}
		req.lease = time.Duration(min(n, int64(h.cfg.MaxLease/time.Second))) * time.Second
	}
	req.lease = min(max(req.lease, h.cfg.MinLease), h.cfg.MaxLease)
	if !h.cfg.AllowPrivate {
		private, err := hostIsPrivate(r.Context(), req.callback, h.cfg.Private, false)
		if err != nil {
			return bad("hub.callback: %v", err)
		}
		if private {
			h.Counters.PrivateRefused.Add(1)
			return hubRequest{}, &hubError{http.StatusForbidden, "hub.callback " + clip(req.callback) + " is on a private, loopback or link-local address, which this hub does not deliver to"}
		}
	}
	if req.mode == "subscribe" {
		if err := h.checkBounds(r.Context(), req.topic, req.callback); err != nil {
			return hubRequest{}, err
		}
	}
	return req, nil
}

// checkBounds refuses a new subscription when the topic or the hub is
// full. A renewal of an existing subscription always passes.
func (h *Hub) checkBounds(ctx context.Context, topic, callback string) error {
	all, err := h.cfg.Store.FindHubSubscriptions(ctx, "")
	if err != nil {
		return err
	}
	now, perTopic, total := h.cfg.Now(), 0, 0
	for _, s := range all {
		if !now.Before(s.Expires) {
			continue
		}
		if s.Topic == topic && s.Callback == callback {
			return nil
		}
		total++
		if s.Topic == topic {
			perTopic++
		}
	}
	if perTopic >= h.cfg.MaxPerTopic {
		return &hubError{http.StatusForbidden, fmt.Sprintf("the topic has its limit of %d subscriptions", h.cfg.MaxPerTopic)}
	}
	if total >= h.cfg.MaxTotal {
		return &hubError{http.StatusForbidden, fmt.Sprintf("the hub has its limit of %d subscriptions", h.cfg.MaxTotal)}
	}
	return nil
}

// verify is the verification of intent (section 5.3): a GET to the
// callback with a random single-use challenge, which the subscriber must
// echo in a 2xx answer. Only then does the request change anything
// (section 5.1: a failed verification leaves the state as it was).
func (h *Hub) verify(ctx context.Context, req hubRequest) {
	challenge := randomToken(24)
	q := url.Values{"hub.mode": {req.mode}, "hub.topic": {req.topic}, "hub.challenge": {challenge}}
	if req.mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.FormatInt(int64(req.lease/time.Second), 10))
	}
	started := h.cfg.Now()
	if err := h.confirm(ctx, appendQuery(req.callback, q), challenge); err != nil {
		h.Counters.VerifyFailed.Add(1)
		h.log.Info("websub hub: intent not verified", "mode", req.mode, "topic", req.topic, "callback", req.callback, "err", err)
		return
	}
	var err error
	if req.mode == "unsubscribe" {
		err = h.cfg.Store.DeleteHubSubscription(ctx, req.topic, req.callback)
	} else {
		h.mu.Lock()
		err = h.checkBounds(ctx, req.topic, req.callback)
		if err == nil {
			// Section 5.3: the lease counts from the verification request.
			err = h.cfg.Store.PutHubSubscription(ctx, HubSubscription{
				Topic: req.topic, Callback: req.callback, Secret: req.secret,
				Expires: started.Add(req.lease), Created: started,
			})
		}
		h.mu.Unlock()
	}
	var full *hubError
	if errors.As(err, &full) {
		// Another subscription took the last place while this one was
		// verified. Section 5.2: a denied subscriber is told so.
		h.Counters.Rejected.Add(1)
		h.deny(ctx, req, full.msg)
		return
	}
	if err != nil {
		h.Counters.VerifyFailed.Add(1)
		h.log.Error("websub hub: save subscription", "topic", req.topic, "callback", req.callback, "err", err)
		return
	}
	h.Counters.Verified.Add(1)
}

// deny tells a subscriber its subscription is denied (section 5.2). The
// answer does not matter.
func (h *Hub) deny(ctx context.Context, req hubRequest, reason string) {
	q := url.Values{"hub.mode": {"denied"}, "hub.topic": {req.topic}, "hub.reason": {reason}}
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, appendQuery(req.callback, q), nil)
	if err != nil {
		return
	}
	resp, err := h.client.Do(r)
	if err != nil {
		h.log.Info("websub hub: denial not delivered", "callback", req.callback, "err", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

func (h *Hub) confirm(ctx context.Context, callback, challenge string) error {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callback, nil)
	if err != nil {
		return err
	}
	if h.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", h.cfg.UserAgent)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return &httpStatusError{status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(challenge))+1))
	if err != nil {
		return err
	}
	if string(body) != challenge {
		return errors.New("the answer did not echo hub.challenge")
	}
	return nil
}

// appendQuery adds q to callback's own query, keeping it (section 5.1.1:
// the hub appends its parameters with &).
func appendQuery(callback string, q url.Values) string {
	u, err := url.Parse(callback)
	if err != nil {
		return callback
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + q.Encode()
	} else {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Publish distributes c to every subscriber of topic whose lease has not
// ended, and drops those whose lease has. Each delivery is kept in the
// store before it is tried, then runs in the background, retried with
// backoff; Wait waits for them, and Resume takes over those a stopped
// process left.
func (h *Hub) Publish(ctx context.Context, topic string, c Content) error {
	subs, err := h.active(ctx, topic)
	if err != nil {
		return err
	}
	return h.queue(ctx, subs, c)
}

// queue keeps a delivery of c to each of subs in the store, then starts
// them.
func (h *Hub) queue(ctx context.Context, subs []HubSubscription, c Content) error {
	now := h.cfg.Now()
	for _, s := range subs {
		d := Delivery{Topic: s.Topic, Callback: s.Callback, Content: c, Held: now.Add(h.cfg.Hold), Created: now}
		id, err := h.cfg.Store.QueueHubDelivery(ctx, d)
		if err != nil {
			return fmt.Errorf("websub hub: queue a delivery to %s: %w", s.Callback, err)
		}
		d.ID = id
		h.goAsync(func(ctx context.Context) { h.deliver(ctx, s, d) })
	}
	return nil
}

// Resume takes over the deliveries whose holder stopped holding them (a
// process that stopped while a delivery waited for its next attempt), a
// batch at a time, and makes them, going on from their attempts. serve
// calls it at start and every minute. A delivery whose subscription has
// ended is dropped. It returns how many it started.
func (h *Hub) Resume(ctx context.Context) (int, error) {
	now := h.cfg.Now()
	ds, err := h.cfg.Store.ClaimHubDeliveries(ctx, now, now.Add(h.cfg.Hold), resumeBatch)
	if err != nil {
		return 0, fmt.Errorf("websub hub: claim deliveries: %w", err)
	}
	started := 0
	subs := map[string][]HubSubscription{}
	for _, d := range ds {
		if _, ok := subs[d.Topic]; !ok {
			if subs[d.Topic], err = h.cfg.Store.FindHubSubscriptions(ctx, d.Topic); err != nil {
				return started, fmt.Errorf("websub hub: resume deliveries: %w", err)
			}
		}
		i := slices.IndexFunc(subs[d.Topic], func(s HubSubscription) bool { return s.Callback == d.Callback })
		if i < 0 || !now.Before(subs[d.Topic][i].Expires) {
			if err := h.cfg.Store.FinishHubDelivery(ctx, d.ID); err != nil {
				return started, fmt.Errorf("websub hub: drop a delivery: %w", err)
			}
			continue
		}
		s := subs[d.Topic][i]
		if h.goAsync(func(ctx context.Context) { h.deliver(ctx, s, d) }) {
			started++
		}
	}
	return started, nil
}

// resumeBatch bounds the deliveries one Resume takes, so that one process
// restarting after a long outage does not take every delivery from its
// siblings; the next Resume takes more.
const resumeBatch = 100

// PublishEach asks render for the new content of every topic that has
// subscribers and distributes what it renders. serve calls it after each
// round of indexing. It returns how many topics had something to send.
func (h *Hub) PublishEach(ctx context.Context, render Renderer) (int, error) {
	all, err := h.active(ctx, "")
	if err != nil {
		return 0, err
	}
	byTopic := map[string][]HubSubscription{}
	var topics []string
	for _, s := range all {
		if _, ok := byTopic[s.Topic]; !ok {
			topics = append(topics, s.Topic)
		}
		byTopic[s.Topic] = append(byTopic[s.Topic], s)
	}
	sent := 0
	var errs []error
	for _, topic := range topics {
		c, err := render(ctx, topic)
		if err != nil {
			errs = append(errs, fmt.Errorf("websub hub: render %s: %w", topic, err))
			continue
		}
		if c.Body == nil {
			continue
		}
		sent++
		if err := h.queue(ctx, byTopic[topic], c); err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// active returns topic's subscriptions (every topic's when empty) whose
// lease runs, deleting the others: section 5.3.1 has hubs enforce lease
// expirations.
func (h *Hub) active(ctx context.Context, topic string) ([]HubSubscription, error) {
	subs, err := h.cfg.Store.FindHubSubscriptions(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("websub hub: subscriptions: %w", err)
	}
	now := h.cfg.Now()
	live := subs[:0]
	for _, s := range subs {
		if now.Before(s.Expires) {
			live = append(live, s)
			continue
		}
		h.Counters.Expired.Add(1)
		if err := h.cfg.Store.DeleteHubSubscription(ctx, s.Topic, s.Callback); err != nil {
			return nil, fmt.Errorf("websub hub: drop expired subscription: %w", err)
		}
	}
	return live, nil
}

// deliver makes the delivery d to the subscriber s (section 7), going on
// from the attempts d made, retrying failures with a doubling backoff up
// to the configured attempts. A 410 ends the subscription; any other
// failure leaves it until its lease ends, as section 7 requires. Before
// each wait the store learns the attempts and the hold, so a process that
// stops leaves the delivery for Resume; the store forgets it once it is
// delivered or given up.
func (h *Hub) deliver(ctx context.Context, s HubSubscription, d Delivery) {
	for attempt := d.Attempts + 1; ; attempt++ {
		err := h.post(ctx, s, d.Content)
		if err == nil {
			h.Counters.Deliveries.Add(1)
			h.finish(ctx, d)
			return
		}
		if ctx.Err() != nil {
			// Stopping: the attempt does not count, and Resume makes it
			// again once the hold ends.
			return
		}
		var se *httpStatusError
		if errors.As(err, &se) && se.status == http.StatusGone {
			h.Counters.Gone.Add(1)
			// The subscription's deliveries go with it.
			if err := h.cfg.Store.DeleteHubSubscription(ctx, s.Topic, s.Callback); err != nil {
				h.log.Error("websub hub: drop gone subscription", "callback", s.Callback, "err", err)
			}
			return
		}
		// A refused address will be refused again: no retry.
		if attempt >= h.cfg.Attempts || errors.Is(err, ErrPrivateAddress) {
			h.Counters.DeliveryFailures.Add(1)
			h.log.Warn("websub hub: delivery failed", "topic", s.Topic, "callback", s.Callback, "attempts", attempt, "err", err)
			h.finish(ctx, d)
			return
		}
		wait := h.backoff(attempt)
		due := h.cfg.Now().Add(wait)
		if err := h.cfg.Store.HoldHubDelivery(ctx, d.ID, attempt, due.Add(h.cfg.Hold)); err != nil {
			h.log.Warn("websub hub: record a delivery's attempt", "callback", s.Callback, "err", err)
		}
		if h.cfg.Sleep(ctx, wait) != nil {
			// Stopping while it waits: a sibling may take it when due.
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			h.cfg.Store.HoldHubDelivery(release, d.ID, attempt, due)
			cancel()
			return
		}
	}
}

// backoff is the wait after the attempt-th failed attempt: Backoff, doubled
// for each attempt before, up to MaxBackoff.
func (h *Hub) backoff(attempt int) time.Duration {
	wait := h.cfg.Backoff
	for i := 1; i < attempt && wait < h.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, h.cfg.MaxBackoff)
}

// finish forgets a delivery made or given up.
func (h *Hub) finish(ctx context.Context, d Delivery) {
	// Made is made, even when the hub is stopping.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := h.cfg.Store.FinishHubDelivery(ctx, d.ID); err != nil {
		// It will be made again after its hold: a duplicate, which
		// subscribers take (section 7 asks nothing more of hubs).
		h.log.Warn("websub hub: forget a made delivery", "callback", d.Callback, "err", err)
	}
}

func (h *Hub) post(ctx context.Context, s HubSubscription, c Content) error {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	h.Counters.DeliveryAttempts.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Callback, bytes.NewReader(c.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", c.Type)
	req.Header.Set("Link", LinkHeader(h.cfg.URL, s.Topic))
	if s.Secret != "" {
		sig, _ := Sign("sha256", s.Secret, c.Body)
		req.Header.Set("X-Hub-Signature", sig)
	}
	if h.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", h.cfg.UserAgent)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Section 7: the answer's body is ignored.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return &httpStatusError{status: resp.StatusCode}
	}
	return nil
}

// LinkHeader is the Link header value a feed served by vplanet carries to
// name its hub and its canonical URL (section 4), so that subscribers can
// discover them without reading the body.
func LinkHeader(hub, self string) string {
	return FormatLinkHeader([]Link{{URL: hub, Rels: []string{"hub"}}, {URL: self, Rels: []string{"self"}}})
}

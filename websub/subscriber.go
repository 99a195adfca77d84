package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of ManagerConfig.
const (
	// DefaultLease is the lease asked of hubs: the 10 days section 8.2
	// calls a good default.
	DefaultLease = 10 * 24 * time.Hour
	// DefaultMaxBody bounds a pushed body like a fetched one.
	DefaultMaxBody = 16 << 20
)

// ManagerConfig configures a subscriber.
type ManagerConfig struct {
	// Callback is the URL prefix under which hubs reach the callback
	// handler, the public --base-url joined with the callback route
	// ("https://planet.example.org/websub/callback/"); a subscription's
	// callback is Callback followed by its id. Required.
	Callback string
	Store    Store // required
	// Private classifies addresses; nil means IsPrivate.
	Private Classifier
	// Lease is the hub.lease_seconds asked for; zero means DefaultLease.
	Lease time.Duration
	// RenewBefore is how long before the lease ends RenewDue renews; zero
	// means a tenth of the lease granted, at least one hour, at most half
	// (a hub may grant leases of minutes).
	RenewBefore time.Duration
	// VerifyWithin is how long a hub has to verify a request before it is
	// taken to have failed; zero means one hour.
	VerifyWithin time.Duration
	// RetryFailed is how long a failed subscription rests before Subscribe
	// tries again; zero means six hours.
	RetryFailed time.Duration
	// MaxBody bounds a content distribution's body; zero means
	// DefaultMaxBody.
	MaxBody int64
	// Timeout bounds one request to a hub; zero means 30 seconds.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now       func() time.Time
	UserAgent string
	Logger    *slog.Logger
}

// SubscriberCounters count what the subscriber did, for /metrics. Each is
// a monotonic counter.
type SubscriberCounters struct {
	Requests         atomic.Int64 // subscription requests sent
	Unsubscribes     atomic.Int64 // unsubscription requests sent
	RequestFailures  atomic.Int64 // requests a hub refused or that did not reach it
	Refused          atomic.Int64 // hubs not contacted: the address policy forbade them
	Verified         atomic.Int64 // verifications of intent answered with the challenge
	VerifyRejected   atomic.Int64 // verifications answered 404: not asked for
	Denied           atomic.Int64 // subscriptions the hub denied (section 5.2)
	Expired          atomic.Int64 // leases or pending requests that ran out
	Renewals         atomic.Int64 // renewals sent before a lease's end
	Delivered        atomic.Int64 // content distributions handed to Ingest
	BadSignature     atomic.Int64 // ignored: signature wrong or malformed
	MissingSignature atomic.Int64 // ignored: no signature
	TooLarge         atomic.Int64 // refused: body over the limit
	Unknown          atomic.Int64 // deliveries for no subscription, answered 410
	IngestFailures   atomic.Int64 // verified bodies Ingest failed on
}

// Snapshot returns the counters by name, the label value /metrics gives
// each.
func (c *SubscriberCounters) Snapshot() map[string]int64 {
	return map[string]int64{
		"requests": c.Requests.Load(), "unsubscribes": c.Unsubscribes.Load(),
		"request_failures": c.RequestFailures.Load(), "refused": c.Refused.Load(),
		"verified": c.Verified.Load(), "verify_rejected": c.VerifyRejected.Load(),
		"denied": c.Denied.Load(), "expired": c.Expired.Load(), "renewals": c.Renewals.Load(),
		"delivered": c.Delivered.Load(), "bad_signature": c.BadSignature.Load(),
		"missing_signature": c.MissingSignature.Load(), "too_large": c.TooLarge.Load(),
		"unknown": c.Unknown.Load(), "ingest_failures": c.IngestFailures.Load(),
	}
}

// reasonDenied starts the Reason of a subscription the hub denied.
const reasonDenied = "denied by the hub"

// Manager is vplanet as a WebSub subscriber: it subscribes feeds to the
// hubs they name, answers the hubs' verifications, renews leases and takes
// content distributions.
type Manager struct {
	cfg      ManagerConfig
	public   *http.Client // for hubs of public feeds: private addresses refused
	any      *http.Client // for hubs of feeds served from private addresses
	log      *slog.Logger
	Counters SubscriberCounters
}

// NewManager returns a subscriber. It fails when cfg.Callback is not an
// absolute http or https URL: without an address hubs can reach, there is
// nothing to subscribe with.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	u, err := url.Parse(cfg.Callback)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("websub: callback %q must be an absolute http or https URL (set --base-url)", cfg.Callback)
	}
	if !strings.HasSuffix(cfg.Callback, "/") {
		cfg.Callback += "/"
	}
	if cfg.Store == nil {
		return nil, errors.New("websub: a store is required")
	}
	if cfg.Private == nil {
		cfg.Private = IsPrivate
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.VerifyWithin <= 0 {
		cfg.VerifyWithin = time.Hour
	}
	if cfg.RetryFailed <= 0 {
		cfg.RetryFailed = 6 * time.Hour
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		cfg:    cfg,
		public: newClient(cfg.Private, false, cfg.Timeout, true),
		any:    newClient(cfg.Private, true, cfg.Timeout, true),
		log:    cfg.Logger,
	}, nil
}

// Subscribe makes sure the feed listed as feed is subscribed at a hub that
// links names, to the topic links.Self (the feed URL itself when the feed
// names no self link). The crawler calls it after every fetch of a feed
// that names a hub: it sends a request only when the feed has no
// subscription, when the hub or topic changed, or when a failed one has
// rested RetryFailed. A hub is contacted only where the feed could have
// been fetched: a private hub only for a feed served from a private address.
func (m *Manager) Subscribe(ctx context.Context, feed string, links Links) (Subscription, error) {
	now := m.cfg.Now()
	topic := links.Self
	if topic == "" {
		topic = feed
	}
	old, err := m.cfg.Store.FindFeedSubscription(ctx, feed)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Subscription{}, fmt.Errorf("websub: subscribe %s: %w", feed, err)
	case old.Topic == topic && contains(links.Hubs, old.Hub):
		switch old.State {
		case StateActive, StatePending, StateUnsubscribing:
			return old, nil
		case StateFailed:
			// Section 5.2: after a denial the subscription is taken as
			// not possible; only another hub or topic is tried.
			if strings.HasPrefix(old.Reason, reasonDenied) || now.Sub(old.Updated) < m.cfg.RetryFailed {
				return old, nil
			}
		}
	default:
		// The feed moved to another hub or topic: leave the old one. A
		// feed has one subscription, so the new one below replaces the
		// old record; the old hub's verification of the unsubscription
		// is then refused, and its pushes are answered 410 Gone, which
		// ends the subscription there too (section 7).
		if old.State == StateActive || old.State == StatePending {
			_ = m.unsubscribe(ctx, old)
		}
	}
	if len(links.Hubs) == 0 {
		return Subscription{}, fmt.Errorf("websub: subscribe %s: %w", feed, ErrNoHub)
	}
	client, private, err := m.clientFor(ctx, feed)
	if err != nil {
		return Subscription{}, fmt.Errorf("websub: subscribe %s: %w", feed, err)
	}
	hub := ""
	for _, h := range links.Hubs {
		ok, err := m.hubAllowed(ctx, h, private)
		if err == nil && ok {
			hub = h
			break
		}
	}
	if hub == "" {
		m.Counters.Refused.Add(1)
		return Subscription{}, fmt.Errorf("websub: subscribe %s: %w: every hub it names (%s) is on a private address or cannot be resolved, and the feed is public", feed, ErrPrivateAddress, strings.Join(links.Hubs, ", "))
	}
	s := Subscription{
		ID: randomToken(16), Feed: feed, Topic: topic, Hub: hub,
		Secret: randomToken(32), State: StatePending, Asked: now, Updated: now,
	}
	// Stored before the request: a hub may verify before it answers.
	if err := m.cfg.Store.PutSubscription(ctx, s); err != nil {
		return Subscription{}, fmt.Errorf("websub: subscribe %s: %w", feed, err)
	}
	m.Counters.Requests.Add(1)
	return m.request(ctx, client, s, "subscribe")
}

// request sends s's (un)subscription request (section 5.1) and records a
// refusal as the subscription's failure.
func (m *Manager) request(ctx context.Context, client *http.Client, s Subscription, mode string) (Subscription, error) {
	form := url.Values{
		"hub.mode":     {mode},
		"hub.topic":    {s.Topic},
		"hub.callback": {m.cfg.Callback + s.ID},
	}
	if mode == "subscribe" {
		form.Set("hub.lease_seconds", strconv.FormatInt(int64(m.cfg.Lease/time.Second), 10))
		form.Set("hub.secret", s.Secret)
	}
	err := m.post(ctx, client, s.Hub, form)
	if err == nil {
		return s, nil
	}
	m.Counters.RequestFailures.Add(1)
	if errors.Is(err, ErrPrivateAddress) {
		m.Counters.Refused.Add(1)
	}
	err = fmt.Errorf("websub: %s %s at %s: %w", mode, s.Topic, s.Hub, err)
	if mode == "subscribe" && s.State != StateActive {
		s.State, s.Reason, s.Updated = StateFailed, err.Error(), m.cfg.Now()
		if perr := m.cfg.Store.PutSubscription(ctx, s); perr != nil {
			return s, errors.Join(err, perr)
		}
	}
	return s, err
}

// post sends a request to a hub. Section 8.2: a subscriber favours the
// HTTPS URL of a hub even when it is advertised as HTTP, so the secret does
// not cross the network in the clear; the HTTP URL is tried only when the
// HTTPS one does not take the request.
func (m *Manager) post(ctx context.Context, client *http.Client, hub string, form url.Values) error {
	if u, err := url.Parse(hub); err == nil && u.Scheme == "http" {
		u.Scheme = "https"
		err := m.postOnce(ctx, client, u.String(), form)
		if err == nil || errors.Is(err, ErrPrivateAddress) || ctx.Err() != nil {
			return err
		}
	}
	return m.postOnce(ctx, client, hub, form)
}

func (m *Manager) postOnce(ctx context.Context, client *http.Client, hub string, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if m.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", m.cfg.UserAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Section 5.1.2: 202 Accepted; any success is taken as acceptance.
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &httpStatusError{status: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil
}

// clientFor returns the client allowed to reach the hubs of feed, and
// whether the feed is served from a private address. A feed counts as
// private only when every address its host resolves to is private.
func (m *Manager) clientFor(ctx context.Context, feed string) (*http.Client, bool, error) {
	private, err := hostIsPrivate(ctx, feed, m.cfg.Private, true)
	if err != nil {
		return nil, false, err
	}
	if private {
		return m.any, true, nil
	}
	return m.public, false, nil
}

// hubAllowed is the early, friendly form of the policy the public client
// enforces at connect time: a public feed's hub must not resolve to a
// private address.
func (m *Manager) hubAllowed(ctx context.Context, hub string, feedPrivate bool) (bool, error) {
	if feedPrivate {
		return true, nil
	}
	private, err := hostIsPrivate(ctx, hub, m.cfg.Private, false)
	return !private, err
}

// Unsubscribe asks the hub to end the feed's subscription, when the feed
// left feeds.txt. The subscription is kept, unsubscribing, until the hub
// verifies; when the request cannot be sent it is deleted at once, and the
// hub's deliveries are answered 410 Gone until its lease runs out.
func (m *Manager) Unsubscribe(ctx context.Context, feed string) error {
	s, err := m.cfg.Store.FindFeedSubscription(ctx, feed)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("websub: unsubscribe %s: %w", feed, err)
	}
	return m.unsubscribe(ctx, s)
}

func (m *Manager) unsubscribe(ctx context.Context, s Subscription) error {
	if s.State == StateFailed {
		return m.cfg.Store.DeleteSubscription(ctx, s.ID)
	}
	s.State, s.Asked, s.Updated = StateUnsubscribing, m.cfg.Now(), m.cfg.Now()
	if err := m.cfg.Store.PutSubscription(ctx, s); err != nil {
		return fmt.Errorf("websub: unsubscribe %s: %w", s.Feed, err)
	}
	m.Counters.Unsubscribes.Add(1)
	client, _, err := m.clientFor(ctx, s.Feed)
	if err == nil {
		_, err = m.request(ctx, client, s, "unsubscribe")
	}
	if err != nil {
		if derr := m.cfg.Store.DeleteSubscription(ctx, s.ID); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	return nil
}

// RenewDue renews every active subscription whose lease ends within
// RenewBefore (section 5.3.1: the subscriber must re-request before the
// lease ends), and marks failed the leases that ran out and the requests a
// hub never verified. serve calls it on a schedule, hourly or so. It
// returns how many renewals it sent.
func (m *Manager) RenewDue(ctx context.Context) (int, error) {
	subs, err := m.cfg.Store.FindSubscriptions(ctx)
	if err != nil {
		return 0, fmt.Errorf("websub: renew: %w", err)
	}
	now := m.cfg.Now()
	renewed := 0
	var errs []error
	for _, s := range subs {
		switch {
		case s.State == StateActive && !now.Before(s.Expires):
			s.State, s.Reason, s.Updated = StateFailed, "lease expired at "+s.Expires.UTC().Format(time.RFC3339)+" without renewal", now
			m.Counters.Expired.Add(1)
			errs = append(errs, m.cfg.Store.PutSubscription(ctx, s))
		case (s.State == StatePending || s.State == StateUnsubscribing) && now.Sub(s.Asked) >= m.cfg.VerifyWithin:
			m.Counters.Expired.Add(1)
			if s.State == StateUnsubscribing {
				errs = append(errs, m.cfg.Store.DeleteSubscription(ctx, s.ID))
				continue
			}
			s.State, s.Reason, s.Updated = StateFailed, "the hub did not verify the subscription within "+m.cfg.VerifyWithin.String(), now
			errs = append(errs, m.cfg.Store.PutSubscription(ctx, s))
		case s.State == StateActive && s.Expires.Sub(now) <= m.renewBefore(s) && now.Sub(s.Asked) >= m.resend(s):
			// The same id and secret: deliveries signed with the current
			// secret keep verifying while the hub checks the renewal.
			client, _, err := m.clientFor(ctx, s.Feed)
			if err != nil {
				errs = append(errs, fmt.Errorf("websub: renew %s: %w", s.Feed, err))
				continue
			}
			s.Asked, s.Updated = now, now
			if err := m.cfg.Store.PutSubscription(ctx, s); err != nil {
				errs = append(errs, err)
				continue
			}
			m.Counters.Renewals.Add(1)
			renewed++
			if _, err := m.request(ctx, client, s, "subscribe"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return renewed, errors.Join(errs...)
}

// renewBefore is how long before s's lease ends it is renewed. The lease
// is counted from Asked, which the verification sets.
func (m *Manager) renewBefore(s Subscription) time.Duration {
	if m.cfg.RenewBefore > 0 {
		return m.cfg.RenewBefore
	}
	lease := s.Expires.Sub(s.Asked)
	return min(max(lease/10, time.Hour), lease/2)
}

// resend is how long a renewal waits for its verification before it is
// sent again: VerifyWithin, or less for a lease too short to wait that
// long.
func (m *Manager) resend(s Subscription) time.Duration {
	return min(m.cfg.VerifyWithin, s.Expires.Sub(s.Asked)/2)
}

// Find returns the feed's subscription, for `vplanet feeds` and
// /blogs/{id}; ErrNotFound when it has none.
func (m *Manager) Find(ctx context.Context, feed string) (Subscription, error) {
	return m.cfg.Store.FindFeedSubscription(ctx, feed)
}

// Handler returns the callback handler, to be routed at the Callback URL
// followed by a subscription id: "GET /websub/callback/{id}" and "POST
// /websub/callback/{id}". GET is the hub's verification of intent (section
// 5.3) or denial (5.2); POST is content distribution (section 7), whose
// verified body goes to ingest.
func (m *Manager) Handler(ingest Ingest) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if id == "" {
			id = path.Base(r.URL.Path)
		}
		switch r.Method {
		case http.MethodGet:
			m.handleVerify(w, r, id)
		case http.MethodPost:
			m.handleContent(w, r, id, ingest)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// handleVerify answers a verification of intent with the challenge only
// for a request this subscriber made and still wants (section 5.3.1): the
// id must be a subscription, the topic its topic, and the mode the one it
// asked for. Anything else is answered 404.
func (m *Manager) handleVerify(w http.ResponseWriter, r *http.Request, id string) {
	ctx := r.Context()
	q := r.URL.Query()
	mode, topic, challenge := q.Get("hub.mode"), q.Get("hub.topic"), q.Get("hub.challenge")
	s, err := m.cfg.Store.FindSubscription(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		m.log.Error("websub: verification", "err", err)
		http.Error(w, "the subscription could not be read", http.StatusServiceUnavailable)
		return
	}
	known := err == nil && sameURL(topic, s.Topic)
	now := m.cfg.Now()
	switch {
	case known && mode == "denied":
		m.Counters.Denied.Add(1)
		s.State, s.Updated = StateFailed, now
		s.Reason = reasonDenied
		if reason := q.Get("hub.reason"); reason != "" {
			s.Reason += ": " + clip(reason)
		}
		if err := m.cfg.Store.PutSubscription(ctx, s); err != nil {
			m.log.Error("websub: denial", "feed", s.Feed, "err", err)
		}
		w.WriteHeader(http.StatusOK)
		return
	case known && challenge != "" && mode == "subscribe" && (s.State == StatePending || s.State == StateActive):
		// Section 5.3: hub.lease_seconds is required with subscribe; a hub
		// that leaves it out is taken to grant what was asked.
		lease := m.cfg.Lease
		if n, err := strconv.ParseInt(q.Get("hub.lease_seconds"), 10, 64); err == nil && n > 0 && n < 1<<31 {
			lease = time.Duration(n) * time.Second
		}
		s.State, s.Reason, s.Expires, s.Updated = StateActive, "", now.Add(lease), now
		// The renewal clock counts from the verification.
		s.Asked = now
		if err := m.cfg.Store.PutSubscription(ctx, s); err != nil {
			m.log.Error("websub: verification", "feed", s.Feed, "err", err)
			http.Error(w, "the subscription could not be saved", http.StatusServiceUnavailable)
			return
		}
	case known && challenge != "" && mode == "unsubscribe" && s.State == StateUnsubscribing:
		if err := m.cfg.Store.DeleteSubscription(ctx, s.ID); err != nil {
			m.log.Error("websub: verification", "feed", s.Feed, "err", err)
			http.Error(w, "the subscription could not be deleted", http.StatusServiceUnavailable)
			return
		}
	default:
		m.Counters.VerifyRejected.Add(1)
		http.Error(w, "no such pending request", http.StatusNotFound)
		return
	}
	m.Counters.Verified.Add(1)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, challenge)
}

// handleContent takes a content distribution. A body that is not signed
// with the subscription's secret is answered 2xx, as section 7.1.2 allows,
// so a forger learns nothing, and is ignored and counted. The Link headers
// are not used to find the subscription (section 7): the callback id is.
func (m *Manager) handleContent(w http.ResponseWriter, r *http.Request, id string, ingest Ingest) {
	ctx := r.Context()
	s, err := m.cfg.Store.FindSubscription(ctx, id)
	if errors.Is(err, ErrNotFound) {
		// Section 7: 410 tells the hub the subscription is gone.
		m.Counters.Unknown.Add(1)
		http.Error(w, "no such subscription", http.StatusGone)
		return
	}
	if err != nil {
		m.log.Error("websub: content distribution", "err", err)
		http.Error(w, "the subscription could not be read", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, m.cfg.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			m.Counters.TooLarge.Add(1)
			m.log.Warn("websub: pushed body too large", "feed", s.Feed, "limit", m.cfg.MaxBody)
			http.Error(w, fmt.Sprintf("body larger than %d bytes", m.cfg.MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "body could not be read", http.StatusBadRequest)
		return
	}
	if err := Verify(r.Header.Get("X-Hub-Signature"), s.Secret, body); err != nil {
		if errors.Is(err, ErrNoSignature) {
			m.Counters.MissingSignature.Add(1)
		} else {
			m.Counters.BadSignature.Add(1)
		}
		m.log.Warn("websub: content distribution ignored", "feed", s.Feed, "hub", s.Hub, "err", err)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := ingest(ctx, s.Feed, body, r.Header.Get("Content-Type")); err != nil {
		m.Counters.IngestFailures.Add(1)
		m.log.Error("websub: ingest pushed feed", "feed", s.Feed, "err", err)
		// A failure may be passing (the store busy): 5xx lets the hub
		// retry, which section 7 asks it to.
		http.Error(w, "the content could not be stored", http.StatusInternalServerError)
		return
	}
	m.Counters.Delivered.Add(1)
	// The crawler polls a feed that is pushed to more slowly, and falls
	// back to its rhythm when pushes stop; this is how it knows.
	// Read again: ingesting takes time, and a renewal or an unsubscription
	// may have changed the subscription meanwhile.
	if now, err := m.cfg.Store.FindSubscription(ctx, id); err == nil {
		now.Pushed = m.cfg.Now()
		if err := m.cfg.Store.PutSubscription(ctx, now); err != nil {
			m.log.Error("websub: record push", "feed", s.Feed, "err", err)
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sameURL compares topic URLs as section 5.1.1 has hubs read them: with
// percent-encoded bytes decoded, so a hub that normalizes "%7E" to "~" is
// still recognized.
func sameURL(a, b string) bool {
	if a == b {
		return true
	}
	ua, err1 := url.PathUnescape(a)
	ub, err2 := url.PathUnescape(b)
	return err1 == nil && err2 == nil && ua == ub
}

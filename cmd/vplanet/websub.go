package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vplanet"
	"vplanet/crawler"
	"vplanet/server"
	"vplanet/store"
	"vplanet/websub"
)

// push is serve's WebSub: the subscriber of the blogs' hubs and the hub of
// vplanet's own feeds. Both exist only with --base-url, the operator's
// statement that hubs and readers can reach vplanet there.
type push struct {
	db      *store.DB
	log     *slog.Logger
	manager *websub.Manager
	hub     *websub.Hub
	topics  *server.Topics // set once the server is built
	ingest  *crawler.Crawler
}

// newPush builds the subscriber and the hub under baseURL. The hub checks
// topics through the server, built after it: topics fills in then.
func newPush(cfg *serveConfig, db *store.DB, log *slog.Logger) (*push, error) {
	base := strings.TrimSuffix(cfg.baseURL, "/")
	p := &push{db: db, log: log}
	var err error
	p.manager, p.ingest, err = newSubscriber(&cfg.config, base, db, log)
	if err != nil {
		return nil, err
	}
	p.hub, err = websub.NewHub(websub.HubConfig{
		URL:          base + "/websub/hub",
		Store:        db,
		Topic:        func(t string) bool { return p.topics != nil && p.topics.Check(t) },
		AllowPrivate: cfg.hubAllowPrivate,
		UserAgent:    "vplanet/" + vplanet.Version,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newSubscriber returns the subscriber of the blogs' hubs whose callbacks
// serve answers under base (--base-url without its final slash), and the
// crawler whose address policy it follows: that crawler decides which hubs
// may be reached, so that "could the feed have been fetched" means one
// thing, a private hub only for a feed listed at a private address. serve
// and a crawl from cron both subscribe through it; the subscriptions live
// in the store, so the serve at base verifies and takes the pushes of a
// subscription a crawl asked for.
func newSubscriber(cfg *config, base string, db *store.DB, log *slog.Logger) (*websub.Manager, *crawler.Crawler, error) {
	c := crawler.New(db, crawler.Options{Logger: log, MinRhythm: cfg.minRhythm, MaxRhythm: cfg.maxRhythm})
	m, err := websub.NewManager(websub.ManagerConfig{
		Callback:  base + "/websub/callback/",
		Store:     db,
		Private:   c.Private,
		UserAgent: "vplanet/" + vplanet.Version,
		Logger:    log,
	})
	if err != nil {
		return nil, nil, err
	}
	return m, c, nil
}

// callback is the handler of /websub/callback/{id}: a verified push takes
// the crawler's path for a fetched body, then wakes the index follower so
// the post is searchable at once rather than at its next poll.
func (p *push) callback(poke chan<- struct{}) http.Handler {
	return p.manager.Handler(func(ctx context.Context, feedURL string, body []byte, contentType string) error {
		if err := p.ingest.Ingest(ctx, feedURL, body, contentType); err != nil {
			return err
		}
		select {
		case poke <- struct{}{}:
		default:
		}
		return nil
	})
}

// publish distributes, each time the index has applied new changes, every
// subscribed topic's new posts, until ctx ends. The index's sequence is
// read in memory, so watching it often costs nothing. A feed leaving
// feeds.txt changes its posts' visibility, so this is also where the hubs
// of feeds removed by any process's crawl are left.
func (p *push) publish(ctx context.Context, indexed func() int64) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		seq := indexed()
		if seq == last {
			continue
		}
		p.unsubscribeRemoved(ctx)
		if _, err := p.hub.PublishEach(ctx, p.topics.Render); err != nil {
			if ctx.Err() == nil {
				p.log.Warn("websub: publish", "err", err)
			}
			continue // again at the next tick
		}
		last = seq
	}
}

// idleTopicAge is how long a hub topic's watermark outlives its last
// subscription, or a subscription request never verified: long enough for
// any hub's verification round, short enough that asking for many topics
// leaves little behind.
const idleTopicAge = time.Hour

// renew renews the leases due, and drops the hub's idle topics, hourly and
// once at start, until ctx ends.
func (p *push) renew(ctx context.Context) {
	for {
		if n, err := p.manager.RenewDue(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("websub: renew leases", "err", err)
		} else if n > 0 {
			p.log.Info("websub: leases renewed", "count", n)
		}
		if n, err := p.db.DropIdleHubTopics(ctx, time.Now().Add(-idleTopicAge)); err != nil && ctx.Err() == nil {
			p.log.Warn("websub: drop idle hub topics", "err", err)
		} else if n > 0 {
			p.log.Info("websub: idle hub topics dropped", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// resume makes, at start and every minute until ctx ends, the hub's
// deliveries that a stopped process left waiting (websub.Hub.Resume): this
// process's own before a restart, or a sibling replica's.
func (p *push) resume(ctx context.Context) {
	for {
		if n, err := p.hub.Resume(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("websub: resume hub deliveries", "err", err)
		} else if n > 0 {
			p.log.Info("websub: hub deliveries resumed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}

// unsubscribeRemoved leaves the hubs of feeds no longer in feeds.txt.
func (p *push) unsubscribeRemoved(ctx context.Context) {
	subs, err := p.db.FindSubscriptions(ctx)
	if err != nil || len(subs) == 0 {
		return
	}
	feeds, err := p.db.FindFeeds(ctx, vplanet.FeedFilter{Active: true})
	if err != nil {
		return
	}
	listed := map[string]bool{}
	for _, f := range feeds {
		listed[f.URL] = true
	}
	for _, s := range subs {
		if listed[s.Feed] || s.State == websub.StateUnsubscribing {
			continue
		}
		if err := p.manager.Unsubscribe(ctx, s.Feed); err != nil {
			p.log.Info("websub: unsubscribe a feed no longer listed", "feed", s.Feed, "err", err)
		}
	}
}

// websubCollector exports both sides' counters, and the subscriptions by
// state, when /metrics is scraped. The counters are this process's; the
// subscriptions are the store's, shared by replicas.
type websubCollector struct {
	p *push
}

var (
	descSubscriberEvents = prometheus.NewDesc("vplanet_websub_subscriber_events_total",
		"What vplanet did as a WebSub subscriber of the blogs' hubs, by event.", []string{"event"}, nil)
	descHubEvents = prometheus.NewDesc("vplanet_websub_hub_events_total",
		"What vplanet's own WebSub hub did, by event.", []string{"event"}, nil)
	descSubscriptions = prometheus.NewDesc("vplanet_websub_subscriptions",
		"WebSub subscriptions: vplanet's at the blogs' hubs by state (side=subscriber), its readers' at its hub (side=hub).",
		[]string{"side", "state"}, nil)
)

func (c websubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSubscriberEvents
	ch <- descHubEvents
	ch <- descSubscriptions
}

func (c websubCollector) Collect(ch chan<- prometheus.Metric) {
	for k, v := range c.p.manager.Counters.Snapshot() {
		ch <- prometheus.MustNewConstMetric(descSubscriberEvents, prometheus.CounterValue, float64(v), k)
	}
	for k, v := range c.p.hub.Counters.Snapshot() {
		ch <- prometheus.MustNewConstMetric(descHubEvents, prometheus.CounterValue, float64(v), k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if subs, err := c.p.db.FindSubscriptions(ctx); err == nil {
		byState := map[websub.State]int{websub.StatePending: 0, websub.StateActive: 0, websub.StateFailed: 0}
		for _, s := range subs {
			byState[s.State]++
		}
		for st, n := range byState {
			ch <- prometheus.MustNewConstMetric(descSubscriptions, prometheus.GaugeValue, float64(n), "subscriber", string(st))
		}
	}
	if subs, err := c.p.db.FindHubSubscriptions(ctx, ""); err == nil {
		n := 0
		for _, s := range subs {
			if s.Expires.After(time.Now()) {
				n++
			}
		}
		ch <- prometheus.MustNewConstMetric(descSubscriptions, prometheus.GaugeValue, float64(n), "hub", "active")
	}
}

// feedPush is a feed's WebSub subscription in /api/feeds.
type feedPush struct {
	State    string    `json:"state"`
	Hub      string    `json:"hub"`
	Until    time.Time `json:"until"`
	LastPush time.Time `json:"last_push"`
	Since    time.Time `json:"since"`
	Reason   string    `json:"reason"`
}

// String says where the subscription stands, for `vplanet feeds`: "-" for
// a feed that names no hub (or push off), "active until …, last push …",
// "pending since …", "failed: why".
func (p *feedPush) String() string {
	if p == nil {
		return "-"
	}
	switch p.State {
	case string(websub.StateActive):
		s := "active until " + p.Until.UTC().Format("2006-01-02 15:04 UTC")
		if !p.LastPush.IsZero() {
			s += ", last push " + ago(p.LastPush)
		}
		return s
	case string(websub.StatePending):
		return "pending since " + p.Since.UTC().Format("2006-01-02 15:04 UTC")
	case string(websub.StateFailed):
		return "failed: " + p.Reason
	}
	return p.State
}

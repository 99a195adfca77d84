package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vplanet"
	"vplanet/index"
	"vplanet/store"
)

// metrics are the server's Prometheus metrics, registered on the registry
// given in Config rather than the global one.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	search   prometheus.Histogram
}

func newMetrics(reg *prometheus.Registry, st *store.DB, ix *index.Index, log *slog.Logger) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vplanet_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "code"}),
		search: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vplanet_search_duration_seconds",
			Help:    "Time the index took to answer searches.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
	}
	reg.MustRegister(m.requests, m.search, &storeCollector{st: st, ix: ix, log: log})
	return m
}

func (m *metrics) observeRequest(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) observeSearch(d time.Duration) { m.search.Observe(d.Seconds()) }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// storeCollector reads the store and the index when scraped, so the figures
// are never stale and cost nothing between scrapes.
type storeCollector struct {
	st  *store.DB
	ix  *index.Index
	log *slog.Logger
}

var (
	descPosts = prometheus.NewDesc("vplanet_posts",
		"Visible posts in the store.", nil, nil)
	descSeq = prometheus.NewDesc("vplanet_store_seq",
		"The store's highest change sequence.", nil, nil)
	descIndexed = prometheus.NewDesc("vplanet_index_seq",
		"The highest change sequence applied to the index.", nil, nil)
	descLag = prometheus.NewDesc("vplanet_index_lag",
		"Changes in the store not yet applied to the index.", nil, nil)
	descFeeds = prometheus.NewDesc("vplanet_feeds",
		"Feeds by status.", []string{"status"}, nil)
	descRebuilding = prometheus.NewDesc("vplanet_index_rebuilding",
		"1 while the index is being rebuilt.", nil, nil)
	descStoreUp = prometheus.NewDesc("vplanet_store_up",
		"1 when the store answered this scrape, 0 when it is unreachable.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPosts, descSeq, descIndexed, descLag, descFeeds, descRebuilding, descStoreUp} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	indexed := c.ix.Seq()
	ch <- prometheus.MustNewConstMetric(descIndexed, prometheus.GaugeValue, float64(indexed))
	rebuilding, _ := c.ix.Rebuilding()
	ch <- prometheus.MustNewConstMetric(descRebuilding, prometheus.GaugeValue, b2f(rebuilding))
	seq, err := c.st.MaxSeq(ctx)
	ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, b2f(err == nil))
	if err != nil {
		c.log.Warn("metrics: store unreachable", "err", err)
		return
	} else {
		ch <- prometheus.MustNewConstMetric(descSeq, prometheus.GaugeValue, float64(seq))
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(max(seq-indexed, 0)))
	}
	if n, err := c.st.CountPosts(ctx); err != nil {
		c.log.Warn("metrics: count posts", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(descPosts, prometheus.GaugeValue, float64(n))
	}
	feeds, err := c.st.FindFeeds(ctx, vplanet.FeedFilter{})
	if err != nil {
		c.log.Warn("metrics: find feeds", "err", err)
		return
	}
	byStatus := map[string]int{}
	for _, st := range []string{vplanet.StatusNew, vplanet.StatusOK, vplanet.StatusError, vplanet.StatusGone, vplanet.StatusRemoved} {
		byStatus[st] = 0
	}
	for _, f := range feeds {
		byStatus[f.Status]++
	}
	for st, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(descFeeds, prometheus.GaugeValue, float64(n), st)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

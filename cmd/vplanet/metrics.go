package main

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"vplanet"
	"vplanet/crawler"
)

// crawlMetrics count serve's scheduled crawls. Crawls run by cron in another
// process show up in the server's store metrics (posts, feeds by status)
// instead.
type crawlMetrics struct {
	runs     *prometheus.CounterVec
	duration prometheus.Histogram
	feeds    *prometheus.CounterVec
	posts    *prometheus.CounterVec
}

func newCrawlMetrics(reg *prometheus.Registry) *crawlMetrics {
	m := &crawlMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vplanet_crawl_runs_total",
			Help: "Scheduled crawl runs, by result: ok, skipped (another crawl held the lock) or failed.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vplanet_crawl_duration_seconds",
			Help:    "How long scheduled crawl runs took.",
			Buckets: []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}),
		feeds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vplanet_crawl_feeds_total",
			Help: "Feeds fetched by scheduled crawls, by outcome: ok, not_modified or failed.",
		}, []string{"outcome"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vplanet_crawl_posts_total",
			Help: "Posts stored by scheduled crawls, by kind: new or updated.",
		}, []string{"kind"}),
	}
	reg.MustRegister(m.runs, m.duration, m.feeds, m.posts)
	for _, r := range []string{"ok", "skipped", "failed"} {
		m.runs.WithLabelValues(r)
	}
	return m
}

// observe records one crawl run's outcome.
func (m *crawlMetrics) observe(sum crawler.Summary, err error) {
	switch {
	case errors.Is(err, vplanet.ErrLocked):
		m.runs.WithLabelValues("skipped").Inc()
		return
	case err != nil:
		m.runs.WithLabelValues("failed").Inc()
		return
	}
	m.runs.WithLabelValues("ok").Inc()
	m.duration.Observe(sum.Duration.Seconds())
	m.feeds.WithLabelValues("ok").Add(float64(sum.OK))
	m.feeds.WithLabelValues("not_modified").Add(float64(sum.NotModified))
	m.feeds.WithLabelValues("failed").Add(float64(sum.Failed))
	m.posts.WithLabelValues("new").Add(float64(sum.New))
	m.posts.WithLabelValues("updated").Add(float64(sum.Updated))
}

// Package server is vplanet's HTTP surface: the search page and blog pages
// for people, the JSON API and merged feeds for programs, and the health and
// metrics endpoints for operators. It reads posts from the store and answers
// searches from the index; it never writes either, except to start a rebuild
// of the index when asked with the operator's token.
package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"vplanet/index"
	"vplanet/store"
)

// Config is what the server needs to know beyond its store and index.
type Config struct {
	BaseURL  string         // public address for absolute links; "" = derive from each request
	Location *time.Location // time zone for dates shown and after:/before:; nil = UTC
	Logger   *slog.Logger   // nil = discard
	Token    string         // bearer token for POST /api/reindex; "" turns the endpoint off

	// SearchPerMinute limits the searches of a client address (HTML, JSON,
	// suggestions and search feeds together), each weighed by its cost
	// (see queryCost); 0 = 600, negative = no limit.
	SearchPerMinute int

	// TrustedProxies are the addresses whose X-Forwarded-For,
	// X-Forwarded-Proto, X-Forwarded-Host and Forwarded headers are
	// believed: they give the client's address (for the rate limit and
	// MetricsNetworks) and, without BaseURL, the public scheme and host.
	TrustedProxies []netip.Prefix

	// MetricsNetworks are the client addresses /metrics answers; nil =
	// DefaultMetricsNetworks.
	MetricsNetworks []netip.Prefix

	// Glossary is the groups of words that mean the same (the built-in
	// glossary's and the operator's), offered as suggestions while typing;
	// nil = none.
	Glossary [][]string

	// Registry receives the server's metrics and is what /metrics serves, so
	// that the rest of the process can add its own; nil = a new registry.
	Registry *prometheus.Registry

	// WebSubCallback answers hubs at /websub/callback/{id}, and WebSubHub
	// is vplanet's own hub at /websub/hub, which the feeds then name. Both
	// nil without a BaseURL: the routes then answer 404.
	WebSubCallback http.Handler
	WebSubHub      http.Handler
}

// Limits on what a request may ask for.
const (
	maxBody        = 1 << 20 // bytes of request body
	maxLimit       = 100     // hits per /api/search page
	maxOffset      = 10000   // deepest hit reachable by paging
	maxFeedEntries = 200     // entries in a feed with ?n=
	defaultEntries = 50      // entries in a feed without ?n=
	maxQueryBytes  = 2000    // longer queries are refused before they reach the index
	searchTimeout  = 10 * time.Second
	pageSize       = 10       // hits per HTML results page
	listSize       = 30       // posts per page of the home and blog pages
	feedCacheBytes = 32 << 20 // rendered feeds kept in memory
	blogCacheTTL   = 30 * time.Second
)

// server holds the dependencies the handlers share. It is built once by
// NewServer; after that only the reindex flag and the caches change, and
// they guard themselves.
type server struct {
	cfg      Config
	log      *slog.Logger
	st       *store.DB
	ix       *index.Index
	pages    *pages
	sanitize *bluemonday.Policy
	metrics  *metrics
	feeds    *feedCache
	// renders makes one render of a feed for every reader asking for it
	// while it is made: after a crawl changes the feeds' ETags, the readers
	// polling at that moment would otherwise each render the same feed.
	renders singleflight.Group
	blogs   *blogCache
	limiter *rateLimiter // nil: no limit
	now     func() time.Time
	// reindexing is set while a rebuild started over HTTP runs, so that two
	// requests arriving together cannot both start one.
	reindexing atomic.Bool
}

// NewServer returns the whole HTTP surface. st and ix stay owned by the
// caller, who closes them after the server has shut down. ix may be nil
// for a handler asked only what the store answers alone (/api/feeds,
// /blogs.opml), as `vplanet feeds` does without a server.
func NewServer(cfg Config, st *store.DB, ix *index.Index) http.Handler {
	return newServer(cfg, st, ix).handler()
}

func newServer(cfg Config, st *store.DB, ix *index.Index) *server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MetricsNetworks == nil {
		cfg.MetricsNetworks = DefaultMetricsNetworks
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &server{
		cfg:   cfg,
		log:   cfg.Logger,
		st:    st,
		ix:    ix,
		pages: mustParsePages(),
		// Post.Content is sanitized by the crawler; the feeds sanitize it
		// again because they hand it to other people's readers, and a
		// store written by an older version must not become their problem.
		sanitize: bluemonday.UGCPolicy(),
		feeds:    newFeedCache(feedCacheBytes),
		blogs:    newBlogCache(blogCacheTTL),
		limiter:  newRateLimiter(cfg.SearchPerMinute),
		now:      time.Now,
	}
	s.metrics = newMetrics(cfg.Registry, st, ix, cfg.Logger)
	return s
}

// handler is the route table wrapped in the middleware every request
// passes through, outermost first: body limit, security headers, logging
// and metrics, panic recovery.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	s.addRoutes(mux)
	var h http.Handler = mux
	h = s.recoverPanics(h)
	h = s.observe(h)
	h = securityHeaders(h)
	h = limitBody(h)
	return h
}

package server

import "net/http"

// addRoutes is the whole HTTP surface, on one screen.
func (s *server) addRoutes(mux *http.ServeMux) {
	// People.
	mux.Handle("GET /{$}", s.handleHome())
	mux.Handle("GET /search", s.limitSearch(s.handleSearchPage(), s.writeHTMLError))
	mux.Handle("GET /blogs", s.handleBlogs())
	mux.Handle("GET /blogs/{id}", s.handleBlog())
	mux.Handle("GET /blogs/{id}/favicon", s.handleFavicon())
	mux.Handle("GET /posts/{id}", s.handlePost())
	mux.Handle("GET /subscribe", s.handleSubscribe())
	mux.Handle("GET /static/", s.handleStatic())

	// Programs.
	mux.Handle("GET /api/search", s.limitSearch(s.handleAPISearch(), s.writeJSONError))
	mux.Handle("GET /api/feeds", s.handleAPIFeeds())
	mux.Handle("POST /api/reindex", s.handleReindex())

	// Feed readers and browsers.
	mux.Handle("GET /feed.atom", s.limitSearch(s.handleFeed(formatAtom), s.writeHTMLError))
	mux.Handle("GET /feed.rss", s.limitSearch(s.handleFeed(formatRSS), s.writeHTMLError))
	mux.Handle("GET /feed.json", s.limitSearch(s.handleFeed(formatJSON), s.writeHTMLError))
	mux.Handle("GET /blogs/{id}/feed.atom", s.limitSearch(s.handleFeed(formatAtom), s.writeHTMLError))
	mux.Handle("GET /blogs/{id}/feed.rss", s.limitSearch(s.handleFeed(formatRSS), s.writeHTMLError))
	mux.Handle("GET /blogs/{id}/feed.json", s.limitSearch(s.handleFeed(formatJSON), s.writeHTMLError))
	mux.Handle("GET /blogs.opml", s.handleOPML())
	mux.Handle("GET /opensearch.xml", s.handleOpenSearch())
	mux.Handle("GET /suggest", s.limitSearch(s.handleSuggest(), s.writeJSONError))

	// WebSub: hubs call back, readers subscribe to the hub. Outside the
	// search rate limit: a hub's retries are its own.
	if s.cfg.WebSubCallback != nil {
		mux.Handle("GET /websub/callback/{id}", s.cfg.WebSubCallback)
		mux.Handle("POST /websub/callback/{id}", s.cfg.WebSubCallback)
	}
	if s.cfg.WebSubHub != nil {
		mux.Handle("POST /websub/hub", s.cfg.WebSubHub)
	}

	// Operators.
	mux.Handle("GET /healthz", s.handleHealthz())
	mux.Handle("GET /metrics", s.onlyNetworks(s.cfg.MetricsNetworks, s.metrics.handler()))

	// Everything else is a page that does not exist.
	mux.Handle("/", s.handleNotFound())
}

package server

import (
	"net/http"
	"net/url"

	"vplanet"
)

// subscribeView is the data of the subscribe page.
type subscribeView struct {
	Title string // what the feed carries: the site, a blog, or a search
	Query string
	Blog  *vplanet.Feed
	Feeds []feedLink
}

type feedLink struct {
	Format string
	URL    string
}

// handleSubscribe answers GET /subscribe?q=&blog=: the face of a feed for
// a browser. A feed's own URL shows a browser raw XML; this page gives the
// addresses to copy into a feed reader, and says what a feed reader is, in
// the page's language.
func (s *server) handleSubscribe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		base := s.baseURL(r)
		sv := &subscribeView{Query: v.Get("q")}
		path := ""
		if slug := v.Get("blog"); slug != "" {
			f, err := s.st.FindFeed(r.Context(), slug)
			if err != nil {
				s.writeHTMLError(w, r, err)
				return
			}
			sv.Blog = f
			path = "blogs/" + url.PathEscape(f.Slug) + "/"
		}
		query := ""
		if sv.Query != "" {
			if err := checkQuery(sv.Query); err != nil {
				s.writeHTMLError(w, r, err)
				return
			}
			query = "?q=" + url.QueryEscape(sv.Query)
		}
		for _, f := range []struct{ name, file string }{{"Atom", "feed.atom"}, {"RSS", "feed.rss"}, {"JSON Feed", "feed.json"}} {
			sv.Feeds = append(sv.Feeds, feedLink{Format: f.name, URL: base + path + f.file + query})
		}
		s.render(w, r, http.StatusOK, "subscribe", sv)
	})
}

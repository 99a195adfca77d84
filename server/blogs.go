package server

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"time"

	"vplanet"
	"vplanet/websub"
)

// handleBlogs answers GET /blogs: every listed feed and how its crawling goes.
func (s *server) handleBlogs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feeds, err := s.st.FindFeeds(r.Context(), vplanet.FeedFilter{Active: true})
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "blogs", feeds)
	})
}

type blogView struct {
	Feed  *vplanet.Feed
	Push  *websub.Subscription // nil: the feed is not subscribed at a hub
	Posts []postView
	Pager pager
}

// handleBlog answers GET /blogs/{id}?page=: one blog's state and its
// posts, newest first, a page at a time.
func (s *server) handleBlog() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := s.st.FindFeed(r.Context(), r.PathValue("id"))
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		pg, err := intParam(r.URL.Query(), "page", 1, 1, maxOffset/listSize+1)
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		v := &blogView{Feed: f}
		// The subscription is a detail of the page: a store that cannot
		// be read (PostgreSQL away, the page answered from the replica's
		// copy) leaves it out.
		if sub, err := s.st.FindFeedSubscription(r.Context(), f.URL); err == nil {
			v.Push = &sub
		} else if !errors.Is(err, websub.ErrNotFound) {
			s.log.Warn("blog page: read its push subscription", "feed", f.URL, "err", err)
		}
		hl := hlParam(r)
		v.Posts, v.Pager, err = s.newest(r, f.Slug, pg, func(pg int) string {
			return (&page{HL: hl}).URL("/blogs/"+url.PathEscape(f.Slug), "page", pageNumber(pg))
		})
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "blog", v)
	})
}

// handlePost answers GET /posts/{id}, the address feed entries use as
// their id, by sending the reader to the original post.
func (s *server) handlePost() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts, err := s.st.FindPosts(r.Context(), []string{r.PathValue("id")})
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		if len(posts) == 0 || posts[0].URL == "" {
			s.writeHTMLError(w, r, vplanet.ErrNotFound)
			return
		}
		http.Redirect(w, r, posts[0].URL, http.StatusFound)
	})
}

// apiFeed is one feed in /api/feeds.
type apiFeed struct {
	ID          string     `json:"id"`
	URL         string     `json:"url"`
	FeedURL     string     `json:"feed_url"`
	Title       string     `json:"title"`
	Name        string     `json:"name"`
	Lang        string     `json:"lang"`
	Status      string     `json:"status"`
	LastError   string     `json:"last_error"`
	LastSuccess *time.Time `json:"last_success"`
	LastAttempt *time.Time `json:"last_attempt"`
	NextAttempt *time.Time `json:"next_attempt"`
	Redirect    string     `json:"redirect"`
	PostCount   int        `json:"post_count"`
	Push        *pushView  `json:"push"` // its WebSub subscription; null when none
	// Dropped counts the items beyond the newest 1,000 of the feed's last
	// full fetch, which were not stored.
	Dropped int `json:"dropped"`
}

// optTime is nil for the zero time, so JSON says null rather than year 1.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// handleAPIFeeds answers GET /api/feeds: every feed the store knows,
// removed ones included, for `vplanet feeds --json`. Its last_error is the
// kind of problem (see problem) unless the request carries the operator's
// token, which shows the error itself.
func (s *server) handleAPIFeeds() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner := false
		if r.Header.Get("Authorization") != "" {
			if err := s.authorize(r); err != nil {
				s.writeJSONError(w, r, err)
				return
			}
			owner = true
		}
		feeds, err := s.st.FindFeeds(r.Context(), vplanet.FeedFilter{})
		if err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		// Push states are left out (null) when they cannot be read: the
		// feeds' last known state is still worth answering.
		pushes, err := s.findPushes(r.Context())
		if err != nil {
			s.log.Warn("api feeds: read push subscriptions", "err", err)
		}
		out := make([]apiFeed, 0, len(feeds))
		for _, f := range feeds {
			out = append(out, apiFeed{
				ID:          f.Slug,
				URL:         f.URL,
				FeedURL:     f.FeedURL,
				Title:       f.Title,
				Name:        f.DisplayName(),
				Lang:        f.Lang,
				Status:      f.Status,
				LastError:   problemWords[problem(f)],
				LastSuccess: optTime(f.LastSuccess),
				LastAttempt: optTime(f.LastAttempt),
				NextAttempt: optTime(f.NextAttempt),
				Redirect:    f.Redirect,
				PostCount:   f.PostCount,
				Push:        pushes[f.URL],
				Dropped:     f.Dropped,
			})
			if owner {
				out[len(out)-1].LastError = f.LastError
			} else {
				out[len(out)-1].Redirect = ""
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Vary", "Authorization")
		writeJSON(w, r, http.StatusOK, out)
	})
}

// OPML 2.0.

type opmlDoc struct {
	XMLName xml.Name    `xml:"opml"`
	Version string      `xml:"version,attr"`
	Title   string      `xml:"head>title"`
	Created string      `xml:"head>dateCreated,omitempty"`
	Body    []opmlEntry `xml:"body>outline"`
}

type opmlEntry struct {
	Type    string `xml:"type,attr"`
	Text    string `xml:"text,attr"`
	Title   string `xml:"title,attr"`
	XMLURL  string `xml:"xmlUrl,attr"`
	HTMLURL string `xml:"htmlUrl,attr,omitempty"`
	Lang    string `xml:"language,attr,omitempty"`
}

// handleOPML answers GET /blogs.opml: the listed blogs whose feeds work,
// for feed readers to import; ?all=1 adds those that fail or have not been
// fetched yet. A reader subscribes to every line, so a dead feed there is
// a broken subscription: a feed is live when its last fetch succeeded.
// The feed's URL is where it was found (after autodiscovery and permanent
// redirects), and its title is the blog's name, never its URL.
func (s *server) handleOPML() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feeds, err := s.st.FindFeeds(r.Context(), vplanet.FeedFilter{Active: true})
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		all := r.URL.Query().Get("all") == "1"
		doc := opmlDoc{Version: "2.0", Title: "vplanet blogs"}
		for _, f := range feeds {
			if !all && (f.Status != vplanet.StatusOK || f.LastSuccess.IsZero()) {
				continue
			}
			title := f.DisplayName()
			if title == f.URL {
				// No name and no title: the host reads better than a URL.
				if u, err := url.Parse(f.FetchURL()); err == nil && u.Host != "" {
					title = u.Host
				}
			}
			doc.Body = append(doc.Body, opmlEntry{
				Type: "rss", Text: title, Title: title,
				XMLURL: f.FetchURL(), HTMLURL: f.SiteURL, Lang: f.Lang,
			})
		}
		body, err := marshalXML(doc)
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
		w.Header().Set("Content-Disposition", `inline; filename="vplanet.opml"`)
		writeMaybeGzip(w, r, body)
	})
}

// OpenSearch 1.1.

type openSearchDoc struct {
	XMLName     xml.Name        `xml:"http://a9.com/-/spec/opensearch/1.1/ OpenSearchDescription"`
	ShortName   string          `xml:"ShortName"`
	Description string          `xml:"Description"`
	Encoding    string          `xml:"InputEncoding"`
	Image       *openSearchImg  `xml:"Image,omitempty"`
	URLs        []openSearchURL `xml:"Url"`
}

type openSearchImg struct {
	Type   string `xml:"type,attr"`
	Width  int    `xml:"width,attr"`
	Height int    `xml:"height,attr"`
	URL    string `xml:",chardata"`
}

type openSearchURL struct {
	Type     string `xml:"type,attr"`
	Rel      string `xml:"rel,attr,omitempty"`
	Template string `xml:"template,attr"`
}

// handleOpenSearch answers GET /opensearch.xml, so that browsers can add
// vplanet as a search engine.
func (s *server) handleOpenSearch() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := s.baseURL(r)
		doc := openSearchDoc{
			ShortName:   "vplanet",
			Description: "Search the VMware community's blogs, in English and Japanese.",
			Encoding:    "UTF-8",
			Image:       &openSearchImg{Type: "image/svg+xml", Width: 32, Height: 32, URL: base + "static/icon.svg"},
			URLs: []openSearchURL{
				{Type: "text/html", Template: base + "search?q={searchTerms}"},
				{Type: "application/atom+xml", Template: base + "feed.atom?q={searchTerms}"},
				{Type: "application/json", Template: base + "api/search?q={searchTerms}"},
				{Type: "application/x-suggestions+json", Template: base + "suggest?q={searchTerms}"},
				{Type: "application/opensearchdescription+xml", Rel: "self", Template: base + "opensearch.xml"},
			},
		}
		body, err := marshalXML(doc)
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/opensearchdescription+xml; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		s.forwardedVary(w.Header())
		w.Write(body)
	})
}

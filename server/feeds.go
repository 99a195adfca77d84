package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vplanet"
	"vplanet/index"
	"vplanet/websub"
)

// A feedFormat is one of the syndication formats the merged and per-blog
// feeds are offered in.
type feedFormat struct {
	name        string // also the file extension
	contentType string
	render      func(f *feedDoc) ([]byte, error)
}

var (
	formatAtom = feedFormat{"atom", "application/atom+xml; charset=utf-8", renderAtom}
	formatRSS  = feedFormat{"rss", "application/rss+xml; charset=utf-8", renderRSS}
	formatJSON = feedFormat{"json", "application/feed+json; charset=utf-8", renderJSONFeed}
)

// feedDoc is a feed before it is written in one format.
type feedDoc struct {
	Title    string
	ID       string // the feed's id: its self URL without format-specific parts
	SelfURL  string
	HomeURL  string // the page people read it on
	Updated  time.Time
	Lang     string
	Base     string // absolute base URL, ending in "/"
	Hub      string // the WebSub hub that pushes the feed; "" without --base-url
	Entries  []feedEntry
	Generate string
}

// feedEntry is one post in a feed.
type feedEntry struct {
	ID        string
	Title     string
	URL       string
	Author    string
	Blog      string
	BlogURL   string // the blog's home page
	BlogFeed  string // the blog's own feed
	Published time.Time
	Updated   time.Time
	Lang      string
	Content   string // sanitized HTML
}

// feedRenderTimeout bounds one render of a feed, which may outlive the
// request that began it.
const feedRenderTimeout = 30 * time.Second

// handleFeed answers the merged feed, a search feed (?q=) and a blog's feed
// (/blogs/{id}/…) in one format. Feed readers poll, so the ETag is derived
// from the store's and index's change sequences, which cost one query: an
// unchanged feed answers 304 without reading a post.
func (s *server) handleFeed(format feedFormat) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		v := r.URL.Query()
		n, err := intParam(v, "n", defaultEntries, 1, maxFeedEntries)
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		q := v.Get("q")
		var blog *vplanet.Feed
		if slug := r.PathValue("id"); slug != "" {
			if blog, err = s.st.FindFeed(ctx, slug); err != nil {
				s.writeHTMLError(w, r, err)
				return
			}
			if q != "" {
				q = "blog:" + slug + " " + q
			}
		}
		seq, err := s.st.MaxSeq(ctx)
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		base := s.baseURL(r)
		parts := []string{vplanet.Version, format.name, base, r.URL.Path, strconv.Itoa(n), q, strconv.FormatInt(seq, 10)}
		if q != "" {
			parts = append(parts, strconv.FormatInt(s.ix.Seq(), 10))
		}
		if blog != nil {
			parts = append(parts, blog.DisplayName(), blog.SiteURL)
		}
		etag := makeETag(parts...)
		// Validators and caching go on 200 and 304 only: an error must
		// not be kept by a proxy.
		h := w.Header()
		cacheable := func() {
			h.Set("ETag", etag)
			h.Set("Cache-Control", "public, max-age=300")
			h.Set("Vary", "Accept-Encoding")
			s.forwardedVary(h)
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
			cacheable()
			w.WriteHeader(http.StatusNotModified)
			return
		}
		f := s.feeds.get(etag)
		if f == nil {
			// The ETag names everything the body depends on, so every
			// reader asking for it takes the same render.
			v, err, _ := s.renders.Do(etag, func() (any, error) {
				if f := s.feeds.get(etag); f != nil {
					return f, nil
				}
				// It serves every reader waiting, not only this one: a
				// reader who leaves does not cancel it.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), feedRenderTimeout)
				defer cancel()
				start := time.Now()
				doc, err := s.feedDoc(ctx, r, base, blog, q, n)
				if err != nil {
					return nil, err
				}
				body, err := format.render(doc)
				if err != nil {
					return nil, fmt.Errorf("render %s feed: %w", format.name, err)
				}
				s.log.Debug("feed rendered", "path", r.URL.Path, "q", q, "entries", len(doc.Entries), "took", time.Since(start))
				return s.feeds.put(etag, body, doc.Updated), nil
			})
			if err != nil {
				s.writeHTMLError(w, r, err)
				return
			}
			f = v.(*cachedFeed)
		}
		cacheable()
		if !f.modified.IsZero() {
			h.Set("Last-Modified", f.modified.UTC().Format(http.TimeFormat))
			if r.Header.Get("If-None-Match") == "" {
				if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil &&
					!f.modified.Truncate(time.Second).After(ims) {
					w.WriteHeader(http.StatusNotModified)
					return
				}
			}
		}
		h.Set("Content-Type", format.contentType)
		if hub := s.hubURL(); hub != "" {
			h.Add("Link", websub.LinkHeader(hub, selfURL(base, r)))
		}
		body := f.body
		if len(body) >= 1024 && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body = f.gzip()
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

// feedDoc gathers a feed's entries: a search's newest hits when q is set,
// else the newest posts of one blog or of all.
func (s *server) feedDoc(ctx context.Context, r *http.Request, base string, blog *vplanet.Feed, q string, n int) (*feedDoc, error) {
	doc := &feedDoc{Title: "vplanet", Base: base, Generate: "vplanet " + vplanet.Version}
	self := selfURL(base, r)
	home := base
	if blog != nil {
		doc.Title = blog.DisplayName() + " · vplanet"
		doc.Lang = blog.Lang
		home = base + "blogs/" + url.PathEscape(blog.Slug)
	}
	var posts []*vplanet.Post
	var err error
	switch {
	case q != "":
		doc.Title = "vplanet: " + q
		home = base + "search?q=" + url.QueryEscape(q) + "&sort=date"
		var hits []found
		_, hits, err = s.search(ctx, index.Request{Query: q, Limit: n, Sort: "date"}, true)
		for _, f := range hits {
			posts = append(posts, f.post)
		}
	case blog != nil:
		posts, err = s.st.RecentPosts(ctx, vplanet.PostFilter{FeedID: blog.ID, Limit: n})
	default:
		posts, err = s.st.RecentPosts(ctx, vplanet.PostFilter{Limit: n})
	}
	if err != nil {
		return nil, err
	}
	doc.ID, doc.SelfURL, doc.HomeURL = self, self, home
	return doc, s.addEntries(ctx, doc, posts)
}

// addEntries adds posts to doc as its entries, and dates doc by its
// newest.
func (s *server) addEntries(ctx context.Context, doc *feedDoc, posts []*vplanet.Post) error {
	base := doc.Base
	doc.Hub = s.hubURL()
	_, byID, err := s.blogs.get(ctx, s.st)
	if err != nil {
		return err
	}
	for _, p := range posts {
		e := feedEntry{
			ID:        base + "posts/" + url.PathEscape(p.ID),
			Title:     p.Title,
			URL:       p.URL,
			Author:    p.Author,
			Blog:      p.BlogName,
			Published: p.Published,
			Updated:   p.Updated,
			Lang:      p.Lang,
			Content:   s.sanitize.Sanitize(p.Content),
		}
		if e.Updated.Before(e.Published) {
			e.Updated = e.Published
		}
		if f := byID[p.FeedID]; f != nil {
			e.BlogURL = f.SiteURL
			e.BlogFeed = f.FetchURL()
		}
		if e.Updated.After(doc.Updated) {
			doc.Updated = e.Updated
		}
		doc.Entries = append(doc.Entries, e)
	}
	if doc.Updated.IsZero() {
		// A feed with no entry (a search that finds nothing yet) was last
		// updated when the site was: a reader that sees 1970 thinks it dead.
		newest, err := s.st.RecentPosts(ctx, vplanet.PostFilter{Limit: 1})
		if err != nil {
			return err
		}
		if len(newest) > 0 {
			if newest[0].Updated.After(newest[0].Published) {
				doc.Updated = newest[0].Updated
			} else {
				doc.Updated = newest[0].Published
			}
		}
	}
	return nil
}

// makeETag is a strong validator over parts.
func makeETag(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// etagMatch reports whether an If-None-Match header names etag, comparing
// weakly as RFC 9110 asks (a proxy may have turned it into W/"…").
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// writeMaybeGzip writes body, gzipped when the client accepts it and it is
// worth it.
func writeMaybeGzip(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if len(body) < 1024 || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(body)
	zw.Close()
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}

// Atom 1.0 (RFC 4287).

type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang      string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	Title     string      `xml:"title"`
	ID        string      `xml:"id"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomSource struct {
	ID    string     `xml:"id,omitempty"`
	Title string     `xml:"title"`
	Links []atomLink `xml:"link"`
}

type atomEntry struct {
	Lang      string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	ID        string      `xml:"id"`
	Title     atomText    `xml:"title"`
	Links     []atomLink  `xml:"link"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Author    *atomPerson `xml:"author,omitempty"`
	Source    *atomSource `xml:"source,omitempty"`
	Content   *atomText   `xml:"content,omitempty"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func renderAtom(d *feedDoc) ([]byte, error) {
	updated := d.Updated
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	f := atomFeed{
		Lang:      d.Lang,
		Title:     d.Title,
		ID:        d.ID,
		Updated:   atomTime(updated),
		Author:    atomPerson{Name: "vplanet"},
		Generator: d.Generate,
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: d.SelfURL},
			{Rel: "alternate", Type: "text/html", Href: d.HomeURL},
		},
	}
	if d.Hub != "" {
		f.Links = append(f.Links, atomLink{Rel: "hub", Href: d.Hub})
	}
	for _, e := range d.Entries {
		ae := atomEntry{
			Lang:      e.Lang,
			ID:        e.ID,
			Title:     atomText{Type: "text", Body: e.Title},
			Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: e.URL}},
			Published: atomTime(e.Published),
			Updated:   atomTime(e.Updated),
			Source:    &atomSource{Title: e.Blog},
		}
		author := e.Author
		if author == "" {
			author = e.Blog
		}
		if author != "" {
			ae.Author = &atomPerson{Name: author}
		}
		if e.BlogURL != "" {
			ae.Source.ID = e.BlogURL
			ae.Source.Links = append(ae.Source.Links, atomLink{Rel: "alternate", Type: "text/html", Href: e.BlogURL})
		}
		if e.BlogFeed != "" {
			ae.Source.Links = append(ae.Source.Links, atomLink{Rel: "self", Href: e.BlogFeed})
		}
		if e.Content != "" {
			ae.Content = &atomText{Type: "html", Body: e.Content}
		}
		f.Entries = append(f.Entries, ae)
	}
	return marshalXML(f)
}

func marshalXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// RSS 2.0.

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	DCNS    string     `xml:"xmlns:dc,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string      `xml:"title"`
	Link          string      `xml:"link"`
	Description   string      `xml:"description"`
	Language      string      `xml:"language,omitempty"`
	LastBuildDate string      `xml:"lastBuildDate,omitempty"`
	Generator     string      `xml:"generator"`
	Links         []rssAtomLk `xml:"atom:link"` // self, and the WebSub hub
	Items         []rssItem   `xml:"item"`
}

type rssAtomLk struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type rssSource struct {
	URL  string `xml:"url,attr"`
	Name string `xml:",chardata"`
}

type rssItem struct {
	Title       string     `xml:"title"`
	Link        string     `xml:"link"`
	GUID        rssGUID    `xml:"guid"`
	PubDate     string     `xml:"pubDate"`
	Creator     string     `xml:"dc:creator,omitempty"`
	Source      *rssSource `xml:"source,omitempty"`
	Description string     `xml:"description,omitempty"`
}

func renderRSS(d *feedDoc) ([]byte, error) {
	doc := rssDoc{
		Version: "2.0",
		AtomNS:  "http://www.w3.org/2005/Atom",
		DCNS:    "http://purl.org/dc/elements/1.1/",
		Channel: rssChannel{
			Title:       d.Title,
			Link:        d.HomeURL,
			Description: "The VMware community's blogs, in English and Japanese.",
			Language:    d.Lang,
			Generator:   d.Generate,
			Links:       []rssAtomLk{{Rel: "self", Type: "application/rss+xml", Href: d.SelfURL}},
		},
	}
	if d.Hub != "" {
		doc.Channel.Links = append(doc.Channel.Links, rssAtomLk{Rel: "hub", Href: d.Hub})
	}
	if !d.Updated.IsZero() {
		doc.Channel.LastBuildDate = d.Updated.UTC().Format(time.RFC1123Z)
	}
	for _, e := range d.Entries {
		it := rssItem{
			Title:       e.Title,
			Link:        e.URL,
			GUID:        rssGUID{IsPermaLink: "false", Value: e.ID},
			PubDate:     e.Published.UTC().Format(time.RFC1123Z),
			Creator:     e.Author,
			Description: e.Content,
		}
		if e.BlogFeed != "" {
			it.Source = &rssSource{URL: e.BlogFeed, Name: e.Blog}
		}
		doc.Channel.Items = append(doc.Channel.Items, it)
	}
	return marshalXML(doc)
}

// JSON Feed 1.1 (https://jsonfeed.org/version/1.1).

type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Language    string         `json:"language,omitempty"`
	Hubs        []jsonFeedHub  `json:"hubs,omitempty"`
	Items       []jsonFeedItem `json:"items"`
}

// jsonFeedHub names a hub that pushes the feed (JSON Feed 1.1, "hubs").
type jsonFeedHub struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type jsonFeedItem struct {
	ID            string           `json:"id"`
	URL           string           `json:"url"`
	Title         string           `json:"title"`
	ContentHTML   string           `json:"content_html"`
	DatePublished string           `json:"date_published"`
	DateModified  string           `json:"date_modified,omitempty"`
	Authors       []jsonFeedAuthor `json:"authors,omitempty"`
	Language      string           `json:"language,omitempty"`
	Blog          *jsonFeedBlog    `json:"_blog,omitempty"`
}

type jsonFeedAuthor struct {
	Name string `json:"name"`
}

// jsonFeedBlog is an extension (JSON Feed allows keys starting with "_")
// naming the blog an entry came from.
type jsonFeedBlog struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	FeedURL string `json:"feed_url,omitempty"`
}

func renderJSONFeed(d *feedDoc) ([]byte, error) {
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       d.Title,
		HomePageURL: d.HomeURL,
		FeedURL:     d.SelfURL,
		Language:    d.Lang,
		Items:       []jsonFeedItem{},
	}
	if d.Hub != "" {
		f.Hubs = []jsonFeedHub{{Type: "WebSub", URL: d.Hub}}
	}
	for _, e := range d.Entries {
		it := jsonFeedItem{
			ID:            e.ID,
			URL:           e.URL,
			Title:         e.Title,
			ContentHTML:   e.Content,
			DatePublished: atomTime(e.Published),
			DateModified:  atomTime(e.Updated),
			Language:      e.Lang,
			Blog:          &jsonFeedBlog{Name: e.Blog, URL: e.BlogURL, FeedURL: e.BlogFeed},
		}
		if e.Author != "" {
			it.Authors = []jsonFeedAuthor{{Name: e.Author}}
		}
		f.Items = append(f.Items, it)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

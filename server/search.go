package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vplanet"
	"vplanet/index"
)

const snippetRunes = 160

// found is one search hit joined with its post from the store.
type found struct {
	hit  index.Hit
	post *vplanet.Post
}

// search answers r from the index and fetches the hits' posts from the
// store, keeping the index's order, with their Content when content is set
// (a feed shows it; a list of hits shows the text). A hit whose post the
// store no longer has (purged since it was indexed) is left out.
func (s *server) search(ctx context.Context, r index.Request, content bool) (*index.Result, []found, error) {
	if err := checkQuery(r.Query); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, searchTimeout)
	defer cancel()
	r.Location = s.cfg.Location
	res, err := s.ix.Search(ctx, r)
	if errors.Is(err, vplanet.ErrBadQuery) {
		// The index's words are for the person who typed the query;
		// more context would only bury them.
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("search %q: %w", r.Query, err)
	}
	s.metrics.observeSearch(res.Took)
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	find := s.st.FindPostsWithoutContent
	if content {
		find = s.st.FindPosts
	}
	posts, err := find(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("search %q: %w", r.Query, err)
	}
	byID := make(map[string]*vplanet.Post, len(posts))
	for _, p := range posts {
		byID[p.ID] = p
	}
	out := make([]found, 0, len(res.Hits))
	for _, h := range res.Hits {
		if p := byID[h.ID]; p != nil {
			out = append(out, found{hit: h, post: p})
		}
	}
	return res, out, nil
}

// checkQuery refuses what no search should reach the index with.
func checkQuery(q string) error {
	switch {
	case strings.TrimSpace(q) == "":
		return badQuery("err_empty", nil, "empty query: type one or more words to search for")
	case len(q) > maxQueryBytes:
		return badQuery("err_too_long", []any{len(q), maxQueryBytes}, fmt.Sprintf("query too long: %d bytes, at most %d", len(q), maxQueryBytes))
	case !utf8.ValidString(q):
		return badQuery("err_utf8", nil, "query is not valid UTF-8")
	}
	return lintQuery(q)
}

// intParam reads an integer parameter, clamped to [lo, hi]; absent is def,
// and anything that is not a whole number is a bad request.
// widerParam reads wider=: 1 (or true) adds, after the posts that match
// exactly, those that match only in part (index.Request.Wider).
func widerParam(v url.Values) (bool, error) {
	switch v.Get("wider") {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, badRequest(fmt.Sprintf("wider must be 1 or 0, not %q", v.Get("wider")))
}

func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			// A number too big to hold is still a number: clamp it.
			if strings.HasPrefix(s, "-") {
				return lo, nil
			}
			return hi, nil
		}
		return 0, badRequest(fmt.Sprintf("%s must be a whole number from %d to %d, not %q", name, lo, hi, truncate(s, 40)))
	}
	return min(max(n, lo), hi), nil
}

// sortParam reads ?sort=.
func sortParam(v url.Values) (string, error) {
	switch s := v.Get("sort"); s {
	case "", "relevance":
		return "relevance", nil
	case "date", "newest":
		return "date", nil
	default:
		return "", badRequest(fmt.Sprintf("sort must be relevance or date, not %q", truncate(s, 40)))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// apiHit is one hit of /api/search.
type apiHit struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	URL       string `json:"url"`
	Blog      string `json:"blog"`
	BlogID    string `json:"blog_id"`
	Published string `json:"published"`
	Lang      string `json:"lang"`
	Snippet   string `json:"snippet"`
}

type apiFacet struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

type apiSearch struct {
	Query  string  `json:"query"`
	Total  uint64  `json:"total"`
	TookMS float64 `json:"took_ms"`
	// Partial says that no post matched the query exactly, and the hits
	// match it in part: a kanji word inside longer words, or a pasted
	// piece without the words cut at its ends.
	Partial bool `json:"partial,omitempty"`
	// More is how many posts match only in part when some match exactly;
	// wider=1 returns them after those.
	More uint64 `json:"more,omitempty"`
	// Widened says that wider=1 asked for them: the hits that match
	// exactly come first, then those that match in part.
	Widened bool                  `json:"widened,omitempty"`
	Hits    []apiHit              `json:"hits"`
	Facets  map[string][]apiFacet `json:"facets"`
}

// handleAPISearch answers GET /api/search?q=&limit=&offset=&sort=.
func (s *server) handleAPISearch() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		v := r.URL.Query()
		req := index.Request{Query: v.Get("q"), Facets: true}
		var err error
		if req.Limit, err = intParam(v, "limit", 10, 1, maxLimit); err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		if req.Offset, err = intParam(v, "offset", 0, 0, maxOffset); err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		if req.Sort, err = sortParam(v); err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		if req.Wider, err = widerParam(v); err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		res, hits, err := s.search(r.Context(), req, false)
		if err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		out := apiSearch{
			Query:   req.Query,
			Total:   res.Total,
			Partial: res.Partial,
			More:    res.More,
			Widened: res.Widened,
			Hits:    make([]apiHit, 0, len(hits)),
			Facets:  map[string][]apiFacet{"blog": {}, "lang": {}, "year": {}},
		}
		for _, f := range hits {
			p := f.post
			out.Hits = append(out.Hits, apiHit{
				ID:        p.ID,
				Title:     p.Title,
				URL:       p.URL,
				Blog:      p.BlogName,
				BlogID:    p.BlogSlug,
				Published: p.Published.UTC().Format(time.RFC3339),
				Lang:      p.Lang,
				Snippet:   index.Snippet(p.Text, f.hit.Spans["text"], snippetRunes),
			})
		}
		for name, counts := range res.Facets {
			fs := make([]apiFacet, 0, len(counts))
			for _, c := range counts {
				fs = append(fs, apiFacet{Value: c.Value, Count: c.Count})
			}
			out.Facets[name] = fs
		}
		out.TookMS = math.Round(float64(time.Since(start).Microseconds())/10) / 100
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, r, http.StatusOK, out)
	})
}

// postView is a post as the pages list it.
type postView struct {
	Title   template.HTML // escaped, matches in <mark>
	URL     string
	Blog    string
	BlogURL string
	Icon    string // the blog's icon, "" when vplanet has none
	Author  string
	Lang    string
	Snippet template.HTML // escaped, matches in <mark>
	When    string        // how long ago it was published, in the page's language
	Exact   string        // when it was published, to the minute, in the server's time zone
	ISO     string        // the time published, for <time datetime>
}

// postView prepares p for pg, the page of a request. Title and snippet come from
// the index's Highlight and Snippet, which escape the text; that is what
// makes the template.HTML conversions safe.
func (s *server) postView(pg *page, p *vplanet.Post, spans map[string][]index.Span) postView {
	return postView{
		Title:   template.HTML(index.Highlight(p.Title, spans["title"])),
		URL:     p.URL,
		Blog:    p.BlogName,
		BlogURL: pg.URL("/blogs/" + url.PathEscape(p.BlogSlug)),
		Icon:    s.iconURL(pg.ctx, p.BlogSlug),
		Author:  p.Author,
		Lang:    p.Lang,
		Snippet: template.HTML(index.Snippet(p.Text, spans["text"], snippetRunes)),
		When:    pg.Ago(p.Published),
		Exact:   pg.Exact(p.Published),
		ISO:     pg.ISO(p.Published),
	}
}

// homeView is the data of the home page.
type homeView struct {
	Posts []postView
	Feeds int
	Pager pager
}

// handleHome answers GET /?page=: the newest posts, a page at a time, or a
// welcome before the first crawl has stored any.
func (s *server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hl := hlParam(r)
		pg, err := intParam(r.URL.Query(), "page", 1, 1, maxOffset/listSize+1)
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		v := &homeView{}
		v.Posts, v.Pager, err = s.newest(r, "", pg, func(pg int) string {
			return (&page{HL: hl}).URL("/", "page", pageNumber(pg))
		})
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		if len(v.Posts) == 0 {
			feeds, err := s.st.FindFeeds(r.Context(), vplanet.FeedFilter{Active: true})
			if err != nil {
				s.writeHTMLError(w, r, err)
				return
			}
			v.Feeds = len(feeds)
		}
		s.render(w, r, http.StatusOK, "home", v)
	})
}

// everything is a query every post matches: the query language has no
// empty query, and a negated filter that excludes nothing leaves every
// post in.
const everything = "-lang:none"

// newest lists the newest posts of one blog (slug) or of all, page pg of
// listSize each, newest first. The index answers, so that any page costs
// the same; the first page falls back to the store while the index cannot
// answer (while it is first built), since it is what a visitor sees first.
// A page past the last one is ErrNotFound, with the way back.
func (s *server) newest(r *http.Request, slug string, pg int, link func(int) string) ([]postView, pager, error) {
	q := everything
	if slug != "" {
		q = facetFilter("blog", slug)
	}
	ctx := r.Context()
	pgv := s.newPage(r, nil)
	res, hits, err := s.search(ctx, index.Request{Query: q, Limit: listSize, Offset: (pg - 1) * listSize, Sort: "date"}, false)
	var views []postView
	if err != nil {
		if pg > 1 || errors.Is(err, vplanet.ErrBadQuery) {
			return nil, pager{}, err
		}
		var feedID int64
		if slug != "" {
			f, err := s.st.FindFeed(ctx, slug)
			if err != nil {
				return nil, pager{}, err
			}
			feedID = f.ID
		}
		posts, err := s.st.RecentPosts(ctx, vplanet.PostFilter{FeedID: feedID, Limit: listSize})
		if err != nil {
			return nil, pager{}, err
		}
		for _, p := range posts {
			views = append(views, s.postView(pgv, p, nil))
		}
		return views, pager{Page: 1, Pages: 1}, nil
	}
	pgr, err := makePager(pg, res.Total, listSize, link)
	if err != nil {
		return nil, pager{}, err
	}
	for _, f := range hits {
		views = append(views, s.postView(pgv, f.post, nil))
	}
	return views, pgr, nil
}

// pager is the way from one page of a list to its neighbours.
type pager struct {
	Page, Pages      int
	PrevURL, NextURL string
}

// makePager places page pg of a list of total items, size a page, with
// link making a page's address. Only pages up to maxOffset can be reached.
// A page past the last is a request for something that does not exist.
func makePager(pg int, total uint64, size int, link func(int) string) (pager, error) {
	reachable := min(int(min(total, uint64(maxOffset+size))), maxOffset+size)
	p := pager{Page: pg, Pages: max((reachable+size-1)/size, 1)}
	if pg > p.Pages {
		return p, &requestError{status: http.StatusNotFound, err: vplanet.ErrNotFound,
			msg: fmt.Sprintf("there is no page %d: the last page is %d", pg, p.Pages), key: "no_such_page", args: []any{pg, p.Pages}}
	}
	if pg > 1 {
		p.PrevURL = link(pg - 1)
	}
	if pg < p.Pages {
		p.NextURL = link(pg + 1)
	}
	return p, nil
}

// pageNumber is a page's ?page= value: none for the first.
func pageNumber(pg int) string {
	if pg <= 1 {
		return ""
	}
	return strconv.Itoa(pg)
}

// searchView is the data of the results page.
type searchView struct {
	Query   string
	Sort    string
	Error   string // a bad query's explanation; the page then shows only it
	NoPosts bool   // the store has no posts yet: nothing could have matched
	Total   uint64
	Took    string
	First   int // the number of the first hit on this page
	Hits    []postView
	Facets  []facetGroup
	Pager   pager
	// Unknown are the blog: values that name no blog, and Similar the
	// blogs whose names come close, offered when nothing matched.
	Unknown []string
	Similar []facetItem
	// Matched are words the hits matched that the query does not spell
	// (a glossary's long form, the other language's word), to explain
	// why a hit is there.
	Matched []string
	// Partial says that nothing matched the query exactly, and the hits
	// match it in part.
	Partial bool
	// More is how many posts match only in part, when some match
	// exactly, and WiderURL the page that adds them after those.
	More     uint64
	WiderURL string
	// Widened says that the page has those too (wider=1), and ExactURL
	// is the page without them.
	Widened  bool
	ExactURL string

	RelevanceURL string
	DateURL      string
}

type facetGroup struct {
	Name  string // message key: "blog", "lang", "year"
	Items []facetItem
}

type facetItem struct {
	Label  string
	Count  int
	URL    string // narrows the search to it; for an active one, removes it
	Active bool   // the query already filters on it
	Lang   string // the language the label is written in, when not the page's
}

// handleSearchPage answers GET /search?q=&sort=&page=. An empty query
// lists every post, newest first, with the facets to narrow them.
func (s *server) handleSearchPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		v := r.URL.Query()
		q := strings.TrimSpace(v.Get("q"))
		hl := hlParam(r)
		sv := &searchView{Query: q}
		pg, err := intParam(v, "page", 1, 1, maxOffset/pageSize+1)
		if err == nil {
			sv.Sort, err = sortParam(v)
		}
		var wider bool
		if err == nil {
			wider, err = widerParam(v)
		}
		blogs, _, berr := s.blogs.get(r.Context(), s.st)
		if berr != nil {
			s.writeHTMLError(w, r, berr)
			return
		}
		asked := q
		if q == "" {
			asked, sv.Sort = everything, "date"
		} else if err == nil {
			asked, sv.Unknown = resolveBlogs(q, blogs)
		}
		var res *index.Result
		var hits []found
		if err == nil {
			res, hits, err = s.search(r.Context(), index.Request{
				Query: asked, Limit: pageSize, Offset: (pg - 1) * pageSize, Sort: sv.Sort, Facets: true, Wider: wider,
			}, false)
		}
		// Links keep wider=1 (paging, sorting, facets) once it is asked.
		linkWider := func(q, sort string, pg int, wider bool) string {
			kv := []string{"q", q}
			if sort == "date" && q != "" {
				kv = append(kv, "sort", "date")
			}
			if wider && q != "" {
				kv = append(kv, "wider", "1")
			}
			return (&page{HL: hl}).URL("/search", append(kv, "page", pageNumber(pg))...)
		}
		link := func(q, sort string, pg int) string { return linkWider(q, sort, pg, wider) }
		if err == nil {
			sv.Pager, err = makePager(pg, res.Total, pageSize, func(pg int) string { return link(q, sv.Sort, pg) })
		}
		if err != nil {
			status, _ := s.errorStatus(r, err)
			if status != http.StatusBadRequest {
				s.writeHTMLError(w, r, err)
				return
			}
			sv.Error = s.localError(r, err)
			s.render(w, r, status, "search", sv)
			return
		}
		if res.Total == 0 {
			n, err := s.st.CountPosts(r.Context())
			if err != nil {
				s.writeHTMLError(w, r, err)
				return
			}
			sv.NoPosts = n == 0
			if len(sv.Unknown) > 0 {
				sv.Similar = similarBlogs(sv.Unknown, blogs, func(slug string) string {
					return link(replaceBlogs(q, sv.Unknown, slug), sv.Sort, 1)
				})
			}
		}
		sv.Total = res.Total
		sv.Partial = res.Partial
		if sv.More = res.More; sv.More > 0 {
			sv.WiderURL = linkWider(q, sv.Sort, 1, true)
		}
		if sv.Widened = res.Widened; sv.Widened {
			sv.ExactURL = linkWider(q, sv.Sort, 1, false)
		}
		sv.First = (pg-1)*pageSize + 1
		sv.RelevanceURL = link(q, "relevance", 1)
		sv.DateURL = link(q, "date", 1)
		pgv := s.newPage(r, nil)
		for _, f := range hits {
			sv.Hits = append(sv.Hits, s.postView(pgv, f.post, f.hit.Spans))
		}
		if q != "" {
			sv.Matched = otherMatches(q, hits)
		}
		for _, name := range []string{"blog", "lang", "year"} {
			g := facetGroup{Name: name}
			for _, c := range res.Facets[name] {
				filter := facetFilter(name, c.Value)
				it := facetItem{Label: c.Value, Count: c.Count, Active: hasTerm(asked, filter)}
				if f := blogs[c.Value]; name == "blog" && f != nil {
					it.Label = f.DisplayName()
				}
				if name == "lang" {
					it.Label, it.Lang = langName(c.Value), c.Value
				}
				if it.Active {
					it.URL = link(removeTerm(q, name, c.Value, blogs), sv.Sort, 1)
				} else {
					it.URL = link(strings.TrimSpace(q+" "+filter), sv.Sort, 1)
				}
				g.Items = append(g.Items, it)
			}
			if len(g.Items) > 0 {
				sv.Facets = append(sv.Facets, g)
			}
		}
		sv.Took = formatTook(time.Since(start))
		s.render(w, r, http.StatusOK, "search", sv)
	})
}

// otherMatches lists, from the marked words of the hits, those the query
// does not spell itself, at most eight: what the glossary and the
// analysis (stems, widths, long vowels) made the search find.
func otherMatches(q string, hits []found) []string {
	asked := map[string]bool{}
	for _, t := range scanTerms(q) {
		for _, w := range strings.Fields(t.value) {
			asked[foldName(w)] = true
		}
		asked[foldName(t.value)] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, h := range hits {
		for field, text := range map[string]string{"title": h.post.Title, "text": h.post.Text} {
			// Words marked side by side ("vCenter HA") are one match.
			var runs []index.Span
			for _, sp := range h.hit.Spans[field] {
				if sp.Start < 0 || sp.End > len(text) || sp.Start >= sp.End {
					continue
				}
				if n := len(runs); n > 0 && sp.Start >= runs[n-1].End && strings.TrimSpace(text[runs[n-1].End:sp.Start]) == "" {
					runs[n-1].End = sp.End
					continue
				}
				runs = append(runs, sp)
			}
			for _, sp := range runs {
				w := strings.TrimSpace(text[sp.Start:sp.End])
				k := foldName(w)
				if w == "" || asked[k] || seen[k] || len(out) >= 8 {
					continue
				}
				seen[k] = true
				out = append(out, w)
			}
		}
	}
	slices.Sort(out)
	return out
}

// langName is a language code as its speakers write it, so that either
// reader recognizes it.
func langName(code string) string {
	switch code {
	case "ja":
		return "日本語"
	case "en":
		return "English"
	}
	return code
}

// facetFilter is the query term that narrows a search to one facet value.
func facetFilter(name, value string) string {
	if name == "year" {
		return fmt.Sprintf("after:%s-01-01 before:%s-12-31", value, value)
	}
	if strings.ContainsAny(value, " \"") {
		value = strconv.Quote(value)
	}
	return name + ":" + value
}

// hasTerm reports whether q already contains every word of filter.
func hasTerm(q, filter string) bool {
	words := strings.Fields(q)
	for _, f := range strings.Fields(filter) {
		ok := false
		for _, w := range words {
			if strings.EqualFold(w, f) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func formatTook(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + " s"
}

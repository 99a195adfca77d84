package crawler

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	// The readeck fork of go-shiori/go-readability: a tagged, maintained
	// release (v2.1.3) that follows Readability.js 0.6, where go-shiori's
	// module has only pseudo-versions and no longer changes.
	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"vplanet"
)

// maxPagesPerFeed is how many post pages one feed may make a run fetch; the
// other excerpts are indexed as they are.
const maxPagesPerFeed = 30

// maxPageElements is the most elements a page may have for its main text to
// be looked for; a larger page keeps its post's excerpt.
const maxPageElements = 50_000

// pageAccept is the Accept header of a post page's request.
const pageAccept = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

// PostFinder is what the crawler asks of a store that can say which posts
// it holds (*store.DB can). With it, the crawler fetches the page of an
// excerpt only when the post is new or its item changed; without it, only
// when the post is dated after the feed's previous success (or on a feed's
// first success), so that an unchanged post's page is not fetched again on
// every crawl.
type PostFinder interface {
	FindPosts(ctx context.Context, ids []string) ([]*vplanet.Post, error)
}

// runState is what the feeds of one run share.
type runState struct {
	robots *robotsCache

	// iconsDue are the feeds whose blog's icon is due, looked for once
	// every feed of the run is saved (see Crawler.updateFavicons).
	mu       sync.Mutex
	iconsDue []*vplanet.Feed
}

// fetchPages replaces the text of the posts of p that carry only an
// excerpt by the main text of their pages, where robots.txt allows it.
// since is the feed's previous success, fetchedFrom the URL the feed was
// fetched from (after redirects), private whether feeds.txt lists the feed
// at a non-public address. A page that cannot be fetched or read leaves its
// post's excerpt, and is logged.
//
// Only pages on the origin (scheme, host and port) the feed was fetched
// from are fetched, and every redirect must stay there: what a feed says
// about itself (its channel link, its items' links) cannot send the crawler
// to another host, or to another port of its own host, and what the page
// says is stored and published. A feed served by a feed service (FeedBurner)
// or from another host of the blog keeps its excerpts.
func (c *Crawler) fetchPages(ctx context.Context, rs *runState, f *vplanet.Feed, p *parsed, since time.Time, fetchedFrom string, private bool) {
	own := origin(fetchedFrom)
	if own == "" {
		return
	}
	var todo []*vplanet.Post
	for _, post := range p.Posts {
		if p.Excerpts[post.ID] && post.URL != "" && origin(post.URL) == own {
			todo = append(todo, post)
		}
	}
	if len(todo) == 0 {
		return
	}
	todo = c.changedPosts(ctx, todo, since)
	if len(todo) > maxPagesPerFeed {
		c.log.Info("feed has many excerpts; only the first pages are fetched", "feed", f.FetchURL(),
			"excerpts", len(todo), "fetched", maxPagesPerFeed)
		todo = todo[:maxPagesPerFeed]
	}
	for _, post := range todo {
		if ctx.Err() != nil {
			return
		}
		text, err := c.pageText(ctx, rs, post.URL, request{Accept: pageAccept, Private: private, Origin: own, Page: true})
		if err != nil {
			c.log.Info("post page not read; its excerpt is indexed", "feed", f.FetchURL(), "page", post.URL, "error", describe(err))
			continue
		}
		if len(text) <= len(post.Text) {
			continue // the page said less than the feed
		}
		post.Text = text
		post.Lang = postLang(post.Title, post.Text, f.Lang, p.Lang)
	}
}

// changedPosts keeps the posts whose page is worth fetching: new or
// changed ones, as the store tells (see PostFinder).
func (c *Crawler) changedPosts(ctx context.Context, posts []*vplanet.Post, since time.Time) []*vplanet.Post {
	pf, ok := c.store.(PostFinder)
	if !ok {
		if since.IsZero() {
			return posts
		}
		var out []*vplanet.Post
		for _, p := range posts {
			if p.Published.After(since.Add(-24 * time.Hour)) {
				out = append(out, p)
			}
		}
		return out
	}
	ids := make([]string, len(posts))
	for i, p := range posts {
		ids[i] = p.ID
	}
	known, err := pf.FindPosts(ctx, ids)
	if err != nil {
		c.log.Warn("store: cannot tell new posts; no post pages fetched", "error", err)
		return nil
	}
	// By ID, and by link: the ID of a post whose link changed is an alias,
	// which the store answers with the post under its own ID.
	hashes := make(map[string]string, 2*len(known))
	for _, k := range known {
		hashes[k.ID] = k.Hash
		hashes["link\x00"+k.URL] = k.Hash
	}
	var out []*vplanet.Post
	for _, p := range posts {
		h, ok := hashes[p.ID]
		if !ok {
			h, ok = hashes["link\x00"+p.URL]
		}
		if !ok || h != p.Hash {
			out = append(out, p)
		}
	}
	return out
}

// robotsError is a page that robots.txt keeps the crawler from.
type robotsError struct{ url string }

func (e *robotsError) Error() string {
	return "robots.txt does not allow vplanet to fetch " + e.url
}

// notHTMLError is a post's page that is not HTML.
type notHTMLError struct{ contentType string }

func (e *notHTMLError) Error() string {
	return fmt.Sprintf("the page is not HTML (%s)", e.contentType)
}

// pageText fetches a post's page as o says, where robots.txt allows it,
// and returns its main text.
func (c *Crawler) pageText(ctx context.Context, rs *runState, pageURL string, o request) (string, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return "", err
	}
	if !c.robotsFor(ctx, rs.robots, u, o.Private).allowed(u) {
		return "", &robotsError{pageURL}
	}
	resp, err := c.get(ctx, pageURL, o)
	if err != nil {
		return "", err
	}
	defer c.done(resp)
	if resp.Status != 200 {
		return "", fmt.Errorf("unexpected HTTP %d", resp.Status)
	}
	ct := strings.ToLower(resp.ContentType)
	if !strings.Contains(ct, "html") && !(ct == "" && looksLikeHTML(resp.Body)) {
		return "", &notHTMLError{resp.ContentType}
	}
	final, _ := url.Parse(resp.URL)
	return articleText(resp.Body, resp.ContentType, final, maxText)
}

// articleText finds the main text of an HTML page (any charset) with
// readability, leaving navigation, sidebars and footers out. At most max
// bytes are kept.
func articleText(body []byte, contentType string, pageURL *url.URL, max int) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("the page could not be read (%v)", r)
		}
	}()
	page, _ := decode(body, contentType)
	p := readability.NewParser()
	p.MaxElemsToParse = maxPageElements
	// Japanese says in 250 characters what English says in 500.
	p.CharThresholds = 250
	article, err := p.Parse(bytes.NewReader(page), pageURL)
	if err != nil {
		return "", fmt.Errorf("the page could not be read: %w", err)
	}
	if article.Node == nil {
		return "", fmt.Errorf("the page has no main text")
	}
	w := &textWriter{max: max}
	nodeText(article.Node, w)
	if w.b.Len() == 0 {
		return "", fmt.Errorf("the page has no main text")
	}
	return w.String(), nil
}

// nodeText writes the text of n and its children, as htmlText does for
// markup.
func nodeText(n *html.Node, w *textWriter) {
	if w.full() {
		return
	}
	switch n.Type {
	case html.TextNode:
		w.write(n.Data)
		return
	case html.ElementNode:
		if skippedElements[n.DataAtom] {
			return
		}
		if blockElements[n.DataAtom] {
			w.nl = true
		} else if n.DataAtom == atom.Td || n.DataAtom == atom.Th || n.DataAtom == atom.Img {
			w.space = true
		}
	}
	for child := n.FirstChild; child != nil; child = child.NextSibling {
		nodeText(child, w)
	}
	if n.Type == html.ElementNode && blockElements[n.DataAtom] {
		w.nl = true
	}
}

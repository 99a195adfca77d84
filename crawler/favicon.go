package crawler

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"vplanet"
)

// IconStore is a store that keeps each blog's icon (*store.DB does). With
// one, the crawler fetches a blog's icon once, and again every
// faviconEvery.
type IconStore interface {
	UpdateFavicon(ctx context.Context, feedID int64, checked time.Time, icon *vplanet.Favicon) error
}

const (
	// faviconEvery is how often a blog's icon is looked for again: blogs
	// change their icon rarely, and one request a week per blog is
	// nothing to them.
	faviconEvery = 7 * 24 * time.Hour
	// maxFavicon is the largest icon kept. A favicon.ico with 16, 32 and
	// 48 pixel images is about 15 KiB; a site's 180 px touch icon, 30 KiB.
	maxFavicon = 100 << 10
	// maxHomePage is how much of a blog's home page is read for its icon
	// link, which is in the head.
	maxHomePage = 512 << 10
)

// iconTypes are the image types a blog's icon may be, as sniffed from its
// bytes. SVG never is: it can carry script, and vplanet serves the icon
// from its own origin.
var iconTypes = map[string]bool{
	"image/png": true, "image/x-icon": true, "image/gif": true, "image/jpeg": true, "image/webp": true,
}

// declaredIconTypes are the Content-Types a server may send with an icon;
// any other (text/html for an error page, image/svg+xml) refuses it.
var declaredIconTypes = map[string]bool{
	"image/png": true, "image/x-icon": true, "image/vnd.microsoft.icon": true, "image/gif": true,
	"image/jpeg": true, "image/webp": true, "application/octet-stream": true, "": true,
}

// iconDue reports whether the icon of f's blog is to be looked for now.
func (c *Crawler) iconDue(f *vplanet.Feed, now time.Time) bool {
	_, ok := c.store.(IconStore)
	return ok && now.Sub(f.FaviconChecked) >= faviconEvery
}

// updateFavicons looks for the icons that are due, once every feed of the
// run is saved: a first crawl's posts are not held up by icons, and the
// per-host limit serves feeds first.
func (c *Crawler) updateFavicons(ctx context.Context, rs *runState) {
	jobs := make(chan *vplanet.Feed)
	var wg sync.WaitGroup
	for range min(c.workers, len(rs.iconsDue)) {
		wg.Go(func() {
			for f := range jobs {
				c.updateFavicon(ctx, rs, f, f.FetchURL(), c.listedPrivate(ctx, f.URL), time.Now().UTC())
			}
		})
	}
	for _, f := range rs.iconsDue {
		select {
		case jobs <- f:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
}

// updateFavicon looks for the icon of f's blog when it is due, and records
// what it found. Like post pages, the icon comes only from the origin the
// feed was fetched from (fetchedFrom): the blog's home page's
// <link rel="icon">, else /favicon.ico. Failures are logged and leave the
// icon found before.
func (c *Crawler) updateFavicon(ctx context.Context, rs *runState, f *vplanet.Feed, fetchedFrom string, private bool, now time.Time) {
	is, ok := c.store.(IconStore)
	if !ok || now.Sub(f.FaviconChecked) < faviconEvery {
		return
	}
	icon, err := c.favicon(ctx, rs, f.SiteURL, fetchedFrom, private)
	if err != nil {
		c.log.Info("blog icon not found", "feed", f.FetchURL(), "error", describe(err))
	}
	if ctx.Err() != nil {
		return
	}
	if icon != nil {
		icon.Updated = now
	}
	if err := is.UpdateFavicon(ctx, f.ID, now, icon); err != nil {
		c.log.Warn("save blog icon", "feed", f.FetchURL(), "err", err)
		return
	}
	f.FaviconChecked = now
}

// favicon fetches the icon of the blog whose home page is home and whose
// feed was fetched from fetchedFrom. The home page is read where robots.txt
// allows it, as post pages are, and not at all with SkipPages; /favicon.ico,
// which browsers fetch from every site they show, is not a page robots.txt
// speaks of.
func (c *Crawler) favicon(ctx context.Context, rs *runState, home, fetchedFrom string, private bool) (*vplanet.Favicon, error) {
	own := origin(fetchedFrom)
	if own == "" {
		return nil, fmt.Errorf("no origin in %q", fetchedFrom)
	}
	o := request{Accept: "image/webp, image/png, image/x-icon, image/*;q=0.8", Private: private, Origin: own,
		Page: true, MaxBody: maxFavicon}
	var candidates []string
	if u, err := url.Parse(home); err == nil && c.pages && home != "" && origin(home) == own &&
		c.robotsFor(ctx, rs.robots, u, private).allowed(u) {
		links, err := c.iconLinks(ctx, home, request{Accept: pageAccept, Private: private, Origin: own,
			Page: true, MaxBody: maxHomePage})
		if err != nil {
			c.log.Debug("blog home page not read for its icon", "home", home, "error", describe(err))
		}
		for _, l := range links {
			if origin(l) == own {
				candidates = append(candidates, l)
			}
		}
	}
	candidates = append(candidates, own+"/favicon.ico")
	var last error
	for _, u := range candidates {
		icon, err := c.fetchIcon(ctx, u, o)
		if err == nil {
			return icon, nil
		}
		last = fmt.Errorf("%s: %w", u, err)
	}
	return nil, last
}

// iconLinks returns the icons a home page links, best first.
func (c *Crawler) iconLinks(ctx context.Context, home string, o request) ([]string, error) {
	resp, err := c.get(ctx, home, o)
	if err != nil {
		return nil, err
	}
	defer c.done(resp)
	final, err := url.Parse(resp.URL)
	if err != nil {
		return nil, err
	}
	return findIconLinks(resp.Body, final), nil
}

// findIconLinks finds <link rel="icon"> (and "shortcut icon",
// "apple-touch-icon") in a page's head, resolved against its <base> or its
// URL, leaving out those that say they are SVG. rel="icon" comes first:
// it is the small icon made for a tab, which is what vplanet shows.
func findIconLinks(page []byte, pageURL *url.URL) []string {
	z := html.NewTokenizer(bytes.NewReader(page))
	base := pageURL
	var icons, touch []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			return append(icons, touch...)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Body {
				return append(icons, touch...)
			}
			if !hasAttr || (a != atom.Link && a != atom.Base) {
				continue
			}
			attrs := tagAttrs(z)
			if a == atom.Base {
				if u, err := url.Parse(strings.TrimSpace(attrs["href"])); err == nil && base != nil {
					base = base.ResolveReference(u)
				}
				continue
			}
			href := httpURL(base, attrs["href"])
			typ := strings.ToLower(strings.TrimSpace(attrs["type"]))
			if href == "" || strings.Contains(typ, "svg") || strings.HasSuffix(strings.ToLower(href), ".svg") {
				continue
			}
			switch rel := attrs["rel"]; {
			case hasToken(rel, "icon"):
				icons = append(icons, href)
			case hasToken(rel, "apple-touch-icon"), hasToken(rel, "apple-touch-icon-precomposed"):
				touch = append(touch, href)
			}
		}
	}
}

// fetchIcon fetches one icon and checks what it is.
func (c *Crawler) fetchIcon(ctx context.Context, u string, o request) (*vplanet.Favicon, error) {
	resp, err := c.get(ctx, u, o)
	if err != nil {
		return nil, err
	}
	defer c.done(resp)
	return checkIcon(resp.Body, resp.ContentType)
}

// checkIcon returns body as an icon when its bytes are one of iconTypes
// and the server did not declare another type.
func checkIcon(body []byte, contentType string) (*vplanet.Favicon, error) {
	declared, _, _ := mime.ParseMediaType(contentType)
	if contentType != "" && !declaredIconTypes[strings.ToLower(declared)] {
		return nil, fmt.Errorf("not an icon: the server says %s", contentType)
	}
	if len(body) == 0 {
		return nil, fmt.Errorf("not an icon: the body is empty")
	}
	sniffed := http.DetectContentType(body)
	if !iconTypes[sniffed] {
		return nil, fmt.Errorf("not an icon: the bytes are %s", sniffed)
	}
	return &vplanet.Favicon{ContentType: sniffed, Data: bytes.Clone(body)}, nil
}

package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"vplanet"
	"vplanet/websub"
)

// Subscriber is what the crawler asks of a WebSub subscriber
// (*websub.Manager is one): to subscribe a feed to the hubs its fetched
// document names, and the feed's subscription, which sets how often a
// feed that pushes is still polled.
type Subscriber interface {
	Subscribe(ctx context.Context, feed string, links websub.Links) (websub.Subscription, error)
	Find(ctx context.Context, feed string) (websub.Subscription, error)
}

// pushStore is a store that saves a push apart from a fetch, leaving the
// feed's fetch state to the crawl that may be fetching it at the same
// moment; *store.DB is one. Another store saves a push as a fetch.
type pushStore interface {
	SavePush(ctx context.Context, feed *vplanet.Feed, posts []*vplanet.Post) (created, updated int, err error)
}

// pushQuiet is how long after its last push (or its verification, before
// any) an active subscription counts as pushing: a hub silent longer has
// probably stopped, and the feed falls back to its own rhythm.
const pushQuiet = 7 * 24 * time.Hour

// pushedRhythm is the rhythm of a feed whose hub pushes: polling goes on
// as a safety net for pushes a hub drops, at four times the longest
// rhythm (8 h with the default 2 h), at most daily.
func (c *Crawler) pushedRhythm(every time.Duration) time.Duration {
	return max(every, min(4*c.bounds.max, 24*time.Hour))
}

// pushing reports whether s is an active subscription whose hub has
// pushed (or verified it) recently.
func pushing(s websub.Subscription, now time.Time) bool {
	if s.State != websub.StateActive || (!s.Expires.IsZero() && !now.Before(s.Expires)) {
		return false
	}
	last := s.Pushed
	if last.IsZero() {
		last = s.Asked
	}
	return now.Sub(last) < pushQuiet
}

// subscribe hands the hubs a fetched feed names (links, nil after a 304)
// to the subscriber and returns the feed's rhythm: every, or the slower
// one while its hub pushes. A hub's failure is the subscription's state,
// shown with the feed; it never fails the fetch.
func (c *Crawler) subscribe(ctx context.Context, f *vplanet.Feed, links *websub.Links, every time.Duration, now time.Time) time.Duration {
	if c.subs == nil {
		return every
	}
	var s websub.Subscription
	var err error
	if links != nil && len(links.Hubs) > 0 {
		s, err = c.subs.Subscribe(ctx, f.URL, *links)
	} else {
		s, err = c.subs.Find(ctx, f.URL)
		if err == nil && links != nil {
			// The feed no longer names a hub: Subscribe drops the old
			// subscription.
			s, err = c.subs.Subscribe(ctx, f.URL, *links)
		}
	}
	switch {
	case errors.Is(err, websub.ErrNotFound), errors.Is(err, websub.ErrNoHub):
		return every
	case err != nil:
		c.log.Info("websub subscription", "feed", f.URL, "error", err)
	}
	if pushing(s, now) {
		return c.pushedRhythm(every)
	}
	return every
}

// discover reads the hubs and self link of a fetched feed, from its Link
// header and its document (WebSub section 4).
func discover(resp *response) *websub.Links {
	links := websub.Discover(http.Header{"Link": resp.Link}, resp.Body, resp.URL)
	return &links
}

// Ingest takes a feed document that arrived without a fetch (a WebSub
// hub's content distribution for the feed listed as feedURL) through the
// path a fetched one takes: decode, parse, normalize, fetch the pages of
// excerpts, store. It records the feed's success and leaves its fetch
// state (validators, next attempt) as it was.
func (c *Crawler) Ingest(ctx context.Context, feedURL string, body []byte, contentType string) error {
	if int64(len(body)) > c.maxBody {
		return fmt.Errorf("ingest %s: %w", feedURL, &tooLargeError{Size: int64(len(body)), Limit: c.maxBody})
	}
	feeds, err := c.store.FindFeeds(ctx, vplanet.FeedFilter{Active: true})
	if err != nil {
		return fmt.Errorf("ingest %s: find feeds: %w", feedURL, err)
	}
	var f *vplanet.Feed
	for _, cand := range feeds {
		if cand.URL == feedURL {
			f = cand
			break
		}
	}
	if f == nil {
		return fmt.Errorf("ingest %s: the feed is not listed: %w", feedURL, vplanet.ErrNotFound)
	}
	now := time.Now().UTC()
	from := f.FetchURL()
	p, err := c.norm.parse(body, contentType, from, f.Lang, now)
	if err != nil {
		return fmt.Errorf("ingest %s: %w", feedURL, err)
	}
	if p.Title != "" {
		f.Title = p.Title
	}
	if p.SiteURL != "" {
		f.SiteURL = p.SiteURL
	}
	since := f.LastSuccess
	f.LastSuccess = now
	if c.pages {
		c.fetchPages(ctx, &runState{robots: newRobotsCache()}, f, p, since, from, c.listedPrivate(ctx, f.URL))
	}
	for _, post := range p.Posts {
		post.FeedID = f.ID
	}
	save := c.store.SaveFetch
	if ps, ok := c.store.(pushStore); ok {
		save = ps.SavePush
	}
	created, updated, err := save(ctx, f, p.Posts)
	if err != nil {
		return fmt.Errorf("ingest %s: %w", feedURL, err)
	}
	c.log.Info("feed pushed", "feed", f.URL, "posts", len(p.Posts), "new", created, "updated", updated)
	return nil
}

// Private reports whether the crawler's address policy counts addr as
// private: the classifier a WebSub subscriber takes, so that a hub is
// contacted only where the feed naming it could have been fetched.
func (c *Crawler) Private(addr netip.Addr) bool { return !c.public(addr) }

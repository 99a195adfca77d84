package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"sync"
	"time"

	"vplanet"
	"vplanet/store"
)

// feedCache keeps recently rendered feeds by ETag, so that a reader that
// polls without conditional headers, or many readers of the same feed,
// cost one render between changes. It is bounded by total bytes and
// forgets the oldest entries first; a changed store changes the ETag, so
// entries never go stale, they only stop being asked for.
type feedCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order []string // oldest first
	m     map[string]*cachedFeed
}

type cachedFeed struct {
	body     []byte
	gzipped  []byte // made on first demand
	modified time.Time
	gzOnce   sync.Once
}

func newFeedCache(maxBytes int) *feedCache {
	return &feedCache{max: maxBytes, m: map[string]*cachedFeed{}}
}

func (c *feedCache) get(etag string) *cachedFeed {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[etag]
}

func (c *feedCache) put(etag string, body []byte, modified time.Time) *cachedFeed {
	f := &cachedFeed{body: body, modified: modified}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[etag]; ok {
		return old
	}
	if len(body) > c.max/4 {
		return f // too big to be worth keeping
	}
	c.m[etag] = f
	c.order = append(c.order, etag)
	c.size += len(body)
	for c.size > c.max && len(c.order) > 0 {
		oldest := c.order[0]
		c.order = c.order[1:]
		if o := c.m[oldest]; o != nil {
			// Gzipped copies are not counted; they are smaller than the body.
			c.size -= len(o.body)
			delete(c.m, oldest)
		}
	}
	return f
}

// gzip returns the body compressed, compressing it once.
func (f *cachedFeed) gzip() []byte {
	f.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(f.body)
		zw.Close()
		f.gzipped = buf.Bytes()
	})
	return f.gzipped
}

// blogCache keeps the store's feed list for a short while: the search page
// and the feeds need blog names and home pages for every request, which
// change only when a crawl learns a new title, while reading them counts
// every feed's posts.
type blogCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	fetched time.Time
	bySlug  map[string]*vplanet.Feed
	byID    map[int64]*vplanet.Feed
	now     func() time.Time
}

func newBlogCache(ttl time.Duration) *blogCache {
	return &blogCache{ttl: ttl, now: time.Now}
}

// get returns the feeds by slug and by ID, reading the store when the copy
// is older than the TTL. The maps are shared: callers must not change them.
func (c *blogCache) get(ctx context.Context, st *store.DB) (bySlug map[string]*vplanet.Feed, byID map[int64]*vplanet.Feed, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bySlug != nil && c.now().Sub(c.fetched) < c.ttl {
		return c.bySlug, c.byID, nil
	}
	feeds, err := st.FindFeeds(ctx, vplanet.FeedFilter{})
	if err != nil {
		return nil, nil, fmt.Errorf("blogs: %w", err)
	}
	c.bySlug = make(map[string]*vplanet.Feed, len(feeds))
	c.byID = make(map[int64]*vplanet.Feed, len(feeds))
	for _, f := range feeds {
		c.bySlug[f.Slug] = f
		c.byID[f.ID] = f
	}
	c.fetched = c.now()
	return c.bySlug, c.byID, nil
}

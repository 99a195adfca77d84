// Package vplanet holds the domain types that every part of vplanet shares:
// feeds, their crawl state, posts, and the sentinel errors that cross package
// boundaries. It depends on nothing but the standard library.
//
// The data flows feeds.txt → crawler → store → index → server; each step has
// its own package, and this one is the vocabulary they speak.
package vplanet

import (
	"errors"
	"time"
)

// Version is vplanet's version. Release builds set it with
// -ldflags "-X vplanet.Version=…".
var Version = "0.1.0-dev"

// UserAgent is sent with every request the crawler makes.
func UserAgent() string {
	return "vplanet/" + Version + " (+https://github.com/vplanet/vplanet; feed crawler)"
}

// Sentinel errors, compared with errors.Is.
var (
	// ErrNotFound means the feed or post asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrBadQuery means a search query could not be understood; the error's
	// text says why, in words a person can act on.
	ErrBadQuery = errors.New("bad query")
	// ErrLocked means another process holds a lock (the crawl lock, the
	// index); the error's text names the holder.
	ErrLocked = errors.New("locked")
)

// Feed statuses, as shown by `vplanet feeds` and /api/feeds.
const (
	StatusNew     = "new"     // listed, not fetched yet
	StatusOK      = "ok"      // last fetch succeeded
	StatusError   = "error"   // last fetch failed; retried after a backoff
	StatusGone    = "gone"    // answered 410 Gone; not fetched again until its line changes
	StatusRemoved = "removed" // no longer in feeds.txt; its posts left search
)

// FeedSource is one line of feeds.txt: what the operator asked for.
type FeedSource struct {
	URL  string // a feed URL or a blog's home page
	Name string // optional display name
	Lang string // optional language ("ja", "en")
	Line int    // line number in feeds.txt, for error messages
}

// Feed is a blog's feed as the store knows it: what the operator listed and
// what the crawler learned.
type Feed struct {
	ID   int64
	Slug string // short stable identifier used in URLs and blog: filters
	URL  string // as listed in feeds.txt
	Name string // from feeds.txt; empty means use Title
	Lang string // from feeds.txt; empty means detect

	// Learned by crawling.
	FeedURL      string // where the feed is fetched: autodiscovered, or moved by a permanent redirect
	Title        string // the feed's own title
	SiteURL      string // the blog's home page
	Status       string
	ETag         string
	LastModified string
	LastSuccess  time.Time // last fetch that succeeded (200 or 304)
	LastAttempt  time.Time
	NextAttempt  time.Time // the feed is due at or after this time
	LastError    string    // empty after a success
	ErrorCount   int       // consecutive failures, for backoff
	Redirect     string    // the permanent redirect last followed, "old → new", for the operator
	Dropped      int       // items beyond the newest 1,000 of the last full fetch, not stored
	// FaviconChecked is when the crawler last looked for the blog's icon.
	FaviconChecked time.Time

	PostCount  int  // visible posts; filled by queries that ask for it
	HasFavicon bool // the store holds the blog's icon; filled with PostCount
}

// DisplayName is the name people see: the operator's name, else the feed's
// title, else its URL.
func (f *Feed) DisplayName() string {
	switch {
	case f.Name != "":
		return f.Name
	case f.Title != "":
		return f.Title
	}
	return f.URL
}

// FetchURL is the URL the crawler should fetch next.
func (f *Feed) FetchURL() string {
	if f.FeedURL != "" {
		return f.FeedURL
	}
	return f.URL
}

// Post is one blog post, normalized by the crawler.
type Post struct {
	ID        string // stable across crawls and feeds; see crawler.PostID
	FeedID    int64
	GUID      string
	URL       string
	Title     string // plain text, never markup
	Author    string
	Published time.Time // UTC
	Updated   time.Time // UTC
	Content   string    // sanitized HTML, safe to render
	Text      string    // plain text extracted for the index
	Lang      string    // "ja" or "en" (or another code the feed declared)
	Hash      string    // digest of what the post shows; an unchanged hash costs nothing

	// Filled by the store.
	Seq       int64     // change sequence: bumped every time the post changes or its visibility does
	FirstSeen time.Time // when vplanet first stored the post
	Visible   bool      // false once its feed left feeds.txt; the index deletes invisible posts
	BlogSlug  string    // the feed's Slug
	BlogName  string    // the feed's DisplayName
	// MergedInto, when set, is the ID of the post this ID now names: the
	// post's link changed and its GUID stayed, so the link's ID became an
	// alias. Such a row is never Visible.
	MergedInto string
}

// Favicon is a blog's icon, as vplanet serves it from /blogs/{id}/favicon.
type Favicon struct {
	ContentType string // sniffed from Data: image/png, image/x-icon, image/gif, image/jpeg or image/webp
	Data        []byte
	Updated     time.Time // when it was fetched
}

// FeedFilter selects feeds from the store.
type FeedFilter struct {
	Active bool      // only feeds listed in feeds.txt (Status != removed)
	DueBy  time.Time // non-zero: only active feeds, not gone, whose NextAttempt <= DueBy
}

// PostFilter selects visible posts from the store, newest first.
type PostFilter struct {
	FeedID int64 // 0: every feed
	Limit  int
}

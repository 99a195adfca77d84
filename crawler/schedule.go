package crawler

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
)

// The bounds of a feed's rhythm: however often a blog posts, its feed is
// not checked more often than minRhythm, and however rarely, at least once
// every maxRhythm. A quiet blog's new post is thus seen within about two
// hours: a planet is read for what is new, and the check of a feed that
// has not changed is a conditional GET answered 304, which costs its
// server next to nothing.
const (
	minRhythm = 15 * time.Minute
	maxRhythm = 2 * time.Hour
	// rhythmStep is the grain of a rhythm. A rhythm is kept, after a 304,
	// as the gap between the last and the next attempt; rounding both ways
	// to the same grain keeps it from drifting down by the time a run
	// takes to reach the feed.
	rhythmStep = 5 * time.Minute
	// rhythmWindow is how many of the newest dated posts the rhythm is
	// learned from.
	rhythmWindow = 10
)

// hints is what a feed and its response say about when to look again.
type hints struct {
	TTL         time.Duration // RSS <ttl>
	Syndication time.Duration // <sy:updatePeriod> divided by <sy:updateFrequency>
	MaxAge      time.Duration // Cache-Control max-age, else Expires less Date
}

// floor is the longest of the hints: each says not to look before it.
func (h hints) floor() time.Duration { return max(h.TTL, h.Syndication, h.MaxAge) }

// rhythm decides how long after now a fetched feed is checked again, from
// the dates of its posts (zero dates are ignored) and the hints of the feed
// and its server; fallback is the wait when the posts tell nothing.
//
// The posting interval is the mean gap between the newest rhythmWindow
// dated posts. A blog that has fallen silent is not checked as often as it
// once posted: the wait is at least half the time since its newest post.
// The hints only lengthen the wait. The result is kept between minRhythm
// and maxRhythm, in steps of rhythmStep.
func rhythm(dates []time.Time, h hints, now time.Time, fallback time.Duration) time.Duration {
	d := fallback
	if gap, ok := postingInterval(dates, now); ok {
		d = gap
	}
	return roundRhythm(max(d, h.floor()))
}

// postingInterval is the mean gap between the newest dated posts, or at
// least half the time since the newest; ok is false when fewer than two
// distinct dates are known.
func postingInterval(dates []time.Time, now time.Time) (time.Duration, bool) {
	ds := make([]time.Time, 0, len(dates))
	for _, t := range dates {
		if !t.IsZero() {
			ds = append(ds, t)
		}
	}
	slices.SortFunc(ds, func(a, b time.Time) int { return b.Compare(a) }) // newest first
	ds = ds[:min(len(ds), rhythmWindow)]
	if len(ds) < 2 || ds[0].Equal(ds[len(ds)-1]) {
		return 0, false
	}
	gap := ds[0].Sub(ds[len(ds)-1]) / time.Duration(len(ds)-1)
	if silent := now.Sub(ds[0]); silent > 0 {
		gap = max(gap, silent/2)
	}
	return gap, true
}

// roundRhythm clamps d between minRhythm and maxRhythm and rounds it to
// rhythmStep.
func roundRhythm(d time.Duration) time.Duration {
	return min(max(d.Round(rhythmStep), minRhythm), maxRhythm)
}

// dueSlack is how much earlier than its rhythm a feed is made due, so that
// a run on a schedule of the same period finds it due even when the run
// before reached it late.
func dueSlack(d time.Duration) time.Duration { return min(d/10, 5*time.Minute) }

// previousRhythm recovers the rhythm a feed was given by its last success
// from its last and next attempts (see dueSlack), or 0 when they do not
// hold one.
func previousRhythm(lastAttempt, nextAttempt time.Time) time.Duration {
	if lastAttempt.IsZero() || !nextAttempt.After(lastAttempt) {
		return 0
	}
	gap := nextAttempt.Sub(lastAttempt)
	if gap >= 45*time.Minute { // d ≥ 50m: the slack was 5m
		return roundRhythm(gap + 5*time.Minute)
	}
	return roundRhythm(gap * 10 / 9)
}

// feedHints reads the TTL and the syndication module's update period of a
// parsed feed.
func feedHints(f *gofeed.Feed) hints {
	var h hints
	if n, err := strconv.Atoi(strings.TrimSpace(f.Custom[ttlKey])); err == nil && n > 0 {
		h.TTL = time.Duration(min(n, 7*24*60)) * time.Minute
	}
	sy := f.Extensions["sy"]
	if sy == nil {
		return h
	}
	var period time.Duration
	switch strings.ToLower(strings.TrimSpace(extValue(sy["updatePeriod"]))) {
	case "hourly":
		period = time.Hour
	case "daily":
		period = 24 * time.Hour
	case "weekly":
		period = 7 * 24 * time.Hour
	case "monthly":
		period = 30 * 24 * time.Hour
	case "yearly":
		period = 365 * 24 * time.Hour
	default:
		return h
	}
	freq, err := strconv.Atoi(strings.TrimSpace(extValue(sy["updateFrequency"])))
	if err != nil || freq < 1 {
		freq = 1
	}
	h.Syndication = period / time.Duration(freq)
	return h
}

// extValue is the text of the first of an extension's elements.
func extValue(es []ext.Extension) string {
	if len(es) == 0 {
		return ""
	}
	return es[0].Value
}

// cacheLifetime reads how long a response may be cached: Cache-Control
// max-age (s-maxage is for shared caches, not us), else Expires less Date.
// No-cache, no-store and a missing or past lifetime give 0.
func cacheLifetime(h http.Header, now time.Time) time.Duration {
	for _, directive := range strings.Split(h.Get("Cache-Control"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(k) {
		case "no-cache", "no-store":
			return 0
		case "max-age":
			secs, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
			if err != nil || secs <= 0 {
				return 0
			}
			return time.Duration(min(secs, int64(7*24*3600))) * time.Second
		}
	}
	exp, err := http.ParseTime(h.Get("Expires"))
	if err != nil {
		return 0
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		date = now
	}
	return min(max(exp.Sub(date), 0), 7*24*time.Hour)
}

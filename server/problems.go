package server

import (
	"strings"
	"time"

	"vplanet"
)

// problem is the kind of a feed's last error that the public pages show:
// what a reader can act on (tell the blog's author its feed is gone, or
// wait for a site that is down), never the error itself, which may name
// internal hosts and ports or echo what answered there. The full error
// goes to the log, `vplanet feeds`, and /api/feeds with the operator's
// token.
func problem(f *vplanet.Feed) string {
	if f.Status == vplanet.StatusGone {
		return "gone"
	}
	if f.LastError == "" {
		return ""
	}
	e := strings.ToLower(f.LastError)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(e, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("http 410"):
		return "gone"
	case has("http 404"):
		return "not_found"
	case has("http 401", "http 403", "refuses"):
		return "refused"
	case has("not allowed", "private address", "loopback", "link-local", "internal address"):
		return "blocked"
	case has("redirect"):
		return "redirects"
	case has("too large"):
		return "too_big"
	case has("timed out", "timeout"):
		return "timeout"
	case has("not a feed", "malformed feed", "response is empty", "no rss"):
		return "not_feed"
	case has("http 429", "http 5"):
		return "server"
	case has("connection refused", "host not found", "dns", "unreachable", "connection reset",
		"closed the connection", "tls", "certificate", "malformed http", "eof"):
		return "unreachable"
	}
	return "other"
}

// problemWords is the English word of each problem, as /api/feeds gives it.
var problemWords = map[string]string{
	"unreachable": "unreachable",
	"timeout":     "timed out",
	"not_feed":    "not a feed",
	"gone":        "gone",
	"not_found":   "not found",
	"refused":     "refused by the site",
	"server":      "the site's server failed",
	"redirects":   "too many redirects",
	"too_big":     "too big",
	"blocked":     "address not allowed",
	"other":       "failed",
}

// Problem is a feed's problem in the page's language, "" when it has none.
func (p *page) Problem(f *vplanet.Feed) string {
	if k := problem(f); k != "" {
		return p.T("problem_" + k)
	}
	return ""
}

// NextCheck says when a feed is checked next: a time to come, or "due now"
// for one whose time has passed (it waits for the next crawl, which may be
// a schedule's period away): never a time in the past.
func (p *page) NextCheck(f *vplanet.Feed) string {
	switch {
	case f.Status == vplanet.StatusGone || f.Status == vplanet.StatusRemoved:
		return "—"
	case f.NextAttempt.IsZero() || !f.NextAttempt.After(p.now):
		return p.T("due_now")
	}
	return p.Ago(f.NextAttempt)
}

// Ago says when t was, or will be, in words of the page's language:
// "5 minutes ago", "in 2 hours", "昨日"; beyond a month, the date.
func (p *page) Ago(t time.Time) string {
	if t.IsZero() {
		return p.T("never")
	}
	d := p.now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return p.T("just_now")
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 24*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	case d < 31*24*time.Hour:
		n, unit = int(d/(24*time.Hour)), "day"
	default:
		return p.Date(t)
	}
	key := "ago_" + unit
	if future {
		key = "in_" + unit
	}
	return p.N(key, n)
}

// Exact is t to the minute in the page's time zone, for a title on hover.
func (p *page) Exact(t time.Time) string { return p.DateTime(t) }

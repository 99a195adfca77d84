package crawler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// maxRobots is the most of a robots.txt read (RFC 9309 asks for at least
// 500 KiB).
const maxRobots = 512 << 10

// robotsAgent is the product token vplanet looks for in robots.txt groups.
const robotsAgent = "vplanet"

// robots is what a site's robots.txt allows the crawler: the rules of the
// group for robotsAgent, else of the group for "*".
type robots struct {
	rules []robotsRule
	none  bool // the file could not be read: no page may be fetched
}

type robotsRule struct {
	allow   bool
	pattern string
}

// parseRobots reads a robots.txt (RFC 9309) for robotsAgent. Unknown lines
// are ignored; a file that says nothing allows everything.
func parseRobots(body []byte) *robots {
	var (
		own, anyRules []robotsRule
		hasOwn        bool
		inOwn         bool // the current group applies to robotsAgent
		inAny         bool // the current group applies to *
		agentRun      bool // the previous line was a user-agent line
	)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), maxRobots)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		switch key {
		case "user-agent":
			if !agentRun {
				inOwn, inAny = false, false
			}
			agentRun = true
			name := strings.ToLower(value)
			switch {
			case name == "*":
				inAny = true
			case name == robotsAgent || strings.HasPrefix(name, robotsAgent+"/"):
				inOwn, hasOwn = true, true
			}
		case "allow", "disallow":
			agentRun = false
			if value == "" {
				continue // "Disallow:" with nothing allows everything
			}
			r := robotsRule{allow: key == "allow", pattern: value}
			if inOwn {
				own = append(own, r)
			}
			if inAny {
				anyRules = append(anyRules, r)
			}
		default:
			agentRun = false
		}
	}
	if hasOwn {
		return &robots{rules: own}
	}
	return &robots{rules: anyRules}
}

// allowed reports whether the path (with its query) of u may be fetched:
// the longest matching rule decides, allow winning a tie; no rule allows.
func (r *robots) allowed(u *url.URL) bool {
	if r.none {
		return false
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if path == "/robots.txt" {
		return true
	}
	best, allow := -1, true
	for _, rule := range r.rules {
		if !robotsMatch(rule.pattern, path) {
			continue
		}
		if n := len(rule.pattern); n > best || n == best && rule.allow {
			best, allow = n, rule.allow
		}
	}
	return allow
}

// robotsMatch matches a robots.txt path pattern against the start of
// path: * matches any run of characters, and a final $ anchors the end.
func robotsMatch(pattern, path string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	parts := strings.Split(strings.TrimSuffix(pattern, "$"), "*")
	if !strings.HasPrefix(path, parts[0]) {
		return false
	}
	pos := len(parts[0])
	for i := 1; i < len(parts); i++ {
		part := parts[i]
		if i == len(parts)-1 && anchored {
			return len(path)-pos >= len(part) && strings.HasSuffix(path, part)
		}
		j := strings.Index(path[pos:], part)
		if j < 0 {
			return false
		}
		pos += j + len(part)
	}
	return !anchored || pos == len(path)
}

// robotsCache holds each host's robots.txt for one run, fetched once
// however many workers ask for it at once.
type robotsCache struct {
	mu    sync.Mutex
	hosts map[string]*robotsEntry
}

type robotsEntry struct {
	ready chan struct{}
	r     *robots
}

func newRobotsCache() *robotsCache { return &robotsCache{hosts: map[string]*robotsEntry{}} }

// robotsFor returns what the robots.txt of u's site allows: a missing file
// (any 4xx) allows everything; a file that cannot be fetched (a 5xx, a
// network error) allows nothing, as RFC 9309 asks.
func (c *Crawler) robotsFor(ctx context.Context, cache *robotsCache, u *url.URL, private bool) *robots {
	key := strings.ToLower(u.Scheme + "://" + u.Host)
	cache.mu.Lock()
	e, ok := cache.hosts[key]
	if !ok {
		e = &robotsEntry{ready: make(chan struct{})}
		cache.hosts[key] = e
	}
	cache.mu.Unlock()
	if ok {
		select {
		case <-e.ready:
			return e.r
		case <-ctx.Done():
			return &robots{none: true}
		}
	}
	e.r = c.fetchRobots(ctx, key+"/robots.txt", private)
	close(e.ready)
	return e.r
}

func (c *Crawler) fetchRobots(ctx context.Context, robotsURL string, private bool) *robots {
	resp, err := c.get(ctx, robotsURL, request{Accept: "text/plain, */*;q=0.5", MaxBody: maxRobots, Private: private, Page: true})
	var he *httpError
	switch {
	case errors.As(err, &he) && he.Code >= 400 && he.Code < 500 && he.Code != http.StatusTooManyRequests:
		// No robots.txt: everything is allowed. (429 asks to wait: it is
		// a failure to fetch, below.)
		return &robots{}
	case err != nil:
		c.log.Info("robots.txt unreadable; the site's pages are not fetched", "url", robotsURL, "error", describe(err))
		return &robots{none: true}
	}
	defer c.done(resp)
	return parseRobots(resp.Body)
}

package crawler

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vplanet"
)

// maxRedirects is how many redirects one fetch follows.
const maxRedirects = 5

// newClients returns the crawler's own HTTP clients: bounded connect, TLS
// and header waits, gzip, and at most maxRedirects redirects, a loop being
// an error. The whole-body timeout is the request's context. The guarded
// client connects to addresses that public approves only (see guard); the
// open one, for feeds listed at private addresses, anywhere. They share no
// connections, so a connection made for a trusted feed is never reused by
// another.
func newClients(timeout time.Duration, perHost int, public func(netip.Addr) bool) (open, guarded *http.Client) {
	dialer := net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	g := newGuard(dialer, public)
	return newClient(timeout, perHost, dialer.DialContext), newClient(timeout, perHost, g.DialContext)
}

func newClient(timeout time.Duration, perHost int, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	tr := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dial,
		TLSHandshakeTimeout:    min(timeout, 10*time.Second),
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    perHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}
}

// redirectError is a redirect loop or a chain of redirects too long.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

func checkRedirect(req *http.Request, via []*http.Request) error {
	next := req.URL.String()
	for _, r := range via {
		if r.URL.String() == next {
			return &redirectError{fmt.Sprintf("redirect loop: %s leads back to %s", via[len(via)-1].URL, next)}
		}
	}
	if len(via) > maxRedirects {
		return &redirectError{fmt.Sprintf("too many redirects: more than %d, the last to %s", maxRedirects, next)}
	}
	return nil
}

// response is what one fetch brought back.
type response struct {
	Status       int
	URL          string // the final URL, after redirects
	Moved        string // the final URL when every redirect was permanent (301, 308), else ""
	ContentType  string
	ETag         string
	LastModified string
	RetryAfter   time.Time     // from a 429 or 503, else zero
	MaxAge       time.Duration // how long the response may be cached (see cacheLifetime)
	Body         []byte        // nil unless Status is 200; give it back with Crawler.done
	Link         []string      // the Link header's values, where a feed may name its WebSub hub
	held         int64         // room the body holds in budget
	budget       *budget       // the budget the room is from
}

// httpError is an HTTP status that is not a success.
type httpError struct {
	Code       int
	RetryAfter time.Time
}

func (e *httpError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	if http.StatusText(e.Code) == "" {
		msg = fmt.Sprintf("HTTP %d", e.Code)
	}
	switch {
	case e.Code == http.StatusGone:
		msg += ": the feed was removed; it is not fetched again until its line in feeds.txt changes"
	case !e.RetryAfter.IsZero():
		msg += ": the server asks to wait until " + e.RetryAfter.UTC().Format("2006-01-02 15:04 MST")
	case e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden:
		msg += ": the server refuses vplanet; the feed may need another URL"
	}
	return msg
}

// tooLargeError is a body over the size limit.
type tooLargeError struct{ Size, Limit int64 }

func (e *tooLargeError) Error() string {
	if e.Size > 0 {
		return fmt.Sprintf("feed too large: %s, over the %s limit", byteSize(e.Size), byteSize(e.Limit))
	}
	return fmt.Sprintf("feed too large: over the %s limit", byteSize(e.Limit))
}

// feedAccept is the Accept header of a feed's request.
const feedAccept = "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.7, */*;q=0.5"

// request is what get asks for besides the URL.
type request struct {
	Accept       string
	ETag         string // If-None-Match
	LastModified string // If-Modified-Since
	MaxBody      int64  // 0: the crawler's MaxBody
	// Private lets the request connect to non-public addresses: it is on
	// behalf of a feed feeds.txt lists at such an address.
	Private bool
	// Origin, when set, is the only origin (scheme, host, port) the request
	// and each of its redirects may go to.
	Origin string
	// Page makes the body take its room from the budget of post pages and
	// robots.txt files, which a feed's work fetches while it holds room in
	// the parse budget (see Crawler.parsing).
	Page bool
}

// fetch GETs a feed conditionally, reading at most maxBody bytes of the
// body. A 200 or 304 returns a response; any other status returns an
// *httpError; a failure to connect or read, an error. The caller gives the
// body back with done as soon as it has parsed it.
func (c *Crawler) fetch(ctx context.Context, rawURL, etag, lastModified string, private bool) (*response, error) {
	return c.get(ctx, rawURL, request{Accept: feedAccept, ETag: etag, LastModified: lastModified, Private: private})
}

// done gives the room of resp's body back to the crawler's budget. It may
// be called more than once, and with nil.
func (c *Crawler) done(resp *response) {
	if resp == nil || resp.budget == nil {
		return
	}
	resp.budget.release(resp.held)
	resp.held, resp.Body = 0, nil
}

// get GETs rawURL within the per-host limit, the timeout and the body
// budget; see fetch.
func (c *Crawler) get(ctx context.Context, rawURL string, o request) (*response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bad feed URL: %w", err)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = c.maxBody
	}
	client := c.guarded
	if o.Private {
		client = c.open
	}
	if o.Origin != "" {
		if origin(rawURL) != o.Origin {
			return nil, &otherOriginError{URL: rawURL, Origin: o.Origin}
		}
		bound := *client
		bound.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if origin(req.URL.String()) != o.Origin {
				return &otherOriginError{URL: req.URL.String(), Origin: o.Origin}
			}
			return checkRedirect(req, via)
		}
		client = &bound
	}
	// Waiting for the host is not the server's time: the timeout starts after.
	release, err := c.hosts.acquire(ctx, u.Host)
	if err != nil {
		return nil, err
	}
	defer release()

	// The timeout covers the server's time only: it stops while the body
	// waits for room in the crawler's budget (see requestClock).
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	clock := startClock(c.timeout, func() { cancel(errTimedOut) })
	defer clock.stop()
	r, err := c.do(ctx, client, rawURL, o, clock)
	if err != nil && errors.Is(context.Cause(ctx), errTimedOut) {
		err = fmt.Errorf("%w: %w", errTimedOut, err)
	}
	return r, err
}

// errTimedOut is a request that took longer than the crawler's timeout.
var errTimedOut = fmt.Errorf("request timed out: %w", context.DeadlineExceeded)

// requestClock is a request's timeout, which can be paused.
type requestClock struct {
	t     *time.Timer
	left  time.Duration
	since time.Time
}

func startClock(d time.Duration, f func()) *requestClock {
	return &requestClock{t: time.AfterFunc(d, f), left: d, since: time.Now()}
}

// pause stops the clock until resume is called. It is called from the
// request's goroutine only.
func (c *requestClock) pause() (resume func()) {
	if c == nil || !c.t.Stop() {
		return func() {} // no clock, or it has run out
	}
	c.left -= time.Since(c.since)
	return func() {
		c.since = time.Now()
		c.t.Reset(max(c.left, 0))
	}
}

func (c *requestClock) stop() { c.t.Stop() }

// do makes the request of get.
func (c *Crawler) do(ctx context.Context, client *http.Client, rawURL string, o request, clock *requestClock) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("bad feed URL: %w", err)
	}
	req.Header.Set("User-Agent", vplanet.UserAgent())
	req.Header.Set("Accept", o.Accept)
	if o.ETag != "" {
		req.Header.Set("If-None-Match", o.ETag)
	}
	if o.LastModified != "" {
		req.Header.Set("If-Modified-Since", o.LastModified)
	}

	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()

	r := &response{
		Status:       resp.StatusCode,
		URL:          resp.Request.URL.String(),
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		MaxAge:       cacheLifetime(resp.Header, time.Now()),
		Link:         resp.Header.Values("Link"),
	}
	r.Moved = permanentTarget(resp)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return r, nil
	default:
		e := &httpError{Code: resp.StatusCode}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return nil, e
	}
	bodies := c.bodies
	if o.Page {
		bodies = c.pageBodies
	}
	body, held, err := bodies.readBody(ctx, resp.Body, resp.ContentLength, o.MaxBody, clock.pause)
	if err != nil {
		bodies.release(held)
		var tl *tooLargeError
		if errors.As(err, &tl) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	r.Body, r.held, r.budget = body, held, bodies
	return r, nil
}

// permanentTarget returns the final URL of resp when it was reached only
// through permanent redirects, else "".
func permanentTarget(resp *http.Response) string {
	req := resp.Request
	if req.Response == nil {
		return ""
	}
	for r := req; r.Response != nil; r = r.Response.Request {
		if c := r.Response.StatusCode; c != http.StatusMovedPermanently && c != http.StatusPermanentRedirect {
			return ""
		}
	}
	return req.URL.String()
}

// retryAfter parses a Retry-After header: seconds or an HTTP date. The wait
// is kept between a minute and a week.
func retryAfter(h string, now time.Time) time.Time {
	h = strings.TrimSpace(h)
	if h == "" {
		return time.Time{}
	}
	var t time.Time
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		t = now.Add(time.Duration(min(max(secs, 0), int64(7*24*3600))) * time.Second)
	} else if d, err := http.ParseTime(h); err == nil {
		t = d
	} else {
		return time.Time{}
	}
	return clampDuration(t, now, time.Minute, 7*24*time.Hour).UTC()
}

func clampDuration(t, now time.Time, lo, hi time.Duration) time.Time {
	switch {
	case t.Before(now.Add(lo)):
		return now.Add(lo)
	case t.After(now.Add(hi)):
		return now.Add(hi)
	}
	return t
}

// describe turns a fetch error into words a person can act on.
func describe(err error) string {
	var (
		he   *httpError
		tl   *tooLargeError
		hp   *htmlPageError
		re   *redirectError
		pa   *privateAddrError
		oo   *otherOriginError
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		hn   x509.HostnameError
		ci   x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &he), errors.As(err, &tl), errors.As(err, &hp), errors.Is(err, errNotFeed):
		return oneLine(err.Error())
	case errors.As(err, &re):
		return re.Error()
	case errors.As(err, &pa):
		return pa.Error()
	case errors.As(err, &oo):
		return oo.Error()
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "host not found: " + dns.Name + " does not exist in DNS"
		}
		return "DNS lookup of " + dns.Name + " failed: " + dns.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing answers at that address and port"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable: no network route to the server"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return "timed out: the server did not send the whole feed in time"
	case errors.As(err, &ua):
		return "TLS certificate not trusted: signed by an unknown authority"
	case errors.As(err, &hn):
		return "TLS certificate is for another host: " + hn.Error()
	case errors.As(err, &ci):
		return "TLS certificate invalid: " + ci.Error()
	case errors.As(err, &cert):
		return "TLS certificate problem: " + cert.Error()
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the server closed the connection before the feed was complete"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return oneLine(ue.Err.Error())
	}
	return oneLine(err.Error())
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// byteSize writes n bytes for people: "200 MB", "16 MiB".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

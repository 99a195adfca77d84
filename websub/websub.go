// Package websub is the WebSub protocol (W3C Recommendation, 23 January
// 2018, https://www.w3.org/TR/websub/) on both of vplanet's sides: a
// subscriber that asks the hubs named by the blogs' feeds to push new posts,
// and a hub that pushes vplanet's own feeds to their readers.
//
// The package speaks HTTP and keeps its state behind two small interfaces
// (Store for the subscriber, HubStore for the hub) that the store package
// implements; MemoryStore is the same contract in memory. It never imports
// the crawler, the index or the server: the subscriber hands a verified body
// to an Ingest function, and the hub asks a Renderer for a topic's new
// content.
//
// Section numbers in comments and test names are those of the
// Recommendation.
package websub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Sentinel errors, compared with errors.Is.
var (
	// ErrNotFound means the store holds no such subscription.
	ErrNotFound = errors.New("subscription not found")
	// ErrPrivateAddress means a connection was refused because it would
	// reach a private, loopback or link-local address that the policy does
	// not allow.
	ErrPrivateAddress = errors.New("private address refused")
	// ErrNoHub means a feed names no hub that may be contacted.
	ErrNoHub = errors.New("the feed names no hub")
)

// Ingest takes the body of a verified content distribution (section 7) for
// the feed listed as feedURL. It is the crawler's path for a fetched feed:
// decode, parse, normalize, store.
type Ingest func(ctx context.Context, feedURL string, body []byte, contentType string) error

// Classifier reports whether an address is private: not on the public
// internet (loopback, private ranges, link-local and the like). The
// crawler's own address policy can be plugged in here; IsPrivate is the
// default.
type Classifier func(netip.Addr) bool

// IsPrivate reports whether addr is loopback, private (RFC 1918, RFC 4193),
// link-local, unspecified, multicast, shared address space (RFC 6598) or
// otherwise not a public unicast address. IPv4-mapped IPv6 addresses are
// judged as the IPv4 address they carry.
func IsPrivate(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() || addr.IsMulticast() {
		return true
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// nonPublic are the ranges that netip has no predicate for but that no hub
// or callback on the public internet uses.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space, carrier NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:2::/48"),     // benchmarking
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// privateError is a connection refused by the address policy.
type privateError struct{ addr string }

func (e *privateError) Error() string {
	return fmt.Sprintf("%s is a private, loopback or link-local address", e.addr)
}

func (e *privateError) Unwrap() error { return ErrPrivateAddress }

// newClient returns an HTTP client whose every connection, redirects
// included, is checked after name resolution: when allowPrivate is false a
// private address is refused at connect time, so a name that resolves to a
// public address for a check and to a private one for the connection (DNS
// rebinding) still cannot reach inside. No proxy is used: through a proxy the
// check would see the proxy's address, not the target's.
func newClient(private Classifier, allowPrivate bool, timeout time.Duration, followRedirects bool) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second)}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("websub: dial %s: %w", address, err)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || private(ip.Unmap()) {
				return &privateError{addr: host}
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	c := &http.Client{Transport: tr, Timeout: timeout}
	if !followRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// hostIsPrivate resolves the host of rawURL and reports whether it is
// private: every address when all is true, any address otherwise.
func hostIsPrivate(ctx context.Context, rawURL string, private Classifier, all bool) (bool, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false, fmt.Errorf("parse %q: %w", rawURL, err)
	}
	host := u.Hostname()
	if host == "" {
		return false, fmt.Errorf("%q has no host", rawURL)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return false, fmt.Errorf("resolve %s: %w", host, err)
		}
	}
	n := 0
	for _, a := range addrs {
		if private(a.Unmap()) {
			n++
		}
	}
	if all {
		return n == len(addrs) && n > 0, nil
	}
	return n > 0, nil
}

// randomToken returns n random bytes in hexadecimal: callback ids, secrets
// and challenges, all of which must be unguessable.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}

// httpStatusError is a hub's or subscriber's answer that was not a success.
type httpStatusError struct {
	status int
	body   string
}

func (e *httpStatusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("answered %d %s", e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("answered %d %s: %s", e.status, http.StatusText(e.status), e.body)
}

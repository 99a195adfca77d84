package crawler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"golang.org/x/net/http/httpproxy"
)

// The crawler fetches what strangers' feeds name: their redirects, the
// feeds their home pages link, their posts' pages. None of that may lead it
// into the network it runs in (a cloud's metadata service, an intranet
// wiki, the admin port of a database), where whatever answered would be
// stored and published. So, as Miniflux's fetcher and Mastodon's requests
// do, the address is checked when the connection is made, after DNS has
// answered: a name that resolves to a private address is refused as surely
// as the address itself, and a redirect cannot get around a check made on
// the URL before it.
//
// What feeds.txt lists directly is trusted: a feed listed at a private or
// loopback address (a blog on the intranet, a test server) is fetched, with
// its redirects and pages, from wherever it leads. Every other feed reaches
// public addresses only.

// nonPublic are the ranges, besides those netip.Addr names (loopback,
// private, link-local, multicast, unspecified), that no public site lives
// in.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, shared address space
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // network benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("fec0::/10"),       // site-local, deprecated but still routed by some
	netip.MustParsePrefix("64:ff9b:1::/48"),  // NAT64 for local use
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID
	netip.MustParsePrefix("2001::/32"),       // Teredo: reaches IPv4 through a relay
	netip.MustParsePrefix("2002::/16"),       // 6to4: reaches IPv4 through a relay
	netip.MustParsePrefix("ff00::/8"),        // multicast (IsMulticast says so too)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
}

// nat64 is the well-known NAT64 prefix: its last 32 bits are an IPv4
// address, which is what the connection reaches.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// publicAddr reports whether a is an address on the public internet, where
// a feed's own site may live. An IPv4 address written in IPv6 (::ffff:a.b.c.d,
// or behind the NAT64 prefix) is judged by its IPv4 address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsLoopback(), a.IsPrivate(),
		a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(), a.IsMulticast():
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// privateAddrError is a connection refused because its address is not
// public and the feed was not listed at such an address.
type privateAddrError struct{ Addr string }

func (e *privateAddrError) Error() string {
	return fmt.Sprintf("refused: %s is a private, loopback or link-local address, and only feeds listed in feeds.txt at such an address may lead there", e.Addr)
}

// guard makes the connections of fetches that may reach public addresses
// only.
type guard struct {
	public  func(netip.Addr) bool
	dialer  *net.Dialer // checks each address it connects to
	plain   *net.Dialer // for the configured proxies only
	proxies map[string]bool
}

func newGuard(d net.Dialer, public func(netip.Addr) bool) *guard {
	g := &guard{public: public, proxies: proxyAddrs()}
	plain := d
	g.plain = &plain
	d.ControlContext = g.control
	g.dialer = &d
	return g
}

// control runs after DNS, before each connection attempt (each address of a
// name that resolves to several), with the address actually dialled.
func (g *guard) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &privateAddrError{Addr: address}
	}
	if !g.public(ap.Addr()) {
		return &privateAddrError{Addr: ap.Addr().Unmap().String()}
	}
	return nil
}

// DialContext connects to address when it is public. A proxy configured in
// the environment (HTTP_PROXY, HTTPS_PROXY) is often on the local network
// and is reached anyway: through it, the crawler cannot see where a request
// goes, and the proxy is the place to refuse private destinations.
func (g *guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if g.proxies[address] {
		return g.plain.DialContext(ctx, network, address)
	}
	return g.dialer.DialContext(ctx, network, address)
}

// proxyAddrs returns the host:port of the proxies the environment names.
func proxyAddrs() map[string]bool {
	cfg := httpproxy.FromEnvironment()
	out := map[string]bool{}
	for _, raw := range []string{cfg.HTTPProxy, cfg.HTTPSProxy} {
		if raw == "" {
			continue
		}
		if !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "socks5": "1080"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
		out[net.JoinHostPort(u.Hostname(), port)] = true
	}
	return out
}

// listedPrivate reports whether rawURL, a URL feeds.txt lists, names a host
// at a non-public address: such a feed is trusted to lead anywhere. A name
// that cannot be resolved is not trusted; its fetch fails on its own.
func (c *Crawler) listedPrivate(ctx context.Context, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		return !c.public(a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if !c.public(a) {
			return true
		}
	}
	return false
}

// origin is the scheme, host and port of a URL, the port spelled out.
func origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// otherOriginError is a post page, or a redirect from it, on another origin
// than its feed's.
type otherOriginError struct{ URL, Origin string }

func (e *otherOriginError) Error() string {
	return fmt.Sprintf("refused: %s is not on %s, where the feed was fetched from", e.URL, e.Origin)
}

// isRefused reports whether err is a request the crawler refused to make.
func isRefused(err error) bool {
	var pe *privateAddrError
	var oe *otherOriginError
	return errors.As(err, &pe) || errors.As(err, &oe)
}

package server

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultMetricsNetworks are where /metrics may be read from when the
// operator names none: loopback and the private ranges, where a
// Prometheus server scraping this host lives.
var DefaultMetricsNetworks = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
}

// ParsePrefixes reads a comma-separated list of CIDR ranges; a bare
// address is a range of one.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func contains(nets []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address the connection came from.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap()
}

// trusted reports whether the request came straight from a configured
// proxy, whose forwarded headers are believed.
func (s *server) trusted(r *http.Request) bool {
	return len(s.cfg.TrustedProxies) > 0 && contains(s.cfg.TrustedProxies, peerAddr(r))
}

// clientAddr is the address of the client a request is for: the peer's,
// unless the peer is a trusted proxy, in which case it is the nearest
// address in X-Forwarded-For (else Forwarded) that is not itself a trusted
// proxy. A client cannot choose its address by sending these headers: only
// what a trusted proxy appended is read, from the right.
func (s *server) clientAddr(r *http.Request) string {
	peer := peerAddr(r)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !s.trusted(r) {
		return peer.String()
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // a hop a proxy did not write: stop believing
		}
		if !contains(s.cfg.TrustedProxies, a) {
			return a.Unmap().String()
		}
		peer = a.Unmap()
	}
	return peer.String()
}

// forwardedFor lists the client addresses a request's proxies recorded,
// nearest last: X-Forwarded-For, else the for= of Forwarded (RFC 7239).
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, a := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(a))
		}
	}
	if len(hops) > 0 {
		return hops
	}
	for _, el := range forwarded(h) {
		if a, ok := el["for"]; ok {
			a = strings.Trim(a, `"`)
			if strings.HasPrefix(a, "[") {
				a = strings.TrimPrefix(a[:max(strings.IndexByte(a, ']'), 1)], "[")
			} else if host, _, err := net.SplitHostPort(a); err == nil {
				a = host
			}
			hops = append(hops, a)
		}
	}
	return hops
}

// forwarded parses the Forwarded header's elements, lower-casing the keys.
func forwarded(h http.Header) []map[string]string {
	var out []map[string]string
	for _, v := range h.Values("Forwarded") {
		for _, el := range strings.Split(v, ",") {
			m := map[string]string{}
			for _, pair := range strings.Split(el, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok {
					m[strings.ToLower(k)] = strings.Trim(val, `"`)
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// baseURL is the absolute URL of the site's root, ending in "/": the
// configured --base-url; else, for a request from a trusted proxy, the
// scheme and host it forwarded; else the address the connection reached.
// The Host header of an untrusted request is never used: it would let
// anyone write the links of a cached feed or of opensearch.xml.
func (s *server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/") + "/"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := ""
	if s.trusted(r) {
		proto, fhost := firstValue(r.Header.Get("X-Forwarded-Proto")), firstValue(r.Header.Get("X-Forwarded-Host"))
		if els := forwarded(r.Header); len(els) > 0 && proto == "" && fhost == "" {
			// The first element is what the outermost proxy saw.
			proto, fhost = els[0]["proto"], els[0]["host"]
		}
		if proto == "http" || proto == "https" {
			scheme = proto
		}
		if validHost(fhost) {
			host = fhost
		} else if validHost(r.Host) {
			// The proxy forwarded the Host it was asked for.
			host = r.Host
		}
	}
	if host == "" {
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = dialHost(la)
		} else {
			host = "localhost"
		}
	}
	return scheme + "://" + host + "/"
}

func firstValue(s string) string {
	v, _, _ := strings.Cut(s, ",")
	return strings.ToLower(strings.TrimSpace(v))
}

// validHost accepts a host name or address with an optional port, and
// nothing that could change a URL's meaning.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}

// dialHost is a listener's local address as a URL host; a wildcard
// address cannot be: the connection's own local address is never one.
func dialHost(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return "localhost"
	}
	return net.JoinHostPort(ap.Addr().Unmap().String(), strconv.Itoa(int(ap.Port())))
}

// forwardedVary names the request headers an answer built from baseURL
// depends on, for caches: none when --base-url fixes it.
func (s *server) forwardedVary(h http.Header) {
	if s.cfg.BaseURL == "" && len(s.cfg.TrustedProxies) > 0 {
		h.Add("Vary", "X-Forwarded-Proto, X-Forwarded-Host, Forwarded, Host")
	}
}

// onlyNetworks answers 403 to clients outside nets.
func (s *server) onlyNetworks(nets []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := netip.ParseAddr(s.clientAddr(r))
		if err != nil || !contains(nets, a) {
			writeJSON(w, r, http.StatusForbidden, map[string]string{"error": "metrics are served to allowed networks only (serve --metrics-networks)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

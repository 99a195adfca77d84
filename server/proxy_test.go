package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustPrefixes(t testing.TB, s string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefixes(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPublicAddress: without --base-url, feed self links and
// opensearch.xml take the public scheme and host from a trusted proxy
// only; the Host header of anyone else never lands in them.
func TestPublicAddress(t *testing.T) {
	e := newEnv(t, Config{})
	e.s.cfg.BaseURL = "" // newEnv sets one
	e.s.cfg.TrustedProxies = mustPrefixes(t, "10.0.0.0/8")
	h := e.s.handler()
	tests := []struct {
		name, remote string
		header       []string
		want, unwant string
	}{
		{"forged Host", "203.0.113.9:5000", []string{"Host", "evil.example"}, "http://192.0.2.10:8080/", "evil.example"},
		{"forged forwarded headers", "203.0.113.9:5000",
			[]string{"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}, "http://192.0.2.10:8080/", "evil.example"},
		{"trusted proxy", "10.1.2.3:5000",
			[]string{"Host", "planet.example.org", "X-Forwarded-Host", "planet.example.org", "X-Forwarded-Proto", "https"}, "https://planet.example.org/", "http://planet"},
		{"trusted proxy, Forwarded", "10.1.2.3:5000",
			[]string{"Forwarded", `for=198.51.100.7;proto=https;host="planet.example.org"`}, "https://planet.example.org/", "http://planet"},
		{"trusted proxy, hostile host", "10.1.2.3:5000",
			[]string{"X-Forwarded-Host", "evil.example/x?", "Host", "planet.example.org", "X-Forwarded-Proto", "https"}, "https://planet.example.org/", "evil.example"},
	}
	for _, tt := range tests {
		for _, target := range []string{"/feed.atom", "/opensearch.xml", "/feed.json?q=VCHA"} {
			t.Run(tt.name+" "+target, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodGet, target, nil)
				r.RemoteAddr = tt.remote
				// The address the connection reached, as net/http records it.
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey,
					net.Addr(&net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 8080})))
				for i := 0; i < len(tt.header); i += 2 {
					if tt.header[i] == "Host" {
						r.Host = tt.header[i+1]
					}
					r.Header.Set(tt.header[i], tt.header[i+1])
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				body := w.Body.String()
				if w.Code != 200 || !strings.Contains(body, tt.want) || strings.Contains(body, tt.unwant) {
					t.Errorf("got %d, want %q and not %q in:\n%.600s", w.Code, tt.want, tt.unwant, body)
				}
				if vary := w.Header().Values("Vary"); !strings.Contains(strings.Join(vary, ","), "X-Forwarded-Host") {
					t.Errorf("Vary %q does not name the forwarded headers the answer depends on", vary)
				}
			})
		}
	}
}

func TestClientAddr(t *testing.T) {
	s := &server{cfg: Config{TrustedProxies: mustPrefixes(t, "10.0.0.0/8, 192.168.1.1")}}
	tests := []struct {
		name, remote, xff, fwd, want string
	}{
		{"direct", "198.51.100.7:1", "", "", "198.51.100.7"},
		{"direct, forged header", "198.51.100.7:1", "1.2.3.4", "", "198.51.100.7"},
		{"through a proxy", "10.0.0.5:1", "198.51.100.7", "", "198.51.100.7"},
		{"a client's own header is not believed", "10.0.0.5:1", "1.2.3.4, 198.51.100.7", "", "198.51.100.7"},
		{"two proxies", "10.0.0.5:1", "198.51.100.7, 192.168.1.1", "", "198.51.100.7"},
		{"Forwarded", "10.0.0.5:1", "", `for="[2001:db8::1]:4711"`, "2001:db8::1"},
		{"garbage", "10.0.0.5:1", "not-an-address", "", "10.0.0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.fwd != "" {
				r.Header.Set("Forwarded", tt.fwd)
			}
			if got := s.clientAddr(r); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestRateLimitBehindProxy gives each reader behind a trusted proxy a
// budget of their own, and weighs a search by its words.
func TestRateLimitBehindProxy(t *testing.T) {
	e := newEnv(t, Config{SearchPerMinute: 60, TrustedProxies: mustPrefixes(t, "10.0.0.0/8")}) // bursts of 10
	get := func(target, client string) int {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.RemoteAddr = "10.0.0.5:4000"
		r.Header.Set("X-Forwarded-For", client)
		return e.do(t, r).Code
	}
	for i := range 10 {
		if got := get("/api/search?q=VCHA", "198.51.100.1"); got != 200 {
			t.Fatalf("search %d: got %d", i, got)
		}
	}
	if got := get("/api/search?q=VCHA", "198.51.100.1"); got != 429 {
		t.Errorf("11th search of one reader: got %d, want 429", got)
	}
	if got := get("/api/search?q=VCHA", "198.51.100.2"); got != 200 {
		t.Errorf("another reader behind the same proxy: got %d, want 200", got)
	}
	// 59 exclusions cost fifteen searches: a burst of ten holds fewer.
	heavy := "/api/search?q=ESX" + strings.Repeat("+-x", 59)
	if got := get(heavy, "198.51.100.3"); got != 200 {
		t.Fatalf("first heavy search: got %d", got)
	}
	if got := get(heavy, "198.51.100.3"); got != 429 {
		t.Errorf("second heavy search at once: got %d, want 429", got)
	}
}

func TestQueryCost(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want float64
	}{
		{"VCHA", 1}, {"a b c d", 1}, {"a b c d e", 2}, {"VCHA" + strings.Repeat(" -x", 63), 16},
	} {
		if got := queryCost(tt.q); got != tt.want {
			t.Errorf("queryCost(%.20q): got %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestMetricsNetworks(t *testing.T) {
	e := newEnv(t, Config{TrustedProxies: mustPrefixes(t, "10.0.0.0/8")})
	tests := []struct {
		name, remote, xff string
		want              int
	}{
		{"loopback", "127.0.0.1:1", "", 200},
		{"private", "192.168.3.4:1", "", 200},
		{"public", "203.0.113.9:1", "", 403},
		{"public through a trusted proxy", "10.0.0.5:1", "203.0.113.9", 403},
		{"private through a trusted proxy", "10.0.0.5:1", "10.9.9.9", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := e.do(t, r).Code; got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
	e2 := newEnv(t, Config{MetricsNetworks: mustPrefixes(t, "203.0.113.0/24")})
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.RemoteAddr = "127.0.0.1:1"
	if got := e2.do(t, r).Code; got != 403 {
		t.Errorf("configured networks: loopback got %d, want 403", got)
	}
}

// TestConnLimit holds connections open from one client: past the cap,
// the next is closed at once, and a closed one frees its place.
func TestConnLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const perClient = 3
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(LimitListener(ln, perClient, nil))
	defer srv.Close()

	ask := func(c net.Conn) error {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		buf := make([]byte, 12)
		_, err := io.ReadFull(c, buf)
		return err
	}
	var conns []net.Conn
	for i := range perClient {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := ask(c); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	extra, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if err := ask(extra); err == nil {
		t.Errorf("connection %d of one client was served; want it closed", perClient+1)
	}
	conns[0].Close()
	// The server learns of the close when it next reads; a new
	// connection may need a few tries while it does.
	for try := 0; ; try++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		err = ask(c)
		c.Close()
		if err == nil {
			break
		}
		if try == 500 {
			t.Fatalf("a closed connection did not free its place: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

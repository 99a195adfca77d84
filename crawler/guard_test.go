package crawler

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"vplanet"
)

// The tests below run on loopback only, so "public" and "private" are
// modelled there: 127.0.0.2 is declared public through the crawler's
// classifier hook (the hostile blog), and every other address keeps
// publicAddr's verdict, so 127.0.0.1 and ::1 are private (the internal
// service). The hook changes only the verdict on one address; the check
// itself is the real one, made by the dialer after DNS, so these tests
// prove that a refused address is never connected to (the internal
// server counts zero requests) and that a name (localhost) is judged by
// the address it resolves to. They do not prove publicAddr right about
// real public and private ranges: TestPublicAddr does that, by table.

// loopbackPublic is the address the tests declare public.
var loopbackPublic = netip.MustParseAddr("127.0.0.2")

func testPublic(a netip.Addr) bool { return a == loopbackPublic || publicAddr(a) }

// countingServer is an httptest server on addr that counts its requests.
type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newCountingServer(t *testing.T, addr string, h http.HandlerFunc) *countingServer {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s (loopback addresses beyond 127.0.0.1 are Linux's): %v", addr, err)
	}
	s := &countingServer{hits: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		h(w, r)
	}))
	s.Listener.Close()
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.hits {
		n += c
	}
	return n
}

// internalService is what a crawler's network holds and no feed may
// reach: an admin page and a feed of secrets, on a private address.
func internalService(t *testing.T) *countingServer {
	return newCountingServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/internal/admin":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(mustRead(t, "ssrf/internal-admin.html"))
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/atom+xml")
			w.Write(mustRead(t, "ssrf/internal-feed.xml"))
		default:
			http.NotFound(w, r)
		}
	})
}

func TestPagesStayOnTheFeedsOrigin(t *testing.T) {
	internal := internalService(t)
	// Another port of the blog's own (public) host: only the origin check
	// keeps the crawler from it, since its address is allowed.
	otherPort := newCountingServer(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(mustRead(t, "ssrf/internal-admin.html"))
	})
	var blogURL string
	blog := newCountingServer(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed":
			feed := strings.NewReplacer(
				"{{FEED}}", blogURL+"/feed",
				"{{SITE}}", internal.URL+"/", // the channel link names the internal host
				"{{OWN}}", blogURL,
				"{{OTHERPORT}}", otherPort.URL,
			).Replace(string(mustRead(t, "ssrf/wordpress-excerpts.xml")))
			w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
			fmt.Fprint(w, feed)
		case "/2026/11/02/stretched-cluster/":
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			fmt.Fprintf(w, articlePage, "拡張クラスタの構成", "BODYSENTENCE 今回は vSAN の拡張クラスタを実際に構成し、その手順と注意点をまとめました。")
		case "/go/internal":
			http.Redirect(w, r, internal.URL+"/internal/admin", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	blogURL = blog.URL

	db := openStore(t)
	syncFeeds(t, db, blog.URL+"/feed")
	c := New(db, Options{Logger: testLogger(t), public: testPublic})
	if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.OK != 1 || sum.New != 4 {
		t.Fatalf("run: %s, %v", sum, err)
	}
	posts := postsByTitle(t, db)
	if own := posts["拡張クラスタの構成"]; own == nil || !strings.Contains(own.Text, "BODYSENTENCE") {
		t.Fatalf("the page on the feed's own origin was not read (the test would prove nothing): %+v", own)
	}
	for title, p := range posts {
		if strings.Contains(p.Text, "INTERNALSECRET") || strings.Contains(p.Content, "INTERNALSECRET") {
			t.Errorf("post %q stores the internal page: %q", title, p.Text)
		}
	}
	for _, tc := range []struct {
		name string
		srv  *countingServer
	}{
		{"the internal host (channel link, redirect)", internal},
		{"another port of the feed's host", otherPort},
	} {
		if n := tc.srv.total(); n != 0 {
			t.Errorf("%s got %d requests, want 0: %v", tc.name, n, tc.srv.hits)
		}
	}
	if n := blog.hits["/go/internal"]; n != 1 {
		t.Errorf("the redirecting page on the feed's origin was fetched %d times, want 1 (its redirect is what is refused)", n)
	}
}

func TestFeedRedirectsStayPublic(t *testing.T) {
	internal := internalService(t)
	_, internalPort, _ := net.SplitHostPort(internal.Listener.Addr().String())
	var blogURL string
	blog := newCountingServer(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, internal.URL+"/feed.xml", http.StatusMovedPermanently)
		case "/moved-by-name":
			// A name that resolves to a private address: only a check made
			// after DNS catches it.
			http.Redirect(w, r, "http://localhost:"+internalPort+"/feed.xml", http.StatusMovedPermanently)
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			fmt.Fprint(w, strings.ReplaceAll(string(mustRead(t, "ssrf/home-links-internal.html")), "{{INTERNAL}}", internal.URL))
		default:
			http.NotFound(w, r)
		}
	})
	blogURL = blog.URL

	db := openStore(t)
	listedInternal := internal.URL + "/feed.xml"
	syncFeeds(t, db, blogURL+"/moved", blogURL+"/moved-by-name", blogURL+"/", listedInternal)
	c := New(db, Options{Logger: testLogger(t), public: testPublic})
	if _, err := c.Run(context.Background(), RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	feeds := feedsByURL(t, db)
	for _, u := range []string{blogURL + "/moved", blogURL + "/moved-by-name", blogURL + "/"} {
		f := feeds[u]
		if f.Status != vplanet.StatusError || !strings.Contains(f.LastError, "refused") {
			t.Errorf("%s: status %q, error %q; want an error saying the address was refused", u, f.Status, f.LastError)
		}
		if f.FeedURL != "" || f.Redirect != "" {
			t.Errorf("%s: feed URL pinned at %q (redirect %q), want nothing", u, f.FeedURL, f.Redirect)
		}
	}
	if n := internal.hits["/feed.xml"]; n != 1 {
		t.Errorf("the internal feed got %d requests, want exactly 1 (its own line in feeds.txt)", n)
	}
	// feeds.txt is trusted for what it lists directly.
	if f := feeds[listedInternal]; f.Status != vplanet.StatusOK {
		t.Errorf("a feed listed at a private address: status %q (%s), want ok", f.Status, f.LastError)
	}
	posts := postsByTitle(t, db)
	if len(posts) != 1 || posts["INTERNALSECRET build 4711 failed"] == nil {
		t.Errorf("posts: got %d (%v), want only the listed internal feed's one", len(posts), posts)
	}
	for _, p := range posts {
		if p.FeedID != feeds[listedInternal].ID {
			t.Errorf("post %q stored for feed %d, want only for the feed listed at the internal address", p.Title, p.FeedID)
		}
	}
}

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"2606:4700::6810:84e5", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false}, // CGNAT
		{"100.127.255.1", false},
		{"100.128.0.1", true}, // just past CGNAT
		{"224.0.0.1", false},  // multicast
		{"255.255.255.255", false},
		{"fc00::1", false}, // unique local
		{"fd12:3456::1", false},
		{"fe80::1", false}, // link-local
		{"ff02::1", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:10.1.2.3", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"64:ff9b::808:808", true},    // NAT64 of 8.8.8.8
		{"2002:7f00:1::1", false},     // 6to4 of 127.0.0.1
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := publicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://blog.example.com/feed", "https://blog.example.com/2017/09/post", true},
		{"https://blog.example.com/feed", "https://BLOG.example.com:443/post", true},
		{"http://example.com/rss", "http://example.com:80/post", true},
		{"http://example.com/rss", "http://example.com:8080/post", false},
		{"https://example.com/feed", "http://example.com/post", false},
		{"https://example.com/feed", "https://www.example.com/post", false},
		{"https://feeds.example.net/x", "https://example.com/post", false},
		{"https://blog.example.com/feed", "http://10.0.0.1/admin", false},
		{"http://[::1]:8080/feed", "http://[::1]:8080/post", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			if got := origin(tt.a) == origin(tt.b); got != tt.same {
				t.Errorf("origin(%q) = %q, origin(%q) = %q; same: %v, want %v", tt.a, origin(tt.a), tt.b, origin(tt.b), got, tt.same)
			}
		})
	}
	if o := origin("not a url"); o != "" {
		t.Errorf("origin of a non-URL: %q, want empty", o)
	}
}

package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"vplanet"
)

func TestScanTerms(t *testing.T) {
	tests := []struct {
		name, q string
		want    []term // start and end are checked by the fuzz test
	}{
		{"words", "vSAN stretched", []term{{value: "vSAN", closed: true}, {value: "stretched", closed: true}}},
		{"exclusion", "-vSphere", []term{{neg: true, value: "vSphere", closed: true}}},
		{"lone minus", "a -", []term{{value: "a", closed: true}, {value: "-", closed: true}}},
		{"filter", "blog:x lang:JA", []term{{field: "blog", value: "x", closed: true}, {field: "lang", value: "JA", closed: true}}},
		{"quoted value", `blog:"Example Blog" x`, []term{{field: "blog", value: "Example Blog", quoted: true, closed: true}, {value: "x", closed: true}}},
		{"unclosed", `"vSAN stretched`, []term{{value: "vSAN stretched", quoted: true}}},
		{"curly quotes", "“拡張 クラスタ”", []term{{value: "拡張 クラスタ", quoted: true, closed: true}}},
		{"unknown field is text", "VMware: vSAN", []term{{value: "VMware:", closed: true}, {value: "vSAN", closed: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanTerms(tt.q)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d terms %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				g.start, g.end = 0, 0
				if g != w {
					t.Errorf("term %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestRemoveTerm(t *testing.T) {
	blogs := map[string]*vplanet.Feed{"ex": {Slug: "ex", Name: "Example Blog"}}
	tests := []struct{ q, facet, value, want string }{
		{"VCHA lang:ja", "lang", "ja", "VCHA"},
		{"VCHA blog:ex lang:ja", "blog", "ex", "VCHA lang:ja"},
		{`VCHA blog:"example blog"`, "blog", "ex", "VCHA"},
		{"VCHA after:2017-01-01 before:2017-12-31", "year", "2017", "VCHA"},
		{"VCHA -lang:ja", "lang", "ja", "VCHA -lang:ja"}, // an exclusion is not the facet
	}
	for _, tt := range tests {
		if got := removeTerm(tt.q, tt.facet, tt.value, blogs); got != tt.want {
			t.Errorf("removeTerm(%q, %s:%s): got %q, want %q", tt.q, tt.facet, tt.value, got, tt.want)
		}
	}
}

// FuzzScanTerms reads arbitrary queries: terms lie inside the query, in
// order, without overlapping, and rewriting a query never panics.
func FuzzScanTerms(f *testing.F) {
	for _, s := range []string{"VCHA", `blog:"a b" -x "open`, "- -- ---", "lang:", "“”\"", "after:2017-01-01 OR before:", "\x00\xff"} {
		f.Add(s)
	}
	blogs := map[string]*vplanet.Feed{"ex": {Slug: "ex", Name: "Example Blog"}}
	f.Fuzz(func(t *testing.T, q string) {
		end := 0
		for _, tm := range scanTerms(q) {
			if tm.start < end || tm.end <= tm.start || tm.end > len(q) {
				t.Fatalf("term %+v out of place in %q (previous ended at %d)", tm, q, end)
			}
			end = tm.end
		}
		resolveBlogs(q, blogs)
		removeTerm(q, "blog", "ex", blogs)
		lintQuery(q)
		if utf8.ValidString(q) && !utf8.ValidString(removeTerm(q, "lang", "ja", blogs)) {
			t.Fatalf("removeTerm made invalid UTF-8 of %q", q)
		}
	})
}

// FuzzClientAddr reads arbitrary forwarding headers from a trusted proxy:
// the client address found is always an address.
func FuzzClientAddr(f *testing.F) {
	f.Add("198.51.100.7, 10.0.0.1", `for="[2001:db8::1]:4711";proto=https`)
	f.Add(",,,", "for=")
	s := &server{cfg: Config{TrustedProxies: mustPrefixes(f, "10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.5:1"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Forwarded", fwd)
		if a := s.clientAddr(r); a == "" || strings.ContainsAny(a, " ,;\"") {
			t.Fatalf("client address %q from %q / %q", a, xff, fwd)
		}
		if b := s.baseURL(r); !strings.HasPrefix(b, "http://") && !strings.HasPrefix(b, "https://") {
			t.Fatalf("base URL %q", b)
		}
	})
}

func BenchmarkQueryCost(b *testing.B) {
	q := `vSAN "stretched cluster" -vSphere blog:ex lang:ja after:2017-01-01 重複排除`
	for b.Loop() {
		queryCost(q)
	}
}

func BenchmarkResolveBlogs(b *testing.B) {
	blogs := map[string]*vplanet.Feed{}
	for i := range 300 {
		slug := "blog-" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		blogs[slug] = &vplanet.Feed{Slug: slug, Name: "Blog " + slug}
	}
	for b.Loop() {
		resolveBlogs(`VCHA blog:"Blog blog-xxa"`, blogs)
	}
}

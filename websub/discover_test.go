package websub

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDiscover_Section4 covers every form of discovery: Link headers, Atom
// and RSS link elements, JSON Feed hubs, and their order.
func TestDiscover_Section4(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		file   string
		base   string
		want   Links
	}{
		{
			name: "Atom link rel=hub and rel=self at feed level, entry links ignored",
			file: "atom-hub.xml", base: "https://vnotes.example.org/feeds/posts/default",
			want: Links{Hubs: []string{"https://pubsubhubbub.appspot.com/"}, Self: "https://vnotes.example.org/feeds/posts/default"},
		},
		{
			name: "RSS 2.0 atom:link rel=hub, two hubs in order, item links ignored",
			file: "rss-hub.xml", base: "https://nsx-notes.example.com/feed/",
			want: Links{Hubs: []string{"https://pubsubhubbub.appspot.com", "https://websubhub.com/hub"}, Self: "https://nsx-notes.example.com/feed/"},
		},
		{
			name: "RSS 1.0 channel atom:link",
			file: "rdf-hub.xml", base: "https://hatena-vmw.example.jp/rss",
			want: Links{Hubs: []string{"https://pubsubhubbub.appspot.com/"}, Self: "https://hatena-vmw.example.jp/rss"},
		},
		{
			name: "JSON Feed hubs of type WebSub, rssCloud skipped, feed_url as self",
			file: "json-hub.json", base: "https://tanzu.example.jp/feed.json",
			want: Links{Hubs: []string{"https://websub.example.jp/hub"}, Self: "https://tanzu.example.jp/feed.json"},
		},
		{
			name: "relative references resolved against the fetched URL",
			file: "rss-relative.xml", base: "https://rel.example.org/blog/index.xml",
			want: Links{Hubs: []string{"https://rel.example.org/blog/hub"}, Self: "https://rel.example.org/feed.xml"},
		},
		{
			name: "no hub",
			file: "rss-nohub.xml", base: "https://nohub.example.org/rss",
			want: Links{Self: "https://nohub.example.org/rss"},
		},
		{
			name:   "Link header: hub and self in one header (section 4, example 1)",
			header: []string{`<https://hub.example.com/>; rel="hub", <http://example.com/feed>; rel="self"`},
			file:   "rss-nohub.xml", base: "http://example.com/feed",
			want: Links{Hubs: []string{"https://hub.example.com/"}, Self: "http://example.com/feed"},
		},
		{
			name:   "Link header checked first: its hub wins over the body's",
			header: []string{`<https://hub.example.com/>; rel=hub`, `</feed.json>; rel="self"`},
			file:   "atom-hub.xml", base: "https://example.com/feed",
			want: Links{Hubs: []string{"https://hub.example.com/"}, Self: "https://example.com/feed.json"},
		},
		{
			name:   "Link header hub without self takes the body's self",
			header: []string{`<https://hub.example.com/>; rel="hub"`},
			file:   "rss-hub.xml", base: "https://nsx-notes.example.com/feed/",
			want: Links{Hubs: []string{"https://hub.example.com/"}, Self: "https://nsx-notes.example.com/feed/"},
		},
		{
			name:   "Link header with only self: hubs from the body, self from the body",
			header: []string{`<https://other.example.com/self>; rel="self"`},
			file:   "rss-hub.xml", base: "https://nsx-notes.example.com/feed/",
			want: Links{Hubs: []string{"https://pubsubhubbub.appspot.com", "https://websubhub.com/hub"}, Self: "https://nsx-notes.example.com/feed/"},
		},
		{
			name:   "Link header with several rels and a non-http hub",
			header: []string{`<https://h.example.com/>; rel="hub self", <ftp://x.example/>; rel=hub`},
			file:   "rss-nohub.xml", base: "https://h.example.com/",
			want: Links{Hubs: []string{"https://h.example.com/"}, Self: "https://h.example.com/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Link", v)
			}
			got := Discover(h, readTestdata(t, tt.file), tt.base)
			if !slices.Equal(got.Hubs, tt.want.Hubs) || got.Self != tt.want.Self {
				t.Errorf("Discover = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDiscoverFeed_ByteOrderMark(t *testing.T) {
	body := append([]byte("\xef\xbb\xbf\n"), readTestdata(t, "json-hub.json")...)
	if got := DiscoverFeed(body, ""); len(got.Hubs) != 1 || got.Self != "https://tanzu.example.jp/feed.json" {
		t.Errorf("JSON Feed after a byte order mark: %+v", got)
	}
}

func TestDiscoverFeed_Malformed(t *testing.T) {
	for _, body := range []string{"", "<", "{", "{\"hubs\": 3}", "<feed><link rel=hub href=", "\x00\xff", "<html><head><link rel=hub href=https://x/></head></html>"} {
		got := DiscoverFeed([]byte(body), "https://example.org/")
		if len(got.Hubs) != 0 {
			t.Errorf("DiscoverFeed(%q) = %+v, want no hubs", body, got)
		}
	}
}

func TestParseLinkHeader_RFC8288(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Link
	}{
		{"quoted rel", []string{`<https://a/>; rel="hub"`}, []Link{{"https://a/", []string{"hub"}}}},
		{"token rel, upper case", []string{`<https://a/>;REL=Hub`}, []Link{{"https://a/", []string{"hub"}}}},
		{"two links in one value", []string{`<https://a/>; rel="hub", <https://b/>; rel="self"`},
			[]Link{{"https://a/", []string{"hub"}}, {"https://b/", []string{"self"}}}},
		{"two values", []string{`<https://a/>; rel="hub"`, `<https://b/>; rel="self"`},
			[]Link{{"https://a/", []string{"hub"}}, {"https://b/", []string{"self"}}}},
		{"comma inside the URI", []string{`<https://a/x,y>; rel="hub"`}, []Link{{"https://a/x,y", []string{"hub"}}}},
		{"comma and escaped quote inside a quoted parameter", []string{`<https://a/>; title="a, \"b\""; rel="hub"`}, []Link{{"https://a/", []string{"hub"}}}},
		{"several rels", []string{`<https://a/>; rel="hub self"`}, []Link{{"https://a/", []string{"hub", "self"}}}},
		{"only the first rel parameter counts", []string{`<https://a/>; rel="hub"; rel="self"`}, []Link{{"https://a/", []string{"hub"}}}},
		{"no rel", []string{`<https://a/>; type="text/html"`}, []Link{{URL: "https://a/"}}},
		{"malformed link skipped, next kept", []string{`https://a/; rel=hub, <https://b/>; rel=hub`}, []Link{{"https://b/", []string{"hub"}}}},
		{"unclosed angle bracket", []string{`<https://a/; rel=hub`}, nil},
		{"unclosed quote", []string{`<https://a/>; rel="hub`}, nil},
		{"empty", []string{"", " , ,"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseLinkHeader(tt.values)
			if !slices.EqualFunc(got, tt.want, func(a, b Link) bool { return a.URL == b.URL && slices.Equal(a.Rels, b.Rels) }) {
				t.Errorf("ParseLinkHeader(%q) = %+v, want %+v", tt.values, got, tt.want)
			}
		})
	}
}

func FuzzParseLinkHeader(f *testing.F) {
	f.Add(`<https://hub.example.com/>; rel="hub", <http://example.com/feed>; rel="self"`)
	f.Add(`<a>;rel=hub;title="x,\"y"`)
	f.Add(`<`)
	f.Add(`;,<>"`)
	f.Fuzz(func(t *testing.T, v string) {
		links := ParseLinkHeader([]string{v})
		// Links whose URL and rels print cleanly must survive a round trip
		// through FormatLinkHeader.
		var clean []Link
		for _, l := range links {
			if strings.ContainsAny(l.URL, "<>") || len(l.Rels) == 0 || slices.ContainsFunc(l.Rels, func(r string) bool { return strings.ContainsAny(r, "\"\\") }) {
				continue
			}
			clean = append(clean, l)
		}
		again := ParseLinkHeader([]string{FormatLinkHeader(clean)})
		if !slices.EqualFunc(again, clean, func(a, b Link) bool { return a.URL == b.URL && slices.Equal(a.Rels, b.Rels) }) {
			t.Fatalf("round trip of %q: %+v became %+v", v, clean, again)
		}
	})
}

func FuzzDiscoverFeed(f *testing.F) {
	for _, name := range []string{"atom-hub.xml", "rss-hub.xml", "rdf-hub.xml", "json-hub.json", "rss-relative.xml", "rss-nohub.xml"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"hubs":[{"url":"//x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		l := DiscoverFeed(body, "https://example.org/feed")
		if len(l.Hubs) > maxHubs {
			t.Fatalf("%d hubs, more than %d", len(l.Hubs), maxHubs)
		}
		for _, u := range append(slices.Clone(l.Hubs), l.Self) {
			if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("discovered %q, not an http or https URL", u)
			}
		}
	})
}

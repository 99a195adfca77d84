package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"vplanet"
)

// TestFeedsParse reads every feed format back with gofeed, an independent
// parser: entries newest first, each with id, title, link and date, and no
// script from the hostile post anywhere.
func TestFeedsParse(t *testing.T) {
	e := newEnv(t, Config{})
	jaSlug := e.feeds[jaBlog].Slug
	tests := []struct {
		path    string
		titles  []string
		feedTyp string
	}{
		{"/feed.atom", []string{`<script>alert("title")</script> VCHA & friends`, "VMworld 2017 Europe #5", "VMworld 2017 Europe #4", "VMWorld 2005 Day 3"}, "atom"},
		{"/feed.rss", []string{`<script>alert("title")</script> VCHA & friends`, "VMworld 2017 Europe #5", "VMworld 2017 Europe #4", "VMWorld 2005 Day 3"}, "rss"},
		{"/feed.json", []string{`<script>alert("title")</script> VCHA & friends`, "VMworld 2017 Europe #5", "VMworld 2017 Europe #4", "VMWorld 2005 Day 3"}, "json"},
		{"/feed.atom?n=2", []string{`<script>alert("title")</script> VCHA & friends`, "VMworld 2017 Europe #5"}, "atom"},
		{"/feed.atom?q=VCHA", []string{`<script>alert("title")</script> VCHA & friends`, "VMworld 2017 Europe #4"}, "atom"},
		{"/feed.rss?q=VCHA+lang:ja", []string{"VMworld 2017 Europe #4"}, "rss"},
		{"/blogs/" + jaSlug + "/feed.atom", []string{"VMworld 2017 Europe #5", "VMworld 2017 Europe #4"}, "atom"},
		{"/blogs/" + jaSlug + "/feed.atom?q=VCHA", []string{"VMworld 2017 Europe #4"}, "atom"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := e.get(t, tt.path)
			if w.Code != 200 {
				t.Fatalf("status: got %d, want 200; body %s", w.Code, w.Body)
			}
			body := w.Body.String()
			if tt.feedTyp != "json" {
				checkWellFormed(t, w.Body.Bytes())
			}
			feed, err := gofeed.NewParser().ParseString(body)
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if got, want := feed.FeedType, tt.feedTyp; got != want {
				t.Errorf("feed type: got %q, want %q", got, want)
			}
			var titles []string
			var last time.Time
			for i, it := range feed.Items {
				titles = append(titles, it.Title)
				if it.GUID == "" || it.Link == "" || it.PublishedParsed == nil {
					t.Errorf("entry %d lacks id, link or date: %+v", i, it)
					continue
				}
				if !strings.HasPrefix(it.GUID, "https://planet.example.org/posts/") {
					t.Errorf("entry %d id: got %q, want it under the base URL", i, it.GUID)
				}
				if i > 0 && it.PublishedParsed.After(last) {
					t.Errorf("entry %d is newer than the one before it", i)
				}
				last = *it.PublishedParsed
				for _, s := range []string{it.Content, it.Description} {
					if strings.Contains(strings.ToLower(s), "<script") || strings.Contains(s, "onerror") ||
						strings.Contains(s, "javascript:") || strings.Contains(s, "onclick") {
						t.Errorf("entry %q carries script: %q", it.Title, s)
					}
				}
			}
			if got, want := strings.Join(titles, " | "), strings.Join(tt.titles, " | "); got != want {
				t.Errorf("titles:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

// checkWellFormed reads the whole document with encoding/xml.
func checkWellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

// TestAtomGolden compares the merged Atom feed with testdata/feed.atom.
// Run with -update to rewrite it after an intended change.
func TestAtomGolden(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tt := range []struct{ path, golden string }{
		{"/feed.atom", "feed.atom"},
		{"/feed.rss", "feed.rss"},
		{"/feed.json", "feed.json"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			w := e.get(t, tt.path)
			if w.Code != 200 {
				t.Fatalf("status: got %d, want 200", w.Code)
			}
			golden := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(golden, w.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := w.Body.String(); got != string(want) {
				t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", tt.path, golden, got)
			}
		})
	}
}

func TestFeedConditional(t *testing.T) {
	e := newEnv(t, Config{})
	first := e.get(t, "/feed.atom")
	etag, lastMod := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("ETag %q, Last-Modified %q: want both", etag, lastMod)
	}
	if got, want := lastMod, "Mon, 01 Jan 2018 00:00:00 GMT"; got != want {
		t.Errorf("Last-Modified: got %q, want %q", got, want)
	}
	if got := first.Header().Get("Cache-Control"); !strings.Contains(got, "max-age") {
		t.Errorf("Cache-Control: got %q, want a max-age", got)
	}
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"same etag", []string{"If-None-Match", etag}, 304},
		{"weak etag", []string{"If-None-Match", "W/" + etag}, 304},
		{"one of many", []string{"If-None-Match", `"x", ` + etag}, 304},
		{"other etag", []string{"If-None-Match", `"other"`}, 200},
		{"not modified since", []string{"If-Modified-Since", lastMod}, 304},
		{"modified since", []string{"If-Modified-Since", "Sun, 31 Dec 2017 00:00:00 GMT"}, 200},
		{"etag wins over date", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastMod}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.get(t, "/feed.atom", tt.header...)
			if got := w.Code; got != tt.status {
				t.Fatalf("status: got %d, want %d", got, tt.status)
			}
			if tt.status == 304 && w.Body.Len() != 0 {
				t.Errorf("304 has a body of %d bytes", w.Body.Len())
			}
		})
	}

	// A new post changes the ETag.
	e.save(t, map[string][]*vplanet.Post{enBlog: {{
		ID: "en-new", URL: "https://blog.example.com/new", Title: "New post",
		Published: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Text: "new", Lang: "en", Hash: "new",
	}}})
	w := e.get(t, "/feed.atom", "If-None-Match", etag)
	if got, want := w.Code, 200; got != want {
		t.Fatalf("after a new post: got %d, want %d", got, want)
	}
	if w.Header().Get("ETag") == etag {
		t.Error("ETag unchanged after a new post")
	}
	if !strings.Contains(w.Body.String(), "New post") {
		t.Error("new post missing from the feed")
	}
}

func TestFeedGzip(t *testing.T) {
	e := newEnv(t, Config{})
	w := e.get(t, "/feed.atom", "Accept-Encoding", "gzip, deflate")
	if got, want := w.Header().Get("Content-Encoding"), "gzip"; got != want {
		t.Fatalf("Content-Encoding: got %q, want %q", got, want)
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	plain := e.get(t, "/feed.atom")
	if got, want := string(body), plain.Body.String(); got != want {
		t.Errorf("gunzipped body differs from the plain one")
	}
	if got := plain.Header().Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding without Accept-Encoding: got %q, want none", got)
	}
	if got := e.get(t, "/feed.atom", "Accept-Encoding", "gzip;q=0").Header().Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding with gzip;q=0: got %q, want none", got)
	}
}

func TestFeedErrors(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tt := range []struct {
		path   string
		status []int // any of these
	}{
		{"/feed.atom?n=lots", []int{400}},
		{"/feed.atom?n=100000", []int{200}},
		{"/blogs/no-such-blog/feed.atom", []int{404}},
		{"/feed.atom?q=%22", []int{200, 400}}, // a lone quote: the index may read it or refuse it
		{"/feed.json?q=%ff", []int{400}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			w := e.get(t, tt.path)
			if !slices.Contains(tt.status, w.Code) {
				t.Errorf("status: got %d, want one of %v; body %s", w.Code, tt.status, w.Body)
			}
		})
	}
}

func TestFeedJSONShape(t *testing.T) {
	e := newEnv(t, Config{})
	w := e.get(t, "/feed.json")
	var f jsonFeed
	if err := json.Unmarshal(w.Body.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	if got, want := f.Version, "https://jsonfeed.org/version/1.1"; got != want {
		t.Errorf("version: got %q, want %q", got, want)
	}
	if got, want := f.FeedURL, "https://planet.example.org/feed.json"; got != want {
		t.Errorf("feed_url: got %q, want %q", got, want)
	}
}

func TestOpenSearchAndOPML(t *testing.T) {
	e := newEnv(t, Config{})
	w := e.get(t, "/opensearch.xml")
	checkWellFormed(t, w.Body.Bytes())
	if got, want := w.Body.String(), `template="https://planet.example.org/search?q={searchTerms}"`; !strings.Contains(got, want) {
		t.Errorf("opensearch.xml lacks %s:\n%s", want, got)
	}
	w = e.get(t, "/blogs.opml")
	checkWellFormed(t, w.Body.Bytes())
	for _, want := range []string{`xmlUrl="https://blog.example.com/feed"`, `text="例のブログ"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("blogs.opml lacks %s:\n%s", want, w.Body)
		}
	}
}

func TestFeedErrorNotCached(t *testing.T) {
	e := newEnv(t, Config{})
	w := e.get(t, "/feed.atom?q=%ff")
	if w.Code != 400 {
		t.Fatalf("status: got %d, want 400", w.Code)
	}
	if got := w.Header().Get("ETag"); got != "" {
		t.Errorf("error carries ETag %q", got)
	}
	if got := w.Header().Get("Cache-Control"); strings.Contains(got, "public") {
		t.Errorf("error is cacheable: Cache-Control %q", got)
	}
}

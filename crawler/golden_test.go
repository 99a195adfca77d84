package crawler

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden pins what each fixture normalizes to, field by field. After a
// deliberate change, rewrite the files with `go test ./crawler -run Golden -update`
// and read the diff.
func TestGolden(t *testing.T) {
	tests := []struct{ file, contentType, feedURL string }{
		{"rss2.xml", "application/rss+xml", "https://vhoge.example/feed/"},
		{"atom.xml", "application/atom+xml", "https://cormac.example/blog/feed.atom"},
		{"rss1.rdf", "application/rdf+xml", "https://tdiary.example/index.rdf"},
		{"feed.json", "application/feed+json", "https://williamlam.example/feed.json"},
		{"sjis-header.xml", "application/rss+xml; charset=Shift_JIS", "https://jp.example/feed"},
		{"iso2022jp.xml", "application/xml", "https://jp.example/feed"},
		{"hostile.xml", "application/rss+xml", "https://hostile.example/feed"},
		{"bomb.xml", "application/xml", "https://bomb.example/feed"},
	}
	n := newNormalizer()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := n.parse(mustRead(t, tt.file), tt.contentType, tt.feedURL, "", testNow)
			if err != nil {
				t.Fatal(err)
			}
			// Only what the crawler sets: the store fills the rest.
			type post struct {
				ID, GUID, URL, Title, Author string
				Published, Updated           string
				Lang, Hash, Text, Content    string
				Excerpt                      bool
			}
			date := func(t time.Time) string {
				if t.IsZero() {
					return "" // none: the store dates the post when it first sees it
				}
				return t.Format(time.RFC3339)
			}
			view := struct {
				Title, SiteURL, Lang string
				Hints                hints
				Posts                []post
			}{Title: p.Title, SiteURL: p.SiteURL, Lang: p.Lang, Hints: p.Hints}
			for _, x := range p.Posts {
				view.Posts = append(view.Posts, post{x.ID, x.GUID, x.URL, x.Title, x.Author,
					date(x.Published), date(x.Updated), x.Lang, x.Hash, x.Text, x.Content, p.Excerpts[x.ID]})
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(view); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", "golden", strings.TrimSuffix(tt.file, filepath.Ext(tt.file))+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from its golden file %s:\n got %s\nwant %s", tt.file, path, got, want)
			}
		})
	}
}

package crawler

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vplanet"
)

func TestReadOPML(t *testing.T) {
	tests := []struct {
		name    string
		opml    string
		want    []vplanet.FeedSource
		wantErr string
	}{
		{
			name: "nested folders",
			opml: `<?xml version="1.0"?><opml version="2.0"><body>
				<outline text="VMware"><outline text="日本語">
					<outline type="rss" text="vhoge" title="vHoge のブログ" xmlUrl="https://vhoge.hateblo.jp/feed" language="ja"/>
				</outline></outline>
				<outline type="rss" text="Yellow Bricks" xmlUrl="https://www.yellow-bricks.com/feed/"/>
				<outline type="rss" text="twice" xmlUrl="https://www.yellow-bricks.com/feed/"/>
			</body></opml>`,
			want: []vplanet.FeedSource{
				{URL: "https://vhoge.hateblo.jp/feed", Name: "vHoge のブログ", Lang: "ja"},
				{URL: "https://www.yellow-bricks.com/feed/", Name: "Yellow Bricks"},
			},
		},
		{
			name: "bad outlines are skipped and reported",
			opml: `<opml><body><outline text="ok" xmlUrl="http://a.example/feed"/>
				<outline text="evil" xmlUrl="javascript:alert(1)"/><outline text="file" xmlUrl="file:///etc/passwd"/></body></opml>`,
			want:    []vplanet.FeedSource{{URL: "http://a.example/feed", Name: "ok"}},
			wantErr: "2 outlines skipped",
		},
		{
			name: "a comment marker in a title stays in the name",
			opml: `<opml><body><outline title="VMware #1 blog" xmlUrl="http://a.example/feed"/></body></opml>`,
			want: []vplanet.FeedSource{{URL: "http://a.example/feed", Name: "VMware ＃1 blog"}},
		},
		{name: "not OPML", opml: `<html><body>hello</body></html>`, wantErr: "not an OPML file"},
		{name: "not XML", opml: `{"feeds": []}`, wantErr: "not an OPML file"},
		{name: "nested too deep", opml: "<opml><body>" + strings.Repeat("<outline>", 100) + "</body></opml>", wantErr: "nested more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadOPML(strings.NewReader(tt.opml))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ReadOPML error = %v, want %q", err, tt.wantErr)
			}
			for i := range got {
				got[i].Line = 0
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadOPML =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestReadOPMLCorpus reads the OPML files of real feed readers in the
// shared corpus.
func TestReadOPMLCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "plagger-samples")
	tests := []struct {
		file string
		want int
	}{
		{"opml.xml", 1},
		{"opml-nested.xml", 2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Skipf("corpus not found at %s: %v", dir, err)
			}
			defer f.Close()
			got, err := ReadOPML(f)
			if err != nil || len(got) != tt.want {
				t.Errorf("ReadOPML(%s) = %d feeds, %v; want %d", tt.file, len(got), err, tt.want)
			}
		})
	}
}

// FuzzReadOPML checks that any input gives feeds or an error, and that every
// feed it gives survives a round trip through feeds.txt.
func FuzzReadOPML(f *testing.F) {
	f.Add(`<opml><body><outline text="a b" xmlUrl="http://a.example/feed" language="ja"/></body></opml>`)
	f.Add(`<?xml version="1.0" encoding="Shift_JIS"?><opml><body><outline text="x" xmlUrl="https://b.example/rss"/></body></opml>`)
	f.Add(`<opml><body><outline title="#x&amp;y" xmlUrl="http://c.example/?a=1&amp;b=2"/></body></opml>`)
	f.Add("<opml><body><outline title=\"x \u202e#y\" xmlUrl=\"http://d.example/feed\"/></body></opml>")
	f.Fuzz(func(t *testing.T, s string) {
		srcs, _ := ReadOPML(strings.NewReader(s))
		for _, src := range srcs {
			line := FormatFeedLine(src)
			back, err := ReadFeedList(strings.NewReader(line))
			if err != nil || len(back) != 1 {
				t.Fatalf("feed %+v written as %q reads back as %+v, %v", src, line, back, err)
			}
			if back[0].URL != src.URL {
				t.Fatalf("URL %q written as %q reads back as %q", src.URL, line, back[0].URL)
			}
			// A name whose last word is a language code reads back as that
			// language (see FormatFeedLine); any other name reads back whole.
			if back[0].Lang == src.Lang && back[0].Name != src.Name {
				t.Fatalf("name %q written as %q reads back as %q", src.Name, line, back[0].Name)
			}
		}
	})
}

// TestReadOPMLRefusesWhatFeedsTxtWould reads an export, as Feedly writes
// one, with an outline whose xmlUrl (70 KB) no line of feeds.txt may hold
// and a title full of bidirectional controls. What ReadOPML returns,
// written with FormatFeedLine, must read back with ReadFeedList.
func TestReadOPMLRefusesWhatFeedsTxtWould(t *testing.T) {
	opml := strings.Replace(string(mustRead(t, "opml/feedly-hostile.opml")), "LONGQUERY", strings.Repeat("a", 70_000), 1)
	opml = strings.ReplaceAll(opml, "LONGTITLE", strings.Repeat("長", 10_000))
	srcs, err := ReadOPML(strings.NewReader(opml))
	if err == nil || !strings.Contains(err.Error(), "1 outlines skipped") || !strings.Contains(err.Error(), "feeds.txt takes lines of at most 65536 bytes") {
		t.Errorf("error = %v, want the long outline skipped with a message naming feeds.txt's limit", err)
	}
	t.Log(err)
	if len(err.Error()) > 1000 {
		t.Errorf("the error is %d bytes long; it should not repeat the URL", len(err.Error()))
	}
	want := []vplanet.FeedSource{
		{URL: "https://www.yellow-bricks.com/feed/", Name: "Yellow Bricks"},
		{URL: "https://vhoge.hateblo.jp/feed", Name: "vHoge gnp.exe isolated marked"},
		{URL: "https://long.example/feed", Name: strings.Repeat("長", maxNameRunes-1) + "…"},
	}
	for i := range srcs {
		srcs[i].Line = 0
	}
	if !reflect.DeepEqual(srcs, want) {
		t.Errorf("ReadOPML =\n%+v\nwant\n%+v", srcs, want)
	}
	var lines strings.Builder
	for _, src := range srcs {
		lines.WriteString(FormatFeedLine(src) + "\n")
	}
	back, err := ReadFeedList(strings.NewReader(lines.String()))
	if err != nil || len(back) != len(srcs) {
		t.Errorf("feeds.txt written from the OPML reads back as %d feeds, error %v", len(back), err)
	}
}

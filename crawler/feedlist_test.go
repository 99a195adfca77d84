package crawler

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vplanet"
)

func TestReadFeedList(t *testing.T) {
	in := "\uFEFF# vplanet's feeds\n" +
		"\n" +
		"https://www.yellow-bricks.com/feed/   Yellow Bricks   en\n" +
		"  https://vhoge.hateblo.jp/feed ja  # a Hatena blog\n" +
		"https://blog.example.com/#top\tMy Blog With Spaces\n" +
		"HTTPS://WWW.Example.ORG/Feed\n" +
		"http://jp.example/ Japanese Blog ja-JP\r\n" +
		"https://notes.example/feed Notes on it\n" +
		"https://blog.example.net/feed Le blog de\n" +
		"https://lab.example/feed Lab by Jo en\n" +
		"   # indented comment\n"
	got, err := ReadFeedList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []vplanet.FeedSource{
		{URL: "https://www.yellow-bricks.com/feed/", Name: "Yellow Bricks", Lang: "en", Line: 3},
		{URL: "https://vhoge.hateblo.jp/feed", Lang: "ja", Line: 4},
		{URL: "https://blog.example.com/#top", Name: "My Blog With Spaces", Line: 5},
		{URL: "https://www.example.org/Feed", Line: 6},
		{URL: "http://jp.example/", Name: "Japanese Blog", Lang: "ja", Line: 7},
		// Two-letter words that are not a language vplanet knows stay in
		// the name.
		{URL: "https://notes.example/feed", Name: "Notes on it", Line: 8},
		{URL: "https://blog.example.net/feed", Name: "Le blog de", Line: 9},
		{URL: "https://lab.example/feed", Name: "Lab by Jo", Lang: "en", Line: 10},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadFeedListErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ftp", "https://ok.example/feed\nftp://files.example/feed.xml", `feeds.txt line 2: "ftp://files.example/feed.xml": only http and https URLs can be crawled, not ftp`},
		{"javascript", "javascript:alert(1)", `feeds.txt line 1: "javascript:alert(1)": only http and https URLs can be crawled, not javascript`},
		{"file", "file:///etc/passwd", `feeds.txt line 1: "file:///etc/passwd" is not a URL`},
		{"name first", "# blogs\nYellow Bricks https://www.yellow-bricks.com/", `feeds.txt line 2: "Yellow" is not a URL`},
		{"no host", "https:///feed", `feeds.txt line 1: "https:///feed" is not a URL`},
		{"bad escape", "https://x.example/%zz", `feeds.txt line 1: "https://x.example/%zz" is not a URL: invalid URL escape "%zz"`},
		{"duplicate", "https://a.example/feed\n\nhttps://A.example/feed Again", "feeds.txt line 3: https://a.example/feed is already listed on line 1"},
		{"control", "https://a.example/feed\x00", "feeds.txt line 1: control character U+0000 in line"},
		{"invalid utf-8", "https://a.example/feed \xff", "feeds.txt line 1: not valid UTF-8 text"},
		{"password", "https://user:pw@a.example/feed", "feeds.txt line 1: \"https://user:pw@a.example/feed\": user names and passwords in feed URLs are not supported"},
		{"long line", "https://a.example/\n" + strings.Repeat("x", maxLineLen+10) + "\nhttps://b.example/", "feeds.txt line 2: line longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFeedList(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %q, want %q", err, tt.want)
			}
		})
	}
}

// TestReadProjectFeedList reads the project's own feeds.txt, when present.
func TestReadProjectFeedList(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "feeds.txt"))
	if err != nil {
		t.Skipf("no feeds.txt beside the crawler: %v", err)
	}
	srcs, err := ReadFeedList(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) == 0 {
		t.Error("feeds.txt lists no feeds")
	}
	for _, s := range srcs {
		if s.Lang != "" && s.Lang != "ja" && s.Lang != "en" {
			t.Errorf("line %d: language %q", s.Line, s.Lang)
		}
	}
}

func FuzzReadFeedList(f *testing.F) {
	f.Add("https://a.example/feed Name en\n# comment\n\nhttp://b.example/ ja")
	f.Add("ftp://x\n")
	f.Add("\uFEFFhttps://a.example/#frag # c")
	f.Add("https://a.example/%zz")
	f.Fuzz(func(t *testing.T, in string) {
		srcs, err := ReadFeedList(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "feeds.txt line ") {
				t.Errorf("error does not name the line: %q", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, s := range srcs {
			if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
				t.Errorf("accepted %q", s.URL)
			}
			if s.Line < 1 || seen[strings.ToLower(s.URL)] {
				t.Errorf("line %d, duplicate %v: %q", s.Line, seen[s.URL], s.URL)
			}
			seen[strings.ToLower(s.URL)] = true
			if strings.ContainsAny(s.Name, "\n\r") || strings.Contains(s.Name, " #") {
				t.Errorf("name %q", s.Name)
			}
		}
	})
}

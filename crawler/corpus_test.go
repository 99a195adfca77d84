package crawler

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// corpusDirs are the real-world feed collections beside the project.
var corpusDirs = []string{"feedparser", "miniflux-testdata", "plagger-samples"}

// headerLine finds the HTTP header a feedparser test file says it is
// served with: "Header: Content-type: application/xml; charset=utf-8".
var headerLine = regexp.MustCompile(`(?im)^\s*Header:\s*Content-type:\s*(.+?)\s*$`)

// checkPosts reports what a normalized post must never be, whatever the input.
func checkPosts(t testing.TB, name string, p *parsed) {
	t.Helper()
	ids := map[string]bool{}
	for _, post := range p.Posts {
		if ids[post.ID] {
			t.Errorf("%s: duplicate post ID %s", name, post.ID)
		}
		ids[post.ID] = true
		if len(post.ID) != 20 || len(post.Hash) != 64 {
			t.Errorf("%s: ID %q, hash %q", name, post.ID, post.Hash)
		}
		for field, s := range map[string]string{"title": post.Title, "author": post.Author, "text": post.Text, "content": post.Content, "url": post.URL, "guid": post.GUID} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' && r != '\r' }) {
				t.Errorf("%s: post %s: %s holds invalid UTF-8 or control characters: %q", name, post.ID, field, s)
			}
		}
		if hasTag(post.Title) || strings.ContainsAny(post.Title, "\n\t") || utf8.RuneCountInString(post.Title) > maxTitleRunes {
			t.Errorf("%s: title is not one line of plain text: %q", name, post.Title)
		}
		if hasTag(post.Author) {
			t.Errorf("%s: author holds a tag: %q", name, post.Author)
		}
		lc := strings.ToLower(post.Content)
		for _, bad := range []string{"<script", "javascript:", " onerror=", " onload=", " onclick=", "<iframe", "<object", "<embed"} {
			if strings.Contains(lc, bad) {
				t.Errorf("%s: content keeps %q: %.200s", name, bad, post.Content)
			}
		}
		if post.URL != "" && !strings.HasPrefix(post.URL, "http://") && !strings.HasPrefix(post.URL, "https://") {
			t.Errorf("%s: URL %q", name, post.URL)
		}
		// Zero, for a post without a usable date, or a UTC time not in the future.
		if !post.Published.IsZero() && (post.Published.Location() != time.UTC || post.Published.After(time.Now().Add(futureSlack+time.Hour))) {
			t.Errorf("%s: published %v", name, post.Published)
		}
		if post.Lang == "" {
			t.Errorf("%s: no language", name)
		}
	}
}

// clearError reports whether err is one of the errors a person is shown
// for a response that holds no usable feed.
func clearError(err error) bool {
	return errors.Is(err, errNotFeed) || strings.HasPrefix(err.Error(), "malformed feed: ")
}

// TestCorpus runs every feed of the corpora beside the project through the
// whole decode-parse-normalize path: each yields posts or a clear error,
// and none panics or hangs.
func TestCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("corpus not found at %s: %v", root, err)
	}
	if testing.Short() {
		t.Skip("the corpus takes a few seconds; skipped with -short")
	}
	n := newNormalizer()
	for _, dir := range corpusDirs {
		t.Run(dir, func(t *testing.T) {
			base := filepath.Join(root, dir)
			if _, err := os.Stat(base); err != nil {
				t.Skipf("corpus not found at %s", base)
			}
			var (
				files, withPosts, empty, posts int
				failures                       = map[string]int{}
			)
			err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || strings.HasSuffix(path, "LICENSE") || strings.HasSuffix(path, "SOURCE.txt") {
					return err
				}
				body, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				files++
				name, _ := filepath.Rel(base, path)
				contentType := ""
				if m := headerLine.FindSubmatch(body[:min(len(body), 2048)]); m != nil {
					contentType = string(m[1])
				}
				type result struct {
					p   *parsed
					err error
				}
				done := make(chan result, 1)
				go func() {
					p, err := n.parse(body, contentType, "http://corpus.example/"+filepath.ToSlash(name), "", time.Now())
					done <- result{p, err}
				}()
				var r result
				select {
				case r = <-done:
				case <-time.After(10 * time.Second):
					t.Errorf("%s: no answer in 10s", name)
					return nil
				}
				switch {
				case r.err != nil:
					if !clearError(r.err) {
						t.Errorf("%s: unclear error %q", name, r.err)
					}
					if strings.Contains(r.err.Error(), "the parser failed") {
						t.Errorf("%s: %v", name, r.err)
					}
					kind, _, _ := strings.Cut(r.err.Error(), ":")
					if errors.As(r.err, new(*htmlPageError)) {
						kind = "HTML page"
					}
					failures[kind]++
				case len(r.p.Posts) == 0:
					empty++
				default:
					withPosts++
					posts += len(r.p.Posts)
					checkPosts(t, name, r.p)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for k, v := range failures {
				kinds = append(kinds, k+": "+itoa(v))
			}
			sort.Strings(kinds)
			t.Logf("%s: %d files: %d with posts (%d posts), %d feeds without items, errors: %s",
				dir, files, withPosts, posts, empty, strings.Join(kinds, ", "))
			if dir == "feedparser" && files < 2000 {
				t.Errorf("feedparser corpus: %d files, want about 2,107", files)
			}
		})
	}
}

// TestCorpusJapanese checks the Japanese feeds of the corpora decode to
// the right text, not merely to something.
func TestCorpusJapanese(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpus")
	tests := []struct{ file, contentType, want string }{
		{"feedparser/illformed/chardet/eucjp.xml", "", "ゲーム三昧な正月"},        // no encoding named anywhere
		{"feedparser/illformed/chardet/shiftjis.xml", "", ""},             // no encoding named anywhere
		{"plagger-samples/tdiary.rdf", "", ""},                            // EUC-JP RSS 1.0
		{"plagger-samples/top10news.xml", "", ""},                         // Shift_JIS in the prolog
		{"plagger-samples/hatena-rss.xml", "text/xml; charset=utf-8", ""}, // Hatena
	}
	n := newNormalizer()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(root, tt.file))
			if err != nil {
				t.Skipf("corpus file not found: %v", err)
			}
			p, err := n.parse(body, tt.contentType, "http://corpus.example/", "", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			text := p.Title
			for _, post := range p.Posts {
				text += post.Title + post.Text
			}
			if strings.ContainsRune(text, utf8.RuneError) {
				t.Errorf("decoding left U+FFFD: %q", text)
			}
			if !strings.ContainsFunc(text, func(r rune) bool { return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) }) {
				t.Errorf("no Japanese text: %q", text)
			}
			if tt.want != "" && !strings.Contains(text, tt.want) {
				t.Errorf("text does not hold %q: %.300q", tt.want, text)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"rss2.xml", "atom.xml", "rss1.rdf", "feed.json", "sjis-header.xml", "eucjp-prolog.xml",
		"iso2022jp.xml", "utf8-bom.xml", "utf16.xml", "home.html", "nofeed.html", "bomb.xml", "hostile.xml"} {
		body, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, "")
	}
	f.Add([]byte(`<rss version="2.0"><channel><item><title>&lt;b&gt;x</title></item></channel></rss>`), "text/xml; charset=shift_jis")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","content_html":"<script>x</script>"}]}`), "application/json")
	n := newNormalizer()
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		p, err := n.parse(body, contentType, "https://fuzz.example/feed", "", time.Now())
		if err != nil {
			if !clearError(err) {
				t.Errorf("unclear error %q", err)
			}
			return
		}
		checkPosts(t, "fuzz", p)
		if !utf8.ValidString(p.Title) || hasTag(p.Title) {
			t.Errorf("feed title %q", p.Title)
		}
	})
}

// BenchmarkParse measures decoding, parsing and normalizing per post on a
// realistic feed: the Japanese seed posts, 20 to a feed, as a blog serves
// them.
func BenchmarkParse(b *testing.B) {
	body := benchFeed(b, 20)
	n := newNormalizer()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	posts := 0
	for b.Loop() {
		p, err := n.parse(body, "application/rss+xml; charset=utf-8", "https://bench.example/feed", "", time.Now())
		if err != nil {
			b.Fatal(err)
		}
		posts += len(p.Posts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(posts, 1)), "ns/post")
}

// benchFeed builds an RSS 2.0 feed of n posts from the seed texts in the
// corpus (or from testdata when the corpus is absent).
func benchFeed(tb testing.TB, n int) []byte {
	tb.Helper()
	var texts []string
	for _, name := range []string{"vmworld-2017-europe-ja.txt", "vmworld-2005-day3-en.txt"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", "seeds", name))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		var cur strings.Builder
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "[VMware] ") && cur.Len() > 0 {
				texts = append(texts, cur.String())
				cur.Reset()
			}
			if line != "" {
				cur.WriteString("<p>" + htmlEscape(line) + "</p>\n")
			}
		}
		texts = append(texts, cur.String())
	}
	if len(texts) == 0 {
		texts = []string{"<p>最終日です。まず、<b>重複排除</b>と圧縮のIOパスについて紹介します。</p>", "<p>We had a great keynote about ESX.</p>"}
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Bench</title><link>https://bench.example/</link><language>ja</language>`)
	for i := range n {
		text := texts[i%len(texts)]
		b.WriteString("<item><title>Post " + itoa(i) + " VMworld 2017</title>")
		b.WriteString("<link>https://bench.example/posts/" + itoa(i) + "</link>")
		b.WriteString("<guid>https://bench.example/?p=" + itoa(i) + "</guid>")
		b.WriteString("<pubDate>" + time.Date(2017, 9, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z) + "</pubDate>")
		b.WriteString("<description><![CDATA[" + truncateBytes(stripForExcerpt(text), 300) + "]]></description>")
		b.WriteString("<content:encoded><![CDATA[" + text + `<p><img src="/img/` + itoa(i) + `.png" alt=""></p>]]></content:encoded></item>`)
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func stripForExcerpt(s string) string { return htmlText(s, 0) }

// TestCorpusEncodings checks the charset chosen for each of feedparser's
// encoding tests against the one feedparser expects. Two deliberate
// differences: RFC 3023's rule that text/xml without a charset is US-ASCII
// is ignored, as every browser and feed reader does (its bytes are read as
// the document says, or as UTF-8); and GB2312 is decoded as GBK, its
// superset, where feedparser says GB18030, GBK's own superset.
func TestCorpusEncodings(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "feedparser", "encoding", "*.xml"))
	if len(files) == 0 {
		t.Skip("corpus not found at ../../shared/corpus/feedparser/encoding")
	}
	expect := regexp.MustCompile(`encoding == '([^']+)'`)
	checked := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := expect.FindSubmatch(body)
		if m == nil {
			continue // the expectation is in a comment we cannot read as ASCII (UTF-16, UTF-32)
		}
		contentType := ""
		if h := headerLine.FindSubmatch(body[:min(len(body), 2048)]); h != nil {
			contentType = string(h[1])
		}
		_, got := decode(body, contentType)
		_, want := charset.Lookup(string(m[1]))
		switch {
		case want == "windows-1252" && got == "utf-8" && strings.HasPrefix(contentType, "text/"):
			continue // RFC 3023's US-ASCII default, ignored
		case want == "gb18030" && got == "gbk":
			continue
		}
		checked++
		if got != want {
			t.Errorf("%s (Content-Type %q): got %s, want %s", filepath.Base(f), contentType, got, want)
		}
	}
	if checked < 30 {
		t.Errorf("checked %d files, want at least 30", checked)
	}
}

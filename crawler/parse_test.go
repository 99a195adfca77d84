package crawler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"vplanet"
)

var testNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func parseFile(t *testing.T, name, contentType, feedURL, lang string) *parsed {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := newNormalizer().parse(body, contentType, feedURL, lang, testNow)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return p
}

func postByTitle(t *testing.T, p *parsed, title string) *vplanet.Post {
	t.Helper()
	for _, post := range p.Posts {
		if post.Title == title {
			return post
		}
	}
	var titles []string
	for _, post := range p.Posts {
		titles = append(titles, post.Title)
	}
	t.Fatalf("no post titled %q; got %q", title, titles)
	return nil
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		file, contentType, feedURL string
		feedTitle, siteURL, lang   string
		posts                      int
	}{
		{"rss2.xml", "application/rss+xml", "https://vhoge.example/feed/", "vHoge & Friends", "https://vhoge.example/", "en", 4},
		{"atom.xml", "application/atom+xml", "https://cormac.example/blog/feed.atom", "Cormac Hogan", "https://cormac.example/blog/", "en", 2},
		{"rss1.rdf", "application/rdf+xml", "https://tdiary.example/index.rdf", "tDiary のにっき", "https://tdiary.example/", "ja", 1},
		{"feed.json", "application/feed+json", "https://williamlam.example/feed.json", "William's JSON Feed", "https://williamlam.example/", "en", 2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := parseFile(t, tt.file, tt.contentType, tt.feedURL, "")
			if p.Title != tt.feedTitle {
				t.Errorf("feed title: got %q, want %q", p.Title, tt.feedTitle)
			}
			if p.SiteURL != tt.siteURL {
				t.Errorf("site URL: got %q, want %q", p.SiteURL, tt.siteURL)
			}
			if p.Lang != tt.lang {
				t.Errorf("feed language: got %q, want %q", p.Lang, tt.lang)
			}
			if len(p.Posts) != tt.posts {
				t.Errorf("posts: got %d, want %d", len(p.Posts), tt.posts)
			}
			for _, post := range p.Posts {
				if len(post.ID) != 20 || post.Hash == "" {
					t.Errorf("post %q: ID %q, hash %q", post.Title, post.ID, post.Hash)
				}
				if !post.Published.IsZero() && post.Published.Location() != time.UTC {
					t.Errorf("post %q: published %v, want a UTC time or none", post.Title, post.Published)
				}
				if post.URL != "" && !strings.HasPrefix(post.URL, "https://") {
					t.Errorf("post %q: URL %q is not absolute", post.Title, post.URL)
				}
			}
		})
	}
}

func TestNormalizeRSS2(t *testing.T) {
	p := parseFile(t, "rss2.xml", "application/rss+xml", "https://vhoge.example/feed/", "")

	ja := postByTitle(t, p, "VMworld 2017 Europe #5")
	if got, want := ja.URL, "https://vhoge.example/2017/09/vmworld-2017-europe-5/"; got != want {
		t.Errorf("relative link: got %q, want %q", got, want)
	}
	if got, want := ja.Lang, "ja"; got != want {
		t.Errorf("kana text in a feed declared en: got lang %q, want %q", got, want)
	}
	if got, want := ja.Published, time.Date(2017, 9, 14, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("published: got %v, want %v", got, want)
	}
	if got, want := ja.Author, "vhoge"; got != want {
		t.Errorf("author: got %q, want %q", got, want)
	}
	if !strings.Contains(ja.Content, `src="https://vhoge.example/img/io.png"`) {
		t.Errorf("content: relative image not resolved: %s", ja.Content)
	}
	if !strings.Contains(ja.Content, "<b>重複排除</b>") {
		t.Errorf("content: the fuller content:encoded was not chosen: %s", ja.Content)
	}
	if got, want := ja.Text, "最終日です。\nまず、重複排除と圧縮のIOパスについて紹介します。\nvSAN 6.6 : A Day in the Life of an I/O"; got != want {
		t.Errorf("text:\n got %q\nwant %q", got, want)
	}
	if got, want := ja.ID, PostID("tag:vhoge.example,2017:post-5", ja.URL, "", ""); got != want {
		t.Errorf("ID: got %q, want the digest of the link %q", got, want)
	}

	en := postByTitle(t, p, "VMWorld 2005 Day 3")
	if got, want := en.Lang, "en"; got != want {
		t.Errorf("lang: got %q, want %q", got, want)
	}
	if got, want := en.Text, "We had a great keynote about ESX and the future of virtualization."; got != want {
		t.Errorf("escaped HTML description: got text %q, want %q", got, want)
	}

	// Without a usable date, a post goes to the store without one: the store
	// dates it when it first sees it.
	undated := postByTitle(t, p, "No date, no GUID")
	if !undated.Published.IsZero() || !undated.Updated.IsZero() {
		t.Errorf("undated post: got published %v, updated %v; want none", undated.Published, undated.Updated)
	}
	if got, want := undated.ID, PostID("", "https://vhoge.example/undated/", "", ""); got != want {
		t.Errorf("post without GUID: got ID %q, want the link's digest %q", got, want)
	}
	future := postByTitle(t, p, "From the future")
	if !future.Published.IsZero() {
		t.Errorf("future post: got published %v, want none", future.Published)
	}

	// The same feed parsed later gives the same IDs and hashes: nothing changes.
	again, err := newNormalizer().parse(mustRead(t, "rss2.xml"), "", "https://vhoge.example/feed/", "", testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i, post := range again.Posts {
		if post.ID != p.Posts[i].ID || post.Hash != p.Posts[i].Hash {
			t.Errorf("post %q: ID or hash changed between crawls", post.Title)
		}
	}
}

func TestNormalizeAtom(t *testing.T) {
	p := parseFile(t, "atom.xml", "application/atom+xml", "https://cormac.example/blog/feed.atom", "")
	esa := postByTitle(t, p, "vSAN ESA deep dive")
	if got, want := esa.URL, "https://cormac.example/blog/2024/05/vsan-esa/"; got != want {
		t.Errorf("xml:base link: got %q, want %q", got, want)
	}
	if !strings.Contains(esa.Content, `href="https://cormac.example/2023/esa-intro/"`) {
		t.Errorf("relative link in content not resolved against xml:base: %s", esa.Content)
	}
	if got, want := esa.Published, time.Date(2024, 5, 1, 6, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("published: got %v, want %v", got, want)
	}
	if got, want := esa.Author, "Cormac Hogan"; got != want {
		t.Errorf("author: got %q, want %q", got, want)
	}
	if got, want := esa.Text, "The Express Storage Architecture, with a relative link.\nSecond paragraph about vSAN 8."; got != want {
		t.Errorf("text: got %q, want %q", got, want)
	}
	upd := postByTitle(t, p, "Updated only")
	if got, want := upd.Published, time.Date(2024, 4, 20, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("published from updated: got %v, want %v", got, want)
	}
}

func TestNormalizeJSONFeed(t *testing.T) {
	p := parseFile(t, "feed.json", "application/feed+json", "https://williamlam.example/feed.json", "")
	plain := postByTitle(t, p, "Plain text post")
	if got, want := plain.Content, "<p>First paragraph.</p><p>Second paragraph.</p>"; got != want {
		t.Errorf("content_text: got %q, want %q", got, want)
	}
	// "2" is no global identity: the link joins it.
	if got, want := plain.ID, PostID("2", "https://williamlam.example/2024/01/plain", "", ""); got != want {
		t.Errorf("ID: got %q, want %q", got, want)
	}
	if got := PostID("2", "https://other.example/2", "", ""); got == plain.ID {
		t.Errorf("two blogs' post 2 share the ID %q", got)
	}
}

func TestCharsets(t *testing.T) {
	tests := []struct {
		file, contentType, title string
	}{
		{"sjis-header.xml", "application/rss+xml; charset=Shift_JIS", "シフトJISのブログ"},
		{"sjis-header.xml", "text/xml", "シフトJISのブログ"}, // no declaration at all: guessed
		{"eucjp-prolog.xml", "application/xml", "EUC-JPのブログ"},
		{"eucjp-prolog.xml", "text/xml; charset=utf-8", "EUC-JPのブログ"},      // the header lies
		{"eucjp-prolog.xml", "text/xml; charset=ISO-8859-1", "EUC-JPのブログ"}, // a server's default
		{"iso2022jp.xml", "", "ISO-2022-JPのブログ"},
		{"utf8-bom.xml", "", "BOM付きのブログ"},
		{"utf16.xml", "", "UTF-16のブログ"},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.contentType, func(t *testing.T) {
			p := parseFile(t, tt.file, tt.contentType, "https://jp.example/feed", "")
			if p.Title != tt.title {
				t.Errorf("feed title: got %q, want %q", p.Title, tt.title)
			}
			post := postByTitle(t, p, "拡張クラスタの構成")
			if got, want := post.Text, "vSAN の拡張クラスタを構成しました。ＶＣＨＡ も試しました。"; got != want {
				t.Errorf("text: got %q, want %q", got, want)
			}
			if post.Lang != "ja" {
				t.Errorf("lang: got %q, want ja", post.Lang)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, contentType string
		body              []byte
		want, charset     string
	}{
		{"latin1 in prolog", "", []byte("<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xe9</a>"), `<?xml version='1.0' encoding="UTF-8"?><a>café</a>`, "windows-1252"},
		{"koi8-r header", "text/xml; charset=KOI8-R", []byte("<a>\xf0\xd2\xc9\xd7\xc5\xd4</a>"), "<a>Привет</a>", "koi8-r"},
		{"windows-1251 prolog", "", []byte(`<?xml version="1.0" encoding="windows-1251"?><a>` + "\xcf\xf0\xe8" + `</a>`), `<?xml version="1.0" encoding="UTF-8"?><a>При</a>`, "windows-1251"},
		{"utf-8 mislabelled latin1", "", []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><a>테스트</a>`), `<?xml version="1.0" encoding="UTF-8"?><a>테스트</a>`, "utf-8"},
		{"unknown label", "", []byte(`<?xml version="1.0" encoding="invalid"?><a>café</a>`), `<?xml version="1.0" encoding="UTF-8"?><a>café</a>`, "utf-8"},
		{"quoted header charset", "application/atom+xml; charset='us-ascii'", []byte("<a>x</a>"), "<a>x</a>", "windows-1252"},
		{"control characters", "", []byte("<a>a\x00b\x1bc\x7fd\tz</a>"), "<a>abcd\tz</a>", "utf-8"},
		{"C1 controls and bidi overrides", "", []byte("<a>csi\u009b31m \u202eevil\u202c \u2066x\u2069 ok</a>"), "<a>csi31m evil x ok</a>", "utf-8"},
		{"invalid utf-8 declared", "text/xml; charset=utf-8", []byte("<a>\xff\xfe\xfd ok</a>"), "<a>ÿþý ok</a>", "windows-1252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, charset := decode(tt.body, tt.contentType)
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if charset != tt.charset {
				t.Errorf("charset: got %q, want %q", charset, tt.charset)
			}
		})
	}
}

func TestHTMLIsNotAFeed(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"home.html", "https://vhoge.example/feed/"},
		{"nofeed.html", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := newNormalizer().parse(mustRead(t, tt.file), "text/html", "https://vhoge.example/", "", testNow)
			var page *htmlPageError
			if !errors.As(err, &page) {
				t.Fatalf("got error %v, want an HTML page error", err)
			}
			if page.Feed != tt.want {
				t.Errorf("discovered feed: got %q, want %q", page.Feed, tt.want)
			}
			if tt.want == "" && err.Error() != "not a feed: the page is HTML and links no feed" {
				t.Errorf("error: got %q", err)
			}
		})
	}
}

func TestDiscoverFeed(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"atom beats comments", `<link rel="alternate" type="application/atom+xml" href="atom.xml"><link rel="alternate" type="application/rss+xml" href="/c">`, "https://b.example/blog/atom.xml"},
		{"base href", `<base href="https://cdn.example/x/"><link rel="Alternate feed" type="application/rss+xml; charset=utf-8" href="rss">`, "https://cdn.example/x/rss"},
		{"json feed", `<link rel="alternate" type="application/feed+json" href="//b.example/feed.json">`, "https://b.example/feed.json"},
		{"rss over generic xml", `<link rel="alternate" type="text/xml" href="/x.xml"><link rel="alternate" type="application/rss+xml" href="/rss">`, "https://b.example/rss"},
		{"javascript href", `<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">`, ""},
		{"not alternate", `<link rel="stylesheet" type="application/rss+xml" href="/s">`, ""},
		{"links in body ignored", `<body><link rel="alternate" type="application/rss+xml" href="/rss">`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := mustURL(t, "https://b.example/blog/")
			if got := discoverFeed([]byte(tt.page), base); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHostileContent(t *testing.T) {
	p := parseFile(t, "hostile.xml", "application/rss+xml", "https://hostile.example/feed", "")
	if strings.ContainsAny(p.Title, "<>") || !strings.HasSuffix(p.Title, "Hostile") {
		t.Errorf("feed title: got %q", p.Title)
	}
	if p.SiteURL != "" {
		t.Errorf("javascript: site URL kept: %q", p.SiteURL)
	}
	if len(p.Posts) != 2 {
		t.Fatalf("posts: got %d, want 2", len(p.Posts))
	}
	post := p.Posts[0]
	if got, want := post.Title, "Hello world & more"; got != want {
		t.Errorf("title: got %q, want %q", got, want)
	}
	if post.URL != "" {
		t.Errorf("javascript: link kept: %q", post.URL)
	}
	for _, bad := range []string{"<script", "alert", "onerror", "onclick", "onload", "javascript", "data:", "expression", "<iframe", "<svg", "style="} {
		if strings.Contains(strings.ToLower(post.Content), bad) {
			t.Errorf("content keeps %q: %s", bad, post.Content)
		}
		if strings.Contains(strings.ToLower(post.Title+post.Author), bad) {
			t.Errorf("title or author keeps %q: %q %q", bad, post.Title, post.Author)
		}
	}
	if !strings.Contains(post.Content, `href="https://hostile.example/relative/ok"`) {
		t.Errorf("a safe relative link was lost: %s", post.Content)
	}
	if strings.Contains(post.Text, "alert") {
		t.Errorf("text keeps script: %q", post.Text)
	}
	second := p.Posts[1]
	if got, want := second.Title, "Controlchars and a data: link"; got != want {
		t.Errorf("control characters: got title %q, want %q", got, want)
	}
	if second.URL != "" {
		t.Errorf("data: link kept: %q", second.URL)
	}
}

func TestXMLBomb(t *testing.T) {
	done := make(chan struct{})
	var (
		p   *parsed
		err error
	)
	go func() {
		defer close(done)
		p, err = newNormalizer().parse(mustRead(t, "bomb.xml"), "", "https://bomb.example/feed", "", testNow)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the XML bomb did not finish in 10s")
	}
	if err != nil {
		return // refused: fine
	}
	for _, post := range p.Posts {
		if len(post.Title)+len(post.Text) > 10000 {
			t.Errorf("entities expanded: title %d bytes, text %d bytes", len(post.Title), len(post.Text))
		}
	}
}

func TestHugeTitleAndManyItems(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>` + strings.Repeat("長い", 10<<20/6) + `</title>`)
	for i := range 100_000 {
		b.WriteString("<item><title>t</title><link>https://x.example/" + itoa(i) + "</link></item>")
	}
	b.WriteString("</channel></rss>")
	start := time.Now()
	p, err := newNormalizer().parse([]byte(b.String()), "", "https://x.example/feed", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	if n := len([]rune(p.Title)); n > maxTitleRunes {
		t.Errorf("title: got %d runes, want at most %d", n, maxTitleRunes)
	}
	if len(p.Posts) != maxItems || p.Dropped != 100_000-maxItems {
		t.Errorf("items: got %d kept, %d dropped; want %d, %d", len(p.Posts), p.Dropped, maxItems, 100_000-maxItems)
	}
}

func TestPlainLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hello\n\tworld  ", "Hello world"},
		{"AT&amp;T <b>rocks</b>", "AT&T rocks"},
		{"x < y", "x < y"},
		{"<script>alert(1)</script>Safe", "Safe"},
		{"&lt;b&gt;", ""},
		{"&lt;script&gt;alert(1)&lt;/script&gt;Escaped twice", "Escaped twice"},
		{"1 &lt; 2", "1 < 2"},
		{strings.Repeat("あ", 400), strings.Repeat("あ", maxTitleRunes-1) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 20)], func(t *testing.T) {
			if got := plainLine(tt.in, maxTitleRunes); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPostLang(t *testing.T) {
	tests := []struct {
		name, text, listed, declared, want string
	}{
		{"kana", "vSANの新機能", "", "en", "ja"},
		{"kanji only is not clear", "東京都", "", "", "en"},
		{"listed beats declared", "English text", "ja", "en", "ja"},
		{"declared", "English text", "", "de", "de"},
		{"default", "English text", "", "", "en"},
		{"a quoted word", "I learnt to say ありがとう in Tokyo, and many more English words follow here to make a long post about vSphere and vSAN and NSX.", "", "", "en"},
		{"English in a blog listed Japanese", "I upgraded my nested VMware Cloud Foundation lab over a weekend.", "ja", "", "en"},
		{"English in a blog declaring Japanese", "I upgraded my nested VMware Cloud Foundation lab over a weekend.", "", "ja", "en"},
		{"English quoting a kanji word, listed Japanese", "The 重複排除 setting is what English docs call deduplication, and it is on by default.", "ja", "", "en"},
		{"product names alone are not clear", "VCF 9.0 GA", "ja", "", "ja"},
		{"kanji and Latin without kana are not clear", "vSAN 重複排除 圧縮 検証 環境 構築 手順 NSX", "ja", "", "ja"},
		{"Latin text keeps another listed language", "Prévoir deux mille euros de matériel pour le laboratoire.", "fr", "", "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := postLang("", tt.text, tt.listed, tt.declared); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLangHatenaMixed reads a Hatena blog's Atom feed, listed and declared
// Japanese, whose author writes one post in English.
func TestLangHatenaMixed(t *testing.T) {
	p := parseFile(t, "hatena-mixed.atom", "application/atom+xml; charset=utf-8", "https://vhoge.hatenablog.jp/feed", "ja")
	for _, tt := range []struct{ title, want string }{
		{"Upgrading VCF 5.2 to 9.0 in my home lab", "en"},
		{"vSAN ESA の拡張クラスタを組んでみた", "ja"},
		{"VCF 9.0 GA", "ja"}, // too little text to tell: the listed language
	} {
		if got := postByTitle(t, p, tt.title).Lang; got != tt.want {
			t.Errorf("%q: lang %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n        int
		r        float64
		min, max time.Duration
	}{
		{1, 0, 3 * time.Minute, 4 * time.Minute},
		{1, 0.999, 6 * time.Minute, 7 * time.Minute},
		{3, 0.5, 20 * time.Minute, 20 * time.Minute},
		{30, 0.5, 24 * time.Hour, 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, tt.r); got < tt.min || got > tt.max {
			t.Errorf("backoff(%d, %v): got %v, want between %v and %v", tt.n, tt.r, got, tt.min, tt.max)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := testNow
	tests := []struct {
		h    string
		want time.Time
	}{
		{"120", now.Add(2 * time.Minute)},
		{"1", now.Add(time.Minute)},
		{"99999999", now.Add(7 * 24 * time.Hour)},
		{"Mon, 23 Nov 2026 10:00:00 GMT", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)},
		{"soon", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); !got.Equal(tt.want) {
			t.Errorf("retryAfter(%q): got %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestPostID(t *testing.T) {
	same := []struct{ name, a, b string }{
		{"scheme", "http://vhoge.hateblo.jp/entry/2017/09/14/090000", "https://vhoge.hateblo.jp/entry/2017/09/14/090000"},
		{"host case", "https://VHoge.Hateblo.JP/entry/1", "https://vhoge.hateblo.jp/entry/1"},
		{"default port", "https://b.example:443/p/1", "https://b.example/p/1"},
		{"fragment", "https://b.example/p/1#more-42", "https://b.example/p/1"},
		{"utm parameters", "https://b.example/p/1?utm_source=rss&utm_medium=rss", "https://b.example/p/1"},
		{"utm among others", "https://b.example/?p=42&utm_campaign=x", "https://b.example/?p=42"},
		{"empty path", "https://b.example", "https://b.example/"},
		{"GUID does not matter", "https://b.example/p/1", "https://b.example/p/1"},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := PostID("hatenablog://entry/1", tt.a, "", ""), PostID("tag:blog.hatena.ne.jp,2013:blog-1", tt.b, "", ""); a != b {
				t.Errorf("%q and %q: IDs %s and %s, want one", tt.a, tt.b, a, b)
			}
		})
	}
	differ := []struct{ name, a, b string }{
		{"path case", "https://b.example/P/1", "https://b.example/p/1"},
		{"query", "https://b.example/?p=1", "https://b.example/?p=2"},
		{"host", "https://a.example/p/1", "https://b.example/p/1"},
		{"port", "https://b.example:8443/p/1", "https://b.example/p/1"},
	}
	for _, tt := range differ {
		t.Run(tt.name, func(t *testing.T) {
			if PostID("", tt.a, "", "") == PostID("", tt.b, "", "") {
				t.Errorf("%q and %q share an ID", tt.a, tt.b)
			}
		})
	}
	if PostID("g", "", "t", "c") == PostID("h", "", "t", "c") {
		t.Error("without a link, two GUIDs share an ID")
	}
	if PostID("", "", "t", "c") == PostID("", "", "t", "d") {
		t.Error("without a link or GUID, two contents share an ID")
	}
}

// TestOneBlogTwoFeeds parses a Hatena blog's RSS and Atom feeds, whose GUIDs
// and ids differ for the same entries: each entry is one post.
func TestOneBlogTwoFeeds(t *testing.T) {
	const rss = `<rss version="2.0"><channel><title>vHoge</title><link>https://vhoge.hateblo.jp/</link>
<item><title>拡張クラスタ</title><link>https://vhoge.hateblo.jp/entry/2017/09/14/090000</link><guid isPermaLink="false">hatenablog://entry/10328749687</guid><pubDate>Thu, 14 Sep 2017 09:00:00 +0900</pubDate><description>拡張クラスタの話。</description></item>
<item><title>重複排除</title><link>http://vhoge.hateblo.jp/entry/2017/09/13/090000?utm_source=feed</link><guid isPermaLink="false">hatenablog://entry/10328749600</guid><pubDate>Wed, 13 Sep 2017 09:00:00 +0900</pubDate><description>重複排除の話。</description></item>
</channel></rss>`
	const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><title>vHoge</title><link href="https://vhoge.hateblo.jp/"/>
<entry><title>拡張クラスタ</title><link href="https://vhoge.hateblo.jp/entry/2017/09/14/090000"/><id>tag:blog.hatena.ne.jp,2013:blog-vhoge-10328749687</id><updated>2017-09-14T09:00:00+09:00</updated><content type="html">拡張クラスタの話。</content></entry>
<entry><title>重複排除</title><link href="https://vhoge.hateblo.jp/entry/2017/09/13/090000"/><id>tag:blog.hatena.ne.jp,2013:blog-vhoge-10328749600</id><updated>2017-09-13T09:00:00+09:00</updated><content type="html">重複排除の話。</content></entry>
</feed>`
	n := newNormalizer()
	a, err := n.parse([]byte(rss), "", "https://vhoge.hateblo.jp/rss", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.parse([]byte(atom), "", "https://vhoge.hateblo.jp/feed", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Posts) != 2 || len(b.Posts) != 2 {
		t.Fatalf("posts: %d and %d, want 2 and 2", len(a.Posts), len(b.Posts))
	}
	for i := range a.Posts {
		if a.Posts[i].ID != b.Posts[i].ID {
			t.Errorf("%q: RSS ID %s, Atom ID %s; want one post", a.Posts[i].Title, a.Posts[i].ID, b.Posts[i].ID)
		}
	}
}

// TestSharedLinks checks that items of one feed that share a link (each
// links the blog's home, or one page) stay separate posts, and that an item
// listed twice stays one.
func TestSharedLinks(t *testing.T) {
	const feed = `<rss version="2.0"><channel><title>notes</title><link>https://notes.example/</link>
<item><title>one</title><link>https://notes.example/</link><guid>tag:notes.example,1</guid></item>
<item><title>two</title><link>https://notes.example/</link><guid>tag:notes.example,2</guid></item>
<item><title>three</title><link>https://notes.example/today</link><guid>3</guid></item>
<item><title>four</title><link>https://notes.example/today</link><guid>4</guid></item>
<item><title>five</title><link>https://notes.example/5</link><guid>5</guid></item>
<item><title>five again</title><link>https://notes.example/5</link><guid>5</guid></item>
</channel></rss>`
	p, err := newNormalizer().parse([]byte(feed), "", "https://notes.example/feed", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, post := range p.Posts {
		titles = append(titles, post.Title)
	}
	if got, want := strings.Join(titles, ","), "one,two,three,four,five"; got != want {
		t.Errorf("posts: got %s, want %s", got, want)
	}
	if got, want := p.Posts[4].ID, PostID("5", "https://notes.example/5", "", ""); got != want {
		t.Errorf("a link of its own: ID %s, want the link's %s", got, want)
	}
}

func TestUsableTime(t *testing.T) {
	now := testNow
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"ordinary", time.Date(2017, 9, 14, 9, 0, 0, 0, time.FixedZone("JST", 9*3600)), time.Date(2017, 9, 14, 0, 0, 0, 0, time.UTC)},
		{"missing", time.Time{}, time.Time{}},
		{"before 1990", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}},
		{"a little ahead (time zones)", now.Add(23 * time.Hour), now.Add(23 * time.Hour)},
		{"more than a day ahead", now.Add(25 * time.Hour), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := usableTime(tt.in, now)
			if !got.Equal(tt.want) || !got.IsZero() && got.Location() != time.UTC {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsExcerpt(t *testing.T) {
	long := strings.Repeat("vSAN の拡張クラスタを構成しました。", 40) // 800 runes
	tests := []struct {
		name, content, text string
		want                bool
	}{
		{"short description only", "", "A short summary.", true},
		{"long description only", "", long, false},
		{"short, whole in content", "<p>A short note.</p>", "A short note.", false},
		{"WordPress excerpt", "", "The first words of the post [&hellip;]", true},
		{"bracketed ellipsis, long", "<p>x</p>", long + " […]", true},
		{"Japanese read more", "<p>x</p>", long + "続きを読む", true},
		{"read more link", "<p>x</p>", "Some words. Read more »", true},
		{"short, ends with an ellipsis", "<p>x</p>", "Some words…", true},
		{"long, ends with an ellipsis", "<p>x</p>", long + "面倒でしたから…", false},
		{"very long, marked", "<p>x</p>", strings.Repeat(long, 3) + " […]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.ReplaceAll(tt.text, "&hellip;", "…")
			if got := isExcerpt(&gofeed.Item{Content: tt.content}, text); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

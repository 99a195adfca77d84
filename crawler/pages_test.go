package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"

	"vplanet"
	"vplanet/store"
)

// articlePage is a blog post's page as WordPress themes lay it out: the
// post between a menu, a sidebar and a footer.
const articlePage = `<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>%[1]s | vHoge</title>
<script>var tracker = "SCRIPTTEXT";</script></head>
<body>
<header id="masthead"><nav class="main-navigation"><ul><li><a href="/">ホーム</a></li><li><a href="/about">NAVTEXT について</a></li><li><a href="/archive">アーカイブ</a></li></ul></nav></header>
<div id="content" class="site-content">
<main id="main"><article class="post hentry">
<h1 class="entry-title">%[1]s</h1>
<div class="entry-content">
<p>%[2]s</p>
<p>vSAN の拡張クラスタでは、二つのサイトに置いたホストが一つのクラスタを作り、監視ホストが第三のサイトで両者を見守ります。サイト間の遅延が小さいことが前提です。</p>
<p>重複排除と圧縮はディスクグループ単位で働き、キャッシュ層からキャパシティ層へデステージされるときに処理されます。書き込みの遅延には直接影響しません。</p>
<p>vCenter HA (VCHA) は、アクティブ、パッシブ、ウィットネスの三つのノードで vCenter Server を守ります。フェイルオーバーには数分かかることがあります。</p>
<p>最後に、NSX と組み合わせた構成についても触れました。詳しい手順は次回の記事で紹介する予定です。</p>
</div></article></main>
<aside id="secondary" class="widget-area"><section class="widget"><h2>最近の投稿</h2><ul><li><a href="/a">SIDEBARTEXT 一つ目</a></li><li><a href="/b">二つ目</a></li></ul></section></aside>
</div>
<footer id="colophon" class="site-footer"><p>FOOTERTEXT (c) 2026 vHoge. Powered by WordPress.</p></footer>
</body></html>`

// excerptSite is a blog whose feed carries excerpts, with its robots.txt
// and its posts' pages.
type excerptSite struct {
	*httptest.Server
	mu     sync.Mutex
	hits   map[string]int // requests per path
	title  atomic.Value   // the first post's title, which a test may change
	robots func(w http.ResponseWriter)
}

func newExcerptSite(t *testing.T, robots func(w http.ResponseWriter)) *excerptSite {
	s := &excerptSite{hits: map[string]int{}, robots: robots}
	s.title.Store("拡張クラスタの構成")
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			s.robots(w)
		case "/feed":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>vHoge</title><link>%[1]s/</link>
<item><title>%[2]s</title><link>%[1]s/posts/1</link><guid>%[1]s/?p=1</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>
<description>vSAN の拡張クラスタを構成しました。 [&#8230;]</description></item>
<item><title>Private</title><link>%[1]s/private/2</link><guid>%[1]s/?p=2</guid><pubDate>Sun, 01 Nov 2026 10:00:00 GMT</pubDate>
<description>A private post&#8217;s excerpt&#8230;</description></item>
<item><title>Missing</title><link>%[1]s/posts/4</link><guid>%[1]s/?p=4</guid><pubDate>Sat, 31 Oct 2026 10:00:00 GMT</pubDate>
<description>The page of this post is gone. Read more</description></item>
<item><title>Full</title><link>%[1]s/posts/3</link><guid>%[1]s/?p=3</guid><pubDate>Fri, 30 Oct 2026 10:00:00 GMT</pubDate>
<description>Short.</description><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;The whole post is in the feed.&lt;/p&gt;</content:encoded></item>
</channel></rss>`, s.URL, s.title.Load())
		case "/posts/1", "/private/2", "/posts/3":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, articlePage, "拡張クラスタの構成", "BODYSENTENCE 今回は vSAN の拡張クラスタを実際に構成し、その手順と注意点をまとめました。")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *excerptSite) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func postsByTitle(t *testing.T, db *store.DB) map[string]*vplanet.Post {
	t.Helper()
	posts, err := db.RecentPosts(context.Background(), vplanet.PostFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*vplanet.Post{}
	for _, p := range posts {
		m[p.Title] = p
	}
	return m
}

func TestRunFetchesPages(t *testing.T) {
	site := newExcerptSite(t, func(w http.ResponseWriter) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	db := openStore(t)
	syncFeeds(t, db, site.URL+"/feed")
	c := New(db, Options{Logger: testLogger(t)})
	if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.OK != 1 || sum.New != 4 {
		t.Fatalf("run: %s, %v", sum, err)
	}
	posts := postsByTitle(t, db)

	first := posts["拡張クラスタの構成"]
	if first == nil {
		t.Fatalf("the first post is missing: %v", posts)
	}
	if !strings.Contains(first.Text, "BODYSENTENCE 今回は vSAN の拡張クラスタを実際に構成し") ||
		!strings.Contains(first.Text, "vCenter HA (VCHA)") {
		t.Errorf("the page's body is not indexed: %q", first.Text)
	}
	for _, chrome := range []string{"NAVTEXT", "SIDEBARTEXT", "FOOTERTEXT", "SCRIPTTEXT"} {
		if strings.Contains(first.Text, chrome) {
			t.Errorf("the indexed text keeps the page's %s: %q", chrome, first.Text)
		}
	}
	if got, want := first.Content, "<p>vSAN の拡張クラスタを構成しました。 […]</p>"; got != want {
		t.Errorf("content: got %q, want the feed's excerpt %q", got, want)
	}
	if first.Lang != "ja" {
		t.Errorf("lang: got %q, want ja", first.Lang)
	}
	if got, want := posts["Private"].Text, "A private post’s excerpt…"; got != want {
		t.Errorf("a page robots.txt disallows: text %q, want the excerpt %q", got, want)
	}
	if n := site.hit("/private/2"); n != 0 {
		t.Errorf("a page robots.txt disallows was fetched %d times", n)
	}
	if got, want := posts["Missing"].Text, "The page of this post is gone. Read more"; got != want {
		t.Errorf("a page that is gone: text %q, want the excerpt %q", got, want)
	}
	if got, want := posts["Full"].Text, "The whole post is in the feed."; got != want || site.hit("/posts/3") != 0 {
		t.Errorf("a full post: text %q, want %q; its page fetched %d times, want 0", got, want, site.hit("/posts/3"))
	}
	if n := site.hit("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times in one run, want 1", n)
	}

	// Unchanged posts: their pages are not fetched again.
	if _, err := c.Run(context.Background(), RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if n := site.hit("/posts/1"); n != 1 {
		t.Errorf("an unchanged post's page was fetched %d times in two runs, want 1", n)
	}
	if got := postsByTitle(t, db)["拡張クラスタの構成"].Text; got != first.Text {
		t.Errorf("the second run changed the indexed text to %q", got)
	}

	// A changed post: its page is fetched again.
	site.title.Store("拡張クラスタの構成 (更新)")
	if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.Updated != 1 {
		t.Fatalf("third run: %s, %v", sum, err)
	}
	if n := site.hit("/posts/1"); n != 2 {
		t.Errorf("a changed post's page was fetched %d times in all, want 2", n)
	}
	if got := postsByTitle(t, db)["拡張クラスタの構成 (更新)"].Text; !strings.Contains(got, "BODYSENTENCE") {
		t.Errorf("the changed post's text: %q", got)
	}
}

func TestRunPagesRobots(t *testing.T) {
	tests := []struct {
		name    string
		robots  func(w http.ResponseWriter)
		fetched bool
	}{
		{"missing robots.txt allows", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }, true},
		{"forbidden robots.txt allows", func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden) }, true},
		{"failing robots.txt forbids", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }, false},
		{"robots.txt asking to wait forbids", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) }, false},
		{"robots.txt for vplanet", func(w http.ResponseWriter) { fmt.Fprint(w, "User-agent: vplanet\nDisallow: /posts/\n") }, false},
		{"robots.txt for others", func(w http.ResponseWriter) { fmt.Fprint(w, "User-agent: otherbot\nDisallow: /\n") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newExcerptSite(t, tt.robots)
			db := openStore(t)
			syncFeeds(t, db, site.URL+"/feed")
			c := New(db, Options{Logger: testLogger(t)})
			if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.OK != 1 {
				t.Fatalf("run: %s, %v", sum, err)
			}
			text := postsByTitle(t, db)["拡張クラスタの構成"].Text
			if got := site.hit("/posts/1") == 1 && strings.Contains(text, "BODYSENTENCE"); got != tt.fetched {
				t.Errorf("page fetched and indexed: got %v, want %v (text %q)", got, tt.fetched, text)
			}
		})
	}
}

func TestRunSkipPages(t *testing.T) {
	site := newExcerptSite(t, func(w http.ResponseWriter) {})
	db := openStore(t)
	syncFeeds(t, db, site.URL+"/feed")
	c := New(db, Options{SkipPages: true})
	if _, err := c.Run(context.Background(), RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if n := site.hit("/robots.txt") + site.hit("/posts/1"); n != 0 {
		t.Errorf("SkipPages: %d requests for robots.txt and pages, want 0", n)
	}
}

// feedsOnly hides the store's FindPosts, as a store that cannot say which
// posts it holds.
type feedsOnly struct{ Store }

func TestRunPagesWithoutFindPosts(t *testing.T) {
	site := newExcerptSite(t, func(w http.ResponseWriter) {})
	db := openStore(t)
	syncFeeds(t, db, site.URL+"/feed")
	c := New(feedsOnly{db}, Options{Logger: testLogger(t)})
	for range 2 {
		if _, err := c.Run(context.Background(), RunOptions{All: true}); err != nil {
			t.Fatal(err)
		}
	}
	// The first success fetches every excerpt's page; later ones only the
	// pages of posts dated after the feed's last success, less a day.
	if n := site.hit("/posts/1"); n != 1 {
		t.Errorf("the page was fetched %d times in two runs, want 1", n)
	}
	if text := postsByTitle(t, db)["拡張クラスタの構成"].Text; !strings.Contains(text, "BODYSENTENCE") {
		t.Errorf("text %q", text)
	}
}

func TestArticleText(t *testing.T) {
	page := fmt.Sprintf(articlePage, "t", "BODYSENTENCE")
	// The same page in Shift_JIS, saying so only in its meta tag.
	sjis, err := japanese.ShiftJIS.NewEncoder().String(strings.Replace(page, `charset="utf-8"`, `charset="Shift_JIS"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"utf-8": page, "shift_jis": sjis} {
		t.Run(name, func(t *testing.T) {
			text, err := articleText([]byte(body), "text/html", mustURL(t, "https://vhoge.example/posts/1"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := "BODYSENTENCE\nvSAN の拡張クラスタでは"; !strings.Contains(text, want) {
				t.Errorf("got %q, want it to hold %q", text, want)
			}
			if strings.Contains(text, "FOOTERTEXT") || strings.Contains(text, "NAVTEXT") {
				t.Errorf("got %q, with the page's navigation or footer", text)
			}
		})
	}
	if _, err := articleText([]byte("<html><body></body></html>"), "text/html", mustURL(t, "https://vhoge.example/"), 0); err == nil {
		t.Error("an empty page gave no error")
	}
}

func FuzzArticleText(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(articlePage, "t", "BODYSENTENCE")), "text/html; charset=utf-8")
	f.Add([]byte(`<html><body><article><p>短い</p></article><footer>f</footer></body></html>`), "text/html")
	f.Add([]byte("<p>"+strings.Repeat("<div>", 2000)+"deep"), "")
	f.Add([]byte("\x1b$B$3$s$K$A$O\x1b(B<p>iso-2022-jp</p>"), "text/html")
	base := &url.URL{Scheme: "https", Host: "fuzz.example", Path: "/post"}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		text, err := articleText(body, contentType, base, 4096)
		if err != nil {
			return
		}
		if len(text) > 4096 || !utf8.ValidString(text) {
			t.Errorf("text of %d bytes, valid UTF-8 %v", len(text), utf8.ValidString(text))
		}
	})
}

// BenchmarkArticleText measures finding the main text of a post's page.
func BenchmarkArticleText(b *testing.B) {
	page := []byte(fmt.Sprintf(articlePage, "拡張クラスタの構成", strings.Repeat("vSAN の拡張クラスタを構成しました。", 50)))
	base := &url.URL{Scheme: "https", Host: "vhoge.example", Path: "/posts/1"}
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := articleText(page, "text/html; charset=utf-8", base, maxText); err != nil {
			b.Fatal(err)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPagesFromTheFeedsOriginOnly crawls, with the real binary, a blog
// whose feed carries excerpts and names an internal service three ways:
// as its <channel><link> (the site its items' pages are on), through a
// redirect from one of its own pages, and as another port of its own
// host. The blog is listed at a loopback address, so feeds.txt trusts it
// with private addresses: what keeps the internal service out is the
// rule that post pages come only from the origin the feed was fetched
// from, every redirect included. (Refusing private addresses to a public
// feed needs a public address, which a test on loopback does not have; the
// crawler's TestFeedRedirectsStayPublic checks that, with a hook.)
func TestPagesFromTheFeedsOriginOnly(t *testing.T) {
	fixture := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "crawler", "testdata", "ssrf", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var internalHits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, fixture("internal-admin.html"))
	}))
	defer internal.Close()
	var blogURL string
	blog := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed":
			w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
			fmt.Fprint(w, strings.NewReplacer(
				"{{FEED}}", blogURL+"/feed",
				"{{SITE}}", internal.URL+"/",
				"{{OWN}}", blogURL,
				"{{OTHERPORT}}", internal.URL, // 127.0.0.1 too, another port
			).Replace(fixture("wordpress-excerpts.xml")))
		case "/2026/11/02/stretched-cluster/":
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			fmt.Fprint(w, `<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>拡張クラスタの構成</title></head><body><main><article>
<h1>拡張クラスタの構成</h1>
<p>zebrafinch 今回は vSAN の拡張クラスタを実際に構成し、その手順と注意点をまとめました。監視ホストは第三のサイトに置きました。</p>
<p>重複排除と圧縮はディスクグループ単位で働き、キャッシュ層からキャパシティ層へデステージされるときに処理されます。書き込みの遅延には直接影響しません。</p>
<p>vCenter HA は、アクティブ、パッシブ、ウィットネスの三つのノードで vCenter Server を守ります。フェイルオーバーには数分かかることがあります。</p>
</article></main></body></html>`)
		case "/go/internal":
			http.Redirect(w, r, internal.URL+"/internal/admin", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer blog.Close()
	blogURL = blog.URL

	dir := t.TempDir()
	data, feeds := filepath.Join(dir, "data"), filepath.Join(dir, "feeds.txt")
	if err := os.WriteFile(feeds, []byte(blog.URL+"/feed  vHoge Lab  ja\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runBinary(t, 0, "crawl", "--all", "--data", data, "--feeds", feeds)

	search := func(q string) *searchResult {
		var res searchResult
		if err := json.Unmarshal([]byte(runBinary(t, 0, "search", "--json", "--data", data, q)), &res); err != nil {
			t.Fatalf("vplanet search --json %s: %v", q, err)
		}
		return &res
	}
	// The page on the feed's own origin is read: the crawl fetches pages.
	if !hasTitle(search("zebrafinch"), "拡張クラスタの構成") {
		t.Fatal("the page on the feed's own origin was not indexed: the test would prove nothing")
	}
	if res := search("INTERNALSECRET"); res.Total != 0 {
		t.Errorf("the internal page is searchable: %d hits", res.Total)
	}
	if n := internalHits.Load(); n != 0 {
		t.Errorf("the internal service got %d requests, want 0", n)
	}
}

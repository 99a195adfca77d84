package crawler

import (
	"net/url"
	"strings"
	"testing"
)

// TestPostLinks: a post's stored link is an absolute http or https URL,
// resolved against the feed, or nothing. The server redirects /posts/{id}
// to it, so a protocol-relative or scheme-less link must never be stored
// as written.
func TestPostLinks(t *testing.T) {
	tests := []struct{ link, want string }{
		{"https://blog.example/2026/11/post/", "https://blog.example/2026/11/post/"},
		{"/2026/11/post/", "https://blog.example/2026/11/post/"},
		{"post.html", "https://blog.example/post.html"},
		{"//evil.example/x", "https://evil.example/x"},
		{"  //evil.example/x\n", "https://evil.example/x"},
		{"javascript:alert(1)", ""},
		{"JaVaScRiPt:alert(1)", ""},
		{"data:text/html,hi", ""},
		{"vbscript:msgbox(1)", ""},
		{"mailto:a@example.com", ""},
		{"ftp://files.example/x", ""},
		{"https:evil.example/x", ""},
		{"https:///evil.example/x", ""},
		{`http:/\evil.example`, ""},
		{`/\evil.example/x`, "https://blog.example/%5Cevil.example/x"},
		{`\\evil.example\x`, "https://blog.example/%5C%5Cevil.example%5Cx"},
		{"http://[::1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			doc := `<rss version="2.0"><channel><title>t</title><link>https://blog.example/</link><item><title>x</title><link>` +
				xmlEscape(tt.link) + `</link><description>d</description></item></channel></rss>`
			p, err := newNormalizer().parse([]byte(doc), "application/rss+xml", "https://blog.example/feed", "", testNow)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Posts[0].URL
			if got != tt.want {
				t.Errorf("link %q stored as %q, want %q", tt.link, got, tt.want)
			}
			if got != "" {
				u, err := url.Parse(got)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.HasPrefix(got, "//") {
					t.Errorf("stored link %q is not an absolute http(s) URL", got)
				}
			}
		})
	}
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

package crawler

import (
	"net/url"
	"strings"
	"testing"
)

func TestRobots(t *testing.T) {
	const file = `# comments are ignored
User-agent: Googlebot
Disallow: /

User-agent: *
Disallow: /private/
Disallow: /*.pdf$
Allow: /private/open/
Disallow: /search?

User-Agent: otherbot
User-agent: VPLANET
Disallow: /drafts
Allow: /drafts/public
Disallow: /tmp*/x
`
	tests := []struct {
		name, file, path string
		want             bool
	}{
		{"own group: not listed", file, "/2024/05/post/", true},
		{"own group replaces *", file, "/private/secret", true},
		{"own group disallows", file, "/drafts/one", false},
		{"longest rule wins", file, "/drafts/public/one", true},
		{"wildcard", file, "/tmp123/x/y", false},
		{"wildcard no match", file, "/tmp123/y", true},
		{"robots.txt itself", "User-agent: *\nDisallow: /", "/robots.txt", true},
		{"* group", "User-agent: *\nDisallow: /private/\nAllow: /private/open/", "/private/a", false},
		{"* group allow beats shorter disallow", "User-agent: *\nDisallow: /private/\nAllow: /private/open/", "/private/open/a", true},
		{"anchored", "User-agent: *\nDisallow: /*.pdf$", "/a/b.pdf", false},
		{"anchored, more after", "User-agent: *\nDisallow: /*.pdf$", "/a/b.pdf?x=1", true},
		{"query", "User-agent: *\nDisallow: /search?", "/search?q=vsan", false},
		{"empty disallow allows", "User-agent: *\nDisallow:", "/anything", true},
		{"everything disallowed", "User-agent: *\nDisallow: /", "/", false},
		{"another bot's group only", "User-agent: googlebot\nDisallow: /", "/post", true},
		{"tie: allow wins", "User-agent: *\nDisallow: /a\nAllow: /a", "/a", true},
		{"empty file", "", "/x", true},
		{"garbage", "<html><body>not found</body></html>", "/x", true},
		{"agent with version", "User-agent: vplanet/0.1\nDisallow: /x", "/x", false},
		{"group after rules starts anew", "User-agent: vplanet\nDisallow: /a\nUser-agent: other\nDisallow: /b", "/b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse("https://blog.example" + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := parseRobots([]byte(tt.file)).allowed(u); got != tt.want {
				t.Errorf("allowed(%q): got %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if (&robots{none: true}).allowed(&url.URL{Path: "/"}) {
		t.Error("an unreadable robots.txt allowed a page")
	}
}

func FuzzRobots(f *testing.F) {
	f.Add("User-agent: *\nDisallow: /private/\nAllow: /private/open/\n", "/private/open/x")
	f.Add("User-agent: vplanet\nDisallow: /*.pdf$\n", "/a.pdf")
	f.Add("User-agent: *\nDisallow: /**$$*\n", "/")
	f.Add(strings.Repeat("User-agent: *\nDisallow: /a*b*c*d\n", 100), "/"+strings.Repeat("ab", 1000))
	f.Fuzz(func(t *testing.T, file, path string) {
		r := parseRobots([]byte(file))
		u, err := url.Parse("https://blog.example/" + strings.TrimPrefix(path, "/"))
		if err != nil {
			return
		}
		r.allowed(u)
		if u.Path == "/robots.txt" && u.RawQuery == "" && !r.allowed(u) {
			t.Error("robots.txt itself disallowed")
		}
	})
}

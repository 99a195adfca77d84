package crawler

import (
	"bytes"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// blockElements start a new line in extracted text.
var blockElements = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Br: true, atom.Dd: true, atom.Details: true, atom.Div: true, atom.Dl: true,
	atom.Dt: true, atom.Figcaption: true, atom.Figure: true, atom.Footer: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Header: true, atom.Hr: true, atom.Li: true, atom.Main: true, atom.Nav: true,
	atom.Ol: true, atom.P: true, atom.Pre: true, atom.Section: true, atom.Summary: true,
	atom.Table: true, atom.Tr: true, atom.Ul: true, atom.Caption: true,
}

// skippedElements hold no text a reader sees.
var skippedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Object: true, atom.Svg: true, atom.Math: true, atom.Head: true,
	atom.Title: true, atom.Select: true, atom.Textarea: true,
}

// textWriter collects text, collapsing white space: runs of spaces become
// one space, block boundaries one newline.
type textWriter struct {
	b         strings.Builder
	space, nl bool
	max       int // stop collecting after max bytes; 0: no limit
}

func (w *textWriter) full() bool { return w.max > 0 && w.b.Len() >= w.max }

func (w *textWriter) write(s string) {
	for _, r := range s {
		if w.full() {
			return
		}
		if unicode.IsSpace(r) {
			w.space = true
			continue
		}
		if w.b.Len() > 0 {
			switch {
			case w.nl:
				w.b.WriteByte('\n')
			case w.space:
				w.b.WriteByte(' ')
			}
		}
		w.space, w.nl = false, false
		w.b.WriteRune(r)
	}
}

func (w *textWriter) String() string { return w.b.String() }

// htmlText extracts the plain text of an HTML fragment: entities decoded,
// tags dropped, script and style skipped, block elements on their own
// lines. At most max bytes are kept (0: all).
func htmlText(s string, max int) string {
	w := &textWriter{max: max}
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for !w.full() {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if skip == 0 {
				w.write(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case skippedElements[a]:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case blockElements[a]:
				w.nl = true
			case a == atom.Td || a == atom.Th || a == atom.Img:
				w.space = true
			}
		}
	}
	return w.String()
}

// plainLine turns a title or a name into one line of plain text: markup
// stripped, entities decoded, white space collapsed, at most max runes.
func plainLine(s string, max int) string {
	// Bound the work a hostile 10 MB title can cause before anything else.
	s = truncateBytes(s, max*8)
	// Markup escaped twice ("&amp;lt;b&amp;gt;") is markup after one
	// decoding: strip until none is left, so a title never carries a tag.
	for range 3 {
		if !strings.ContainsAny(s, "<&") {
			break
		}
		s = htmlText(s, 0)
		if !hasTag(s) {
			break
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	return truncateRunes(s, max)
}

// truncateBytes cuts s to at most n bytes without splitting a character.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// truncateRunes cuts s to at most n runes, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…"
}

// urlAttrs are the attributes whose values are URLs, resolved to absolute
// ones so that a post reads the same on any page and in the merged feed.
var urlAttrs = map[string]bool{"href": true, "src": true, "cite": true, "poster": true}

// resolveHTML rewrites the URL attributes of sanitized HTML against base and
// extracts its plain text in the same pass.
func resolveHTML(s string, base *url.URL, maxText int) (content, text string) {
	var out bytes.Buffer
	out.Grow(len(s) + len(s)/8)
	w := &textWriter{max: maxText}
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.String(), w.String()
		case html.TextToken:
			out.Write(z.Raw())
			if skip == 0 {
				w.write(string(z.Text()))
			}
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			changed := false
			for i, a := range tok.Attr {
				if urlAttrs[a.Key] && base != nil {
					if abs := resolveURL(base, a.Val); abs != "" && abs != a.Val {
						tok.Attr[i].Val = abs
						changed = true
					}
				}
			}
			if changed {
				out.WriteString(tok.String())
			} else {
				out.Write(z.Raw())
			}
			switch {
			case skippedElements[tok.DataAtom]:
				if tt == html.StartTagToken {
					skip++
				}
			case blockElements[tok.DataAtom]:
				w.nl = true
			case tok.DataAtom == atom.Td || tok.DataAtom == atom.Th || tok.DataAtom == atom.Img:
				w.space = true
			}
			continue
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skippedElements[a] && skip > 0 {
				skip--
			}
			if blockElements[a] {
				w.nl = true
			}
		}
		out.Write(z.Raw())
	}
}

// resolveURL resolves ref against base and returns it when it is an http
// or https URL (or a mailto: link, which sanitized HTML may keep); else "".
func resolveURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return ""
		}
		return u.String()
	case "mailto":
		return u.String()
	}
	return ""
}

// httpURL resolves ref against base and returns it only when it is an
// absolute http or https URL; javascript:, data: and the like give "".
func httpURL(base *url.URL, ref string) string {
	s := resolveURL(base, ref)
	if strings.HasPrefix(strings.ToLower(s), "mailto:") {
		return ""
	}
	return s
}

// feedTypes are the link types autodiscovery follows, best first.
var feedTypes = map[string]int{
	"application/atom+xml":  1,
	"application/rss+xml":   1,
	"application/feed+json": 1,
	"application/rdf+xml":   2,
	"application/json":      3,
	"text/xml":              3,
	"application/xml":       3,
}

// discoverFeed finds the feed an HTML page links with
// <link rel="alternate" type="application/rss+xml" href="…"> (or Atom, or
// JSON Feed), resolved against the page's <base> or its URL. The first link
// of the best kind wins: blogs list their main feed before comment feeds.
func discoverFeed(page []byte, pageURL *url.URL) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	base := pageURL
	best, bestRank := "", 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return best
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Body {
				return best // feed links live in the head
			}
			if !hasAttr || (a != atom.Link && a != atom.Base) {
				continue
			}
			attrs := tagAttrs(z)
			if a == atom.Base {
				if u, err := url.Parse(strings.TrimSpace(attrs["href"])); err == nil && base != nil {
					base = base.ResolveReference(u)
				}
				continue
			}
			if !hasToken(attrs["rel"], "alternate") {
				continue
			}
			typ, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(attrs["type"])), ";")
			rank := feedTypes[strings.TrimSpace(typ)]
			if rank == 0 || (bestRank != 0 && rank >= bestRank) {
				continue
			}
			if href := httpURL(base, attrs["href"]); href != "" {
				best, bestRank = href, rank
			}
		}
	}
}

// hasToken reports whether the space-separated list s holds tok.
func hasToken(s, tok string) bool {
	for _, f := range strings.Fields(s) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// hasTag reports whether s holds something an HTML parser reads as a tag.
func hasTag(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		c := s[i+1]
		if c == '/' || c == '!' || c == '?' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// tagAttrs reads the attributes of the tag z is at, by name; the last of a
// repeated name wins.
func tagAttrs(z *html.Tokenizer) map[string]string {
	attrs := map[string]string{}
	for {
		k, v, more := z.TagAttr()
		attrs[string(k)] = string(v)
		if !more {
			return attrs
		}
	}
}

package websub

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxHubs bounds how many hubs one feed may name; a feed naming more is
// either broken or hostile, and one hub is all a subscriber needs.
const maxHubs = 8

// Links is what discovery (section 4) found: the hubs a feed names and its
// canonical topic URL (rel="self"). Relative references are resolved.
type Links struct {
	Hubs []string
	Self string
}

// Link is one link of an HTTP Link header (RFC 8288).
type Link struct {
	URL  string
	Rels []string // lower-case
}

// Discover finds a feed's hubs and topic the way section 4 orders it: the
// HTTP Link headers first and, when they name no hub, the links embedded in
// the feed itself (Atom <link rel="hub">, RSS <atom:link rel="hub">, JSON
// Feed "hubs"). base is the URL the feed was fetched from; relative
// references are resolved against it. A self link missing from the source
// that named the hub is taken from the other source.
func Discover(header http.Header, body []byte, base string) Links {
	b, _ := url.Parse(base)
	fromHeader := linksFromHeader(header.Values("Link"), b)
	if len(fromHeader.Hubs) > 0 {
		if fromHeader.Self == "" {
			fromHeader.Self = DiscoverFeed(body, base).Self
		}
		return fromHeader
	}
	l := DiscoverFeed(body, base)
	if l.Self == "" {
		l.Self = fromHeader.Self
	}
	return l
}

// linksFromHeader keeps the hub and self links of Link header values.
func linksFromHeader(values []string, base *url.URL) Links {
	var l Links
	for _, link := range ParseLinkHeader(values) {
		for _, rel := range link.Rels {
			switch rel {
			case "hub":
				l.addHub(resolve(base, link.URL))
			case "self":
				if l.Self == "" {
					l.Self = resolve(base, link.URL)
				}
			}
		}
	}
	return l
}

func (l *Links) addHub(u string) {
	if u == "" || len(l.Hubs) >= maxHubs {
		return
	}
	for _, h := range l.Hubs {
		if h == u {
			return
		}
	}
	l.Hubs = append(l.Hubs, u)
}

// resolve makes ref absolute against base and keeps only http and https
// URLs: a hub or topic under any other scheme cannot be spoken to.
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.Fragment = ""
	return u.String()
}

// ParseLinkHeader parses the values of HTTP Link headers (RFC 8288 section
// 3): comma-separated <URI-Reference> links, each with ;-separated
// parameters whose values may be tokens or quoted strings. A rel parameter
// may hold several space-separated relation types; only the first rel of a
// link counts (section 3.3). Malformed links are skipped, not fatal.
func ParseLinkHeader(values []string) []Link {
	var links []Link
	for _, v := range values {
		p := linkParser{s: v}
		for {
			link, ok, more := p.next()
			if ok {
				links = append(links, link)
			}
			if !more {
				break
			}
		}
	}
	return links
}

type linkParser struct {
	s string
	i int
}

func (p *linkParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// skipToComma moves past the next comma that is outside angle brackets and
// quoted strings, reporting whether there is anything after it.
func (p *linkParser) skipToComma() bool {
	inQuote, inAngle := false, false
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch {
		case inQuote && c == '\\':
			p.i++
		case c == '"' && !inAngle:
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inAngle = true
		case c == '>' && !inQuote:
			inAngle = false
		case c == ',' && !inQuote && !inAngle:
			p.i++
			return true
		}
	}
	return false
}

// next parses one link; ok says whether it was well formed, more whether
// another may follow.
func (p *linkParser) next() (link Link, ok, more bool) {
	p.skipSpace()
	for p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		p.skipSpace()
	}
	if p.i >= len(p.s) {
		return Link{}, false, false
	}
	if p.s[p.i] != '<' {
		return Link{}, false, p.skipToComma()
	}
	end := strings.IndexByte(p.s[p.i:], '>')
	if end < 0 {
		return Link{}, false, false
	}
	link.URL = strings.TrimSpace(p.s[p.i+1 : p.i+end])
	p.i += end + 1
	relSeen := false
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return link, true, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			return link, true, true
		case ';':
			p.i++
		default:
			// Garbage after the URI: the link is malformed.
			return Link{}, false, p.skipToComma()
		}
		p.skipSpace()
		name := p.token()
		p.skipSpace()
		var value string
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			p.skipSpace()
			if p.i < len(p.s) && p.s[p.i] == '"' {
				var closed bool
				value, closed = p.quoted()
				if !closed {
					return Link{}, false, false
				}
			} else {
				value = p.token()
			}
		}
		if strings.EqualFold(name, "rel") && !relSeen {
			relSeen = true
			for _, r := range strings.Fields(value) {
				link.Rels = append(link.Rels, strings.ToLower(r))
			}
		}
	}
}

// token reads an RFC 7230 token, leniently: anything up to a delimiter.
func (p *linkParser) token() string {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(" \t;,=\"", rune(p.s[p.i])) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted string starting at its opening quote, undoing
// backslash escapes.
func (p *linkParser) quoted() (string, bool) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case '\\':
			if p.i+1 < len(p.s) {
				p.i++
				b.WriteByte(p.s[p.i])
			}
		case '"':
			p.i++
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// FormatLinkHeader writes links as one Link header value, the single header
// section 7 asks a hub to combine its links into.
func FormatLinkHeader(links []Link) string {
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("<" + l.URL + `>; rel="` + strings.Join(l.Rels, " ") + `"`)
	}
	return b.String()
}

// atomNS is the Atom namespace, which RSS feeds borrow for atom:link.
const atomNS = "http://www.w3.org/2005/Atom"

// DiscoverFeed finds the hubs and self link embedded in a feed's bytes:
// Atom's <link rel="hub">, RSS's <atom:link rel="hub"> and JSON Feed's
// "hubs" and "feed_url". Only the feed's own links count, not an entry's:
// reading stops at the first entry or item, which also bounds the work on a
// large feed. Anything unreadable yields no links rather than an error,
// since a feed without a hub is simply polled.
func DiscoverFeed(body []byte, base string) Links {
	b, _ := url.Parse(base)
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff") // the cut set holds the BOM as a rune
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return discoverJSON(trimmed, b)
	}
	return discoverXML(body, b)
}

// jsonFeed is the part of a JSON Feed (version 1 and 1.1) that discovery
// reads.
type jsonFeed struct {
	FeedURL string `json:"feed_url"`
	Hubs    []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"hubs"`
}

func discoverJSON(body []byte, base *url.URL) Links {
	var f jsonFeed
	if err := json.Unmarshal(body, &f); err != nil {
		return Links{}
	}
	var l Links
	for _, h := range f.Hubs {
		// JSON Feed names the protocol in "type"; rssCloud hubs speak
		// another one.
		switch strings.ToLower(h.Type) {
		case "websub", "pubsubhubbub", "":
			l.addHub(resolve(base, h.URL))
		}
	}
	l.Self = resolve(base, f.FeedURL)
	return l
}

func discoverXML(body []byte, base *url.URL) Links {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	// Feeds in legacy encodings still carry ASCII link elements; reading
	// them as bytes is enough to find hrefs, which are ASCII or escaped.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var l Links
	depth := 0
	var root, parent string
	for {
		tok, err := d.Token()
		if err != nil {
			return l
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			name := strings.ToLower(t.Name.Local)
			switch depth {
			case 1:
				root = name
			case 2:
				parent = name
			}
			if name == "entry" || name == "item" {
				return l
			}
			// A feed-level link: a child of Atom's <feed>, or of RSS's
			// <channel> (in RSS 2.0 under <rss>, in RSS 1.0 under
			// <rdf:RDF>).
			feedLevel := (depth == 2 && root == "feed") || (depth == 3 && parent == "channel")
			if name == "link" && feedLevel {
				l.addLinkElement(t, base)
			}
		case xml.EndElement:
			depth--
		}
	}
}

func (l *Links) addLinkElement(t xml.StartElement, base *url.URL) {
	var rel, href string
	for _, a := range t.Attr {
		switch strings.ToLower(a.Name.Local) {
		case "rel":
			rel = a.Value
		case "href":
			href = a.Value
		}
	}
	if href == "" {
		return // RSS's own <link> holds its URL as text, not an href
	}
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		switch r {
		case "hub":
			l.addHub(resolve(base, href))
		case "self":
			if l.Self == "" {
				l.Self = resolve(base, href)
			}
		}
	}
}

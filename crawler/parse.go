package crawler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"

	"vplanet"
)

// Limits on what one feed may make the crawler store.
const (
	maxItems       = 1000    // posts kept from one fetch; the rest of a huge feed is dropped
	maxTitleRunes  = 300     // a post's or feed's title
	maxAuthorRunes = 200     // a post's author
	maxContent     = 1 << 20 // bytes of a post's HTML read before sanitizing
	maxText        = 1 << 20 // bytes of a post's plain text
	maxURL         = 4096    // bytes of a post's URL or GUID
	futureSlack    = 24 * time.Hour
)

// errNotFeed is wrapped by every error that says a response holds no feed.
var errNotFeed = errors.New("not a feed")

// htmlPageError is returned for an HTML page instead of a feed; Feed is the
// feed the page links to, or "".
type htmlPageError struct{ Feed string }

func (e *htmlPageError) Error() string {
	if e.Feed == "" {
		return "not a feed: the page is HTML and links no feed"
	}
	return "not a feed: the page is HTML; it links the feed " + e.Feed
}

func (e *htmlPageError) Unwrap() error { return errNotFeed }

// parsed is what one feed document says, normalized.
type parsed struct {
	Title   string
	SiteURL string
	Lang    string // the feed's declared language, two letters, or ""
	Posts   []*vplanet.Post
	Dropped int // items beyond maxItems
	Hints   hints
	// Excerpts holds the IDs of the posts whose item carries only an
	// excerpt of the post: their page is worth fetching.
	Excerpts map[string]bool
}

// normalizer turns feed documents into posts. It is safe for concurrent use.
type normalizer struct {
	policy *bluemonday.Policy
}

func newNormalizer() *normalizer {
	return &normalizer{policy: bluemonday.UGCPolicy()}
}

// parse decodes body, parses it as RSS, Atom or JSON Feed and normalizes its
// items. feedURL is where the body came from, lang the language feeds.txt
// gives the feed (or ""), now the time the body was fetched. An HTML page
// gives an *htmlPageError naming the feed it links, if any.
func (n *normalizer) parse(body []byte, contentType, feedURL, lang string, now time.Time) (p *parsed, err error) {
	defer func() {
		// gofeed has panicked on hostile input before; one feed must never
		// take the process down.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("malformed feed: the parser failed (%v)", r)
		}
	}()
	text, _ := decode(body, contentType)
	sh, err := scanShape(text)
	if err != nil {
		return nil, err
	}
	if sh.kept != nil {
		text = sh.kept
	}
	base, _ := url.Parse(feedURL)
	fp := gofeed.NewParser()
	fp.RSSTranslator = ttlTranslator{}
	f, err := fp.Parse(bytes.NewReader(text))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			if looksLikeHTML(text) || strings.Contains(strings.ToLower(contentType), "html") {
				return nil, &htmlPageError{Feed: discoverFeed(text, base)}
			}
			if len(bytes.TrimSpace(text)) == 0 {
				return nil, fmt.Errorf("%w: the response is empty", errNotFeed)
			}
			return nil, fmt.Errorf("%w: no RSS, Atom or JSON Feed found", errNotFeed)
		}
		return nil, fmt.Errorf("malformed feed: %s", oneLine(err.Error()))
	}
	p = n.normalize(f, base, lang, now)
	if sh.kept != nil {
		p.Dropped = max(p.Dropped, sh.items-maxItems)
	}
	return p, nil
}

// ttlKey is where ttlTranslator keeps an RSS channel's <ttl>.
const ttlKey = "vplanet:ttl"

// ttlTranslator is gofeed's RSS translator, keeping the channel's <ttl>,
// which the universal feed drops, in its Custom map.
type ttlTranslator struct{ gofeed.DefaultRSSTranslator }

func (t ttlTranslator) Translate(feed any) (*gofeed.Feed, error) {
	f, err := t.DefaultRSSTranslator.Translate(feed)
	if rf, ok := feed.(*rss.Feed); ok && err == nil && f != nil && strings.TrimSpace(rf.TTL) != "" {
		custom := make(map[string]string, len(f.Custom)+1)
		maps.Copy(custom, f.Custom)
		custom[ttlKey] = rf.TTL
		f.Custom = custom
	}
	return f, err
}

// normalize turns a parsed feed into posts.
func (n *normalizer) normalize(f *gofeed.Feed, feedURL *url.URL, lang string, now time.Time) *parsed {
	now = now.UTC()
	p := &parsed{
		Title:    plainLine(cleanString(f.Title), maxTitleRunes),
		Lang:     langCode(f.Language),
		Hints:    feedHints(f),
		Excerpts: map[string]bool{},
	}
	if p.Lang == "" && f.DublinCoreExt != nil && len(f.DublinCoreExt.Language) > 0 {
		p.Lang = langCode(f.DublinCoreExt.Language[0])
	}
	p.SiteURL = httpURL(feedURL, cleanString(f.Link))
	base := feedURL
	if p.SiteURL != "" {
		base, _ = url.Parse(p.SiteURL)
	}
	items := f.Items
	if len(items) > maxItems {
		p.Dropped = len(items) - maxItems
		items = items[:maxItems]
	}
	feedAuthor := personNames(f.Authors)
	if feedAuthor == "" && f.Author != nil {
		feedAuthor = plainLine(cleanString(f.Author.Name), maxAuthorRunes)
	}
	type item struct {
		post    *vplanet.Post
		excerpt bool
	}
	all := make([]item, 0, len(items))
	// The items that each link names, told apart by GUID (or by title and
	// content): the same item listed twice does not make its link shared.
	links := make(map[string]map[string]bool, len(items))
	for _, it := range items {
		if it == nil {
			continue
		}
		post, excerpt := n.post(it, base, now)
		all = append(all, item{post, excerpt})
		if post.URL != "" {
			key := linkKey(post.URL)
			if links[key] == nil {
				links[key] = map[string]bool{}
			}
			links[key][sharedLinkID(post.GUID, "", post.Title, post.Content)] = true
		}
	}
	home := linkKey(p.SiteURL)
	seen := make(map[string]bool, len(all))
	// Within one feed the GUID is the post: two items with one GUID are
	// two versions of it (a feed that lists an edited post again), and
	// the newer is kept.
	byGUID := make(map[string]int, len(all))
	for _, x := range all {
		post := x.post
		if key := linkKey(post.URL); post.URL == "" || len(links[key]) > 1 || key == home {
			// A link shared by several items (every item links the blog's
			// home, say) is no post's identity.
			post.ID = sharedLinkID(post.GUID, post.URL, post.Title, post.Content)
		} else {
			post.ID = PostID(post.GUID, post.URL, post.Title, post.Content)
		}
		if post.Author == "" && feedAuthor != "" {
			// An Atom entry without an author has the feed's.
			post.Author = feedAuthor
			post.Hash = digest(post.Hash, feedAuthor)
		}
		if seen[post.ID] {
			continue
		}
		seen[post.ID] = true
		post.Lang = postLang(post.Title, post.Text, lang, p.Lang)
		if i, ok := byGUID[post.GUID]; ok && post.GUID != "" {
			if kept := p.Posts[i]; newer(post, kept) {
				delete(p.Excerpts, kept.ID)
				p.Posts[i] = post
				if x.excerpt {
					p.Excerpts[post.ID] = true
				}
			}
			continue
		}
		byGUID[post.GUID] = len(p.Posts)
		if x.excerpt {
			p.Excerpts[post.ID] = true
		}
		p.Posts = append(p.Posts, post)
	}
	return p
}

// newer reports whether a is a later version of b than b is: updated (else
// published) strictly later. On a tie the item listed first stays, as
// feeds list their newest first.
func newer(a, b *vplanet.Post) bool {
	at, bt := a.Updated, b.Updated
	if at.IsZero() || bt.IsZero() {
		at, bt = a.Published, b.Published
	}
	return at.After(bt)
}

// post normalizes one item, and reports whether it carries only an excerpt
// of the post. ID and Lang are left to the caller.
func (n *normalizer) post(it *gofeed.Item, base *url.URL, now time.Time) (*vplanet.Post, bool) {
	guid := truncateBytes(strings.TrimSpace(cleanString(it.GUID)), maxURL)
	link := itemLink(it, base)

	raw := it.Content
	if len(strings.TrimSpace(it.Description)) > len(strings.TrimSpace(raw)) {
		raw = it.Description
	}
	raw = cleanString(truncateBytes(raw, maxContent))
	if !strings.ContainsAny(raw, "<&") {
		// A plain-text description: keep its paragraphs.
		raw = plainToHTML(raw)
	}
	content, text := resolveHTML(n.policy.Sanitize(raw), base, maxText)

	title := plainLine(cleanString(it.Title), maxTitleRunes)
	if title == "" {
		// Untitled posts (notes, microblog entries) are named by their start.
		title = plainLine(truncateRunes(text, 80), 80)
	}

	// A post without a usable date is sent without one: the store dates it
	// when it first sees it, and keeps that date when the post changes.
	declared := firstTime(it.PublishedParsed, it.UpdatedParsed)
	published := usableTime(declared, now)
	updated := published
	if it.UpdatedParsed != nil {
		if t := usableTime(it.UpdatedParsed.UTC(), now); !t.IsZero() {
			updated = t
		}
	}

	post := &vplanet.Post{
		GUID:      guid,
		URL:       link,
		Title:     title,
		Author:    itemAuthor(it),
		Published: published,
		Updated:   updated,
		Content:   content,
		Text:      text,
	}
	// The hash uses the declared date, not the fallback: a post without a
	// date must not look changed on every crawl.
	var stamp string
	if !declared.IsZero() {
		stamp = declared.Format(time.RFC3339)
	}
	post.Hash = digest(post.Title, post.URL, post.Content, post.Author, stamp)
	return post, link != "" && isExcerpt(it, text)
}

// PostID is a post's stable identity, the same whichever feed the post is
// reached through: a digest of its link (see linkKey), else of its GUID,
// else of its title and content.
//
// The link comes first because it is what two feeds of one blog agree on:
// a Hatena blog's RSS and Atom feeds give each post a different GUID and
// the same link, and a post cross-posted to a second feed keeps its link.
// Items of one feed that share a link are told apart by sharedLinkID.
func PostID(guid, link, title, content string) string {
	var key string
	switch {
	case link != "":
		key = "link\x00" + linkKey(link)
	case guid != "":
		key = "guid\x00" + guid
	default:
		key = "text\x00" + title + "\x00" + content
	}
	return digest(key)[:20]
}

// sharedLinkID is the identity of a post whose link is not its own (several
// items of the feed share it, or it is the blog's home page): its GUID, else
// its title and content. A GUID that cannot be globally unique ("42", as
// some blog engines write) is combined with the link, so two blogs' post 42
// stay two posts.
func sharedLinkID(guid, link, title, content string) string {
	switch {
	case guid != "" && (strings.Contains(guid, ":") || link == ""):
		return PostID(guid, "", "", "")
	case guid != "":
		return digest("guid\x00" + guid + "\x00" + linkKey(link))[:20]
	}
	return PostID("", "", title, content)
}

// linkKey is the form of a post's link that identifies it: without its
// scheme (the http and https addresses of a page are one page), the host
// lower-cased and without a default port, without a fragment, and without
// the utm_ parameters that newsletters and feed services add.
func linkKey(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return link
	}
	host := strings.ToLower(u.Host)
	host = strings.TrimSuffix(strings.TrimSuffix(host, ":80"), ":443")
	q := u.RawQuery
	if strings.Contains(strings.ToLower(q), "utm_") {
		var kept []string
		for _, kv := range strings.Split(q, "&") {
			if !strings.HasPrefix(strings.ToLower(kv), "utm_") && kv != "" {
				kept = append(kept, kv)
			}
		}
		q = strings.Join(kept, "&")
	}
	key := "//" + host + u.EscapedPath()
	if key == "//"+host {
		key += "/"
	}
	if q != "" {
		key += "?" + q
	}
	return key
}

// excerptMarks end the text of an item that is only the start of its post;
// weakMarks may as well end a whole post.
var (
	excerptMarks = []string{"[…]", "[...]", "続きを読む", "続きをみる", "もっと読む", "read more", "continue reading", "(more…)", "(more...)"}
	weakMarks    = []string{"…", "..."}
)

// An item is taken for an excerpt when its text is shorter than
// excerptRunes and it has no fuller content or ends like an excerpt, or when
// its text is shorter than markedRunes and ends with an excerptMark.
const (
	excerptRunes = 600
	markedRunes  = 2000
)

// isExcerpt reports whether an item carries only an excerpt of its post.
// A short post given whole in content:encoded (or Atom content) is not one.
func isExcerpt(it *gofeed.Item, text string) bool {
	runes := utf8.RuneCountInString(text)
	if runes >= markedRunes {
		return false
	}
	tail := strings.ToLower(strings.TrimSpace(truncateTail(text, 64)))
	tail = strings.TrimRight(tail, " \n\t»›→")
	for _, m := range excerptMarks {
		if strings.HasSuffix(tail, m) {
			return true
		}
	}
	if runes >= excerptRunes {
		return false
	}
	if strings.TrimSpace(it.Content) == "" {
		return true
	}
	for _, m := range weakMarks {
		if strings.HasSuffix(tail, m) {
			return true
		}
	}
	return false
}

// truncateTail is the last n bytes of s or a little less, not splitting a
// character.
func truncateTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

// digest is the hex SHA-256 of its arguments, separated by NUL bytes.
func digest(parts ...string) string {
	h := sha256.New()
	for i, s := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// itemLink is the item's link, resolved, if it is http or https: its link,
// else its first link, else a GUID that is a URL.
func itemLink(it *gofeed.Item, base *url.URL) string {
	cands := append([]string{it.Link}, it.Links...)
	cands = append(cands, it.GUID)
	for i, c := range cands {
		c = strings.TrimSpace(cleanString(c))
		if c == "" || len(c) > maxURL {
			continue
		}
		if i == len(cands)-1 && !strings.HasPrefix(c, "http") {
			continue // a GUID is a link only when it says so
		}
		if u := httpURL(base, c); u != "" {
			return u
		}
	}
	return ""
}

func itemAuthor(it *gofeed.Item) string {
	names := personNames(it.Authors)
	if names == "" && it.Author != nil {
		names = plainLine(cleanString(it.Author.Name), maxAuthorRunes)
	}
	return names
}

// personNames joins up to three names (or e-mail addresses where a name is
// missing) as plain text.
func personNames(people []*gofeed.Person) string {
	var names []string
	for _, a := range people {
		if a == nil {
			continue
		}
		name := a.Name
		if name == "" {
			name = a.Email
		}
		if name = plainLine(cleanString(name), maxAuthorRunes); name != "" {
			names = append(names, name)
		}
		if len(names) == 3 {
			break
		}
	}
	return truncateRunes(strings.Join(names, ", "), maxAuthorRunes)
}

func firstTime(ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil && !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

// usableTime returns t in UTC, or zero when it is missing, absurd (before
// 1990) or more than futureSlack ahead of now.
func usableTime(t, now time.Time) time.Time {
	if t.IsZero() || t.Year() < 1990 || t.After(now.Add(futureSlack)) {
		return time.Time{}
	}
	return t.UTC()
}

var langPattern = regexp.MustCompile(`^[a-z]{2}$`)

// langCode returns the two-letter primary language of a tag like "ja-JP"
// or "EN_us", or "" when it is not one.
func langCode(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if !langPattern.MatchString(tag) {
		return ""
	}
	return tag
}

// postLang decides a post's language by the script of its text where it
// is clear, else by what feeds.txt gives, else by the feed's declaration,
// else English. Kana make a post Japanese, whatever the feed declares (many
// Japanese blogs declare "en"). No kana and mostly Latin letters make it
// English even in a feed that feeds.txt or the feed marks Japanese:
// Japanese vExperts write English posts too. A listed or declared language
// other than Japanese is kept for Latin text (a French blog's posts are
// not English).
func postLang(title, text, listed, declared string) string {
	if isJapanese(title) || isJapanese(text) {
		return "ja"
	}
	lang := listed
	if lang == "" {
		lang = declared
	}
	switch {
	case lang == "":
		return "en"
	case lang == "ja" && isLatin(title+"\n"+text):
		return "en"
	}
	return lang
}

// minLatin is how many Latin letters make a text's script clear: a title
// of product names ("vSAN 8 U3") is not enough to call a post English.
const minLatin = 20

// isJapanese reports whether s has kana, and enough Japanese script that a
// Japanese word quoted in English prose does not count.
func isJapanese(s string) bool {
	c := countScripts(s)
	return c.kana > 0 && c.cjk*10 >= c.letters
}

// isLatin reports whether s has no kana and is mostly (80%) Latin letters,
// at least minLatin of them.
func isLatin(s string) bool {
	c := countScripts(s)
	return c.kana == 0 && c.latin >= minLatin && c.latin*10 >= c.letters*8
}

type scripts struct{ kana, cjk, latin, letters int }

// countScripts counts the letters of the first 64 KiB of s by script.
func countScripts(s string) scripts {
	var c scripts
	for i, r := range s {
		if i > 64<<10 {
			break
		}
		switch {
		case r < 0x80:
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				c.latin++
				c.letters++
			}
		case 0x3040 <= r && r <= 0x30FF || 0x31F0 <= r && r <= 0x31FF || 0xFF66 <= r && r <= 0xFF9D:
			c.kana++ // hiragana, katakana (with ー), half-width katakana
			c.cjk++
			c.letters++
		case 0x4E00 <= r && r <= 0x9FFF || 0x3400 <= r && r <= 0x4DBF || 0xF900 <= r && r <= 0xFAFF || 0x20000 <= r && r <= 0x3FFFF:
			c.cjk++
			c.letters++
		case unicode.Is(unicode.Latin, r):
			c.latin++ // é, ß, full-width Ａ
			c.letters++
		case unicode.IsLetter(r):
			c.letters++
		}
	}
	return c
}

// cleanString removes invalid UTF-8 and control characters from a string
// a parser handed over.
func cleanString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			// Plain ASCII needs no work; anything else is checked rune by
			// rune.
			return string(cleanText([]byte(s)))
		}
	}
	return s
}

// plainToHTML turns plain text into paragraphs.
func plainToHTML(s string) string {
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			b.WriteString("<p>")
			b.WriteString(para)
			b.WriteString("</p>")
		}
	}
	return b.String()
}

// oneLine keeps an error message from a parser on one short line.
func oneLine(s string) string {
	return truncateRunes(strings.Join(strings.Fields(s), " "), 300)
}

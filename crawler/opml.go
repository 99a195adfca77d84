package crawler

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html/charset"

	"vplanet"
)

// maxOPML bounds an OPML file: a reader's export of thousands of feeds is a
// few hundred kilobytes.
const maxOPML = 16 << 20

// maxOutlineDepth bounds how deeply outlines (folders) may nest.
const maxOutlineDepth = 32

// ReadOPML returns the feeds listed in an OPML subscription list, as a feed
// reader exports it: every outline with an xmlUrl, at any depth of folders,
// in document order, each URL once. The feed's title (or text) becomes its
// name and a language attribute its language. Outlines whose xmlUrl is not
// an http or https URL are skipped and reported in the returned error, which
// is then joined with the feeds that could be read.
func ReadOPML(r io.Reader) ([]vplanet.FeedSource, error) {
	dec := xml.NewDecoder(io.LimitReader(r, maxOPML+1))
	dec.CharsetReader = charset.NewReaderLabel
	dec.Strict = false // real exports carry stray ampersands
	var (
		srcs   []vplanet.FeedSource
		bad    []error
		seen   = map[string]bool{}
		depth  int
		isOPML bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("opml: line %d: %w", line, err)
		}
		if dec.InputOffset() > maxOPML {
			return nil, fmt.Errorf("opml: file larger than %d MiB", maxOPML>>20)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if name == "opml" {
				isOPML = true
			}
			if name != "outline" {
				continue
			}
			depth++
			if depth > maxOutlineDepth {
				return nil, fmt.Errorf("opml: outlines nested more than %d deep", maxOutlineDepth)
			}
			attr := func(key string) string {
				for _, a := range t.Attr {
					if strings.EqualFold(a.Name.Local, key) {
						return strings.TrimSpace(a.Value)
					}
				}
				return ""
			}
			raw := attr("xmlUrl")
			if raw == "" {
				continue // a folder
			}
			title := attr("title")
			if title == "" {
				title = attr("text")
			}
			src, ok, err := parseFeedLine([]byte(raw))
			if err != nil || !ok || strings.ContainsAny(raw, " \t") {
				bad = append(bad, fmt.Errorf("outline %q: %q is not a feed URL", title, raw))
				continue
			}
			src.Name = feedName(title)
			if lang, ok := knownLang(strings.ToLower(attr("language"))); ok {
				src.Lang = lang
			}
			// What import-opml writes, feeds.txt must read back: a line
			// over its limit would stop serve from starting.
			if line := FormatFeedLine(src); len(line) > maxLineLen {
				bad = append(bad, fmt.Errorf("outline %q: its xmlUrl is %d bytes, and feeds.txt takes lines of at most %d bytes",
					truncateRunes(src.Name, 80), len(src.URL), maxLineLen))
				continue
			}
			if key := strings.ToLower(src.URL); !seen[key] {
				seen[key] = true
				srcs = append(srcs, src)
			}
		case xml.EndElement:
			if strings.EqualFold(t.Name.Local, "outline") {
				depth--
			}
		}
	}
	if !isOPML {
		return nil, errors.New("opml: not an OPML file (no <opml> element)")
	}
	if len(bad) > 0 {
		return srcs, fmt.Errorf("opml: %d outlines skipped: %w", len(bad), errors.Join(bad...))
	}
	return srcs, nil
}

// maxNameRunes bounds a feed's name taken from an OPML title.
const maxNameRunes = 200

// feedName makes a title safe to write as a name in feeds.txt: one line, no
// comment marker, no control or bidirectional formatting characters (which
// make a name read backwards in a terminal or an editor: "\u202egnp.exe"
// shows as "exe.png"), at most maxNameRunes characters.
func feedName(title string) string {
	// Characters go first, so that none can hide a "#" from what follows.
	var b strings.Builder
	for _, r := range title {
		if !dropped(r) && !bidiMark(r) {
			b.WriteRune(r)
		}
	}
	fields := strings.Fields(b.String())
	for i, f := range fields {
		if strings.HasPrefix(f, "#") {
			fields[i] = "＃" + f[1:]
		}
	}
	return strings.TrimSpace(truncateRunes(strings.Join(fields, " "), maxNameRunes))
}

// bidiMark reports whether r is an invisible mark that sets the direction
// of the text around it: LRM, RLM, ALM (dropped handles the overrides and
// isolates).
func bidiMark(r rune) bool { return r == 0x200e || r == 0x200f || r == 0x061c }

// FormatFeedLine writes src as a line of feeds.txt that ReadFeedList reads
// back as src. (A name whose last word is a known language code, such as
// "Notes en", reads back as that language.)
func FormatFeedLine(src vplanet.FeedSource) string {
	line := src.URL
	if name := feedName(src.Name); name != "" {
		line += "  " + name
	}
	if src.Lang != "" {
		line += "  " + src.Lang
	}
	return line
}

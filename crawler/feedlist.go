package crawler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"vplanet"
)

// maxLineLen bounds one line of feeds.txt; a longer line is an error, not a
// reason to read the whole file into one buffer.
const maxLineLen = 64 << 10

// langTag matches a language written after a feed's URL and name: "ja",
// "en", "ja-JP". Only a known language (see knownLang) is taken for one.
var langTag = regexp.MustCompile(`^[a-z]{2}(-[A-Za-z]{2,4})?$`)

// knownLang reports whether tag is a language tag of a language vplanet
// tells posts apart by (Japanese, English: what lang: filters and the
// analysis know), and returns its primary subtag. Any other last word of a
// line, two letters or not, is part of the blog's name: "Notes on it",
// "Blog de" keep their last word.
func knownLang(tag string) (string, bool) {
	if !langTag.MatchString(tag) {
		return "", false
	}
	primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return primary, primary == "ja" || primary == "en"
}

// ReadFeedList parses feeds.txt: one URL per line, optional name and language after it,
// `#` comments; errors name the line.
//
// A line reads "URL [name…] [lang]": the name may contain spaces, and a last
// word that is a known language tag ("ja", "en", "ja-JP") is the language.
// A `#` at the start of a line or after a space starts a comment. Only http
// and https URLs are accepted, and a URL listed twice is an error.
func ReadFeedList(r io.Reader) ([]vplanet.FeedSource, error) {
	var (
		srcs []vplanet.FeedSource
		seen = map[string]int{}
		br   = bufio.NewReader(r)
		n    int
	)
	for {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) && line == nil {
			break
		}
		n++
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("feeds.txt line %d: %w", n, err)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		src, ok, perr := parseFeedLine(line)
		if perr != nil {
			return nil, fmt.Errorf("feeds.txt line %d: %w", n, perr)
		}
		if !ok {
			continue
		}
		src.Line = n
		key := strings.ToLower(src.URL)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("feeds.txt line %d: %s is already listed on line %d", n, src.URL, prev)
		}
		seen[key] = n
		srcs = append(srcs, src)
	}
	return srcs, nil
}

// readLine returns the next line without its line ending; a line longer
// than maxLineLen is an error.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if line != nil {
				return line, io.EOF
			}
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxLineLen {
			// Skip the rest of the line so the error names the right line.
			for isPrefix {
				_, isPrefix, err = br.ReadLine()
				if err != nil {
					break
				}
			}
			return []byte{}, fmt.Errorf("line longer than %d bytes", maxLineLen)
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// parseFeedLine parses one line; ok is false for blank and comment lines.
func parseFeedLine(b []byte) (src vplanet.FeedSource, ok bool, err error) {
	if !utf8.Valid(b) {
		return src, false, errors.New("not valid UTF-8 text")
	}
	line := string(b)
	if i := commentStart(line); i >= 0 {
		line = line[:i]
	}
	for _, r := range line {
		if unicode.IsControl(r) && r != '\t' && r != '\r' {
			return src, false, fmt.Errorf("control character %U in line", r)
		}
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return src, false, nil
	}
	raw := fields[0]
	u, perr := url.Parse(raw)
	switch {
	case perr != nil:
		return src, false, fmt.Errorf("%q is not a URL: %w", raw, errors.Unwrap(perr))
	case u.Scheme == "" || u.Host == "" && u.Opaque == "":
		return src, false, fmt.Errorf("%q is not a URL: a line starts with a feed or home page URL such as https://blog.example.com/feed", raw)
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https"):
		return src, false, fmt.Errorf("%q: only http and https URLs can be crawled, not %s", raw, u.Scheme)
	case u.Host == "":
		return src, false, fmt.Errorf("%q has no host name", raw)
	case u.User != nil:
		return src, false, fmt.Errorf("%q: user names and passwords in feed URLs are not supported", raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	src.URL = u.String()
	rest := fields[1:]
	if len(rest) > 0 {
		// Posts carry the primary language only: "ja-JP" is "ja".
		if lang, ok := knownLang(rest[len(rest)-1]); ok {
			src.Lang = lang
			rest = rest[:len(rest)-1]
		}
	}
	src.Name = strings.Join(rest, " ")
	return src, true, nil
}

// commentStart returns where a comment starts in line, or -1: a `#` at the
// start or after white space, so that a URL's #fragment is kept.
func commentStart(line string) int {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return i
		}
	}
	return -1
}

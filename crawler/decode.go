package crawler

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// prologEncoding finds the encoding declared in an XML prolog.
var prologEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*?\sencoding\s*=\s*("[^"]*"|'[^']*')`)

// prologWindow is how far into a body an XML prolog or an HTML meta charset
// is looked for.
const prologWindow = 1024

// decode returns body as clean UTF-8 and the name of the charset it was
// decoded from. gofeed cannot be trusted with this: it ignores the charset
// in the HTTP header and mangles ISO-2022-JP, so every body is decoded here
// and its XML prolog rewritten to say UTF-8 before gofeed sees it.
//
// Where the HTTP header, a byte order mark, the XML prolog (or an HTML meta
// charset) and the bytes disagree, the bytes decide (see toUTF8): labels
// are often wrong (Go's own http.FileServer answers "text/xml;
// charset=utf-8" for any XML it sniffs, whatever its prolog says), and the
// bytes cannot lie about what they are not.
func decode(body []byte, contentType string) ([]byte, string) {
	text, name := toUTF8(body, contentType)
	return rewriteProlog(cleanText(text)), name
}

// toUTF8 decodes body by evidence, strongest first:
//
//   - a UTF-16 or UTF-32 byte order mark, or "<" spelled in UTF-16 or
//     UTF-32 (a UTF-8 mark is weighed like a label: a Shift_JIS file saved
//     with one by a confused editor is still Shift_JIS);
//   - ISO-2022-JP's escape sequences: ESC is not a legal character in XML,
//     so bytes holding them are not UTF-8 XML, whatever the labels say;
//   - non-ASCII bytes that are valid UTF-8 (text in any other charset
//     almost never is), or that are UTF-8 but for a few stray bytes, which
//     become U+FFFD instead of turning the whole feed into mojibake;
//   - the labels, header first, each only where the bytes fit it: a UTF-8
//     or multi-byte label the bytes are not valid in loses; a single-byte
//     label fits any bytes, so it loses to a multi-byte charset the
//     document names, and to Japanese that decodes cleanly with kana;
//   - detection: ISO-2022-JP, Shift_JIS or EUC-JP where one decodes without
//     an error, else windows-1252, as browsers do.
//
// Plain ASCII reads the same in every charset these allow: it takes the
// name of the first label, so that the charset reported is the declared one.
func toUTF8(body []byte, contentType string) ([]byte, string) {
	enc, name, skip := sniffUnicode(body)
	if enc != nil {
		return transform(enc, body[skip:]), name
	}
	body = body[skip:] // a UTF-8 mark, which the bytes must bear out like any label
	if hasISO2022JP(body) {
		return transform(japanese.ISO2022JP, body), "iso-2022-jp"
	}
	ascii := isASCII(body)
	if !ascii {
		valid, invalid := utf8Evidence(body)
		if invalid == 0 || valid > 0 && invalid*10 <= valid {
			return body, "utf-8" // cleanText replaces the stray bytes
		}
	} else if name == "utf-8" {
		return body, name
	}
	header, inDoc := headerCharset(contentType), xmlEncoding(body)
	if inDoc == "" {
		inDoc = metaCharset(body)
	}
	var best *decoded // the best of the declared multi-byte charsets that did not fit
	for i, label := range []string{header, inDoc} {
		if label == "" {
			continue
		}
		enc, name := charset.Lookup(label)
		switch {
		case enc == nil || name == "replacement":
			continue // unknown or unsafe label: try the next source
		case strings.HasPrefix(name, "utf-16"):
			// The label was readable as ASCII, so the body is not UTF-16.
			continue
		case ascii:
			return body, name
		case name == "utf-8":
			continue // the bytes are not UTF-8 (see above)
		case singleByte(name):
			if i == 0 && multiByte(inDoc) {
				// A server's default ("text/xml; charset=ISO-8859-1")
				// over a document that names its own Japanese or Chinese
				// charset: the document knows better.
				continue
			}
			if d := detectJapanese(body); d.bad == 0 && d.kana > 0 {
				return d.text, d.name
			}
			return transform(enc, body), name
		}
		d := decodeWith(enc, name, body)
		if d.bad == 0 {
			return d.text, d.name
		}
		if best == nil || d.bad < best.bad {
			best = &d
		}
	}
	if ascii {
		return body, "utf-8"
	}
	return guess(body, best)
}

// hasISO2022JP reports whether b holds an escape sequence that switches
// ISO-2022-JP to JIS X 0208 or JIS X 0212.
func hasISO2022JP(b []byte) bool {
	return bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) ||
		bytes.Contains(b, []byte("\x1b$(D"))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// utf8Evidence counts the multi-byte UTF-8 sequences in b and the bytes
// that are not valid UTF-8.
func utf8Evidence(b []byte) (valid, invalid int) {
	for len(b) > 0 {
		if b[0] < 0x80 {
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			invalid++
		} else {
			valid++
		}
		b = b[n:]
	}
	return valid, invalid
}

// decoded is a body decoded with one charset, and how well it fit.
type decoded struct {
	text []byte
	name string
	bad  int // U+FFFD the decoder had to write
	kana int // hiragana and full-width katakana: Japanese text has many
}

func decodeWith(enc encoding.Encoding, name string, b []byte) decoded {
	d := decoded{text: transform(enc, b), name: name}
	for _, r := range string(d.text) {
		switch {
		case r == utf8.RuneError:
			d.bad++
		case 0x3041 <= r && r <= 0x30FC:
			d.kana++
		}
	}
	return d
}

// detectJapanese decodes b as Shift_JIS and as EUC-JP and returns the
// better fit: fewer errors, then more kana.
func detectJapanese(b []byte) decoded {
	sjis := decodeWith(japanese.ShiftJIS, "shift_jis", b)
	euc := decodeWith(japanese.EUCJP, "euc-jp", b)
	if euc.bad < sjis.bad || euc.bad == sjis.bad && euc.kana > sjis.kana {
		return euc
	}
	return sjis
}

// sniffUnicode recognizes UTF-8, UTF-16 and UTF-32 by their byte order mark
// or by how "<" is spelled in them. For UTF-8 it returns a nil encoding,
// the name "utf-8" and the length of the mark to skip.
func sniffUnicode(b []byte) (enc encoding.Encoding, name string, skip int) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return nil, "utf-8", 3
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM), "utf-32be", 0
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM), "utf-32le", 0
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be", 0
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le", 0
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0x00, '<'}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", 0
	case bytes.HasPrefix(b, []byte{'<', 0x00, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", 0
	case bytes.HasPrefix(b, []byte{0x00, '<'}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", 0
	case bytes.HasPrefix(b, []byte{'<', 0x00}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", 0
	}
	return nil, "", 0
}

// transform decodes b with enc; bytes that are invalid in enc become U+FFFD.
func transform(enc encoding.Encoding, b []byte) []byte {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return out
}

// headerCharset returns the charset parameter of an HTTP Content-Type.
// It is lenient where mime.ParseMediaType is strict: real servers send
// charset='us-ascii' and worse.
func headerCharset(contentType string) string {
	lower := strings.ToLower(contentType)
	i := strings.Index(lower, "charset=")
	if i < 0 {
		return ""
	}
	v := contentType[i+len("charset="):]
	if j := strings.IndexAny(v, ";,"); j >= 0 {
		v = v[:j]
	}
	return strings.Trim(strings.TrimSpace(v), `"' `)
}

// xmlEncoding returns the encoding named by the body's XML prolog.
func xmlEncoding(b []byte) string {
	m := prologEncoding.FindSubmatch(b[:min(len(b), prologWindow)])
	if m == nil {
		return ""
	}
	return strings.TrimSpace(string(m[1][1 : len(m[1])-1]))
}

// metaCharset returns the charset of an HTML page's <meta> tag.
func metaCharset(b []byte) string {
	if !looksLikeHTML(b) {
		return ""
	}
	_, name, certain := charset.DetermineEncoding(b[:min(len(b), prologWindow)], "text/html")
	if !certain {
		return ""
	}
	return name
}

// singleByte reports whether the WHATWG encoding name is a single-byte
// charset, which a server often names by mistake for UTF-8 text.
func singleByte(name string) bool {
	return strings.HasPrefix(name, "windows-125") || strings.HasPrefix(name, "iso-8859-") ||
		strings.HasPrefix(name, "koi8") || name == "macintosh" || name == "ibm866"
}

// multiByte reports whether label names a known multi-byte charset other
// than Unicode's.
func multiByte(label string) bool {
	if label == "" {
		return false
	}
	enc, name := charset.Lookup(label)
	return enc != nil && name != "replacement" && !singleByte(name) && !strings.HasPrefix(name, "utf-")
}

// guess decodes a body whose labels, if any, the bytes do not fit:
// Shift_JIS or EUC-JP where one decodes without an error, else the
// declared multi-byte charset that fit best (declared, if only nearly
// fitting, when its errors are under 1% of the text), else windows-1252, as
// browsers do.
func guess(b []byte, declared *decoded) ([]byte, string) {
	if d := detectJapanese(b); d.bad == 0 {
		return d.text, d.name
	}
	if declared != nil && declared.bad*100 < utf8.RuneCount(declared.text) {
		return declared.text, declared.name
	}
	enc, name := charset.Lookup("windows-1252")
	return transform(enc, b), name
}

// cleanText removes what no feed may carry: invalid UTF-8 (replaced by
// U+FFFD), control characters other than tab and line ends, and the
// non-characters U+FFFE and U+FFFF, which XML forbids and which make
// encoding/xml give up on the whole document.
func cleanText(b []byte) []byte {
	if isClean(b) {
		return b
	}
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, "\uFFFD"...)
		case dropped(r):
		default:
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// dropped reports whether r is removed from everything a feed says: C0 and
// C1 control characters but tab and line ends (U+009B is a terminal's CSI,
// which would let a title recolour or clear the screen of whoever runs
// `vplanet search`), the bidi overrides and isolates that can make a title
// read backwards, and the non-characters U+FFFE and U+FFFF.
func dropped(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n' && r != '\r'
	case r < 0x7f:
		return false
	case r <= 0x9f:
		return true
	}
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0xfffe || r == 0xffff
}

// isClean reports whether b is valid UTF-8 with nothing to drop, without
// allocating: the common case.
func isClean(b []byte) bool {
	for i, c := range b {
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r', c == 0x7f:
			return false
		case c == 0xc2, c == 0xe2, c == 0xef: // lead bytes of U+0080–U+009F, U+202A…, U+FFFE/F
			if r, _ := utf8.DecodeRune(b[i:]); dropped(r) {
				return false
			}
		}
	}
	return utf8.Valid(b)
}

// rewriteProlog makes an XML prolog's encoding say UTF-8, so that the
// parser does not decode the already decoded text a second time.
func rewriteProlog(b []byte) []byte {
	loc := prologEncoding.FindSubmatchIndex(b[:min(len(b), prologWindow)])
	if loc == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:loc[2]]...)
	out = append(out, `"UTF-8"`...)
	return append(out, b[loc[3]:]...)
}

// looksLikeHTML reports whether b starts like an HTML page rather than a
// feed.
func looksLikeHTML(b []byte) bool {
	head := bytes.ToLower(b[:min(len(b), prologWindow)])
	head = bytes.TrimLeft(head, " \t\r\n\uFEFF")
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.Contains(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<head")) || bytes.Contains(head, []byte("<body"))
}

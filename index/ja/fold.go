package ja

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Folded is text after width and compatibility folding, with the way back
// to the original's byte offsets.
type Folded struct {
	Text string
	// start[i] and end[i] are the original offsets of the start and the end
	// of the normalization segment that folded byte i came from; nil when
	// folding changed nothing.
	start, end []int32
}

// nfkcInert reports whether r, with no mark after it, is already in NFKC:
// true for the kana, kanji and punctuation that make up most Japanese
// text, so that folding need not ask the normalizer about each of them
// (TestNFKCInert checks every one). None of them is a mark.
func nfkcInert(r rune) bool {
	return r >= 0x3001 && r <= 0x3029 || // 、。 「」 and the like, 々
		r >= 0x3041 && r <= 0x3096 || // hiragana
		r >= 0x30A1 && r <= 0x30FA || r == 'ー' || // katakana
		r >= 0x4E00 && r <= 0x9FFF // CJK unified ideographs
}

// nfkcText reports whether text is already in NFKC. ASCII and the runes
// nfkcInert vouches for are, and neither composes with the other, so a
// text of them alone needs no normalizer; any other rune, a mark included,
// asks it about the whole text.
func nfkcText(text string) bool {
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if !nfkcInert(r) {
			return norm.NFKC.IsNormalString(text)
		}
		i += n
	}
	return true
}

// Orig returns the original offsets of the folded bytes [start, end).
func (f *Folded) Orig(start, end int) (int, int) {
	if f.start == nil {
		return start, end
	}
	return int(f.start[start]), int(f.end[end-1])
}

// Fold applies NFKC per normalization segment, remembering where each came
// from. Symbols that NFKC would spell out ("™" as "TM") are kept as they
// are, so they cannot glue themselves onto the word before them.
func Fold(text string) Folded {
	// Invalid UTF-8 passes through unchanged, byte for byte; the tokenizer
	// sees U+FFFD for it, a separator.
	if nfkcText(text) {
		return Folded{Text: text}
	}
	var b strings.Builder
	b.Grow(len(text) + len(text)/8)
	start := make([]int32, 0, len(text))
	end := make([]int32, 0, len(text))
	for os := 0; os < len(text); {
		// A group is one rune and the marks that compose with it
		// (half-width ｶ and ﾞ make one ガ).
		r, n := utf8.DecodeRuneInString(text[os:])
		oe := os + n
		for oe < len(text) {
			m, k := utf8.DecodeRuneInString(text[oe:])
			if m != '\uFF9E' && m != '\uFF9F' && !unicode.IsMark(m) {
				break
			}
			oe += k
		}
		group := text[os:oe]
		seg := group
		if r >= utf8.RuneSelf && (oe-os > n || !nfkcInert(r)) && !norm.NFKC.IsNormalString(group) {
			seg = norm.NFKC.String(group)
			if unicode.IsSymbol(r) && utf8.RuneCountInString(seg) > 1 {
				seg = group
			}
		}
		b.WriteString(seg)
		if seg == group {
			for k := range len(group) {
				start = append(start, int32(os+k))
				end = append(end, int32(os+k+1))
			}
		} else {
			for range len(seg) {
				start = append(start, int32(os))
				end = append(end, int32(oe))
			}
		}
		os = oe
	}
	return Folded{Text: b.String(), start: start, end: end}
}

// StemKatakana removes the long-vowel mark that ends a katakana word of four
// or more characters (サーバー is サーバ), the JIS Z 8301 and Microsoft rule that
// Japanese technical writing follows; shorter words keep it (コピー).
func StemKatakana(term string) string {
	if !strings.HasSuffix(term, "ー") || utf8.RuneCountInString(term) < 4 {
		return term
	}
	for _, r := range term {
		if !unicode.Is(unicode.Katakana, r) && r != 'ー' {
			return term
		}
	}
	return strings.TrimSuffix(term, "ー")
}

package index

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// defaultSnippetSize is the snippet length, in characters, when none is given.
const defaultSnippetSize = 160

// Snippet cuts about size runes of text around the spans, choosing the
// window that holds the most matches, HTML-escaped with the matches in
// <mark>, never cutting a multi-byte character; with no spans, the start of
// text. Runs of white space become one space; a cut end is marked "…".
func Snippet(text string, spans []Span, size int) string {
	if size <= 0 {
		size = defaultSnippetSize
	}
	s := cleanSpans(text, spans)
	if byteOffset(text, 0, size) == len(text) {
		return render(text, s, 0, len(text)) // it fits
	}
	// The window starts a little before the run of spans that holds the
	// most matches within size runes. Rune counts are taken from the start
	// up to the last span and back from there, not over the whole text.
	bs := 0
	if len(s) > 0 {
		// Rune indexes of the span boundaries, found in one pass.
		rs, re := runeIndexes(text, s)
		best, bestCount, bestEnd := 0, 0, 0
		j := 0
		for i := range s {
			j = max(j, i)
			for j+1 < len(s) && re[j+1]-rs[i] <= size {
				j++
			}
			if n := j - i + 1; n > bestCount {
				best, bestCount, bestEnd = i, n, re[j]
			}
		}
		slack := max(0, size-(bestEnd-rs[best]))
		bs = runesBack(text, s[best].Start, min(rs[best], slack/3, size/4))
	}
	be := byteOffset(text, bs, size)
	if be == len(text) {
		bs = runesBack(text, be, size) // the window ends with the text
	}
	// Move the cuts to word boundaries, never past a match.
	first, last := len(text), 0
	for _, sp := range s {
		if sp.End > bs && sp.Start < be {
			first, last = min(first, sp.Start), max(last, sp.End)
		}
	}
	bs = snapStart(text, bs, first)
	be = snapEnd(text, max(be, last), max(bs, last))
	var b strings.Builder
	if bs > 0 {
		b.WriteString("…")
	}
	b.WriteString(render(text, s, bs, be))
	if be < len(text) {
		b.WriteString("…")
	}
	return b.String()
}

// snapShift bounds how far, in characters, a cut moves to reach a word
// boundary or a break in Japanese text.
const snapShift = 12

// snapStart moves a snippet's start at byte i out of the middle of a Latin
// word, to the word's start when it is near, else past the word; in
// Japanese text it moves it after a nearby 。、 or space. It never moves past
// limit, the start of the first match shown.
func snapStart(text string, i, limit int) int {
	if i <= 0 || i >= len(text) {
		return max(0, i)
	}
	if inWord(text, i) {
		j := i
		for n := 0; n < snapShift && j > 0 && inWord(text, j); n++ {
			_, size := utf8.DecodeLastRuneInString(text[:j])
			j -= size
		}
		if !inWord(text, j) {
			return j
		}
		// A long word: start after it.
		for j = i; j < limit && inWord(text, j); {
			_, size := utf8.DecodeRuneInString(text[j:])
			j += size
		}
		if j <= limit {
			return j
		}
		return i
	}
	if isBreak(text, i) {
		return i
	}
	// Japanese: start after a break just before, or just after.
	j := i
	for n := 0; n < snapShift/2 && j > 0; n++ {
		r, size := utf8.DecodeLastRuneInString(text[:j])
		if isBreakRune(r) {
			return j
		}
		j -= size
	}
	j = i
	for n := 0; n < snapShift/2 && j < limit; n++ {
		r, size := utf8.DecodeRuneInString(text[j:])
		j += size
		if isBreakRune(r) && j <= limit {
			return j
		}
	}
	return i
}

// snapEnd moves a snippet's end at byte i out of the middle of a Latin word,
// to the word's end when it is near, else to its start; in Japanese text it
// moves it after a nearby 。、 or space. It never moves before floor, the end
// of the last match shown.
func snapEnd(text string, i, floor int) int {
	if i >= len(text) {
		return len(text)
	}
	if inWord(text, i) {
		j := i
		for n := 0; n < snapShift && j < len(text) && inWord(text, j); n++ {
			_, size := utf8.DecodeRuneInString(text[j:])
			j += size
		}
		if j >= len(text) || !inWord(text, j) {
			return j
		}
		for j = i; j > floor && inWord(text, j); {
			_, size := utf8.DecodeLastRuneInString(text[:j])
			j -= size
		}
		if j >= floor {
			return j
		}
		return i
	}
	if isBreak(text, i) {
		return i
	}
	j := i
	for n := 0; n < snapShift/2 && j > floor; n++ {
		r, size := utf8.DecodeLastRuneInString(text[:j])
		if isBreakRune(r) {
			return j
		}
		j -= size
	}
	j = i
	for n := 0; n < snapShift/2 && j < len(text); n++ {
		r, size := utf8.DecodeRuneInString(text[j:])
		j += size
		if isBreakRune(r) {
			return j
		}
	}
	return i
}

// inWord reports whether byte i of text lies inside a Latin word ("NSX-T"
// and "vSphere7.0U3" are one word): between two of its characters.
func inWord(text string, i int) bool {
	if i <= 0 || i >= len(text) {
		return false
	}
	before, n := utf8.DecodeLastRuneInString(text[:i])
	after, m := utf8.DecodeRuneInString(text[i:])
	if isConnector(before) && i-n > 0 {
		before, _ = utf8.DecodeLastRuneInString(text[:i-n])
	}
	if isConnector(after) && i+m < len(text) {
		after, _ = utf8.DecodeRuneInString(text[i+m:])
	}
	return classify(before) == classWord && classify(after) == classWord
}

// isBreak reports whether a cut at byte i falls at a natural break: after
// or before white space or Japanese punctuation, or between a Latin word and
// anything else.
func isBreak(text string, i int) bool {
	before, _ := utf8.DecodeLastRuneInString(text[:i])
	after, _ := utf8.DecodeRuneInString(text[i:])
	if isBreakRune(before) || unicode.IsSpace(after) {
		return true
	}
	return classify(before) != classJapanese && classify(after) != classJapanese && !inWord(text, i)
}

func isBreakRune(r rune) bool {
	switch r {
	case '。', '、', '，', '．', '！', '？', '」', '』', '）', '・', '：', '；':
		return true
	}
	return unicode.IsSpace(r)
}

// Highlight returns the whole (short) text HTML-escaped with the spans in
// <mark>, for titles.
func Highlight(text string, spans []Span) string {
	return render(text, cleanSpans(text, spans), 0, len(text))
}

// cleanSpans returns a sorted, merged copy of spans, clamped to text and
// widened to whole characters; whatever a caller passes, the output stays
// valid.
func cleanSpans(text string, spans []Span) []Span {
	s := make([]Span, 0, len(spans))
	for _, sp := range spans {
		a, e := max(0, sp.Start), min(len(text), sp.End)
		if a >= e {
			continue
		}
		for a > 0 && !utf8.RuneStart(text[a]) {
			a--
		}
		for e < len(text) && !utf8.RuneStart(text[e]) {
			e++
		}
		s = append(s, Span{a, e})
	}
	return mergeSpans(s)
}

// runeIndexes returns the rune index of each span's start and end.
func runeIndexes(text string, s []Span) (starts, ends []int) {
	starts, ends = make([]int, len(s)), make([]int, len(s))
	bounds := make([]int, 0, 2*len(s))
	for _, sp := range s {
		bounds = append(bounds, sp.Start, sp.End)
	}
	// bounds is sorted because spans are sorted and disjoint.
	r, k := 0, 0
	for i := 0; i <= len(text) && k < len(bounds); {
		for k < len(bounds) && bounds[k] == i {
			if k%2 == 0 {
				starts[k/2] = r
			} else {
				ends[k/2] = r
			}
			k++
		}
		if i == len(text) {
			break
		}
		_, n := utf8.DecodeRuneInString(text[i:])
		i += n
		r++
	}
	return starts, ends
}

// runesBack returns the byte offset n runes before from.
func runesBack(text string, from, n int) int {
	i := from
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(text[:i])
		i -= size
	}
	return i
}

// byteOffset returns the byte offset n runes after from.
func byteOffset(text string, from, n int) int {
	i := from
	for ; n > 0 && i < len(text); n-- {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
	}
	return i
}

// render escapes text[bs:be] with the parts of spans inside it in <mark>.
func render(text string, spans []Span, bs, be int) string {
	var b strings.Builder
	b.Grow(be - bs + 32)
	space := false
	write := func(from, to int) {
		for i := from; i < to; {
			r, n := utf8.DecodeRuneInString(text[i:])
			i += n
			if unicode.IsSpace(r) {
				space = true
				continue
			}
			if unicode.IsControl(r) {
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			switch r {
			case '<':
				b.WriteString("&lt;")
			case '>':
				b.WriteString("&gt;")
			case '&':
				b.WriteString("&amp;")
			case '"':
				b.WriteString("&#34;")
			case '\'':
				b.WriteString("&#39;")
			default:
				b.WriteRune(r) // an invalid byte comes out as U+FFFD
			}
		}
	}
	at := bs
	for _, sp := range spans {
		a, e := max(sp.Start, bs), min(sp.End, be)
		if a >= e {
			continue
		}
		write(at, a)
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString("<mark>")
		write(a, e)
		b.WriteString("</mark>")
		at = e
	}
	write(at, be)
	return b.String()
}

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
	total := utf8.RuneCountInString(text)
	if total <= size {
		return render(text, s, 0, len(text))
	}
	ws := 0
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
		ws = max(0, rs[best]-min(slack/3, size/4))
	}
	ws = min(ws, total-size)
	bs := byteOffset(text, 0, ws)
	be := byteOffset(text, bs, size)
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

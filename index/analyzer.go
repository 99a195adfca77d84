package index

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"

	"vplanet/index/ja"
)

// analyzerName is the name under which the analyzer is known to Bleve's
// registry and in the index mapping.
const analyzerName = "vplanet"

// maxTermBytes bounds a single term; longer runs (a base64 blob, a Thai
// sentence without spaces) are skipped rather than indexed.
const maxTermBytes = 120

// maxJapaneseRun bounds the text segmented at once: its lattice grows
// with the input, and a run of kana or kanji with no punctuation for
// kilobytes is not prose.
const maxJapaneseRun = 1024

// maxGroupedRun bounds a run of characters that kagome's dictionary groups
// into one unknown word (katakana, rare kanji): the candidates weighed grow
// with the square of the run, so a thousand ー would take seconds.
const maxGroupedRun = 48

// Bleve resolves a field's analyzer by name through its process-wide
// registry, both when the mapping is validated and every time an index is
// opened (the mapping is stored inside the index as JSON). An analyzer that
// is not a combination of Bleve's own parts can only be made known to it by
// registering a constructor (Bleve's own analyzers do it in their init
// functions). vplanet registers it when it is first needed instead, by the
// mapping, which every index is created with, and by Open, before an index
// reads its stored mapping; importing the package changes nothing. The
// constructor loads the IPA dictionary lazily, on first use.
var registerAnalyzer = sync.OnceFunc(func() {
	err := registry.RegisterAnalyzer(analyzerName, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
		a, err := sharedAnalyzer()
		if err != nil {
			return nil, err
		}
		return bleveAnalyzer{a}, nil
	})
	if err != nil {
		// Only a second registration of the name fails, which the Once
		// rules out unless another package took it.
		panic(fmt.Sprintf("index: register analyzer: %v", err))
	}
})

// sharedAnalyzer loads the IPA dictionary once per process. A Morphology is
// safe for concurrent use, so every index, every Bleve analysis worker and
// every query shares it.
var sharedAnalyzer = sync.OnceValues(func() (*textAnalyzer, error) {
	m, err := ja.New()
	if err != nil {
		return nil, err
	}
	return &textAnalyzer{ja: m, stems: &stemCache{}}, nil
})

// textAnalyzer turns text in Japanese, English or both into index terms. It
// folds width and compatibility forms (ＶＣＨＡ is vcha, ｶﾞｲﾄﾞ is ガイド) per
// token, so offsets always point into the original text; splits runs of
// kana and kanji as kagome's search mode does, indexing verbs and
// adjectives by base form and dropping particles, auxiliary verbs and
// symbols; and splits Latin runs into words that are indexed whole and by
// parts ("vsphere7.0u3" also as "vsphere", "7.0", "u", "3"), lower-cased
// and stemmed.
type textAnalyzer struct {
	ja    *ja.Morphology
	stems *stemCache
}

// token is one term found by a textAnalyzer.
type token struct {
	Term     string
	Start    int // byte offset in the original text
	End      int // byte offset in the original text
	Position int // 1-based; tokens that share a position are alternatives
	// Stop marks a standalone English stop word ("the", "as"): indexed,
	// so that a quoted phrase can ask for it, but no word of a query
	// that is not quoted (see searchable).
	Stop bool
	// Run marks a run of katakana indexed whole beside the words the
	// dictionary cuts it into (see katakanaRun).
	Run bool
}

// searchable returns toks without their stop words, in place.
func searchable(toks []token) []token {
	out := toks[:0]
	for _, t := range toks {
		if !t.Stop {
			out = append(out, t)
		}
	}
	return out
}

// Analyze returns the terms of text in order of position.
func (a *textAnalyzer) Analyze(text string) []token {
	f := ja.Fold(text)
	// About one term in six bytes, in Japanese and in English: growing
	// the slice from nothing costs as much again.
	w := tokenWriter{f: &f, stems: a.stems, out: make([]token, 0, len(f.Text)/6+1)}
	s := f.Text
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch classify(r) {
		case classJapanese:
			j := japaneseEnd(s, i)
			a.japanese(&w, i, j)
			i = j
		case classWord:
			j := wordEnd(s, i)
			w.latin(i, j)
			i = j
		default:
			i += size
		}
	}
	return w.out
}

// japaneseEnd returns the end of the run of Japanese starting at i in s,
// which the morphology segments at once: at most maxJapaneseRun bytes, and
// cut after maxGroupedRun characters in a row that the dictionary groups
// into one unknown word (any but hiragana and common kanji).
func japaneseEnd(s string, i int) int {
	j := i
	grouped := 0
	for j < len(s) && j-i < maxJapaneseRun {
		r, n := utf8.DecodeRuneInString(s[j:])
		if classify(r) != classJapanese {
			break
		}
		if unicode.Is(unicode.Hiragana, r) || r <= 0xFFFF && unicode.Is(unicode.Han, r) {
			grouped = 0
		} else if grouped++; grouped > maxGroupedRun {
			break
		}
		j += n
	}
	return j
}

const (
	classOther = iota
	classWord
	classJapanese
)

// classify sorts a folded rune into the run it belongs to.
func classify(r rune) int {
	switch {
	case r < 0x80:
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return classWord
		}
		return classOther
	case r == 'ー' || r == '々' || r == '〆' || r == 'ヶ' || r == '\u3099' || r == '\u309a':
		return classJapanese
	case unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han):
		return classJapanese
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
		return classWord
	}
	return classOther
}

// isConnector reports whether r joins word characters into one Latin word
// ("NSX-T", "vSAN6.6", "example.com", "I/O").
func isConnector(r rune) bool {
	switch r {
	case '.', '-', '_', '/', '+', '\'', '’', '&', '@':
		return true
	}
	return false
}

// wordEnd returns the end of the Latin word starting at i in s.
func wordEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if classify(r) == classWord {
			j += n
			continue
		}
		if isConnector(r) && j > i && j+n < len(s) {
			next, _ := utf8.DecodeRuneInString(s[j+n:])
			if classify(next) == classWord {
				j += n
				continue
			}
		}
		break
	}
	return j
}

// partMark starts the term of a morpheme of kanji that search mode cuts
// out of a longer word (本木 of 六本木, 具合 of 不具合); no word starts with
// it. Such a morpheme is indexed under this term only, so that the word's
// own term finds the posts that write the word, and a search widens to the
// parts only when those are none (see builder.lenient).
const partMark = "~"

// plainTerm returns term without its partMark.
func plainTerm(term string) string { return strings.TrimPrefix(term, partMark) }

// hasKanjiRun reports whether s holds three kanji in a row, the least that
// search mode can split apart differently from normal mode: a word of two
// kanji or fewer takes no penalty, and longer words of other characters
// are katakana compounds, whose parts are wanted.
func hasKanjiRun(s string) bool {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			if n++; n >= 3 {
				return true
			}
		} else {
			n = 0
		}
	}
	return false
}

// katakanaRun returns the run of katakana of run that starts with
// morphs[i], and how many morphemes it spans; 0 when morphs[i] does not
// start one. Morphemes tile their run, so adjacent ones touch.
func katakanaRun(run string, morphs []ja.Morpheme, i int) (string, int) {
	if !katakanaOnly(morphs[i].Surface) || i > 0 && katakanaOnly(morphs[i-1].Surface) {
		return "", 0
	}
	j := i + 1
	for j < len(morphs) && katakanaOnly(morphs[j].Surface) {
		j++
	}
	last := morphs[j-1]
	return run[morphs[i].Offset : last.Offset+len(last.Surface)], j - i
}

func katakanaOnly(s string) bool {
	for _, r := range s {
		if r != 'ー' && !unicode.Is(unicode.Katakana, r) {
			return false
		}
	}
	return s != ""
}

func kanjiOnly(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return s != ""
}

// tokenWriter collects tokens, mapping folded offsets back to the original.
type tokenWriter struct {
	f      *ja.Folded
	stems  *stemCache
	pos    int
	out    []token
	morphs []ja.Morpheme // of the run of Japanese at hand
	words  [][2]int      // normal mode's words of the run at hand
	parts  [][2]int      // of the katakana compound at hand
}

func (w *tokenWriter) emit(term string, start, end, pos int) {
	if term == "" || len(term) > maxTermBytes {
		return
	}
	os, oe := w.f.Orig(start, end)
	w.out = append(w.out, token{Term: term, Start: os, End: oe, Position: pos})
}

// japanese tokenizes the folded bytes [i, j) with kagome's dictionary.
// Every morpheme takes a position, indexed or not, so that phrases do not
// close over a dropped particle ("京都大学" is not "京都の大学").
func (a *textAnalyzer) japanese(w *tokenWriter, i, j int) {
	run := w.f.Text[i:j]
	w.morphs, w.words = a.ja.SegmentWords(run, w.morphs[:0], w.words[:0], hasKanjiRun(run))
	k := 0 // the first normal-mode word that does not end before the morpheme
	for mi, m := range w.morphs {
		w.pos++
		if m.Skip {
			continue
		}
		if whole, n := katakanaRun(run, w.morphs, mi); n > 1 {
			// A run of katakana that the dictionary cuts into words
			// (クラスター into クラ and スター, ポリシ into ポリ and シ)
			// is also indexed whole, as a Latin compound is, so that
			// the run written without its last ー, or with one, which
			// the dictionary may cut otherwise, still meets it.
			start := i + m.Offset
			n := len(w.out)
			w.emit(ja.StemKatakana(whole), start, start+len(whole), w.pos)
			if len(w.out) > n {
				w.out[n].Run = true
			}
		}
		term := m.Surface
		if m.Base != "" && m.Base != "*" {
			term = m.Base
		}
		term = ja.StemKatakana(term)
		start := i + m.Offset
		end := m.Offset + len(m.Surface)
		for k < len(w.words) && w.words[k][1] <= m.Offset {
			k++
		}
		if k < len(w.words) && kanjiOnly(m.Surface) {
			if ws := w.words[k]; ws[0] <= m.Offset && end <= ws[1] && ws[1]-ws[0] > len(m.Surface) {
				// Search mode split 六本木 into 六 and 本木, so that 本木
				// finds it; normal mode keeps it whole, and a post
				// that writes 本木 alone ranks only when such posts
				// are none.
				term = partMark + term
			}
		}
		w.emit(term, start, start+len(m.Surface), w.pos)
		// A katakana compound the dictionary does not know is indexed
		// by its parts too, like a Latin compound: the first part at the
		// whole's position, the others at the positions that follow,
		// so that a part alone, a run of parts and the phrase of the
		// whole with the words around it all match. The parts are those
		// of the term, whose long-vowel mark is gone, so that サーバー
		// and サーバ variants split alike; the last part ends where the
		// surface does.
		if !strings.HasPrefix(m.Surface, term) {
			continue
		}
		w.parts = a.ja.Parts(term, w.parts[:0])
		for k, p := range w.parts {
			end := start + p[1]
			if k > 0 {
				w.pos++
			}
			if k == len(w.parts)-1 {
				end = start + len(m.Surface)
			}
			w.emit(ja.StemKatakana(term[p[0]:p[1]]), start+p[0], end, w.pos)
		}
	}
}

// latin tokenizes the Latin word at folded bytes [i, j). A word made of
// several parts is indexed whole at its first position and by each part at
// consecutive positions, so that "vSAN6.6" is found by "vsan", by "6.6" and
// by the phrase "vSAN 6.6".
func (w *tokenWriter) latin(i, j int) {
	s := w.f.Text
	word := s[i:j]
	lower := strings.ToLower(word)
	for _, p := range []string{"'s", "’s"} {
		if len(word) > len(p) && strings.HasSuffix(lower, p) {
			j -= len(p)
			word, lower = s[i:j], lower[:len(lower)-len(p)]
		}
	}
	parts := splitParts(s, i, j)
	if len(parts) == 1 {
		w.pos++
		if englishStop[lower] {
			w.emit(lower, i, j, w.pos)
			w.out[len(w.out)-1].Stop = true
			return
		}
		w.emit(w.stems.stem(lower), i, j, w.pos)
		return
	}
	first := w.pos + 1
	w.emit(lower, i, j, first)
	// Lower-casing ASCII keeps every byte where it was, so the parts of the
	// lower-cased word are the lower-cased parts.
	ascii := isASCII(word)
	for _, p := range parts {
		w.pos++
		part := lower[p[0]-i : p[1]-i]
		if !ascii {
			part = strings.ToLower(s[p[0]:p[1]])
		}
		w.emit(w.stems.stem(part), p[0], p[1], w.pos)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// splitParts splits the Latin word s[i:j] at connectors and at changes
// between letters and digits, keeping version numbers ("6.6", "7.0.3") whole.
func splitParts(s string, i, j int) [][2]int {
	var parts [][2]int
	start := -1
	prevKind := 0 // 1 letter, 2 digit
	for k := i; k < j; {
		r, n := utf8.DecodeRuneInString(s[k:])
		kind := 1
		if unicode.IsDigit(r) {
			kind = 2
		}
		if isConnector(r) {
			next, _ := utf8.DecodeRuneInString(s[k+n:])
			if r == '.' && prevKind == 2 && k+n < j && unicode.IsDigit(next) {
				k += n // a version number's dot
				continue
			}
			if start >= 0 {
				parts = append(parts, [2]int{start, k})
			}
			start, prevKind = -1, 0
			k += n
			continue
		}
		if unicode.IsMark(r) {
			kind = prevKind
		}
		if start >= 0 && prevKind != 0 && kind != prevKind {
			parts = append(parts, [2]int{start, k})
			start = -1
		}
		if start < 0 {
			start = k
		}
		prevKind = kind
		k += n
	}
	if start >= 0 {
		parts = append(parts, [2]int{start, j})
	}
	return parts
}

// stemEnglish stems an ASCII word of letters (migrating, migration: migrat).
func stemEnglish(term string) string {
	if len(term) < 3 {
		return term
	}
	for i := 0; i < len(term); i++ {
		if c := term[i]; c < 'a' || c > 'z' {
			return term
		}
	}
	env := snowballstem.NewEnv(term)
	english.Stem(env)
	return env.Current()
}

// maxStems bounds a stemCache: the words of a language are few, and the
// rest (names, typos, identifiers) need not stay.
const maxStems = 1 << 15

// stemCache remembers stemEnglish's answers, shared by every goroutine that
// analyses: English words repeat, and the Snowball stemmer costs more than
// a map lookup. Lookups read a map that is never changed once published,
// without a lock (a sync.Map's lookups cost several times a plain map's,
// and every English word looks one up). New words wait under a lock, and a copy of the map with them added
// is published once they are an eighth as many as the words published, or
// once they have been asked for again a few hundred times, so the copying
// costs a few times the cache's size overall.
type stemCache struct {
	published atomic.Pointer[map[string]string] // word → stem; never changed
	full      atomic.Bool                       // maxStems reached: add nothing

	mu      sync.Mutex
	pending map[string]string // not published yet
	again   int               // lookups that found a word in pending
}

// stem returns stemEnglish(term); a nil cache only stems.
func (c *stemCache) stem(term string) string {
	if c == nil {
		return stemEnglish(term)
	}
	if m := c.published.Load(); m != nil {
		if s, ok := (*m)[term]; ok {
			return s
		}
	}
	if c.full.Load() {
		return stemEnglish(term)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.pending[term]
	if ok {
		c.again++
	} else {
		s = stemEnglish(term)
		if c.pending == nil {
			c.pending = make(map[string]string)
		}
		// The term may point into a whole post's text.
		c.pending[strings.Clone(term)] = strings.Clone(s)
	}
	c.publish()
	return s
}

// publish adds the pending words to a new published map when they are an
// eighth as many as the words published, have been asked for again 256
// times, or fill the cache.
func (c *stemCache) publish() {
	var old map[string]string
	if m := c.published.Load(); m != nil {
		old = *m
	}
	if len(c.pending) < len(old)/8+64 && c.again < 256 && len(old)+len(c.pending) < maxStems {
		return
	}
	next := make(map[string]string, len(old)+len(c.pending))
	for k, v := range old {
		next[k] = v
	}
	for k, v := range c.pending {
		next[k] = v
	}
	c.published.Store(&next)
	c.pending, c.again = nil, 0
	if len(next) >= maxStems {
		c.full.Store(true)
	}
}

// englishStop is the classic short English stop list: standalone words
// (never the parts of a compound) that only a quoted phrase searches for.
var englishStop = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true,
	"but": true, "by": true, "for": true, "if": true, "in": true, "into": true, "is": true,
	"it": true, "no": true, "not": true, "of": true, "on": true, "or": true, "such": true,
	"that": true, "the": true, "their": true, "then": true, "there": true, "these": true,
	"they": true, "this": true, "to": true, "was": true, "will": true, "with": true,
}

// StopWord reports whether w, a lower-cased English word, is one that
// search ignores unless a quoted phrase asks for it: a query of such words
// alone has no searchable word.
func StopWord(w string) bool { return englishStop[w] }

// bleveAnalyzer adapts textAnalyzer to Bleve.
type bleveAnalyzer struct{ a *textAnalyzer }

func (b bleveAnalyzer) Analyze(input []byte) analysis.TokenStream {
	toks := b.a.Analyze(string(input))
	ts := make(analysis.TokenStream, len(toks))
	backing := make([]analysis.Token, len(toks))
	for i, t := range toks {
		backing[i] = analysis.Token{
			Start:    t.Start,
			End:      t.End,
			Term:     []byte(t.Term),
			Position: t.Position,
			Type:     analysis.AlphaNumeric,
		}
		ts[i] = &backing[i]
	}
	return ts
}

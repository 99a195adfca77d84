package index

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	bindex "github.com/blevesearch/bleve_index_api"

	"vplanet/index/ja"
)

// The gram field holds the pairs of adjacent katakana and kanji of a
// post's title and text, width folded: what a search asks for
// when a piece of pasted text matched nothing, before it leaves out the
// piece's cut edge words. A piece that starts or ends inside a word
// ("プリケーションコードの変" of "アプリケーションコードの変更") has no
// word-exact match, and left without its edge words it may hold no word
// at all ("の"); its pairs of characters are all in the post it was cut
// from, and those of katakana and kanji are rare enough to pick it out. The
// field keeps neither positions nor offsets: requiring every
// pair of a piece of twelve characters is selective enough, and positions
// would cost an offset triple per character.
const gramField = "gram"

// gramAnalyzerName is the gram field's analyzer in Bleve's registry.
const gramAnalyzerName = "vplanet-gram"

// maxQueryGrams bounds the pairs a search asks for per piece of text, and
// minQueryGrams is the least it asks for: シンの設定 has two, which posts
// about マシンの設定 and many others hold apart.
const (
	maxQueryGrams = 32
	minQueryGrams = 4
)

var registerGramAnalyzer = sync.OnceFunc(func() {
	err := registry.RegisterAnalyzer(gramAnalyzerName, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
		return gramAnalyzer{}, nil
	})
	if err != nil {
		panic(fmt.Sprintf("index: register analyzer: %v", err))
	}
})

// grams calls emit with each pair of adjacent characters of text, folded,
// that are katakana or kanji, and its position. Pairs with hiragana are
// left out: they are half the pairs of Japanese prose, they are the
// particles and endings that every post holds, and the words a piece is
// cut inside are mostly katakana or kanji.
func grams(text string, emit func(gram string, pos int)) {
	f := ja.Fold(text)
	s := f.Text
	pos := 0
	prev := -1 // the byte offset of the previous such character, or -1
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if classify(r) != classJapanese || unicode.Is(unicode.Hiragana, r) {
			prev = -1
			i += n
			continue
		}
		if prev >= 0 {
			pos++
			emit(s[prev:i+n], pos)
		}
		prev = i
		i += n
	}
}

// gramAnalyzer is the gram field's analyzer for Bleve's mapping, which
// the index itself bypasses (see gramsField).
type gramAnalyzer struct{}

func (gramAnalyzer) Analyze(input []byte) analysis.TokenStream {
	var ts analysis.TokenStream
	grams(string(input), func(g string, pos int) {
		ts = append(ts, &analysis.Token{Term: []byte(g), Position: pos, Type: analysis.Ideographic})
	})
	return ts
}

// gramsField is the gram field of a post, built without Bleve's analysis.
type gramsField struct {
	value  string
	length int
	freqs  bindex.TokenFrequencies
}

func newGramField(value string) *gramsField { return &gramsField{value: value} }

func (f *gramsField) Name() string                                      { return gramField }
func (f *gramsField) ArrayPositions() []uint64                          { return nil }
func (f *gramsField) Options() bindex.FieldIndexingOptions              { return bindex.IndexField }
func (f *gramsField) Value() []byte                                     { return []byte(f.value) }
func (f *gramsField) NumPlainTextBytes() uint64                         { return uint64(len(f.value)) }
func (f *gramsField) EncodedFieldType() byte                            { return 't' }
func (f *gramsField) AnalyzedLength() int                               { return f.length }
func (f *gramsField) AnalyzedTokenFrequencies() bindex.TokenFrequencies { return f.freqs }
func (f *gramsField) Size() int                                         { return len(f.value) + len(f.freqs)*tokenFreqSize }

// Analyze counts the field's pairs, their bytes in one buffer and their
// frequencies in one array, as textField does.
func (f *gramsField) Analyze() {
	var gs []string
	grams(f.value, func(g string, _ int) { gs = append(gs, g) })
	f.length = len(gs)
	f.freqs = make(bindex.TokenFrequencies, len(gs)/2+1)
	tfs := make([]bindex.TokenFreq, 0, len(gs))
	buf := make([]byte, 0, 6*len(gs))
	for _, g := range gs {
		tf, ok := f.freqs[g]
		if !ok {
			start := len(buf)
			buf = append(buf, g...)
			tfs = append(tfs, bindex.TokenFreq{Term: buf[start:len(buf):len(buf)]})
			tf = &tfs[len(tfs)-1]
			f.freqs[g] = tf
		}
		tf.SetFrequency(tf.Frequency() + 1)
	}
}

var _ bindex.Field = (*gramsField)(nil)

package index

import (
	bdocument "github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"

	"vplanet"
)

// Bleve's own way from a post to what its index takes walks the document
// struct by reflection, copies each text field's terms into a token stream
// of pointers, counts them into term frequencies with an allocation or more
// per distinct term, and then sizes the result by walking every location
// again. newPostDocument builds the same fields directly: the text fields'
// frequencies come from the analyzer's tokens in a few allocations per
// field, which costs a rebuild less CPU than Bleve's way (BenchmarkIndex
// against BenchmarkIndexNaive shows the whole difference, of which this is
// a part). TestPostDocumentMatchesMapping checks that the fields are what the mapping makes of newDocument.

// newPostDocument returns the Bleve document of p, as the mapping would
// make it of newDocument(p) but without the composite _all field, which
// the mapping fills with nothing.
func newPostDocument(an *textAnalyzer, p *vplanet.Post) *bdocument.Document {
	d := newDocument(p)
	doc := bdocument.NewDocument(p.ID)
	doc.AddField(newTextField(an, "title", d.Title))
	doc.AddField(newTextField(an, "text", d.Text))
	doc.AddField(newGramField(d.Gram))
	doc.AddField(bdocument.NewTextFieldCustom("blog", nil, []byte(d.Blog), bindex.IndexField, nil))
	doc.AddField(bdocument.NewTextFieldCustom("lang", nil, []byte(d.Lang), bindex.IndexField, nil))
	for i, f := range d.Facet {
		doc.AddField(bdocument.NewTextFieldCustom("facet", []uint64{uint64(i)}, []byte(f), bindex.IndexField|bindex.DocValues, nil))
	}
	doc.AddField(bdocument.NewTextFieldCustom("date", nil, []byte(d.Date), bindex.IndexField|bindex.DocValues, nil))
	return doc
}

// textField is a text field of a post, analysed by a textAnalyzer, with
// term vectors.
type textField struct {
	an     *textAnalyzer
	name   string
	value  string
	length int // tokens
	freqs  bindex.TokenFrequencies
	size   int
}

const textFieldOptions = bindex.IndexField | bindex.IncludeTermVectors

func newTextField(an *textAnalyzer, name, value string) *textField {
	return &textField{an: an, name: name, value: value, size: len(name) + len(value)}
}

func (f *textField) Name() string                                      { return f.name }
func (f *textField) ArrayPositions() []uint64                          { return nil }
func (f *textField) Options() bindex.FieldIndexingOptions              { return textFieldOptions }
func (f *textField) Value() []byte                                     { return []byte(f.value) }
func (f *textField) NumPlainTextBytes() uint64                         { return uint64(len(f.value)) }
func (f *textField) EncodedFieldType() byte                            { return 't' }
func (f *textField) AnalyzedLength() int                               { return f.length }
func (f *textField) AnalyzedTokenFrequencies() bindex.TokenFrequencies { return f.freqs }

// Size estimates the bytes the field holds once analysed; Bleve only
// reports it.
func (f *textField) Size() int { return f.size }

// Analyze counts the field's terms. Each term's locations are a slice of
// one array of pointers into one array of locations, in token order, and
// the terms' bytes share one buffer.
func (f *textField) Analyze() {
	toks := f.an.Analyze(f.value)
	f.length = len(toks)
	freqs := make(bindex.TokenFrequencies, len(toks)/2+1)
	tfs := make([]bindex.TokenFreq, 0, len(toks))
	termBytes := 0
	for _, t := range toks {
		tf, ok := freqs[t.Term]
		if !ok {
			tfs = append(tfs, bindex.TokenFreq{})
			tf = &tfs[len(tfs)-1]
			freqs[t.Term] = tf
			termBytes += len(t.Term)
		}
		tf.SetFrequency(tf.Frequency() + 1)
	}
	buf := make([]byte, 0, termBytes)
	locs := make([]bindex.TokenLocation, len(toks))
	ptrs := make([]*bindex.TokenLocation, len(toks))
	next := 0
	for term, tf := range freqs {
		start := len(buf)
		buf = append(buf, term...)
		tf.Term = buf[start:len(buf):len(buf)]
		n := tf.Frequency()
		tf.Locations = ptrs[next : next : next+n]
		next += n
	}
	for i, t := range toks {
		locs[i] = bindex.TokenLocation{Start: t.Start, End: t.End, Position: t.Position}
		tf := freqs[t.Term]
		tf.Locations = append(tf.Locations, &locs[i])
	}
	f.freqs = freqs
	f.size += len(buf) + len(tfs)*tokenFreqSize + len(toks)*tokenLocationSize
}

// Sizes of Bleve's term frequency and location, with a pointer to each, on
// a 64-bit machine.
const (
	tokenFreqSize     = 24 + 24 + 8 + 8
	tokenLocationSize = 16 + 24 + 24 + 8
)

var _ bdocument.Field = (*textField)(nil)

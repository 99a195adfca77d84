package index

import (
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"

	"vplanet"
)

// MappingVersion changes whenever the mapping or the analysis changes; an
// index built with another version is recreated empty on Open and rebuilt
// from the store.
const MappingVersion = 9

// docType is the one document type; the default mapping is disabled so that
// nothing reaches the index by accident.
const docType = "post"

// Keys of the values kept in Bleve's internal storage.
var (
	keySeq     = []byte("vplanet.seq")
	keyVersion = []byte("vplanet.mapping_version")
)

// newMapping returns the whole index mapping. Nothing is stored (the store
// holds every post) and there is no composite _all field: queries name
// their fields. title and text keep term vectors, so that a search can say
// where it matched; gram holds the pairs of characters of their Japanese
// (see gram.go). blog and lang serve the blog: and lang: filters. Two
// fields keep doc values, which a search reads once per segment into
// columns (see columns.go): date, a key that sorts as the dates do, and
// facet, whose values are "blog:slug", "lang:ja" and "year:2017". Date
// filters read the date column too, so no field indexes dates as terms.
func newMapping() mapping.IndexMapping {
	registerAnalyzer()
	registerGramAnalyzer()
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.Store = false
		f.IncludeTermVectors = true
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	post := bleve.NewDocumentStaticMapping()
	post.AddFieldMappingsAt("title", text())
	post.AddFieldMappingsAt("text", text())
	gram := bleve.NewTextFieldMapping()
	gram.Analyzer = gramAnalyzerName
	gram.Store, gram.IncludeTermVectors, gram.IncludeInAll, gram.DocValues = false, false, false, false
	post.AddFieldMappingsAt(gramField, gram)
	post.AddFieldMappingsAt("blog", kw(false))
	post.AddFieldMappingsAt("lang", kw(false))
	post.AddFieldMappingsAt("facet", kw(true))
	post.AddFieldMappingsAt("date", kw(true))

	m := bleve.NewIndexMapping()
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	m.AddDocumentMapping(docType, post)
	m.DefaultAnalyzer = analyzerName
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	return m
}

// dateKey formats a time so that its strings sort as the times do (years
// 0000 to 9999, in UTC).
const dateKey = "20060102150405.000000000"

// document is what the index keeps of a post, in the mapping's terms;
// newPostDocument makes Bleve's fields of it without the mapping.
type document struct {
	Title string   `json:"title"`
	Text  string   `json:"text"`
	Gram  string   `json:"gram"` // title and text, for their pairs of characters
	Blog  string   `json:"blog"`
	Lang  string   `json:"lang"`
	Facet []string `json:"facet"`
	Date  string   `json:"date"` // sorts as the dates do
}

// Type tells Bleve which document mapping applies.
func (document) Type() string { return docType }

func newDocument(p *vplanet.Post) document {
	return document{
		Title: p.Title,
		Text:  p.Text,
		Gram:  p.Title + "\n" + p.Text,
		Blog:  p.BlogSlug,
		Lang:  p.Lang,
		Facet: []string{
			"blog:" + p.BlogSlug,
			"lang:" + p.Lang,
			"year:" + strconv.Itoa(p.Published.UTC().Year()),
		},
		Date: p.Published.UTC().Format(dateKey),
	}
}

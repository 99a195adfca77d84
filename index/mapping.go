package index

import (
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"

	"vplanet"
)

// MappingVersion changes whenever the mapping or the analysis changes; an
// index built with another version is recreated empty on Open and rebuilt
// from the store.
const MappingVersion = 2

// docType is the one document type; the default mapping is disabled so that
// nothing reaches the index by accident.
const docType = "post"

// Keys of the values kept in Bleve's internal storage.
var (
	keySeq     = []byte("vplanet.seq")
	keyVersion = []byte("vplanet.mapping_version")
)

// newMapping returns the whole index mapping. Nothing but a date key is
// stored (the store holds every post) and there is no composite _all field:
// queries name their fields. title and text keep term vectors, so that a search can say where
// it matched. published serves date filters from its terms; sorting by date
// reads the one doc value of the keyword field date instead, because a
// date field's doc values hold every one of its sixteen prefix-coded terms
// and cost several times more per hit. The facets are counted from the one
// field facet, whose values are "blog:slug", "lang:ja" and "year:2017": a
// search visits the doc values of every hit, field by field, and two fields
// cost about half as much as four.
func newMapping() mapping.IndexMapping {
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
	published := bleve.NewDateTimeFieldMapping()
	published.Store = false
	published.IncludeInAll = false
	published.DocValues = false

	post := bleve.NewDocumentStaticMapping()
	post.AddFieldMappingsAt("title", text())
	post.AddFieldMappingsAt("text", text())
	post.AddFieldMappingsAt("blog", kw(false))
	post.AddFieldMappingsAt("lang", kw(false))
	post.AddFieldMappingsAt("facet", kw(true))
	date := kw(true)
	date.Store = true // orders equal scores by date
	post.AddFieldMappingsAt("date", date)
	post.AddFieldMappingsAt("published", published)

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

// document is what the index keeps of a post.
type document struct {
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Blog      string    `json:"blog"`
	Lang      string    `json:"lang"`
	Facet     []string  `json:"facet"`
	Date      string    `json:"date"` // sorts as published does
	Published time.Time `json:"published"`
}

// Type tells Bleve which document mapping applies.
func (document) Type() string { return docType }

func newDocument(p *vplanet.Post) document {
	return document{
		Title: p.Title,
		Text:  p.Text,
		Blog:  p.BlogSlug,
		Lang:  p.Lang,
		Facet: []string{
			"blog:" + p.BlogSlug,
			"lang:" + p.Lang,
			"year:" + strconv.Itoa(p.Published.UTC().Year()),
		},
		Date:      p.Published.UTC().Format(dateKey),
		Published: p.Published.UTC(),
	}
}

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
const MappingVersion = 1

// docType is the one document type; the default mapping is disabled so that
// nothing reaches the index by accident.
const docType = "post"

// Keys of the values kept in Bleve's internal storage.
var (
	keySeq     = []byte("vplanet.seq")
	keyVersion = []byte("vplanet.mapping_version")
)

// newMapping returns the whole index mapping. Nothing but the date is stored
// (the store holds every post) and there is no composite _all field: queries name their
// fields. title and text keep term vectors, so that a search can say where
// it matched.
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
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = true // facets
		return f
	}
	published := bleve.NewDateTimeFieldMapping()
	published.Store = true // breaks ties of relevance within a page
	published.IncludeInAll = false
	published.DocValues = true // sort by date

	post := bleve.NewDocumentStaticMapping()
	post.AddFieldMappingsAt("title", text())
	post.AddFieldMappingsAt("text", text())
	post.AddFieldMappingsAt("blog", kw())
	post.AddFieldMappingsAt("lang", kw())
	post.AddFieldMappingsAt("year", kw())
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

// document is what the index keeps of a post.
type document struct {
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Blog      string    `json:"blog"`
	Lang      string    `json:"lang"`
	Year      string    `json:"year"`
	Published time.Time `json:"published"`
}

// Type tells Bleve which document mapping applies.
func (document) Type() string { return docType }

func newDocument(p *vplanet.Post) document {
	return document{
		Title:     p.Title,
		Text:      p.Text,
		Blog:      p.BlogSlug,
		Lang:      p.Lang,
		Year:      strconv.Itoa(p.Published.UTC().Year()),
		Published: p.Published.UTC(),
	}
}

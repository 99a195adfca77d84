package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"

	"vplanet"
	"vplanet/store"
)

// loadPosts reads every visible post of the store at path, the same posts
// vplanet indexed.
func loadPosts(ctx context.Context, path string) ([]*vplanet.Post, error) {
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var posts []*vplanet.Post
	var after int64
	for {
		batch, err := db.Changes(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			return posts, nil
		}
		for _, p := range batch {
			if p.Visible {
				posts = append(posts, p)
			}
		}
		after = batch[len(batch)-1].Seq
	}
}

const naiveAnalyzerName = "vplanet-bench-naive-kagome"

// registerNaive puts the naive analyzer in Bleve's registry, which is
// process-wide by Bleve's design; it is done once, when first needed, not
// in an init function.
var registerNaive = sync.OnceValue(func() error {
	t, err := tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
	if err != nil {
		return fmt.Errorf("kagome: %w", err)
	}
	return registry.RegisterAnalyzer(naiveAnalyzerName, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
		return naiveAnalyzer{t}, nil
	})
})

// naiveAnalyzer is what one writes first: kagome (IPA dictionary, search
// mode) as a Bleve analyzer, every morpheme of the whole text lower-cased,
// nothing else.
type naiveAnalyzer struct{ t *tokenizer.Tokenizer }

func (n naiveAnalyzer) Analyze(input []byte) analysis.TokenStream {
	var ts analysis.TokenStream
	pos := 0
	for _, t := range n.t.Analyze(string(input), tokenizer.Search) {
		if strings.TrimSpace(t.Surface) == "" {
			continue
		}
		pos++
		ts = append(ts, &analysis.Token{
			Start: t.Position, End: t.Position + len(t.Surface), Position: pos,
			Term: []byte(strings.ToLower(t.Surface)), Type: analysis.Ideographic,
		})
	}
	return ts
}

// naiveDoc is a post as the naive index sees it: every field through
// Bleve's default mapping, stored, with term vectors, in _all.
type naiveDoc struct {
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Blog      string    `json:"blog"`
	Lang      string    `json:"lang"`
	URL       string    `json:"url"`
	Published time.Time `json:"published"`
}

// naiveResult is the naive baseline's outcome.
type naiveResult struct {
	Took  time.Duration
	Posts int
	Size  int64
}

// indexNaive indexes posts into a fresh Bleve index in dir with the default
// mapping and the naive analyzer on title and text (the other fields get
// Bleve's standard analyzer), in batches of 100, as Bleve's documentation
// shows.
func indexNaive(posts []*vplanet.Post, dir string) (naiveResult, error) {
	if err := registerNaive(); err != nil {
		return naiveResult{}, fmt.Errorf("naive baseline: %w", err)
	}
	// Bleve's default mapping, dynamic, with kagome on title and text:
	// every field stored, term vectors kept, title and text also in _all.
	m := bleve.NewIndexMapping()
	for _, name := range []string{"title", "text"} {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = naiveAnalyzerName
		m.DefaultMapping.AddFieldMappingsAt(name, f)
	}
	start := time.Now()
	ix, err := bleve.New(dir, m)
	if err != nil {
		return naiveResult{}, fmt.Errorf("naive baseline: %w", err)
	}
	b := ix.NewBatch()
	for _, p := range posts {
		doc := naiveDoc{Title: p.Title, Text: p.Text, Blog: p.BlogSlug, Lang: p.Lang, URL: p.URL, Published: p.Published}
		if err := b.Index(p.ID, doc); err != nil {
			ix.Close()
			return naiveResult{}, fmt.Errorf("naive baseline: %w", err)
		}
		if b.Size() >= 100 {
			if err := ix.Batch(b); err != nil {
				ix.Close()
				return naiveResult{}, fmt.Errorf("naive baseline: %w", err)
			}
			b.Reset()
		}
	}
	if err := ix.Batch(b); err != nil {
		ix.Close()
		return naiveResult{}, fmt.Errorf("naive baseline: %w", err)
	}
	if err := ix.Close(); err != nil {
		return naiveResult{}, fmt.Errorf("naive baseline: %w", err)
	}
	return naiveResult{Took: time.Since(start), Posts: len(posts), Size: dirSize(dir)}, nil
}

package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/ikawaha/kagome/v2/tokenizer"

	"vplanet"
)

// benchPosts is the number of posts the indexing and search benchmarks use:
// small by default so that -benchtime=1x stays quick; set
// VPLANET_BENCH_POSTS=10000 for the figures in the README.
func benchPosts(b *testing.B) int {
	n := 300
	if s := os.Getenv("VPLANET_BENCH_POSTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("VPLANET_BENCH_POSTS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// benchText returns Japanese (Botchan) or English prose: the shared corpus
// when present, else the small samples in testdata.
func benchText(b *testing.B, lang string) string {
	var paths []string
	if lang == "ja" {
		paths = []string{filepath.Join(corpusDir, "aozora", "bocchan.txt"), filepath.Join("testdata", "sample-ja.txt")}
	} else {
		en := filepath.Join(corpusDir, "hatenablog", "content", "docs", "entry")
		var s strings.Builder
		filepath.WalkDir(en, func(path string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, ".md") && s.Len() < 300000 {
				body, _ := os.ReadFile(path)
				s.WriteString(tagRE.ReplaceAllString(string(body), " "))
			}
			return nil
		})
		if s.Len() > 0 {
			return s.String()
		}
		paths = []string{filepath.Join("testdata", "sample-en.txt")}
	}
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
	}
	b.Fatalf("no %s text for benchmarks", lang)
	return ""
}

func BenchmarkAnalyzeJapanese(b *testing.B) { benchAnalyze(b, benchText(b, "ja")) }
func BenchmarkAnalyzeEnglish(b *testing.B)  { benchAnalyze(b, benchText(b, "en")) }

func benchAnalyze(b *testing.B, text string) {
	a := analyzer(b)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		a.Analyze(text)
	}
}

// synthPosts makes n posts of about 3 KB from sentences of the Japanese
// and English texts, 60% Japanese, spread over blogs and years.
func synthPosts(b *testing.B, n int) []*vplanet.Post {
	split := func(text, sep string) []string {
		var out []string
		for _, s := range strings.Split(text, sep) {
			if s = strings.TrimSpace(s); len(s) > 10 {
				out = append(out, s+sep)
			}
		}
		return out
	}
	ja := split(benchText(b, "ja"), "。")
	en := split(benchText(b, "en"), ". ")
	extra := []string{"vSAN 6.6の新機能。", "ＶＣＨＡを構成した。", "NSX-T migration notes. ", "拡張クラスタの検証。", "vSphere7.0U3 upgrade. "}
	r := rand.New(rand.NewPCG(1, 2))
	posts := make([]*vplanet.Post, n)
	for i := range posts {
		src, lang := ja, "ja"
		if r.IntN(10) >= 6 {
			src, lang = en, "en"
		}
		var text strings.Builder
		text.WriteString(extra[r.IntN(len(extra))])
		for text.Len() < 3000 {
			text.WriteString(src[r.IntN(len(src))])
			text.WriteByte(' ')
		}
		posts[i] = &vplanet.Post{
			ID:        fmt.Sprint("post-", i),
			Title:     src[r.IntN(len(src))],
			Text:      text.String(),
			Lang:      lang,
			BlogSlug:  fmt.Sprint("blog-", r.IntN(50)),
			Published: time.Date(2010+r.IntN(15), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC),
			Seq:       int64(i + 1),
			Visible:   true,
		}
	}
	return posts
}

// BenchmarkIndex measures indexing into a fresh index, as vplanet reindex
// does: posts/s is the figure to compare with BenchmarkIndexNaive.
func BenchmarkIndex(b *testing.B) {
	analyzer(b)
	posts := synthPosts(b, benchPosts(b))
	benchIndexing(b, posts, func(dir string) error {
		ix, err := Open(dir, Options{})
		if err != nil {
			return err
		}
		if err := ix.Apply(context.Background(), posts); err != nil {
			return err
		}
		return ix.Close()
	})
}

// BenchmarkIndexNaive is the baseline issue 7 compares with: Bleve's default
// mapping (stored fields, term vectors, the composite _all field) with a
// plain kagome tokenizer, in batches of the same size.
func BenchmarkIndexNaive(b *testing.B) {
	registerNaive(b)
	posts := synthPosts(b, benchPosts(b))
	benchIndexing(b, posts, func(dir string) error {
		m := bleve.NewIndexMapping()
		m.DefaultAnalyzer = "naive-kagome"
		bi, err := bleve.New(dir, m)
		if err != nil {
			return err
		}
		batch := bi.NewBatch()
		for i, p := range posts {
			batch.Index(p.ID, map[string]interface{}{
				"title": p.Title, "text": p.Text, "blog": p.BlogSlug, "lang": p.Lang, "published": p.Published,
			})
			if batch.Size() == batchSize || i == len(posts)-1 {
				if err := bi.Batch(batch); err != nil {
					return err
				}
				batch = bi.NewBatch()
			}
		}
		return bi.Close()
	})
}

func benchIndexing(b *testing.B, posts []*vplanet.Post, index func(dir string) error) {
	var size int64
	for _, p := range posts {
		size += int64(len(p.Title) + len(p.Text))
	}
	b.SetBytes(size)
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "index")
		start := time.Now()
		if err := index(dir); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(len(posts)*b.N)/elapsed.Seconds(), "posts/s")
}

var naiveOnce sync.Once

func registerNaive(b *testing.B) {
	a := analyzer(b)
	naiveOnce.Do(func() {
		registry.RegisterAnalyzer("naive-kagome", func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
			return naiveAnalyzer{a.ja}, nil
		})
	})
}

// naiveAnalyzer is kagome as a Bleve tokenizer with nothing else: every
// morpheme of the whole text, lower-cased.
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

var (
	searchOnce  sync.Once
	searchIndex *Index
	searchPosts map[string]*vplanet.Post
	searchErr   error
)

// benchIndex builds the index the search benchmarks share, once.
func benchIndex(b *testing.B) (*Index, map[string]*vplanet.Post) {
	searchOnce.Do(func() {
		posts := synthPosts(b, benchPosts(b))
		dir, err := os.MkdirTemp("", "vplanet-bench-")
		if err != nil {
			searchErr = err
			return
		}
		searchIndex, searchErr = Open(filepath.Join(dir, "index"), Options{})
		if searchErr == nil {
			searchErr = searchIndex.Apply(context.Background(), posts)
		}
		searchPosts = map[string]*vplanet.Post{}
		for _, p := range posts {
			searchPosts[p.ID] = p
		}
	})
	if searchErr != nil {
		b.Fatal(searchErr)
	}
	return searchIndex, searchPosts
}

func BenchmarkSearchTerm(b *testing.B)   { benchSearch(b, "クラスタ") }
func BenchmarkSearchPhrase(b *testing.B) { benchSearch(b, `"vSAN 6.6"`) }
func BenchmarkSearchFiltered(b *testing.B) {
	benchSearch(b, "migration lang:en after:2015-01-01 before:2020-12-31")
}

// benchSearch measures a search as the server makes it: facets, and a
// snippet and a highlighted title for each hit.
func benchSearch(b *testing.B, q string) {
	ix, posts := benchIndex(b)
	b.ResetTimer()
	for b.Loop() {
		res, err := ix.Search(context.Background(), Request{Query: q, Facets: true})
		if err != nil {
			b.Fatal(err)
		}
		if res.Total == 0 {
			b.Fatalf("%s: no hits", q)
		}
		for _, h := range res.Hits {
			p := posts[h.ID]
			Highlight(p.Title, h.Spans["title"])
			Snippet(p.Text, h.Spans["text"], 160)
		}
	}
}

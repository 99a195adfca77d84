package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/ikawaha/kagome-dict/ipa"
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
		paths = []string{filepath.Join(corpusDir, "aozora", "bocchan.txt"), filepath.Join("ja", "testdata", "bocchan-ja.txt")}
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

// benchSynth makes posts of benchText's texts.
func benchSynth(b *testing.B) *synth {
	return newSynth(benchText(b, "ja"), benchText(b, "en"))
}

// BenchmarkIndex measures indexing into a fresh index, as vplanet reindex
// does: posts/s is the figure to compare with BenchmarkIndexNaive.

func BenchmarkIndex(b *testing.B) {
	analyzer(b)
	posts := benchSynth(b).posts(benchPosts(b))
	benchIndexing(b, posts, func(dir string) error {
		ix, err := Open(dir, Options{InFlight: 2})
		if err != nil {
			return err
		}
		cpu0, start := cpuTime(), time.Now()
		if err := ix.Apply(context.Background(), posts); err != nil {
			return err
		}
		// Where the time went: Bleve analyses a batch on several
		// goroutines, then builds its segment on one.
		wall := time.Since(start)
		if st, ok := ix.bi.StatsMap()["index"].(map[string]interface{}); ok {
			an, _ := st["TotAnalysisTime"].(uint64)
			seg, _ := st["TotIndexTime"].(uint64)
			b.ReportMetric(time.Duration(an).Seconds()/wall.Seconds(), "analysis-share")
			b.ReportMetric(time.Duration(seg).Seconds()/wall.Seconds(), "segment-share")
		}
		b.ReportMetric((cpuTime()-cpu0).Seconds()/wall.Seconds(), "cores")
		if err := ix.Close(); err != nil {
			return err
		}
		size, err := dirSize(dir)
		b.ReportMetric(float64(size)/float64(len(posts)), "disk-bytes/post")
		return err
	})
}

// dirSize is the size of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// BenchmarkRebuild measures Rebuild from a store-like source, as vplanet
// reindex runs it: reading the changes, applying them, swapping the index
// in.
func BenchmarkRebuild(b *testing.B) {
	analyzer(b)
	s, n := benchSynth(b), benchPosts(b)
	var elapsed time.Duration
	var cpu time.Duration
	for b.Loop() {
		ix, err := Open(filepath.Join(b.TempDir(), "index"), Options{InFlight: 2})
		if err != nil {
			b.Fatal(err)
		}
		cpu0, start := cpuTime(), time.Now()
		if err := ix.Rebuild(context.Background(), synthSource{s, n}, nil); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		if got, _ := ix.DocCount(); got != uint64(n) {
			b.Fatalf("DocCount after rebuild: got %d, want %d", got, n)
		}
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "posts/s")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
}

// BenchmarkIndexNaive is the baseline BenchmarkIndex is compared with: Bleve's default
// mapping (stored fields, term vectors, the composite _all field) with a
// plain kagome tokenizer, in batches of the same size.
func BenchmarkIndexNaive(b *testing.B) {
	registerNaive(b)
	posts := benchSynth(b).posts(benchPosts(b))
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

// kagome is kagome's own tokenizer, for the naive baseline.
var kagome = sync.OnceValues(func() (*tokenizer.Tokenizer, error) {
	return tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
})

var naiveOnce sync.Once

func registerNaive(b *testing.B) {
	t, err := kagome()
	if err != nil {
		b.Fatal(err)
	}
	naiveOnce.Do(func() {
		registry.RegisterAnalyzer("naive-kagome", func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
			return naiveAnalyzer{t}, nil
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

// The search benchmarks share one index, built once: building it takes far
// longer than any of them. TestMain removes it when the run ends.
var (
	searchOnce  sync.Once
	searchDir   string
	searchIndex *Index
	searchSynth *synth
	searchErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if searchIndex != nil {
		searchIndex.Close()
	}
	if searchDir != "" {
		os.RemoveAll(searchDir)
	}
	os.Exit(code)
}

// benchIndex builds the index the search benchmarks share, once, and
// returns it with the posts' source.
func benchIndex(b *testing.B) (*Index, *synth) {
	searchOnce.Do(func() {
		searchSynth = benchSynth(b)
		searchDir, searchErr = os.MkdirTemp("", "vplanet-bench-")
		if searchErr != nil {
			return
		}
		searchIndex, searchErr = Open(filepath.Join(searchDir, "index"), Options{})
		if searchErr == nil {
			searchErr = searchIndex.Rebuild(context.Background(), synthSource{searchSynth, benchPosts(b)}, nil)
		}
	})
	if searchErr != nil {
		b.Fatal(searchErr)
	}
	return searchIndex, searchSynth
}

func BenchmarkSearchTerm(b *testing.B)   { benchSearch(b, Request{Query: "クラスタ", Facets: true}) }
func BenchmarkSearchPhrase(b *testing.B) { benchSearch(b, Request{Query: `"vSAN 6.6"`, Facets: true}) }
func BenchmarkSearchFiltered(b *testing.B) {
	benchSearch(b, Request{Query: "migration lang:en after:2015-01-01 before:2020-12-31", Facets: true})
}
func BenchmarkSearchGlossary(b *testing.B) { benchSearch(b, Request{Query: "VCHA", Facets: true}) }
func BenchmarkSearchByDate(b *testing.B) {
	benchSearch(b, Request{Query: "クラスタ", Sort: "date", Facets: true})
}

// BenchmarkSearchKanji is a kanji word: its exact matches, and the count
// of the posts holding it inside longer words (Result.More).
func BenchmarkSearchKanji(b *testing.B) { benchSearch(b, Request{Query: "拡張", Facets: true}) }

// BenchmarkSearchKanjiWider is BenchmarkSearchKanji with those posts
// after the exact matches.
func BenchmarkSearchKanjiWider(b *testing.B) {
	benchSearch(b, Request{Query: "拡張", Facets: true, Wider: true})
}

// BenchmarkSearchNoFacets is BenchmarkSearchTerm without facets: the
// difference is what facets cost.
func BenchmarkSearchNoFacets(b *testing.B) { benchSearch(b, Request{Query: "クラスタ"}) }

// BenchmarkSearchNextPage is BenchmarkSearchTerm's second page.
func BenchmarkSearchNextPage(b *testing.B) {
	benchSearch(b, Request{Query: "クラスタ", Offset: 10, Facets: true})
}

// benchSearch measures a search as the server makes it: facets, and a
// snippet and a highlighted title for each hit.
func benchSearch(b *testing.B, r Request) {
	ix, s := benchIndex(b)
	posts := map[string]*vplanet.Post{}
	b.ResetTimer()
	for b.Loop() {
		res, err := ix.Search(context.Background(), r)
		if err != nil {
			b.Fatal(err)
		}
		if res.Total == 0 {
			b.Fatalf("%s: no hits", r.Query)
		}
		for _, h := range res.Hits {
			p := posts[h.ID]
			if p == nil {
				i, _ := strconv.Atoi(strings.TrimPrefix(h.ID, "post-"))
				p = s.post(i)
				posts[h.ID] = p
			}
			Highlight(p.Title, h.Spans["title"])
			Snippet(p.Text, h.Spans["text"], 160)
		}
	}
}

// BenchmarkScale measures the index at the scale it is built for (run it
// with VPLANET_BENCH_POSTS=100000; the default is small): Rebuild from a
// store-like source in posts/s, with the CPU time it used per second of
// wall time (2 means both cores of the reference machine were busy); heap
// in use after indexing and after a burst of searches; and the latency
// percentiles of a mix of searches with facets and spans, as the server
// asks for them (the store lookups and snippets come on top).
func BenchmarkScale(b *testing.B) {
	n := benchPosts(b)
	s := benchSynth(b)
	analyzer(b)
	queries := []Request{
		{Query: "VCSA", Facets: true},
		{Query: "アップグレード手順", Facets: true},
		{Query: "クラスタ", Facets: true},
		{Query: "migration", Facets: true},
		{Query: "VCHA", Facets: true},
		{Query: `"vSAN 6.6"`, Facets: true},
		{Query: "vSphere7.0U3", Facets: true},
		{Query: "拡張クラスタ lang:ja after:2015-01-01", Facets: true},
		{Query: "清 坊っちゃん", Facets: true},
		{Query: "monitoring alert", Facets: true},
		{Query: "クラスタ", Sort: "date", Facets: true},
		{Query: "クラスタ", Offset: 10, Facets: true},
		{Query: "migration", Facets: false},
	}
	for b.Loop() {
		ix, err := Open(filepath.Join(b.TempDir(), "index"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		cpu0, start := cpuTime(), time.Now()
		if err := ix.Rebuild(context.Background(), synthSource{s, n}, nil); err != nil {
			b.Fatal(err)
		}
		wall, cpu := time.Since(start), cpuTime()-cpu0
		b.ReportMetric(float64(n)/wall.Seconds(), "posts/s")
		b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
		b.ReportMetric(heapMB(), "MB-heap-indexed")

		var lat []time.Duration
		kinds := map[string][]time.Duration{}
		kind := func(r Request) string {
			return fmt.Sprintf("%s sort=%s offset=%d facets=%t", r.Query, r.Sort, r.Offset, r.Facets)
		}
		for i := 0; i < 100*len(queries); i++ {
			r := queries[i%len(queries)]
			t := time.Now()
			res, err := ix.Search(context.Background(), r)
			d := time.Since(t)
			if err != nil {
				b.Fatal(err)
			}
			if i < len(queries) && testing.Verbose() {
				b.Logf("%-60s %6d hits", kind(r), res.Total)
			}
			lat = append(lat, d)
			kinds[kind(r)] = append(kinds[kind(r)], d)
		}
		b.ReportMetric(heapMB(), "MB-heap-searched")
		b.ReportMetric(ms(percentile(lat, 50)), "ms-p50")
		b.ReportMetric(ms(percentile(lat, 99)), "ms-p99")
		if testing.Verbose() {
			for k, l := range kinds {
				b.Logf("%-60s p50 %6.2f ms  p99 %6.2f ms", k, ms(percentile(l, 50)), ms(percentile(l, 99)))
			}
		}
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// heapMB returns the heap in use after a collection, in MiB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

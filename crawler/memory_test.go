package crawler

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vplanet"
	"vplanet/store"
)

// memCommunity serves nFeeds Atom feeds of nPosts posts of about postBytes
// of text each, as vplanet-bench's community does (HTML content, three
// blogs in five Japanese, a Content-Length, 50 ms before each answer),
// spread over up to 100 loopback addresses. Bodies are written from a few
// templates as they are sent, so that the server holds no feed in memory
// and the heap measured is the crawler's.
func memCommunity(tb testing.TB, nFeeds, nPosts, postBytes int) []string {
	tb.Helper()
	templates := [2][][]byte{memFeed(false, nPosts, postBytes), memFeed(true, nPosts, postBytes)}
	var urls []string
	const hosts = 100
	var addrs []string
	for h := range min(hosts, nFeeds) {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", 1+h))
		if err != nil {
			tb.Skipf("loopback address 127.0.0.%d: %v", 1+h, err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(50 * time.Millisecond)
			id := strings.TrimPrefix(r.URL.Path, "/blog")
			n, _ := strconv.Atoi(id)
			parts := templates[0]
			if n%5 < 3 {
				parts = templates[1]
			}
			size := 0
			for _, p := range parts {
				size += len(p)
			}
			size += (len(parts) - 1) * len(id)
			w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(size))
			for i, p := range parts {
				if i > 0 {
					w.Write([]byte(id))
				}
				w.Write(p)
			}
		})}
		go srv.Serve(l)
		addrs = append(addrs, l.Addr().String())
		tb.Cleanup(func() { srv.Close() })
	}
	for i := range nFeeds {
		urls = append(urls, fmt.Sprintf("http://%s/blog%d", addrs[i%len(addrs)], i))
	}
	return urls
}

// memFeed renders an Atom feed of n posts of about size bytes of text,
// split where each feed's number goes (into links and IDs, so that every
// feed's posts are its own).
func memFeed(ja bool, n, size int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 11))
	words := strings.Fields("vSAN の 拡張 クラスタ では 二つの サイト に 置いた ホスト が 一つの クラスタ を 作り 監視 ホスト が 第三の サイト で 両者 を 見守ります 重複排除 と 圧縮 は ディスク グループ 単位 で 働き")
	sep := ""
	if !ja {
		words = strings.Fields("the stretched cluster keeps two sites in one cluster while a witness host watches both from a third site and deduplication with compression works per disk group on the capacity tier")
		sep = " "
	}
	const mark = "\x00"
	var b bytes.Buffer
	lang := map[bool]string{true: "ja", false: "en"}[ja]
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="%s"><title>Blog %s</title><link rel="alternate" href="http://blog%s.example/"/><id>tag:mem.example,2026:%s</id><updated>2026-11-02T10:00:00Z</updated>
`, lang, mark, mark, mark)
	for i := range n {
		var text strings.Builder
		for text.Len() < size {
			text.WriteString("<p>")
			for j := 0; j < 40 && text.Len() < size; j++ {
				text.WriteString(words[rng.IntN(len(words))] + sep)
			}
			text.WriteString("</p>\n")
		}
		fmt.Fprintf(&b, `<entry><title>Post %d</title><link rel="alternate" href="http://blog%s.example/%d"/><id>tag:mem.example,2026:%s-%d</id><published>2026-10-%02dT10:00:00Z</published><author><name>a</name></author><content type="html">%s</content></entry>
`, i, mark, i, mark, i, 1+i%28, htmlEscape(text.String()))
	}
	b.WriteString("</feed>\n")
	return bytes.Split(b.Bytes(), []byte(mark))
}

// peakDuring runs f and returns the most the Go heap held (HeapInuse,
// sampled every 5 ms) and the process's peak resident memory (VmHWM, reset
// before f where Linux allows) while it ran.
func peakDuring(f func()) (heap, rss uint64) {
	runtime.GC()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM
	var top atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	// VPLANET_HEAP_PROFILE names a file for the heap profile taken at the
	// peak (when the heap has grown by a tenth since the last one taken):
	// what the crawl holds when it holds the most.
	profile := os.Getenv("VPLANET_HEAP_PROFILE")
	var profiled uint64
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > top.Load() {
				top.Store(m.HeapInuse)
				if profile != "" && m.HeapInuse > profiled+profiled/10 {
					profiled = m.HeapInuse
					if f, err := os.Create(profile); err == nil {
						pprof.WriteHeapProfile(f)
						f.Close()
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return top.Load(), vmHWM()
}

func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkCrawlMemory crawls a community like vplanet-bench's into a real
// store and reports the peak heap and resident memory, and the crawl's
// speed, without the bound on feeds parsed at once and with it. Run each
// alone (-bench 'CrawlMemory/bounded') for a fair peak RSS: a process keeps
// the memory an earlier run grew it by. VPLANET_BENCH_FEEDS sets the feeds (default 100), and
// VPLANET_BENCH_POST_BYTES the text of a post (default 3,000, as
// vplanet-bench writes); each feed has 100 posts.
func BenchmarkCrawlMemory(b *testing.B) {
	n := 100
	if s := os.Getenv("VPLANET_BENCH_FEEDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	size := 3000
	if s := os.Getenv("VPLANET_BENCH_POST_BYTES"); s != "" {
		size, _ = strconv.Atoi(s)
	}
	// As `vplanet crawl` runs: with its default soft memory limit, so that
	// the heap measured is what the crawl keeps live, not garbage the
	// collector had no reason to collect yet.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(256 << 20))
	urls := memCommunity(b, n, 100, size)
	for _, v := range []struct {
		name string
		opts Options
	}{
		// As the crawler was: bodies held up to 64 MiB, and parsed feeds
		// unbounded.
		{"unbounded", Options{BodyBudget: 64 << 20, unboundedParse: true}},
		{"bounded", Options{}},
	} {
		b.Run(fmt.Sprintf("%s/feeds=%d/post=%dB", v.name, n, size), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				db := openStore(b)
				syncFeeds(b, db, urls...)
				c := New(db, v.opts)
				b.StartTimer()
				var sum Summary
				var err error
				heap, rss := peakDuring(func() { sum, err = c.Run(context.Background(), RunOptions{All: true}) })
				if err != nil || sum.OK != n || sum.New != 100*n {
					b.Fatalf("crawl: %s, %v", sum, err)
				}
				b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(sum.Feeds)/sum.Duration.Seconds(), "feeds/s")
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
		})
	}
}

// slowStore is a store that takes its time to save, as a store on a busy
// disk does: parsed feeds queue for it.
type slowStore struct {
	*store.DB
	delay time.Duration
}

func (s slowStore) SaveFetch(ctx context.Context, f *vplanet.Feed, posts []*vplanet.Post) (int, int, error) {
	time.Sleep(s.delay)
	return s.DB.SaveFetch(ctx, f, posts)
}

// TestParsedFeedsBounded crawls 64 feeds of about 1 MB (50 posts with their
// full HTML) into a store slower than the fetches, so that parsed feeds
// wait for it, and checks the live heap: the feeds parsed and waiting are
// bounded by parseBudget, where without the bound every worker held one.
// The unbounded crawl is measured too, so that the test shows it measures
// what it claims.
func TestParsedFeedsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls 64 MB of feeds")
	}
	urls := memCommunity(t, 64, 50, 20000)
	// Near the limit the collector keeps the heap close to what is live.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(64 << 20))
	peak := map[string]uint64{}
	for _, v := range []struct {
		name string
		opts Options
	}{
		{"unbounded", Options{BodyBudget: 64 << 20, unboundedParse: true}},
		{"bounded", Options{}},
	} {
		db := openStore(t)
		syncFeeds(t, db, urls...)
		c := New(slowStore{db, 50 * time.Millisecond}, v.opts)
		var sum Summary
		var err error
		heap, _ := peakDuring(func() { sum, err = c.Run(context.Background(), RunOptions{All: true}) })
		if err != nil || sum.OK != len(urls) {
			t.Fatalf("%s: %s, %v", v.name, sum, err)
		}
		peak[v.name] = heap
		t.Logf("%s: peak heap %.0f MiB; %s", v.name, float64(heap)/(1<<20), sum)
	}
	const limit = 112 << 20
	if peak["bounded"] > limit {
		t.Errorf("bounded crawl: peak heap %.0f MiB, want at most %.0f MiB", float64(peak["bounded"])/(1<<20), float64(limit)/(1<<20))
	}
	if peak["unbounded"] <= limit {
		t.Errorf("unbounded crawl: peak heap %.0f MiB, not above %.0f MiB: the test does not show what the bound saves",
			float64(peak["unbounded"])/(1<<20), float64(limit)/(1<<20))
	}
}

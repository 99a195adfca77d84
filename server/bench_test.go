package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// The benchmarks run on the small test store; `go test -bench . -benchtime=1x`
// checks they work, and a longer -benchtime gives the figures.

func benchGet(b *testing.B, h http.Handler, target string, want int, header ...string) {
	b.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			b.Fatalf("status: got %d, want %d", w.Code, want)
		}
	}
}

func BenchmarkFeedAtom(b *testing.B) {
	e := newEnv(b, Config{})
	benchGet(b, e.h, "/feed.atom", 200)
}

func BenchmarkFeedAtomGzip(b *testing.B) {
	e := newEnv(b, Config{})
	benchGet(b, e.h, "/feed.atom", 200, "Accept-Encoding", "gzip")
}

func BenchmarkFeedAtom304(b *testing.B) {
	e := newEnv(b, Config{})
	etag := e.get(b, "/feed.atom").Header().Get("ETag")
	benchGet(b, e.h, "/feed.atom", 304, "If-None-Match", etag)
}

func BenchmarkAPISearch(b *testing.B) {
	e := newEnv(b, Config{})
	benchGet(b, e.h, "/api/search?q=VCHA", 200)
}

func BenchmarkSearchPage(b *testing.B) {
	e := newEnv(b, Config{})
	benchGet(b, e.h, "/search?q=VCHA", 200)
}

// BenchmarkAPISearchParallel measures /api/search under concurrent load.
func BenchmarkAPISearchParallel(b *testing.B) {
	e := newEnv(b, Config{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/search?q=VCHA", nil))
			if w.Code != 200 {
				b.Errorf("status: got %d, want 200", w.Code)
				return
			}
		}
	})
}

// BenchmarkLoopback measures requests per second and latency percentiles
// of the hot endpoints over real HTTP on loopback, with as many concurrent
// clients as GOMAXPROCS×4.
func BenchmarkLoopback(b *testing.B) {
	e := newEnv(b, Config{})
	ts := httptest.NewServer(e.h)
	defer ts.Close()
	etag := e.get(b, "/feed.atom").Header().Get("ETag")
	for _, bc := range []struct {
		name, path string
		header     []string
		want       int
	}{
		{"feed.atom-200", "/feed.atom", nil, 200},
		{"feed.atom-304", "/feed.atom", []string{"If-None-Match", etag}, 304},
		{"api-search", "/api/search?q=VCHA", nil, 200},
	} {
		b.Run(bc.name, func(b *testing.B) {
			client := ts.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(4)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, ts.URL+bc.path, nil)
					for i := 0; i+1 < len(bc.header); i += 2 {
						req.Header.Set(bc.header[i], bc.header[i+1])
					}
					t0 := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine = append(mine, time.Since(t0))
					if resp.StatusCode != bc.want {
						b.Errorf("status: got %d, want %d", resp.StatusCode, bc.want)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			if len(lat) == 0 {
				return
			}
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

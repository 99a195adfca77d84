package crawler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"
)

// bigFeed is an RSS feed of about size bytes, most of them a comment.
func bigFeed(name string, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<rss version="2.0"><channel><title>%s</title><item><title>one</title><guid>tag:%s,1</guid><description>x</description></item><!-- `, name, name)
	b.Write(bytes.Repeat([]byte("padding "), size/8))
	b.WriteString(" --></channel></rss>")
	return b.Bytes()
}

func TestRunBodyBudget(t *testing.T) {
	const (
		feeds   = 32
		size    = 3 << 20
		maxBody = 4 << 20
		workers = 16
		budget  = maxBody + workers*firstChunk // 8 MiB: the least newBudget allows
	)
	bodies := make([][]byte, feeds)
	for i := range bodies {
		bodies[i] = bigFeed("big"+strconv.Itoa(i), size)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Path[len("/big/"):])
		body := bodies[i]
		if i%2 == 0 {
			// Half announce their length; half are sent in chunks.
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
			return
		}
		for len(body) > 0 {
			n := min(len(body), 64<<10)
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
		}
	}))
	defer srv.Close()
	var urls []string
	for i := range feeds {
		urls = append(urls, fmt.Sprintf("%s/big/%d", srv.URL, i))
	}
	db := openStore(t)
	syncFeeds(t, db, urls...)

	// Sample the heap while the run goes on, collecting garbage often so
	// that the heap follows what is held.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peakHeap uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	c := New(db, Options{Workers: workers, PerHost: workers, MaxBody: maxBody, BodyBudget: budget, SkipPages: true})
	sum, err := c.Run(context.Background(), RunOptions{All: true})
	close(stop)
	wg.Wait()
	if err != nil || sum.OK != feeds {
		t.Fatalf("run: %s, %v", sum, err)
	}
	peak := c.bodies.Peak()
	t.Logf("%d feeds of %d MiB, %d workers: at most %.1f MiB of bodies held at once (budget %d MiB); heap grew by at most %.0f MiB",
		feeds, size>>20, workers, float64(peak)/(1<<20), budget>>20, float64(peakHeap-min(base, peakHeap))/(1<<20))
	if peak > budget {
		t.Errorf("bodies held at once: %d bytes, over the %d budget", peak, budget)
	}
	if peak < 2*size {
		t.Errorf("bodies held at once: at most %d bytes; the workers did not read in parallel", peak)
	}
	// Without the budget, 16 workers hold 16 bodies and their parses at once
	// (the heap grew by about 100 MiB on the machine this was written on);
	// with it, two or three (about 40 MiB).
	if grew := peakHeap - min(base, peakHeap); grew > 64<<20 {
		t.Errorf("the heap grew by %d MiB during the run", grew>>20)
	}
}

// TestBudgetNoDeadlock reads many bodies of unknown length, larger than
// the first chunk, through the smallest budget at once: each must take its
// second step without waiting forever on the others.
func TestBudgetNoDeadlock(t *testing.T) {
	const (
		maxBody  = 1 << 20
		requests = 8
	)
	b := newBudget(0, maxBody, requests)
	if got, want := b.size, int64(maxBody+requests*firstChunk); got != want {
		t.Fatalf("size: got %d, want %d", got, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body := bytes.Repeat([]byte("x"), maxBody-1)
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for range requests {
		wg.Go(func() {
			for range 20 {
				got, held, err := b.readBody(ctx, io.MultiReader(bytes.NewReader(body)), -1, maxBody, nil)
				if err == nil && len(got) != len(body) {
					err = fmt.Errorf("read %d bytes, want %d", len(got), len(body))
				}
				time.Sleep(time.Millisecond)
				b.release(held)
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if b.used != 0 {
		t.Errorf("%d bytes still held after every body was given back", b.used)
	}
	if b.Peak() > b.size {
		t.Errorf("peak %d over the size %d", b.Peak(), b.size)
	}
}

func TestBudgetReadBody(t *testing.T) {
	b := newBudget(64<<20, 1<<20, 1)
	ctx := context.Background()
	tests := []struct {
		name          string
		size, length  int64
		wantErr       string
		wantHeldUnder int64
	}{
		{"small, length known", 1000, 1000, "", 1001},
		{"small, length unknown", 1000, -1, "", firstChunk + 1},
		{"large, length unknown", 600 << 10, -1, "", 1<<20 + 1},
		{"exactly the limit", 1 << 20, -1, "", 1<<20 + 1},
		{"over the limit, unknown", 1<<20 + 1, -1, "feed too large: over the 1 MiB limit", 1<<20 + 1},
		{"over the limit, announced", 2 << 20, 2 << 20, "feed too large: 2 MiB, over the 1 MiB limit", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, held, err := b.readBody(ctx, bytes.NewReader(make([]byte, tt.size)), tt.length, 1<<20, nil)
			defer b.release(held)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error: got %v, want %q", err, tt.wantErr)
				}
			} else if err != nil || int64(len(body)) != tt.size {
				t.Errorf("got %d bytes, %v; want %d bytes", len(body), err, tt.size)
			}
			if held >= tt.wantHeldUnder {
				t.Errorf("held %d bytes, want under %d", held, tt.wantHeldUnder)
			}
		})
	}
	// A waiter gives up with its context.
	small := newBudget(0, 1000, 0)
	if err := small.acquire(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := small.acquire(cctx, 1); err == nil {
		t.Error("acquire past the budget did not wait for its context")
	}
	small.release(1000)
	if err := small.acquire(ctx, 1000); err != nil || small.used != 1000 {
		t.Errorf("after a waiter gave up: %v, used %d", err, small.used)
	}
}

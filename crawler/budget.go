package crawler

import (
	"bytes"
	"context"
	"io"
	"sync"
)

// firstChunk is what a body of unknown length may read before it must
// reserve room for the largest body: most feeds and pages are smaller.
const firstChunk = 256 << 10

// budget bounds the bytes of response bodies that the crawler's workers
// hold at once, so that many workers cannot each hold a body of the largest
// size together. It is a weighted semaphore, first come first served.
//
// A body takes its room in at most two steps: its Content-Length (or
// firstChunk when the length is unknown) while it holds nothing, and, only
// when a body of unknown length outgrows firstChunk, the rest of the
// largest body at once. Waiting while holding happens only in that second
// step and only for firstChunk, so with room for every request's first
// chunk and one largest body (see newBudget) some waiter can always go on.
type budget struct {
	mu      sync.Mutex
	size    int64 // total room
	used    int64
	peak    int64 // the most ever used, for tests and figures
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

// newBudget returns a budget of size bytes, raised when needed to hold the
// first chunks of requests bodies in flight and one body of maxBody bytes.
func newBudget(size, maxBody int64, requests int) *budget {
	return &budget{size: max(size, maxBody+int64(requests)*firstChunk)}
}

// acquire waits until n bytes are free (n is capped at the budget's size)
// and takes them; it gives up when ctx ends.
func (b *budget) acquire(ctx context.Context, n int64) error {
	n = min(n, b.size)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.size {
		b.take(n)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready:
			// Granted meanwhile: give it back.
			b.used -= n
			b.wake()
		default:
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
			b.wake() // the head may have changed
		}
		return ctx.Err()
	}
}

// release gives back n bytes taken with acquire.
func (b *budget) release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= min(n, b.size)
	b.wake()
	b.mu.Unlock()
}

func (b *budget) take(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// wake grants waiters in order while they fit.
func (b *budget) wake() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.size {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.take(w.n)
		close(w.ready)
	}
}

// Peak returns the most bytes ever held at once.
func (b *budget) Peak() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// readBody reads at most limit bytes of r, whose length is length (-1 when
// unknown), taking room for them from b. It returns the body, or
// tooLargeError past the limit, and the room held, which the caller gives
// back with b.release when it is done with the body, error or not.
//
// pause, when not nil, is called around each wait for room: the request's
// timeout is the server's time, not the crawler's.
func (b *budget) readBody(ctx context.Context, r io.Reader, length, limit int64, pause func() (resume func())) (body []byte, held int64, err error) {
	if pause == nil {
		pause = func() func() { return func() {} }
	}
	acquire := func(n int64) error {
		resume := pause()
		defer resume()
		return b.acquire(ctx, n)
	}
	if length > limit {
		return nil, 0, &tooLargeError{Size: length, Limit: limit}
	}
	if length >= 0 {
		// The length is known: take it, read exactly it.
		if err := acquire(length); err != nil {
			return nil, 0, err
		}
		buf := bytes.NewBuffer(make([]byte, 0, length))
		_, err := io.Copy(buf, io.LimitReader(r, length))
		return buf.Bytes(), length, err
	}
	first := min(int64(firstChunk), limit)
	if err := acquire(first); err != nil {
		return nil, 0, err
	}
	held = first
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, first))
	if err != nil || n < first {
		return buf.Bytes(), held, err
	}
	// Longer than the first chunk: room for the largest body, at once.
	if err := acquire(limit - first); err != nil {
		return nil, held, err
	}
	held = limit
	if _, err := io.Copy(&buf, io.LimitReader(r, limit-first+1)); err != nil {
		return nil, held, err
	}
	if int64(buf.Len()) > limit {
		return nil, held, &tooLargeError{Limit: limit}
	}
	return buf.Bytes(), held, nil
}

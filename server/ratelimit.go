package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// defaultSearchPerMinute is generous: a person paging through results
// never meets it; a script hammering the index does.
const defaultSearchPerMinute = 600

var errTooMany = &requestError{status: http.StatusTooManyRequests,
	msg: "too many searches from your address; wait a few seconds and try again"}

// rateLimiter is a token bucket per client address. Buckets that have
// refilled are swept away, so the map stays as small as the set of busy
// clients.
type rateLimiter struct {
	mu        sync.Mutex
	perSec    float64
	burst     float64
	buckets   map[string]*bucket
	lastSweep time.Time
	now       func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newRateLimiter allows perMinute requests a minute per client, in bursts
// of up to a tenth of that (at least 10). perMinute < 0 means no limit.
func newRateLimiter(perMinute int) *rateLimiter {
	if perMinute < 0 {
		return nil
	}
	if perMinute == 0 {
		perMinute = defaultSearchPerMinute
	}
	return &rateLimiter{
		perSec:  float64(perMinute) / 60,
		burst:   max(float64(perMinute)/10, 10),
		buckets: map[string]*bucket{},
		now:     time.Now,
	}
}

// allow takes cost tokens from client's bucket, or reports how long until
// they are there.
func (l *rateLimiter) allow(client string, cost float64) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.perSec >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[client]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[client] = b
	}
	b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*l.perSec, l.burst)
	b.last = now
	cost = min(cost, l.burst) // a query dearer than a burst must still pass, rarely
	if b.tokens < cost {
		return false, time.Duration((cost - b.tokens) / l.perSec * float64(time.Second))
	}
	b.tokens -= cost
	return true, 0
}

// limitSearch refuses a client's searches beyond the configured rate with
// 429 and Retry-After. A search costs by its words (see queryCost), so that
// a query of many exclusions cannot take the index from everyone else at
// the rate allowed to a person. Requests without a query cost the index
// little and pass freely. The client is the address clientAddr finds,
// so that readers behind a trusted proxy each have their own budget.
func (s *server) limitSearch(next http.Handler, writeErr func(http.ResponseWriter, *http.Request, error)) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("q") == "" {
			next.ServeHTTP(w, r)
			return
		}
		if ok, wait := s.limiter.allow(s.clientAddr(r), queryCost(r.URL.Query().Get("q"))); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			writeErr(w, r, errTooMany)
			return
		}
		next.ServeHTTP(w, r)
	})
}

package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vplanet"
)

// everyDates returns n dates, the newest age before now, gap apart.
func everyDates(now time.Time, n int, gap, age time.Duration) []time.Time {
	var ds []time.Time
	for i := range n {
		ds = append(ds, now.Add(-age-time.Duration(i)*gap))
	}
	return ds
}

func TestRhythm(t *testing.T) {
	now := testNow
	every := func(n int, gap, age time.Duration) []time.Time { return everyDates(now, n, gap, age) }
	tests := []struct {
		name  string
		dates []time.Time
		hints hints
		want  time.Duration
	}{
		{"hourly", every(10, time.Hour, 10*time.Minute), hints{}, time.Hour},
		{"every 90 minutes", every(10, 90*time.Minute, 30*time.Minute), hints{}, 90 * time.Minute},
		{"monthly", every(10, 30*24*time.Hour, 24*time.Hour), hints{}, maxRhythm},
		{"every minute, clamped", every(10, time.Minute, 0), hints{}, 15 * time.Minute},
		{"every 15 minutes once, silent for 2 hours", every(10, 15*time.Minute, 2*time.Hour), hints{}, time.Hour},
		{"silent for a year: the bound", every(10, time.Hour, 365*24*time.Hour), hints{}, maxRhythm},
		{"only the newest 10 count", append(every(10, time.Hour, 0), now.Add(-365*24*time.Hour)), hints{}, time.Hour},
		{"undated posts ignored", append(every(5, 2*time.Hour, 0), time.Time{}, time.Time{}), hints{}, 2 * time.Hour},
		{"order does not matter", []time.Time{now.Add(-3 * time.Hour), now, now.Add(-time.Hour), now.Add(-2 * time.Hour)}, hints{}, time.Hour},
		{"no dates: the fallback", nil, hints{}, 30 * time.Minute},
		{"one date: the fallback", every(1, 0, time.Hour), hints{}, 30 * time.Minute},
		{"one date twice: the fallback", []time.Time{now, now}, hints{}, 30 * time.Minute},
		{"TTL lengthens", every(10, time.Hour, 0), hints{TTL: 2 * time.Hour}, 2 * time.Hour},
		{"TTL never shortens", every(10, 100*time.Minute, 0), hints{TTL: time.Hour}, 100 * time.Minute},
		{"syndication period", nil, hints{Syndication: 90 * time.Minute}, 90 * time.Minute},
		{"a daily syndication period: the bound", nil, hints{Syndication: 24 * time.Hour}, maxRhythm},
		{"max-age", every(10, time.Hour, 0), hints{MaxAge: 90 * time.Minute}, 90 * time.Minute},
		{"max-age over the bound, clamped", every(10, time.Hour, 0), hints{MaxAge: 7 * 24 * time.Hour}, maxRhythm},
		{"rounded to 5 minutes", every(10, 61*time.Minute, 0), hints{}, 60 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rhythm(tt.dates, tt.hints, now, 30*time.Minute, defaultBounds); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRhythmBounds checks that an operator's bounds (serve's and crawl's
// --feed-min-interval and --feed-max-interval) hold a feed's rhythm between
// them, whatever its posts and hints say.
func TestRhythmBounds(t *testing.T) {
	now := testNow
	every := func(n int, gap, age time.Duration) []time.Time { return everyDates(now, n, gap, age) }
	tests := []struct {
		name  string
		b     bounds
		dates []time.Time
		hints hints
		want  time.Duration
	}{
		{"monthly, at most 6 hours", bounds{15 * time.Minute, 6 * time.Hour}, every(10, 30*24*time.Hour, 0), hints{}, 6 * time.Hour},
		{"monthly, at most a day", bounds{15 * time.Minute, 24 * time.Hour}, every(10, 30*24*time.Hour, 0), hints{}, 24 * time.Hour},
		{"every 10 minutes, at least an hour", bounds{time.Hour, 2 * time.Hour}, every(10, 10*time.Minute, 0), hints{}, time.Hour},
		{"a daily TTL, at most 30 minutes", bounds{5 * time.Minute, 30 * time.Minute}, nil, hints{TTL: 24 * time.Hour}, 30 * time.Minute},
		{"between the bounds, untouched", bounds{5 * time.Minute, 24 * time.Hour}, every(10, 3*time.Hour, 0), hints{}, 3 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rhythm(tt.dates, tt.hints, now, 30*time.Minute, tt.b); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			// The rhythm survives being stored as a last and next attempt.
			last, next := now, now.Add(tt.want-dueSlack(tt.want))
			if got := previousRhythm(last, next, tt.b); got != tt.want {
				t.Errorf("recovered %v from the stored attempts, want %v", got, tt.want)
			}
		})
	}
}

// TestOptionsRhythm checks that a crawler takes its bounds from Options: a
// monthly feed crawled with MaxRhythm of 45 minutes is due again within it.
func TestOptionsRhythm(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rhythmFeed("monthly", 30*24*time.Hour))
	}))
	defer srv.Close()
	db := openStore(t)
	syncFeeds(t, db, srv.URL+"/monthly")
	c := New(db, Options{Logger: testLogger(t), SkipPages: true, MaxRhythm: 45 * time.Minute})
	start := time.Now()
	if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.OK != 1 {
		t.Fatalf("run: %s, %v", sum, err)
	}
	d := 45 * time.Minute
	got := feedsByURL(t, db)[srv.URL+"/monthly"].NextAttempt.Sub(start)
	if lo, hi := d-dueSlack(d)-time.Second, d-dueSlack(d)+5*time.Second; got < lo || got > hi {
		t.Errorf("due again in %v, want %v less %v", got, d, dueSlack(d))
	}
}

// TestPreviousRhythm checks that a rhythm survives being stored as a last
// and a next attempt, the run having reached the feed a little late.
func TestPreviousRhythm(t *testing.T) {
	for d := minRhythm; d <= maxRhythm; d += rhythmStep {
		for _, late := range []time.Duration{0, 10 * time.Second, 2 * time.Minute} {
			runStart := testNow
			last := runStart.Add(late)
			next := runStart.Add(d - dueSlack(d))
			if got := previousRhythm(last, next, defaultBounds); got != d {
				t.Errorf("rhythm %v, fetched %v late: recovered %v", d, late, got)
			}
		}
	}
	if got := previousRhythm(time.Time{}, testNow, defaultBounds); got != 0 {
		t.Errorf("no last attempt: got %v, want 0", got)
	}
	if got := previousRhythm(testNow, testNow.Add(-time.Hour), defaultBounds); got != 0 {
		t.Errorf("next before last: got %v, want 0", got)
	}
}

func TestCacheLifetime(t *testing.T) {
	now := testNow
	date := now.Format(http.TimeFormat)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"max-age", map[string]string{"Cache-Control": "public, max-age=3600"}, time.Hour},
		{"max-age quoted", map[string]string{"Cache-Control": `max-age="600"`}, 10 * time.Minute},
		{"max-age beats Expires", map[string]string{"Cache-Control": "max-age=60", "Expires": now.Add(time.Hour).Format(http.TimeFormat)}, time.Minute},
		{"no-cache", map[string]string{"Cache-Control": "no-cache, max-age=3600"}, 0},
		{"Expires less Date", map[string]string{"Date": date, "Expires": now.Add(2 * time.Hour).Format(http.TimeFormat)}, 2 * time.Hour},
		{"Expires in the past", map[string]string{"Date": date, "Expires": now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"Expires 0", map[string]string{"Expires": "0"}, 0},
		{"a year", map[string]string{"Cache-Control": "max-age=31536000"}, 7 * 24 * time.Hour},
		{"nothing", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := cacheLifetime(h, now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFeedHints(t *testing.T) {
	tests := []struct {
		name, feed string
		want       hints
	}{
		{"ttl", `<rss version="2.0"><channel><title>t</title><ttl>120</ttl></channel></rss>`, hints{TTL: 2 * time.Hour}},
		{"bad ttl", `<rss version="2.0"><channel><title>t</title><ttl>soon</ttl></channel></rss>`, hints{}},
		{"sy", `<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>` +
			`<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency></channel></rss>`, hints{Syndication: 6 * time.Hour}},
		{"sy another prefix", `<rss version="2.0" xmlns:s="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>` +
			`<s:updatePeriod>hourly</s:updatePeriod></channel></rss>`, hints{Syndication: time.Hour}},
		{"atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>`, hints{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newNormalizer().parse([]byte(tt.feed), "", "https://h.example/feed", "", testNow)
			if err != nil {
				t.Fatal(err)
			}
			if p.Hints != tt.want {
				t.Errorf("got %+v, want %+v", p.Hints, tt.want)
			}
		})
	}
}

// rhythmFeed writes an RSS feed of 10 posts, gap apart, the newest 5
// minutes old.
func rhythmFeed(name string, gap time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link>`, name, name)
	now := time.Now()
	for i := range 10 {
		fmt.Fprintf(&b, `<item><title>post %d</title><guid>tag:%s.example,2026:%d</guid><pubDate>%s</pubDate>`+
			`<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">full text</content:encoded></item>`,
			i, name, i, now.Add(-5*time.Minute-time.Duration(i)*gap).Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func TestRunRhythm(t *testing.T) {
	var notModified atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/hourly", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"h"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"h"`)
		fmt.Fprint(w, rhythmFeed("hourly", time.Hour))
	})
	mux.HandleFunc("/monthly", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rhythmFeed("monthly", 30*24*time.Hour))
	})
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=6600")
		fmt.Fprint(w, rhythmFeed("cached", time.Hour))
	})
	mux.HandleFunc("/undated", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<rss version="2.0"><channel><title>u</title><item><title>x</title><guid>tag:u,1</guid></item></channel></rss>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	db := openStore(t)
	syncFeeds(t, db, srv.URL+"/hourly", srv.URL+"/monthly", srv.URL+"/cached", srv.URL+"/undated")
	c := New(db, Options{Logger: testLogger(t), SkipPages: true})
	start := time.Now()
	if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.OK != 4 {
		t.Fatalf("run: %s, %v", sum, err)
	}
	want := map[string]time.Duration{
		"/hourly":  time.Hour,
		"/monthly": maxRhythm,
		"/cached":  110 * time.Minute,
		"/undated": 30 * time.Minute, // Options.Interval's default
	}
	check := func(run string) {
		t.Helper()
		feeds := feedsByURL(t, db)
		for path, d := range want {
			got := feeds[srv.URL+path].NextAttempt.Sub(start)
			if lo, hi := d-dueSlack(d)-time.Second, d-dueSlack(d)+5*time.Second; got < lo || got > hi {
				t.Errorf("%s: %s due again in %v, want %v less %v", run, path, got, d, dueSlack(d))
			}
		}
	}
	check("first run")

	// A 304 keeps the rhythm the feed had.
	start = time.Now()
	if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.NotModified != 1 {
		t.Fatalf("second run: %s, %v", sum, err)
	}
	if notModified.Load() != 1 {
		t.Fatalf("the hourly feed answered 304 %d times, want 1", notModified.Load())
	}
	check("after a 304")

	// Due feeds only: an hour and a half later, only the hourly feed is due.
	due, err := db.FindFeeds(context.Background(), vplanet.FeedFilter{Active: true, DueBy: start.Add(90 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, f := range due {
		urls = append(urls, strings.TrimPrefix(f.URL, srv.URL))
	}
	if got, want := strings.Join(urls, " "), "/hourly /undated"; got != want {
		t.Errorf("due in 90 minutes: got %q, want %q", got, want)
	}
}

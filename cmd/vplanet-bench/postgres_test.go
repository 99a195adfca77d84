package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"vplanet/internal/pgtest"
)

// TestPostgresSmall runs the PostgreSQL comparison end to end on a server
// of its own: real vplanet processes crawl 20 blogs into SQLite and into
// PostgreSQL, two crawls share an empty database, and two serve replicas
// build their indexes from it and find each crawl's new posts.
func TestPostgresSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vplanet and runs it for about 20 seconds; skipped with -short")
	}
	if _, err := loadCorpus(corpusDir); errors.Is(err, errNoCorpus) {
		t.Skipf("corpus not found at %s: %v", corpusDir, err)
	}
	srv := pgtest.Start(t)
	out := filepath.Join(t.TempDir(), "benchmark-postgres.md")
	var stderr bytes.Buffer
	args := []string{"-small", "-database", srv.AdminURL(), "-corpus", corpusDir, "-out", out, "-work", t.TempDir()}
	p, err := parseParams(args, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := measurePostgres(context.Background(), p, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	const feeds, posts = 20, 20 * 10
	if rep.posts != posts {
		t.Fatalf("community has %d posts, want %d", rep.posts, posts)
	}
	for name, run := range map[string]*backendRun{"sqlite": rep.sqlite, "postgresql": rep.pg} {
		if want := "20 feeds: 20 ok, 0 not modified, 0 failed; 200 new"; !strings.HasPrefix(run.crawlSummary, want) {
			t.Errorf("%s: first crawl printed %q, want it to start %q", name, run.crawlSummary, want)
		}
		if run.recrawl304 != feeds {
			t.Errorf("%s: re-crawl: %d feeds answered 304, want all %d", name, run.recrawl304, feeds)
		}
		if run.storeSize == 0 {
			t.Errorf("%s: store size not measured", name)
		}
		for i, r := range run.replicas {
			if r.caughtUp <= 0 || r.ready > r.caughtUp {
				t.Errorf("%s serve %d: ready after %s, caught up after %s; want both measured, ready first", name, i+1, r.ready, r.caughtUp)
			}
			if len(r.lat) != p.requests {
				t.Errorf("%s serve %d: %d single-client searches measured, want %d", name, i+1, len(r.lat), p.requests)
			}
			if len(r.fresh) != freshRounds {
				t.Errorf("%s serve %d: new posts found in %d rounds, want %d", name, i+1, len(r.fresh), freshRounds)
			}
			if r.mem.hwm < 10<<20 || r.indexSize == 0 {
				t.Errorf("%s serve %d: peak RSS %d bytes, index %d bytes; want both measured", name, i+1, r.mem.hwm, r.indexSize)
			}
		}
	}
	if got := len(rep.pg.replicas); got != 2 {
		t.Fatalf("%d PostgreSQL replicas measured, want 2", got)
	}
	if got := len(rep.pg.together); got != 2 {
		t.Fatalf("%d replicas started at once measured, want 2", got)
	}
	for i, r := range rep.pg.together {
		if r.caughtUp <= 0 || r.ready > r.caughtUp {
			t.Errorf("replica %d of those started at once: ready after %s, caught up after %s; want both measured, ready first", i+1, r.ready, r.caughtUp)
		}
	}
	// SQLite's serve is the oracle for the replicas: the same posts, the
	// same analysis, so the same totals for every query.
	want := rep.sqlite.replicas[0].hits
	if want[0] == 0 || want[1] == 0 {
		t.Errorf("SQLite's serve finds %v posts for the first queries, want some", want[:2])
	}
	for i, r := range rep.pg.replicas {
		if !slices.Equal(r.hits, want) {
			t.Errorf("replica %d found %v posts for the queries, SQLite's serve %v", i+1, r.hits, want)
		}
		if r.mirrorSize == 0 {
			t.Errorf("replica %d has no posts.db", i+1)
		}
	}
	if !rep.pg.sameHits {
		t.Error("the replicas found different totals, and the report says so")
	}
	// Two crawls at once: every feed fetched by exactly one of them, every
	// post stored by one.
	var split, stored int
	for _, s := range rep.pg.pair {
		split += s.feeds
		stored += s.newPost
	}
	if split != feeds || stored != posts || rep.pg.pairOnce != feeds || rep.pg.pairTwice != 0 {
		t.Errorf("two crawls: %d feeds and %d posts between them, feed servers counted %d fetched once and %d more often; want %d, %d, %d, 0",
			split, stored, rep.pg.pairOnce, rep.pg.pairTwice, feeds, posts, feeds)
	}
	if rep.pg.rpsOne <= 0 || rep.pg.rpsAll <= 0 || rep.sqlite.rpsOne <= 0 {
		t.Errorf("throughputs %.0f, %.0f, %.0f req/s; want all positive", rep.sqlite.rpsOne, rep.pg.rpsOne, rep.pg.rpsAll)
	}

	// The databases it made on the server are gone.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname IN ($1, $2)`, pgDatabase, pgPairDatabase).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of the benchmark's databases left on the server, want none", left)
	}

	md := rep.markdown()
	for _, want := range []string{"| First crawl, 20 feeds × 10 posts, 5ms latency, one process |", "the feed servers answered 20 of 20 feeds exactly once, 0 more than once",
		"| Every replica found the same number of posts for each of the 16 queries | — | yes |", "-small -database URL -replicas 2"} {
		if !strings.Contains(md, want) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
}

// TestPostgresParams checks how the PostgreSQL flags combine.
func TestPostgresParams(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		postgres bool
		out      string
		err      bool
	}{
		{"plain run", nil, false, "docs/benchmark.md", false},
		{"-postgres writes its own file", []string{"-postgres"}, true, "docs/benchmark-postgres.md", false},
		{"-database implies -postgres", []string{"-database", "postgres://u@h/db"}, true, "docs/benchmark-postgres.md", false},
		{"-out wins", []string{"-postgres", "-out", ""}, true, "", false},
		{"no replicas", []string{"-postgres", "-replicas", "0"}, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseParams(tt.args, io.Discard)
			if tt.err {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.postgres != tt.postgres || p.out != tt.out {
				t.Errorf("postgres %v, out %q; want %v, %q", p.postgres, p.out, tt.postgres, tt.out)
			}
		})
	}
}

// TestPublish checks that a published post reaches a crawler: the feed
// holds it and answers 200 to the validators it had, and reset takes it
// back.
func TestPublish(t *testing.T) {
	c := &corpus{
		ja: []string{"拡張クラスタの検証をしました。"}, en: []string{"We tested vSAN."},
		jaTitles: []string{"検証"}, enTitles: []string{"Tests"},
	}
	cm, err := newCommunity(c, 1, 5, 2, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	if got := englishFeeds(5); got != 2 {
		t.Fatalf("englishFeeds(5) = %d, want 2 (blogs 3 and 4)", got)
	}
	get := func(f *blogFeed, etag string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, f.url, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	old := map[*blogFeed]string{}
	for _, f := range cm.feeds {
		old[f] = f.etag
	}
	pb := &publisher{cm: cm, saved: map[*blogFeed]feedState{}}
	token := freshToken(0)
	pb.publish(0, token, 1)
	for i, f := range cm.feeds {
		code, body := get(f, old[f])
		changed := i == 3 // the first English blog
		if changed {
			if code != http.StatusOK || strings.Count(body, token) != 2 || strings.Count(body, "<entry>") != 3 || !strings.HasSuffix(body, "</entry>\n</feed>\n") {
				t.Errorf("blog %d after publish: %d, token %d times, %d entries; want 200 with one more entry holding it", i, code, strings.Count(body, token), strings.Count(body, "<entry>"))
			}
		} else if code != http.StatusNotModified {
			t.Errorf("blog %d, not published to: %d, want 304", i, code)
		}
	}
	pb.reset()
	for i, f := range cm.feeds {
		if code, _ := get(f, old[f]); code != http.StatusNotModified {
			t.Errorf("blog %d after reset: %d, want 304 to its first ETag", i, code)
		}
	}
}

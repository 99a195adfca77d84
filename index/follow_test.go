package index

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"vplanet"
)

// flakySource fails its first fails calls, as a store does while its
// database is away, then answers from posts.
type flakySource struct {
	sliceSource
	mu    sync.Mutex
	fails int
	calls int
}

func (s *flakySource) Changes(ctx context.Context, after int64, limit int) ([]*vplanet.Post, error) {
	s.mu.Lock()
	s.calls++
	failing := s.calls <= s.fails
	s.mu.Unlock()
	if failing {
		return nil, errors.New("store: database unreachable")
	}
	return s.sliceSource.Changes(ctx, after, limit)
}

// records keeps the log records a handler saw.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) count(level slog.Level, msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.recs {
		if rec.Level == level && rec.Message == msg {
			n++
		}
	}
	return n
}

// TestFollowLogsOutageOnce: a store away for many ticks is one error in
// the log, not one per tick, and its return is logged once.
func TestFollowLogsOutageOnce(t *testing.T) {
	logs := &records{}
	ix, err := Open(filepath.Join(t.TempDir(), "index"), Options{Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	const fails = 40
	src := &flakySource{fails: fails}
	src.put(post("back", "戻ってきた投稿", "本文"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ix.Follow(ctx, src, time.Millisecond, nil); close(done) }()
	for ix.Seq() != 1 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if src.calls <= fails {
		t.Fatalf("Follow tried %d times, want more than %d", src.calls, fails)
	}
	// 40 tries a millisecond apart are well within followLogEvery.
	if got := logs.count(slog.LevelError, "index: catch up"); got != 1 {
		t.Errorf("%d failed tries logged %d errors, want 1", fails, got)
	}
	if got := logs.count(slog.LevelInfo, "index: following the store again"); got != 1 {
		t.Errorf("recovery logged %d times, want 1", got)
	}
}

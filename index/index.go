// Package index keeps the Bleve full-text index of posts: its mapping, the
// analyzer that combines Japanese (package index/ja) and English, the query
// language, search with highlighting, and the follower that keeps the index
// caught up with the store. The index is derived data: everything in it can be rebuilt from the
// store at any time.
//
// # Query language
//
// Words separated by spaces must all match. A run without spaces that
// analyses into several words ("拡張クラスタ", "vSAN6.6") matches them
// adjacent and in order, and so does a "quoted phrase" across spaces (an
// unbalanced quote runs to the end). -word or -"a phrase" excludes; OR
// between two items matches either. Filters: blog:slug, lang:ja (lang:ja|en
// and blog:a,b mean either), after:2017-09-01 and before:2017-09-30
// (calendar days, inclusive, in the request's time zone; after:2017 and
// before:2017-09 work too); -after: and -before: turn them around. Any
// other word: is text. A word or run of words that spells a glossary term
// (glossary.txt) matches any of its spellings, and a post is scored by the
// best of them. A title match outranks any body match; among equal
// scores, newer posts come first.
// A query is refused with vplanet.ErrBadQuery when it is not UTF-8, longer
// than 2,000 bytes, has more than 64 words or 64 terms, or a filter is
// malformed.
package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	bolterrors "go.etcd.io/bbolt/errors"

	"vplanet"
)

// batchSize is the number of posts written to Bleve at once.
const batchSize = 500

// Options configures an Index.
type Options struct {
	Logger *slog.Logger
	// OpenTimeout bounds the wait for the index's file lock, held by
	// another process; 0 means one second.
	OpenTimeout time.Duration
	// GlossaryFile names an operator's glossary, read in addition to the
	// built-in one (same format as glossary.txt); "" means none.
	GlossaryFile string
	// InFlight is the number of batches handed to Bleve at once; 0 means
	// one. Bleve analyses a batch on several goroutines but builds its
	// segment on one: a second batch's analysis keeps the other cores busy
	// meanwhile, for about half again the memory. Under a tight memory
	// limit the collector takes back more than that gains.
	InFlight int
}

// Index is a Bleve index of posts that follows the store. It is safe for
// concurrent use: searches go on while posts are applied and while a
// rebuild runs.
type Index struct {
	dir   string
	opts  Options
	log   *slog.Logger
	an    *textAnalyzer
	gloss *glossary
	// cfg is the scorch settings of the index and of its rebuilds; Bleve
	// adds to the map it is given, so each gets a copy.
	cfg map[string]interface{}

	// writeMu serializes everything that writes: Apply, CatchUp, the swap
	// at the end of Rebuild. CatchUp holds it from reading Seq to
	// recording the new one, so that a swap can never slip in between.
	writeMu sync.Mutex

	// mu guards bi against the swap; searches hold it for reading.
	mu     sync.RWMutex
	bi     bleve.Index
	cols   *segmentCache // of bi's segments
	closed bool

	seq        atomic.Int64
	rebuilding atomic.Bool
	progress   atomic.Int64
}

// Open opens or creates the Bleve index in dir. A mapping-version mismatch
// recreates it empty (Seq 0) and logs that it will be rebuilt from the
// store. An index held by another process gives an error wrapping
// vplanet.ErrLocked after Options.OpenTimeout.
func Open(dir string, opts Options) (*Index, error) {
	return open(dir, opts, nil)
}

// open is Open with scorch settings of its own added to the index's (see
// segmentConfig), which tests use to keep segments apart.
func open(dir string, opts Options, extra map[string]interface{}) (*Index, error) {
	registerAnalyzer()
	registerGramAnalyzer()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.OpenTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	an, err := sharedAnalyzer()
	if err != nil {
		return nil, err
	}
	gloss, err := loadGlossary(an, opts.GlossaryFile)
	if err != nil {
		return nil, err
	}
	cfg := segmentConfig(timeout.String())
	maps.Copy(cfg, extra)
	ix := &Index{dir: dir, opts: opts, log: log, an: an, gloss: gloss, cfg: cfg}
	if err := ix.repair(); err != nil {
		return nil, err
	}
	bi, seq, err := ix.openDir(dir)
	if err != nil {
		return nil, err
	}
	ix.bi, ix.cols = bi, newSegmentCache()
	ix.seq.Store(seq)
	return ix, nil
}

// repair finishes or undoes a Rebuild that a crash interrupted. The swap
// renames dir to dir.old and dir.new to dir: whichever step was reached,
// what is left is made whole again. A half-built dir.new beside a live dir
// is discarded; a dir.new without a live dir is promoted, since any index
// that records its Seq is correct and catches up from there.
func (ix *Index) repair() error {
	newDir, oldDir := ix.dir+".new", ix.dir+".old"
	live, fresh, old := exists(ix.dir), exists(newDir), exists(oldDir)
	switch {
	case !live && fresh:
		ix.log.Warn("index: promoting the rebuilt index left by an interrupted swap", "dir", newDir)
		if err := os.Rename(newDir, ix.dir); err != nil {
			return fmt.Errorf("open index: %w", err)
		}
	case !live && old:
		ix.log.Warn("index: restoring the index left by an interrupted swap", "dir", oldDir)
		if err := os.Rename(oldDir, ix.dir); err != nil {
			return fmt.Errorf("open index: %w", err)
		}
		old = false
	case live && fresh:
		ix.log.Warn("index: removing an unfinished rebuild", "dir", newDir)
		if err := os.RemoveAll(newDir); err != nil {
			return fmt.Errorf("open index: %w", err)
		}
	}
	if old {
		if err := os.RemoveAll(oldDir); err != nil {
			return fmt.Errorf("open index: %w", err)
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// openDir opens the index in dir, creating it (or recreating it when its
// mapping version differs), and returns it with its recorded Seq.
func (ix *Index) openDir(dir string) (bleve.Index, int64, error) {
	if exists(dir) {
		bi, err := bleve.OpenUsing(dir, maps.Clone(ix.cfg))
		if errors.Is(err, bleve.ErrorIndexMetaMissing) {
			// A crash while the index was being created: start again.
			ix.log.Warn("index: recreating an index that was never finished", "dir", dir)
			if err := os.RemoveAll(dir); err != nil {
				return nil, 0, fmt.Errorf("remove index %s: %w", dir, err)
			}
			return ix.openDir(dir)
		}
		if err != nil {
			return nil, 0, openError(dir, err)
		}
		v, err := bi.GetInternal(keyVersion)
		if err != nil {
			bi.Close()
			return nil, 0, fmt.Errorf("open index %s: %w", dir, err)
		}
		if string(v) == strconv.Itoa(MappingVersion) {
			seq, err := readSeq(bi)
			if err != nil {
				bi.Close()
				return nil, 0, fmt.Errorf("open index %s: %w", dir, err)
			}
			return bi, seq, nil
		}
		ix.log.Warn("index: mapping version changed; recreating the index empty, it will be rebuilt from the store",
			"dir", dir, "found", string(v), "want", MappingVersion)
		if err := bi.Close(); err != nil {
			return nil, 0, fmt.Errorf("close index %s: %w", dir, err)
		}
		if err := os.RemoveAll(dir); err != nil {
			return nil, 0, fmt.Errorf("remove index %s: %w", dir, err)
		}
	}
	bi, err := createIndex(dir, newMapping(), maps.Clone(ix.cfg))
	if err != nil {
		return nil, 0, openError(dir, err)
	}
	b := bi.NewBatch()
	b.SetInternal(keyVersion, []byte(strconv.Itoa(MappingVersion)))
	b.SetInternal(keySeq, []byte("0"))
	if err := bi.Batch(b); err != nil {
		bi.Close()
		return nil, 0, fmt.Errorf("create index %s: %w", dir, err)
	}
	return bi, 0, nil
}

func openError(dir string, err error) error {
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("open index %s: held by another process (is vplanet serve running?): %w", dir, vplanet.ErrLocked)
	}
	return fmt.Errorf("open index %s: %w", dir, err)
}

func readSeq(bi bleve.Index) (int64, error) {
	v, err := bi.GetInternal(keySeq)
	if err != nil || len(v) == 0 {
		return 0, err
	}
	seq, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read seq %q: %w", v, err)
	}
	return seq, nil
}

// Close flushes and closes the index.
func (ix *Index) Close() error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	if err := ix.bi.Close(); err != nil {
		return fmt.Errorf("close index %s: %w", ix.dir, err)
	}
	return nil
}

var errClosed = errors.New("index: closed")

// Apply indexes visible posts and deletes invisible ones, in batches, and
// records the highest Seq applied. A Seq is recorded only in a batch that
// holds, or follows, every post at or below it, so a crash never skips a
// post.
func (ix *Index) Apply(ctx context.Context, posts []*vplanet.Post) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	return ix.apply(ctx, posts)
}

func (ix *Index) apply(ctx context.Context, posts []*vplanet.Post) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return errClosed
	}
	if len(posts) == 0 {
		return nil
	}
	var batches [][]*vplanet.Post
	for len(posts) > 0 {
		n := min(len(posts), batchSize)
		batches = append(batches, posts[:n])
		posts = posts[n:]
	}
	window := max(ix.opts.InFlight, 1)
	if window > 1 && repeatsID(batches) {
		// Batches in flight together may land in either order; a post
		// given twice must end as its last version.
		window = 1
	}
	w := newSeqWatermark(ix.seq.Load(), batches)

	// A batch records the highest Seq of the batches that had returned
	// when it was made, or its own when every earlier one had: a Seq is
	// never written beside posts still on their way in, so whatever
	// snapshot of the index reaches the disk holds every post at or below
	// the Seq it records.
	sem := make(chan struct{}, window)
	var wg sync.WaitGroup
	recordsLast := false
	var err error
	for i, batch := range batches {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		seq, all, failed := w.state(i)
		if failed != nil {
			<-sem
			break
		}
		if all {
			seq = w.top[i]
		}
		recordsLast = all
		b, berr := ix.newBatch(batch, seq)
		if berr != nil {
			<-sem
			err = berr
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var err error
			if err = ix.bi.Batch(b); err != nil {
				err = fmt.Errorf("index batch: %w", err)
			}
			w.done(i, err)
		}()
	}
	wg.Wait()
	seq, _, failed := w.state(len(batches))
	ix.seq.Store(seq)
	if err == nil {
		err = failed
	}
	if err != nil || recordsLast {
		return err
	}
	// The last batch went in beside others: record the Seq they reached
	// together, now that all of them have returned.
	b := ix.bi.NewBatch()
	b.SetInternal(keySeq, []byte(strconv.FormatInt(seq, 10)))
	if err := ix.bi.Batch(b); err != nil {
		return fmt.Errorf("index batch: %w", err)
	}
	return nil
}

// newBatch makes the Bleve batch that indexes the visible posts, deletes the
// invisible ones and records seq.
func (ix *Index) newBatch(posts []*vplanet.Post, seq int64) (*bleve.Batch, error) {
	b := ix.bi.NewBatch()
	for _, p := range posts {
		if p.Visible {
			if err := b.IndexAdvanced(newPostDocument(ix.an, p)); err != nil {
				return nil, fmt.Errorf("index post %s: %w", p.ID, err)
			}
		} else {
			b.Delete(p.ID)
		}
	}
	b.SetInternal(keySeq, []byte(strconv.FormatInt(seq, 10)))
	return b, nil
}

// repeatsID reports whether a post ID occurs more than once in batches.
func repeatsID(batches [][]*vplanet.Post) bool {
	if len(batches) < 2 {
		return false
	}
	seen := make(map[string]bool, len(batches)*batchSize)
	for _, batch := range batches {
		for _, p := range batch {
			if seen[p.ID] {
				return true
			}
			seen[p.ID] = true
		}
	}
	return false
}

// seqWatermark follows which of an apply's batches have returned from
// Bleve, and so the highest Seq that every returned batch covers.
type seqWatermark struct {
	mu       sync.Mutex
	seq      int64   // the highest Seq of the batches returned in a row from the first
	top      []int64 // top[i] is the highest Seq of batches 0 to i and before them
	returned []bool
	next     int // the first batch not yet returned
	err      error
}

func newSeqWatermark(seq int64, batches [][]*vplanet.Post) *seqWatermark {
	w := &seqWatermark{seq: seq, top: make([]int64, len(batches)), returned: make([]bool, len(batches))}
	for i, batch := range batches {
		for _, p := range batch {
			seq = max(seq, p.Seq)
		}
		w.top[i] = seq
	}
	return w
}

// done marks batch i returned, with err if it failed.
func (w *seqWatermark) done(i int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.returned[i] = true
	for w.next < len(w.returned) && w.returned[w.next] {
		w.seq = w.top[w.next]
		w.next++
	}
}

// state returns the Seq every returned batch covers, whether every batch
// before batch i has returned, and the first error.
func (w *seqWatermark) state(i int) (int64, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq, w.next >= i, w.err
}

// Seq returns the highest store Seq the index has applied.
func (ix *Index) Seq() int64 { return ix.seq.Load() }

// DocCount returns the number of posts in the index.
func (ix *Index) DocCount() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, errClosed
	}
	return ix.bi.DocCount()
}

// ChangeSource lists the posts changed after a Seq, in Seq order; the store
// is one.
type ChangeSource interface {
	Changes(ctx context.Context, after int64, limit int) ([]*vplanet.Post, error)
}

// CatchUp applies every change after ix.Seq() until the source has none and
// returns how many posts it applied; progress, if not nil, is called after
// each read of changes with the running total. The next changes are read
// while the last ones are applied.
func (ix *Index) CatchUp(ctx context.Context, src ChangeSource, progress func(applied int)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := 0
	var ahead *changes
	defer func() {
		if ahead != nil {
			ahead.wait()
		}
	}()
	for {
		n, next, err := ix.catchUpOnce(ctx, src, ahead)
		ahead = next
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
		if progress != nil {
			progress(total)
		}
	}
}

// changesLimit is the number of changes CatchUp reads at once: enough for
// several batches in flight together.
const changesLimit = 4 * batchSize

// changes is a read of changes from a source, made in the background.
type changes struct {
	after int64
	done  chan struct{}
	posts []*vplanet.Post
	err   error
}

func readAhead(ctx context.Context, src ChangeSource, after int64) *changes {
	c := &changes{after: after, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.posts, c.err = src.Changes(ctx, after, changesLimit)
	}()
	return c
}

func (c *changes) wait() ([]*vplanet.Post, error) {
	<-c.done
	return c.posts, c.err
}

// catchUpOnce applies one read of changes, holding writeMu from reading Seq
// to recording the new one. It takes the changes read ahead if they follow
// the Seq it finds, and returns the read it starts of the changes after
// these.
func (ix *Index) catchUpOnce(ctx context.Context, src ChangeSource, ahead *changes) (int, *changes, error) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	after := ix.seq.Load()
	var posts []*vplanet.Post
	var err error
	if ahead != nil {
		posts, err = ahead.wait()
		if ahead.after != after {
			// Another writer moved Seq since the read began.
			posts, err = nil, nil
			ahead = nil
		}
	}
	if ahead == nil {
		posts, err = src.Changes(ctx, after, changesLimit)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("catch up after seq %d: %w", after, err)
	}
	if len(posts) == 0 {
		return 0, nil, nil
	}
	var next *changes
	if last := posts[len(posts)-1].Seq; len(posts) == changesLimit && last > after {
		next = readAhead(ctx, src, last)
	}
	if err := ix.apply(ctx, posts); err != nil {
		return 0, next, fmt.Errorf("catch up after seq %d: %w", after, err)
	}
	if ix.seq.Load() == after {
		// A source that returns posts without advancing would loop forever.
		return 0, next, fmt.Errorf("catch up after seq %d: source returned %d posts without a higher seq", after, len(posts))
	}
	return len(posts), next, nil
}

// followLogEvery is how often Follow repeats a failure that lasts: a
// database away for an hour would otherwise write one error a second.
const followLogEvery = time.Minute

// Follow calls CatchUp every interval, and whenever poke receives, until ctx
// ends; errors are retried at the next tick. A failure is logged when it
// begins and then once every followLogEvery while it lasts, with how many
// tries failed; the recovery is logged too.
func (ix *Index) Follow(ctx context.Context, src ChangeSource, interval time.Duration, poke <-chan struct{}) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var failed int // tries failed in a row
	var logged time.Time
	for {
		n, err := ix.CatchUp(ctx, src, nil)
		switch {
		case err != nil && ctx.Err() == nil:
			failed++
			if failed == 1 || time.Since(logged) >= followLogEvery {
				ix.log.Error("index: catch up", "err", err, "failed_tries", failed)
				logged = time.Now()
			}
		case err == nil && failed > 0:
			ix.log.Info("index: following the store again", "failed_tries", failed, "posts", n, "seq", ix.Seq())
			failed = 0
		case n > 0:
			ix.log.Debug("index: caught up", "posts", n, "seq", ix.Seq())
		}
		if err := ix.warmColumns(); err != nil && ctx.Err() == nil {
			ix.log.Warn("index: read columns", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-poke:
		}
	}
}

// Rebuild builds a fresh index from src beside the live one (dir+".new")
// and swaps it in; searches keep answering from the old index until the
// swap. Only one Rebuild runs at a time. A crash at any point is repaired
// by the next Open.
func (ix *Index) Rebuild(ctx context.Context, src ChangeSource, progress func(applied int)) error {
	if !ix.rebuilding.CompareAndSwap(false, true) {
		return errors.New("rebuild index: a rebuild is already running")
	}
	defer ix.rebuilding.Store(false)
	ix.progress.Store(0)

	newDir, oldDir := ix.dir+".new", ix.dir+".old"
	if err := os.RemoveAll(newDir); err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	nx := &Index{dir: newDir, opts: ix.opts, log: ix.log, an: ix.an, gloss: ix.gloss, cfg: ix.cfg}
	bi, _, err := nx.openDir(newDir)
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	nx.bi, nx.cols = bi, newSegmentCache()
	fail := func(err error) error {
		nx.Close()
		os.RemoveAll(newDir)
		return fmt.Errorf("rebuild index: %w", err)
	}
	report := func(n int) {
		ix.progress.Store(int64(n))
		if progress != nil {
			progress(n)
		}
	}
	n, err := nx.CatchUp(ctx, src, report)
	if err != nil {
		return fail(err)
	}

	// The last changes and the swap happen with writers held off, so that
	// nothing applied to the old index is lost; searches wait only for the
	// renames and the reopening.
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	m, err := nx.CatchUp(ctx, src, nil)
	if err != nil {
		return fail(err)
	}
	report(n + m)
	if err := nx.Close(); err != nil {
		return fail(err)
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		os.RemoveAll(newDir)
		return fmt.Errorf("rebuild index: %w", errClosed)
	}
	if err := ix.bi.Close(); err != nil {
		return fmt.Errorf("rebuild index: close old index: %w", err)
	}
	swapErr := os.Rename(ix.dir, oldDir)
	if swapErr == nil {
		swapErr = os.Rename(newDir, ix.dir)
	}
	if swapErr != nil {
		ix.repair()
	}
	bi, seq, err := ix.openDir(ix.dir)
	if err != nil {
		ix.closed = true
		return fmt.Errorf("rebuild index: reopen: %w", err)
	}
	ix.bi, ix.cols = bi, newSegmentCache()
	ix.seq.Store(seq)
	if swapErr != nil {
		return fmt.Errorf("rebuild index: swap: %w", swapErr)
	}
	if err := os.RemoveAll(oldDir); err != nil {
		ix.log.Warn("index: remove old index", "dir", oldDir, "err", err)
	}
	ix.log.Info("index: rebuilt", "posts", n+m, "seq", seq)
	return nil
}

// Rebuilding reports whether a Rebuild runs, and how many posts it has
// applied so far.
func (ix *Index) Rebuilding() (bool, int) {
	return ix.rebuilding.Load(), int(ix.progress.Load())
}

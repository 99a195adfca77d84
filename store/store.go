// Package store is vplanet's source of truth: the feeds listed in feeds.txt,
// what the crawler learned about them, and their posts.
//
// It has two backends behind one API. The default is an embedded SQLite
// database in WAL mode (modernc.org/sqlite, pure Go, so vplanet stays one
// static binary). WAL lets a one-shot `vplanet crawl` write while `vplanet
// serve` reads, which an exclusive file lock such as Bleve's or bbolt's would
// not. Every write runs in an immediate transaction, so writers from several
// processes take turns instead of failing, and the change sequence they hand
// out is committed in order: a reader that follows "seq > last seen" never
// skips a change.
//
// The other is PostgreSQL (jackc/pgx), for deployments that outgrow one
// machine: several search replicas and crawlers on one database. There,
// writers take the same turns under a transaction-level advisory lock, so
// the change sequence commits in order there too, and each commit that
// changed posts wakes the followers with NOTIFY. The SQL is written once, with
// ? placeholders, and rewritten to $n for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"modernc.org/sqlite" // also the database/sql driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"vplanet"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is the store. It is safe for concurrent use, and several processes may
// open the same file or database at once.
type DB struct {
	db   *sql.DB
	path string // the SQLite file, or the PostgreSQL URL without its password
	now  func() time.Time

	// pg is the PostgreSQL connection's settings, nil on SQLite.
	pg      *pgx.ConnConfig
	rebound sync.Map // SQL with ? placeholders → with $n, for PostgreSQL

	// lease is how long a crawl holds the feeds it claims.
	lease time.Duration

	// mirror is a replica's local copy of the posts, read when PostgreSQL
	// cannot be reached (see OpenMirror); nil on SQLite.
	mirror *DB

	// writing holds the turn of this process's write transactions. SQLite
	// lets one writer in at a time anyway, but writers waiting in its busy
	// handler poll instead of queueing: with the crawler's many workers
	// saving at once, one of them could wait past busy_timeout and fail
	// (seen at 1,000 feeds of 100 posts). Queued here, they wait their
	// turn, and busy_timeout is left to cover other processes.
	writing chan struct{}

	// The visible posts at a change sequence: counting them takes a scan
	// (9 ms at 100,000 posts), and health checks and metrics ask often.
	countMu  sync.Mutex
	countSeq int64
	count    int

	// stmts are prepared statements by their SQL. Every search fetches its
	// page of posts with one of a few queries, and preparing it anew cost
	// about a quarter of the fetch.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// DefaultLease is how long a crawl holds a claimed feed unless SetLease says
// otherwise: longer than a feed takes to fetch with its pages (a 30 s
// timeout per request), short enough that the feeds of a crawl killed
// while holding them are not long overdue.
const DefaultLease = 5 * time.Minute

// Open opens the store named by dsn, creating it and applying migrations as
// needed. A postgres:// or postgresql:// URL opens a PostgreSQL database;
// anything else is the path of a SQLite file. One entry point for both
// keeps every command the same: the backend is a matter of the address, as
// a DATABASE_URL is for Miniflux or Gitea.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := mkdirAll(dir); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	// busy_timeout makes a writer wait for another process's transaction
	// instead of failing; synchronous=NORMAL in WAL mode never corrupts the
	// database and keeps every committed transaction across a process crash
	// (kill -9); only a power loss may roll back the last few.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_txlock=immediate" +
		"&_pragma=busy_timeout(30000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)"
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{db: sqlDB, path: path, now: time.Now, writing: make(chan struct{}, 1), lease: DefaultLease}
	if err := createPrivate(path); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, db.writeError("open", err)
	}
	return db, nil
}

// Close closes the store.
func (db *DB) Close() error {
	if db.mirror != nil {
		db.mirror.Close()
	}
	db.stmtMu.Lock()
	for _, st := range db.stmts {
		st.Close()
	}
	db.stmts = nil
	db.stmtMu.Unlock()
	return db.db.Close()
}

// Postgres reports whether the store is in PostgreSQL.
func (db *DB) Postgres() bool { return db.pg != nil }

// String names the store for messages: its file, or its database's URL
// without the password.
func (db *DB) String() string { return db.path }

// SetLease sets how long a crawl holds the feeds it claims (DefaultLease
// until set).
func (db *DB) SetLease(d time.Duration) {
	if d > 0 {
		db.lease = d
	}
}

// bind returns query with its ? placeholders as the backend wants them.
func (db *DB) bind(query string) string {
	if db.pg == nil {
		return query
	}
	if q, ok := db.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	db.rebound.Store(query, b.String())
	return b.String()
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.db.QueryContext(ctx, db.bind(query), args...)
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.db.QueryRowContext(ctx, db.bind(query), args...)
}

// reader lets findFeeds read outside a transaction, with ? placeholders.
func (db *DB) reader() querier { return dbReader{db} }

type dbReader struct{ db *DB }

func (r dbReader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.db.query(ctx, query, args...)
}

// wtx is a write transaction. Its methods take SQL with ? placeholders.
type wtx struct {
	tx      *sql.Tx
	db      *DB
	changed bool // a change sequence number was taken
}

func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.db.bind(query), args...)
}

func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.db.bind(query), args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.db.bind(query), args...)
}

// prepared returns query prepared, preparing it on first use.
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	query = db.bind(query)
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if st, ok := db.stmts[query]; ok {
		return st, nil
	}
	st, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if db.stmts == nil {
		db.stmts = map[string]*sql.Stmt{}
	}
	db.stmts[query] = st
	return st, nil
}

// migrationNames returns the embedded migrations of a backend ("sqlite",
// "postgres") in the order they apply.
func migrationNames(backend string) []string {
	names, err := fs.Glob(migrations, "migrations/"+backend+"/*.sql")
	if err != nil {
		panic(err) // the pattern is a constant
	}
	sort.Strings(names)
	return names
}

// SchemaVersion is the version of the schema this vplanet creates and
// expects: the number of its migrations, the same on both backends.
func SchemaVersion() int { return len(migrationNames("sqlite")) }

// SchemaVersion returns the version of the schema the store holds.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	var err error
	if db.pg != nil {
		err = db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	} else {
		err = db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	}
	if err != nil {
		return 0, fmt.Errorf("store %s: schema version: %w", db.path, err)
	}
	return v, nil
}

// migrate applies the embedded migrations that the database has not seen,
// each in its own transaction, recording progress in PRAGMA user_version.
func (db *DB) migrate(ctx context.Context) error {
	names := migrationNames("sqlite")
	version, err := db.firstUserVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(names) {
		return fmt.Errorf("schema version %d is newer than this vplanet knows (%d): upgrade vplanet", version, len(names))
	}
	for i := version; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		err = db.inTx(ctx, func(tx *wtx) error {
			// user_version is read again inside the write transaction, so
			// two processes starting at once apply each migration once.
			var v int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
				return err
			}
			if v > i {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", names[i], err)
			}
			_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(i+1))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// firstUserVersion reads PRAGMA user_version on the store's first
// connection. Processes that open a new store at once (serve and a crawl
// from cron on a fresh --data) race to switch it to WAL, and SQLite answers
// the losers SQLITE_BUSY at once, without its busy handler, so that read
// is tried again for as long as busy_timeout would have waited.
func (db *DB) firstUserVersion(ctx context.Context) (int, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var v int
		err := db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// inTx runs fn in a write transaction, committing when it returns nil.
//
// Write transactions take turns, in this process (writing) and across
// processes: SQLite lets one writer in at a time; on PostgreSQL each takes
// a transaction-level advisory lock first. That is what keeps the change
// feed whole: a transaction takes its sequence numbers and commits before
// the next one can take any, so no number ever becomes visible after a
// higher one, and a follower reading "seq > last seen" never skips one. (A
// SEQUENCE would hand out numbers that commit out of order.) Taking the
// lock first, before any row, also means writers never deadlock on each
// other's rows. A crawl's write is a few milliseconds; fetching, the slow
// part, runs outside.
func (db *DB) inTx(ctx context.Context, fn func(tx *wtx) error) error {
	select {
	case db.writing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-db.writing }()
	sqlTx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &wtx{tx: sqlTx, db: db}
	if db.pg != nil {
		if _, err := sqlTx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLockKey); err != nil {
			sqlTx.Rollback()
			return fmt.Errorf("take the write turn: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if db.pg != nil && tx.changed {
		// Delivered at commit, to every follower listening.
		if _, err := sqlTx.ExecContext(ctx, `SELECT pg_notify($1, '')`, changesChannel); err != nil {
			sqlTx.Rollback()
			return fmt.Errorf("notify followers: %w", err)
		}
	}
	return sqlTx.Commit()
}

// SyncFeeds makes the store's feed list match feeds.txt. New lines are added;
// a listed feed that had been removed comes back, and its posts return to
// search; a feed no longer listed is marked removed and its posts leave
// search (they stay in the store). A line whose name or language changed
// clears a Gone status, so the operator can ask for a retry.
func (db *DB) SyncFeeds(ctx context.Context, srcs []vplanet.FeedSource) (added, removed int, err error) {
	err = db.inTx(ctx, func(tx *wtx) error {
		added, removed = 0, 0
		existing, err := findFeeds(ctx, tx, vplanet.FeedFilter{})
		if err != nil {
			return err
		}
		byURL := make(map[string]*vplanet.Feed, len(existing))
		slugs := make(map[string]bool, len(existing))
		for _, f := range existing {
			byURL[f.URL] = f
			slugs[f.Slug] = true
		}
		listed := make(map[string]bool, len(srcs))
		now := db.now().UTC()
		for _, src := range srcs {
			if listed[src.URL] {
				continue // listed twice: one feed
			}
			listed[src.URL] = true
			f, ok := byURL[src.URL]
			if !ok {
				slug := uniqueSlug(Slug(src.URL), slugs)
				slugs[slug] = true
				_, err := tx.ExecContext(ctx,
					`INSERT INTO feeds (slug, url, name, lang, status, created) VALUES (?, ?, ?, ?, ?, ?)`,
					slug, src.URL, src.Name, src.Lang, vplanet.StatusNew, millis(now))
				if err != nil {
					return fmt.Errorf("add feed %s: %w", src.URL, err)
				}
				added++
				continue
			}
			status := f.Status
			changed := f.Name != src.Name || f.Lang != src.Lang
			switch {
			case status == vplanet.StatusRemoved:
				status = vplanet.StatusNew
			case status == vplanet.StatusGone && changed:
				status = vplanet.StatusNew
			}
			if !changed && status == f.Status {
				continue
			}
			_, err := tx.ExecContext(ctx,
				`UPDATE feeds SET name = ?, lang = ?, status = ?, next_attempt = CASE WHEN ? THEN 0 ELSE next_attempt END WHERE id = ?`,
				src.Name, src.Lang, status, status != f.Status, f.ID)
			if err != nil {
				return fmt.Errorf("update feed %s: %w", src.URL, err)
			}
			// The blog's name is indexed with its posts, and a returning
			// feed's posts become visible again: either way they change.
			if err := bumpFeedPosts(ctx, tx, f.ID); err != nil {
				return err
			}
		}
		for _, f := range existing {
			if listed[f.URL] || f.Status == vplanet.StatusRemoved {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE feeds SET status = ? WHERE id = ?`, vplanet.StatusRemoved, f.ID); err != nil {
				return fmt.Errorf("remove feed %s: %w", f.URL, err)
			}
			if err := bumpFeedPosts(ctx, tx, f.ID); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return 0, 0, db.writeError("sync feeds", err)
	}
	return added, removed, nil
}

// bumpFeedPosts gives every post of a feed a new sequence number, so the
// index picks up a change in the feed's visibility or name.
func bumpFeedPosts(ctx context.Context, tx *wtx, feedID int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM posts WHERE feed_id = ? ORDER BY seq`, feedID)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	seq, err := reserveSeq(ctx, tx, len(ids))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET seq = ? WHERE id = ?`, seq, id); err != nil {
			return err
		}
		seq++
	}
	return nil
}

// reserveSeq takes n numbers from the change sequence and returns the first.
func reserveSeq(ctx context.Context, tx *wtx, n int) (int64, error) {
	var last int64
	err := tx.QueryRowContext(ctx,
		`UPDATE counters SET value = value + ? WHERE name = 'seq' RETURNING value`, n).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reserve sequence: %w", err)
	}
	tx.changed = true
	return last - int64(n) + 1, nil
}

// Slug derives a short, readable identifier for a feed from its URL: the host
// without "www.", then the path's words joined by dashes
// ("https://blogs.vmware.com/vsphere/" → "blogs.vmware.com-vsphere").
func Slug(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "feed"
	}
	var b strings.Builder
	b.WriteString(strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."))
	for _, part := range strings.FieldsFunc(strings.ToLower(u.Path), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_')
	}) {
		switch part {
		case "feed", "feeds", "posts", "default", "rss", "atom", "index.xml", "feed.xml", "rss.xml", "atom.xml", "index.rdf", "rss2":
			continue // the blog, not its feed, names the slug
		}
		b.WriteByte('-')
		b.WriteString(part)
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:60]
	}
	return strings.Trim(s, "-.")
}

func uniqueSlug(base string, taken map[string]bool) string {
	if base == "" {
		base = "feed"
	}
	if !taken[base] {
		return base
	}
	for i := 2; ; i++ {
		s := base + "-" + strconv.Itoa(i)
		if !taken[s] {
			return s
		}
	}
}

const feedColumns = `f.id, f.slug, f.url, f.name, f.lang, f.feed_url, f.title, f.site_url, f.status,
	f.etag, f.last_modified, f.last_success, f.last_attempt, f.next_attempt, f.last_error,
	f.error_count, f.redirect, f.dropped, f.favicon_checked,
	(SELECT COUNT(*) FROM posts p WHERE p.feed_id = f.id AND p.merged_into = ''),
	EXISTS (SELECT 1 FROM favicons i WHERE i.feed_id = f.id)`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// FindFeeds returns the feeds that match f, ordered by ID, with PostCount
// filled.
func (db *DB) FindFeeds(ctx context.Context, f vplanet.FeedFilter) ([]*vplanet.Feed, error) {
	feeds, err := findFeeds(ctx, db.reader(), f)
	if f.DueBy.IsZero() && db.fallback(ctx, err) {
		// The lists that pages show; what is due is for crawls, which
		// need the store itself.
		if copied, merr := db.mirror.FindFeeds(ctx, f); merr == nil {
			return copied, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: find feeds: %w", db.mark(ctx, err))
	}
	return feeds, nil
}

func findFeeds(ctx context.Context, q querier, f vplanet.FeedFilter) ([]*vplanet.Feed, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Active || !f.DueBy.IsZero() {
		where = append(where, "f.status <> ?")
		args = append(args, vplanet.StatusRemoved)
	}
	if !f.DueBy.IsZero() {
		where = append(where, "f.status <> ?", "f.next_attempt <= ?")
		args = append(args, vplanet.StatusGone, millis(f.DueBy))
	}
	rows, err := q.QueryContext(ctx,
		`SELECT `+feedColumns+` FROM feeds f WHERE `+strings.Join(where, " AND ")+` ORDER BY f.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var feeds []*vplanet.Feed
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, err
		}
		feeds = append(feeds, f)
	}
	return feeds, rows.Err()
}

// FindFeed returns the feed with this slug, or an error wrapping
// vplanet.ErrNotFound.
func (db *DB) FindFeed(ctx context.Context, slug string) (*vplanet.Feed, error) {
	rows, err := db.query(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE f.slug = ?`, slug)
	if err != nil {
		return nil, fmt.Errorf("store: find feed %q: %w", slug, db.mark(ctx, err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: find feed %q: %w", slug, err)
		}
		return nil, fmt.Errorf("feed %q: %w", slug, vplanet.ErrNotFound)
	}
	f, err := scanFeed(rows)
	if err != nil {
		return nil, fmt.Errorf("store: find feed %q: %w", slug, err)
	}
	return f, nil
}

func scanFeed(rows *sql.Rows) (*vplanet.Feed, error) {
	var f vplanet.Feed
	var success, attempt, next, iconChecked int64
	err := rows.Scan(&f.ID, &f.Slug, &f.URL, &f.Name, &f.Lang, &f.FeedURL, &f.Title, &f.SiteURL, &f.Status,
		&f.ETag, &f.LastModified, &success, &attempt, &next, &f.LastError, &f.ErrorCount, &f.Redirect,
		&f.Dropped, &iconChecked, &f.PostCount, &f.HasFavicon)
	if err != nil {
		return nil, err
	}
	f.LastSuccess, f.LastAttempt, f.NextAttempt = fromMillis(success), fromMillis(attempt), fromMillis(next)
	f.FaviconChecked = fromMillis(iconChecked)
	return &f, nil
}

// ClaimFeeds claims, of the feeds with these IDs, those a crawl run that
// began at start may fetch: active, not gone, not attempted since start,
// not held by another crawl, and due by start unless all. Attempts are
// kept to the millisecond, so one in start's own millisecond counts as
// before it: a run that follows another within a millisecond must not
// pass over the feeds the first one just fetched, while the price the
// other way, a feed fetched twice when another process fetched it in the
// very millisecond this run began, is one extra conditional GET. It returns them
// in the order of ids. A claimed feed is held for the lease (SetLease) or
// until SaveFetch saves its outcome, whichever comes first, so a crawl
// killed while holding feeds delays them by at most one lease. Crawls that
// claim at once get different feeds: on PostgreSQL a row another claim is
// taking is skipped (FOR UPDATE SKIP LOCKED), not waited for. A crawl
// claims a few feeds at a time, in the order it would fetch them, so its
// work spreads over every process crawling and its hosts stay interleaved.
func (db *DB) ClaimFeeds(ctx context.Context, start time.Time, all bool, ids []int64) ([]*vplanet.Feed, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var feeds []*vplanet.Feed
	err := db.claimTx(ctx, func(tx *wtx) error {
		feeds = feeds[:0]
		now := db.now().UTC()
		args := []any{millis(now.Add(db.lease))}
		for _, id := range ids {
			args = append(args, id)
		}
		where := `id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)
			AND status <> ? AND status <> ? AND last_attempt <= ? AND claimed_until <= ?`
		args = append(args, vplanet.StatusRemoved, vplanet.StatusGone, millis(start), millis(now))
		if !all {
			where += ` AND next_attempt <= ?`
			args = append(args, millis(start))
		}
		skip := ""
		if db.pg != nil {
			skip = ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, `UPDATE feeds SET claimed_until = ? WHERE id IN (
			SELECT id FROM feeds WHERE `+where+skip+`) RETURNING id`, args...)
		if err != nil {
			return err
		}
		var claimed []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			claimed = append(claimed, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(claimed) == 0 {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+feedColumns+` FROM feeds f WHERE f.id IN (?`+
			strings.Repeat(", ?", len(claimed)-1)+`)`, claimed...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanFeed(rows)
			if err != nil {
				return err
			}
			feeds = append(feeds, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: claim feeds: %w", db.path, db.mark(ctx, err))
	}
	order := make(map[int64]int, len(ids))
	for i, id := range ids {
		order[id] = i
	}
	slices.SortFunc(feeds, func(a, b *vplanet.Feed) int { return order[a.ID] - order[b.ID] })
	return feeds, nil
}

// SharedCrawls reports whether crawls from several processes may run at
// once, and so must claim feeds (ClaimFeeds): on PostgreSQL. On SQLite,
// crawls take turns under the crawl lock, and claiming would only queue
// each claim behind the crawl's own writes: a re-crawl of 300 unchanged
// feeds took 0.86 s claiming and 0.30 s without (BenchmarkCrawl/recrawl304,
// same run, 2 busy cores).
func (db *DB) SharedCrawls() bool { return db.pg != nil }

// SaveFetch stores one fetch's outcome atomically: the feed's crawl state and
// its posts, so a crash never leaves a remembered ETag without the posts that
// came with it. Posts are upserted by ID: a new ID is created; an existing one
// whose Hash differs is updated in place, keeping FirstSeen and the feed that
// first brought it (unless that feed has left feeds.txt); an unchanged one
// costs nothing. Within a feed a post is its GUID: a post whose ID (its
// link) is new but whose GUID the feed already gave another post updates
// that post, which keeps its ID, and the new ID becomes an alias of it
// (FindPosts answers it with the post; the change sequence carries it,
// invisible, so an index drops it). A post's ID may so change during the
// call. posts may be nil (a 304, an error). The feed's Dropped is saved;
// its FaviconChecked is not (see UpdateFavicon).
func (db *DB) SaveFetch(ctx context.Context, feed *vplanet.Feed, posts []*vplanet.Post) (created, updated int, err error) {
	err = db.inTx(ctx, func(tx *wtx) error {
		created, updated = 0, 0
		// Saving the outcome lets the crawl's claim on the feed go.
		res, err := tx.ExecContext(ctx, `UPDATE feeds SET feed_url = ?, title = ?, site_url = ?, status = ?,
			etag = ?, last_modified = ?, last_success = ?, last_attempt = ?, next_attempt = ?,
			last_error = ?, error_count = ?, redirect = ?, dropped = ?, claimed_until = 0 WHERE id = ?`,
			feed.FeedURL, feed.Title, feed.SiteURL, feed.Status, feed.ETag, feed.LastModified,
			millis(feed.LastSuccess), millis(feed.LastAttempt), millis(feed.NextAttempt),
			feed.LastError, feed.ErrorCount, feed.Redirect, feed.Dropped, feed.ID)
		if err != nil {
			return fmt.Errorf("update feed: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("feed %d: %w", feed.ID, vplanet.ErrNotFound)
		}
		created, updated, err = savePosts(ctx, tx, feed.ID, posts, db.now().UTC())
		return err
	})
	if err != nil {
		return 0, 0, db.writeError("save fetch of "+feed.URL, err)
	}
	return created, updated, nil
}

// savePosts saves a feed's posts in tx, counting those it created and
// those it updated.
func savePosts(ctx context.Context, tx *wtx, feedID int64, posts []*vplanet.Post, now time.Time) (created, updated int, err error) {
	for _, p := range posts {
		c, u, err := savePost(ctx, tx, feedID, p, now)
		if err != nil {
			return created, updated, fmt.Errorf("save post %s: %w", p.ID, err)
		}
		created += c
		updated += u
	}
	return created, updated, nil
}

func savePost(ctx context.Context, tx *wtx, feedID int64, p *vplanet.Post, now time.Time) (created, updated int, err error) {
	var hash, ownerStatus, guid, mergedInto string
	var owner int64
	find := func(id string) error {
		return tx.QueryRowContext(ctx, `SELECT p.hash, p.feed_id, f.status, p.guid, p.merged_into
			FROM posts p JOIN feeds f ON f.id = p.feed_id WHERE p.id = ?`, id).
			Scan(&hash, &owner, &ownerStatus, &guid, &mergedInto)
	}
	err = find(p.ID)
	if err == nil && mergedInto != "" {
		// The link's ID is an alias: the post it names takes the change.
		p.ID = mergedInto
		err = find(p.ID)
	}
	if errors.Is(err, sql.ErrNoRows) && p.GUID != "" {
		// A new link for a GUID the feed already has: the post's link
		// changed (its title and slug were edited). The post keeps its ID,
		// and the new link's ID becomes an alias of it, so the same link
		// reached through another feed is this post too. Each feed finds
		// its own GUIDs (post_guids): a blog listed as RSS and Atom may
		// give one post a GUID in each.
		var kept string
		switch qerr := tx.QueryRowContext(ctx, `SELECT g.post_id FROM post_guids g JOIN posts p ON p.id = g.post_id
			WHERE g.feed_id = ? AND g.guid = ? AND p.merged_into = ''`, feedID, p.GUID).Scan(&kept); {
		case qerr == nil:
			if err := createAlias(ctx, tx, feedID, p.ID, p.URL, kept, now); err != nil {
				return 0, 0, err
			}
			p.ID = kept
			err = find(p.ID)
		case !errors.Is(qerr, sql.ErrNoRows):
			return 0, 0, qerr
		}
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		seq, err := reserveSeq(ctx, tx, 1)
		if err != nil {
			return 0, 0, err
		}
		published := p.Published
		if published.IsZero() {
			published = now
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO posts (id, feed_id, guid, url, title, author, published,
			updated, content, text, lang, hash, first_seen, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, feedID, p.GUID, p.URL, p.Title, p.Author, millis(published), millis(p.Updated),
			p.Content, p.Text, p.Lang, p.Hash, millis(now), seq)
		if err != nil {
			return 0, 0, err
		}
		return 1, 0, recordGUID(ctx, tx, feedID, p.GUID, p.ID)
	case err != nil:
		return 0, 0, err
	}
	// This feed's GUID names the post from now on, whichever feed owns it.
	if err := recordGUID(ctx, tx, feedID, p.GUID, p.ID); err != nil {
		return 0, 0, err
	}
	// A post that another feed brought first stays with that feed, unless
	// that feed has left feeds.txt and this one carries it on.
	moved := owner != feedID && ownerStatus == vplanet.StatusRemoved
	if hash == p.Hash && !moved {
		return 0, 0, nil
	}
	if owner != feedID && !moved {
		// It keeps its owner's GUID too: the GUID is what tells the
		// owner's items apart, and another feed's (a blog's Atom feed
		// beside its RSS) may differ.
		feedID = owner
		p.GUID = guid
	}
	seq, err := reserveSeq(ctx, tx, 1)
	if err != nil {
		return 0, 0, err
	}
	published := p.Published
	if published.IsZero() {
		// Keep the date it had rather than moving it to now.
		_, err = tx.ExecContext(ctx, `UPDATE posts SET feed_id = ?, guid = ?, url = ?, title = ?, author = ?,
			updated = ?, content = ?, text = ?, lang = ?, hash = ?, seq = ? WHERE id = ?`,
			feedID, p.GUID, p.URL, p.Title, p.Author, millis(p.Updated), p.Content, p.Text, p.Lang, p.Hash, seq, p.ID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE posts SET feed_id = ?, guid = ?, url = ?, title = ?, author = ?,
			published = ?, updated = ?, content = ?, text = ?, lang = ?, hash = ?, seq = ? WHERE id = ?`,
			feedID, p.GUID, p.URL, p.Title, p.Author, millis(published), millis(p.Updated), p.Content, p.Text,
			p.Lang, p.Hash, seq, p.ID)
	}
	if err != nil {
		return 0, 0, err
	}
	return 0, 1, nil
}

// recordGUID records that feed feedID names post id by guid. An unchanged
// record costs a lookup, not a write.
func recordGUID(ctx context.Context, tx *wtx, feedID int64, guid, id string) error {
	if guid == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO post_guids (feed_id, guid, post_id) VALUES (?, ?, ?)
		ON CONFLICT (feed_id, guid) DO UPDATE SET post_id = excluded.post_id
		WHERE post_guids.post_id <> excluded.post_id`, feedID, guid, id)
	if err != nil {
		return fmt.Errorf("record guid: %w", err)
	}
	return nil
}

// createAlias makes id an alias of the post kept: an invisible row that
// names it, taking a change sequence number so that an index holding id
// drops it.
func createAlias(ctx context.Context, tx *wtx, feedID int64, id, link, kept string, now time.Time) error {
	seq, err := reserveSeq(ctx, tx, 1)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO posts (id, feed_id, url, published, first_seen, seq, merged_into)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, feedID, link, millis(now), millis(now), seq, kept)
	if err != nil {
		return fmt.Errorf("alias %s of %s: %w", id, kept, err)
	}
	return nil
}

const postColumns = `p.id, p.feed_id, p.guid, p.url, p.title, p.author, p.published, p.updated,
	p.content, p.text, p.lang, p.hash, p.first_seen, p.seq, f.status <> 'removed' AND p.merged_into = '', f.slug,
	CASE WHEN f.name <> '' THEN f.name WHEN f.title <> '' THEN f.title ELSE f.url END, p.merged_into`

// noContentColumns are postColumns with an empty Content: the Content is about
// half of a post, and left out it is never copied out of SQLite. SQLite
// still steps through its overflow pages to reach the columns stored after
// it (text among them), so the saving is the copy: BenchmarkFindPosts,
// 97 us with it and 82 without.
var noContentColumns = strings.Replace(postColumns, "p.content,", "'',", 1)

func scanPosts(rows *sql.Rows) ([]*vplanet.Post, error) {
	defer rows.Close()
	var posts []*vplanet.Post
	for rows.Next() {
		var p vplanet.Post
		var published, updated, firstSeen int64
		err := rows.Scan(&p.ID, &p.FeedID, &p.GUID, &p.URL, &p.Title, &p.Author, &published, &updated,
			&p.Content, &p.Text, &p.Lang, &p.Hash, &firstSeen, &p.Seq, &p.Visible, &p.BlogSlug, &p.BlogName,
			&p.MergedInto)
		if err != nil {
			return nil, err
		}
		p.Published, p.Updated, p.FirstSeen = fromMillis(published), fromMillis(updated), fromMillis(firstSeen)
		posts = append(posts, &p)
	}
	return posts, rows.Err()
}

// FindPosts returns the posts with these IDs, visible or not, in the order of
// ids; unknown IDs are skipped. An ID that has become an alias of another
// post (its link changed, see SaveFetch) answers with that post.
//
// When PostgreSQL cannot be reached, FindPosts, FindPostsWithoutContent,
// RecentPosts, FindFeeds and CountPosts answer from the local copy, if
// there is one (see OpenMirror), with every Content empty.
func (db *DB) FindPosts(ctx context.Context, ids []string) ([]*vplanet.Post, error) {
	return db.findPosts(ctx, ids, postColumns)
}

// FindPostsWithoutContent is FindPosts with every post's Content left
// empty, for lists such as search hits that show the text alone: the
// Content is about half of a post.
func (db *DB) FindPostsWithoutContent(ctx context.Context, ids []string) ([]*vplanet.Post, error) {
	return db.findPosts(ctx, ids, noContentColumns)
}

// maxFindIDs bounds the IDs of one query of findPosts, and with it the
// prepared statements kept for it (one per count of IDs).
const maxFindIDs = 100

func (db *DB) findPosts(ctx context.Context, ids []string, columns string) ([]*vplanet.Post, error) {
	posts, err := db.findPostsHere(ctx, ids, columns)
	if db.fallback(ctx, err) {
		if copied, merr := db.mirror.findPosts(ctx, ids, noContentColumns); merr == nil {
			return copied, nil
		}
	}
	return posts, err
}

func (db *DB) findPostsHere(ctx context.Context, ids []string, columns string) ([]*vplanet.Post, error) {
	var posts []*vplanet.Post
	for part := range slices.Chunk(ids, maxFindIDs) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		st, err := db.prepared(ctx, `SELECT `+columns+` FROM posts p JOIN feeds f ON f.id = p.feed_id
			WHERE p.id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`)
		if err != nil {
			return nil, fmt.Errorf("store: find posts: %w", db.mark(ctx, err))
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("store: find posts: %w", db.mark(ctx, err))
		}
		found, err := scanPosts(rows)
		if err != nil {
			return nil, fmt.Errorf("store: find posts: %w", db.mark(ctx, err))
		}
		posts = append(posts, found...)
	}
	byID := make(map[string]*vplanet.Post, len(posts))
	var targets []string
	for _, p := range posts {
		byID[p.ID] = p
		if p.MergedInto != "" {
			targets = append(targets, p.MergedInto)
		}
	}
	if len(targets) > 0 {
		// An alias answers with the post it names, so that an address
		// made from a post's old link keeps working.
		kept, err := db.findPostsHere(ctx, targets, columns)
		if err != nil {
			return nil, err
		}
		keptByID := make(map[string]*vplanet.Post, len(kept))
		for _, p := range kept {
			keptByID[p.ID] = p
		}
		for id, p := range byID {
			if p.MergedInto == "" {
				continue
			}
			if k, ok := keptByID[p.MergedInto]; ok && k.MergedInto == "" {
				byID[id] = k
			} else {
				delete(byID, id)
			}
		}
	}
	ordered := posts[:0]
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			ordered = append(ordered, p)
			delete(byID, id) // an ID asked for twice comes back once
		}
	}
	return ordered, nil
}

// RecentPosts returns visible posts, newest first.
func (db *DB) RecentPosts(ctx context.Context, f vplanet.PostFilter) ([]*vplanet.Post, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	query := `SELECT ` + postColumns + ` FROM posts p JOIN feeds f ON f.id = p.feed_id
		WHERE f.status <> 'removed' AND p.merged_into = ''`
	args := []any{}
	if f.FeedID != 0 {
		query += ` AND p.feed_id = ?`
		args = append(args, f.FeedID)
	}
	query += ` ORDER BY p.published DESC, p.id LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, query, args...)
	if db.fallback(ctx, err) {
		if copied, merr := db.mirror.RecentPosts(ctx, f); merr == nil {
			return copied, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: recent posts: %w", db.mark(ctx, err))
	}
	posts, err := scanPosts(rows)
	if err != nil {
		return nil, fmt.Errorf("store: recent posts: %w", db.mark(ctx, err))
	}
	return posts, nil
}

// Changes returns the posts whose Seq is above after, in Seq order, at most
// limit of them, without their HTML Content. The index follows the store with
// it: it indexes the visible ones (from their Text) and deletes the others.
func (db *DB) Changes(ctx context.Context, after int64, limit int) ([]*vplanet.Post, error) {
	rows, err := db.query(ctx, `SELECT `+noContentColumns+` FROM posts p JOIN feeds f ON f.id = p.feed_id
		WHERE p.seq > ? ORDER BY p.seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: changes after %d: %w", after, db.mark(ctx, err))
	}
	posts, err := scanPosts(rows)
	if err != nil {
		return nil, fmt.Errorf("store: changes after %d: %w", after, err)
	}
	if err := db.copyChanges(ctx, posts); err != nil {
		return nil, fmt.Errorf("store: changes after %d: %w", after, err)
	}
	return posts, nil
}

// MaxSeq returns the newest change's sequence number (0 for an empty store).
func (db *DB) MaxSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.queryRow(ctx, `SELECT value FROM counters WHERE name = 'seq'`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: max seq: %w", db.mark(ctx, err))
	}
	return seq, nil
}

// CountPosts returns the number of visible posts. Every change to a post or
// to its visibility takes a new sequence number, so the count is computed
// once per sequence number, whichever process made the change.
func (db *DB) CountPosts(ctx context.Context) (int, error) {
	seq, err := db.MaxSeq(ctx)
	if db.fallback(ctx, err) {
		if n, merr := db.mirror.CountPosts(ctx); merr == nil {
			return n, nil
		}
	}
	if err != nil {
		return 0, err
	}
	db.countMu.Lock()
	defer db.countMu.Unlock()
	if seq == db.countSeq && seq != 0 {
		return db.count, nil
	}
	var n int
	err = db.queryRow(ctx,
		`SELECT COUNT(*) FROM posts p JOIN feeds f ON f.id = p.feed_id WHERE f.status <> 'removed' AND p.merged_into = ''`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count posts: %w", db.mark(ctx, err))
	}
	// A change committed between reading seq and counting raised the
	// sequence past seq, so this count is never served for a newer one.
	db.countSeq, db.count = seq, n
	return n, nil
}

// Purge deletes the feeds that have left feeds.txt, and their posts. Those
// posts left search and the merged feeds when their feed was removed; purging
// only reclaims the space.
func (db *DB) Purge(ctx context.Context) (feeds, posts int, err error) {
	err = db.inTx(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx,
			`DELETE FROM posts WHERE feed_id IN (SELECT id FROM feeds WHERE status = ?)`, vplanet.StatusRemoved)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		posts = int(n)
		res, err = tx.ExecContext(ctx, `DELETE FROM feeds WHERE status = ?`, vplanet.StatusRemoved)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		feeds = int(n)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: purge: %w", err)
	}
	return feeds, posts, nil
}

// ErrBackupPostgres is Backup's answer on PostgreSQL.
var ErrBackupPostgres = errors.New("a store in PostgreSQL is backed up with pg_dump (for example: pg_dump --format=custom --file=vplanet.dump DATABASE_URL), which reads one consistent snapshot while vplanet goes on writing")

// Backup writes a consistent copy of the store to path, which must not exist.
// It reads one snapshot, so crawls and the server may go on writing.
//
// On PostgreSQL it returns an error wrapping ErrBackupPostgres: pg_dump does
// the job, consistently and in a form every PostgreSQL tool restores, and
// operators of a database already back it up with their own tools.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.pg != nil {
		return fmt.Errorf("store: backup: %w", ErrBackupPostgres)
	}
	if _, err := db.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}

// writeError wraps a failed write with the store's path and, when SQLite
// could not write its files (a full disk, a file-size limit, a failing
// device), says so in words a person can act on. The transaction was rolled
// back: nothing was half written.
func (db *DB) writeError(op string, err error) error {
	if db.pg != nil {
		return fmt.Errorf("store %s: %s: %w", db.path, op, db.mark(context.Background(), err))
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch code := se.Code(); {
		case code&0xff == sqlite3.SQLITE_FULL:
			return fmt.Errorf("store %s: %s: the disk is full: %w", db.path, op, err)
		case code&0xff == sqlite3.SQLITE_IOERR:
			return fmt.Errorf("store %s: %s: could not write the database file (disk full, file size limit or failing disk?): %w", db.path, op, err)
		case code&0xff == sqlite3.SQLITE_READONLY, code&0xff == sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("store %s: %s: the database file cannot be written (check its permissions): %w", db.path, op, err)
		}
	}
	return fmt.Errorf("store %s: %s: %w", db.path, op, err)
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

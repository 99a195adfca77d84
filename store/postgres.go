package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

const (
	// writeLockKey is the advisory lock every write transaction takes on
	// PostgreSQL (see inTx); migrateLockKey is held while migrating. The
	// keys spell "vplanet", so that they do not meet another program's.
	writeLockKey   int64 = 0x76706c616e6574
	migrateLockKey int64 = writeLockKey + 1

	// changesChannel carries a NOTIFY at every commit that took a change
	// sequence number.
	changesChannel = "vplanet_changes"

	// defaultConnectTimeout bounds a connection attempt when the URL gives
	// no connect_timeout: a wrong host or a firewall that drops packets
	// must fail in seconds, never hang.
	defaultConnectTimeout = 5 * time.Second
)

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	name := redact(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: database URL %s: %w", name, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	sqlDB := stdlib.OpenDB(*cfg)
	// A handful of connections covers a serve's requests, its follower and
	// a crawl's writers, which take turns anyway; several replicas share
	// the server's max_connections (100 by default).
	sqlDB.SetMaxOpenConns(16)
	sqlDB.SetMaxIdleConns(4)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{db: sqlDB, path: name, pg: cfg, now: time.Now, writing: make(chan struct{}, 1), lease: DefaultLease}
	pingCtx, cancel := context.WithTimeout(ctx, 2*cfg.ConnectTimeout)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store %s: cannot connect: %w", name, err)
	}
	if err := db.migratePostgres(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store %s: migrate: %w", name, err)
	}
	return db, nil
}

// redact returns the URL without its password, for messages and logs. The
// password is the one pgx itself finds in the URL, so whatever the URL's
// shape (a password with an unescaped "/" or "@", a password parameter),
// the one that would be sent is never shown, in any of its spellings.
func redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://(a URL that does not parse)"
	}
	s := dsn
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		// user:password@ → user@, for the eye; the replacing below is for
		// safety.
		u.User = url.User(u.User.Username())
		s = u.String()
	}
	if p := cfg.Password; p != "" {
		for _, form := range []string{p, url.QueryEscape(p), url.PathEscape(p), url.UserPassword("", p).String()[1:]} {
			s = strings.ReplaceAll(s, form, "xxxxx")
		}
	}
	return s
}

// migratePostgres applies the migrations the database has not seen, each in
// its own transaction, recording them in schema_migrations. Replicas that
// start together take turns on an advisory lock, so each migration runs
// once; the ones that wait find it done.
func (db *DB) migratePostgres(ctx context.Context) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	// The lock is the session's: closing the connection would release it
	// too, but the pool keeps connections open.
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return err
	}
	var version int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	names := migrationNames("postgres")
	if version > len(names) {
		return fmt.Errorf("schema version %d is newer than this vplanet knows (%d): upgrade vplanet", version, len(names))
	}
	for i := version; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		err = func() error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", names[i], err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`,
				i+1, time.Now().UnixMilli()); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// Listen sends on poke whenever another process (or this one) commits a
// change, until ctx ends: PostgreSQL's LISTEN/NOTIFY, so that a replica's
// index follows within milliseconds instead of at its next poll. It sends
// once more after every (re)connection, for the changes made while it was
// not listening. On SQLite it returns at once: there is nothing to listen
// to, and polling the file costs little. A lost connection is retried, a
// little later each time up to 5 s; polling covers the gap.
func (db *DB) Listen(ctx context.Context, poke chan<- struct{}) {
	if db.pg == nil {
		return
	}
	wait := 250 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		db.listen(ctx, poke)
		if time.Since(start) > time.Minute {
			wait = 250 * time.Millisecond // it had been working
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (db *DB) listen(ctx context.Context, poke chan<- struct{}) error {
	conn, err := pgx.ConnectConfig(ctx, db.pg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	send(poke)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		send(poke)
	}
}

func send(poke chan<- struct{}) {
	select {
	case poke <- struct{}{}:
	default:
	}
}

// claimTx runs fn in a transaction that does not take the write turn: a
// claim takes no change sequence number, and the feeds' row locks keep
// claims apart. On SQLite there is one writer anyway, so it is inTx.
func (db *DB) claimTx(ctx context.Context, fn func(tx *wtx) error) error {
	if db.pg == nil {
		return db.inTx(ctx, fn)
	}
	sqlTx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&wtx{tx: sqlTx, db: db}); err != nil {
		sqlTx.Rollback()
		return err
	}
	return sqlTx.Commit()
}

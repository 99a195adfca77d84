package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"vplanet"
)

// OpenMirror keeps, in a SQLite file at path, a copy of what search shows of
// each post (everything but its HTML Content) as the index follows the
// store, so that a replica whose PostgreSQL is unreachable goes on
// answering searches, the home page and the merged feeds from its own disk.
// The copy is derived data, like the index: it fills from Changes, and may
// be deleted at any time (the next rebuild refills it). On SQLite the store
// is on this host already, and OpenMirror does nothing.
func (db *DB) OpenMirror(ctx context.Context, path string) error {
	if db.pg == nil {
		return nil
	}
	m, err := openSQLite(ctx, path)
	if err != nil {
		return fmt.Errorf("store: local copy: %w", err)
	}
	db.mirror = m
	return nil
}

// HasMirror reports whether reads fall back to a local copy when the store
// is unreachable (see OpenMirror).
func (db *DB) HasMirror() bool { return db.mirror != nil }

// MirrorSeq returns how far the local copy has followed the store: the
// highest change sequence it holds. Changes copies before it returns, so
// the copy is never behind an index that follows the store, unless it was
// deleted.
func (db *DB) MirrorSeq(ctx context.Context) (int64, error) {
	if db.mirror == nil {
		return 0, nil
	}
	return db.mirror.MaxSeq(ctx)
}

// copyChanges writes posts, as Changes read them, to the local copy.
func (db *DB) copyChanges(ctx context.Context, posts []*vplanet.Post) error {
	if db.mirror == nil || len(posts) == 0 {
		return nil
	}
	m := db.mirror
	err := m.inTx(ctx, func(tx *wtx) error {
		seen := map[int64]bool{}
		for _, p := range posts {
			if !seen[p.FeedID] {
				seen[p.FeedID] = true
				status := vplanet.StatusOK
				if !p.Visible {
					status = vplanet.StatusRemoved
				}
				// Only what a post's view shows of its feed: the slug, the
				// name, and whether it is listed.
				_, err := tx.ExecContext(ctx, `INSERT INTO feeds (id, slug, url, name, status, created)
					VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO UPDATE SET slug = excluded.slug,
					name = excluded.name, status = excluded.status`,
					p.FeedID, p.BlogSlug, fmt.Sprint("feed:", p.FeedID), p.BlogName, status)
				if err != nil {
					return err
				}
			}
			// A rebuild and the follower may read at once: the newer
			// version of a post wins, whichever is copied last.
			_, err := tx.ExecContext(ctx, `INSERT INTO posts (id, feed_id, guid, url, title, author, published,
				updated, content, text, lang, hash, first_seen, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET feed_id = excluded.feed_id, guid = excluded.guid, url = excluded.url,
				title = excluded.title, author = excluded.author, published = excluded.published,
				updated = excluded.updated, text = excluded.text, lang = excluded.lang, hash = excluded.hash,
				seq = excluded.seq
				WHERE excluded.seq > posts.seq`,
				p.ID, p.FeedID, p.GUID, p.URL, p.Title, p.Author, millis(p.Published), millis(p.Updated),
				p.Text, p.Lang, p.Hash, millis(p.FirstSeen), p.Seq)
			if err != nil {
				return err
			}
		}
		// The copy's own sequence: how far it has followed.
		_, err := tx.ExecContext(ctx, `UPDATE counters SET value = MAX(value, ?) WHERE name = 'seq'`, posts[len(posts)-1].Seq)
		return err
	})
	if err != nil {
		return m.writeError("copy changes", err)
	}
	return nil
}

// fallback reports whether a read that failed with err should be answered
// from the local copy: there is one, and PostgreSQL could not be reached
// (a refused or broken connection, a server shutting down), as opposed to a
// server that answered with an error of the query's own.
func (db *DB) fallback(ctx context.Context, err error) bool {
	if db.mirror == nil || err == nil || ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 57: operator intervention (admin_shutdown,
		// cannot_connect_now…); 08: connection exceptions.
		class := pgErr.Code[:2]
		return class == "57" || class == "08"
	}
	return true
}

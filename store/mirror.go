package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

// copyChanges writes posts, as Changes read them, to the local copy, with
// the feed list as it is now (crawl state included, so that /api/feeds and
// the blog pages show the last known state while the database is away).
func (db *DB) copyChanges(ctx context.Context, posts []*vplanet.Post) error {
	if db.mirror == nil || len(posts) == 0 {
		return nil
	}
	var feeds []*vplanet.Feed
	if db.pg != nil {
		var err error
		if feeds, err = findFeeds(ctx, db.reader(), vplanet.FeedFilter{}); err != nil {
			return fmt.Errorf("copy the feed list: %w", db.mark(ctx, err))
		}
	}
	m := db.mirror
	err := m.inTx(ctx, func(tx *wtx) error {
		listed := map[int64]bool{}
		if feeds != nil {
			ids := make([]any, 0, len(feeds))
			for _, f := range feeds {
				listed[f.ID] = true
				ids = append(ids, f.ID)
			}
			// Feeds purged from the store leave the copy, with their
			// posts; a URL listed again later comes back under a new ID.
			in := "NOT IN (0" + strings.Repeat(", ?", len(ids)) + ")"
			if _, err := tx.ExecContext(ctx, `DELETE FROM posts WHERE feed_id `+in, ids...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM feeds WHERE id `+in, ids...); err != nil {
				return err
			}
		}
		for _, f := range feeds {
			_, err := tx.ExecContext(ctx, `INSERT INTO feeds (id, slug, url, name, lang, feed_url, title, site_url,
				status, etag, last_modified, last_success, last_attempt, next_attempt, last_error, error_count,
				redirect, dropped, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
				ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, url = excluded.url, name = excluded.name,
				lang = excluded.lang, feed_url = excluded.feed_url, title = excluded.title,
				site_url = excluded.site_url, status = excluded.status, etag = excluded.etag,
				last_modified = excluded.last_modified, last_success = excluded.last_success,
				last_attempt = excluded.last_attempt, next_attempt = excluded.next_attempt,
				last_error = excluded.last_error, error_count = excluded.error_count, redirect = excluded.redirect,
				dropped = excluded.dropped`,
				f.ID, f.Slug, f.URL, f.Name, f.Lang, f.FeedURL, f.Title, f.SiteURL, f.Status, f.ETag,
				f.LastModified, millis(f.LastSuccess), millis(f.LastAttempt), millis(f.NextAttempt),
				f.LastError, f.ErrorCount, f.Redirect, f.Dropped)
			if err != nil {
				return err
			}
		}
		for _, p := range posts {
			if feeds != nil && !listed[p.FeedID] {
				continue // its feed was purged since Changes read it
			}
			if feeds == nil {
				// Only what a post's view shows of its feed.
				status := vplanet.StatusOK
				if !p.Visible {
					status = vplanet.StatusRemoved
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO feeds (id, slug, url, name, status, created)
					VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO UPDATE SET status = excluded.status`,
					p.FeedID, p.BlogSlug, fmt.Sprint("feed:", p.FeedID), p.BlogName, status)
				if err != nil {
					return err
				}
			}
			// A rebuild and the follower may read at once: the newer
			// version of a post wins, whichever is copied last.
			_, err := tx.ExecContext(ctx, `INSERT INTO posts (id, feed_id, guid, url, title, author, published,
				updated, content, text, lang, hash, first_seen, seq, merged_into) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET feed_id = excluded.feed_id, guid = excluded.guid, url = excluded.url,
				merged_into = excluded.merged_into,
				title = excluded.title, author = excluded.author, published = excluded.published,
				updated = excluded.updated, text = excluded.text, lang = excluded.lang, hash = excluded.hash,
				seq = excluded.seq
				WHERE excluded.seq > posts.seq`,
				p.ID, p.FeedID, p.GUID, p.URL, p.Title, p.Author, millis(p.Published), millis(p.Updated),
				p.Text, p.Lang, p.Hash, millis(p.FirstSeen), p.Seq, p.MergedInto)
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

// ErrUnreachable is wrapped by the errors of a store in PostgreSQL that
// could not be reached: a refused or broken connection, a server shutting
// down. It passes: the store reconnects by itself.
var ErrUnreachable = errors.New("the database is unreachable")

// unreachable reports whether err, from PostgreSQL, means the database
// could not be reached, as opposed to a server that answered with an error
// of the query's own.
func (db *DB) unreachable(ctx context.Context, err error) bool {
	if db.pg == nil || err == nil || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, ErrUnreachable) {
		return true
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

// mark wraps err with ErrUnreachable when it means the database could not
// be reached.
func (db *DB) mark(ctx context.Context, err error) error {
	if db.unreachable(ctx, err) && !errors.Is(err, ErrUnreachable) {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return err
}

// fallback reports whether a read that failed with err should be answered
// from the local copy: there is one, and the database could not be reached.
func (db *DB) fallback(ctx context.Context, err error) bool {
	return db.mirror != nil && db.unreachable(ctx, err)
}

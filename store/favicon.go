package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"vplanet"
)

// UpdateFavicon records that the crawler looked for the icon of the blog of
// feed feedID at checked, and stores icon when it found one. A look that
// found nothing keeps the icon found before: a blog that is down for a day
// keeps its face.
func (db *DB) UpdateFavicon(ctx context.Context, feedID int64, checked time.Time, icon *vplanet.Favicon) error {
	err := db.inTx(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE feeds SET favicon_checked = ? WHERE id = ?`, millis(checked), feedID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("feed %d: %w", feedID, vplanet.ErrNotFound)
		}
		if icon == nil {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO favicons (feed_id, content_type, data, updated) VALUES (?, ?, ?, ?)
			ON CONFLICT (feed_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data,
			updated = excluded.updated`, feedID, icon.ContentType, icon.Data, millis(icon.Updated))
		return err
	})
	if err != nil {
		return db.writeError(fmt.Sprintf("update the icon of feed %d", feedID), err)
	}
	return nil
}

// FindFavicon returns the icon of the blog with this slug, or an error
// wrapping vplanet.ErrNotFound when the store has none.
func (db *DB) FindFavicon(ctx context.Context, slug string) (*vplanet.Favicon, error) {
	var icon vplanet.Favicon
	var updated int64
	err := db.queryRow(ctx, `SELECT i.content_type, i.data, i.updated FROM favicons i
		JOIN feeds f ON f.id = i.feed_id WHERE f.slug = ?`, slug).Scan(&icon.ContentType, &icon.Data, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("icon of %q: %w", slug, vplanet.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: find the icon of %q: %w", slug, db.mark(ctx, err))
	}
	icon.Updated = fromMillis(updated)
	return &icon, nil
}

package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"vplanet"
	"vplanet/websub"
)

// The WebSub tables: the DB is the websub.Store of vplanet as a subscriber
// and the websub.HubStore of vplanet as a hub, so that every replica sees
// the same subscriptions and whichever one a hub or a reader reaches can
// answer. The secrets are kept as they are: the database is already the
// trust boundary (it holds everything the index is rebuilt from).

const subscriptionColumns = `id, feed_url, topic, hub, secret, state, reason, asked, expires, pushed, updated`

// FindSubscription returns the subscription with the callback id, or
// websub.ErrNotFound.
func (db *DB) FindSubscription(ctx context.Context, id string) (websub.Subscription, error) {
	return db.findSubscription(ctx, `WHERE id = ?`, id)
}

// FindFeedSubscription returns the subscription of the feed listed as
// feed, or websub.ErrNotFound.
func (db *DB) FindFeedSubscription(ctx context.Context, feed string) (websub.Subscription, error) {
	return db.findSubscription(ctx, `WHERE feed_url = ?`, feed)
}

func (db *DB) findSubscription(ctx context.Context, where string, arg string) (websub.Subscription, error) {
	rows, err := db.query(ctx, `SELECT `+subscriptionColumns+` FROM websub_subscriptions `+where, arg)
	if err != nil {
		return websub.Subscription{}, fmt.Errorf("store: find websub subscription: %w", err)
	}
	subs, err := scanSubscriptions(rows)
	if err != nil {
		return websub.Subscription{}, fmt.Errorf("store: find websub subscription: %w", err)
	}
	if len(subs) == 0 {
		return websub.Subscription{}, websub.ErrNotFound
	}
	return subs[0], nil
}

// FindSubscriptions returns every subscription, ordered by feed.
func (db *DB) FindSubscriptions(ctx context.Context) ([]websub.Subscription, error) {
	rows, err := db.query(ctx, `SELECT `+subscriptionColumns+` FROM websub_subscriptions ORDER BY feed_url`)
	if err != nil {
		return nil, fmt.Errorf("store: find websub subscriptions: %w", err)
	}
	subs, err := scanSubscriptions(rows)
	if err != nil {
		return nil, fmt.Errorf("store: find websub subscriptions: %w", err)
	}
	return subs, nil
}

func scanSubscriptions(rows *sql.Rows) ([]websub.Subscription, error) {
	defer rows.Close()
	var out []websub.Subscription
	for rows.Next() {
		var s websub.Subscription
		var state string
		var asked, expires, pushed, updated int64
		if err := rows.Scan(&s.ID, &s.Feed, &s.Topic, &s.Hub, &s.Secret, &state, &s.Reason,
			&asked, &expires, &pushed, &updated); err != nil {
			return nil, err
		}
		s.State = websub.State(state)
		s.Asked, s.Expires, s.Pushed, s.Updated = fromMillis(asked), fromMillis(expires), fromMillis(pushed), fromMillis(updated)
		out = append(out, s)
	}
	return out, rows.Err()
}

// PutSubscription creates or replaces the subscription with s.ID, and
// drops the feed's older subscription under another id: one feed, one
// subscription, whichever replica wrote it.
func (db *DB) PutSubscription(ctx context.Context, s websub.Subscription) error {
	err := db.inTx(ctx, func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM websub_subscriptions WHERE feed_url = ? AND id <> ?`, s.Feed, s.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO websub_subscriptions (`+subscriptionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET feed_url = excluded.feed_url, topic = excluded.topic,
				hub = excluded.hub, secret = excluded.secret, state = excluded.state,
				reason = excluded.reason, asked = excluded.asked, expires = excluded.expires,
				pushed = excluded.pushed, updated = excluded.updated`,
			s.ID, s.Feed, s.Topic, s.Hub, s.Secret, string(s.State), s.Reason,
			millis(s.Asked), millis(s.Expires), millis(s.Pushed), millis(s.Updated))
		return err
	})
	if err != nil {
		return db.writeError("put websub subscription", err)
	}
	return nil
}

// DeleteSubscription removes the subscription with the id, if any.
func (db *DB) DeleteSubscription(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM websub_subscriptions WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return db.writeError("delete websub subscription", err)
	}
	return nil
}

// FindHubSubscriptions returns the hub's subscriptions to topic, or every
// topic's when topic is empty, ordered by topic and callback.
func (db *DB) FindHubSubscriptions(ctx context.Context, topic string) ([]websub.HubSubscription, error) {
	q := `SELECT topic, callback, secret, expires, created FROM websub_hub_subscriptions`
	var args []any
	if topic != "" {
		q += ` WHERE topic = ?`
		args = append(args, topic)
	}
	rows, err := db.query(ctx, q+` ORDER BY topic, callback`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: find websub hub subscriptions: %w", err)
	}
	defer rows.Close()
	var out []websub.HubSubscription
	for rows.Next() {
		var s websub.HubSubscription
		var expires, created int64
		if err := rows.Scan(&s.Topic, &s.Callback, &s.Secret, &expires, &created); err != nil {
			return nil, fmt.Errorf("store: find websub hub subscriptions: %w", err)
		}
		s.Expires, s.Created = fromMillis(expires), fromMillis(created)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find websub hub subscriptions: %w", err)
	}
	return out, nil
}

// PutHubSubscription creates or replaces the subscription with the same
// topic and callback; a renewal keeps its creation time.
func (db *DB) PutHubSubscription(ctx context.Context, s websub.HubSubscription) error {
	err := db.inTx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO websub_hub_subscriptions (topic, callback, secret, expires, created)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret, expires = excluded.expires`,
			s.Topic, s.Callback, s.Secret, millis(s.Expires), millis(s.Created))
		return err
	})
	if err != nil {
		return db.writeError("put websub hub subscription", err)
	}
	return nil
}

// DeleteHubSubscription removes the subscription of callback to topic, if
// any.
func (db *DB) DeleteHubSubscription(ctx context.Context, topic, callback string) error {
	err := db.inTx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM websub_hub_subscriptions WHERE topic = ? AND callback = ?`, topic, callback)
		return err
	})
	if err != nil {
		return db.writeError("delete websub hub subscription", err)
	}
	return nil
}

// FindHubTopic returns the store sequence up to which topic's posts have
// been distributed; ok is false before the topic's first distribution.
func (db *DB) FindHubTopic(ctx context.Context, topic string) (seq int64, ok bool, err error) {
	err = db.queryRow(ctx, `SELECT published_seq FROM websub_hub_topics WHERE topic = ?`, topic).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: find websub hub topic: %w", err)
	}
	return seq, true, nil
}

// AdvanceHubTopic moves topic's watermark from old to seq and reports
// whether it did: false when another replica moved it first, which then
// owns this round's distribution. A topic not seen before (found false by
// FindHubTopic) is created at seq; old is then ignored.
func (db *DB) AdvanceHubTopic(ctx context.Context, topic string, old, seq int64, found bool) (bool, error) {
	var moved bool
	err := db.inTx(ctx, func(tx *wtx) error {
		var res sql.Result
		var err error
		if found {
			res, err = tx.ExecContext(ctx, `UPDATE websub_hub_topics SET published_seq = ? WHERE topic = ? AND published_seq = ?`, seq, topic, old)
		} else {
			res, err = tx.ExecContext(ctx, `INSERT INTO websub_hub_topics (topic, published_seq, created) VALUES (?, ?, ?) ON CONFLICT (topic) DO NOTHING`,
				topic, seq, millis(db.now()))
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		moved = n == 1
		return err
	})
	if err != nil {
		return false, db.writeError("advance websub hub topic", err)
	}
	return moved, nil
}

// DropIdleHubTopics drops the watermarks made before before of topics that
// have no subscription: asked for by a reader whose verification failed,
// or whose subscriptions have all ended. Anyone may ask to subscribe to any
// search feed, so without this the watermarks would grow with every query
// ever asked for. A topic subscribed again later starts a new watermark,
// as a first subscription does. It returns how many it dropped.
func (db *DB) DropIdleHubTopics(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM websub_hub_topics WHERE created < ? AND NOT EXISTS (
			SELECT 1 FROM websub_hub_subscriptions s WHERE s.topic = websub_hub_topics.topic)`, millis(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.writeError("drop idle websub hub topics", err)
	}
	return int(n), nil
}

// QueueHubDelivery keeps a delivery of the hub until FinishHubDelivery.
func (db *DB) QueueHubDelivery(ctx context.Context, d websub.Delivery) (int64, error) {
	var id int64
	err := db.claimTx(ctx, func(tx *wtx) error {
		rows, err := tx.QueryContext(ctx, `INSERT INTO websub_hub_deliveries (topic, callback, content_type, body, attempts, held_until, created)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.Topic, d.Callback, d.Content.Type, d.Content.Body, d.Attempts, millis(d.Held), millis(d.Created))
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return errors.New("the insert returned no id")
		}
		return rows.Scan(&id)
	})
	if err != nil {
		return 0, db.writeError("queue websub hub delivery", err)
	}
	return id, nil
}

// HoldHubDelivery records a delivery's attempts and how long its owner
// holds it.
func (db *DB) HoldHubDelivery(ctx context.Context, id int64, attempts int, held time.Time) error {
	err := db.claimTx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE websub_hub_deliveries SET attempts = ?, held_until = ? WHERE id = ?`,
			attempts, millis(held), id)
		return err
	})
	if err != nil {
		return db.writeError("hold websub hub delivery", err)
	}
	return nil
}

// ClaimHubDeliveries takes up to limit deliveries whose hold ended by now,
// oldest first, holding them until held. On PostgreSQL a delivery another
// claim is taking is skipped (FOR UPDATE SKIP LOCKED), so replicas that
// claim at once get different ones.
func (db *DB) ClaimHubDeliveries(ctx context.Context, now, held time.Time, limit int) ([]websub.Delivery, error) {
	var out []websub.Delivery
	err := db.claimTx(ctx, func(tx *wtx) error {
		out = out[:0]
		skip := ""
		if db.pg != nil {
			skip = ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, `UPDATE websub_hub_deliveries SET held_until = ? WHERE id IN (
			SELECT id FROM websub_hub_deliveries WHERE held_until <= ? ORDER BY id LIMIT ?`+skip+`)
			RETURNING id, topic, callback, content_type, body, attempts, created`, millis(held), millis(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d := websub.Delivery{Held: held}
			var created int64
			if err := rows.Scan(&d.ID, &d.Topic, &d.Callback, &d.Content.Type, &d.Content.Body, &d.Attempts, &created); err != nil {
				return err
			}
			d.Created = fromMillis(created)
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: claim websub hub deliveries: %w", db.path, db.mark(ctx, err))
	}
	slices.SortFunc(out, func(a, b websub.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// FinishHubDelivery forgets a delivery made or given up.
func (db *DB) FinishHubDelivery(ctx context.Context, id int64) error {
	err := db.claimTx(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM websub_hub_deliveries WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return db.writeError("finish websub hub delivery", err)
	}
	return nil
}

// Compile-time checks that the DB is both of websub's stores.
var (
	_ websub.Store    = (*DB)(nil)
	_ websub.HubStore = (*DB)(nil)
)

// SavePush stores the posts of a feed document a hub pushed, with the
// feed's title, home page and last success: not its fetch state
// (validators, next attempt, errors, a crawl's claim), which belongs to
// the crawl that may be fetching the same feed at this moment.
func (db *DB) SavePush(ctx context.Context, feed *vplanet.Feed, posts []*vplanet.Post) (created, updated int, err error) {
	err = db.inTx(ctx, func(tx *wtx) error {
		created, updated = 0, 0
		res, err := tx.ExecContext(ctx, `UPDATE feeds SET title = ?, site_url = ?, last_success = ? WHERE id = ?`,
			feed.Title, feed.SiteURL, millis(feed.LastSuccess), feed.ID)
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
		return 0, 0, db.writeError("save push to "+feed.URL, err)
	}
	return created, updated, nil
}

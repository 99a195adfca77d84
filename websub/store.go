package websub

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// State is where a subscriber's subscription stands, as `vplanet feeds` and
// /blogs/{id} show it.
type State string

// Subscription states.
const (
	// StatePending: subscription asked for, the hub has not verified it yet.
	StatePending State = "pending"
	// StateActive: verified; the hub pushes until Expires.
	StateActive State = "active"
	// StateFailed: the hub refused, denied, never verified, or the lease
	// ran out; Reason says which.
	StateFailed State = "failed"
	// StateUnsubscribing: unsubscription asked for, not verified yet.
	StateUnsubscribing State = "unsubscribing"
)

// Subscription is one feed's subscription at one hub, as the subscriber
// keeps it. One feed has at most one.
type Subscription struct {
	ID      string // unguessable token in the callback URL; the key
	Feed    string // the feed's URL as listed, handed to Ingest
	Topic   string // the feed's rel="self" URL, hub.topic
	Hub     string
	Secret  string // hub.secret, random per subscription
	State   State
	Reason  string    // why it failed, for people
	Asked   time.Time // when the last (un)subscription request was sent
	Expires time.Time // end of the lease the hub granted; zero until verified
	Pushed  time.Time // last verified content distribution; zero before the first
	Updated time.Time
}

// Store keeps a subscriber's subscriptions. One method per question the
// Manager asks: by callback id (the hub's requests), by feed (the crawler's
// calls), and all of them (renewal).
type Store interface {
	FindSubscription(ctx context.Context, id string) (Subscription, error)
	FindFeedSubscription(ctx context.Context, feed string) (Subscription, error)
	FindSubscriptions(ctx context.Context) ([]Subscription, error)
	// PutSubscription creates or replaces the subscription with s.ID; a
	// feed's older subscription under another id is replaced too.
	PutSubscription(ctx context.Context, s Subscription) error
	DeleteSubscription(ctx context.Context, id string) error
}

// HubSubscription is one subscriber of the hub: a callback for a topic. The
// pair (Topic, Callback) is the key (section 1, "Subscription").
type HubSubscription struct {
	Topic    string
	Callback string
	Secret   string
	Expires  time.Time
	Created  time.Time
}

// HubStore keeps the hub's subscriptions. FindHubSubscriptions with an
// empty topic lists every topic's; the totals are bounded by the hub's
// limits, so a listing stays small.
type HubStore interface {
	FindHubSubscriptions(ctx context.Context, topic string) ([]HubSubscription, error)
	// PutHubSubscription creates or replaces the subscription with the same
	// topic and callback.
	PutHubSubscription(ctx context.Context, s HubSubscription) error
	DeleteHubSubscription(ctx context.Context, topic, callback string) error

	// QueueHubDelivery keeps d (its ID ignored) until FinishHubDelivery,
	// held by the caller until d.Held, and returns its ID.
	QueueHubDelivery(ctx context.Context, d Delivery) (int64, error)
	// HoldHubDelivery records that the delivery id has been tried
	// attempts times and that its owner holds it until held.
	HoldHubDelivery(ctx context.Context, id int64, attempts int, held time.Time) error
	// ClaimHubDeliveries takes up to limit deliveries whose hold ended by
	// now, oldest first, and holds them until held. Claims made at once
	// get different deliveries.
	ClaimHubDeliveries(ctx context.Context, now, held time.Time, limit int) ([]Delivery, error)
	// FinishHubDelivery forgets the delivery id: delivered, or given up.
	FinishHubDelivery(ctx context.Context, id int64) error
}

// Delivery is one content distribution to one subscriber (section 7), kept
// in the store from the moment it is published until the subscriber takes
// it or every attempt has failed, so that a restart loses no delivery:
// another process, or the same one restarted, claims a delivery whose
// holder stopped holding it and goes on from its attempts.
type Delivery struct {
	ID              int64
	Topic, Callback string
	Content         Content
	Attempts        int       // made so far
	Held            time.Time // until when its owner holds it
	Created         time.Time
}

// MemoryStore is a Store and a HubStore in memory: state that lasts as long
// as the process, for tests and for a single server without a database.
type MemoryStore struct {
	mu         sync.Mutex
	subs       map[string]Subscription       // by ID
	hub        map[[2]string]HubSubscription // by topic, callback
	deliveries map[int64]Delivery
	lastID     int64
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{subs: map[string]Subscription{}, hub: map[[2]string]HubSubscription{}, deliveries: map[int64]Delivery{}}
}

// FindSubscription returns the subscription with the callback id, or
// ErrNotFound.
func (m *MemoryStore) FindSubscription(_ context.Context, id string) (Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		return Subscription{}, ErrNotFound
	}
	return s, nil
}

// FindFeedSubscription returns the feed's subscription, or ErrNotFound.
func (m *MemoryStore) FindFeedSubscription(_ context.Context, feed string) (Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs {
		if s.Feed == feed {
			return s, nil
		}
	}
	return Subscription{}, ErrNotFound
}

// FindSubscriptions returns every subscription, ordered by feed.
func (m *MemoryStore) FindSubscriptions(context.Context) ([]Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Subscription, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Subscription) int { return cmp.Compare(a.Feed, b.Feed) })
	return out, nil
}

// PutSubscription creates or replaces s, and drops any other subscription
// of the same feed, as a unique key on the feed would in SQL.
func (m *MemoryStore) PutSubscription(_ context.Context, s Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, old := range m.subs {
		if old.Feed == s.Feed && id != s.ID {
			delete(m.subs, id)
		}
	}
	m.subs[s.ID] = s
	return nil
}

// DeleteSubscription removes the subscription with the id, if any.
func (m *MemoryStore) DeleteSubscription(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.subs, id)
	return nil
}

// FindHubSubscriptions returns the topic's subscriptions, or every one when
// topic is empty, ordered by topic and callback.
func (m *MemoryStore) FindHubSubscriptions(_ context.Context, topic string) ([]HubSubscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []HubSubscription
	for _, s := range m.hub {
		if topic == "" || s.Topic == topic {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b HubSubscription) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Callback, b.Callback))
	})
	return out, nil
}

// PutHubSubscription creates or replaces the subscription with s's topic
// and callback.
func (m *MemoryStore) PutHubSubscription(_ context.Context, s HubSubscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hub[[2]string{s.Topic, s.Callback}] = s
	return nil
}

// DeleteHubSubscription removes the subscription, if any, and its
// deliveries not yet made, as a foreign key would in SQL.
func (m *MemoryStore) DeleteHubSubscription(_ context.Context, topic, callback string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.hub, [2]string{topic, callback})
	for id, d := range m.deliveries {
		if d.Topic == topic && d.Callback == callback {
			delete(m.deliveries, id)
		}
	}
	return nil
}

// QueueHubDelivery keeps d and returns its new ID.
func (m *MemoryStore) QueueHubDelivery(_ context.Context, d Delivery) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastID++
	d.ID = m.lastID
	d.Content.Body = slices.Clone(d.Content.Body)
	m.deliveries[d.ID] = d
	return d.ID, nil
}

// HoldHubDelivery records the delivery's attempts and hold.
func (m *MemoryStore) HoldHubDelivery(_ context.Context, id int64, attempts int, held time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.deliveries[id]; ok {
		d.Attempts, d.Held = attempts, held
		m.deliveries[id] = d
	}
	return nil
}

// ClaimHubDeliveries takes the deliveries whose hold ended by now.
func (m *MemoryStore) ClaimHubDeliveries(_ context.Context, now, held time.Time, limit int) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Delivery
	for _, d := range m.deliveries {
		if !d.Held.After(now) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Delivery) int { return cmp.Compare(a.ID, b.ID) })
	out = out[:min(len(out), limit)]
	for i := range out {
		out[i].Held = held
		m.deliveries[out[i].ID] = out[i]
	}
	return out, nil
}

// FinishHubDelivery forgets the delivery.
func (m *MemoryStore) FinishHubDelivery(_ context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.deliveries, id)
	return nil
}

// Package websubtest holds the contract tests of websub's two store
// interfaces, so that every implementation (the in-memory one, SQLite,
// PostgreSQL) is held to the same cases.
package websubtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"vplanet/websub"
)

// Store runs the websub.Store contract against fresh stores made by open.
func Store(t *testing.T, open func(t *testing.T) websub.Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	sub := websub.Subscription{
		ID: "a1", Feed: "https://blog.example.org/feed", Topic: "https://blog.example.org/feed",
		Hub: "https://hub.example.com/", Secret: "s", State: websub.StatePending,
		Asked: at, Updated: at,
	}

	t.Run("missing is ErrNotFound", func(t *testing.T) {
		st := open(t)
		if _, err := st.FindSubscription(ctx, "nope"); !errors.Is(err, websub.ErrNotFound) {
			t.Errorf("FindSubscription = %v, want ErrNotFound", err)
		}
		if _, err := st.FindFeedSubscription(ctx, "https://nope/"); !errors.Is(err, websub.ErrNotFound) {
			t.Errorf("FindFeedSubscription = %v, want ErrNotFound", err)
		}
		if err := st.DeleteSubscription(ctx, "nope"); err != nil {
			t.Errorf("DeleteSubscription of nothing = %v, want nil", err)
		}
	})

	t.Run("put, find by id and by feed, every field kept", func(t *testing.T) {
		st := open(t)
		want := sub
		want.State, want.Reason = websub.StateFailed, "denied by the hub: no"
		want.Expires, want.Pushed = at.Add(time.Hour), at.Add(time.Minute)
		if err := st.PutSubscription(ctx, want); err != nil {
			t.Fatal(err)
		}
		for name, find := range map[string]func() (websub.Subscription, error){
			"by id":   func() (websub.Subscription, error) { return st.FindSubscription(ctx, "a1") },
			"by feed": func() (websub.Subscription, error) { return st.FindFeedSubscription(ctx, want.Feed) },
		} {
			got, err := find()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !same(got, want) {
				t.Errorf("%s: got %+v, want %+v", name, got, want)
			}
		}
	})

	t.Run("put replaces by id, and a feed has one subscription", func(t *testing.T) {
		st := open(t)
		st.PutSubscription(ctx, sub)
		active := sub
		active.State, active.Expires = websub.StateActive, at.Add(24*time.Hour)
		st.PutSubscription(ctx, active)
		renewed := sub
		renewed.ID = "b2"
		if err := st.PutSubscription(ctx, renewed); err != nil {
			t.Fatal(err)
		}
		if _, err := st.FindSubscription(ctx, "a1"); !errors.Is(err, websub.ErrNotFound) {
			t.Errorf("the feed's older subscription is still found: %v", err)
		}
		all, err := st.FindSubscriptions(ctx)
		if err != nil || len(all) != 1 || all[0].ID != "b2" {
			t.Errorf("FindSubscriptions = %+v, %v; want only b2", all, err)
		}
	})

	t.Run("list ordered by feed, delete", func(t *testing.T) {
		st := open(t)
		for _, f := range []string{"https://c/", "https://a/", "https://b/"} {
			s := sub
			s.ID, s.Feed = "id-"+f, f
			st.PutSubscription(ctx, s)
		}
		st.DeleteSubscription(ctx, "id-https://b/")
		all, err := st.FindSubscriptions(ctx)
		if err != nil || len(all) != 2 || all[0].Feed != "https://a/" || all[1].Feed != "https://c/" {
			t.Errorf("FindSubscriptions = %+v, %v; want a and c in order", all, err)
		}
	})
}

// HubStore runs the websub.HubStore contract against fresh stores made by
// open.
func HubStore(t *testing.T, open func(t *testing.T) websub.HubStore) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	mk := func(topic, cb string) websub.HubSubscription {
		return websub.HubSubscription{Topic: topic, Callback: cb, Secret: "s", Expires: at.Add(time.Hour), Created: at}
	}

	t.Run("keyed by topic and callback", func(t *testing.T) {
		st := open(t)
		st.PutHubSubscription(ctx, mk("https://p/feed.atom?q=b", "https://r/2"))
		st.PutHubSubscription(ctx, mk("https://p/feed.atom?q=a", "https://r/1"))
		st.PutHubSubscription(ctx, mk("https://p/feed.atom?q=a", "https://r/2"))
		renewed := mk("https://p/feed.atom?q=a", "https://r/1")
		renewed.Secret, renewed.Expires = "new", at.Add(48*time.Hour)
		if err := st.PutHubSubscription(ctx, renewed); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindHubSubscriptions(ctx, "https://p/feed.atom?q=a")
		if err != nil || len(got) != 2 {
			t.Fatalf("FindHubSubscriptions(q=a) = %+v, %v; want 2", got, err)
		}
		if got[0].Callback != "https://r/1" || got[0].Secret != "new" || !got[0].Expires.Equal(renewed.Expires) || got[1].Callback != "https://r/2" {
			t.Errorf("FindHubSubscriptions(q=a) = %+v, want r/1 renewed then r/2", got)
		}
		all, _ := st.FindHubSubscriptions(ctx, "")
		if len(all) != 3 || all[0].Topic != "https://p/feed.atom?q=a" || all[2].Topic != "https://p/feed.atom?q=b" {
			t.Errorf("FindHubSubscriptions(\"\") = %+v, want 3 ordered by topic", all)
		}
		if err := st.DeleteHubSubscription(ctx, "https://p/feed.atom?q=a", "https://r/2"); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteHubSubscription(ctx, "https://p/none", "https://r/9"); err != nil {
			t.Errorf("deleting nothing = %v, want nil", err)
		}
		all, _ = st.FindHubSubscriptions(ctx, "")
		if len(all) != 2 {
			t.Errorf("after delete %d subscriptions, want 2", len(all))
		}
	})

	t.Run("deliveries kept, held, claimed once, finished", func(t *testing.T) {
		st := open(t)
		a, b := mk("https://p/feed.atom", "https://r/1"), mk("https://p/feed.atom", "https://r/2")
		st.PutHubSubscription(ctx, a)
		st.PutHubSubscription(ctx, b)
		body := []byte("<feed>\x00 binary-safe \xff</feed>")
		var ids []int64
		for _, s := range []websub.HubSubscription{a, b, a} {
			id, err := st.QueueHubDelivery(ctx, websub.Delivery{Topic: s.Topic, Callback: s.Callback,
				Content: websub.Content{Body: body, Type: "application/atom+xml"}, Held: at.Add(time.Minute), Created: at})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
			t.Fatalf("ids %v, want three different", ids)
		}
		// Held by their maker: nobody claims them.
		if got, err := st.ClaimHubDeliveries(ctx, at.Add(30*time.Second), at.Add(time.Hour), 10); err != nil || len(got) != 0 {
			t.Fatalf("claim while held = %v, %v; want none", got, err)
		}
		// The maker tried the first twice and holds it longer.
		if err := st.HoldHubDelivery(ctx, ids[0], 2, at.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimHubDeliveries(ctx, at.Add(2*time.Minute), at.Add(7*time.Minute), 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim of one after the hold = %v, %v; want the oldest not held", got, err)
		}
		d := got[0]
		if d.ID != ids[1] || d.Topic != b.Topic || d.Callback != b.Callback || string(d.Content.Body) != string(body) ||
			d.Content.Type != "application/atom+xml" || d.Attempts != 0 || !d.Held.Equal(at.Add(7*time.Minute)) || !d.Created.Equal(at) {
			t.Errorf("claimed %+v, want the second delivery whole, held until the claim's time", d)
		}
		got, _ = st.ClaimHubDeliveries(ctx, at.Add(2*time.Minute), at.Add(7*time.Minute), 10)
		if len(got) != 1 || got[0].ID != ids[2] {
			t.Errorf("second claim = %+v, want only the third (the first is held, the second claimed)", got)
		}
		got, _ = st.ClaimHubDeliveries(ctx, at.Add(11*time.Minute), at.Add(20*time.Minute), 10)
		if len(got) != 3 || got[0].ID != ids[0] || got[0].Attempts != 2 {
			t.Errorf("claim after every hold = %+v, want all three, the first with its 2 attempts", got)
		}
		if err := st.FinishHubDelivery(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		// A subscription's deliveries go with it.
		if err := st.DeleteHubSubscription(ctx, a.Topic, a.Callback); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.ClaimHubDeliveries(ctx, at.Add(time.Hour), at.Add(2*time.Hour), 10); len(got) != 0 {
			t.Errorf("after finishing one and ending the other's subscription, claimed %+v; want none", got)
		}
	})
}

func same(a, b websub.Subscription) bool {
	return a.ID == b.ID && a.Feed == b.Feed && a.Topic == b.Topic && a.Hub == b.Hub &&
		a.Secret == b.Secret && a.State == b.State && a.Reason == b.Reason &&
		a.Asked.Equal(b.Asked) && a.Expires.Equal(b.Expires) && a.Pushed.Equal(b.Pushed) &&
		a.Updated.Equal(b.Updated)
}

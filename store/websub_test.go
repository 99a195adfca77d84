package store_test

import (
	"context"
	"testing"
	"time"

	"vplanet"
	"vplanet/websub"
	"vplanet/websub/websubtest"
)

// TestWebSubStore holds both backends to websub's store contracts, the
// cases the in-memory store passes too.
func TestWebSubStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			websubtest.Store(t, func(t *testing.T) websub.Store { return openDSN(t, b.dsn(t)) })
			websubtest.HubStore(t, func(t *testing.T) websub.HubStore { return openDSN(t, b.dsn(t)) })
		})
	}
}

// TestAdvanceHubTopic checks the watermark's compare-and-set: of two
// replicas that read the same watermark, one moves it and the other is
// told it lost, so a post is distributed once.
func TestAdvanceHubTopic(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openDSN(t, dsn), openDSN(t, dsn)
		const topic = "https://planet.example.org/feed.atom?q=vsan"
		if _, ok, err := a.FindHubTopic(ctx, topic); err != nil || ok {
			t.Fatalf("FindHubTopic before any = ok %v, %v; want false", ok, err)
		}
		for i, want := range []bool{true, false} {
			db := []interface {
				AdvanceHubTopic(context.Context, string, int64, int64, bool) (bool, error)
			}{a, b}[i]
			if got, err := db.AdvanceHubTopic(ctx, topic, 0, 5, false); err != nil || got != want {
				t.Errorf("first creation by replica %d = %v, %v; want %v", i, got, err, want)
			}
		}
		seq, ok, err := b.FindHubTopic(ctx, topic)
		if err != nil || !ok || seq != 5 {
			t.Fatalf("FindHubTopic = %d, %v, %v; want 5, true", seq, ok, err)
		}
		if got, _ := a.AdvanceHubTopic(ctx, topic, 5, 9, true); !got {
			t.Error("advance from the watermark read = false, want true")
		}
		if got, _ := b.AdvanceHubTopic(ctx, topic, 5, 8, true); got {
			t.Error("advance from a stale watermark = true, want false")
		}
		if seq, _, _ := a.FindHubTopic(ctx, topic); seq != 9 {
			t.Errorf("watermark = %d, want 9", seq)
		}
	})
}

// TestSavePush checks that a push stores its posts and the feed's title
// and success, and leaves the fetch state a crawl saved meanwhile.
func TestSavePush(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		f := sync2(t, db, "https://push.example/feed")[0]
		pushed := *f // read before the crawl saved its state
		next := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		f.ETag, f.NextAttempt, f.Status = `"e1"`, next, vplanet.StatusOK
		if _, _, err := db.SaveFetch(ctx, f, nil); err != nil {
			t.Fatal(err)
		}
		pushed.Title, pushed.LastSuccess = "Pushed title", next.Add(-time.Hour)
		created, _, err := db.SavePush(ctx, &pushed, []*vplanet.Post{{ID: "p1", GUID: "p1", Title: "A pushed post",
			URL: "https://push.example/p1", Published: next, Text: "pushed", Lang: "en", Hash: "h1"}})
		if err != nil || created != 1 {
			t.Fatalf("SavePush = %d created, %v; want 1", created, err)
		}
		feeds, err := db.FindFeeds(ctx, vplanet.FeedFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := feeds[0]
		if got.ETag != `"e1"` || !got.NextAttempt.Equal(next) || got.Title != "Pushed title" || !got.LastSuccess.Equal(pushed.LastSuccess) || got.PostCount != 1 {
			t.Errorf("after a push the feed is %+v: want the crawl's ETag and next attempt, the push's title, success and post", got)
		}
	})
}

// TestDropIdleHubTopics: the watermarks of topics nobody is subscribed to
// go once they are older than the cut, and no other.
func TestDropIdleHubTopics(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDSN(t, dsn)
		const (
			subscribed = "https://planet.example.org/feed.atom?q=vsan"
			asked      = "https://planet.example.org/feed.atom?q=nobody+verified+this"
		)
		for _, topic := range []string{subscribed, asked} {
			if _, err := db.AdvanceHubTopic(ctx, topic, 0, 3, false); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		if err := db.PutHubSubscription(ctx, websub.HubSubscription{Topic: subscribed, Callback: "https://reader.example/cb",
			Expires: now.Add(time.Hour), Created: now}); err != nil {
			t.Fatal(err)
		}
		// Within the hour, a request still being verified keeps its mark.
		if n, err := db.DropIdleHubTopics(ctx, now.Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("drop before an hour ago = %d, %v; want 0", n, err)
		}
		if n, err := db.DropIdleHubTopics(ctx, now.Add(time.Minute)); err != nil || n != 1 {
			t.Errorf("drop before now = %d, %v; want 1 (the topic nobody subscribed to)", n, err)
		}
		if _, ok, _ := db.FindHubTopic(ctx, asked); ok {
			t.Error("the idle topic's watermark is still there")
		}
		if seq, ok, _ := db.FindHubTopic(ctx, subscribed); !ok || seq != 3 {
			t.Errorf("the subscribed topic's watermark = %d, %v; want 3, kept", seq, ok)
		}
		// Its last subscription ended, the topic is idle too.
		if err := db.DeleteHubSubscription(ctx, subscribed, "https://reader.example/cb"); err != nil {
			t.Fatal(err)
		}
		if n, err := db.DropIdleHubTopics(ctx, now.Add(time.Minute)); err != nil || n != 1 {
			t.Errorf("drop after the last subscription ended = %d, %v; want 1", n, err)
		}
	})
}

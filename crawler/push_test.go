package crawler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"vplanet"
	"vplanet/websub"
)

// TestIngestStoresLikeAFetch checks that a pushed body is stored as the
// same body fetched is: the fetch into one store is the oracle for the
// push into another.
func TestIngestStoresLikeAFetch(t *testing.T) {
	srv := newFeedServer(t)
	ctx := context.Background()
	feedURL := srv.URL + "/atom.xml"

	fetchedDB, pushedDB := openStore(t), openStore(t)
	syncFeeds(t, fetchedDB, feedURL)
	syncFeeds(t, pushedDB, feedURL)
	if _, err := New(fetchedDB, Options{SkipPages: true}).Run(ctx, RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	c := New(pushedDB, Options{SkipPages: true})
	if err := c.Ingest(ctx, feedURL, mustRead(t, "atom.xml"), "application/atom+xml"); err != nil {
		t.Fatal(err)
	}
	want, _ := fetchedDB.RecentPosts(ctx, vplanet.PostFilter{Limit: 100})
	got, _ := pushedDB.RecentPosts(ctx, vplanet.PostFilter{Limit: 100})
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("pushed %d posts, fetched %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Title != want[i].Title || got[i].URL != want[i].URL ||
			got[i].Text != want[i].Text || got[i].Lang != want[i].Lang || !got[i].Published.Equal(want[i].Published) {
			t.Errorf("post %d pushed = %+v\nfetched = %+v", i, got[i], want[i])
		}
	}
	feeds, _ := pushedDB.FindFeeds(ctx, vplanet.FeedFilter{})
	if feeds[0].LastSuccess.IsZero() || !feeds[0].NextAttempt.IsZero() || feeds[0].ETag != "" {
		t.Errorf("after a push the feed is %+v: want a success recorded and its fetch state untouched", feeds[0])
	}

	t.Run("unlisted feed", func(t *testing.T) {
		if err := c.Ingest(ctx, srv.URL+"/other.xml", mustRead(t, "atom.xml"), "application/atom+xml"); err == nil {
			t.Error("Ingest of a feed not listed succeeded")
		}
	})
	t.Run("not a feed", func(t *testing.T) {
		if err := c.Ingest(ctx, feedURL, []byte("<html>nothing</html>"), "text/html"); err == nil {
			t.Error("Ingest of an HTML page succeeded")
		}
	})
}

// TestSubscribeAfterFetch checks that a fetched feed naming a hub in its
// Link header is subscribed at that hub with its self link as the topic,
// and that a feed whose hub pushes is polled at the slower rhythm, and
// again at its own once the subscription is no longer active.
func TestSubscribeAfterFetch(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var asked []url.Values
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		asked = append(asked, r.PostForm)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hub.Close()
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		w.Header().Add("Link", `<`+hub.URL+`/>; rel="hub"`)
		w.Write(mustRead(t, "atom.xml"))
	}))
	defer feed.Close()

	db := openStore(t)
	syncFeeds(t, db, feed.URL+"/atom.xml")
	subs := websub.NewMemoryStore()
	c := New(db, Options{SkipPages: true})
	m, err := websub.NewManager(websub.ManagerConfig{Callback: "http://127.0.0.1:1/websub/callback/", Store: subs, Private: c.Private})
	if err != nil {
		t.Fatal(err)
	}
	c.subs = m
	start := time.Now()
	if _, err := c.Run(ctx, RunOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(asked) != 1 || asked[0].Get("hub.mode") != "subscribe" ||
		asked[0].Get("hub.topic") != "https://cormac.example/blog/feed.atom" {
		t.Fatalf("hub was asked %v, want one subscription to the feed's self link", asked)
	}
	mu.Unlock()
	s, err := subs.FindFeedSubscription(ctx, feed.URL+"/atom.xml")
	if err != nil || s.State != websub.StatePending {
		t.Fatalf("subscription = %+v, %v; want pending", s, err)
	}
	next := func() time.Duration {
		feeds, _ := db.FindFeeds(ctx, vplanet.FeedFilter{})
		return feeds[0].NextAttempt.Sub(start)
	}
	normal := next()
	if normal > c.bounds.max {
		t.Fatalf("pending subscription: next attempt in %v, want at most the longest rhythm %v", normal, c.bounds.max)
	}

	s.State, s.Expires, s.Pushed = websub.StateActive, time.Now().Add(24*time.Hour), time.Now()
	subs.PutSubscription(ctx, s)
	c.Run(ctx, RunOptions{All: true})
	if got, want := next(), c.pushedRhythm(0); got < want-dueSlack(want)-time.Minute {
		t.Errorf("pushing feed: next attempt in %v, want about %v", got, want)
	}

	s.Pushed, s.Asked = time.Now().Add(-8*24*time.Hour), time.Now().Add(-8*24*time.Hour)
	subs.PutSubscription(ctx, s)
	c.Run(ctx, RunOptions{All: true})
	if got := next(); got > c.bounds.max {
		t.Errorf("hub silent for 8 days: next attempt in %v, want its own rhythm (at most %v)", got, c.bounds.max)
	}
}

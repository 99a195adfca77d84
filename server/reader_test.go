package server

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"vplanet"
)

// failFeed records a failed fetch of the feed at u with the error msg.
func (e *env) failFeed(tb testing.TB, u, msg string) {
	tb.Helper()
	f := e.feeds[u]
	f.Status, f.LastError, f.ErrorCount = vplanet.StatusError, msg, 1
	f.LastAttempt = time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	f.NextAttempt = f.LastAttempt.Add(5 * time.Minute)
	if _, _, err := e.st.SaveFetch(context.Background(), f, nil); err != nil {
		tb.Fatal(err)
	}
}

// TestErrorCategories shows the public pages a category of a feed's error,
// never the error, which may echo what answered on an internal port; the
// operator's token shows the error itself.
func TestErrorCategories(t *testing.T) {
	e := newEnv(t, Config{Token: "secret"})
	raw := `malformed HTTP status code "frontend"`
	e.failFeed(t, jaBlog, raw)
	slug := e.feeds[jaBlog].Slug

	tests := []struct {
		name, target string
		header       []string
		want         string
	}{
		{"blogs", "/blogs", nil, "(unreachable)"},
		{"blogs in Japanese", "/blogs?hl=ja", nil, "(接続できない)"},
		{"blog page", "/blogs/" + slug, nil, "(unreachable)"},
		{"api", "/api/feeds", nil, `"last_error":"unreachable"`},
		{"api for the owner", "/api/feeds", []string{"Authorization", "Bearer secret"}, `frontend`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.get(t, tt.target, tt.header...)
			body := w.Body.String()
			if w.Code != 200 || !strings.Contains(body, tt.want) {
				t.Errorf("got %d, want 200 with %q:\n%s", w.Code, tt.want, body)
			}
			if tt.header == nil && strings.Contains(body, "frontend") {
				t.Errorf("the raw error reached a public page")
			}
		})
	}
	if w := e.get(t, "/api/feeds", "Authorization", "Bearer wrong"); w.Code != 403 {
		t.Errorf("wrong token: got %d, want 403", w.Code)
	}
}

func TestProblemKinds(t *testing.T) {
	tests := []struct{ err, status, want string }{
		{"connection refused: nothing answers at that address and port", "error", "unreachable"},
		{`malformed HTTP status code "frontend"`, "error", "unreachable"},
		{"HTTP 410 Gone: the feed was removed", "gone", "gone"},
		{"HTTP 404 Not Found", "error", "not_found"},
		{"not a feed: the page is HTML and links no feed", "error", "not_feed"},
		{"redirect loop: a leads back to b", "error", "redirects"},
		{"timed out: the server did not send the whole feed in time", "error", "timeout"},
		{"HTTP 503 Service Unavailable", "error", "server"},
		{"feed too large: over the 16 MiB limit", "error", "too_big"},
		{"something new", "error", "other"},
		{"", "ok", ""},
	}
	for _, tt := range tests {
		if got := problem(&vplanet.Feed{LastError: tt.err, Status: tt.status}); got != tt.want {
			t.Errorf("problem(%q): got %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestNextCheck never says a check is in the past.
func TestNextCheck(t *testing.T) {
	now := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		next time.Time
		lang string
		want string
	}{
		{"past", now.Add(-5 * time.Minute), "en", "due now"},
		{"soon", now.Add(25 * time.Minute), "en", "in 25 minutes"},
		{"hours", now.Add(2*time.Hour + time.Minute), "ja", "2 時間後"},
		{"never set", time.Time{}, "en", "due now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &page{Lang: tt.lang, now: now, loc: time.UTC}
			if got := p.NextCheck(&vplanet.Feed{Status: vplanet.StatusOK, NextAttempt: tt.next}); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		d          time.Duration
		lang, want string
	}{
		{30 * time.Second, "en", "just now"},
		{time.Minute, "en", "1 minute ago"},
		{5 * time.Minute, "ja", "5 分前"},
		{3 * time.Hour, "en", "3 hours ago"},
		{25 * time.Hour, "en", "yesterday"},
		{25 * time.Hour, "ja", "昨日"},
		{72 * time.Hour, "ja", "3 日前"},
		{400 * 24 * time.Hour, "en", "2025-10-18"},
	}
	for _, tt := range tests {
		p := &page{Lang: tt.lang, now: now, loc: time.UTC}
		if got := p.Ago(now.Add(-tt.d)); got != tt.want {
			t.Errorf("%s ago in %s: got %q, want %q", tt.d, tt.lang, got, tt.want)
		}
	}
}

// TestOPMLLiveFeeds exports only feeds that work, with their names.
func TestOPMLLiveFeeds(t *testing.T) {
	e := newEnv(t, Config{})
	e.failFeed(t, jaBlog, "HTTP 404 Not Found")
	for _, tt := range []struct {
		target string
		want   []string
	}{
		{"/blogs.opml", []string{"Example Blog"}},
		{"/blogs.opml?all=1", []string{"例のブログ", "Example Blog"}},
	} {
		w := e.get(t, tt.target)
		var doc opmlDoc
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		var got []string
		for _, o := range doc.Body {
			got = append(got, o.Title)
			if o.Title == o.XMLURL {
				t.Errorf("%s: title is the URL %q", tt.target, o.Title)
			}
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, want %q", tt.target, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	e := newEnv(t, Config{Glossary: [][]string{{"VCHA", "vCenter HA"}, {"vSAN", "Virtual SAN"}}})
	w := e.get(t, "/suggest?q=VCHA")
	if ct := w.Header().Get("Content-Type"); ct != "application/x-suggestions+json" {
		t.Errorf("content type %q", ct)
	}
	var got []any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got) != 2 {
		t.Fatalf("not [query, [suggestions]]: %s", w.Body)
	}
	if got[0] != "VCHA" {
		t.Errorf("query: got %v", got[0])
	}
	s, _ := json.Marshal(got[1])
	for _, want := range []string{`"VCHA"`, `"VMworld 2017 Europe #4"`} {
		if !strings.Contains(string(s), want) {
			t.Errorf("suggestions %s lack %s", s, want)
		}
	}
	w = e.get(t, "/suggest?q=v")
	if !strings.Contains(w.Body.String(), "vCenter HA") || !strings.Contains(w.Body.String(), "Virtual SAN") {
		t.Errorf("prefix v: got %s, want glossary terms", w.Body)
	}
	if body := e.get(t, "/opensearch.xml").Body.String(); !strings.Contains(body, `type="application/x-suggestions+json"`) {
		t.Errorf("opensearch.xml does not offer suggestions:\n%s", body)
	}
}

// TestSubscribePage gives the feeds' addresses and says what to do with
// them, in both languages.
func TestSubscribePage(t *testing.T) {
	e := newEnv(t, Config{})
	slug := e.feeds[enBlog].Slug
	tests := []struct {
		target string
		wants  []string
	}{
		{"/subscribe", []string{"https://planet.example.org/feed.atom", "https://planet.example.org/feed.json", "feed reader"}},
		{"/subscribe?hl=ja", []string{"https://planet.example.org/feed.rss", "フィードリーダー"}},
		{"/subscribe?q=VCHA", []string{"https://planet.example.org/feed.atom?q=VCHA"}},
		{"/subscribe?blog=" + slug, []string{"https://planet.example.org/blogs/" + slug + "/feed.rss", "Example Blog"}},
	}
	for _, tt := range tests {
		w := e.get(t, tt.target)
		for _, want := range tt.wants {
			if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
				t.Errorf("%s: got %d, want 200 with %q", tt.target, w.Code, want)
			}
		}
	}
	if w := e.get(t, "/"); !strings.Contains(w.Body.String(), `href="/subscribe">Feed</a>`) {
		t.Errorf("the header's Feed link does not lead to the subscribe page")
	}
}

// TestEmptyFeedUpdated: a search feed that finds nothing says it was
// updated when the site last was, not in 1970.
func TestEmptyFeedUpdated(t *testing.T) {
	e := newEnv(t, Config{})
	body := e.get(t, "/feed.atom?q=zzyzx").Body.String()
	if !strings.Contains(body, "<updated>2018-01-01T00:00:00Z</updated>") || strings.Contains(body, "1970") {
		t.Errorf("empty search feed's updated: want the newest post's date, 2018-01-01:\n%s", body)
	}
}

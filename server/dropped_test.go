package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestDroppedShown: a feed trimmed to its newest 1,000 items says so on
// /api/feeds, /blogs and its blog page, in both languages.
func TestDroppedShown(t *testing.T) {
	e := newEnv(t, Config{})
	f := e.feeds[enBlog]
	f.Dropped = 250
	if _, _, err := e.st.SaveFetch(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	w := e.get(t, "/api/feeds")
	var feeds []struct {
		URL     string `json:"url"`
		Dropped int    `json:"dropped"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &feeds); err != nil {
		t.Fatal(err)
	}
	for _, got := range feeds {
		want := 0
		if got.URL == enBlog {
			want = 250
		}
		if got.Dropped != want {
			t.Errorf("/api/feeds: %s dropped %d, want %d", got.URL, got.Dropped, want)
		}
	}
	tests := []struct{ name, target, lang, want string }{
		{"blogs", "/blogs", "en", "the feed lists 250 more items than the newest 1,000 kept"},
		{"blogs ja", "/blogs?hl=ja", "ja", "新しい 1,000 件を超える 250 件は取り込んでいません"},
		{"blog page", "/blogs/" + f.Slug, "en", "the feed lists 250 more items than the newest 1,000 kept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.get(t, tt.target).Body.String()
			if !strings.Contains(body, tt.want) {
				t.Errorf("%s does not say %q", tt.target, tt.want)
			}
			if strings.Count(body, `class="dropped"`) != 1 {
				t.Errorf("%s: %d notes of dropped items, want 1 (the other blog dropped none)", tt.target, strings.Count(body, `class="dropped"`))
			}
		})
	}
}

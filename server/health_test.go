package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthz(t *testing.T) {
	e := newEmptyEnv(t, Config{})
	check := func(t *testing.T, status int, wantStatus string) health {
		t.Helper()
		w := e.get(t, "/healthz")
		if got := w.Code; got != status {
			t.Fatalf("status: got %d, want %d; body %s", got, status, w.Body)
		}
		var h health
		if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil {
			t.Fatal(err)
		}
		if h.Status != wantStatus {
			t.Errorf("status field: got %q, want %q", h.Status, wantStatus)
		}
		return h
	}
	t.Run("empty", func(t *testing.T) { check(t, 200, "ok") })
	e.save(t, testPosts())
	t.Run("not indexed yet", func(t *testing.T) {
		h := check(t, 503, "catching up")
		if h.Lag != 4 {
			t.Errorf("lag: got %d, want 4", h.Lag)
		}
	})
	e.catchUp(t)
	t.Run("caught up", func(t *testing.T) {
		h := check(t, 200, "ok")
		if h.Lag != 0 || h.Posts != 4 || h.Seq == 0 || h.Seq != h.IndexedSeq {
			t.Errorf("got %+v, want lag 0, 4 posts, seq = indexed seq > 0", h)
		}
	})
}

func TestReindex(t *testing.T) {
	post := func(e *env, auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/api/reindex", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return e.do(t, r)
	}
	t.Run("off without a token", func(t *testing.T) {
		e := newEnv(t, Config{})
		if got, want := post(e, "Bearer anything").Code, 403; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
	})
	e := newEnv(t, Config{Token: "s3cret"})
	for _, tt := range []struct {
		name, auth string
		status     int
	}{
		{"no header", "", 401},
		{"basic auth", "Basic czNjcmV0", 401},
		{"wrong token", "Bearer guess", 403},
		{"prefix of token", "Bearer s3cre", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := post(e, tt.auth)
			if got := w.Code; got != tt.status {
				t.Errorf("status: got %d, want %d; body %s", got, tt.status, w.Body)
			}
			if !strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("body: got %s, want an error", w.Body)
			}
		})
	}
	t.Run("already running", func(t *testing.T) {
		e.s.reindexing.Store(true)
		defer e.s.reindexing.Store(false)
		if got, want := post(e, "Bearer s3cret").Code, 409; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
		// Accepted but not started yet is already "rebuilding".
		w := e.get(t, "/healthz")
		if got, want := w.Code, 503; got != want || !strings.Contains(w.Body.String(), `"rebuilding"`) {
			t.Errorf("healthz: got %d %s, want %d rebuilding", got, w.Body, want)
		}
	})
	t.Run("right token", func(t *testing.T) {
		if got, want := post(e, "Bearer s3cret").Code, 202; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		deadline := time.Now().Add(30 * time.Second)
		for e.s.reindexing.Load() {
			if time.Now().After(deadline) {
				t.Fatal("rebuild did not finish in 30s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := e.get(t, "/healthz").Code; got != 200 {
			t.Errorf("healthz after rebuild: got %d, want 200", got)
		}
		w := e.get(t, "/api/search?q=VCHA")
		if w.Code != 200 || !strings.Contains(w.Body.String(), "ja-4") {
			t.Errorf("search after rebuild: got %d %s, want 200 with ja-4", w.Code, w.Body)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		if got, want := e.get(t, "/api/reindex").Code, 404; got != want {
			t.Errorf("GET /api/reindex: got %d, want %d", got, want)
		}
	})
}

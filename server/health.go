package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// maxLag is how many store changes the index may trail by and still be
// called ready. A crawl adds a few hundred at a time, which the follower
// applies in seconds; tens of thousands means a first build is under way.
const maxLag = 10000

type health struct {
	Status     string `json:"status"` // "ok", "rebuilding", "catching up", "error"
	Seq        int64  `json:"seq"`
	IndexedSeq int64  `json:"indexed_seq"`
	Lag        int64  `json:"lag"`
	Posts      int    `json:"posts"`
	Progress   *int   `json:"progress,omitempty"` // posts applied so far by a rebuild
	Schema     int    `json:"schema,omitempty"`   // the store's schema version
	Error      string `json:"error,omitempty"`
}

// handleHealthz answers GET /healthz: 200 when searches can be answered,
// 503 while the index is rebuilt or far behind the store, so that a load
// balancer waits.
func (s *server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if c := r.URL.Query().Get("challenge"); c != "" && s.cfg.Token != "" && len(c) <= 128 {
			w.Header().Set(ProofHeader, Proof(s.cfg.Token, c))
		}
		ctx := r.Context()
		h := health{Status: "ok", IndexedSeq: s.ix.Seq()}
		var err error
		if h.Seq, err = s.st.MaxSeq(ctx); err == nil {
			h.Posts, err = s.st.CountPosts(ctx)
		}
		if err != nil {
			// The details go to the log.
			s.log.Error("healthz: read store", "err", err)
			h.Status, h.Error = "error", "the store is unreachable"
			status := http.StatusServiceUnavailable
			if rebuilding, _ := s.ix.Rebuilding(); s.st.HasMirror() && h.IndexedSeq > 0 && !rebuilding {
				// A replica with its own copy of the posts still answers
				// searches: a load balancer keeps sending them.
				h.Status = "store unreachable"
				h.Error += "; searches answer from this replica's index and its copy of the posts, new posts wait"
				status = http.StatusOK
			}
			writeJSON(w, r, status, h)
			return
		}
		h.Schema, _ = s.st.SchemaVersion(ctx)
		h.Lag = max(h.Seq-h.IndexedSeq, 0)
		status := http.StatusOK
		// reindexing covers the moment between accepting POST /api/reindex
		// and the rebuild starting, so that a client polling right after
		// its 202 never sees a 200 from the old index.
		if rebuilding, n := s.ix.Rebuilding(); rebuilding || s.reindexing.Load() {
			h.Status, h.Progress, status = "rebuilding", &n, http.StatusServiceUnavailable
		} else if h.Lag > maxLag || (h.IndexedSeq == 0 && h.Seq > 0) {
			h.Status, status = "catching up", http.StatusServiceUnavailable
		}
		writeJSON(w, r, status, h)
	})
}

// ProofHeader carries, on /healthz?challenge=C, the proof that the server
// holds the operator's token: a client that finds a server at the address
// the data directory records checks it before it sends the token, which
// must never reach whatever else listens there after the server died.
const ProofHeader = "Vplanet-Proof"

// Proof is the HMAC-SHA256 of challenge keyed by token, in hex: it shows
// the token is known without giving it away.
func Proof(token, challenge string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}

// handleReindex answers POST /api/reindex: with the operator's token, it
// starts a rebuild of the index from the store and answers 202 at once;
// /healthz shows its progress.
func (s *server) handleReindex() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorize(r); err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		if rebuilding, _ := s.ix.Rebuilding(); rebuilding || !s.reindexing.CompareAndSwap(false, true) {
			s.writeJSONError(w, r, errRebuilding)
			return
		}
		go func() {
			defer s.reindexing.Store(false)
			s.log.Info("reindex started")
			// The rebuild outlives the request that asked for it.
			if err := s.ix.Rebuild(context.Background(), s.st, nil); err != nil {
				s.log.Error("reindex failed", "err", err)
				return
			}
			s.log.Info("reindex finished")
		}()
		writeJSON(w, r, http.StatusAccepted, map[string]string{"status": "started"})
	})
}

// authorize checks the request's bearer token against the configured one
// in constant time.
func (s *server) authorize(r *http.Request) error {
	if s.cfg.Token == "" {
		return errNoReindex
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return errNoToken
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.cfg.Token)) != 1 {
		return errBadToken
	}
	return nil
}

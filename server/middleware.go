package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// contentSecurityPolicy allows only the site's own script file (no inline
// script, no eval) and no request to another site: the pages work without
// JavaScript, the script only adds suggestions as one types, and the
// snippets the pages show must not be able to load or run anything.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; only POST /api/reindex reads one, and it
// needs none.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A hub's content distribution is a whole feed, bounded by the
		// callback's own limit (a fetch's), not by this one.
		if r.Body != nil && !strings.HasPrefix(r.URL.Path, "/websub/callback/") {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler's panic into a logged 500, so that one bad
// request never takes the process down with it.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err := fmt.Errorf("panic: %v", v)
			if rec, ok := w.(*recorder); ok && rec.wrote {
				// Too late for a status; cut the connection short instead.
				s.log.Error("request failed after answering", "method", r.Method, "path", r.URL.Path, "err", err)
				panic(http.ErrAbortHandler)
			}
			s.writeHTMLError(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// observe logs one line per request at debug level and records its latency
// by route.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			d := time.Since(start)
			// The mux fills r.Pattern with the route it chose.
			route := r.Pattern
			if route == "" {
				route = "none"
			}
			s.metrics.observeRequest(route, rec.status, d)
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "route", route,
				"status", rec.status, "bytes", rec.bytes, "duration", d, "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder remembers the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (rec *recorder) WriteHeader(status int) {
	if !rec.wrote {
		rec.status = status
		rec.wrote = true
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(p []byte) (int, error) {
	rec.wrote = true
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

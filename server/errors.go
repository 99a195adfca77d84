package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"vplanet"
	"vplanet/store"
)

// requestError is a problem with the request itself, with the status to
// answer and a message the person who sent it can act on.
type requestError struct {
	status int
	msg    string
	err    error  // the sentinel it stands for, if any
	key    string // the message's key, for pages in another language; "" = msg only
	args   []any  // the message's arguments
}

func (e *requestError) Error() string { return e.msg }
func (e *requestError) Unwrap() error { return e.err }

// badRequest reports a parameter that cannot be understood. It wraps
// vplanet.ErrBadQuery so that it answers 400 like a bad query does.
func badRequest(msg string) error {
	return &requestError{status: http.StatusBadRequest, msg: msg, err: vplanet.ErrBadQuery}
}

// badQuery is badRequest with the message's key and arguments, for the
// pages in Japanese.
func badQuery(key string, args []any, msg string) error {
	return &requestError{status: http.StatusBadRequest, msg: msg, err: vplanet.ErrBadQuery, key: key, args: args}
}

// Errors of the reindex endpoint.
var (
	errNoToken = &requestError{status: http.StatusUnauthorized, key: "err_no_token",
		msg: "missing bearer token: send Authorization: Bearer <token> (the token is in the data directory's server.json)"}
	errBadToken  = &requestError{status: http.StatusForbidden, msg: "wrong token", key: "err_bad_token"}
	errNoReindex = &requestError{status: http.StatusForbidden,
		msg: "reindex over HTTP is off: the server was started without a token"}
	errRebuilding = &requestError{status: http.StatusConflict,
		msg: "the index is already being rebuilt; wait for /healthz to answer 200"}
)

// errorStatus is the one place where an error becomes an HTTP status and
// a message. Errors it does not recognize are logged with the request that
// met them and answered with a generic message, so that no internal detail
// (paths, SQL, stack traces) reaches the client.
func (s *server) errorStatus(r *http.Request, err error) (int, string) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		return re.status, re.msg
	case errors.Is(err, vplanet.ErrBadQuery):
		// "after: wants a date like 2017-09-01: bad query" reads better
		// without the sentinel's own words at the end.
		msg := strings.TrimSuffix(err.Error(), ": "+vplanet.ErrBadQuery.Error())
		return http.StatusBadRequest, msg
	case errors.Is(err, vplanet.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, store.ErrUnreachable):
		// It passes: the store reconnects by itself.
		s.log.Warn("request failed: the database is unreachable", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusServiceUnavailable, "the database is unreachable for now; searches still answer; try again in a minute"
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("request timed out", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusServiceUnavailable, "the search took too long; try fewer or more specific words"
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		return 499, "request cancelled"
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "internal error: the server could not answer; it has been logged"
}

// writeJSONError answers err as {"error": message}.
func (s *server) writeJSONError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.errorStatus(r, err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vplanet"`)
	}
	retryLater(w, err)
	writeJSON(w, r, status, map[string]string{"error": msg})
}

// writeHTMLError answers err with the site's error page, in the page's
// language.
func (s *server) writeHTMLError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.errorStatus(r, err)
	retryLater(w, err)
	s.render(w, r, status, "error", &errorPage{Status: status, Message: localize(r, err, status, msg)})
}

// retryLater tells the feed readers and crawlers that meet a database
// away when to come back (RFC 9110, section 10.2.3): a minute, as the
// message says, rather than at their next poll, which may be hours.
func retryLater(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrUnreachable) {
		w.Header().Set("Retry-After", "60")
	}
}

// localError is the message of an error that errorStatus answers with
// 400, in the page's language.
func (s *server) localError(r *http.Request, err error) string {
	status, msg := s.errorStatus(r, err)
	return localize(r, err, status, msg)
}

// localize translates the message errorStatus made of err (with status)
// into the page's language. The index speaks English; its known messages
// are recognized and translated, and anything else is shown as it is.
func localize(r *http.Request, err error, status int, msg string) string {
	lang, _ := uiLang(r)
	p := &page{Lang: lang}
	var re *requestError
	switch {
	case errors.As(err, &re) && re.key != "":
		return p.Tf(re.key, re.args...)
	case status == http.StatusNotFound:
		return p.T("err_not_found")
	case errors.Is(err, store.ErrUnreachable):
		return p.T("err_unreachable")
	case status == http.StatusServiceUnavailable:
		return p.T("err_too_slow")
	case status == http.StatusInternalServerError:
		return p.T("err_internal")
	case status == http.StatusTooManyRequests:
		return p.T("err_too_many")
	}
	for _, ie := range indexErrors {
		if m := ie.re.FindStringSubmatch(msg); m != nil {
			args := make([]any, len(m)-1)
			for i, a := range m[1:] {
				args[i] = a
			}
			return p.Tf(ie.key, args...)
		}
	}
	return msg
}

// writeJSON answers v as JSON with the given status: compact, as programs
// read it, or indented for a person who adds ?pretty, as in Elasticsearch.
// Indenting costs a third of the encoding of a search's answer.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if r.URL.Query().Has("pretty") {
		enc.SetIndent("", "  ")
	}
	enc.Encode(v) // a write error means the client left; nothing to do
}

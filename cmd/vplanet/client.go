package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"vplanet/server"
)

// serverInfo is what a running `vplanet serve` records in its data directory
// (server.json), so that commands run beside it (search, reindex) ask it
// rather than wait on the index it holds.
type serverInfo struct {
	Addr    string    `json:"addr"`  // host:port to dial
	PID     int       `json:"pid"`   // the serving process
	Token   string    `json:"token"` // authorizes POST /api/reindex; the file is readable by its owner only
	Started time.Time `json:"started"`
}

// nowString is the local time, for lock holders and messages.
func nowString() string { return time.Now().Format(time.DateTime) }

// dialAddr turns a listener's address into one a local client can dial:
// a wildcard host (":8080", "[::]:8080") becomes the loopback address.
func dialAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// writeServerInfo writes info to path atomically, readable by its owner only.
func writeServerInfo(path string, info serverInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".server-*.json")
	if err != nil {
		return fmt.Errorf("record server address: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("record server address: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("record server address: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("record server address: %w", err)
	}
	return nil
}

// removeServerInfo removes path if it still describes this server (a newer
// server may have replaced it).
func removeServerInfo(path string, info serverInfo) {
	if cur, err := readServerInfo(path); err == nil && cur.PID == info.PID && cur.Token == info.Token {
		os.Remove(path)
	}
}

func readServerInfo(path string) (serverInfo, error) {
	var info serverInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// client talks to a running `vplanet serve`.
type client struct {
	base  string // "http://127.0.0.1:8080"
	token string
	http  *http.Client
}

// findServer returns a client for the server recorded in the data directory,
// or nil when none answers (none started, or it died and left its record).
func findServer(ctx context.Context, cfg *config) *client {
	info, err := readServerInfo(cfg.serverPath())
	if err != nil || info.Addr == "" {
		return nil
	}
	c := &client{base: "http://" + info.Addr, token: info.Token, http: &http.Client{Timeout: 30 * time.Second}}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Whatever answers at the recorded address must first prove it holds
	// the recorded token, without either side sending it: after the
	// server died (kill -9 leaves its record) another process may listen
	// there.
	nonce := make([]byte, 16)
	rand.Read(nonce)
	challenge := hex.EncodeToString(nonce)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/healthz?challenge="+challenge, nil)
	if err != nil {
		return nil
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil
	}
	resp.Body.Close()
	if !hmac.Equal([]byte(resp.Header.Get(server.ProofHeader)), []byte(server.Proof(info.Token, challenge))) {
		return nil // not the recorded server: answer from the data directory instead
	}
	return c
}

// localClient answers requests in this process, from a server built on the
// store and index this process holds, so that a command run without a
// server prints exactly what it would print with one.
func localClient(h http.Handler) *client {
	return &client{base: "http://vplanet.local", http: &http.Client{Transport: handlerTransport{h}}}
}

// handlerTransport is an http.RoundTripper that calls a handler directly.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// do sends a request and decodes a JSON answer into v. An error answer's
// {"error": …} message becomes the error.
func (c *client) do(ctx context.Context, method, path string, query url.Values, v any) (int, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return 0, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("ask the running server: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read the server's answer: %w", err)
	}
	body = cleanJSON(body)
	if resp.StatusCode >= 400 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return resp.StatusCode, errors.New(e.Error)
		}
		return resp.StatusCode, fmt.Errorf("server answered %s", cleanText(resp.Status))
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			return resp.StatusCode, fmt.Errorf("read the server's answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// cleanJSON removes control characters (escape sequences that would move a
// terminal's cursor or retitle its window) and bidirectional formatting
// characters (which reorder what is shown) from a JSON answer's strings,
// so that nothing a feed or a stranger's server wrote reaches the terminal
// as anything but text. It works on the JSON text, escaped or raw, so the
// answer keeps its layout and order for --json; an escaped backslash
// before a "u" is text, not an escape, and is left alone.
func cleanJSON(body []byte) []byte {
	// A match takes the character before it, so escapes side by side
	// need another pass.
	for jsonControl.Match(body) {
		body = jsonControl.ReplaceAll(body, []byte("$1"))
	}
	return []byte(cleanText(string(body)))
}

// jsonControl matches a JSON escape of a C0 or C1 control character or a
// bidirectional formatting character, after an even run of backslashes
// (kept by $1); \b and \f too. \n, \r and \t stay: they are how a
// string says line and tab, and printing them moves nothing but the line.
var jsonControl = regexp.MustCompile(`((?:^|[^\\])(?:\\\\)*)\\(?:u00[01][0-9a-fA-F]|u007[fF]|u00[89][0-9a-fA-F]|u061[cC]|u200[eEfF]|u202[a-eA-E]|u206[6-9]|[bf])`)

// cleanText drops control characters other than tab and newline, and
// bidirectional formatting characters, from s.
func cleanText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n':
			return r
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
}

// terminal reports whether w is a terminal, where progress and colour help.
func (env *cmdEnv) terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && !strings.EqualFold(env.getenv("TERM"), "dumb")
}

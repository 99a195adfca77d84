package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vplanet/server"
)

// hostileAnswer is a search answer whose strings carry a terminal escape
// (clear the screen, retitle the window) and a right-to-left override.
const hostileAnswer = `{"query":"x","total":1,"took_ms":1,"hits":[{"id":"1","title":"Title\u001b[2J\u001b]0;owned\u0007 here",` +
	`"url":"https://example.com/\u202etxt.exe","blog":"B\u009b31m","blog_id":"b","published":"2020-01-01T00:00:00Z","lang":"en",` +
	`"snippet":"a \\u001b stays text \u001b[31mred"}],"facets":{}}`

// TestSearchAsksOnlyTheRecordedServer leaves a server record behind (as a
// kill -9 would) with another process listening at its address: search
// must not send that process the token, and answers from the data
// directory instead. A server that proves it holds the token is asked,
// and nothing it answers reaches the terminal as a control character.
func TestSearchAsksOnlyTheRecordedServer(t *testing.T) {
	const token = "0123456789abcdef"
	tests := []struct {
		name      string
		proves    bool
		wantAsked bool
	}{
		{"another process at the address", false, false},
		{"the recorded server", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sawToken, asked atomic.Bool
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.Header.Get("Authorization"), token) {
					sawToken.Store(true)
				}
				if r.URL.Path == "/healthz" {
					if c := r.URL.Query().Get("challenge"); tt.proves && c != "" {
						w.Header().Set(server.ProofHeader, server.Proof(token, c))
					}
					io.WriteString(w, `{"status":"ok"}`)
					return
				}
				asked.Store(true)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, hostileAnswer)
			}))
			defer ts.Close()
			data := t.TempDir()
			info, _ := json.Marshal(serverInfo{Addr: strings.TrimPrefix(ts.URL, "http://"), PID: 1, Token: token, Started: time.Now()})
			if err := os.WriteFile(filepath.Join(data, "server.json"), info, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"x"}, {"--json", "x"}} {
				var stdout, stderr bytes.Buffer
				err := run(context.Background(), append([]string{"vplanet", "search", "--data", data}, args...),
					func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
				if err != nil {
					t.Fatalf("search %v: %v\n%s", args, err, stderr.String())
				}
				if sawToken.Load() != tt.proves {
					t.Errorf("token sent: %v, want %v", sawToken.Load(), tt.proves)
				}
				if asked.Load() != tt.wantAsked {
					t.Errorf("asked: %v, want %v", asked.Load(), tt.wantAsked)
				}
				out := stdout.String()
				for _, r := range out {
					if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r < 0xa0 || r == '\u202e' {
						t.Errorf("search %v printed control character %U:\n%q", args, r, out)
						break
					}
				}
				if tt.wantAsked && (!strings.Contains(out, "Title") || !strings.Contains(out, `\u001b stays text`) && !strings.Contains(out, `\\u001b stays text`)) {
					t.Errorf("search %v lost the text around the controls:\n%s", args, out)
				}
			}
		})
	}
}

func TestCleanJSON(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"escape", `{"a":"x\u001b[2Jy"}`, `{"a":"x[2Jy"}`},
		{"side by side", `{"a":"\u001b\u001b\u0007z"}`, `{"a":"z"}`},
		{"escaped backslash is text", `{"a":"\\u001b"}`, `{"a":"\\u001b"}`},
		{"backslash then escape", `{"a":"\\\u001b"}`, `{"a":"\\"}`},
		{"bidi", `{"a":"\u202Eexe.txt"}`, `{"a":"exe.txt"}`},
		{"raw bidi", "{\"a\":\"\u202eexe\"}", `{"a":"exe"}`},
		{"newline kept", `{"a":"x\ny"}`, `{"a":"x\ny"}`},
		{"C1", `{"a":"\u009b31m"}`, `{"a":"31m"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(cleanJSON([]byte(tt.in))); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

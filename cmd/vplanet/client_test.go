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

	"vplanet"
	"vplanet/server"
	"vplanet/store"
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

// TestSearchWider: the search command says how many posts hold a word only
// inside longer words, and --wider lists them after the exact match.
func TestSearchWider(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(data, "vplanet.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SyncFeeds(ctx, []vplanet.FeedSource{{URL: "https://blog.example.jp/feed", Name: "例のブログ", Lang: "ja", Line: 1}}); err != nil {
		t.Fatal(err)
	}
	feeds, err := db.FindFeeds(ctx, vplanet.FeedFilter{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var posts []*vplanet.Post
	for id, text := range map[string]string{"motoki": "本木さんが登壇した。", "roppongi": "六本木で開かれた勉強会。"} {
		posts = append(posts, &vplanet.Post{ID: id, GUID: id, URL: "https://blog.example.jp/" + id, Title: "記録 " + id,
			Published: at, Text: text, Content: text, Lang: "ja", Hash: id})
	}
	feeds[0].Status, feeds[0].LastSuccess = vplanet.StatusOK, at
	if _, _, err := db.SaveFetch(ctx, feeds[0], posts); err != nil {
		t.Fatal(err)
	}
	db.Close()
	search := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, append([]string{"vplanet", "search", "--data", data}, args...),
			func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Fatalf("search %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}
	out := search("本木")
	if !strings.HasPrefix(out, "1 results") || !strings.Contains(out, "1 more match only in part") || strings.Contains(out, "記録 roppongi") {
		t.Errorf("search 本木:\n%s\nwant the exact match and a line saying 1 more matches in part", out)
	}
	out = search("--wider", "本木")
	if !strings.HasPrefix(out, "2 results") || strings.Index(out, "記録 motoki") > strings.Index(out, "記録 roppongi") {
		t.Errorf("search --wider 本木:\n%s\nwant the exact match, then the 六本木 post", out)
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vplanet"
)

// groongaSchema indexes title and text with TokenMecab and NormalizerAuto,
// positions kept for phrases, the way Groonga's documentation sets up
// Japanese full-text search.
const groongaSchema = `table_create Posts TABLE_HASH_KEY ShortText
column_create Posts title COLUMN_SCALAR ShortText
column_create Posts text COLUMN_SCALAR LongText
column_create Posts url COLUMN_SCALAR ShortText
column_create Posts blog COLUMN_SCALAR ShortText
column_create Posts lang COLUMN_SCALAR ShortText
column_create Posts published COLUMN_SCALAR Time
table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenMecab --normalizer NormalizerAuto
column_create Terms posts_index COLUMN_INDEX|WITH_POSITION|WITH_SECTION Posts title,text
`

// groonga is a Groonga database holding the benchmark's posts.
type groonga struct {
	bin, dir, db string
	env          []string
	version      string
	dict         string
}

// newGroonga checks that Groonga and its MeCab tokenizer are installed and
// creates an empty database under dir. A missing piece is errSkip with what
// to install.
func newGroonga(ctx context.Context, dir string) (*groonga, error) {
	bin, err := exec.LookPath("groonga")
	if err != nil {
		return nil, fmt.Errorf("%w: groonga not installed (apt-get install groonga-bin groonga-tokenizer-mecab mecab-ipadic-utf8)", errSkip)
	}
	g := &groonga{bin: bin, dir: dir, db: filepath.Join(dir, "db"), env: os.Environ(), dict: "the system's MeCab dictionary"}
	if out, err := exec.CommandContext(ctx, bin, "--version").Output(); err == nil {
		g.version, _, _ = strings.Cut(string(out), " [")
	}
	// Debian's default MeCab dictionary may be naist-jdic; the comparison
	// wants IPA's, as kagome uses.
	if _, err := os.Stat("/var/lib/mecab/dic/ipadic-utf8/sys.dic"); err == nil {
		rc := filepath.Join(dir, "mecabrc")
		if err := os.WriteFile(rc, []byte("dicdir = /var/lib/mecab/dic/ipadic-utf8\n"), 0o644); err != nil {
			return nil, err
		}
		g.env = append(g.env, "MECABRC="+rc)
		g.dict = "mecab-ipadic-utf8"
	}
	out, err := g.run(ctx, strings.NewReader(groongaSchema), "--log-path", filepath.Join(dir, "groonga.log"), "-n", g.db)
	if err != nil {
		return nil, fmt.Errorf("groonga: create database: %w", err)
	}
	if strings.Contains(out, "TokenMecab") || strings.Contains(out, "[[-") {
		return nil, fmt.Errorf("%w: groonga cannot create the schema (is groonga-tokenizer-mecab installed?): %s", errSkip, firstLine(out, 200))
	}
	return g, nil
}

func (g *groonga) run(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Env = g.env
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, firstLine(string(out), 200))
	}
	return string(out), nil
}

// load loads posts with one load command read from a file, the index built
// while loading, and returns how long it took.
func (g *groonga) load(ctx context.Context, posts []*vplanet.Post) (time.Duration, error) {
	path := filepath.Join(g.dir, "load.json")
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	w.WriteString("load --table Posts\n[\n")
	enc := json.NewEncoder(w)
	for i, p := range posts {
		if i > 0 {
			w.WriteString(",")
		}
		enc.Encode(map[string]any{
			"_key": p.ID, "title": p.Title, "text": p.Text, "url": p.URL, "blog": p.BlogSlug, "lang": p.Lang,
			"published": float64(p.Published.Unix()),
		})
	}
	w.WriteString("]\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	out, err := g.run(ctx, f, "--log-path", filepath.Join(g.dir, "groonga.log"), g.db)
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("groonga load: %w", err)
	}
	// The answer's body is the number of records loaded.
	if !strings.Contains(out, "],"+strconv.Itoa(len(posts))+"]") {
		return 0, fmt.Errorf("groonga load: answered %s, want %d records", firstLine(out, 200), len(posts))
	}
	os.Remove(path)
	return took, nil
}

// groongaServer is `groonga -s --protocol http` on loopback, its query
// cache off.
type groongaServer struct {
	cmd  *exec.Cmd
	base string
}

func (g *groonga) serve(ctx context.Context) (*groongaServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(g.bin, "-s", "--protocol", "http", "--bind-address", "127.0.0.1", "--port", port,
		"--max-threads", strconv.Itoa(runtime.NumCPU()), "--log-path", filepath.Join(g.dir, "groonga.log"), g.db)
	cmd.Env = g.env
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("groonga server: %w", err)
	}
	s := &groongaServer{cmd: cmd, base: "http://127.0.0.1:" + port}
	c := &http.Client{Timeout: time.Second}
	for range 500 {
		if resp, err := c.Get(s.base + "/d/status"); err == nil {
			resp.Body.Close()
			// Groonga caches select answers; vplanet does not, and the
			// same queries repeat, so the cache would measure itself.
			if err := get(ctx, c, s.base+"/d/cache_limit?max=0", nil, http.StatusOK); err != nil {
				s.stop()
				return nil, fmt.Errorf("groonga: turn off the query cache: %w", err)
			}
			return s, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("groonga server did not answer on %s", s.base)
}

// hits asks Groonga how many posts q finds, to check the two engines see
// the same data.
func (s *groongaServer) hits(ctx context.Context, c *http.Client, q query) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, q.groongaURL(s.base), nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var ans []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || len(ans) < 2 {
		return 0, fmt.Errorf("groonga select: %v", err)
	}
	var body [][]json.RawMessage
	if err := json.Unmarshal(ans[1], &body); err != nil || len(body) == 0 || len(body[0]) == 0 {
		return 0, fmt.Errorf("groonga select: unexpected answer %.200s", ans[1])
	}
	var n []int
	if err := json.Unmarshal(body[0][0], &n); err != nil || len(n) == 0 {
		return 0, fmt.Errorf("groonga select: unexpected answer %.200s", ans[1])
	}
	return n[0], nil
}

func (s *groongaServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return string(bytes.ToValidUTF8([]byte(s), []byte("?")))
}

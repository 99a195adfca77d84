package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// moduleRoot returns the directory of the vplanet module that holds dir.
func moduleRoot(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("%s is not inside the vplanet module: run from the repository", dir)
	}
	return filepath.Dir(mod), nil
}

// buildBinary builds cmd/vplanet of the module at root into dir.
func buildBinary(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "vplanet")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/vplanet")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/vplanet: %w\n%s", err, out)
	}
	return bin, nil
}

// procResult is what a finished command took.
type procResult struct {
	Wall   time.Duration
	MaxRSS int64 // bytes: the largest VmHWM seen (see memPeaks)
	Stdout string
}

// runProc runs bin with args to completion, its stderr appended to logf.
func runProc(ctx context.Context, logf io.Writer, bin string, args ...string) (procResult, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = logf
	fmt.Fprintf(logf, "$ vplanet %s\n", strings.Join(args, " "))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return procResult{}, fmt.Errorf("vplanet %s: %w", args[0], err)
	}
	done := make(chan struct{})
	var mem memPeaks
	go mem.watch(cmd.Process.Pid, done)
	err := cmd.Wait()
	close(done)
	res := procResult{Wall: time.Since(start), Stdout: stdout.String(), MaxRSS: mem.hwm.Load()}
	if err != nil {
		return res, fmt.Errorf("vplanet %s: %w (log: %s)", args[0], err, logName(logf))
	}
	return res, nil
}

// memPeaks are the largest memory figures of a process, read from
// /proc/PID/status every 50 ms: VmHWM (its peak RSS), RssAnon (private
// memory: the Go heap, the dictionary) and RssFile (pages of mapped files:
// the index segments, the binary), which the kernel takes back when it
// needs memory. wait4's ru_maxrss cannot be used: Linux carries the peak of
// the process image an exec replaces into the new one, and os/exec starts
// a child from a copy of the harness, which holds the whole community.
type memPeaks struct {
	hwm, anon, file atomic.Int64
}

// watch samples pid until done closes.
func (m *memPeaks) watch(pid int, done <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		m.sample(pid)
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

func (m *memPeaks) sample(pid int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, _ := strings.Cut(line, ":")
		var peak *atomic.Int64
		switch name {
		case "VmHWM":
			peak = &m.hwm
		case "RssAnon":
			peak = &m.anon
		case "RssFile":
			peak = &m.file
		default:
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if kb*1024 > peak.Load() {
			peak.Store(kb * 1024)
		}
	}
}

// memFigures are a process's VmHWM and largest RssAnon and RssFile.
type memFigures struct{ hwm, anon, file int64 }

func logName(w io.Writer) string {
	if f, ok := w.(*os.File); ok {
		return f.Name()
	}
	return "stderr"
}

// serveProc is a running `vplanet serve`.
type serveProc struct {
	cmd     *exec.Cmd
	base    string // http://addr
	started time.Time
	done    chan struct{}
	err     error
	mem     memPeaks
}

// startServe starts vplanet serve on data, with extra flags, and waits
// until it records its address; it does not wait for /healthz.
func startServe(ctx context.Context, logf io.Writer, bin, data, feeds string, extra ...string) (*serveProc, error) {
	info := filepath.Join(data, "server.json")
	os.Remove(info)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--schedule", "off", "--search-per-minute", "-1",
		"--data", data, "--feeds", feeds, "--tz", "UTC"}
	args = append(args, extra...)
	fmt.Fprintf(logf, "$ vplanet %s\n", strings.Join(args, " "))
	s := &serveProc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	s.cmd.Stderr = logf
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("vplanet serve: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	go s.mem.watch(s.cmd.Process.Pid, s.done)
	for {
		var rec struct {
			Addr string `json:"addr"`
			PID  int    `json:"pid"`
		}
		if b, err := os.ReadFile(info); err == nil && json.Unmarshal(b, &rec) == nil && rec.PID == s.cmd.Process.Pid {
			s.base = "http://" + rec.Addr
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("vplanet serve exited before listening: %v (log: %s)", s.err, logName(logf))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// health is the part of /healthz the harness reads.
type health struct {
	code       int
	Seq        int64 `json:"seq"`
	IndexedSeq int64 `json:"indexed_seq"`
	Lag        int64 `json:"lag"`
	Posts      int   `json:"posts"`
}

func (s *serveProc) health(ctx context.Context, c *http.Client) (health, error) {
	var h health
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/healthz", nil)
	resp, err := c.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	h.code = resp.StatusCode
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, err
}

// waitHealth polls /healthz until ok says yes, and returns when that was;
// it gives up after limit. It polls every 5 ms at first and every 100 ms
// after a few seconds: /healthz counts the store's posts, which at 100,000
// posts costs the server about 10 ms, and polling it hard would slow down
// what is being measured.
func (s *serveProc) waitHealth(ctx context.Context, c *http.Client, limit time.Duration, ok func(health) bool) (time.Time, error) {
	start := time.Now()
	deadline := start.Add(limit)
	for {
		if h, err := s.health(ctx, c); err == nil && ok(h) {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			h, err := s.health(ctx, c)
			return time.Time{}, fmt.Errorf("serve not ready after %s: /healthz %d %+v %v", limit, h.code, h, err)
		}
		select {
		case <-s.done:
			return time.Time{}, fmt.Errorf("vplanet serve exited: %v", s.err)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(min(max(time.Since(start)/50, 5*time.Millisecond), 100*time.Millisecond)):
		}
	}
}

// peakRSS reads the process's high-water resident set size from
// /proc/PID/status (VmHWM), in bytes.
func (s *serveProc) peakRSS() int64 {
	s.mem.sample(s.cmd.Process.Pid)
	return s.mem.hwm.Load()
}

// stop ends serve with SIGTERM, if it runs, sampling its memory last.
func (s *serveProc) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.mem.sample(s.cmd.Process.Pid)
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// stopMem stops serve and returns its memory figures: VmHWM as last seen
// before it exited, and the largest RssAnon and RssFile.
func (s *serveProc) stopMem() memFigures {
	s.stop()
	return memFigures{hwm: s.mem.hwm.Load(), anon: s.mem.anon.Load(), file: s.mem.file.Load()}
}

// dropCache writes out the files under dir and asks the kernel to drop them
// from its page cache, as a reboot would: the pages a process maps from
// them afterwards are those it reads, fetched as reads fetch them, not the
// large folios that writing the files left in the cache, which the kernel
// maps whole.
func dropCache(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("drop %s from the page cache: %w", path, err)
		}
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			return fmt.Errorf("drop %s from the page cache: %w", path, err)
		}
		return nil
	})
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// errSkip marks a baseline that could not run here, with the reason.
var errSkip = errors.New("skipped")

// Package pgtest starts real PostgreSQL servers for tests: Debian's
// postgresql package, initialised in a temporary directory and listening on
// a free loopback port. Nothing is mocked; where the server's programs are
// absent, the tests that need one skip with a message that contains
// SkipMessage, so a CI run can refuse to pass with such skips.
//
// One server is shared by a test binary (started on first use, stopped by
// Main); each test gets its own database in it. A test that stops and starts
// the server itself takes a server of its own with Start.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// SkipMessage starts the message of every skip for want of PostgreSQL.
const SkipMessage = "postgresql: initdb not found"

// User and Password are the superuser of every server started here.
const (
	User     = "vplanet"
	Password = "vplanet-test"
)

// Server is one running PostgreSQL server.
type Server struct {
	bin  string // the directory of initdb and postgres
	dir  string // the data directory's parent: data/, the socket, the log
	port int
	cred *syscall.Credential // nil: run as this process's user

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

var (
	shared    *Server
	sharedErr error
	sharedMu  sync.Mutex
	dbCount   atomic.Int64
)

// Main runs the tests of a package that uses the shared server and stops the
// server afterwards: call it from TestMain as os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Close()
	}
	return code
}

// URL returns the URL of a new, empty database on the shared server,
// starting the server on first use. Without PostgreSQL the test skips.
func URL(t testing.TB) string {
	t.Helper()
	sharedMu.Lock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = start()
	}
	s, err := shared, sharedErr
	sharedMu.Unlock()
	if errors.Is(err, ErrNoServer) {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatalf("start postgresql: %v", err)
	}
	return s.NewDatabase(t)
}

// Start starts a server of the test's own, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if errors.Is(err, ErrNoServer) {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatalf("start postgresql: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ErrNoServer is StartServer's error where PostgreSQL is not installed; its
// message starts with SkipMessage.
var ErrNoServer = errors.New(SkipMessage + " under /usr/lib/postgresql/*/bin (apt-get install postgresql)")

// binDir finds the newest installed PostgreSQL's programs.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoServer
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// StartServer starts a server outside a test, for a benchmark's harness:
// the caller closes it. Where PostgreSQL is not installed the error is
// ErrNoServer.
func StartServer() (*Server, error) { return start() }

// AdminURL is the URL of the server's postgres database as its superuser,
// from which databases are created.
func (s *Server) AdminURL() string { return s.url("postgres") }

func start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vplanet-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: the server runs as the
		// package's own user (or nobody), owning its directory.
		s.cred, err = serverUser()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if s.cred != nil {
		os.Chown(pw, int(s.cred.Uid), int(s.cred.Gid))
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", s.dataDir(), "-U", User, "--pwfile", pw,
		"--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	for range 5 {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.Restart(); err == nil {
			return s, nil
		}
	}
	s.Close()
	return nil, err
}

func serverUser() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgtest: running as root and found neither a postgres nor a nobody user to run the server as")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// Port returns the server's port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Restart starts the server after Stop (Start and URL start it already),
// waiting until it accepts connections.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.dataDir(),
		"-p", strconv.Itoa(s.port), "-k", s.dir, "-c", "listen_addresses=127.0.0.1",
		// A test server keeps nothing across a crash of the machine.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = &log, &log
	// Pdeathsig stops the server should the test binary die without
	// cleaning up (a timeout's panic, kill -9).
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.url("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			break
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited (%v) on port %d:\n%s", cmd.ProcessState, s.port, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("postgres did not accept connections within 30s:\n%s", log.String())
		}
	}
	s.cmd, s.done = cmd, done
	return nil
}

// Stop shuts the server down (fast shutdown: sessions are cut off), as an
// operator or a failing database host would.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	return nil
}

// Close stops the server and removes its files.
func (s *Server) Close() {
	s.Stop()
	os.RemoveAll(s.dir)
}

func (s *Server) url(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(User, Password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + db,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates an empty database for the test and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), dbCount.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return s.url(name)
}

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"vplanet"
)

// Lock is an advisory lock on a file, held by one process at a time. The
// kernel releases it when the process dies, even by kill -9, so a crashed
// crawl never leaves a stale lock behind.
type Lock struct {
	f *os.File
}

// Acquire takes the lock at path for holder (a description such as
// "vplanet crawl, pid 42 on host a, since 10:02:03"), waiting up to wait for
// another holder to let go. When the lock stays held it returns an error that
// wraps vplanet.ErrLocked and names the holder.
func Acquire(ctx context.Context, path, holder string, wait time.Duration) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			held, _ := os.ReadFile(path)
			f.Close()
			who := strings.TrimSpace(string(held))
			if who == "" {
				who = "another process"
			}
			return nil, fmt.Errorf("%s holds %s: %w", who, path, vplanet.ErrLocked)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(min(250*time.Millisecond, time.Until(deadline)+time.Millisecond)):
		}
	}
	// The holder's description is for the next process that finds the lock
	// taken; it is advice, so a failure to write it is not fatal.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(holder+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release lets the lock go.
func (l *Lock) Release() error {
	l.f.Truncate(0)
	return l.f.Close() // closing the descriptor releases the flock
}

func mkdirAll(dir string) error {
	return os.MkdirAll(dir, 0o755)
}

// createPrivate creates the database file at path, readable and writable by
// its owner alone, unless it exists. SQLite gives the -wal and -shm files it
// creates beside it the same mode: the store holds every post and the
// crawl's state, which other users of the machine have no need to read.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

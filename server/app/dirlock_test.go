package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"golang.org/x/crypto/bcrypt"
)

// TestOneServerPerDataDirectory: a server on SQLite holds its data
// directory; a second one on the same directory is refused at start,
// naming the holder, while the command-line tools' store still opens
// beside it; once the first has closed, a server starts there again, and
// a server on another directory is not held back.
func TestOneServerPerDataDirectory(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	config := func(dir string) Config {
		cfg := DefaultConfig()
		cfg.Addr, cfg.DataDir, cfg.BcryptCost = "127.0.0.1:0", dir, bcrypt.MinCost
		return cfg
	}
	dir := t.TempDir()
	first, err := Open(ctx, config(dir), log)
	if err != nil {
		t.Fatalf("first server: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			first.Close()
		}
	}()
	holder, err := os.ReadFile(filepath.Join(dir, lockFileName))
	if err != nil || strings.TrimSpace(string(holder)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q (%v), want this pid %d", holder, err, os.Getpid())
	}

	second, err := Open(ctx, config(dir), log)
	if err == nil {
		second.Close()
		t.Fatal("a second server opened the data directory the first serves")
	}
	if !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("refusal %q names neither the holder's pid nor the directory", err)
	}

	// serve.lock looks like a stale pid file: removed by hand, it still
	// keeps no second server off (the directory itself is locked).
	if err := os.Remove(filepath.Join(dir, lockFileName)); err != nil {
		t.Fatal(err)
	}
	if second, err := Open(ctx, config(dir), log); err == nil {
		second.Close()
		t.Fatal("a second server opened the data directory once serve.lock was removed")
	}

	tool, err := OpenStore(ctx, config(dir), log)
	if err != nil {
		t.Fatalf("the tools' store beside the server: %v", err)
	}
	if _, err := tool.AddUser(ctx, "beside", "password123", "", server.RoleInspector, []string{"140902"}); err != nil {
		t.Fatalf("a tool's write beside the server: %v", err)
	}
	tool.Close()

	other, err := Open(ctx, config(t.TempDir()), log)
	if err != nil {
		t.Fatalf("a server on another directory: %v", err)
	}
	other.Close()

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	again, err := Open(ctx, config(dir), log)
	if err != nil {
		t.Fatalf("a server after the first closed: %v", err)
	}
	again.Close()
}

// TestServerWithoutLocks: on a file system that takes no locks (some
// network file systems answer flock with an error), the server starts
// anyway, saying so in its log, rather than not at all.
func TestServerWithoutLocks(t *testing.T) {
	lockFile = func(*os.File) error { return errors.New("locks not supported") }
	defer func() { lockFile = tryLock }()
	var logged strings.Builder
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.BcryptCost = "127.0.0.1:0", t.TempDir(), bcrypt.MinCost
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatalf("a server where locks fail: %v", err)
	}
	a.Close()
	if !strings.Contains(logged.String(), "without the data directory's lock") {
		t.Fatalf("the log does not say the server runs without the lock:\n%s", logged.String())
	}
}

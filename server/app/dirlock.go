package app

import (
	"errors"
	"fmt"
	"github.com/xinzhou-eco/fieldsync/internal/flock"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// This file keeps a second server off a data directory one is serving.
//
// On SQLite one server process owns the database: what it keeps in memory
// beside it (the photo index's band filter, pages read ahead, the clock)
// assumes that no other server writes records or photos there. Nothing
// stopped a second `fieldsync serve` on the same directory (a unit started
// twice, a server left running behind a new one), and its writes would
// have been missed by the first. So a server holds an exclusive lock on
// the directory's serve.lock while it runs: a second one is refused at
// start, naming the process that holds it. The operating system drops the
// lock with its holder, however it ends, so a crash leaves nothing to
// clean up. The command-line tools (user, device, backup, sweep) take no
// lock: they are made to run beside the server; migrate, which copies the
// directory's database to PostgreSQL, takes it (LockDataDir), since what
// a server wrote after the copy would be lost. With PostgreSQL, several
// servers share the store by design, and none takes it.

// lockFileName is the lock file in the data directory.
const lockFileName = "serve.lock"

// errDirLocked is what lockFile returns when another process holds the
// lock.
var errDirLocked = flock.ErrLocked

// tryLock takes the lock file's lock without waiting (flock.TryLock).
var tryLock = flock.TryLock

// lockFile is tryLock, or what a test has the file system answer.
var lockFile = tryLock

// errNoLock is what lockDataDir returns when the file system cannot lock
// (some network file systems): the server then runs without the lock.
var errNoLock = errors.New("the data directory's file system takes no locks")

// lockDataDir takes the data directory's lock for this process — on the
// directory itself, which cannot be removed while it holds files, and on
// serve.lock, into which it writes its pid for the refusal to name (a
// server of an earlier version locked only the file). The file, being
// removable, alone let a second server run once it was deleted by hand
// (it looks like a stale pid file). The returned closer holds both
// locks until closed. It fails naming the holder if another process
// holds either, and with errNoLock if the lock cannot be taken at all.
func lockDataDir(dir string) (io.Closer, error) {
	path := filepath.Join(dir, lockFileName)
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		d.Close()
		return nil, err // it names the file
	}
	err = lockFile(d)
	if err == nil {
		err = lockFile(f)
	}
	if err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		d.Close()
		if errors.Is(err, errDirLocked) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "?"
			}
			return nil, fmt.Errorf("数据目录 %s 正由另一个 fieldsync serve 进程使用 (pid %s); 同一数据目录只能运行一个服务器: %w", dir, pid, err)
		}
		return nil, fmt.Errorf("%w: lock %s: %v", errNoLock, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return dirLock{d, f}, nil
}

// dirLock is the data directory's two locked files (lockDataDir).
type dirLock struct{ dir, file *os.File }

// Close releases both locks: the file's first, then the directory's.
func (l dirLock) Close() error { return errors.Join(l.file.Close(), l.dir.Close()) }

// LockDataDir takes the data directory's lock as a server does, for a
// command that must not run beside one (migrate); close the result to
// release it. A file system that takes no locks is not an error: ok is
// then false.
func LockDataDir(dir string) (lock io.Closer, ok bool, err error) {
	f, err := lockDataDir(dir)
	switch {
	case errors.Is(err, errNoLock):
		return io.NopCloser(nil), false, nil
	case err != nil:
		return nil, false, err
	}
	return f, true, nil
}

// MigratedFile is the file `fieldsync migrate` leaves in a data directory
// whose database it copied to PostgreSQL: the directory's database is no
// longer the city's, and CheckNotMigrated refuses it.
const MigratedFile = "MIGRATED"

// CheckNotMigrated refuses a data directory migrate has copied to
// PostgreSQL, saying where to and how to serve it anyway.
func CheckNotMigrated(dir string) error {
	path := filepath.Join(dir, MigratedFile)
	note, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		// Said as the directory's fault, not the file's (ops probe: an
		// operator who never migrated looked for MIGRATED).
		if info, serr := os.Stat(dir); serr == nil && !info.IsDir() {
			return fmt.Errorf("the data directory %s is a file, not a directory", dir)
		}
		return fmt.Errorf("the data directory %s cannot be read by this user (%v): check its owner and permissions", dir, errors.Unwrap(err))
	}
	return fmt.Errorf("the data directory %s was %s: its database is no longer the one phones and offices use (serve with --database that URL); "+
		"to use this copy anyway, remove %s", dir, strings.TrimSpace(string(note)), path)
}

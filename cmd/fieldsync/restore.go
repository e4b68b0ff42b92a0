package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// restoreCmd puts a backup (fieldsync backup) in place of a data
// directory's database. The server must be stopped: restore takes the
// directory's lock as a server does. The database's write-ahead log and
// shared memory go with it — SQLite would otherwise replay the old
// database's log onto the backup and corrupt it — and the backup is
// checked whole before it replaces anything.
func restoreCmd(c *command) {
	c.args = 1
	c.run = func(ctx context.Context) error {
		src, err := oneArg(c, "backup file")
		if err != nil {
			return err
		}
		if c.cfg.Database != "" {
			return errors.New("restore puts a SQLite backup in a data directory; restore PostgreSQL with its own tools (pg_restore), " +
				"then give it a new epoch before serving it, so that phones pull everything again: " +
				"UPDATE meta SET value = substr(md5(random()::text), 1, 16) WHERE key = 'epoch'; (README, Operating)")
		}
		if err := os.MkdirAll(c.cfg.DataDir, 0o750); err != nil {
			return err
		}
		lock, _, err := app.LockDataDir(c.cfg.DataDir)
		if err != nil {
			return fmt.Errorf("%w (stop the server first, then restore)", err)
		}
		defer lock.Close()
		dst := c.cfg.DBPath()
		tmp := dst + ".restoring"
		if err := copyPrivate(src, tmp); err != nil {
			return err
		}
		defer removeDB(tmp)
		if err := sqlite.CheckBackup(ctx, tmp); err != nil {
			return fmt.Errorf("%s is not a fieldsync backup this version can restore: %w; nothing was replaced", src, err)
		}
		db, err := sqlite.Open(ctx, tmp)
		if err != nil {
			return fmt.Errorf("%s is not a fieldsync database: %w", src, err)
		}
		ok, err := db.IntegrityCheck(ctx)
		if err == nil && ok == "ok" {
			err = keepClockAhead(ctx, db, dst)
		}
		// Seals signed with a key the backup does not hold (a backup from
		// before the audit log has none: no key to look for).
		var sealed bool
		if err == nil && ok == "ok" {
			seals, serr := db.AuditSeals(ctx)
			sealed, err = len(seals) > 0, serr
		}
		db.Close()
		if err != nil || ok != "ok" {
			return fmt.Errorf("%s is damaged (%s %v); nothing was replaced", src, ok, err)
		}
		removeDB(dst) // with its log, which is not the backup's
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "restored %s to %s; phones will pull everything again on their next sync (410 resync_required)\n", src, dst)
		for _, w := range restoreWarnings(c.cfg, sealed) {
			fmt.Fprintln(c.stderr, "warning:", w)
		}
		return nil
	}
}

// keepClockAhead raises the restored database's HLC high-water mark to
// the one of the database it replaces, if there is one: the server's
// clock never goes backwards, across a restore too (it had answered with
// HLCs as late as that mark, and followed phones' clocks ahead of its
// own). A replaced database that cannot be read gives nothing to keep.
func keepClockAhead(ctx context.Context, restored *sqlite.DB, replaced string) error {
	if _, err := os.Stat(replaced); err != nil {
		return nil
	}
	old, err := sqlite.Open(ctx, replaced)
	if err != nil {
		return nil
	}
	defer old.Close()
	h, err := old.HighHLC(ctx)
	if err != nil {
		return nil
	}
	return restored.RaiseHighHLC(ctx, h)
}

// restoreWarnings are what a restored directory lacks that the backup
// does not hold (README: copy them with it): the photos' bytes, when they
// are kept in the directory, and the audit seal key, when the backup
// holds seals signed with it.
func restoreWarnings(cfg *app.Config, sealed bool) []string {
	var out []string
	if cfg.Blobs == "" {
		if entries, err := os.ReadDir(filepath.Join(cfg.DataDir, "blobs")); err != nil || len(entries) == 0 {
			out = append(out, fmt.Sprintf("%s has no photos: copy the blobs directory kept with the backup there, or every uploaded photo reads as not uploaded", filepath.Join(cfg.DataDir, "blobs")))
		}
	}
	if _, err := os.Stat(cfg.AuditKeyPath()); err != nil && sealed {
		out = append(out, fmt.Sprintf("no audit seal key at %s: copy the one kept with the backup, or the server makes a new key and the seals signed before can only be checked with the old key", cfg.AuditKeyPath()))
	}
	return out
}

// copyPrivate copies src, a file, to a new file dst readable by its owner
// only; on an error nothing of dst is left.
func copyPrivate(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if st, err := in.Stat(); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a file (a backup is the one file fieldsync backup wrote); nothing was replaced", src)
	}
	removeDB(dst)
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			removeDB(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// removeDB removes a SQLite database file with its write-ahead log and
// shared memory.
func removeDB(path string) {
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(f)
	}
}

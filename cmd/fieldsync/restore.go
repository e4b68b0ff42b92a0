package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// restoreCmd puts a backup (fieldsync backup) in place of a data
// directory's database. The server must be stopped: restore takes the
// directory's lock as a server does. The database's write-ahead log and
// shared memory go with it — SQLite would otherwise replay the old
// database's log onto the backup and corrupt it — and the backup is
// checked whole before it replaces anything.
func restoreCmd(c *command) {
	c.args, c.sqliteOnly = 1, true
	c.run = func(ctx context.Context) error {
		src, err := oneArg(c, "backup file")
		if err != nil {
			return err
		}
		if c.cfg.Database != "" {
			return errors.New("restore puts a SQLite backup in a data directory; restore PostgreSQL with its own tools (pg_restore), " +
				"then give it a new epoch before serving it, so that phones pull everything again: " +
				"fieldsync epoch renew --database URL, every server stopped (README, Operating)")
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
		// The directory's own database (or its replaced copy kept by an
		// earlier restore, which is fine) is no backup: "restored" onto
		// itself, it got a new epoch and every phone pulled everything
		// again for nothing (ops probe).
		if a, err := os.Stat(src); err == nil {
			if b, err := os.Stat(dst); err == nil && os.SameFile(a, b) {
				return fmt.Errorf("%s is the database of %s itself, not a backup of it: nothing to restore (fieldsync backup makes a backup)", src, c.cfg.DataDir)
			}
		}
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
		upgraded := db.Migrated()
		ok, err := db.IntegrityCheck(ctx)
		var (
			undone   []audit.Entry
			keyNotes []string
		)
		compared := false
		if err == nil && ok == "ok" {
			undone, keyNotes, compared, err = fromReplaced(ctx, db, dst)
		}
		// Seals signed with a key the backup does not hold (a backup from
		// before the audit log has none: no key to look for).
		var sealedBy string // the key of the backup's last seal, "" for none
		if err == nil && ok == "ok" {
			seals, serr := db.AuditSeals(ctx)
			if err = serr; len(seals) > 0 {
				sealedBy = seals[len(seals)-1].KeyID
			}
		}
		db.Close()
		if err != nil || ok != "ok" {
			return fmt.Errorf("%s is damaged (%s %v); nothing was replaced", src, ok, err)
		}
		// The database replaced is kept, with its log (which is not the
		// backup's): a restore of the wrong file, or of one older than
		// meant, is undone by putting it back.
		kept := dst + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := moveDB(dst, kept); err != nil {
			return fmt.Errorf("keep the database being replaced as %s: %w; nothing was replaced", kept, err)
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "restored %s to %s; phones will pull everything again on their next sync (410 resync_required)\n", src, dst)
		if len(upgraded) > 0 {
			// A backup of an older version: upgraded as serve would,
			// which the older binary can no longer open (operator probe:
			// said nowhere).
			fmt.Fprintf(c.stdout, "the backup was made by an older fieldsync: its database was upgraded to this version (%s); an older fieldsync cannot open it, the backup file itself is unchanged\n",
				strings.Join(upgraded, ", "))
		}
		if _, err := os.Stat(kept); err == nil {
			fmt.Fprintf(c.stdout, "the database it replaced is kept as %s (with its log): delete it once the restore is confirmed\n", kept)
		}
		if len(undone) > 0 {
			fmt.Fprintf(c.stderr, "warning: %d account and device changes made after the backup are undone by this restore "+
				"(a revoked phone, a disabled user or a reset password is back as it was): make them again\n", len(undone))
			for _, e := range undone {
				fmt.Fprintln(c.stderr, "  undone:", describeAccountEntry(e))
			}
		}
		for _, n := range keyNotes {
			fmt.Fprintln(c.stderr, "warning:", n)
		}
		if !compared {
			fmt.Fprintf(c.stderr, "warning: there was no readable database in %s to compare with, so the account and device changes made after the backup "+
				"(a revoked phone, a disabled user, a reset password) cannot be listed: check them with fieldsync user list and device list, and make them again\n", c.cfg.DataDir)
		}
		for _, w := range restoreWarnings(c.cfg, sealedBy) {
			fmt.Fprintln(c.stderr, "warning:", w)
		}
		return nil
	}
}

// fromReplaced reads the database a restore replaces, if there is one,
// for what the restore must keep or say. It raises the restored
// database's HLC high-water mark to the replaced one's: the server's clock
// never goes backwards, across a restore too (it had answered with HLCs
// as late as that mark, and followed phones' clocks ahead of its own).
// And it returns the account entries of the replaced database's audit log
// that the restored one lacks: the revocations, disables and password
// resets made after the backup, which the restore undoes; and what it says
// of the token signing keys a keys rotate or retire made after the backup
// undoes (signingKeyNotes). A replaced database that cannot be read gives
// nothing, and compared false.
func fromReplaced(ctx context.Context, restored *sqlite.DB, replaced string) (undone []audit.Entry, keyNotes []string, compared bool, err error) {
	if _, err := os.Stat(replaced); err != nil {
		return nil, nil, false, nil
	}
	old, err := sqlite.Open(ctx, replaced)
	if err != nil {
		return nil, nil, false, nil
	}
	defer old.Close()
	if h, err := old.HighHLC(ctx); err == nil {
		if err := restored.RaiseHighHLC(ctx, h); err != nil {
			return nil, nil, false, err
		}
	}
	made, err := old.AccountAudit(ctx)
	if err != nil {
		return nil, nil, false, nil
	}
	kept, err := restored.AccountAudit(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if keyNotes, err = signingKeyNotes(ctx, old, restored); err != nil {
		return nil, nil, false, err
	}
	have := make(map[string]bool, len(kept))
	for _, e := range kept {
		have[e.Hash] = true
	}
	for _, e := range made {
		if !have[e.Hash] {
			undone = append(undone, e)
		}
	}
	return undone, keyNotes, true, nil
}

// signingKeyNotes says what a restore undoes of the token signing keys
// (they live in the database): a key added after the backup (keys rotate)
// is gone, and one removed after it (keys retire: a key that leaked) is
// back, signing or verifying again (ops probe: the restore's list of
// undone changes did not name them).
func signingKeyNotes(ctx context.Context, replaced, restored *sqlite.DB) ([]string, error) {
	was, err := replaced.SigningKeys(ctx)
	if err != nil {
		return nil, nil // as an unreadable replaced database: nothing to say
	}
	now, err := restored.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	in := func(keys []server.SigningKey, id string) bool {
		return slices.ContainsFunc(keys, func(k server.SigningKey) bool { return k.ID == id })
	}
	var notes []string
	for _, k := range was {
		// A backup with no key yet takes the legacy one again, from
		// jwt.key, at its first start.
		if k.ID == auth.LegacyKeyID && len(now) == 0 {
			continue
		}
		if !in(now, k.ID) {
			notes = append(notes, fmt.Sprintf("signing key %s, added after the backup (keys rotate, %s), is gone: the tokens it signed are refused, and their phones sign in again; "+
				"if it replaced a key that leaked, run fieldsync keys rotate again, then keys retire", k.ID, chinaTime(k.CreatedAt)))
		}
	}
	for _, k := range now {
		if !in(was, k.ID) {
			notes = append(notes, fmt.Sprintf("signing key %s (%s), retired after the backup (keys retire), is back and verifies tokens again: "+
				"if it was retired because it leaked, run fieldsync keys rotate, then keys retire --force", k.ID, chinaTime(k.CreatedAt)))
		}
	}
	return notes, nil
}

// describeAccountEntry is an account entry on one line: when, by whom,
// on what, and which fields it changed.
func describeAccountEntry(e audit.Entry) string {
	var changes map[string]audit.Change
	_ = json.Unmarshal(e.Changes, &changes)
	var said []string
	for _, f := range slices.Sorted(maps.Keys(changes)) {
		// What changed, to what: the field's name alone (operation) did
		// not say which change to make again (operator probe).
		ch := changes[f]
		if string(ch.Old) == string(ch.New) {
			continue // kept as it was (a role changed, the counties not)
		}
		s := f + ": " + shownJSON(ch.New)
		if len(ch.Old) > 0 && string(ch.Old) != "null" {
			s = f + ": " + shownJSON(ch.Old) + " → " + shownJSON(ch.New)
		}
		said = append(said, s)
	}
	return fmt.Sprintf("%s %s: %s %s %s (%s)", e.At.In(audit.ChinaTime).Format("2006-01-02 15:04"), cmp.Or(e.ActorName, e.ActorID, "server"),
		e.Entity, e.RecordID, e.Action, strings.Join(said, "; "))
}

// shownJSON is a JSON value on a line: a string without its quotes.
func shownJSON(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if len(v) == 0 {
		return "（空）"
	}
	return string(v)
}

// restoreWarnings are what a restored directory lacks that the backup
// does not hold (README: copy them with it): the photos' bytes, when they
// are kept in the directory, and the audit seal key, when the backup
// holds seals signed with it (sealedBy, the key of its last) — or another
// key is there, one a server made for a database that was new
// (verification probe: restored over, it started with that key and
// sealed the next months with it).
func restoreWarnings(cfg *app.Config, sealedBy string) []string {
	var out []string
	if cfg.Blobs == "" {
		if entries, err := os.ReadDir(filepath.Join(cfg.DataDir, "blobs")); err != nil || len(entries) == 0 {
			out = append(out, fmt.Sprintf("%s has no photos: copy the blobs directory kept with the backup there, or the uploaded photos have no bytes to show or check (the server says so in its log until they are back)", filepath.Join(cfg.DataDir, "blobs")))
		}
	}
	if _, err := os.Stat(cfg.AuditKeyPath()); err != nil && sealedBy != "" {
		out = append(out, fmt.Sprintf("no audit seal key at %s: copy the one kept with the backup there — the server refuses to start over the backup's sealed months without it (if it is lost for good: fieldsync audit newkey)", cfg.AuditKeyPath()))
	} else if k, err := audit.LoadKey(cfg.AuditKeyPath()); err == nil && sealedBy != "" && audit.KeyID(k.Public().(ed25519.PublicKey)) != sealedBy {
		out = append(out, fmt.Sprintf("the audit key at %s is key %s, not key %s, which sealed the backup's months: put the backup's key file there before starting the server, or it seals the next months with another key",
			cfg.AuditKeyPath(), audit.KeyID(k.Public().(ed25519.PublicKey)), sealedBy))
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

// moveDB renames a SQLite database file, with its write-ahead log and
// shared memory, to kept (kept-wal, kept-shm): opened there, it is the
// database as it was. Nothing there, nothing is moved.
func moveDB(path, kept string) error {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Rename(path+suffix, kept+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeDB removes a SQLite database file with its write-ahead log and
// shared memory.
func removeDB(path string) {
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(f)
	}
}

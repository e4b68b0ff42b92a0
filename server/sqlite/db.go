// Package sqlite is fieldsync's store on SQLite (mattn/go-sqlite3): the
// embedded migrations, the single serialized writer that assigns change-feed
// sequence numbers in commit order, and every SQL statement of the project.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the SQLite store. Writes go through one connection, one at a time
// (so concurrent pushes never meet SQLITE_BUSY and sequence numbers commit
// in order); reads use a pool of read-only connections, each transaction a
// consistent WAL snapshot.
type DB struct {
	sqlstore.FeedPages // Changes and WireChanges, from feed

	path  string
	write *sql.DB
	read  *sql.DB

	mu    sync.Mutex // serializes this process's writers
	epoch string
	stmts map[string]*entitySQL
	// prepared are statements prepared once on the writer connection and
	// reused by every write transaction instead of being compiled again
	// for each (a batch's few upserts and its record lookup of up to 500
	// ids); wanted are those a transaction had to prepare for itself, to
	// be prepared for the next ones after it ends. Both are guarded by mu.
	prepared map[string]*sql.Stmt
	wanted   []string

	// readStmts are the feed's queries prepared on the read pool: each
	// reader connection prepares one the first time it runs it and keeps
	// it, instead of every page preparing two queries per table again.
	readMu    sync.Mutex
	readStmts map[string]*sql.Stmt

	// bands are the band values of the perceptual hash index, which
	// only this process writes: lookups skip the values no row has.
	bands sqlstore.BandFilter

	// migrated are the migrations this Open applied, in order (Migrated);
	// unguarded the audit tables' triggers it found missing and put back
	// (Unguarded).
	migrated, unguarded []string

	ckpt *checkpointer    // checkpoint.go
	full server.FullWatch // whether the last write found the disk full, for Ping
	// checkpointed, if set before init (tests), receives each background
	// checkpoint's result.
	checkpointed chan checkpointResult
	// checkpointBetween, if set before init (tests), runs after each of
	// the background checkpoint's passes (checkpointer.between).
	checkpointBetween func()
}

// maxReadStmts bounds readStmts: a query per table and scope shape (the
// number of counties), far fewer than this; past it, queries are
// prepared per use.
const maxReadStmts = 512

// readStmt returns query prepared on the read pool, to be used in a read
// transaction through Tx.StmtContext (which reuses the statement prepared
// on the transaction's connection). nil means "prepare it in the
// transaction": the cache is full, or the database is closing.
func (db *DB) readStmt(ctx context.Context, query string) *sql.Stmt {
	db.readMu.Lock()
	defer db.readMu.Unlock()
	if st, ok := db.readStmts[query]; ok {
		return st
	}
	if len(db.readStmts) >= maxReadStmts {
		return nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil // the transaction's own prepare reports it
	}
	if db.readStmts == nil {
		db.readStmts = map[string]*sql.Stmt{}
	}
	db.readStmts[query] = st
	return st
}

// queryRead runs query in the read transaction tx, through the pool's
// prepared statement when there is one.
func (db *DB) queryRead(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := db.readStmt(ctx, query); st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// maxPrepared bounds the statements kept prepared on the writer: the
// upserts of each entity's usual column sets and the lookups of the few
// padded list lengths fit well within it; rarer ones are prepared per
// transaction.
const maxPrepared = 256

func init() {
	// SQLITE_FULL: the database's disk is full (or max_page_count reached).
	server.RegisterStorageFull(func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && se.Code == sqlite3.ErrFull
	})
}

// Open opens (creating if needed) the database at path, checks that WAL
// mode took effect and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, &DB{path: path})
}

func open(ctx context.Context, db *DB) (*DB, error) {
	path := db.path
	db.FeedPages.Read = db.feed
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	var err error
	if db.write, err = sql.Open(driverName, dsn(path, false)); err != nil {
		return nil, fmt.Errorf("open writer: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	if db.read, err = sql.Open(driverName, dsn(path, true)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open readers: %w", err)
	}
	db.read.SetMaxOpenConns(8)
	if err := db.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "NORMAL")
	if readOnly {
		q.Set("_query_only", "true")
	} else {
		q.Set("_txlock", "immediate")
		q.Set("_cache_size", strconv.Itoa(-writerCacheKiB))
	}
	return "file:" + path + "?" + q.Encode()
}

func (db *DB) init(ctx context.Context) error {
	var mode string
	if err := db.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	if err := db.migrate(ctx); err != nil {
		return err
	}
	if err := db.guardAudit(ctx); err != nil {
		return err
	}
	db.stmts = make(map[string]*entitySQL, len(server.Entities))
	for _, e := range server.Entities {
		db.stmts[e.Name] = newEntitySQL(e)
	}
	var seq int64
	for _, e := range server.Entities {
		var max sql.NullInt64
		if err := db.write.QueryRowContext(ctx, "SELECT max(seq) FROM "+e.Name).Scan(&max); err != nil {
			return fmt.Errorf("read max seq of %s: %w", e.Name, err)
		}
		seq = maxInt(seq, max.Int64)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('seq', ?) ON CONFLICT (key) DO NOTHING`, strconv.FormatInt(seq, 10)); err != nil {
		return fmt.Errorf("init seq: %w", err)
	}
	if err := db.initHighHLC(ctx); err != nil {
		return err
	}
	if err := db.loadEpoch(ctx); err != nil {
		return err
	}
	return db.startCheckpointer(ctx)
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// migrate runs each embedded migration not yet applied, in name order, in a
// transaction of its own. A database holding a migration this version does
// not have (written by a newer fieldsync) is refused, not served by code
// that does not know its schema.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY) STRICT`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	if err := knownMigrations(ctx, db.write); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateOne(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// knownMigrations refuses a database whose schema_migrations holds a
// migration this version does not have.
func knownMigrations(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) error {
	rows, err := q.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if _, err := fs.Stat(migrationFS, name); err != nil {
			return fmt.Errorf("the database was written by a newer fieldsync (it has migration %s, which this version does not): run that version, or restore a backup this one made", name)
		}
	}
	return rows.Err()
}

// CheckBackup reports why the SQLite file at path is not a fieldsync
// database this version can serve, nil if it is one: it must hold
// fieldsync's schema (its first migration at least, and the change feed's
// state) and no migration of a newer version. It only reads the file.
// (An empty file, or another program's database, would otherwise be made
// a new, empty fieldsync database by Open.)
func CheckBackup(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return errors.New("the file is empty")
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'meta')`).Scan(&n); err != nil {
		return fmt.Errorf("not a SQLite database: %w", err)
	}
	if n != 2 {
		return errors.New("it is not a fieldsync database (no schema_migrations and meta tables)")
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		return fmt.Errorf("list migrations: %v", err)
	}
	sort.Strings(names)
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, names[0]).Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("it is not a fieldsync database (no migration %s)", names[0])
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'epoch'`).Scan(&n); err != nil || n == 0 {
		return errors.New("it is not a fieldsync database (no epoch in meta)")
	}
	return knownMigrations(ctx, db)
}

func (db *DB) migrateOne(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil || n > 0 {
		return err
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES (?)`, name); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	db.migrated = append(db.migrated, strings.TrimPrefix(name, "migrations/"))
	return nil
}

// auditGuards are the audit tables' append-only triggers (migration 017),
// by name.
var auditGuards = [][2]string{
	{"audit_log_no_update", `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`},
	{"audit_log_no_delete", `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`},
	{"audit_seals_no_update", `CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END`},
	{"audit_seals_no_delete", `CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END`},
}

// guardAudit puts back the audit tables' append-only triggers found
// missing — dropped by someone holding the file, to edit the log — and
// keeps their names (Unguarded): nothing else noticed they were gone.
func (db *DB) guardAudit(ctx context.Context) error {
	for _, g := range auditGuards {
		var n int
		if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?`, g[0]).Scan(&n); err != nil {
			return fmt.Errorf("look for trigger %s: %w", g[0], err)
		}
		if n > 0 {
			continue
		}
		if _, err := db.write.ExecContext(ctx, g[1]); err != nil {
			return fmt.Errorf("put back trigger %s: %w", g[0], err)
		}
		db.unguarded = append(db.unguarded, g[0])
	}
	return nil
}

// Unguarded names the audit tables' append-only triggers this Open found
// missing and put back (none in a database nobody edited by hand).
func (db *DB) Unguarded() []string { return db.unguarded }

// Migrated names the migrations this Open applied to the database, in
// the order applied (none when it was up to date), for the server's log.
func (db *DB) Migrated() []string { return db.migrated }

func (db *DB) loadEpoch(ctx context.Context) error {
	err := db.write.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'epoch'`).Scan(&db.epoch)
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	db.epoch = newEpoch()
	_, err = db.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('epoch', ?)`, db.epoch)
	return err
}

// newEpoch returns a random database identity.
func newEpoch() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Epoch identifies this database (made at creation; a backup gets its
// own, see Backup).
func (db *DB) Epoch() string { return db.epoch }

// RenewEpoch gives the database a new epoch (a copy restored by other
// means than fieldsync restore): every cursor made before is refused
// with resync_required. Returns the new epoch.
func (db *DB) RenewEpoch(ctx context.Context) (string, error) {
	e := newEpoch()
	if _, err := db.write.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'epoch'`, e); err != nil {
		return "", fmt.Errorf("renew epoch: %w", err)
	}
	db.epoch = e
	return e, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	db.bands.Close()
	errs = append(errs, db.ckpt.close())
	db.mu.Lock()
	for _, st := range db.prepared {
		errs = append(errs, st.Close())
	}
	db.prepared = nil
	db.mu.Unlock()
	db.readMu.Lock()
	for _, st := range db.readStmts {
		errs = append(errs, st.Close())
	}
	db.readStmts = nil
	db.readMu.Unlock()
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers a read and that its last write
// did not find the disk full (server.FullWatch), for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.full.Err(); err != nil {
		return err
	}
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// IntegrityCheck runs PRAGMA integrity_check and returns its first line.
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	err := db.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&s)
	return s, err
}

// Update runs fn in the write transaction. Writers are serialized — within
// the process by a mutex, across processes (a command-line tool beside the
// server) by SQLite's write lock, taken at BEGIN IMMEDIATE — and the
// change-feed counter is read and advanced inside the transaction, so
// sequence numbers commit in order. If fn fails, nothing of it is kept.
func (db *DB) Update(ctx context.Context, fn func(server.WriteTx) error) error {
	var last *writeTx // the attempt that committed, if any
	err := db.writeSQL(ctx, func(sqlTx *sql.Tx) error {
		tx := &writeTx{db: db, tx: sqlTx}
		last = tx
		defer tx.closeStmts()
		var seq string
		if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
			return fmt.Errorf("read seq: %w", err)
		}
		start, err := strconv.ParseInt(seq, 10, 64)
		if err != nil {
			return fmt.Errorf("parse seq: %w", err)
		}
		tx.Seq = start
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.flush(ctx); err != nil {
			return err
		}
		if tx.Seq != start {
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'seq'`, strconv.FormatInt(tx.Seq, 10)); err != nil {
				return fmt.Errorf("advance seq: %w", err)
			}
		}
		return raiseHighHLC(ctx, tx, tx.High)
	})
	if err == nil {
		last.Committed()
	}
	return err
}

// RaiseHighHLC raises the stored high-water mark to h if h is greater.
func (db *DB) RaiseHighHLC(ctx context.Context, h syncproto.HLC) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error { return raiseHighHLC(ctx, tx, h) })
}

// raiseHighHLC raises the stored high-water mark to h if h is greater. The
// HLC encoding sorts as its HLC does, and SQLite compares text bytewise, so
// the comparison is done in SQL (a command-line tool may have raised it
// beside the server).
func raiseHighHLC(ctx context.Context, tx execer, h syncproto.HLC) error {
	if h.IsZero() {
		return nil
	}
	s := h.String()
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'hlc_high' AND value < ?`, s, s); err != nil {
		return fmt.Errorf("raise hlc high-water mark: %w", err)
	}
	return nil
}

// HighHLC returns the greatest HLC of every write ever committed (field
// writes and tombstones), so that a restarted server can set its clock past
// it: the server's clock never goes backwards across restarts, even when
// it had followed a device's clock ahead of its own.
func (db *DB) HighHLC(ctx context.Context) (syncproto.HLC, error) {
	var s string
	if err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'hlc_high'`).Scan(&s); err != nil {
		return syncproto.HLC{}, fmt.Errorf("read hlc high-water mark: %w", err)
	}
	h, err := syncproto.ParseHLC(s)
	if err != nil {
		return syncproto.HLC{}, fmt.Errorf("read hlc high-water mark %q: %w", s, err)
	}
	return h, nil
}

// FeedHead returns the last Seq the change feed has numbered.
func (db *DB) FeedHead(ctx context.Context) (int64, error) {
	return sqlstore.FeedHead(ctx, reader{db.read})
}

// initHighHLC stores the high-water mark the first time a database is
// opened by a version that keeps one: the greatest HLC already stored in
// any entity table (the encoded HLCs sort as the HLCs do).
func (db *DB) initHighHLC(ctx context.Context) error {
	var n int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'hlc_high'`).Scan(&n); err != nil || n > 0 {
		return err
	}
	parts := make([]string, 0, 2*len(server.Entities))
	for _, e := range server.Entities {
		parts = append(parts, "SELECT max(j.key) AS h FROM "+e.Name+", json_each("+e.Name+".hlcs) AS j",
			"SELECT max(deleted_hlc) FROM "+e.Name)
	}
	q := `INSERT INTO meta (key, value) SELECT 'hlc_high', coalesce(max(h), '') FROM (` + strings.Join(parts, " UNION ALL ") + `)`
	if _, err := db.write.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("init hlc high-water mark: %w", err)
	}
	return nil
}

// writeSQL runs fn in a transaction on the single writer connection and
// commits it.
func (db *DB) writeSQL(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	defer func() { db.full.Wrote(err) }()
	db.mu.Lock()
	defer db.mu.Unlock()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer db.prepareWanted(ctx) // runs last, once the connection is free
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.ckpt.wrote()
	return nil
}

// prepareWanted prepares on the (now idle) writer connection the
// statements the last transaction asked for and did not find prepared. A
// failure only means the statement is prepared per transaction again.
func (db *DB) prepareWanted(ctx context.Context) {
	for _, q := range db.wanted {
		if len(db.prepared) >= maxPrepared {
			break
		}
		if db.prepared[q] != nil {
			continue
		}
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		if db.prepared == nil {
			db.prepared = map[string]*sql.Stmt{}
		}
		db.prepared[q] = st
	}
	db.wanted = db.wanted[:0]
}

// Backup copies the live database to dst with SQLite's online backup API,
// page by page, safe while the server writes. The copy gets an epoch of
// its own: served again after a restore, it would number anew the changes
// after its end, which phones that pulled past that end would skip, so
// their cursors must be refused (resync_required) instead. The copy is
// written beside dst and renamed to it once complete, with its epoch: a
// backup stopped half-way (killed, a full disk) leaves no file at dst that
// could be taken for a backup. The copy is checked (CheckIntegrity) before
// it is renamed: SQLite's backup copies pages as they are, damaged ones
// too, and a damaged database is refused with a *DamagedError, leaving
// nothing at dst.
func (db *DB) Backup(ctx context.Context, dst string) error {
	tmp := dst + ".partial"
	for _, f := range []string{tmp, tmp + "-journal"} { // of a backup stopped before
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := createPrivate(tmp); err != nil {
		return err
	}
	// A failed copy leaves nothing: its journal neither (ops probe: a
	// full disk left .partial-journal beside the backup's place).
	clear := func() {
		for _, f := range []string{tmp, tmp + "-journal"} {
			os.Remove(f)
		}
	}
	if err := backupTo(ctx, db.read, tmp); err != nil {
		clear()
		return err
	}
	problems, err := CheckIntegrity(ctx, tmp, 10)
	if err == nil && len(problems) > 0 {
		err = &DamagedError{Path: db.path, Problems: problems}
	}
	if err != nil {
		clear()
		return err
	}
	return os.Rename(tmp, dst)
}

// BackupReadOnly is Backup of the database file at src on a file system
// that takes no writes (one the kernel remounted read-only after disk
// errors, where the backup is wanted most): the store cannot be opened
// there (its writer, its migrations), so the file is read as it is, its
// write-ahead log included, through a read-only connection.
func BackupReadOnly(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	pool, err := sql.Open("sqlite3", "file:"+src+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer pool.Close()
	return (&DB{path: src, read: pool}).Backup(ctx, dst)
}

// createPrivate creates the database file at path, if there is none, as
// only its owner may read it (SQLite would create it readable by all,
// under the usual umask; its write-ahead log and shared memory take its
// mode): it holds the token signing secrets, password hashes and
// sessions, which a backup copies too.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return f.Close()
}

// backupTo writes the copy of Backup, from a connection of pool, to path.
func backupTo(ctx context.Context, pool *sql.DB, path string) error {
	dstDB, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer dstDB.Close()
	dstConn, err := dstDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer dstConn.Close()
	srcConn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer srcConn.Close()
	err = dstConn.Raw(func(d any) error {
		return srcConn.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return fmt.Errorf("start backup: %w", err)
			}
			for done := false; !done; {
				if done, err = b.Step(256); err != nil {
					b.Close()
					return fmt.Errorf("backup step: %w", err)
				}
			}
			return b.Finish()
		})
	})
	if err != nil {
		return err
	}
	if _, err := dstConn.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'epoch'`, newEpoch()); err != nil {
		return fmt.Errorf("give the backup its epoch: %w", err)
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// DB implements the whole store contract.
var _ server.Store = (*DB)(nil)

// reader is the readers' pool as a sqlstore.Reader.
type reader struct{ db *sql.DB }

// sqlRows closes without an error, as sqlstore.ReadRows does (the error
// that matters is Rows.Err).
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

func (r reader) Query(ctx context.Context, q string, args ...any) (sqlstore.ReadRows, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (r reader) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Scanner {
	return r.db.QueryRowContext(ctx, q, args...)
}

package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock keys (pg_advisory_xact_lock). They are constants shared by
// every server on the database: feedLock serializes the transactions that
// assign change-feed sequence numbers, migrateLock the schema migrations.
const (
	feedLock    int64 = 0x6669656c64_01 // "field" 01
	migrateLock int64 = 0x6669656c64_02
)

// idleWriteTimeout is how long a write transaction may wait for its
// server between statements before the database ends it. While it waits
// it holds the feed lock, and every other server's writes wait with it: a
// server stopped mid-write (SIGSTOP, a VM paused, its network cut) stalls
// the deployment's pushes this long. A healthy server's statements follow
// each other within milliseconds.
const idleWriteTimeout = 20 * time.Second

// Pool sizes. pgxpool's own default is the number of CPUs (at least 4),
// which a busy server exhausts: under 500 devices on a 2-core machine the
// requests, the photo job queue's leader election and the uploads' locks
// all waited on 4 connections, for up to a minute. A DSN's pool_max_conns
// still decides the main pool.
const (
	DefaultMaxConns = 24 // requests and the photo job queue
	LockConns       = 3  // the upload locks (LockPool; server/pglock: a listening session, the session holding every lock, one to notify)
)

// DB is the PostgreSQL store: a pgx connection pool shared by reads and
// writes. Sequence numbers are assigned under feedLock (see the package
// documentation).
type DB struct {
	sqlstore.FeedPages // Changes and WireChanges, from feed

	pool  *pgxpool.Pool
	locks *pgxpool.Pool // LockPool
	epoch string
	stmts map[string]*entitySQL
	// writing admits one Update of this process at a time, so that the
	// writers waiting for feedLock wait here rather than each holding a
	// connection of the pool.
	writing chan struct{}
	full    server.FullWatch // whether this server's last write found the disk full, for Ping
	// migrated are the migrations this Open applied, in order (Migrated).
	migrated []string
	// unguarded are the audit tables' append-only triggers this Open
	// found dropped or disabled (Unguarded).
	unguarded []string
}

// Migrated names the migrations this Open applied to the database, in
// the order applied (none when it was up to date, or another server
// starting beside it applied them), for the server's log.
func (db *DB) Migrated() []string { return db.migrated }

func init() {
	// disk_full (53100): the database server's disk is full.
	server.RegisterStorageFull(func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "53100"
	})
	// The database out of reach as PostgreSQL says it (a refused or
	// timed-out connection is the network's: server.StoreUnreachable's
	// own): a connection lost (class 08), the server shutting down or
	// starting (57P01–57P03). Not a refused password: a configuration's
	// fault, which waiting does not mend.
	server.RegisterUnreachable(func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03")
	})
	// A connection not made in time (ConnectTimeout): a server that took
	// it and never answered, or a host that drops the packets.
	server.RegisterUnreachable(func(err error) bool {
		var ce *pgconn.ConnectError
		return errors.As(err, &ce) && pgconn.Timeout(err)
	})
	// A connection closed under the driver, being made or in use: what a
	// proxy, a load balancer or a pooler in front of a database that is
	// down does (it takes the connection and closes it), and what a
	// connection cut mid-query reads. The driver's own errors only (a
	// ConnectError, or its receive and send errors, which tell whether a
	// retry is safe): an EOF of anything else is no database's.
	server.RegisterUnreachable(func(err error) bool {
		var ce *pgconn.ConnectError
		var driver interface{ SafeToRetry() bool }
		return (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && (errors.As(err, &ce) || errors.As(err, &driver))
	})
}

// ConnectTimeout bounds a new connection to the database when its URL sets
// no connect_timeout: a server (or a proxy, a load balancer with no healthy
// backend) that takes the connection and never answers would otherwise
// hold a start, a tool, or a request waiting for a connection, for ever.
const ConnectTimeout = 10 * time.Second

// ParseConfig parses dsn as pgxpool does, with ConnectTimeout when the URL
// gives none. Every pool and connection to the database is made from it.
func ParseConfig(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	return cfg, nil
}

// HasSchema reports whether the database at dsn holds fieldsync's tables
// (a server or migrate made them), without making any: the tools that
// only work on an existing deployment check it first, so that a mistyped
// URL is not a new, empty deployment answered as the real one.
func HasSchema(ctx context.Context, dsn string) (bool, error) {
	// Parsed as Open parses it: the URL a server runs with may carry
	// pgxpool's parameters (pool_max_conns), which a plain connection
	// would send to PostgreSQL as settings it does not know.
	cfg, err := ParseConfig(dsn)
	if err != nil {
		return false, fmt.Errorf("parse database url: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ok bool
	err = conn.QueryRow(ctx, `SELECT to_regclass('meta') IS NOT NULL`).Scan(&ok)
	return ok, err
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; pgxpool's parameters such as pool_max_conns apply), applies the
// pending migrations and loads the epoch.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	lcfg := cfg.Copy()
	lcfg.MaxConns, lcfg.MinConns = LockConns, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	locks, err := pgxpool.NewWithConfig(ctx, lcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	db := &DB{pool: pool, locks: locks, stmts: make(map[string]*entitySQL, len(server.Entities)), writing: make(chan struct{}, 1)}
	db.FeedPages.Read = db.feed
	for _, e := range server.Entities {
		db.stmts[e.Name] = newEntitySQL(e)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'epoch'`).Scan(&db.epoch); err != nil {
		db.Close()
		return nil, fmt.Errorf("read epoch: %w", err)
	}
	return db, nil
}

// migrate applies, in one transaction under migrateLock (so that servers
// starting together do not race), each embedded migration not yet applied,
// in name order, then makes the meta rows a new database needs: the feed's
// counter, the HLC high-water mark and the epoch (random, made once).
func (db *DB) migrate(ctx context.Context) error {
	var applied []string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		// A role that may not create tables (a serving role, README's
		// Deployment) opens a database its owner has migrated: CREATE
		// TABLE IF NOT EXISTS would still need the right to create.
		var migrated bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&migrated); err != nil {
			return fmt.Errorf("find migrations table: %w", err)
		}
		if !migrated {
			if _, err := tx.Exec(ctx, `CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return fmt.Errorf("create migrations table: %w", err)
			}
		}
		// A database a newer fieldsync migrated is refused, not served by
		// code that does not know its schema.
		if err := newerSchema(ctx, tx); err != nil {
			return fmt.Errorf("%w: run that version", err)
		}
		for _, name := range migrationNames {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			body, err := migrationFS.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
				return err
			}
			applied = append(applied, strings.TrimPrefix(name, "migrations/"))
		}
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('seq', '0'), ('hlc_high', ''), ('epoch', $1) ON CONFLICT (key) DO NOTHING`,
			hex.EncodeToString(b)); err != nil {
			return err
		}
		var err error
		db.unguarded, err = guardAudit(ctx, tx)
		return err
	})
	if err == nil {
		db.migrated = applied
	}
	return err
}

// auditGuards are the audit tables' append-only triggers (migration 005)
// by name, with the table each is on and its definition.
var auditGuards = []struct{ name, table, create string }{
	{"audit_log_append_only", "audit_log", `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_append_only()`},
	{"audit_log_no_truncate", "audit_log", `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`},
	{"audit_seals_append_only", "audit_seals", `CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals FOR EACH ROW EXECUTE FUNCTION audit_append_only()`},
	{"audit_seals_no_truncate", "audit_seals", `CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`},
}

// guardAudit finds the audit tables' append-only triggers dropped or
// disabled — by someone holding the database's owner, to edit the log —
// puts them back where it may (the database's owner; a serving role
// without the right leaves them as they are, said so) and returns their
// names: nothing else noticed they were gone.
func guardAudit(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT t.tgname, t.tgenabled FROM pg_trigger t
		WHERE t.tgrelid IN ('audit_log'::regclass, 'audit_seals'::regclass) AND NOT t.tgisinternal`)
	if err != nil {
		return nil, fmt.Errorf("read the audit triggers: %w", err)
	}
	enabled := map[string]bool{}
	for rows.Next() {
		var name string
		var state byte
		if err := rows.Scan(&name, &state); err != nil {
			rows.Close()
			return nil, err
		}
		enabled[name] = state == 'O' || state == 'A' // D: disabled; R: only for replication
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, g := range auditGuards {
		on, there := enabled[g.name]
		if on {
			continue
		}
		fix := []string{`CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$`, g.create}
		if there {
			fix = []string{`ALTER TABLE ` + g.table + ` ENABLE ALWAYS TRIGGER ` + g.name}
		}
		name := g.name
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { // a savepoint: a refusal leaves the rest
			for _, q := range fix {
				if _, err := sp.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			name += " (not put back: " + err.Error() + ")"
		}
		out = append(out, name)
	}
	return out, nil
}

// Unguarded names the audit tables' append-only triggers this Open found
// dropped or disabled, and put back where it could (none in a database
// nobody edited by hand).
func (db *DB) Unguarded() []string { return db.unguarded }

// Pool returns the connection pool, for other components that keep their
// state in the same database (a job queue, a lock).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// LockPool is a second pool, of at most LockConns connections, for the
// upload locks (server/pglock), whose sessions are held for as long as
// the server runs: they never take the connections requests need.
func (db *DB) LockPool() *pgxpool.Pool { return db.locks }

// Epoch identifies this database (made at creation; kept by pg_dump and
// fieldsync migrate).
func (db *DB) Epoch() string { return db.epoch }

// RenewEpoch gives the database a new epoch (one restored from a dump):
// every cursor made before is refused with resync_required. A server
// running on it meanwhile keeps the epoch it read at its start: stop
// every one first. Returns the new epoch.
func (db *DB) RenewEpoch(ctx context.Context) (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	e := hex.EncodeToString(b)
	if _, err := db.pool.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'epoch'`, e); err != nil {
		return "", fmt.Errorf("renew epoch: %w", err)
	}
	db.epoch = e
	return e, nil
}

// Close closes the pools.
func (db *DB) Close() error {
	db.locks.Close()
	db.pool.Close()
	return nil
}

// Ping checks that the database answers a query and that this server's
// last write did not find its disk full (server.FullWatch), for readiness
// probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.full.Err(); err != nil {
		return err
	}
	// A newer fieldsync that another server runs may have migrated the
	// database since this one started (a rolling upgrade): this server
	// is then no longer ready, and a load balancer leaves it.
	return newerSchema(ctx, db.pool)
}

// migrationNames are the embedded migrations, in order.
var migrationNames = func() []string {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	return names
}()

// newerSchema returns an error wrapping server.ErrNewerSchema if the
// database has a migration this build does not, else the query's error
// or nil.
func newerSchema(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) error {
	var newer string
	if err := q.QueryRow(ctx, `SELECT coalesce(min(name), '') FROM schema_migrations WHERE NOT (name = ANY($1))`, migrationNames).Scan(&newer); err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	if newer != "" {
		return fmt.Errorf("%w (it has migration %s, which this version does not)", server.ErrNewerSchema, newer)
	}
	return nil
}

// Update runs fn in a write transaction. The transaction first takes
// feedLock, so that writers, on every server, are serialized; the feed's
// counter is read and advanced inside it, so sequence numbers commit in
// order and become visible in that order. If fn fails, nothing of it is
// kept.
func (db *DB) Update(ctx context.Context, fn func(server.WriteTx) error) error {
	select {
	case db.writing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-db.writing }()
	var last *writeTx // the attempt that committed, if any
	err := db.writeSQL(ctx, func(pgTx pgx.Tx) error {
		// A server that stalls while holding the lock (its process
		// stopped, its network cut) has its transaction ended by the
		// database after idleWriteTimeout, which frees the lock.
		if _, err := pgTx.Exec(ctx, `SELECT set_config('idle_in_transaction_session_timeout', $2, true), pg_advisory_xact_lock($1)`,
			feedLock, strconv.Itoa(int(idleWriteTimeout.Milliseconds()))); err != nil {
			return fmt.Errorf("lock feed: %w", err)
		}
		var seq string
		if err := pgTx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
			return fmt.Errorf("read seq: %w", err)
		}
		start, err := strconv.ParseInt(seq, 10, 64)
		if err != nil {
			return fmt.Errorf("parse seq: %w", err)
		}
		tx := &writeTx{db: db, tx: pgTx, TxRecords: sqlstore.TxRecords{Seq: start}}
		last = tx
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.flush(ctx); err != nil {
			return err
		}
		if tx.Seq != start {
			if _, err := pgTx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'seq'`, strconv.FormatInt(tx.Seq, 10)); err != nil {
				return fmt.Errorf("advance seq: %w", err)
			}
		}
		return raiseHighHLC(ctx, pgTx, tx.High)
	})
	if err == nil {
		last.Committed()
	}
	return err
}

// RaiseHighHLC raises the stored high-water mark to h if h is greater.
func (db *DB) RaiseHighHLC(ctx context.Context, h syncproto.HLC) error {
	return db.writeSQL(ctx, func(tx pgx.Tx) error { return raiseHighHLC(ctx, tx, h) })
}

// raiseHighHLC raises the stored high-water mark to h if h is greater (the
// HLC encoding sorts bytewise as its HLC does; meta.value is "C" collated).
func raiseHighHLC(ctx context.Context, tx pgx.Tx, h syncproto.HLC) error {
	if h.IsZero() {
		return nil
	}
	s := h.String()
	if _, err := tx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'hlc_high' AND value < $1`, s); err != nil {
		return fmt.Errorf("raise hlc high-water mark: %w", err)
	}
	return nil
}

// HighHLC returns the greatest HLC of every write ever committed (field
// writes and tombstones), so that a restarted server can set its clock past
// it.
func (db *DB) HighHLC(ctx context.Context) (syncproto.HLC, error) {
	var s string
	if err := db.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'hlc_high'`).Scan(&s); err != nil {
		return syncproto.HLC{}, fmt.Errorf("read hlc high-water mark: %w", err)
	}
	h, err := syncproto.ParseHLC(s)
	if err != nil {
		return syncproto.HLC{}, fmt.Errorf("read hlc high-water mark %q: %w", s, err)
	}
	return h, nil
}

// seedLock is the advisory lock Exclusive holds (a key of its own, apart
// from the feed's and the upload locks' classes).
const seedLock = 0x66736565 // "fsee"

// Exclusive runs fn while no other server on the database runs an
// Exclusive fn (a session advisory lock, waited for until ctx ends): for
// work each server does at start that two must not do at once, such as
// loading the demo.
func (db *DB) Exclusive(ctx context.Context, fn func() error) error {
	conn, err := db.locks.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("exclusive: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(seedLock)); err != nil {
		conn.Hijack().Close(context.Background()) // the lock may be held, or waited for
		return fmt.Errorf("exclusive: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(seedLock)); err != nil {
			conn.Hijack().Close(context.Background())
			return
		}
		conn.Release()
	}()
	return fn()
}

// FeedHead returns the last Seq the change feed has numbered.
func (db *DB) FeedHead(ctx context.Context) (int64, error) {
	return sqlstore.FeedHead(ctx, reader{db.pool})
}

// writeSQL runs fn in a read-committed transaction and commits it.
func (db *DB) writeSQL(ctx context.Context, fn func(pgx.Tx) error) (err error) {
	defer func() { db.full.Wrote(err) }()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readSnapshot runs fn in a read-only REPEATABLE READ transaction: every
// query of it reads one snapshot.
func (db *DB) readSnapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// querier is what the pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// The statements of this package are written with ? placeholders, as the
// SQLite store's are, and numbered ($1, $2, …) by rebind.

func query(ctx context.Context, q querier, sql string, args ...any) (pgx.Rows, error) {
	return q.Query(ctx, rebind(sql), args...)
}

func queryRow(ctx context.Context, q querier, sql string, args ...any) pgx.Row {
	return q.QueryRow(ctx, rebind(sql), args...)
}

func exec(ctx context.Context, q querier, sql string, args ...any) (pgconn.CommandTag, error) {
	return q.Exec(ctx, rebind(sql), args...)
}

var rebound sync.Map // string → string

// rebind numbers the ? placeholders of q outside quoted strings.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	if s, ok := rebound.Load(q); ok {
		return s.(string)
	}
	var b strings.Builder
	n := 0
	quoted := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	s := b.String()
	if len(q) < 4096 {
		rebound.Store(q, s)
	}
	return s
}

// isUnique reports whether err is a unique violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// DB implements the whole store contract, and keeps the signing keys and
// failed sign-ins.
var (
	_ server.Store      = (*DB)(nil)
	_ server.KeyStore   = (*DB)(nil)
	_ server.LoginStore = (*DB)(nil)
)

// reader is a pool (or transaction) as a sqlstore.Reader, its ?
// placeholders numbered.
type reader struct{ q querier }

func (r reader) Query(ctx context.Context, sql string, args ...any) (sqlstore.ReadRows, error) {
	return query(ctx, r.q, sql, args...)
}

func (r reader) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Scanner {
	return queryRow(ctx, r.q, sql, args...)
}

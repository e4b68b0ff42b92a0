// Package device is a fieldsync device: the local database, outbox and
// upload queue of an inspector's phone, and the sync algorithm of
// mobile-api-docs/sync.md that works them. cmd/fieldctl is a command line
// over it; it is also the reference a mobile developer can read and run.
//
// Everything but Login and Sync works offline: a change is written to the
// local copy of its record and to the outbox in one SQLite transaction,
// stamped with the device's HLC at the moment of the change.
package device

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/xinzhou-eco/fieldsync/internal/flock"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	_ "github.com/mattn/go-sqlite3" // the local database
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Config keys in the config table.
const (
	keyServer     = "server_url"
	keyDeviceID   = "device_id"
	keyAccess     = "access_token"
	keyRefresh    = "refresh_token"
	keyKnown      = "known_client"
	keyCursor     = "cursor"
	keyClockLast  = "clock_last"
	keyClockOff   = "clock_offset_ms"
	keyUser       = "username"
	keyUserID     = "user_id"
	keyCounties   = "counties"
	keyCurrent    = "current_inspection"
	keyLastSync   = "last_sync"
	keyLastSyncOK = "last_sync_ok"
	// keyResync is set while a pull from the start that a 410 asked for
	// runs (through interruptions), until afterResync has compared it with
	// the local records.
	keyResync = "resync"
)

const schema = `
CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
	entity TEXT NOT NULL, id TEXT NOT NULL, county TEXT NOT NULL DEFAULT '',
	fields TEXT NOT NULL DEFAULT '{}', hlcs TEXT NOT NULL DEFAULT '{}',
	deleted INTEGER NOT NULL DEFAULT 0, deleted_hlc TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (entity, id));
CREATE TABLE IF NOT EXISTS outbox (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	batch_id TEXT,              -- NULL until the mutation is put in a batch
	mutation TEXT NOT NULL);    -- a syncproto.Mutation as JSON
CREATE TABLE IF NOT EXISTS rejected (
	seq INTEGER PRIMARY KEY, entity TEXT NOT NULL, id TEXT NOT NULL,
	code TEXT NOT NULL, message TEXT NOT NULL, mutation TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resync_seen ( -- the server's HLCs, as a pull from the start brings them
	entity TEXT NOT NULL, id TEXT NOT NULL, hlcs TEXT NOT NULL, deleted_hlc TEXT NOT NULL,
	PRIMARY KEY (entity, id));
CREATE TABLE IF NOT EXISTS own_values ( -- this device's values another's newer write replaced (mergeChange)
	entity TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, hlc TEXT NOT NULL,
	PRIMARY KEY (entity, id, field));
CREATE TABLE IF NOT EXISTS uploads (
	photo_id TEXT PRIMARY KEY, path TEXT NOT NULL,
	state TEXT NOT NULL,        -- a syncproto.Upload as JSON, saved after each chunk
	done INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '');
`

// Device is one device's local state. It is not safe for concurrent use
// by several processes beyond what SQLite itself serialises.
type Device struct {
	db    *sql.DB
	lock  *os.File // the data directory's fieldctl.lock, held while open
	dir   string   // the data directory: the database and the photos taken
	id    string
	clock *syncproto.Clock

	// HTTP is the client used to talk to the server (default: 60 s timeout).
	HTTP *http.Client
	// Out receives progress lines during Login and Sync (default: discard).
	Out io.Writer
	// PageLimit is the pull page size; ChunkSize the tus chunk size.
	PageLimit, ChunkSize int
	// BatchSize is the most mutations sent in one push.
	BatchSize int
	// OnEvent, if set, is called at each step of a sync (tests use it to
	// interrupt a sync at a chosen point).
	OnEvent func(Event)
	// Sleep waits between push retries (replaceable in tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// KeepPhotosFor is how long the copy of a photo is kept in the data
	// directory after its upload, once the server has it (purgePhotos);
	// 0 keeps every copy.
	KeepPhotosFor time.Duration
}

// DefaultKeepPhotos is KeepPhotosFor's default: a week, as the SDK's
// keepOriginalsFor.
const DefaultKeepPhotos = 7 * 24 * time.Hour

// Dir is the device's data directory: its database and the photos kept.
func (d *Device) Dir() string { return d.dir }

// Event is a step of a sync.
type Event struct {
	Kind    string // EventPushDone, EventPullPage or EventUpload
	Count   int    // mutations pushed or changes pulled
	Offset  int64  // upload offset
	PhotoID string
}

// Sync steps reported to OnEvent.
const (
	EventPushDone = "push_done"
	EventPullPage = "pull_page"
	EventUpload   = "upload_progress"
)

// Open opens (creating if needed) the device database in dir and makes the
// device id on first use.
func Open(dir string) (*Device, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// One process at a time: two syncing at once sent the same batch and
	// uploads (no harm done by the server, but one failed with 409).
	lock, err := os.OpenFile(filepath.Join(dir, "fieldctl.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the data dir's lock: %w", err)
	}
	if err := flock.TryLock(lock); err != nil {
		lock.Close()
		if errors.Is(err, flock.ErrLocked) {
			return nil, fmt.Errorf("数据目录 %s 正由另一个 fieldctl 使用，请等它结束后再试", dir)
		}
		return nil, fmt.Errorf("lock the data dir: %w", err)
	}
	d, err := open(dir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	d.lock = lock
	return d, nil
}

// open opens the device database in dir (Open, once the lock is held).
func open(dir string) (*Device, error) {
	dsn := "file:" + filepath.Join(dir, "fieldctl.db") + "?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=off&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	d := &Device{db: db, dir: dir, HTTP: &http.Client{Timeout: 60 * time.Second}, Out: io.Discard,
		PageLimit: 500, ChunkSize: 512 << 10, BatchSize: 200, KeepPhotosFor: DefaultKeepPhotos}
	id, err := d.get(keyDeviceID)
	if err != nil {
		db.Close()
		return nil, err
	}
	if id == "" {
		id = uuid.Must(uuid.NewV7()).String()
		if err := d.set(db, keyDeviceID, id); err != nil {
			db.Close()
			return nil, err
		}
	}
	d.id = id
	d.clock = syncproto.NewClock(id, nil)
	if off, _ := d.get(keyClockOff); off != "" {
		ms, _ := strconv.ParseInt(off, 10, 64)
		d.clock.SetOffset(time.Duration(ms) * time.Millisecond)
	}
	if last, _ := d.get(keyClockLast); last != "" {
		if h, err := syncproto.ParseHLC(last); err == nil {
			d.clock.Observe(h) // never stamp before what was stamped last run
		}
	}
	return d, nil
}

// Close closes the database.
func (d *Device) Close() error {
	err := d.db.Close()
	if d.lock != nil {
		d.lock.Close()
	}
	return err
}

// ID returns the device id (a UUIDv7 made when the database was created).
func (d *Device) ID() string { return d.id }

// Clock returns the device's HLC clock.
func (d *Device) Clock() *syncproto.Clock { return d.clock }

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func (d *Device) get(key string) (string, error) {
	var v string
	err := d.db.QueryRow(`SELECT value FROM config WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read config %s: %w", key, err)
	}
	return v, nil
}

func (d *Device) set(x execer, key, value string) error {
	_, err := x.ExecContext(context.Background(), `INSERT INTO config(key, value) VALUES(?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write config %s: %w", key, err)
	}
	return nil
}

// saveClock persists the clock's last timestamp and offset in x (the
// transaction of the change it stamped).
func (d *Device) saveClock(x execer) error {
	if err := d.set(x, keyClockLast, d.clock.Last().String()); err != nil {
		return err
	}
	off := d.clock.Physical() - time.Now().UnixMilli()
	return d.set(x, keyClockOff, strconv.FormatInt(off, 10))
}

// inTx runs fn in one write transaction.
func (d *Device) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

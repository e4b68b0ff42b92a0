// Package pglock is a tusd handler.Locker shared by every server on one
// PostgreSQL database, so that an upload is written by one request at a
// time whichever server the requests reach.
//
// A lock is a session-level advisory lock, pg_try_advisory_lock(class, key)
// with a fixed class for tus uploads and key a hash of the upload id, taken
// on a connection held from the pool for the lock's whole life: if the
// server dies, PostgreSQL ends the session and the lock with it. A server
// that finds the lock taken asks its holder to let go (NOTIFY on the
// channel fieldsync_tus_release; every Locker LISTENs there and calls the
// holder's requestRelease, which makes tusd end the PATCH in progress) and
// tries again every Poll until its context ends (handler.ErrLockTimeout).
//
// Each held or awaited lock takes a connection: give the Locker a pool of
// its own sized for the uploads in progress at once on this server, plus
// one for listening (Open makes one). Session advisory locks need a real
// session: connect to PostgreSQL directly or through a pooler in session
// mode, not PgBouncer's transaction mode.
package pglock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tus/tusd/v2/pkg/handler"
)

// lockClass is the first key of every upload lock ("tus" in ASCII): the
// two-key advisory locks do not overlap with the one-key ones, and this
// class keeps them apart from other two-key users.
const lockClass = 0x747573

// channel is where release requests are sent; the payload is the upload id.
const channel = "fieldsync_tus_release"

// Locker hands out upload locks backed by PostgreSQL advisory locks.
type Locker struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// Poll is how long Lock waits between two tries; default 100ms.
	Poll time.Duration

	mu   sync.Mutex
	held map[string]func() // upload id → requestRelease of the lock this server holds

	stop  context.CancelFunc
	done  chan struct{}
	owned bool // Close closes pool
}

// Open connects a pool of its own to the database at dsn, for at most
// maxLocks uploads written at once on this server, and returns a Locker on
// it; Close closes the pool.
func Open(ctx context.Context, dsn string, maxLocks int, log *slog.Logger) (*Locker, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("upload locks: %w", err)
	}
	cfg.MaxConns = int32(max(maxLocks, 1) + 1)
	cfg.ConnConfig.RuntimeParams["application_name"] = "fieldsync upload locks"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("upload locks: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("upload locks: %w", err)
	}
	l := New(pool, log)
	l.owned = true
	return l, nil
}

// New returns a Locker on pool and starts listening for release requests
// (until Close). log receives the listener's connection errors.
func New(pool *pgxpool.Pool, log *slog.Logger) *Locker {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Locker{pool: pool, log: log, Poll: 100 * time.Millisecond, held: map[string]func(){}, stop: cancel, done: make(chan struct{})}
	go l.listen(ctx)
	return l
}

// Close stops listening for release requests. Locks still held stay held
// until unlocked, except with Open's pool, which Close closes (waiting
// for them to be unlocked).
func (l *Locker) Close() error {
	l.stop()
	<-l.done
	if l.owned {
		l.pool.Close()
	}
	return nil
}

// UseIn makes the composer's handler use this locker.
func (l *Locker) UseIn(composer *handler.StoreComposer) { composer.UseLocker(l) }

// NewLock returns the (unlocked) lock of an upload.
func (l *Locker) NewLock(id string) (handler.Lock, error) {
	h := fnv.New32a()
	h.Write([]byte(id))
	return &lock{l: l, id: id, key: int32(h.Sum32())}, nil
}

// listen calls the requestRelease of locks held here that another server
// asks for, reconnecting after errors until ctx ends.
func (l *Locker) listen(ctx context.Context) {
	defer close(l.done)
	for ctx.Err() == nil {
		err := l.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("upload lock listener", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (l *Locker) listenOnce(ctx context.Context) error {
	pc, err := l.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The listening connection is ours alone, never returned to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		l.mu.Lock()
		release := l.held[n.Payload]
		l.mu.Unlock()
		if release != nil {
			release()
		}
	}
}

type lock struct {
	l    *Locker
	id   string
	key  int32
	conn *pgxpool.Conn // while held
}

// Lock takes the lock, asking its holder to release it and trying again
// until ctx ends (handler.ErrLockTimeout).
func (k *lock) Lock(ctx context.Context, requestRelease func()) error {
	if k.conn != nil {
		return errors.New("pglock: lock already held")
	}
	conn, err := k.l.pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return handler.ErrLockTimeout
		}
		return err
	}
	var asked time.Time
	for {
		var ok bool
		err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", lockClass, k.key).Scan(&ok)
		if err == nil && ok {
			break
		}
		if err == nil && time.Since(asked) >= time.Second {
			// Ask the holder (again, in case it had not got the lock
			// yet when first asked) to end its request.
			_, err = conn.Exec(ctx, "SELECT pg_notify($1, $2)", channel, k.id)
			asked = time.Now()
		}
		if err == nil {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(k.l.Poll):
			}
		}
		if err != nil {
			// A query cut short by ctx may leave the connection unusable,
			// and perhaps holding the lock: it goes, not back to the pool.
			conn.Hijack().Close(context.Background())
			if ctx.Err() != nil {
				return handler.ErrLockTimeout
			}
			return err
		}
	}
	k.conn = conn
	k.l.mu.Lock()
	k.l.held[k.id] = requestRelease
	k.l.mu.Unlock()
	return nil
}

// Unlock releases the lock.
func (k *lock) Unlock() error {
	if k.conn == nil {
		return nil
	}
	k.l.mu.Lock()
	delete(k.l.held, k.id)
	k.l.mu.Unlock()
	conn := k.conn
	k.conn = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ok bool
	err := conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1, $2)", lockClass, k.key).Scan(&ok)
	if err != nil || !ok {
		// Closing the session releases whatever it holds.
		conn.Hijack().Close(ctx)
		if err == nil {
			err = errors.New("pglock: the lock was not held")
		}
		return err
	}
	conn.Release()
	return nil
}

var _ handler.Locker = (*Locker)(nil)

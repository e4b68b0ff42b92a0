// Package pglock is a tusd handler.Locker shared by every server on one
// PostgreSQL database, so that an upload is written by one request at a
// time whichever server the requests reach.
//
// A lock is taken in two steps. Within the server, one request at a time
// holds an upload's lock (a request that wants it calls the holder's
// requestRelease, which makes tusd end the PATCH in progress, and waits
// for it). Across servers, the holder also takes a session-level advisory
// lock, pg_try_advisory_lock(class, key) with a fixed class for tus uploads
// and key a hash of the upload id, on the one connection where this server
// holds all its upload locks: if the server dies, PostgreSQL ends the
// session and its locks with it. A server that finds the advisory lock
// taken asks its holder to let go (NOTIFY on the channel
// fieldsync_tus_release; every Locker LISTENs there and calls the holder's
// requestRelease) and tries again every Poll until its context ends
// (handler.ErrLockTimeout).
//
// So a server holds any number of upload locks on two connections (the
// holding session and the listener), and takes a third for a moment to
// notify. If the holding session breaks, every lock on it is lost: the
// Locker asks every holder on this server to let go, and opens a new
// session for the next lock. Session advisory locks need a real session:
// connect to PostgreSQL directly or through a pooler in session mode, not
// PgBouncer's transaction mode.
package pglock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tus/tusd/v2/pkg/handler"
)

// lockClass is the first key of every upload lock ("tus" in ASCII): the
// two-key advisory locks do not overlap with the one-key ones, and this
// class keeps them apart from other two-key users.
const lockClass = 0x747573

// channel is where release requests are sent; the payload is the upload id.
const channel = "fieldsync_tus_release"

// queryTimeout bounds each query on the holding session. It is never the
// request's context: a query cut short leaves the session unusable, and
// with it every lock this server holds.
const queryTimeout = 10 * time.Second

// Locker hands out upload locks backed by PostgreSQL advisory locks.
type Locker struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// Poll is how long Lock waits between two tries; default 100ms.
	Poll time.Duration

	mu   sync.Mutex
	held map[string]*holder // upload id → the request holding (or taking) its lock on this server

	sessMu sync.Mutex
	sess   *pgx.Conn // the session holding this server's advisory locks, nil until needed
	gen    int       // incremented with every new session

	stop      context.CancelFunc
	done      chan struct{}
	listening chan struct{} // closed once the listener has first run LISTEN
	owned     bool          // Close closes pool
}

// holder is the request that has an upload's lock on this server.
type holder struct {
	release func()        // its requestRelease
	free    chan struct{} // closed when it lets go
	gen     int           // the session its advisory lock is on (0: not taken yet)
}

// Open connects a pool of its own to the database at dsn and returns a
// Locker on it; Close closes the pool. The pool holds the listening and
// the holding sessions, and one connection more for notifying: any number
// of uploads are locked on them.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Locker, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("upload locks: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // as the store's (postgres.ConnectTimeout)
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.MaxConns = PoolConns
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

// PoolConns is the size of pool a Locker needs: the listening session,
// the holding session, and one for notifying.
const PoolConns = 3

// New returns a Locker on pool and starts listening for release requests
// (until Close). log receives the sessions' connection errors.
func New(pool *pgxpool.Pool, log *slog.Logger) *Locker {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Locker{pool: pool, log: log, Poll: 100 * time.Millisecond, held: map[string]*holder{}, stop: cancel,
		done: make(chan struct{}), listening: make(chan struct{})}
	go l.listen(ctx)
	return l
}

// Close stops listening for release requests and ends the holding
// session (and every lock still held on it). With Open's pool, Close
// closes the pool.
func (l *Locker) Close() error {
	l.stop()
	<-l.done
	l.sessMu.Lock()
	if l.sess != nil {
		l.sess.Close(context.Background())
		l.sess = nil
	}
	l.sessMu.Unlock()
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
	var once sync.Once
	for ctx.Err() == nil {
		err := l.listenOnce(ctx, func() { once.Do(func() { close(l.listening) }) })
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

func (l *Locker) listenOnce(ctx context.Context, listening func()) error {
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
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		l.mu.Lock()
		h := l.held[n.Payload]
		l.mu.Unlock()
		if h != nil {
			h.release()
		}
	}
}

// onSession runs fn on the holding session, opening one if there is none,
// and returns the session's generation. An error of the session's ends it:
// every lock held on it is lost, so every holder on this server is asked
// to let go.
func (l *Locker) onSession(fn func(ctx context.Context, conn *pgx.Conn) error) (int, error) {
	l.sessMu.Lock()
	defer l.sessMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	if l.sess == nil {
		pc, err := l.pool.Acquire(ctx)
		if err != nil {
			return 0, err
		}
		l.sess = pc.Hijack()
		l.gen++
	}
	err := fn(ctx, l.sess)
	if err != nil && !l.sess.IsClosed() {
		// The query's answer is not known: the session may hold the
		// lock or not; ending it settles that.
		l.sess.Close(context.Background())
	}
	if err != nil {
		l.sess = nil
		l.log.Warn("upload lock session ended; the uploads in progress on this server are interrupted", "err", err)
		var lost []*holder
		l.mu.Lock()
		for _, h := range l.held {
			if h.gen != 0 {
				lost = append(lost, h)
			}
		}
		l.mu.Unlock()
		for _, h := range lost {
			h.release()
		}
	}
	return l.gen, err
}

type lock struct {
	l   *Locker
	id  string
	key int32
	h   *holder // while held
}

// Lock takes the lock, asking its holder (on this server or another) to
// release it and trying again until ctx ends (handler.ErrLockTimeout).
func (k *lock) Lock(ctx context.Context, requestRelease func()) error {
	if k.h != nil {
		return errors.New("pglock: lock already held")
	}
	// A holder must hear when it is asked to let go: a server that has
	// just started takes no lock before its listener is listening (a
	// request sent before then is lost, and the one asking may give up
	// before it asks again).
	select {
	case <-k.l.listening:
	case <-ctx.Done():
		return handler.ErrLockTimeout
	}
	h, err := k.takeLocal(ctx, requestRelease)
	if err != nil {
		return err
	}
	var asked time.Time
	for {
		var ok bool
		gen, err := k.l.onSession(func(ctx context.Context, conn *pgx.Conn) error {
			return conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", lockClass, k.key).Scan(&ok)
		})
		if err == nil && ok {
			k.l.mu.Lock()
			h.gen = gen
			k.l.mu.Unlock()
			k.h = h
			return nil
		}
		if err == nil && time.Since(asked) >= time.Second {
			// Ask the holder (again, in case it had not got the lock
			// yet when first asked) to end its request.
			_, err = k.l.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, k.id)
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
			k.l.dropLocal(k.id, h)
			if ctx.Err() != nil {
				return handler.ErrLockTimeout
			}
			return err
		}
	}
}

// takeLocal makes this request the upload's only holder on this server,
// asking an earlier holder to let go and waiting for it until ctx ends.
func (k *lock) takeLocal(ctx context.Context, requestRelease func()) (*holder, error) {
	for {
		k.l.mu.Lock()
		h := k.l.held[k.id]
		if h == nil {
			h = &holder{release: requestRelease, free: make(chan struct{})}
			k.l.held[k.id] = h
			k.l.mu.Unlock()
			return h, nil
		}
		k.l.mu.Unlock()
		h.release()
		select {
		case <-h.free:
		case <-ctx.Done():
			return nil, handler.ErrLockTimeout
		}
	}
}

// dropLocal ends h's hold of the upload id on this server.
func (l *Locker) dropLocal(id string, h *holder) {
	l.mu.Lock()
	if l.held[id] == h {
		delete(l.held, id)
	}
	l.mu.Unlock()
	close(h.free)
}

// Unlock releases the lock. It reports an error if the lock was lost
// meanwhile (its session ended).
func (k *lock) Unlock() error {
	h := k.h
	if h == nil {
		return nil
	}
	k.h = nil
	defer k.l.dropLocal(k.id, h)
	var ok bool
	gen, err := k.l.onSession(func(ctx context.Context, conn *pgx.Conn) error {
		if k.l.gen != h.gen {
			return nil // the session that held it has ended, and the lock with it
		}
		return conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1, $2)", lockClass, k.key).Scan(&ok)
	})
	switch {
	case err != nil:
		return err
	case gen != h.gen:
		return errors.New("pglock: the lock was lost with its session")
	case !ok:
		return errors.New("pglock: the lock was not held")
	}
	return nil
}

var _ handler.Locker = (*Locker)(nil)

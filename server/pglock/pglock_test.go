package pglock_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/pglock"
)

// servers returns two lockers on two pools of one database, as two
// servers have.
func servers(t *testing.T) (*pglock.Locker, *pglock.Locker) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	var ls [2]*pglock.Locker
	for i := range ls {
		l, err := pglock.Open(context.Background(), dsn, slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		l.Poll = 20 * time.Millisecond
		t.Cleanup(func() { l.Close() })
		ls[i] = l
	}
	return ls[0], ls[1]
}

func newLock(t *testing.T, l *pglock.Locker, id string) handler.Lock {
	t.Helper()
	k, err := l.NewLock(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func timeout(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	_ = cancel // ends with its deadline
	return ctx
}

// TestMutualExclusion: while server A holds an upload's lock, server B
// cannot take it (ErrLockTimeout at its deadline) and A is asked to
// release it; other uploads are not affected; once A unlocks, B gets it.
func TestMutualExclusion(t *testing.T) {
	a, b := servers(t)
	var asked atomic.Int32
	la := newLock(t, a, "upload-1")
	if err := la.Lock(timeout(5*time.Second), func() { asked.Add(1) }); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	lb := newLock(t, b, "upload-1")
	if err := lb.Lock(timeout(300*time.Millisecond), func() {}); !errors.Is(err, handler.ErrLockTimeout) {
		t.Fatalf("B locked a held upload: %v, want ErrLockTimeout", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("B gave up after %v, want about its 300ms deadline", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for asked.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if asked.Load() == 0 {
		t.Error("A was not asked to release the lock B wanted")
	}
	other := newLock(t, b, "upload-2")
	if err := other.Lock(timeout(time.Second), func() {}); err != nil {
		t.Fatalf("another upload's lock: %v", err)
	}
	if err := other.Unlock(); err != nil {
		t.Fatal(err)
	}
	// A second request on the same server is excluded too.
	la2 := newLock(t, a, "upload-1")
	if err := la2.Lock(timeout(100*time.Millisecond), func() {}); !errors.Is(err, handler.ErrLockTimeout) {
		t.Fatalf("a second lock on A: %v, want ErrLockTimeout", err)
	}

	if err := la.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := lb.Lock(timeout(time.Second), func() {}); err != nil {
		t.Fatalf("B after A unlocked: %v", err)
	}
	if err := lb.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := lb.Unlock(); err != nil {
		t.Fatalf("unlocking twice: %v", err)
	}
}

// TestReleaseOnRequest: a holder that lets go when asked (as tusd ends
// the PATCH in progress) lets the waiting server in before its deadline.
func TestReleaseOnRequest(t *testing.T) {
	a, b := servers(t)
	la := newLock(t, a, "upload-1")
	released := make(chan struct{})
	var once atomic.Bool
	if err := la.Lock(timeout(5*time.Second), func() {
		if once.CompareAndSwap(false, true) {
			go func() { la.Unlock(); close(released) }()
		}
	}); err != nil {
		t.Fatal(err)
	}
	lb := newLock(t, b, "upload-1")
	start := time.Now()
	if err := lb.Lock(timeout(10*time.Second), func() {}); err != nil {
		t.Fatalf("B: %v", err)
	}
	<-released
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("B waited %v", d)
	}
	lb.Unlock()
}

// TestDeadServerReleases: a server whose database session ends (it
// crashed, or lost its connection) holds no lock.
func TestDeadServerReleases(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "dying_server"
	poolA, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := pglock.New(poolA, slog.New(slog.DiscardHandler))
	defer a.Close()
	poolB, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer poolB.Close()
	b := pglock.New(poolB, slog.Default())
	defer b.Close()
	held := newLock(t, a, "upload-1")
	if err := held.Lock(timeout(time.Second), func() {}); err != nil {
		t.Fatal(err)
	}
	if _, err := poolB.Exec(context.Background(),
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dying_server' AND datname = current_database()"); err != nil {
		t.Fatal(err)
	}
	lb := newLock(t, b, "upload-1")
	if err := lb.Lock(timeout(5*time.Second), func() {}); err != nil {
		t.Fatalf("lock of a dead server: %v", err)
	}
	defer lb.Unlock()
	if err := held.Unlock(); err == nil {
		t.Error("unlocking a lock lost with its session reported no error")
	}
	// A server whose holding session broke (and not the server) asks its
	// holders to let go when it finds out, and locks again on a new one.
	held2 := newLock(t, b, "upload-2")
	var asked atomic.Int32
	if err := held2.Lock(timeout(time.Second), func() { asked.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if _, err := poolB.Exec(context.Background(),
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND "+
			"(application_name = 'fieldsync upload locks' OR (pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_lock%'))"); err != nil {
		t.Fatal(err)
	}
	again := newLock(t, b, "upload-3")
	for i := 0; ; i++ { // the first try finds the session broken
		err := again.Lock(timeout(time.Second), func() {})
		if err == nil {
			break
		}
		if i > 0 {
			t.Fatalf("lock after the session broke: %v", err)
		}
	}
	again.Unlock()
	if asked.Load() == 0 {
		t.Error("the holder of a lock lost with its session was not asked to let go")
	}
	if err := held2.Unlock(); err == nil {
		t.Error("unlocking a lock lost with its session reported no error")
	}
	a.Close()
	poolA.Close()
}

// TestManyUploadsAtOnce: a server holds far more upload locks at once than
// its pool has connections (a county's phones uploading on slow links),
// each taken at once, and every one of them still excludes the other
// server until it is unlocked.
func TestManyUploadsAtOnce(t *testing.T) {
	a, b := servers(t)
	const n = 5 * pglock.PoolConns * 4
	locks := make([]handler.Lock, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range locks {
		locks[i] = newLock(t, a, fmt.Sprintf("upload-%d", i))
		wg.Go(func() { errs[i] = locks[i].Lock(timeout(5*time.Second), func() {}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("lock %d of %d held at once: %v", i, n, err)
		}
	}
	for _, i := range []int{0, n / 2, n - 1} {
		lb := newLock(t, b, fmt.Sprintf("upload-%d", i))
		if err := lb.Lock(timeout(100*time.Millisecond), func() {}); !errors.Is(err, handler.ErrLockTimeout) {
			t.Errorf("B took upload-%d while A held it: %v", i, err)
		}
	}
	for i, l := range locks {
		if err := l.Unlock(); err != nil {
			t.Errorf("unlock %d: %v", i, err)
		}
	}
	lb := newLock(t, b, "upload-7")
	if err := lb.Lock(timeout(time.Second), func() {}); err != nil {
		t.Fatalf("B after A unlocked: %v", err)
	}
	lb.Unlock()
}

package pglock

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
)

// TestNoLockBeforeListening: a server that has just started takes no
// upload lock until its listener is listening. A request to let go sent
// before then would be lost, and the server asking may give up before
// it asks again (TestMutualExclusion failed so under load: B asked once,
// within its 300 ms, before A's LISTEN had run).
func TestNoLockBeforeListening(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// A Locker whose listener has not listened yet (none runs).
	l := &Locker{pool: pool, log: slog.New(slog.DiscardHandler), Poll: 20 * time.Millisecond, held: map[string]*holder{},
		stop: func() {}, done: make(chan struct{}), listening: make(chan struct{})}
	close(l.done)
	k, _ := l.NewLock("upload-1")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := k.Lock(ctx, func() {}); !errors.Is(err, handler.ErrLockTimeout) {
		t.Fatalf("Lock before the listener listens: %v, want ErrLockTimeout", err)
	}
	var taken int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1", lockClass).Scan(&taken); err != nil {
		t.Fatal(err)
	}
	if taken != 0 {
		t.Errorf("%d advisory locks taken before the listener listens", taken)
	}
	close(l.listening)
	if err := k.Lock(context.Background(), func() {}); err != nil {
		t.Fatalf("Lock once the listener listens: %v", err)
	}
	if err := k.Unlock(); err != nil {
		t.Fatal(err)
	}
	l.Close()
}

package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/jobs"
	"github.com/xinzhou-eco/fieldsync/server/photos"
)

// Both ways of processing photos are what the app holds.
var (
	_ jobs.PhotoQueue = (*jobs.River)(nil)
	_ jobs.PhotoQueue = (*photos.Processor)(nil)
)

func openPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// processed counts the photos a fake processor was asked to process.
type processed struct {
	mu sync.Mutex
	n  map[string]int
	by map[string]string // photo id → which server
}

func (p *processed) fn(server string) jobs.ProcessFunc {
	return func(ctx context.Context, id string) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.n == nil {
			p.n, p.by = map[string]int{}, map[string]string{}
		}
		p.n[id]++
		p.by[id] = server
		return nil
	}
}

func (p *processed) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[id]
}

// waitFor polls until every id was processed at least once.
func (p *processed) waitFor(t *testing.T, ids []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing := 0
		for _, id := range ids {
			if p.count(id) == 0 {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d photos not processed after 30 s", missing, len(ids))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newRiver(t *testing.T, pool *pgxpool.Pool, fn jobs.ProcessFunc, cfg jobs.Config) *jobs.River {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r, err := jobs.NewRiver(context.Background(), pool, fn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func start(t *testing.T, r *jobs.River) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		r.Stop()
	})
}

// TestJobsSurviveRestart: photos enqueued while no server works the queue
// (the enqueuing one stopped, or died) are processed by a worker started
// later, each once, though asked for twice; the photos the database lists
// as unprocessed at start are enqueued too; and a photo asked for again
// after its job completed is processed again.
func TestJobsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	pool := openPool(t)
	var done processed
	insertOnly := newRiver(t, pool, nil, jobs.Config{})
	if err := insertOnly.EnqueueContext(ctx, []string{"p1", "p2", "p1"}); err != nil {
		t.Fatal(err)
	}
	insertOnly.Enqueue([]string{"p2", "p3"})
	// A server crashing here loses nothing: the jobs are rows.
	worker := newRiver(t, pool, done.fn("b"), jobs.Config{Workers: 2,
		Unprocessed: func(context.Context) ([]string, error) { return []string{"p3", "p4"}, nil }})
	start(t, worker)
	ids := []string{"p1", "p2", "p3", "p4"}
	done.waitFor(t, ids)
	worker.Enqueue([]string{"p1"}) // reprocessing after completion
	deadline := time.Now().Add(30 * time.Second)
	for done.count("p1") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // time for a duplicate to show
	for id, want := range map[string]int{"p1": 2, "p2": 1, "p3": 1, "p4": 1} {
		if got := done.count(id); got != want {
			t.Errorf("photo %s processed %d times, want %d", id, got, want)
		}
	}
}

// holdFirst wraps fn so that its first call waits, once running is
// closed, until release is closed (a job held running).
func holdFirst(fn jobs.ProcessFunc) (held jobs.ProcessFunc, running, release chan struct{}) {
	running, release = make(chan struct{}), make(chan struct{})
	var started atomic.Bool
	return func(ctx context.Context, id string) error {
		if !started.Swap(true) {
			close(running)
			<-release
		}
		return fn(ctx, id)
	}, running, release
}

// TestAskedAgainWhileRunning: a photo asked for while its job runs (its
// bytes arrived while its record was being processed) is processed again
// after, once however often it is asked.
func TestAskedAgainWhileRunning(t *testing.T) {
	pool := openPool(t)
	var done processed
	fn, running, release := holdFirst(done.fn("a"))
	q := newRiver(t, pool, fn, jobs.Config{Workers: 1})
	q.Enqueue([]string{"p1"})
	start(t, q)
	<-running
	q.Enqueue([]string{"p1"})
	q.Enqueue([]string{"p1"})
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for done.count("p1") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // time for a third run to show
	if n := done.count("p1"); n != 2 {
		t.Fatalf("photo processed %d times, want twice (before and after the request)", n)
	}
}

// TestTwoServersProcessEachPhotoOnce: two servers' queues over one
// database, both asked for every photo, process each photo once between
// them.
func TestTwoServersProcessEachPhotoOnce(t *testing.T) {
	ctx := context.Background()
	pool := openPool(t)
	var done processed
	a := newRiver(t, pool, done.fn("a"), jobs.Config{Workers: 3})
	b := newRiver(t, pool, done.fn("b"), jobs.Config{Workers: 3})
	var ids []string
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("photo-%02d", i))
	}
	for _, q := range []*jobs.River{a, b} {
		if err := q.EnqueueContext(ctx, ids); err != nil {
			t.Fatal(err)
		}
	}
	start(t, a)
	start(t, b)
	done.waitFor(t, ids)
	time.Sleep(300 * time.Millisecond) // time for a duplicate to show
	servers := map[string]int{}
	for _, id := range ids {
		if n := done.count(id); n != 1 {
			t.Errorf("photo %s processed %d times, want once", id, n)
		}
		servers[done.by[id]]++
	}
	t.Logf("photos processed per server: %v", servers)
}

// TestStartScanLeavesRunningJobs: a server starting while another server's
// job for a photo runs finds the photo unprocessed (it is being processed)
// and queues no second job for it: the photo is processed once.
func TestStartScanLeavesRunningJobs(t *testing.T) {
	ctx := context.Background()
	pool := openPool(t)
	var done processed
	fn, running, release := holdFirst(done.fn("a"))
	a := newRiver(t, pool, fn, jobs.Config{Workers: 1})
	if err := a.EnqueueContext(ctx, []string{"p1"}); err != nil {
		t.Fatal(err)
	}
	start(t, a)
	<-running
	b := newRiver(t, pool, done.fn("b"), jobs.Config{Workers: 1,
		Unprocessed: func(context.Context) ([]string, error) { return []string{"p1"}, nil }})
	start(t, b)
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'photo_id' = 'p1'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	close(release)
	done.waitFor(t, []string{"p1"})
	if n != 1 {
		t.Errorf("photo p1 has %d jobs after a server started during its run, want 1", n)
	}
}

// TestDeadServersJobRescued: a job left "running" by a server that died
// (kill -9: it neither finished nor failed it) a minute and a half ago is
// run again by a server that starts now, well before the quarter of an
// hour a crashed server's photos used to wait.
func TestDeadServersJobRescued(t *testing.T) {
	ctx := context.Background()
	pool := openPool(t)
	dead := newRiver(t, pool, nil, jobs.Config{})
	if err := dead.EnqueueContext(ctx, []string{"held"}); err != nil {
		t.Fatal(err)
	}
	// What the dead server's worker left: the job taken, never ended.
	tag, err := pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = now() - interval '95 seconds', attempted_by = ARRAY['dead-server']
		WHERE args->>'photo_id' = 'held'`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("mark the job running: %v, %d rows", err, tag.RowsAffected())
	}
	var done processed
	start(t, newRiver(t, pool, done.fn("b"), jobs.Config{Workers: 1}))
	done.waitFor(t, []string{"held"})
}

// TestStopGrace: a photo job still running when the server's shutdown
// grace ends is cancelled, and the queue stops then, not after the job's
// own limit (a SIGTERM'd server took four minutes to exit).
func TestStopGrace(t *testing.T) {
	pool := openPool(t)
	running := make(chan struct{})
	cancelled := make(chan struct{})
	var once sync.Once
	stuck := func(ctx context.Context, id string) error {
		once.Do(func() { close(running) })
		<-ctx.Done() // a photo that would take minutes
		close(cancelled)
		return ctx.Err()
	}
	r := newRiver(t, pool, stuck, jobs.Config{Workers: 1, StopGrace: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.EnqueueContext(context.Background(), []string{"slow"}); err != nil {
		t.Fatal(err)
	}
	<-running
	cancel()
	stopped := make(chan struct{})
	go func() { r.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("the queue did not stop within a minute of its 300 ms grace")
	}
	select {
	case <-cancelled:
	default:
		t.Error("the running job was not cancelled")
	}
}

// records is a slog handler that passes the records at or above WARN of
// the server's own log (not River's) to a channel.
type records chan slog.Record

func (r records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r records) Handle(_ context.Context, rec slog.Record) error {
	select {
	case r <- rec:
	default:
	}
	return nil
}
func (r records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r records) WithGroup(string) slog.Handler      { return r }

// TestFailedPhotoJobWarns: a photo job that fails (its bytes missing from
// the photo store, say) is said at WARN in the server's log, naming the
// photo and the attempt — River's own line is INFO, and missing evidence
// went unseen among them.
func TestFailedPhotoJobWarns(t *testing.T) {
	pool := openPool(t)
	got := make(records, 16)
	failing := func(ctx context.Context, id string) error {
		return fmt.Errorf("the photo is marked uploaded but the photo store lacks its bytes: photo %s", id)
	}
	r := newRiver(t, pool, failing, jobs.Config{Workers: 1, Log: slog.New(got)})
	start(t, r)
	if err := r.EnqueueContext(context.Background(), []string{"missing-bytes"}); err != nil {
		t.Fatal(err)
	}
	for {
		var rec slog.Record
		select {
		case rec = <-got:
		case <-time.After(time.Minute):
			t.Fatal("no WARN of the failed job within a minute")
		}
		if rec.Message != "photo processing failed" {
			continue
		}
		attrs := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		if rec.Level != slog.LevelWarn || attrs["photo"] != "missing-bytes" || attrs["attempt"] != "1" {
			t.Errorf("logged %s %q %v", rec.Level, rec.Message, attrs)
		}
		return
	}
}

// TestLaterJobsAfterOthers: jobs inserted with EnqueueLater (the demo's
// photos, the scan at start) are taken after those Enqueue inserts, even
// when they were inserted first (ops probe: a phone's photos waited
// minutes behind the demo's backlog).
func TestLaterJobsAfterOthers(t *testing.T) {
	pool := openPool(t)
	var mu sync.Mutex
	var order []string
	record := func(ctx context.Context, id string) error {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, id)
		return nil
	}
	insertOnly := newRiver(t, pool, nil, jobs.Config{})
	insertOnly.EnqueueLater([]string{"demo1", "demo2", "demo3"})
	insertOnly.Enqueue([]string{"phone1", "phone2"})
	var done processed
	worker := newRiver(t, pool, func(ctx context.Context, id string) error {
		_ = record(ctx, id)
		return done.fn("w")(ctx, id)
	}, jobs.Config{Workers: 1})
	start(t, worker)
	done.waitFor(t, []string{"demo1", "demo2", "demo3", "phone1", "phone2"})
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 5 || !slices.Equal(slices.Sorted(slices.Values(order[:2])), []string{"phone1", "phone2"}) {
		t.Errorf("processed in the order %v, want the phone's two first", order)
	}
}

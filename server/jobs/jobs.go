// Package jobs runs photo processing as a durable job queue in PostgreSQL,
// with River (github.com/riverqueue/river): asking for a photo to be
// processed inserts a job row, any server's workers take it, and a job
// whose server died while working it is taken up again, so a crash loses
// no photo and several servers share the work, each photo processed once.
//
// On SQLite (one server) photos.Processor keeps its in-process queue, and
// the database lists the unprocessed photos at start; both satisfy
// PhotoQueue, which is what the app holds.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// PhotoQueue is how the app has photos processed, whichever way: it
// enqueues the ids of photos whose bytes arrived (Syncer.PhotoReady,
// upload.Service.Stored), Start runs the workers until its context ends,
// and Stop waits for the photos in hand to finish. photos.Processor (in
// process, for SQLite) and River (in the database, for PostgreSQL) are
// PhotoQueues.
type PhotoQueue interface {
	// Enqueue asks for photos to be processed.
	Enqueue(ids []string)
	// EnqueueLater asks for photos no one waits for (the demo's, those
	// found unprocessed at start) to be processed after Enqueue's.
	EnqueueLater(ids []string)
	Start(ctx context.Context) error
	Stop()
}

// ProcessFunc processes one photo, as photos.Processor.Process does. An
// error makes the job be tried again later, with a growing delay.
type ProcessFunc func(ctx context.Context, photoID string) error

// ProcessPhotoArgs is the job of processing one photo.
type ProcessPhotoArgs struct {
	PhotoID string `json:"photo_id"`
	// Again marks the job asked for while the photo's job was running:
	// that one may have read the photo before the change that asked, so
	// this one runs after it (at most one such job waits per photo).
	Again bool `json:"again,omitempty"`
}

// Kind names the job in River's table.
func (ProcessPhotoArgs) Kind() string { return "process_photo" }

// uniqueStates are the job states in which a photo's job keeps another for
// the same photo from being inserted: waiting or running (River requires
// those), or failed and waiting for its retry. A completed job does not,
// so a photo can be processed again (its bytes arrived after its record,
// say). A request made while the photo's job is running inserts a job
// marked Again instead (EnqueueContext).
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}

// InsertOpts makes a photo's job unique among those waiting, so asking
// twice (two servers, a retried push, the scan at start) processes it once.
func (ProcessPhotoArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: maxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// Queue is the River queue of photo jobs.
const Queue = "photos"

const (
	// maxAttempts bounds the tries of a job that keeps failing (River
	// spaces them out over hours); the photo stays unprocessed in the
	// database after that, and the next scan at start queues it again.
	maxAttempts = 10
	// jobTimeout bounds one photo's processing (a second or two in
	// practice, for the largest photo on a busy server).
	jobTimeout = time.Minute
	// rescueAfter is when a job still "running" is taken to belong to a
	// server that died (kill -9, a lost machine), and is run again: after
	// the job's own limit, with time for a cancelled job to return. The
	// photos such a server held wait that long, plus River's leader
	// election and its rescuer's 30 s round, not the ten minutes and more
	// they waited with a five-minute limit.
	rescueAfter = jobTimeout + 30*time.Second
)

// Config configures River.
type Config struct {
	// Workers is how many photos this server processes at once; 0 makes
	// a queue that only enqueues (Start then works nothing).
	Workers int
	// Unprocessed, if set, lists the photos to enqueue when Start runs:
	// PhotoStore.UnprocessedPhotos, so that a photo whose enqueue was lost
	// (the server died between the commit and the insert) is not lost.
	Unprocessed func(ctx context.Context) ([]string, error)
	// Log receives the queue's errors and River's own log; nil is
	// slog.Default().
	Log *slog.Logger
	// StopGrace is how long the photos in hand get to finish once Start's
	// context ends (the server's shutdown grace); then they are cancelled,
	// to be done again by the next server to start (a job does the same
	// work twice safely). 0: 30 s.
	StopGrace time.Duration
}

// River is a PhotoQueue in PostgreSQL.
type River struct {
	client      *river.Client[pgx.Tx]
	unprocessed func(context.Context) ([]string, error)
	log         *slog.Logger
	workers     int
	stopGrace   time.Duration

	mu      sync.Mutex
	started bool
	done    chan struct{} // closed when the client has stopped
}

// Migrate creates or updates River's tables (river_job and its
// companions) in the database. Servers starting at once take turns.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// One migrating server at a time: the lock is on this connection,
	// the migration runs on the pool's.
	const lockKey = 0x66696c6473796e63 // "fieldsync"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(lockKey)); err != nil {
		return fmt.Errorf("lock for job queue migration: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(lockKey)) //nolint:errcheck // the session ends the lock anyway
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	return nil
}

// NewRiver migrates River's tables and returns a queue whose workers call
// process.
func NewRiver(ctx context.Context, pool *pgxpool.Pool, process ProcessFunc, cfg Config) (*River, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	rc := &river.Config{
		Logger:               quieter(cfg.Log, slog.LevelWarn).With("component", "river"),
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: rescueAfter,
		MaxAttempts:          maxAttempts,
	}
	if cfg.Workers > 0 {
		workers := river.NewWorkers()
		river.AddWorker(workers, &photoWorker{process: process, log: cfg.Log})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{Queue: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 30 * time.Second
	}
	return &River{client: client, unprocessed: cfg.Unprocessed, log: cfg.Log, workers: cfg.Workers, stopGrace: cfg.StopGrace}, nil
}

type photoWorker struct {
	river.WorkerDefaults[ProcessPhotoArgs]
	process ProcessFunc
	log     *slog.Logger
}

// Work processes the job's photo. A failure is said at WARN in the
// server's own log, with the photo and the attempt — River's line about
// it is INFO, and a photo whose bytes the store lacks (evidence
// missing) must not pass unseen; on the last attempt it is an ERROR.
func (w *photoWorker) Work(ctx context.Context, job *river.Job[ProcessPhotoArgs]) error {
	err := w.process(ctx, job.Args.PhotoID)
	if err != nil && ctx.Err() == nil {
		level := slog.LevelWarn
		if job.Attempt >= job.MaxAttempts {
			level = slog.LevelError
		}
		w.log.Log(ctx, level, "photo processing failed", "photo", job.Args.PhotoID, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "err", err)
	}
	return err
}

// EnqueueContext inserts the jobs of processing these photos (one per
// photo, none for a photo whose job is waiting; for one whose job is
// running, one to run after it: the photo changed since that job read it).
func (r *River) EnqueueContext(ctx context.Context, ids []string) error {
	return r.insert(ctx, ids, true, 0)
}

// laterPriority is the River priority (1 first, 4 last) of the photos no
// one waits for (EnqueueLater): the workers take every photo a phone sent
// before them.
const laterPriority = 3

// EnqueueLater inserts the jobs of processing photos no one waits for
// (the demo's), after the others: River takes jobs by priority first. A
// failure is logged, as Enqueue's.
func (r *River) EnqueueLater(ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.insert(ctx, ids, false, laterPriority); err != nil {
		r.log.Error("enqueue photo processing", "photos", len(ids), "err", err)
	}
}

// insert inserts the jobs of processing these photos, at priority (0:
// River's default, first), and with again, for a photo whose job is
// running, one to run after it. The scan at start asks without again: a
// photo it finds unprocessed while another server's job runs is being
// processed as it stands, not changed since.
func (r *River) insert(ctx context.Context, ids []string, again bool, priority int) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	params := make([]river.InsertManyParams, 0, len(ids))
	var opts *river.InsertOpts
	if priority != 0 {
		opts = &river.InsertOpts{Priority: priority} // the rest from ProcessPhotoArgs.InsertOpts
	}
	for _, id := range ids {
		if id != "" {
			params = append(params, river.InsertManyParams{Args: ProcessPhotoArgs{PhotoID: id}, InsertOpts: opts})
		}
	}
	if len(params) == 0 {
		return nil
	}
	res, err := r.client.InsertMany(ctx, params)
	if err != nil || !again {
		return err
	}
	var after []river.InsertManyParams
	for i, x := range res {
		if x.UniqueSkippedAsDuplicate && x.Job != nil && x.Job.State == rivertype.JobStateRunning {
			args := params[i].Args.(ProcessPhotoArgs)
			args.Again = true
			after = append(after, river.InsertManyParams{Args: args})
		}
	}
	if len(after) > 0 {
		_, err = r.client.InsertMany(ctx, after)
	}
	return err
}

// Enqueue is EnqueueContext for the hooks that cannot fail
// (Syncer.PhotoReady): a failure is logged, and the photo stays
// unprocessed in the database until the next Start queues it.
func (r *River) Enqueue(ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.EnqueueContext(ctx, ids); err != nil {
		r.log.Error("enqueue photo processing", "photos", len(ids), "err", err)
	}
}

// Start enqueues the unprocessed photos (Config.Unprocessed) and starts
// this server's workers, which stop taking jobs when ctx ends; Stop waits
// for the jobs in hand.
func (r *River) Start(ctx context.Context) error {
	if r.unprocessed != nil {
		ids, err := r.unprocessed(ctx)
		if err != nil {
			return fmt.Errorf("find unprocessed photos: %w", err)
		}
		if err := r.insert(ctx, ids, false, laterPriority); err != nil {
			return fmt.Errorf("enqueue unprocessed photos: %w", err)
		}
	}
	if r.workers == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("job queue started twice")
	}
	// The client's own context is not ctx: ending ctx asks for a graceful
	// stop (the photo in hand finishes), cancelling it would not.
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	r.started = true
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		select {
		case <-ctx.Done():
		case <-r.client.Stopped():
		}
		sctx, cancel := context.WithTimeout(context.Background(), r.stopGrace)
		defer cancel()
		if err := r.client.Stop(sctx); err != nil {
			// The grace is over (a slow photo, a lock waited for): the
			// jobs in hand are cancelled, and done again later.
			r.log.Warn("photo jobs still running at the end of the shutdown grace: cancelled", "grace", r.stopGrace, "err", err)
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.client.StopAndCancel(cctx); err != nil {
				r.log.Error("stop job queue", "err", err)
			}
		}
	}()
	return nil
}

// Stop waits for the workers to finish after Start's context ended.
func (r *River) Stop() {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done != nil {
		<-done
	}
}

// quieter returns log without its records below min: River logs its
// producer's job counts at INFO every 5 s while jobs run (ops probe: 40%
// of a server's log), and nothing an operator acts on below WARN.
func quieter(log *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(minLevel{log.Handler(), min})
}

// minLevel is a handler that passes on only records at or above min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// Enabled implements slog.Handler.
func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler.
func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

// WithGroup implements slog.Handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}

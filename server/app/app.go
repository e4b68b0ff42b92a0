package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	jssdk "github.com/xinzhou-eco/fieldsync/sdk/js"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/server/blobs3"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xinzhou-eco/fieldsync/server/jobs"
	"github.com/xinzhou-eco/fieldsync/server/pglock"
	"github.com/xinzhou-eco/fieldsync/server/photos"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/upload"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"github.com/xinzhou-eco/fieldsync/webapp"
)

// App is a configured fieldsync server.
type App struct {
	Cfg Config
	Log *slog.Logger
	// DB is the store: SQLite unless the config names PostgreSQL.
	DB     server.Store
	Syncer *server.Syncer
	Auth   *auth.Service
	Echo   *echo.Echo
	// Blobs keeps photo bytes: the data directory's blobs/ unless the
	// config names an S3-compatible store.
	Blobs  server.BlobStore
	Photos *photos.Processor
	// PhotoQueue has photos processed: Photos itself on SQLite (one
	// server), a job queue in the database on PostgreSQL (any server takes
	// a photo's job; a crash loses none).
	PhotoQueue jobs.PhotoQueue
	Uploads    *upload.Service
	// Sweeper removes uploaded bytes nothing refers to (Sweep).
	Sweeper *server.Sweeper
	// Sealer makes the audit log's monthly seals with the server's audit
	// key (Config.AuditKey), at start and hourly (sweepEvery), and when
	// the console exports a month.
	Sealer *server.Sealer
	// Metrics is the Prometheus registry served at /metrics.
	Metrics *prometheus.Registry
	// Activity is when devices last synced; the demo's photos are sent
	// only while they are quiet (demowrite.go).
	Activity *server.Activity

	ln    net.Listener
	ready atomic.Bool
	// debugLn is the profiler's listener (Config.DebugAddr), bound by
	// Listen and served by Serve.
	debugLn net.Listener
	// demo is the demo's photos, which Serve sends (demowrite.go);
	// demoPatience, if set, replaces the const of that name (tests).
	demo         *demoPhotos
	demoPatience time.Duration
	// tempDir is a tool's temporary directory for the S3 uploads' parts
	// (removed at Close), where it has no data directory.
	tempDir string
	// dirLock is the data directory's lock a server on SQLite holds
	// (dirlock.go); nil for the command-line tools and on PostgreSQL.
	dirLock io.Closer
	// locks are the upload locks of a server on PostgreSQL (nil on SQLite).
	locks *pglock.Locker
	// tool is set for the command-line tools (OpenStore): on PostgreSQL
	// they make nothing in the data directory.
	tool bool
}

// DefaultGOGC is the garbage collector's target the server runs with
// unless GOGC is set. Its live heap is small (tens of MB, mostly SQLite's
// page cache outside the Go heap) and a push allocates several MB per
// batch, so the default of 100 collects about once per batch; 200 trades
// a few more MB of heap for fewer collections, while keeping a busy
// server near 200 MiB (docs/benchmarks.md, issues 2 and 14).
const DefaultGOGC = 200

// DefaultMemoryLimit is the soft heap limit the server runs with, on top
// of what photo decoding may hold (Config.PhotoDecodeMemory), unless
// GOMEMLIMIT is set: past it the collector works harder, so GOGC's
// headroom cannot grow the heap beyond it under a burst of requests. The
// work in progress is bounded (api.Config's admission gates: a few pull
// pages and push bodies at once), so the live heap outside photo decoding
// stays a few tens of MB and the limit is rarely reached.
const DefaultMemoryLimit = 160 << 20

// TuneRuntime applies DefaultGOGC and DefaultMemoryLimit plus photoMemory
// (the photo decoders' budget) unless the environment sets GOGC or
// GOMEMLIMIT.
func TuneRuntime(getenv func(string) string, photoMemory int64) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit + max(photoMemory, 0))
	}
}

// NewLogger returns the slog logger the config asks for.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		// A duration as the text format writes it (75ms), not a bare
		// count of nanoseconds (operator probe: "took":192000000).
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				a.Value = slog.StringValue(a.Value.Duration().String())
			}
			return a
		}
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Open opens the data directory (creating it, the database and the first
// token signing key as needed), loads the seed data — and the demo data if asked — and
// builds the HTTP server. It does not listen yet.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var dirLock io.Closer
	if cfg.Database == "" {
		if err := CheckNotMigrated(cfg.DataDir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		var err error
		switch dirLock, err = lockDataDir(cfg.DataDir); {
		case errors.Is(err, errNoLock):
			log.Warn("serving without the data directory's lock: make sure no other server uses it", "err", err)
		case err != nil:
			return nil, err
		}
	}
	if cfg.Database != "" && cfg.Blobs == "" {
		log.Warn("photos are kept in this server's data directory: servers sharing the database must share a photo store too (--blobs s3://…), or each serves only the photos sent to it, and one restarted after the others took the latest photos refuses to start (its store holds none of them); one server alone on PostgreSQL may ignore this")
	}
	a, err := openStore(ctx, cfg, log, false)
	if err != nil {
		if dirLock != nil {
			dirLock.Close()
		}
		return nil, err
	}
	a.dirLock = dirLock
	if err := a.checkFeedMark(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.writeFeedMark(ctx)
	if err := a.checkPhotoStore(ctx); err != nil {
		if _, shared := a.DB.(*postgres.DB); shared {
			a.Close()
			return nil, err
		}
		// One server's own directory: it serves what it has (the
		// records, the photos still there), and says at once what is
		// missing rather than at each photo (a restore without blobs/).
		log.Error(err.Error(), "store", a.photoStoreName())
	}
	// Token signing keys live in the store, shared by every server; the
	// first is the jwt.key a server of an earlier version left in its data
	// directory (its tokens keep working), or a random one.
	if k, err := auth.EnsureSigningKey(ctx, a.DB, filepath.Join(cfg.DataDir, "jwt.key"), time.Now()); err != nil {
		a.Close()
		return nil, fmt.Errorf("token signing key: %w", err)
	} else if k != nil {
		log.Info("token signing key added", "kid", k.ID)
	}
	a.Auth = auth.NewService(a.DB, log, nil)
	a.Auth.AccessTTL = cfg.AccessTTL
	a.Auth.BcryptCost = cfg.BcryptCost
	proxies := make([]*net.IPNet, 0, len(cfg.TrustedProxies))
	for _, p := range cfg.TrustedProxies {
		n, err := ParseProxy(p)
		if err != nil {
			return nil, err
		}
		proxies = append(proxies, n)
	}
	uploads := a.Uploads
	reg := prometheus.NewRegistry()
	a.Metrics = reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.registerPhotoMetrics(reg)
	a.Echo = api.New(a.Syncer, a.Auth, a.DB, log, api.Config{MaxPushBytes: cfg.MaxPushBytes, Uploads: uploads, Blobs: a.Blobs, TrustedProxies: proxies, CORSOrigins: cfg.CORSOrigins,
		Pull: cfg.Pull, Push: cfg.Push, Activity: a.Activity, BodyIdle: cfg.BodyIdle, BodyMinRate: float64(cfg.BodyMinRate)}, reg, a.ready.Load)
	if _, err := console.Mount(a.Echo, console.Deps{Syncer: a.Syncer, Auth: a.Auth, Store: a.DB, Blobs: a.Blobs, Log: log,
		AddUser: a.AddUser, TileURL: cfg.TileURL, Sealer: a.Sealer}); err != nil {
		a.Close()
		return nil, fmt.Errorf("office console: %w", err)
	}
	if _, err := webapp.Mount(a.Echo, webapp.Options{SDK: jssdk.Bundle}); err != nil {
		a.Close()
		return nil, fmt.Errorf("field app: %w", err)
	}
	return a, nil
}

// OpenStore opens the database and loads seed data, without the HTTP side;
// the command-line tools use it.
//
// On PostgreSQL they make nothing in the data directory (no directory, no
// blobs/, no audit key): a tool run from any directory would otherwise
// leave a stray signing key there, which audit verify would then trust.
func OpenStore(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	return openStore(ctx, cfg, log, true)
}

// openStore is OpenStore for a tool, or for a server (Open), which makes
// its audit key, blobs/ and uploads/ where they are missing.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, tool bool) (*App, error) {
	if !tool || cfg.Database == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	wait := cfg.StoreWait
	if tool {
		wait = 0 // a command run by hand says at once what is wrong
	}
	// The database's own connect timeout bounds a try (postgres.ConnectTimeout):
	// what follows the connection, migrations on a large database, may
	// take long and is not cut off.
	db, err := untilReachable(ctx, log, wait, 0, "database", func(ctx context.Context) (server.Store, error) { return openDatabase(ctx, cfg) })
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if m, ok := db.(interface{ Migrated() []string }); ok && len(m.Migrated()) > 0 {
		log.Info("database migrated", "applied", m.Migrated())
	}
	if g, ok := db.(interface{ Unguarded() []string }); ok && len(g.Unguarded()) > 0 {
		log.Error("the audit log's append-only triggers were missing (removed by hand, to edit the log?): put back; run fieldsync audit verify", "triggers", g.Unguarded())
	}
	a := &App{Cfg: cfg, Log: log, DB: db, Activity: &server.Activity{}, tool: tool}
	if err := a.openParts(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.seed(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// untilReachable returns what open opens, trying again while it fails
// because the store is out of reach (server.StoreUnreachable: PostgreSQL
// or S3 not yet up when the host boots, or restarting beside the
// servers), each wait longer up to 15 s, for at most wait (0: once; the
// last try at its end) or until ctx ends; any other error at once. Each
// failure is logged, so that a server waiting says what for. With try
// above 0 each try is cut off after it, and a store that takes the
// request and never answers counts as out of reach, not as a start that
// hangs.
func untilReachable[T any](ctx context.Context, log *slog.Logger, wait, try time.Duration, what string, open func(context.Context) (T, error)) (T, error) {
	deadline := time.Now().Add(wait)
	pause := 500 * time.Millisecond
	for {
		tctx, cancel := ctx, context.CancelFunc(func() {})
		if try > 0 {
			tctx, cancel = context.WithTimeout(ctx, try)
		}
		v, err := open(tctx)
		cancel()
		left := time.Until(deadline)
		if err == nil || !server.StoreUnreachable(err) || left <= 0 {
			return v, err
		}
		wait := min(pause, left)
		if log != nil {
			log.Warn("store out of reach at start; trying again", "store", what, "err", err, "retry_in", wait.String(),
				"gives_up_at", deadline.Format(time.RFC3339))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		pause = min(pause*2, 15*time.Second)
	}
}

// storeTry bounds each try to reach the photo store at start: its first
// request (HeadBucket) retried by its client for up to three times the
// bucket URL's timeout (30 s by default) when the store hangs.
const storeTry = 15 * time.Second

// openDatabase opens the configured store: PostgreSQL when the config
// names one, else the SQLite database in the data directory.
func openDatabase(ctx context.Context, cfg Config) (server.Store, error) {
	if cfg.Database != "" {
		return postgres.Open(ctx, cfg.Database)
	}
	return sqlite.Open(ctx, cfg.DBPath())
}

// openParts builds what works on the store: the sync engine and its
// clock, the blob store, photo processing and its queue, the sweep and the
// upload service (with an S3 store for partial uploads and a lock in
// PostgreSQL when those are shared).
func (a *App) openParts(ctx context.Context) error {
	cfg, db, log := a.Cfg, a.DB, a.Log
	a.Syncer = server.NewSyncer(db, cfg.Now)
	a.Syncer.MaxSkew = cfg.MaxSkew
	if err := a.Syncer.RestoreClock(ctx); err != nil {
		return fmt.Errorf("restore clock: %w", err)
	}
	// The HLC never goes back, across restarts included: one ahead of the
	// host's clock stays so until the host's clock passes it (phones
	// still sync: they stamp after the server's HLC, checkHLC). Said, so
	// that an operator sees a host clock that was set back, or a lead a
	// looser --max-skew let a phone take.
	if ms := a.Syncer.Clock.Last().Wall - a.Syncer.Now().UnixMilli(); ms > cfg.MaxSkew.Milliseconds() && !a.tool {
		ahead := time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
		log.Warn("the server's HLC is ahead of the host clock; it stays there until the host clock passes it (record times follow the host clock)",
			"ahead", ahead.Round(time.Second).String(), "hlc", a.Syncer.Clock.Last().String())
	}
	var upOpts []upload.Option
	if cfg.Blobs != "" {
		wait := cfg.StoreWait
		if a.tool {
			wait = 0
		}
		b, err := untilReachable(ctx, log, wait, storeTry, "photo store", func(ctx context.Context) (*blobs3.Store, error) { return blobs3.Open(ctx, cfg.Blobs) })
		if err != nil {
			return fmt.Errorf("open blob store: %w", err)
		}
		if !a.tool || cfg.Database == "" {
			b.TempDir = cfg.DataDir // else the system's: a tool makes no data directory
		}
		a.Blobs = b
		upOpts = append(upOpts, upload.WithS3(b.Client(), b.Bucket(), b.Prefix()+"uploads/"))
	} else if readOnlyDir := a.tool && cfg.Database != ""; readOnlyDir {
		a.Blobs = blobfs.Existing(filepath.Join(cfg.DataDir, "blobs"))
	} else {
		b, err := blobfs.New(filepath.Join(cfg.DataDir, "blobs"))
		if err != nil {
			return err
		}
		a.Blobs = b
	}
	a.Syncer.Blobs = a.Blobs
	a.Syncer.UploadQuota = cfg.UploadQuota
	_, statErr := os.Stat(cfg.AuditKeyPath())
	key, err := a.auditKey(ctx, cfg.AuditKeyPath())
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) && key != nil && !a.tool && !newDatabase(db) {
		// A database with a past (a restored backup, a data directory
		// moved) given a new key: the months sealed from now on verify
		// against it, not the old one (operator probe: said nowhere).
		msg := "made a new audit key for a database that was not new: if this data directory was restored or moved, put its old audit-key.pem back (and restart) before the next month is sealed, else that month and the ones after verify only against the new key"
		if cfg.Database != "" {
			// Ops probe: a second server of a deployment was told of a
			// restore, where the key was simply not given to it.
			msg = "made a new audit key for a database other servers already use: give every server of the deployment the same key (--audit-key FILE, FIELDSYNC_AUDIT_KEY) and restart this one before the next month is sealed, else that month verifies only against whichever key sealed it"
		}
		log.Warn(msg,
			"key_file", cfg.AuditKeyPath(), "key", audit.KeyID(key.Public().(ed25519.PublicKey)))
	}
	a.Sealer = &server.Sealer{Store: db, Key: key, Now: a.Syncer.Now}
	a.Sweeper = &server.Sweeper{Store: db, Blobs: a.Blobs, Grace: cfg.UploadGrace}
	pcfg := photos.DefaultConfig()
	pcfg.Workers = cfg.PhotoWorkers
	pcfg.Limits.MaxBytes = cfg.PhotoDecodeMemory
	pcfg.Devices = a.Activity // photos wait, a little, for syncing phones
	pg, shared := db.(*postgres.DB)
	if shared {
		locks := pglock.New(pg.LockPool(), log)
		a.locks = locks
		upOpts = append(upOpts, upload.WithLocker(locks))
		pcfg.LinkLock = func(ctx context.Context) (func(), error) {
			l, err := locks.NewLock("photos.reuse-link")
			if err != nil {
				return nil, err
			}
			if err := l.Lock(ctx, func() {}); err != nil {
				return nil, err
			}
			return func() { _ = l.Unlock() }, nil
		}
	}
	a.Photos = photos.New(pcfg, db, a.Syncer, a.Blobs, log)
	a.PhotoQueue = a.Photos
	if shared {
		q, err := jobs.NewRiver(ctx, pg.Pool(), a.Photos.Process, jobs.Config{Workers: cfg.PhotoWorkers, Unprocessed: db.UnprocessedPhotos, Log: log,
			StopGrace: cfg.ShutdownGrace})
		if err != nil {
			return fmt.Errorf("photo job queue: %w", err)
		}
		a.PhotoQueue = q
	}
	a.Syncer.PhotoReady = a.PhotoQueue.Enqueue
	a.Syncer.VisitChanged = func(visits, sites []string) {
		// Their photos' flags are computed again (photos.Processor.reflag),
		// after the write that changed them has committed.
		ids, err := db.VisitPhotos(context.Background(), visits, sites)
		if err != nil {
			log.Error("find the photos of a changed visit", "visits", visits, "sites", sites, "err", err)
			return
		}
		a.PhotoQueue.Enqueue(ids)
	}
	uploadDir := filepath.Join(cfg.DataDir, "uploads")
	if a.tool && cfg.Database != "" {
		if _, err := os.Stat(cfg.DataDir); err != nil {
			// A tool on PostgreSQL away from any server's data directory
			// has no unfinished uploads to open there (sweep refuses
			// first without --blobs), and makes no directory: the
			// uploads on S3 are opened with a temporary one for the
			// client's parts, removed at Close.
			if cfg.Blobs == "" {
				return nil
			}
			if uploadDir, err = os.MkdirTemp("", "fieldsync-uploads-"); err != nil {
				return err
			}
			a.tempDir = uploadDir
		}
	}
	idle := cfg.BodyIdle
	if idle <= 0 {
		idle = api.DefaultBodyIdle
	}
	upOpts = append(upOpts, upload.WithBodyIdle(idle))
	uploads, err := upload.New(uploadDir, cfg.MaxUploadBytes, len(cfg.TrustedProxies) > 0, a.Syncer, log, upOpts...)
	if err != nil {
		return err
	}
	a.Uploads = uploads
	uploads.Stored = a.PhotoQueue.Enqueue
	uploads.Verify = func(r io.ReaderAt, size int64, contentType string) error {
		return photos.CheckOriginal(r, size, contentType, a.Photos.Limits())
	}
	return nil
}

// seed loads the reference data (and the demo's, if asked) and computes
// the completeness of inspections stored before the server kept it; with
// other servers on the database, one server at a time (two starting at
// once would both find the demo's month missing and both write it).
func (a *App) seed(ctx context.Context) error {
	if ex, ok := a.DB.(interface {
		Exclusive(ctx context.Context, fn func() error) error
	}); ok {
		return ex.Exclusive(ctx, func() error { return a.seedNow(ctx) })
	}
	return a.seedNow(ctx)
}

func (a *App) seedNow(ctx context.Context) error {
	set, err := seeds.Load()
	if err != nil {
		return fmt.Errorf("load seeds: %w", err)
	}
	kept, err := server.LoadReference(ctx, a.Syncer, set)
	if err != nil {
		return fmt.Errorf("seed reference data: %w", err)
	}
	for _, t := range kept {
		a.Log.Error("a checklist version in this build differs from the one published and is not rewritten: "+
			"inspections were answered on it; publish a change as a new version", "template", t)
	}
	if a.Cfg.Demo {
		if err := a.LoadDemo(ctx); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	// Inspections stored before the server kept their completeness get it
	// now, once (the checklists are loaded).
	if n, err := a.Syncer.BackfillCompleteness(ctx); err != nil {
		return err
	} else if n > 0 {
		a.Log.Info("inspection completeness computed", "inspections", n)
	}
	return nil
}

// WriteFileAtomic writes data to path via a temporary file, fsync and
// rename, so a crash leaves either the old file or the new one.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Listen binds the configured address; Addr then reports the bound one
// (useful with port 0).
func (a *App) Listen() error {
	b, err := Bind(a.Cfg)
	if err != nil {
		return err
	}
	a.Use(b)
	return nil
}

// Bound is a server's listeners, bound before it opens its stores: a
// port taken is said before anything is made or migrated (ops probe: a
// server on a busy port migrated the shared database, then failed).
type Bound struct{ ln, debug net.Listener }

// Bind binds cfg's listen addresses (Addr, and DebugAddr if set).
func Bind(cfg Config) (*Bound, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	b := &Bound{ln: ln}
	if cfg.DebugAddr != "" {
		if b.debug, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			ln.Close()
			return nil, fmt.Errorf("debug listener: %w", err)
		}
	}
	return b, nil
}

// Close closes the listeners (a server that did not open).
func (b *Bound) Close() {
	b.ln.Close()
	if b.debug != nil {
		b.debug.Close()
	}
}

// Use takes listeners bound before Open (Bind) as the server's.
func (a *App) Use(b *Bound) { a.ln, a.debugLn = b.ln, b.debug }

// Addr returns the listening address, or "" before Listen.
func (a *App) Addr() string {
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Serve serves HTTP and processes photos until ctx is cancelled, then stops
// accepting, lets in-flight requests (pushes and uploads included) finish
// within the grace period, lets the photo workers finish the photo in hand
// (the rest resume at the next start) and closes the database.
func (a *App) Serve(ctx context.Context) error {
	if a.ln == nil {
		if err := a.Listen(); err != nil {
			return err
		}
	}
	pctx, stopPhotos := context.WithCancel(context.Background())
	if !a.Cfg.HoldPhotoProcessing {
		if err := a.PhotoQueue.Start(pctx); err != nil {
			stopPhotos()
			a.Close()
			return err
		}
		if a.PhotoQueue != jobs.PhotoQueue(a.Photos) {
			// Photos are processed by the shared queue; what earlier
			// versions left is still this server's to correct.
			a.Photos.CorrectEarlier(pctx)
		}
	}
	var sweeping sync.WaitGroup
	sweeping.Add(2)
	go func() {
		defer sweeping.Done()
		a.sweepEvery(pctx, time.Hour)
	}()
	go func() {
		defer sweeping.Done()
		a.markFeedEvery(pctx, time.Minute)
	}()
	if _, shared := a.DB.(*postgres.DB); shared {
		sweeping.Add(1)
		go func() {
			defer sweeping.Done()
			a.followClock(pctx, time.Second)
		}()
	}
	if a.demo != nil {
		sweeping.Add(1)
		go func() {
			defer sweeping.Done()
			a.sendDemoPhotos(pctx)
		}()
	}
	if db, ok := a.DB.(*sqlite.DB); ok {
		sweeping.Add(1)
		go func() {
			defer sweeping.Done()
			a.checkDatabase(pctx, db)
		}()
	}
	if a.debugLn != nil {
		defer a.serveDebug()()
	}
	// An idle connection kept alive is closed after two minutes (phones
	// sync once a minute at most), and one whose request was refused
	// before its body is closed at the answer (unreadBodyCloses): without
	// either, a client could hold connections, and the server's files, for
	// good.
	srv := &http.Server{Handler: unreadBodyCloses(a.Echo), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.ln) }()
	a.ready.Store(true)
	a.Log.Info("serving", "addr", a.Addr(), "data", a.Cfg.DataDir)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		a.ready.Store(false)
		a.Log.Info("shutting down", "grace", a.Cfg.ShutdownGrace)
		sctx, cancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownGrace)
		err = srv.Shutdown(sctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			// Said as what it is, not "context deadline exceeded"
			// (operator probe): what was cut off is sent again.
			// An operator's stop, done: not a failure of the server (it
			// read as "fieldsync serve failed" at ERROR).
			_ = srv.Close()
			a.Log.Warn("shutdown grace ran out: requests still running were cut off (their phones send them again); a longer --shutdown-grace lets them finish",
				"grace", a.Cfg.ShutdownGrace)
			err = nil
		}
	}
	stopPhotos()
	a.PhotoQueue.Stop()
	a.Photos.Stop() // CorrectEarlier, when the queue is another
	sweeping.Wait()
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		a.Log.Info("stopped: the database is closed")
	}
	return err
}

// checkQuiet is how long devices must have been quiet before the start's
// database check runs (checkDatabase); checkWaitsAtMost how long it waits
// for that at most.
const (
	checkQuiet       = 10 * time.Second
	checkWaitsAtMost = time.Hour
)

// checkDatabase runs SQLite's quick check on the database once after the
// server started, when devices have been quiet for checkQuiet (at most
// checkWaitsAtMost after the start): a file damaged by a failing disk was
// served as if sound — unreadable pull pages — and backed up, until a
// restore found it. What it finds goes to the log at ERROR, for the
// operator (fieldsync check says more).
func (a *App) checkDatabase(ctx context.Context, db *sqlite.DB) {
	if err := a.Activity.GiveWay(ctx, checkQuiet, time.Now().Add(checkWaitsAtMost)); err != nil {
		return
	}
	start := time.Now()
	problems, err := db.QuickCheck(ctx, 10)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		a.Log.Warn("database check could not run", "err", err)
	case len(problems) > 0:
		a.Log.Error("the database is damaged: run fieldsync check, and restore the last good backup", "db", a.Cfg.DBPath(), "problems", problems)
	default:
		a.Log.Info("database check: ok", "took", time.Since(start).Round(time.Millisecond))
	}
}

// Sweep first finishes the complete uploads a server stopped before
// finishing (upload.Service.FinishStranded), then removes, as of now, the
// abandoned unfinished uploads and the uploaded bytes nothing refers to,
// both once older than the configured grace period (server.Sweeper says
// which bytes are referenced: never those of a photo record marked
// uploaded). full also walks every stored blob, which the server does once
// at start; the hourly sweeps look only at the uploads whose grace period
// ended. Callable while serving, from another process included.
func (a *App) Sweep(ctx context.Context, now time.Time, full bool) (Swept, error) {
	var out Swept
	var err error
	if out.Stranded, err = a.Uploads.FinishStranded(ctx, a.DB.Principal); err != nil {
		return out, fmt.Errorf("finish stranded uploads: %w", err)
	}
	if out.Unfinished, err = a.Uploads.Sweep(a.Cfg.UploadGrace, now); err != nil {
		return out, fmt.Errorf("sweep unfinished uploads: %w", err)
	}
	out.SweepResult, err = a.Sweeper.Sweep(ctx, now, full)
	return out, err
}

// Swept counts what a Sweep removed.
type Swept struct {
	Stranded   int // complete uploads finished (FinishStranded)
	Unfinished int // abandoned unfinished uploads
	server.SweepResult
}

// sweepEvery sweeps fully at once, then every interval until ctx ends.
func (a *App) sweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for full := true; ; full = false {
		n, err := a.Sweep(ctx, time.Now(), full)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Warn("sweep uploads", "err", err)
		case n.Stranded+n.Unfinished+n.Uploads+n.Blobs > 0:
			a.Log.Info("swept uploads", "finished", n.Stranded, "unfinished", n.Unfinished, "unclaimed", n.Uploads, "blobs", n.Blobs)
		}
		a.sealFinished(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// followClock keeps the clock past the database's high-water mark, every
// interval until ctx ends: with other servers on the database, a phone
// whose requests go to one and then another is never answered an earlier
// server HLC than before, but for that interval (sync.md §3).
func (a *App) followClock(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.Syncer.RestoreClock(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("follow the database's clock", "err", err)
		}
	}
}

// sealFinished seals the audit log's finished months (at start, then
// with each hourly sweep).
func (a *App) sealFinished(ctx context.Context) {
	made, err := a.Sealer.SealFinished(ctx)
	if err != nil && ctx.Err() == nil {
		a.Log.Warn("seal audit log", "err", err)
	}
	for _, s := range made {
		a.Log.Info("sealed audit log", "month", s.Month, "first", s.FirstSeq, "last", s.LastSeq, "key", s.KeyID)
	}
	a.checkSealKeys(ctx)
}

// newDatabase reports whether Open made db (it applied every migration,
// the first among them).
func newDatabase(db server.Store) bool {
	m, ok := db.(interface{ Migrated() []string })
	return ok && len(m.Migrated()) > 0 && strings.HasPrefix(m.Migrated()[0], "001")
}

// checkSealKeys warns when the audit log's seals were signed with other
// keys than this server's: servers on one database that each made a key
// of their own (every one must be given the same, --audit-key), or a
// restore without the backup's key. Each month's seal then verifies only
// against the key of the server that made it.
func (a *App) checkSealKeys(ctx context.Context) {
	if a.Sealer == nil || a.Sealer.Key == nil {
		return
	}
	seals, err := a.DB.AuditSeals(ctx)
	if err != nil {
		return
	}
	mine := audit.KeyID(a.Sealer.Key.Public().(ed25519.PublicKey))
	others := map[string]bool{}
	for _, s := range seals {
		if s.KeyID != mine {
			others[s.KeyID] = true
		}
	}
	if len(others) > 0 {
		a.Log.Warn("audit seals in the database were signed with other keys than this server's: give every server the same audit key (--audit-key or FIELDSYNC_AUDIT_KEY), else audit verify --pubkey fails for the months other keys sealed; after fieldsync audit newkey the months before are the old key's, as expected: check them with audit verify --pubkey OLD --pubkey NEW",
			"key", mine, "other_keys", slices.Sorted(maps.Keys(others)), "key_file", a.Cfg.AuditKeyPath())
	}
}

// auditKey loads the audit key file (the data directory's
// audit-key.pem, or the one --audit-key names). It makes one only for a
// database with no seal yet: where months are sealed, a missing file is a
// path mistyped or a key not carried over (a backup restored, a directory
// moved, without audit-key.pem), and a new key would seal the next months
// with a key that verifies none before them — so the server refuses to
// start, and a tool goes on without a key (it seals nothing; the server
// will say). A tool on PostgreSQL makes no file in a data directory.
// `fieldsync audit newkey` makes a new key on purpose, for one lost.
func (a *App) auditKey(ctx context.Context, path string) (ed25519.PrivateKey, error) {
	k, err := audit.LoadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	seals, err := a.DB.AuditSeals(ctx)
	if err != nil {
		return nil, err
	}
	switch n := len(seals); {
	case n > 0 && a.tool, a.tool && a.Cfg.Database != "":
		return nil, nil
	case n > 0:
		return nil, fmt.Errorf("%s does not exist, and the database's audit log is sealed up to %s with key %s: "+
			"put that key's file there (the data directory's audit-key.pem, or the file --audit-key or FIELDSYNC_AUDIT_KEY names), "+
			"copied from the backup or another server; a new key is made only for a database with no seal. "+
			"If that key is lost for good, make a new one with fieldsync audit newkey (the months sealed before it still verify against key %s only)",
			path, seals[n-1].Month, seals[n-1].KeyID, seals[n-1].KeyID)
	}
	return audit.LoadOrCreateKey(path)
}

// OpenDatabase opens the configured store (migrating it) without loading
// seed data or making keys: for tools that only read, such as the audit
// check.
func OpenDatabase(ctx context.Context, cfg Config) (server.Store, error) {
	return openDatabase(ctx, cfg)
}

// Ready reports whether the server is accepting traffic (false before
// Serve and once shutdown has begun).
func (a *App) Ready() bool { return a.ready.Load() }

// Close closes the database.
func (a *App) Close() error {
	if a.locks != nil {
		// Before the database, whose pool it listens on: the listener
		// stops instead of retrying a closed pool, and logs nothing more.
		_ = a.locks.Close()
		a.locks = nil
	}
	err := a.DB.Close()
	if a.tempDir != "" {
		os.RemoveAll(a.tempDir)
		a.tempDir = ""
	}
	if a.dirLock != nil {
		a.dirLock.Close() // after the database: the next server finds it closed
		a.dirLock = nil
	}
	return err
}

// usernameText is the form of a username: it is typed at sign-in on
// every phone, and is a segment of the console's URLs, so plain letters,
// digits and . _ @ - (no look-alike letters of other scripts, no / ? #).
var usernameText = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// AddUser creates a user with a hashed password. Errors: invalid_value
// (role or county), invalid_field (password), conflict (username taken).
func (a *App) AddUser(ctx context.Context, username, password, displayName string, role server.Role, counties []string) (*server.User, error) {
	if err := role.Check(); err != nil {
		return nil, err
	}
	if !usernameText.MatchString(username) {
		return nil, server.Errorf(syncproto.CodeInvalidField, "用户名只能由英文字母、数字和 . _ @ - 组成，以字母或数字开头，不超过 64 个字符").At("username")
	}
	if err := role.CheckCounties(counties); err != nil {
		return nil, server.AtField(err, "counties")
	}
	if role.AllCounties() && len(counties) > 0 && !everyCounty(counties) {
		// Stored, a list would be shown as if it limited the account
		// (as CheckCountiesChange refuses for a change).
		return nil, server.Errorf(syncproto.CodeInvalidValue, "市级督查和管理员查看全部区县，不能限定区县（不选区县即可）").At("counties")
	}
	// The name offices read beside every record the user makes: one line,
	// nothing that hides or reverses it.
	displayName = strings.TrimSpace(displayName)
	if !server.NoControls.Valid(displayName) || utf8.RuneCountInString(displayName) > 100 {
		return nil, server.Errorf(syncproto.CodeInvalidField, "姓名应为一行文字，不超过 100 个字符，不能含换行、零宽字符、文字方向控制符等控制字符").At("name")
	}
	// Usernames that differ only in case are one name to the people who
	// type them (a phone's keyboard capitalises the first letter).
	users, err := a.DB.Users(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Username, username) && u.Username != username {
			return nil, server.Errorf(syncproto.CodeConflict, "已有用户名 %s，与 %s 只差大小写，请换一个用户名", u.Username, username).At("username")
		}
	}
	hash, err := auth.HashPassword(password, a.Cfg.BcryptCost)
	if err != nil {
		return nil, server.AtField(err, "password")
	}
	u := &server.User{ID: uuid.Must(uuid.NewV7()).String(), Username: username, DisplayName: displayName,
		Role: role, Counties: counties, CreatedAt: time.Now()}
	return u, a.DB.CreateUser(ctx, u, hash)
}

// everyCounty reports whether counties are every county of the seeds
// (as the demo's city office and administrator list them).
func everyCounty(counties []string) bool {
	set, err := seeds.Load()
	if err != nil || len(set.Counties) != len(counties) {
		return false
	}
	for _, c := range set.Counties {
		if !slices.Contains(counties, c.Code) {
			return false
		}
	}
	return true
}

// serveDebug serves Go's profiler on the debug listener until the
// returned function is called.
func (a *App) serveDebug() func() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(a.debugLn) }()
	a.Log.Info("profiler", "addr", a.DebugAddr())
	return func() { _ = srv.Close() }
}

// DebugAddr is the profiler's bound address ("" when it is off).
func (a *App) DebugAddr() string {
	if a.debugLn == nil {
		return ""
	}
	return a.debugLn.Addr().String()
}

// registerPhotoMetrics adds the photo processing's figures to reg: the
// backlog (photos whose bytes arrived and are not processed yet, counted
// in the store at each scrape, so on PostgreSQL it is every server's) and
// the decode memory this server's workers hold and have waited for.
func (a *App) registerPhotoMetrics(reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldsync_photos_unprocessed",
			Help: "Live photos whose bytes arrived and that are not processed yet (-1: the store did not answer)."}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ids, err := a.DB.UnprocessedPhotos(ctx)
			if err != nil {
				return -1
			}
			return float64(len(ids))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldsync_photo_decode_budget_bytes",
			Help: "The decode memory budget of this server's photo workers."}, func() float64 {
			size, _, _ := a.Photos.DecodeStats()
			return float64(size)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldsync_photo_decode_bytes_in_use",
			Help: "The decode memory this server's photo workers hold now."}, func() float64 {
			return float64(a.Photos.DecodeInUse())
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldsync_photo_decode_peak_bytes",
			Help: "The most decode memory this server's photo workers have held at once."}, func() float64 {
			_, peak, _ := a.Photos.DecodeStats()
			return float64(peak)
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "fieldsync_photo_decode_waits_total",
			Help: "Photo decodes that waited for decode memory held by others."}, func() float64 {
			_, _, waits := a.Photos.DecodeStats()
			return float64(waits)
		}),
	)
}

// Package app wires fieldsync together: configuration, the SQLite store,
// seed data, auth, the sync engine and the HTTP server, with a graceful
// shutdown. cmd/fieldsync is a thin shell around it.
package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/console"

	"golang.org/x/crypto/bcrypt"
)

// Config is the server's configuration. Every field has a default, a flag
// and a FIELDSYNC_* environment variable; flags win over the environment.
type Config struct {
	// envErr holds the FIELDSYNC_* values RegisterFlags refused.
	envErr error

	Addr string // listen address
	// DataDir holds the SQLite database, the photos and the unfinished
	// uploads, unless Database and Blobs name shared ones.
	DataDir string
	// Database is a PostgreSQL URL (postgres://…): the records, users,
	// sessions and keys live there, shared by every server given the same
	// one. "": the SQLite database in DataDir.
	Database string
	// Blobs is an S3-compatible object store for photos and unfinished
	// uploads (s3://bucket?endpoint=…&region=…, credentials from the
	// environment). "": the blobs directory in DataDir.
	Blobs     string
	Demo      bool          // load demo users and sites (and DemoMonth)
	LogFormat string        // "json" or "text"
	LogLevel  string        // debug, info, warn, error
	MaxSkew   time.Duration // how far ahead a device HLC may be
	AccessTTL time.Duration // access-token lifetime
	// ShutdownGrace is how long in-flight requests get to finish.
	ShutdownGrace time.Duration
	MaxPushBytes  int64
	// MaxUploadBytes caps one photo upload (default 25 MB).
	MaxUploadBytes int64
	// UploadQuota caps, per device and per user (all its devices
	// together), the bytes uploaded or being uploaded for photo records
	// that have not arrived yet (default 200 MB; 0: no limit). An upload that would go over it is refused at creation with
	// quota_exceeded; pushing the records frees the quota.
	UploadQuota int64
	// UploadGrace is how long bytes uploaded for a photo record that has
	// not arrived are kept (and abandoned unfinished uploads; default 7
	// days); the sweep then removes them unless a record refers to them.
	UploadGrace time.Duration
	// PhotoWorkers is how many photos are processed at once.
	PhotoWorkers int
	// PhotoDecodeMemory is the memory, in bytes, that decoding photos may
	// take at once across all workers (default 256 MiB). A photo whose own
	// decode takes more is refused at upload (bad_image).
	PhotoDecodeMemory int64
	// DemoMonth, with Demo, also makes the demo's month of field work:
	// inspections, findings, photos and reviews (demomonth.go). It is on
	// by default, so --demo makes it; --demo-month=false (tests that need
	// only the demo accounts and sites) turns it off.
	DemoMonth bool
	// DemoDays is how many days the demo's month spans (0: 30). Tests that
	// follow every photo through processing shorten it; it has no flag, and
	// a data directory keeps the span it was first made with.
	DemoDays int
	// HoldPhotoProcessing leaves uploaded photos queued without processing
	// them (tests use it to restart with work pending); it has no flag.
	HoldPhotoProcessing bool
	// BcryptCost is the cost of new password hashes (0: bcrypt's default).
	// Tests lower it; it has no flag.
	BcryptCost int
	// Now is the server's physical clock (nil: time.Now): what the sync
	// engine stamps its writes with and the console takes as today (the
	// ledger's overdue tasks). Tests set it; it has no flag.
	Now func() time.Time
	// DebugAddr, if set, is a second listen address serving Go's profiler
	// (/debug/pprof/) for measuring the server under load. Keep it on a
	// loopback address: it has no login.
	DebugAddr string
	// TileURL is the console map's tile URL template with {z}, {x} and {y}
	// (for example http://tiles.local/{z}/{x}/{y}.png); "" shows
	// coordinates without a map.
	TileURL string
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// (TLS terminators) in front of the server. Requests from them are
	// taken at their word for the client address (X-Forwarded-For, which
	// slows failed logins per client) and the public scheme and host
	// (X-Forwarded-Proto/-Host, which upload locations are built from).
	// Empty: every peer is the client itself.
	TrustedProxies []string
	// CORSOrigins are the web origins (scheme://host[:port]) of apps
	// served from elsewhere — a hybrid app's WebView (capacitor://localhost,
	// https://localhost), a web app on another host — allowed to call the
	// API (/api/v1/) from a browser (api.Config.CORSOrigins). Empty: only
	// the server's own pages (the field app) can.
	CORSOrigins []string
	// Pull and Push bound the pulls and pushes served at once, how many
	// more may wait for a turn and for how long (api.GateConfig; zero
	// fields take its defaults). Beyond them a request is answered 503
	// server_busy with Retry-After.
	Pull, Push api.GateConfig
	// BodyIdle is the longest a JSON request body (a push) may go without
	// a byte arriving, and BodyMinRate the least rate in bytes a second it
	// must keep on average after its first BodyIdle; a slower one is
	// answered 408 request_timeout and its admission turn freed. Zero: 20 s
	// and 4096 (a poor 2G link).
	BodyIdle    time.Duration
	BodyMinRate int
	// AuditKey is the file of the Ed25519 key that signs the audit log's
	// monthly seals (PEM, PKCS #8; made 0600 at first start if absent).
	// "": audit-key.pem in the data directory. Servers sharing a
	// PostgreSQL database must share one key: give each the same file.
	AuditKey string
	// StoreWait is how long a server starting keeps trying a database or
	// photo store it cannot reach (a host's boot, a cluster restarted
	// together) before it gives up; 0 tries once.
	StoreWait time.Duration
}

// MinUploadGrace is the shortest upload grace period the server and the
// sweep command take: the server promises phones that bytes uploaded
// before their record wait for it that long, and a sweep that removed them
// sooner would break that promise.
const MinUploadGrace = time.Hour

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "./data", DemoMonth: true, LogFormat: "text", LogLevel: "info",
		MaxSkew: 5 * time.Minute, AccessTTL: 15 * time.Minute, ShutdownGrace: 30 * time.Second, MaxPushBytes: 16 << 20,
		MaxUploadBytes: 25 << 20, UploadQuota: 200 << 20, UploadGrace: server.DefaultUploadGrace, PhotoWorkers: 2, PhotoDecodeMemory: 256 << 20,
		StoreWait: 2 * time.Minute}
}

// RegisterFlags binds the config to flags whose defaults come from the
// environment (getenv, normally os.Getenv) over the built-in defaults:
// each flag's variable is FIELDSYNC_ and its name in upper case with _
// for - (--max-upload: FIELDSYNC_MAX_UPLOAD), read as the flag reads its
// value. A value the flag would refuse is refused (EnvError), not
// replaced by the default.
func (c *Config) RegisterFlags(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (FIELDSYNC_ADDR)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (FIELDSYNC_DATA)")
	fs.StringVar(&c.Database, "database", c.Database, "PostgreSQL URL (postgres://…) shared by several servers; empty: SQLite in the data directory (FIELDSYNC_DATABASE)")
	fs.StringVar(&c.Blobs, "blobs", c.Blobs, "S3-compatible photo store (s3://bucket?endpoint=…&region=…); empty: the data directory (FIELDSYNC_BLOBS)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "load demo users, sites and a month of inspections (FIELDSYNC_DEMO)")
	fs.BoolVar(&c.DemoMonth, "demo-month", c.DemoMonth, "with --demo, also write the demo's month of field work (FIELDSYNC_DEMO_MONTH)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json (FIELDSYNC_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level (FIELDSYNC_LOG_LEVEL)")
	fs.DurationVar(&c.MaxSkew, "max-skew", c.MaxSkew, "largest allowed device clock lead, 1s to 24h (FIELDSYNC_MAX_SKEW)")
	fs.DurationVar(&c.AccessTTL, "access-ttl", c.AccessTTL, "access token lifetime, 1m to 24h (FIELDSYNC_ACCESS_TTL)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload", c.MaxUploadBytes, "largest photo upload in bytes, at least 1 MiB (FIELDSYNC_MAX_UPLOAD)")
	fs.Int64Var(&c.UploadQuota, "upload-quota", c.UploadQuota, "per device, and per user over all its devices, bytes uploaded for photo records not yet pushed: 0 (no limit) or at least max-upload (FIELDSYNC_UPLOAD_QUOTA)")
	fs.DurationVar(&c.UploadGrace, "upload-grace", c.UploadGrace,
		"how long uploads without a photo record, and unfinished uploads, are kept; at least 1h (FIELDSYNC_UPLOAD_GRACE)")
	fs.IntVar(&c.PhotoWorkers, "photo-workers", c.PhotoWorkers, "photos processed at once, 1 to 64 (FIELDSYNC_PHOTO_WORKERS)")
	fs.Int64Var(&c.PhotoDecodeMemory, "photo-decode-memory", c.PhotoDecodeMemory, "bytes of memory all photo decodes may take at once, at least 32 MiB; a photo needing more is refused (FIELDSYNC_PHOTO_DECODE_MEMORY)")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "address serving the Go profiler (/debug/pprof/), loopback only; empty: off (FIELDSYNC_DEBUG_ADDR)")
	fs.StringVar(&c.TileURL, "tile-url", c.TileURL, "console map tile URL template with {z}/{x}/{y}; empty shows coordinates only (FIELDSYNC_TILE_URL)")
	fs.Func("cors-origins", "comma-separated web origins (scheme://host[:port]) of apps served elsewhere allowed to call the API from a browser, e.g. capacitor://localhost,https://localhost (FIELDSYNC_CORS_ORIGINS)",
		func(v string) error { c.CORSOrigins = SplitList(v); return nil })
	fs.Func("trusted-proxies", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-* headers are believed (FIELDSYNC_TRUSTED_PROXIES)",
		func(v string) error { c.TrustedProxies = SplitList(v); return nil })
	for _, g := range []struct {
		name, plural, limit string
		cfg                 *api.GateConfig
	}{{"pull", "pulls", "2×GOMAXPROCS", &c.Pull}, {"push", "pushes", "2×GOMAXPROCS, at least 8", &c.Push}} {
		up := strings.ToUpper(g.name)
		fs.IntVar(&g.cfg.Limit, g.name+"-concurrency", g.cfg.Limit, g.plural+" served at once; 0: "+g.limit+" (FIELDSYNC_"+up+"_CONCURRENCY)")
		fs.IntVar(&g.cfg.Queue, g.name+"-queue", g.cfg.Queue, g.plural+" waiting for a turn before 503 server_busy; 0: 64, -1: none (FIELDSYNC_"+up+"_QUEUE)")
		fs.DurationVar(&g.cfg.Wait, g.name+"-wait", g.cfg.Wait, "longest wait of a "+g.name+" for a turn before 503 server_busy; 0: the default (FIELDSYNC_"+up+"_WAIT)")
	}
	fs.DurationVar(&c.BodyIdle, "body-idle", c.BodyIdle, "longest a request body may go without a byte before 408 request_timeout; 0: 20s (FIELDSYNC_BODY_IDLE)")
	fs.IntVar(&c.BodyMinRate, "body-min-rate", c.BodyMinRate, "least average rate of a request body after its first body-idle, bytes a second; 0: 4096 (FIELDSYNC_BODY_MIN_RATE)")
	fs.StringVar(&c.AuditKey, "audit-key", c.AuditKey, "Ed25519 key signing the audit log's monthly seals; empty: audit-key.pem in the data directory (FIELDSYNC_AUDIT_KEY)")
	fs.DurationVar(&c.StoreWait, "store-wait", c.StoreWait, "how long a server starting waits for a PostgreSQL or S3 store it cannot reach, trying again, before it gives up; 0: tries once (FIELDSYNC_STORE_WAIT)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", c.ShutdownGrace, "time for in-flight requests at shutdown (FIELDSYNC_SHUTDOWN_GRACE)")
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", c.BcryptCost, "bcrypt cost of passwords set from now on, 4 to 31; 0: bcrypt's default, 10 (FIELDSYNC_BCRYPT_COST)")
	c.envErr = nil
	fs.VisitAll(func(f *flag.Flag) {
		name := EnvName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			c.envErr = errors.Join(c.envErr, fmt.Errorf("%s=%q: %w", name, v, err))
			return
		}
		f.DefValue = f.Value.String()
	})
}

// EnvError reports the FIELDSYNC_* variables RegisterFlags refused.
func (c *Config) EnvError() error { return c.envErr }

// MaxAccessTTL bounds the access token's lifetime: the refresh token
// carries a session for longer.
const MaxAccessTTL = 24 * time.Hour

// MaxMaxSkew bounds --max-skew: a device stamp that far ahead wins over
// every later edit made elsewhere until the clocks catch up, and record
// times more than a day ahead are refused anyway.
const MaxMaxSkew = 24 * time.Hour

// Validate reports configuration errors.
func (c *Config) Validate() error {
	errs := c.storeErrors()
	if err := checkListenAddr(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr: %w", err))
	}
	if c.DebugAddr != "" {
		if err := checkLoopback(c.DebugAddr); err != nil {
			errs = append(errs, fmt.Errorf("debug-addr: %w", err))
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := ParseProxy(p); err != nil {
			errs = append(errs, err)
		}
	}
	for _, o := range c.CORSOrigins {
		if err := api.CheckOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("cors-origins: %w", err))
		}
	}
	if c.TileURL != "" {
		if err := console.CheckTileURL(c.TileURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxSkew < time.Second || c.MaxSkew > MaxMaxSkew {
		errs = append(errs, fmt.Errorf("max-skew must be between 1s and %s", MaxMaxSkew))
	}
	if c.MaxUploadBytes < 1<<20 {
		errs = append(errs, errors.New("max-upload must be at least 1 MiB"))
	}
	if c.UploadQuota != 0 && c.UploadQuota < c.MaxUploadBytes {
		errs = append(errs, errors.New("upload-quota must be 0 (no limit) or at least max-upload"))
	}
	if c.UploadGrace < MinUploadGrace {
		errs = append(errs, errors.New("upload-grace must be at least 1h"))
	}
	if c.PhotoWorkers < 1 || c.PhotoWorkers > 64 {
		errs = append(errs, errors.New("photo-workers must be between 1 and 64"))
	}
	if c.PhotoDecodeMemory < 32<<20 {
		errs = append(errs, errors.New("photo-decode-memory must be at least 32 MiB (a 12-megapixel photo takes about 25)"))
	}
	if c.Pull.Limit < 0 || c.Push.Limit < 0 || c.Pull.Wait < 0 || c.Push.Wait < 0 {
		errs = append(errs, errors.New("pull/push concurrency and wait must not be negative"))
	}
	if c.Pull.Queue < -1 || c.Push.Queue < -1 {
		errs = append(errs, errors.New("pull-queue and push-queue must be -1 (none), 0 (the default) or more"))
	}
	if c.BodyIdle < 0 || (c.BodyIdle > 0 && c.BodyIdle < 100*time.Millisecond) || c.BodyMinRate < 0 {
		errs = append(errs, errors.New("body-idle must be 0 or at least 100ms, and body-min-rate not negative"))
	}
	if c.AccessTTL < time.Minute || c.AccessTTL > MaxAccessTTL {
		errs = append(errs, fmt.Errorf("access-ttl must be between 1m and %s (a longer-lived access token is one a lost phone keeps using, beyond sign-out and revocation checks' reach)", MaxAccessTTL))
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, errors.New("shutdown-grace must not be negative"))
	}
	if c.StoreWait < 0 {
		errs = append(errs, errors.New("store-wait must not be negative"))
	}
	return errors.Join(errs...)
}

// ValidateStore reports errors in the settings the command-line tools
// read beside the server (OpenStore): where the data is, the password
// cost, the log — not the serving ones, which they ignore.
func (c *Config) ValidateStore() error { return errors.Join(c.storeErrors()...) }

func (c *Config) storeErrors() []error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty"))
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		errs = append(errs, errors.New("database must be a PostgreSQL URL (postgres://…) or empty for SQLite"))
	}
	if c.Blobs != "" && !strings.HasPrefix(c.Blobs, "s3://") {
		errs = append(errs, errors.New("blobs must be an s3:// URL or empty for the data directory"))
	}
	if c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost) {
		errs = append(errs, fmt.Errorf("bcrypt-cost must be 0 (the default) or %d to %d", bcrypt.MinCost, bcrypt.MaxCost))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("log format %q: want json or text", c.LogFormat))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errs
}

// AuditKeyPath is the audit seal key's file: AuditKey, or audit-key.pem
// in the data directory.
func (c *Config) AuditKeyPath() string {
	if c.AuditKey != "" {
		return c.AuditKey
	}
	return c.DataDir + string(os.PathSeparator) + audit.KeyFile
}

// DBPath is the SQLite database file in the data directory.
func (c *Config) DBPath() string { return c.DataDir + string(os.PathSeparator) + "fieldsync.db" }

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ParseProxy reads a trusted proxy: an IP address or a CIDR range.
func ParseProxy(s string) (*net.IPNet, error) {
	if _, n, err := net.ParseCIDR(s); err == nil {
		return n, nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR range", s)
	}
	bits := 128
	if ip4 := ip.To4(); ip4 != nil {
		ip, bits = ip4, 32
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
}

// checkLoopback refuses a listen address that is not on a loopback
// interface (the profiler has no login).
// checkListenAddr checks that addr is host:port (host may be empty: every
// address) with a port number or name, before anything is made for a
// server that could not listen.
func checkListenAddr(addr string) error {
	if addr == "" {
		return errors.New("empty")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:8080, 0.0.0.0:8080, :8080)", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q: port %q is not a port number (0 to 65535)", addr, port)
	}
	return nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// OtherEnv are the FIELDSYNC_ variables read by something else than a
// flag: the S3 credentials, and the tests' and benchmarks' own.
var OtherEnv = []string{"FIELDSYNC_S3_ACCESS_KEY", "FIELDSYNC_S3_SECRET_KEY", "FIELDSYNC_POSTGRES", "FIELDSYNC_REQUIRE_POSTGRES",
	"FIELDSYNC_BIN", "FIELDSYNC_TEST_JPEG", "FIELDSYNC_APP_BENCH", "FIELDSYNC_APP_BENCH_PHOTOS", "FIELDSYNC_WINDOW_SEARCH"}

// UnknownEnv returns a warning for each FIELDSYNC_ variable of environ
// (NAME=value pairs, as os.Environ gives them) that neither a flag of fs
// (RegisterFlags) nor anything in OtherEnv reads — a misspelt
// FIELDSYNC_UPLOAD_QOUTA would otherwise leave the quota off without a
// word — naming the variable meant when one is a few letters away.
//
// A variable a few letters from one that says where the data is kept
// (wherever), while that one is not set, is an error instead: run
// without it a command takes another store — a server answers phones
// from an empty database (ops probe: FIELDSYNC_DATABSE served SQLite).
func UnknownEnv(environ []string, fs *flag.FlagSet) (warnings []string, err error) {
	known := slices.Clone(OtherEnv)
	fs.VisitAll(func(f *flag.Flag) { known = append(known, EnvName(f.Name)) })
	set := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		set[name] = true
	}
	var wrong []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "FIELDSYNC_") || slices.Contains(known, name) {
			continue
		}
		best, bestD := "", 4 // at most 3 edits away
		for _, k := range known {
			if d := editDistance(name, k); d < bestD {
				best, bestD = k, d
			}
		}
		if slices.Contains(wherever, best) && !set[best] {
			wrong = append(wrong, name+" is not a setting (did you mean "+best+"?)")
			continue
		}
		msg := "unknown environment variable " + name + " is ignored"
		if best != "" {
			msg += " (did you mean " + best + "?)"
		}
		warnings = append(warnings, msg)
	}
	slices.Sort(warnings)
	if len(wrong) > 0 {
		slices.Sort(wrong)
		return warnings, errors.New(strings.Join(wrong, "; ") + ": it would say where the data is kept, and without it the default store would be used; set the right name")
	}
	return warnings, nil
}

// wherever are the variables that say where the data is kept.
var wherever = []string{"FIELDSYNC_DATABASE", "FIELDSYNC_BLOBS", "FIELDSYNC_DATA", "FIELDSYNC_AUDIT_KEY"}

// EnvName is the variable of flag name: FIELDSYNC_ and the name in upper
// case with _ for - (max-upload: FIELDSYNC_MAX_UPLOAD).
func EnvName(flagName string) string {
	return "FIELDSYNC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

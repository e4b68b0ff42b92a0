// Package apptest starts a real fieldsync server for tests: a fresh SQLite
// database in a temporary directory, the demo data, and the HTTP API on a
// loopback port. Clients it makes are real syncproto clients whose every
// request and response is checked against mobile-api-docs/openapi.yaml.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

// Demo accounts (seeds/demo.json).
const (
	Inspector       = "inspector"        // 140902 忻府区
	Inspector2      = "inspector2"       // 140902 忻府区
	NingwuInsp      = "ningwu"           // 140925 宁武县
	CountyOffice    = "county"           // 140902
	DingxiangOffice = "dingxiang_office" // 140921 定襄县
	CityOffice      = "city"
	Admin           = "admin"
)

// The demo's counties the tests use most.
const (
	Xinfu     = "140902" // 忻府区
	Dingxiang = "140921" // 定襄县
	Ningwu    = "140925" // 宁武县
)

// Passwords of the demo accounts.
var Passwords = map[string]string{
	Inspector: "inspector123", Inspector2: "inspector123", NingwuInsp: "inspector123",
	CountyOffice: "county123", DingxiangOffice: "county123", CityOffice: "city1234", Admin: "admin123",
}

// Server is a running fieldsync server.
type Server struct {
	URL string
	App *app.App
	Dir string

	t      testing.TB
	cancel context.CancelFunc
	done   chan error
}

// Start runs a server with demo data on 127.0.0.1:0 until the test ends.
// opts may adjust the configuration. A server that seeds what every
// default one does starts from a copy of one seeded database
// (startSeeded).
func Start(t testing.TB, opts ...func(*app.Config)) *Server {
	t.Helper()
	cfg, fresh := newConfig(t, opts)
	startSeeded(t, &cfg, fresh)
	return StartConfig(t, cfg)
}

// testConfig is a test server's configuration: a loopback port, a fresh
// data directory, the demo's accounts and sites, then opts.
func testConfig(t testing.TB, opts []func(*app.Config)) app.Config {
	cfg, _ := newConfig(t, opts)
	return cfg
}

// newConfig is testConfig, and the fresh data directory it made (which
// opts may have replaced).
func newConfig(t testing.TB, opts []func(*app.Config)) (app.Config, string) {
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	fresh := cfg.DataDir
	cfg.Demo = true
	cfg.DemoMonth = false // the accounts and sites; opts may turn the month on
	cfg.ShutdownGrace = 10 * time.Second
	cfg.BcryptCost = bcrypt.MinCost
	for _, o := range opts {
		o(&cfg)
	}
	return cfg, fresh
}

// StartConfig runs a server with exactly cfg.
func StartConfig(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return startLogged(t, cfg, log)
}

// StartLogged is Start with the server's log written to w, as JSON lines
// (info and above), for tests of what the server logs.
func StartLogged(t testing.TB, w io.Writer, opts ...func(*app.Config)) *Server {
	t.Helper()
	return startLogged(t, testConfig(t, opts), slog.New(slog.NewJSONHandler(w, nil)))
}

func startLogged(t testing.TB, cfg app.Config, log *slog.Logger) *Server {
	t.Helper()
	a, err := app.Open(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	if err := a.Listen(); err != nil {
		a.Close()
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{URL: "http://" + a.Addr(), App: a, Dir: cfg.DataDir, t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.Serve(ctx) }()
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down gracefully and waits for it (idempotent).
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil && err != http.ErrServerClosed {
		s.t.Errorf("serve: %v", err)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// HTTPClient returns an http.Client whose requests and responses are
// validated against the OpenAPI spec.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: SpecTransport(s.t, http.DefaultTransport)}
}

// TransportFrom returns a transport whose requests come from the
// loopback address ip (127.x.y.z: any of them reaches a test server), as
// from another machine: per-address limits count it apart.
func TransportFrom(ip string) *http.Transport {
	return &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}).DialContext}
}

// NewClient returns an unauthenticated device client with a new device id.
func (s *Server) NewClient() *syncproto.Client {
	c := syncproto.NewClient(s.URL, uuid.Must(uuid.NewV7()).String())
	c.HTTP = s.HTTPClient()
	c.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() } // no real waiting in tests
	return c
}

// Login returns a device client signed in as a demo user.
func (s *Server) Login(username string) *syncproto.Client {
	s.t.Helper()
	c := s.NewClient()
	if _, err := c.Login(context.Background(), username, Passwords[username], "test "+username); err != nil {
		s.t.Fatalf("login %s: %v", username, err)
	}
	return c
}

// DemoSite returns the id of a demo site in county (the first one listed).
func DemoSite(t testing.TB, county string) string {
	t.Helper()
	return DemoSiteOf(t, county, "")
}

// DemoSiteFor returns the id of the first demo site in county of a kind
// the newest version of checklist template applies to, or, for a
// checklist the catalogue lacks or a county with no such site, its first
// site (an inspection there is incomplete, reason site_kind: for tests
// to which only the county matters).
func DemoSiteFor(t testing.TB, county, template string) string {
	t.Helper()
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	tp := set.LatestTemplate(template)
	if tp == nil {
		return DemoSite(t, county)
	}
	d, err := seeds.LoadDemo()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Sites {
		if s.County == county && slices.Contains(tp.SiteKinds, s.Kind) {
			return s.ID
		}
	}
	return DemoSite(t, county)
}

// DemoSiteOf returns the id of the first demo site of kind in county (of
// any kind for "").
func DemoSiteOf(t testing.TB, county, kind string) string {
	t.Helper()
	d, err := seeds.LoadDemo()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Sites {
		if s.County == county && (kind == "" || s.Kind == kind) {
			return s.ID
		}
	}
	t.Fatalf("no demo site of kind %q in %s", kind, county)
	return ""
}

// MidMonth sets the server's clock to the 15th of the current month (China
// time) at the time of day it is, running on from there, for tests of what
// the console shows of "this month" from the demo month: on the 1st of a
// month (from 16:00 UTC on the last day of the one before) this month has
// no visits yet, and the figures such a test looks for are rightly empty.
func MidMonth(c *app.Config) {
	china := time.FixedZone("CST", 8*3600)
	now := time.Now().In(china)
	shift := time.Duration(15-now.Day()) * 24 * time.Hour
	c.Now = func() time.Time { return time.Now().Add(shift) }
}

// HoldPhotos leaves uploaded photos, the demo month's included, queued
// without processing them (app.Config.HoldPhotoProcessing). It is for tests
// that start the demo month for its records and pages and look at no
// processed photo (thumbnail, flag, near duplicate): under the race
// detector the month's photos would otherwise be processed beside the test
// for minutes, on the cores the test itself needs.
func HoldPhotos(c *app.Config) { c.HoldPhotoProcessing = true }

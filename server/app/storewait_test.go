package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
)

// TestServerWaitsForItsStores: a server started before its PostgreSQL or
// its S3 store answers (a host's boot, a cluster restarted together)
// says so in its log and tries again until the store is up, instead of
// exiting; with store-wait 0, or a fault that waiting does not mend (a
// database that does not exist), it gives up at once; and the
// command-line tools never wait.
func TestServerWaitsForItsStores(t *testing.T) {
	ctx := context.Background()
	base := func(t *testing.T) app.Config {
		cfg := app.DefaultConfig()
		cfg.DataDir, cfg.BcryptCost = t.TempDir(), bcrypt.MinCost
		return cfg
	}
	// start opens a server with cfg whose store is down; when the server
	// has said it waits, bringUp brings the store up. It returns what Open
	// returned.
	start := func(t *testing.T, cfg app.Config, bringUp func()) (*app.App, error) {
		waiting := make(chan struct{}, 16)
		log := slog.New(slog.NewJSONHandler(io.Discard, nil)).Handler()
		h := &noticeHandler{Handler: log, msg: "store out of reach at start; trying again", seen: waiting}
		done := make(chan struct{})
		var a *app.App
		var err error
		go func() {
			defer close(done)
			a, err = app.Open(ctx, cfg, slog.New(h))
		}()
		select {
		case <-waiting:
		case <-done:
			t.Fatalf("Open returned without waiting: %v", err)
		}
		bringUp()
		<-done
		if a != nil {
			t.Cleanup(func() { a.Close() })
		}
		return a, err
	}

	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		target, addr := u.Host, closedPort(t)
		u.Host = addr
		cfg := base(t)
		cfg.Database = u.String()
		a, err := start(t, cfg, func() { proxy(t, addr, target) })
		if err != nil || a == nil {
			t.Fatalf("a server started before its database: %v", err)
		}
		if err := a.DB.Ping(ctx); err != nil {
			t.Errorf("the store opened: %v", err)
		}

		// A database that does not exist: waiting does not mend it.
		u.Host, u.Path = target, "/fieldsync_no_such_database"
		cfg = base(t)
		cfg.Database = u.String()
		if _, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
			t.Error("opened a database that does not exist")
		}
	})

	t.Run("s3", func(t *testing.T) {
		storeURL := s3test.Start(t)
		u, err := url.Parse(storeURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		endpoint, err := url.Parse(q.Get("endpoint"))
		if err != nil {
			t.Fatal(err)
		}
		target, addr := endpoint.Host, closedPort(t)
		q.Set("endpoint", "http://"+addr)
		q.Set("timeout", "1s")
		u.RawQuery = q.Encode()
		cfg := base(t)
		cfg.Blobs = u.String()
		a, err := start(t, cfg, func() { proxy(t, addr, target) })
		if err != nil || a == nil {
			t.Fatalf("a server started before its photo store: %v", err)
		}
	})

	t.Run("postgres that never answers", func(t *testing.T) {
		// A host that takes the connection and says nothing (a proxy with
		// no backend): each try ends at the connect timeout, counts as
		// out of reach and is tried again, until the database answers.
		dsn := pgtest.NewDatabase(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		var bringUp func()
		u.Host, bringUp = silentThenProxy(t, u.Host)
		q := u.Query()
		q.Set("connect_timeout", "1")
		u.RawQuery = q.Encode()
		cfg := base(t)
		cfg.Database = u.String()
		a, err := start(t, cfg, bringUp)
		if err != nil || a == nil {
			t.Fatalf("a server whose database did not answer at first: %v", err)
		}
	})

	t.Run("the last try at the end of the wait", func(t *testing.T) {
		// Waits of 0.5 s, then what is left of 1.2 s: three tries, the
		// last at the end, not two and a stop 0.7 s early.
		cfg := base(t)
		cfg.Database = "postgres://postgres@" + closedPort(t) + "/fieldsync"
		cfg.StoreWait = 1200 * time.Millisecond
		tries := make(chan struct{}, 16)
		log := &noticeHandler{Handler: slog.NewTextHandler(io.Discard, nil), msg: "store out of reach at start; trying again", seen: tries}
		if _, err := app.Open(ctx, cfg, slog.New(log)); err == nil || !server.StoreUnreachable(err) {
			t.Fatalf("a database that never came: %v", err)
		}
		if len(tries) != 2 {
			t.Errorf("%d tries again, want 2 (the last at the end of the wait)", len(tries))
		}
	})

	t.Run("no wait", func(t *testing.T) {
		cfg := base(t)
		cfg.Database = "postgres://postgres@" + closedPort(t) + "/fieldsync?connect_timeout=2"
		for name, open := range map[string]func() error{
			"store-wait 0": func() error {
				c := cfg
				c.StoreWait = 0
				_, err := app.Open(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
				return err
			},
			"a tool": func() error {
				_, err := app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
				return err
			},
		} {
			began := time.Now()
			err := open()
			if err == nil || !strings.Contains(err.Error(), "open database") {
				t.Errorf("%s: %v, want the database's error", name, err)
			}
			// Not a timing test: a wait would take store-wait (2 min).
			if d := time.Since(began); d > time.Minute {
				t.Errorf("%s waited %s", name, d)
			}
		}
	})
}

// noticeHandler passes records on, and sends on seen each time one with
// msg is logged (dropped when seen is full).
type noticeHandler struct {
	slog.Handler
	msg  string
	seen chan struct{}
}

func (h *noticeHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.seen <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *noticeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &noticeHandler{Handler: h.Handler.WithAttrs(as), msg: h.msg, seen: h.seen}
}

func (h *noticeHandler) WithGroup(name string) slog.Handler {
	return &noticeHandler{Handler: h.Handler.WithGroup(name), msg: h.msg, seen: h.seen}
}

// silentThenProxy listens on a loopback address, which it returns, and
// holds each connection without a word until open is called, then
// forwards the connections it takes to target, until t ends.
func silentThenProxy(t *testing.T, target string) (addr string, open func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	var forwarding atomic.Bool
	go accept(ln, func(c net.Conn) {
		if forwarding.Load() {
			go forward(c, target)
			return
		}
		mu.Lock()
		held = append(held, c) // unanswered
		mu.Unlock()
	})
	return ln.Addr().String(), func() { forwarding.Store(true) }
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// proxy listens at addr and forwards each connection to target, until t
// ends: a store coming up where the server looks for it.
func proxy(t *testing.T, addr, target string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go accept(ln, func(c net.Conn) { go forward(c, target) })
}

// accept hands each connection ln takes to take, until ln is closed.
func accept(ln net.Listener, take func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		} else if err != nil {
			continue
		}
		take(c)
	}
}

// forward copies between c and a new connection to target, both ways,
// until either ends.
func forward(c net.Conn, target string) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
}

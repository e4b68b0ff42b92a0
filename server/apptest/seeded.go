package apptest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"golang.org/x/crypto/bcrypt"
)

// seeded is the database of a test server as Start's default
// configuration seeds it — the schema, the reference data, the demo's
// accounts and sites — made once per test binary. Under the race detector
// seeding takes about 0.3 s a server; opening a copy, which finds every
// value stored and writes nothing, a third of that.
var seeded struct {
	once sync.Once
	db   []byte
	err  error
}

// seededDB returns the seeded database's bytes.
func seededDB() ([]byte, error) {
	seeded.once.Do(func() {
		dir, err := os.MkdirTemp("", "fieldsync-apptest-")
		if err != nil {
			seeded.err = err
			return
		}
		defer os.RemoveAll(dir)
		cfg := app.DefaultConfig()
		cfg.DataDir, cfg.Demo, cfg.DemoMonth, cfg.BcryptCost = dir, true, false, bcrypt.MinCost
		a, err := app.OpenStore(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			seeded.err = err
			return
		}
		if err := a.Close(); err != nil {
			seeded.err = err
			return
		}
		if _, err := os.Stat(cfg.DBPath() + "-wal"); err == nil {
			seeded.err = fmt.Errorf("the seeded database left a write-ahead log")
			return
		}
		seeded.db, seeded.err = os.ReadFile(cfg.DBPath())
	})
	return seeded.db, seeded.err
}

// startSeeded puts a copy of the seeded database in cfg's data directory
// when cfg would seed exactly that into the fresh directory dir: SQLite,
// the demo without its month, the server's own clock, the tests' bcrypt
// cost. Anything else starts from nothing, as a real first start does.
func startSeeded(t testing.TB, cfg *app.Config, dir string) {
	t.Helper()
	if cfg.DataDir != dir || cfg.Database != "" || !cfg.Demo || cfg.DemoMonth || cfg.Now != nil || cfg.BcryptCost != bcrypt.MinCost {
		return
	}
	db, err := seededDB()
	if err != nil {
		t.Fatalf("seeded test database: %v", err)
	}
	if err := os.WriteFile(cfg.DBPath(), db, 0o600); err != nil {
		t.Fatal(err)
	}
	// With its key, as a first start leaves it: a database with a past
	// and no key is a restore's mistake, which the server warns of.
	if _, err := audit.LoadOrCreateKey(cfg.AuditKeyPath()); err != nil {
		t.Fatal(err)
	}
}

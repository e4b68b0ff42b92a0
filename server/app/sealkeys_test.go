package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"golang.org/x/crypto/bcrypt"
)

// TestWarnsOfOtherSealKeys: a server whose audit log holds seals signed
// with another key than its own (servers on one database that each made
// a key, a restore without the backup's key) warns, naming both keys;
// seals of its own key alone give no warning.
func TestWarnsOfOtherSealKeys(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.BcryptCost = "127.0.0.1:0", t.TempDir(), bcrypt.MinCost
	var logs bytes.Buffer
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	seal := func(month string, key ed25519.PrivateKey) {
		t.Helper()
		s := audit.Seal{Month: month, FirstSeq: 0, LastSeq: 0, Counts: map[string]int{}, BaseHash: audit.Genesis, HeadHash: audit.Genesis,
			SignedAt: time.Now().UTC()}
		s.KeyID = audit.KeyID(key.Public().(ed25519.PublicKey))
		if err := a.DB.AddAuditSeal(ctx, &s); err != nil {
			t.Fatal(err)
		}
	}
	seal("2026-09", a.Sealer.Key)
	a.checkSealKeys(ctx)
	if strings.Contains(logs.String(), "other keys") {
		t.Fatalf("warned with only its own key's seals:\n%s", logs.String())
	}
	_, other, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	seal("2026-10", other)
	a.checkSealKeys(ctx)
	if !strings.Contains(logs.String(), "other keys") || !strings.Contains(logs.String(), audit.KeyID(other.Public().(ed25519.PublicKey))) {
		t.Errorf("no warning naming the other key:\n%s", logs.String())
	}
}

// TestNamedAuditKeyNotMadeOverSeals: an audit key file given by name that
// does not exist is made for a database with no seal (a first start), and
// refused, naming the key the log is sealed with, once months are sealed
// (a mistyped path, a key not carried to a new server) — a new key would
// seal the next months with one that verifies none before them.
func TestNamedAuditKeyNotMadeOverSeals(t *testing.T) {
	for _, named := range []bool{true, false} {
		t.Run(map[bool]string{true: "named", false: "data directory's"}[named], func(t *testing.T) { auditKeyNotMadeOverSeals(t, named) })
	}
}

// auditKeyNotMadeOverSeals is TestNamedAuditKeyNotMadeOverSeals for a key
// named by --audit-key, or the data directory's audit-key.pem: removed
// (a backup restored without it), the server made a new one with a
// warning and sealed the next months with it (ops probe). A tool goes on
// without a key, and makes none.
func auditKeyNotMadeOverSeals(t *testing.T, named bool) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.BcryptCost = "127.0.0.1:0", t.TempDir(), bcrypt.MinCost
	keys := t.TempDir()
	if named {
		cfg.AuditKey = filepath.Join(keys, "audit-key.pem")
	}
	open := func(cfg Config) (*App, error) { return Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }
	a, err := open(cfg)
	if err != nil {
		t.Fatalf("first start with a key file to make: %v", err)
	}
	if _, err := os.Stat(cfg.AuditKeyPath()); err != nil {
		t.Fatalf("the key was not made: %v", err)
	}
	s := audit.Seal{Month: "2026-10", Counts: map[string]int{}, BaseHash: audit.Genesis, HeadHash: audit.Genesis, SignedAt: time.Now().UTC(),
		KeyID: audit.KeyID(a.Sealer.Key.Public().(ed25519.PublicKey))}
	if err := a.DB.AddAuditSeal(ctx, &s); err != nil {
		t.Fatal(err)
	}
	a.Close()

	missing := cfg
	if named {
		missing.AuditKey = filepath.Join(keys, "audit-kye.pem") // mistyped
	} else {
		if err := os.Rename(cfg.AuditKeyPath(), filepath.Join(keys, "kept.pem")); err != nil {
			t.Fatal(err)
		}
	}
	if a, err := open(missing); err == nil {
		a.Close()
		t.Fatal("started without the key file over a sealed log")
	} else if !strings.Contains(err.Error(), missing.AuditKeyPath()) || !strings.Contains(err.Error(), s.KeyID) || !strings.Contains(err.Error(), "2026-10") ||
		!strings.Contains(err.Error(), "fieldsync audit newkey") {
		t.Errorf("refusal %q does not name the path, the month, the key %s and what to do", err, s.KeyID)
	}
	if _, err := os.Stat(missing.AuditKeyPath()); err == nil {
		t.Error("the refused start made a key file")
	}
	tool, err := OpenStore(ctx, missing, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("a tool over the sealed log without its key: %v", err)
	}
	tool.Close()
	if _, err := os.Stat(missing.AuditKeyPath()); err == nil {
		t.Error("a tool made a key file over the sealed log")
	}
	if !named {
		if err := os.Rename(filepath.Join(keys, "kept.pem"), cfg.AuditKeyPath()); err != nil {
			t.Fatal(err)
		}
	}
	if a, err = open(cfg); err != nil {
		t.Fatalf("start with the key that sealed: %v", err)
	}
	a.Close()
}

// TestWarnsOfNewKeyForOldDatabase: a data directory whose database has
// a past but no audit key (restored, or moved, without audit-key.pem)
// gets a new key with a warning saying to put the old one back; a first
// start, and a start with the key, warn of nothing (operator probe: the
// key was made without a word).
func TestWarnsOfNewKeyForOldDatabase(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.BcryptCost = "127.0.0.1:0", t.TempDir(), bcrypt.MinCost
	start := func() string {
		t.Helper()
		var logs bytes.Buffer
		a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	const warning = "made a new audit key for a database that was not new"
	if l := start(); strings.Contains(l, warning) {
		t.Errorf("a first start warned:\n%s", l)
	}
	if l := start(); strings.Contains(l, warning) {
		t.Errorf("a start with its key warned:\n%s", l)
	}
	if err := os.Remove(cfg.AuditKeyPath()); err != nil {
		t.Fatal(err)
	}
	if l := start(); !strings.Contains(l, warning) || !strings.Contains(l, "audit-key.pem") {
		t.Errorf("a start without the key of a database with a past did not warn:\n%s", l)
	}
	// A second server of a PostgreSQL deployment, its own data directory
	// without the key: told to give every server the same key, not of a
	// restore (ops probe).
	cfg.Database = pgtest.NewDatabase(t)
	start()
	cfg.DataDir = t.TempDir()
	if l := start(); !strings.Contains(l, "give every server of the deployment the same key") || strings.Contains(l, "restored or moved") {
		t.Errorf("a second server without the deployment's key:\n%s", l)
	}
}

// TestJSONLogDurations: a duration in a JSON log record reads as the text
// format's does (75ms), not as a count of nanoseconds no one can read.
func TestJSONLogDurations(t *testing.T) {
	var out bytes.Buffer
	cfg := DefaultConfig()
	cfg.LogFormat = "json"
	NewLogger(cfg, &out).Info("database check: ok", "took", 75*time.Millisecond, "n", 3)
	if s := out.String(); !strings.Contains(s, `"took":"75ms"`) || !strings.Contains(s, `"n":3`) {
		t.Errorf("JSON record %s, want took as 75ms", s)
	}
}

package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"log/slog"
	"strings"
	"testing"
	"time"

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

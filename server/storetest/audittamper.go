package storetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
)

// RawSQL reaches a store's database past the store, for the audit tamper
// tests: Serving runs a statement on the connections the server itself
// uses; Owner runs statements as someone who holds the database file or
// owns the tables (it may drop or disable the append-only triggers
// first, which the statements then do: see AuditTamperSQL).
type RawSQL struct {
	Serving func(tb testing.TB, st server.Store, q string) error
	Owner   func(tb testing.TB, st server.Store, qs ...string)
	// Unguard is the statements that take the append-only triggers
	// away (DROP TRIGGER …, ALTER TABLE … DISABLE TRIGGER …).
	Unguard []string
}

// RunAuditTamper checks that the audit log is append-only for the server
// and that edits made directly in the database, past the triggers, are
// found by server.VerifyAudit, which names the first entry that does not
// match.
func RunAuditTamper(t *testing.T, open Opener, raw RawSQL) {
	setup := func(t *testing.T) (*auditFixture, ed25519.PublicKey) {
		f := newAuditFixture(t, open)
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		setNow(f.e, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
		made, err := (&server.Sealer{Store: f.e.st, Key: key, Now: f.e.Now}).SealFinished(f.e.ctx)
		if err != nil || len(made) != 1 {
			t.Fatalf("seal November: %d %v", len(made), err)
		}
		return f, key.Public().(ed25519.PublicKey)
	}
	verify := func(t *testing.T, f *auditFixture, pub ed25519.PublicKey) []error {
		t.Helper()
		check, err := server.VerifyAudit(f.e.ctx, f.e.st, pub)
		if err != nil {
			t.Fatal(err)
		}
		return check.Problems
	}
	owner := func(t *testing.T, f *auditFixture, qs ...string) {
		raw.Owner(t, f.e.st, append(append([]string{}, raw.Unguard...), qs...)...)
	}

	t.Run("ServingConnectionCannotRewrite", func(t *testing.T) {
		f, pub := setup(t)
		for _, q := range []string{
			`UPDATE audit_log SET actor_name = '李四' WHERE seq = 3`,
			`DELETE FROM audit_log WHERE seq = 7`,
			`DELETE FROM audit_log`,
			`UPDATE audit_seals SET counts = '{}'`,
			`DELETE FROM audit_seals`,
		} {
			if err := raw.Serving(t, f.e.st, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want refused as append-only", q, err)
			}
		}
		if p := verify(t, f, pub); len(p) > 0 {
			t.Fatalf("after refused rewrites: %v", p)
		}
	})

	for _, tc := range []struct {
		name string
		qs   []string
		seq  int64  // the entry named (0: the problem is a seal's)
		want string // in the first problem
	}{
		{"EntryEdited", []string{`UPDATE audit_log SET device_id = 'another-phone' WHERE seq = 5`}, 5, "does not match its hash"},
		{"ChangesEdited", []string{`UPDATE audit_log SET changes = replace(changes, '已补拍', '无问题') WHERE seq = 5`}, 5, "does not match its hash"},
		{"EntryDeleted", []string{`DELETE FROM audit_log WHERE seq = 3`}, 3, "missing"},
		{"LastEntryDeleted", []string{`DELETE FROM audit_log WHERE seq = 7`}, 7, "missing"},
		{"SealCountsAltered", []string{`UPDATE audit_seals SET counts = replace(counts, '"review":2', '"review":1')`}, 0, "signature does not match"},
		{"SealSignatureAltered", []string{`UPDATE audit_seals SET signature = 'AAAA' || substr(signature, 5)`}, 0, "signature does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, pub := setup(t)
			owner(t, f, tc.qs...)
			p := verify(t, f, pub)
			if len(p) == 0 {
				t.Fatal("tampering not found")
			}
			var m *audit.Mismatch
			if tc.seq != 0 && (!errors.As(p[0], &m) || m.Seq != tc.seq) {
				t.Fatalf("first problem %v, want one naming entry %d", p[0], tc.seq)
			}
			if !strings.Contains(p[0].Error(), tc.want) {
				t.Fatalf("first problem %v, want …%s…", p[0], tc.want)
			}
		})
	}

	// A rewrite that recomputes every hash after the edited entry passes
	// the chain but not November's seal, signed before.
	t.Run("RehashedRewrite", func(t *testing.T) {
		f, pub := setup(t)
		es := f.entries(t)
		es[4].ActorName = "王五"
		qs := []string{}
		for i := 4; i < len(es); i++ {
			es[i].Link(es[i-1].Seq, es[i-1].Hash)
			qs = append(qs, "UPDATE audit_log SET actor_name = '"+es[i].ActorName+"', prev_hash = '"+es[i].PrevHash+
				"', hash = '"+es[i].Hash+"' WHERE seq = "+strconv.FormatInt(es[i].Seq, 10))
		}
		owner(t, f, qs...)
		p := verify(t, f, pub)
		var m *audit.Mismatch
		if len(p) != 1 || !errors.As(p[0], &m) || m.Seq != es[len(es)-1].Seq || !strings.Contains(p[0].Error(), "seal 2026-11") {
			t.Fatalf("problems %v, want the seal of 2026-11 not matching its last entry %d", p, es[len(es)-1].Seq)
		}
	})

	// Two entries edited: both named (the first hid the second).
	t.Run("TwoEntriesEdited", func(t *testing.T) {
		f, pub := setup(t)
		owner(t, f, `UPDATE audit_log SET actor_name = 'x' WHERE seq = 3`, `UPDATE audit_log SET record_id = 'y' WHERE seq = 6`)
		named := map[int64]bool{}
		for _, p := range verify(t, f, pub) {
			var m *audit.Mismatch
			if errors.As(p, &m) {
				named[m.Seq] = true
			}
		}
		if !named[3] || !named[6] {
			t.Fatalf("entries named %v, want 3 and 6", named)
		}
	})

	// The seals deleted and a sealed month rewritten, its hashes all
	// recomputed: the chain holds, but the month has no seal though a
	// server wrote entries well after it ended (it would have sealed it).
	t.Run("SealsDeletedMonthRewritten", func(t *testing.T) {
		f, pub := setup(t)
		setNow(f.e, time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC))
		if err := f.e.st.Update(f.e.ctx, func(tx server.WriteTx) error {
			return tx.AppendAudit(f.e.ctx, &audit.Entry{At: f.e.Now(), ActorName: "命令行", Action: audit.ActionAccount, Entity: "user",
				RecordID: "wang", Changes: audit.MakeChanges(map[string]audit.Change{"operation": {New: []byte(`"user_added"`)}})})
		}); err != nil {
			t.Fatal(err)
		}
		es := f.entries(t)
		es[2].ActorName = "王五"
		qs := []string{`DELETE FROM audit_seals`}
		for i := 2; i < len(es); i++ {
			es[i].Link(es[i-1].Seq, es[i-1].Hash)
			qs = append(qs, "UPDATE audit_log SET actor_name = '"+es[i].ActorName+"', prev_hash = '"+es[i].PrevHash+
				"', hash = '"+es[i].Hash+"' WHERE seq = "+strconv.FormatInt(es[i].Seq, 10))
		}
		owner(t, f, qs...)
		p := verify(t, f, pub)
		if len(p) != 1 || !strings.Contains(p[0].Error(), "no seal for 2026-11") {
			t.Fatalf("problems %v, want 2026-11's seal missing", p)
		}
	})
}

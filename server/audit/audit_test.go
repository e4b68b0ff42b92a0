package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/audit"
)

// chain makes n linked entries, cycling through the actions.
func chain(n int) []audit.Entry {
	at := time.Date(2026, 10, 31, 15, 0, 0, 0, time.UTC)
	out := make([]audit.Entry, n)
	head, seq := audit.Genesis, int64(0)
	for i := range out {
		e := audit.Entry{At: at.Add(time.Duration(i) * time.Minute), ActorID: "u1", ActorName: "张三", DeviceID: "d1",
			Action: audit.Actions[i%len(audit.Actions)], Entity: "inspection", RecordID: "r1", InspectionID: "r1", County: "140902",
			Changes: audit.MakeChanges(map[string]audit.Change{"status": {Old: json.RawMessage(`"submitted"`), New: json.RawMessage(`"approved"`)}})}
		e.Link(seq, head)
		out[i], seq, head = e, e.Seq, e.Hash
	}
	return out
}

func TestVerifyFindsTheFirstBadEntry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func([]audit.Entry) []audit.Entry
		seq    int64
		reason string
	}{
		{"intact", func(es []audit.Entry) []audit.Entry { return es }, 0, ""},
		{"field edited", func(es []audit.Entry) []audit.Entry { es[2].ActorName = "李四"; return es }, 3, "does not match its hash"},
		{"changes edited", func(es []audit.Entry) []audit.Entry {
			es[3].Changes = json.RawMessage(`{"status":{"new":"returned","old":"submitted"}}`)
			return es
		}, 4, "does not match its hash"},
		{"edited and rehashed", func(es []audit.Entry) []audit.Entry {
			es[1].DeviceID = "d2"
			es[1].Hash = es[1].ComputeHash()
			return es
		}, 3, "prev_hash"},
		{"deleted", func(es []audit.Entry) []audit.Entry { return append(es[:2:2], es[3:]...) }, 3, "missing"},
		{"reordered", func(es []audit.Entry) []audit.Entry { es[1], es[2] = es[2], es[1]; return es }, 2, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := audit.Verify(1, audit.Genesis, tc.tamper(chain(6)))
			switch {
			case tc.seq == 0 && m != nil:
				t.Fatalf("intact chain: %v", m)
			case tc.seq != 0 && (m == nil || m.Seq != tc.seq || !strings.Contains(m.Reason, tc.reason)):
				t.Fatalf("got %v, want entry %d: …%s…", m, tc.seq, tc.reason)
			}
		})
	}
}

func TestSealSignedAndChecked(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	es := chain(8)
	month := es[3:] // a month after an earlier seal that ended at 3
	seal := audit.MakeSeal("2026-11", 4, es[2].Hash, month)
	seal.Sign(key, time.Now())
	if seal.Counts[audit.ActionReview] != 1 || seal.Counts[audit.ActionTaskProgress] != 1 || seal.Counts[audit.ActionAccount] != 1 || seal.LastSeq != 8 || seal.HeadHash != es[7].Hash {
		t.Fatalf("seal %+v", seal)
	}
	if err := seal.VerifySignature(pub); err != nil {
		t.Fatal(err)
	}
	if m := seal.Check(month); m != nil {
		t.Fatal(m)
	}
	// The seal travels as JSON and still verifies.
	b, _ := json.Marshal(seal)
	back, err := audit.ReadSeal(bytes.NewReader(b))
	if err != nil || back.VerifySignature(pub) != nil {
		t.Fatalf("round trip: %v %v", err, back.VerifySignature(pub))
	}

	for _, tc := range []struct {
		name   string
		tamper func(s *audit.Seal)
		want   string
	}{
		{"count altered", func(s *audit.Seal) { s.Counts[audit.ActionReview] = 0 }, "signature does not match"},
		{"head altered", func(s *audit.Seal) { s.HeadHash = es[6].Hash }, "signature does not match"},
		{"signature altered", func(s *audit.Seal) { s.Signature = strings.Repeat("A", len(s.Signature)-2) + "==" }, "signature does not match"},
		{"re-signed by another key", func(s *audit.Seal) { s.Counts[audit.ActionReview] = 0; s.Sign(other, time.Now()) }, "not by the trusted key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s audit.Seal
			_ = json.Unmarshal(b, &s)
			tc.tamper(&s)
			if err := s.VerifySignature(pub); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want …%s…", err, tc.want)
			}
		})
	}

	// Entries checked against the seal: a rewritten and fully rehashed
	// month still differs from the seal's head.
	forged := chain(8)[3:]
	forged[4].ActorName = "王五"
	for i := 4; i < len(forged); i++ {
		forged[i].Link(forged[i-1].Seq, forged[i-1].Hash)
	}
	if m := seal.Check(forged); m == nil || m.Seq != 8 || !strings.Contains(m.Reason, "head") {
		t.Fatalf("rehashed month: %v", m)
	}
	if m := seal.Check(month[:4]); m == nil || m.Seq != 8 || !strings.Contains(m.Reason, "missing") {
		t.Fatalf("last entry removed: %v", m)
	}
	// Counts checked: a seal claiming other counts (validly signed).
	wrong := *audit.MakeSeal("2026-11", 4, es[2].Hash, month)
	wrong.Counts[audit.ActionTaskProgress] = 9
	if m := wrong.Check(month); m == nil || !strings.Contains(m.Reason, "task_progress") {
		t.Fatalf("counts: %v", m)
	}
}

func TestEmptyMonthSeal(t *testing.T) {
	s := audit.MakeSeal("2026-09", 1, audit.Genesis, nil)
	if s.LastSeq != 0 || s.HeadHash != audit.Genesis || s.Check(nil) != nil {
		t.Fatalf("empty seal %+v: %v", s, s.Check(nil))
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), audit.KeyFile)
	k1, err := audit.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v: %v", fi.Mode(), err)
	}
	k2, err := audit.LoadOrCreateKey(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second load: %v", err)
	}
	pub, err := audit.ParsePublicKey(audit.EncodePublicKey(k1.Public().(ed25519.PublicKey)))
	if err != nil || !pub.Equal(k1.Public()) {
		t.Fatalf("public key round trip: %v", err)
	}
	b, _ := os.ReadFile(path)
	if pub, err := audit.ParsePublicKey(b); err != nil || !pub.Equal(k1.Public()) {
		t.Fatalf("public key of the private key file: %v", err)
	}
}

func TestEntriesRoundTrip(t *testing.T) {
	es := chain(3)
	es[0].Changes = audit.MakeChanges(map[string]audit.Change{"note": {New: json.RawMessage(`"<b>&"`)}})
	es[0].Hash = es[0].ComputeHash()
	for i := 1; i < 3; i++ {
		es[i].Link(es[i-1].Seq, es[i-1].Hash)
	}
	var buf bytes.Buffer
	if err := audit.WriteEntries(&buf, es); err != nil {
		t.Fatal(err)
	}
	back, err := audit.ReadEntries(&buf)
	if err != nil || len(back) != 3 {
		t.Fatalf("%d entries: %v", len(back), err)
	}
	if m := audit.Verify(1, audit.Genesis, back); m != nil {
		t.Fatal(m)
	}
}

func TestMonths(t *testing.T) {
	end, err := audit.MonthEnd("2026-12")
	if err != nil || !end.Equal(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("end %v %v", end, err)
	}
	if audit.MonthOf(time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC)) != "2026-12" || audit.NextMonth("2026-12") != "2027-01" {
		t.Fatal("months in China time")
	}
}

// TestSealBeforeAnAction: a seal signed before an action existed (its
// counts lack it: no entry of it then) still verifies and checks.
func TestSealBeforeAnAction(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	es := chain(3) // review, record_change, evidence_flags: no account entry
	seal := audit.MakeSeal("2026-10", 1, audit.Genesis, es)
	delete(seal.Counts, audit.ActionAccount)
	seal.Sign(key, time.Now())
	if err := seal.VerifySignature(key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if m := seal.Check(es); m != nil {
		t.Fatalf("a seal without the account count: %v", m)
	}
}

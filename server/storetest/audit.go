package storetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// auditCases: the audit log (server/audit), appended in the transaction of
// each audited change, and its monthly seals.
var auditCases = []testCase{
	{"Entries", testAuditEntries},
	{"Seals", testAuditSeals},
	{"AccountEntries", testAccountAudit},
}

// testAccountAudit: AccountAudit returns the account entries, and only
// them, in seq order, among the record entries of the office fixture.
func testAccountAudit(t *testing.T, open Opener) {
	f := newAuditFixture(t, open)
	for i, rec := range []string{"wang", "0191f0a0-0000-7000-8000-000000000001", "li"} {
		entity := "user"
		if i == 1 {
			entity = "device"
		}
		if err := server.AuditAccount(f.e.ctx, f.e.st, server.AccountAction{ActorName: "命令行", Action: "user_added", Entity: entity, RecordID: rec}, f.e.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.e.st.AccountAudit(f.e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var recs []string
	for i, e := range got {
		if e.Action != audit.ActionAccount || i > 0 && e.Seq <= got[i-1].Seq {
			t.Errorf("entry %d: %s seq %d", i, e.Action, e.Seq)
		}
		recs = append(recs, e.Entity+"/"+e.RecordID)
	}
	if want := []string{"user/wang", "device/0191f0a0-0000-7000-8000-000000000001", "user/li"}; !slices.Equal(recs, want) {
		t.Errorf("account entries %v, want %v (of %d entries)", recs, want, len(f.entries(t)))
	}
}

// auditFixture is the office fixture (its flags and two reviews audited)
// plus the audited changes a test names: an edit of the returned
// inspection E by its inspector's phone, a photo added to the approved
// inspection B, and a progress report.
type auditFixture struct {
	*officeData
	newPhoto string
	officeX  *server.Principal
}

func newAuditFixture(t *testing.T, open Opener) *auditFixture {
	o := newOffice(t, open)
	e := o.e
	f := &auditFixture{officeData: o, newPhoto: uuid.NewString()}
	e.advance(time.Minute)
	o.dx.pushOK(o.dx.mut(syncproto.EntityInspection, o.x, map[string]any{"summary": "已补拍", "status": "submitted"}))
	o.dx.pushOK(o.dx.mut(syncproto.EntityPhoto, f.newPhoto, map[string]any{"inspection_id": o.b, "sha256": sha(9), "content_type": "image/jpeg"}))
	// A draft's edits are not audited.
	o.dx.pushOK(o.dx.mut(syncproto.EntityInspection, o.d, map[string]any{"summary": "草稿修改"}))
	f.officeX = e.office(server.RoleCountyOffice, xinfu)
	if err := e.s.ReportProgress(e.ctx, f.officeX, "task-05", xinfu, server.ProgressReport{Status: syncproto.TaskInProgress,
		Note: "已完成一半"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *auditFixture) entries(t *testing.T) []audit.Entry {
	t.Helper()
	es, err := f.e.st.AuditEntries(f.e.ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func testAuditEntries(t *testing.T, open Opener) {
	f := newAuditFixture(t, open)
	e := f.e
	es := f.entries(t)
	type key struct{ action, entity, record string }
	var got []key
	for _, en := range es {
		got = append(got, key{en.Action, en.Entity, en.RecordID})
	}
	want := []key{
		{audit.ActionEvidenceFlags, syncproto.EntityPhoto, f.photoA},
		{audit.ActionEvidenceFlags, syncproto.EntityPhoto, f.photoB},
		{audit.ActionReview, syncproto.EntityInspection, f.b},
		{audit.ActionReview, syncproto.EntityInspection, f.x},
		{audit.ActionRecordChange, syncproto.EntityInspection, f.x},
		{audit.ActionRecordChange, syncproto.EntityPhoto, f.newPhoto},
		{audit.ActionTaskProgress, syncproto.EntityTaskProgress, server.TaskProgressID("task-05", xinfu)},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("entries\n got %v\nwant %v", got, want)
	}
	if m := audit.Verify(1, audit.Genesis, es); m != nil {
		t.Fatalf("chain: %v", m)
	}

	// Who, from which device, what changed.
	edit := es[4]
	ch := edit.DecodeChanges()
	if edit.ActorID != f.dx.p.UserID || edit.ActorName != f.dx.p.Name || edit.DeviceID != f.dx.p.DeviceID ||
		edit.County != xinfu || edit.InspectionID != f.x {
		t.Errorf("edit entry %+v", edit)
	}
	if string(ch["summary"].Old) != `"例行检查"` || string(ch["summary"].New) != `"已补拍"` ||
		string(ch["status"].Old) != `"returned"` || string(ch["status"].New) != `"submitted"` {
		t.Errorf("edit changes %s", edit.Changes)
	}
	if !edit.At.Equal(e.Now()) {
		t.Errorf("edit at %v, want %v", edit.At, e.Now())
	}
	review := es[3].DecodeChanges()
	if string(review["status"].Old) != `"submitted"` || string(review["status"].New) != `"returned"` ||
		string(review["review_comment"].New) != `"重拍"` || string(review["decision"].New) != `"return"` {
		t.Errorf("review changes %s", es[3].Changes)
	}
	if es[5].InspectionID != f.b || es[5].DeviceID != f.dx.p.DeviceID || es[5].DecodeChanges()["sha256"].New == nil {
		t.Errorf("new photo entry %+v", es[5])
	}
	flags := es[1]
	if flags.ActorID != "" || flags.ActorName != server.AuditServerName || flags.InspectionID != f.b ||
		!strings.Contains(string(flags.DecodeChanges()["flags"].New), "far_from_site") {
		t.Errorf("flags entry %+v", flags)
	}
	progress := es[6]
	if progress.ActorID != f.officeX.UserID || progress.ActorName != f.officeX.Name || progress.County != xinfu ||
		string(progress.DecodeChanges()["status"].New) != `"`+syncproto.TaskInProgress+`"` {
		t.Errorf("progress entry %+v %s", progress, progress.Changes)
	}

	// An inspection's history holds its own entries and its photos'.
	hist, err := e.st.AuditHistory(e.ctx, syncproto.EntityInspection, f.b)
	if err != nil {
		t.Fatal(err)
	}
	// A record of another entity with the same id is another record.
	for _, tc := range []struct {
		entity string
		want   int
	}{{syncproto.EntityInspection, 0}, {syncproto.EntityVehicleCheck, 0}, {syncproto.EntityPhoto, 1}} {
		if h, err := e.st.AuditHistory(e.ctx, tc.entity, f.newPhoto); err != nil || len(h) != tc.want {
			t.Errorf("history of %s %s (the new photo's id): %d entries %v, want %d", tc.entity, f.newPhoto, len(h), err, tc.want)
		}
	}
	var seqs []int64
	for _, h := range hist {
		seqs = append(seqs, h.Seq)
	}
	if !slices.Equal(seqs, []int64{2, 3, 6}) {
		t.Errorf("history of B: entries %v, want [2 3 6]", seqs)
	}

	// A batch refused as a whole appends nothing; a retried batch
	// appends nothing again.
	m := f.dx.mut(syncproto.EntityPhoto, uuid.NewString(), map[string]any{"inspection_id": f.b, "sha256": sha(10)})
	batch := uuid.NewString()
	for range 2 {
		if _, err := f.dx.pushBatch(batch, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.entries(t)); n != len(es)+1 {
		t.Errorf("after a batch sent twice: %d entries, want %d", n, len(es)+1)
	}

	check, err := server.VerifyAudit(e.ctx, e.st, nil)
	if err != nil || len(check.Problems) > 0 || check.Entries != int64(len(es)+1) || check.Unsealed != check.Entries {
		t.Fatalf("verify: %+v %v", check, err)
	}
}

func testAuditSeals(t *testing.T, open Opener) {
	f := newAuditFixture(t, open)
	e := f.e
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	sealer := &server.Sealer{Store: e.st, Key: key, Now: e.Now}
	if _, err := sealer.MonthSeal(e.ctx, "2026-11"); server.ErrorCode(err) != syncproto.CodeNotReady {
		t.Fatalf("seal of the current month: %v", err)
	}
	n := int64(len(f.entries(t)))

	// December: one more entry, then the clock passes the end of
	// December (China time) and its grace.
	setNow(e, time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC))
	if _, err := e.s.Review(e.ctx, f.officeX, f.a, server.DecisionApprove, "", server.Seen{}); err != nil {
		t.Fatal(err)
	}
	setNow(e, time.Date(2026, 12, 31, 17, 0, 1, 0, time.UTC))
	made, err := sealer.SealFinished(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != 2 || made[0].Month != "2026-11" || made[1].Month != "2026-12" {
		t.Fatalf("seals made %+v", made)
	}
	nov, dec := made[0], made[1]
	if nov.FirstSeq != 1 || nov.LastSeq != n || nov.Counts[audit.ActionReview] != 2 || nov.Counts[audit.ActionRecordChange] != 2 ||
		nov.Counts[audit.ActionEvidenceFlags] != 2 || nov.Counts[audit.ActionTaskProgress] != 1 || nov.BaseHash != audit.Genesis {
		t.Errorf("November %+v", nov)
	}
	if dec.FirstSeq != n+1 || dec.LastSeq != n+1 || dec.BaseHash != nov.HeadHash || dec.Counts[audit.ActionReview] != 1 {
		t.Errorf("December %+v", dec)
	}
	if again, err := sealer.SealFinished(e.ctx); err != nil || len(again) != 0 {
		t.Errorf("sealing again made %d: %v", len(again), err)
	}
	got, err := sealer.MonthSeal(e.ctx, "2026-11")
	if err != nil || got.Signature != nov.Signature || got.VerifySignature(pub) != nil {
		t.Fatalf("stored November seal %+v: %v", got, err)
	}
	if _, err := sealer.MonthSeal(e.ctx, "2026-09"); server.ErrorCode(err) != syncproto.CodeNotFound {
		t.Errorf("a month before the log: %v", err)
	}
	if err := e.st.AddAuditSeal(e.ctx, &nov); server.ErrorCode(err) != syncproto.CodeConflict {
		t.Errorf("second seal of November: %v", err)
	}
	entries, err := server.SealEntries(e.ctx, e.st, got)
	if err != nil || int64(len(entries)) != n || got.Check(entries) != nil {
		t.Fatalf("November's entries: %d %v", len(entries), err)
	}
	// The seal and the entries travel as JSON (the export) and still
	// match.
	b, _ := json.Marshal(got)
	var back audit.Seal
	if err := json.Unmarshal(b, &back); err != nil || back.VerifySignature(pub) != nil {
		t.Fatalf("seal JSON: %v", err)
	}

	check, err := server.VerifyAudit(e.ctx, e.st, pub)
	if err != nil || len(check.Problems) > 0 || check.Seals != 2 || check.Unsealed != 0 {
		t.Fatalf("verify: %+v %v", check, err)
	}
	// Entries after the last seal are counted as unsealed.
	setNow(e, time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC))
	if _, err := e.s.Review(e.ctx, f.officeX, f.c, server.DecisionApprove, "", server.Seen{}); server.ErrorCode(err) != syncproto.CodeOutOfScope {
		t.Fatalf("review out of scope: %v", err)
	}
	if err := e.s.ReportProgress(e.ctx, f.officeX, "task-05", xinfu, server.ProgressReport{Status: syncproto.TaskDone}); err != nil {
		t.Fatal(err)
	}
	if check, err := server.VerifyAudit(e.ctx, e.st, pub); err != nil || len(check.Problems) > 0 || check.Unsealed != 1 {
		t.Fatalf("verify with an unsealed entry: %+v %v", check, err)
	}
	// Another key's seals are not trusted.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if check, err := server.VerifyAudit(e.ctx, e.st, other); err != nil || len(check.Problems) != 2 ||
		!strings.Contains(check.Problems[0].Error(), "not by the trusted key") {
		t.Fatalf("verify with another key: %+v %v", check, err)
	}
}

// setNow sets the subtest's clock.
func setNow(e *env, t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

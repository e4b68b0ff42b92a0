package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDecisionOnEvidenceSeen: a review or a verification sent with
// evidence_seq — the highest seq among the record and what the decision
// weighs, as the office read them — is refused (409) when a photo came
// since, which the record's own seq does not show; sent with the version
// read again, it is taken (office probe: the console checked it, the API
// could not).
func TestDecisionOnEvidenceSeen(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	office.PullForm = syncproto.HLCsGrouped // each change's seq, as an office tool reads them
	insp, finding := newID(), newID()
	apptest.PushApplied(t, phone,
		upsert(t, phone, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")),
		upsert(t, phone, syncproto.EntityFinding, finding, F{"inspection_id": insp, "item_key": "fence", "description": "围挡破损",
			"severity": "major", "status": "open", "deadline": server.ChinaDay(time.Now().AddDate(0, 6, 0))}),
		upsert(t, phone, syncproto.EntityPhoto, newID(), F{"inspection_id": insp, "sha256": apptest.SHA256([]byte("a")), "content_type": "image/jpeg"}))
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityInspection, insp, F{"status": "submitted"}))

	// read is what the office holds after a pull: each record's seq, and
	// the highest among those whose field names one of ids.
	read := func(ids ...string) (map[string]int64, int64) {
		t.Helper()
		seqs, top := map[string]int64{}, int64(0)
		if _, err := office.PullAll(t.Context(), "", 1000, func(p *syncproto.PullResponse) error {
			for _, ch := range p.Changes {
				seqs[ch.ID] = ch.Seq
				in := slices.Contains(ids, ch.ID)
				for _, f := range []string{"inspection_id", "finding_id"} {
					var v string
					_ = json.Unmarshal(ch.Fields[f], &v)
					in = in || v != "" && slices.Contains(ids, v)
				}
				if in {
					top = max(top, ch.Seq)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return seqs, top
	}
	seqs, top := read(insp, finding)
	// A photo of the finding, pushed after the office read: the
	// inspection's seq is as read, its evidence is not.
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityPhoto, newID(), F{"finding_id": finding, "sha256": apptest.SHA256([]byte("b")), "content_type": "image/jpeg"}))
	if err := office.Do(t.Context(), http.MethodPost, reviewPath(insp), api.ReviewRequest{Decision: "approve", Seq: seqs[insp], EvidenceSeq: top}, nil); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict {
		t.Fatalf("an approval on evidence read before a photo came: %v, want 409 conflict", err)
	}
	if err := office.Do(t.Context(), http.MethodPost, reviewPath(insp), api.ReviewRequest{Decision: "approve", EvidenceSeq: -1}, nil); syncproto.ErrorCodeOf(err) != syncproto.CodeInvalidField {
		t.Errorf("evidence_seq -1: %v, want invalid_field", err)
	}
	seqs, top = read(insp, finding)
	// A version beyond the last the feed has numbered is no read's: it
	// would check nothing (evidence_seq) or match no record (seq).
	for _, req := range []api.ReviewRequest{{Decision: "approve", Seq: seqs[insp], EvidenceSeq: top + 1_000_000}, {Decision: "approve", Seq: top + 1_000_000}} {
		err := office.Do(t.Context(), http.MethodPost, reviewPath(insp), req, nil)
		var e *syncproto.APIError
		if !errors.As(err, &e) || e.Body.Code != syncproto.CodeInvalidField || e.Body.Field != map[bool]string{true: "seq", false: "evidence_seq"}[req.EvidenceSeq == 0] {
			t.Errorf("%+v, past the feed's head: %v, want invalid_field naming the field", req, err)
		}
	}
	if err := office.Do(t.Context(), http.MethodPost, reviewPath(insp), api.ReviewRequest{Decision: "approve", Seq: seqs[insp], EvidenceSeq: top}, nil); err != nil {
		t.Fatalf("an approval on evidence read again: %v", err)
	}

	// The rectification: the finding and its photos.
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityFinding, finding, F{"status": "rectified", "rectification_note": "已更换围挡"}))
	seqs, top = read(finding)
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityPhoto, newID(), F{"finding_id": finding, "sha256": apptest.SHA256([]byte("c")), "content_type": "image/jpeg"}))
	verify := func(evidence int64) error {
		return office.Do(t.Context(), http.MethodPost, "/api/v1/findings/"+finding+"/verify",
			api.VerifyRequest{ReviewRequest: api.ReviewRequest{Decision: "verify", Seq: seqs[finding], EvidenceSeq: evidence}}, nil)
	}
	if err := verify(top); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict {
		t.Fatalf("a verification before a rectification photo came: %v, want 409 conflict", err)
	}
	seqs, top = read(finding)
	if err := verify(top); err != nil {
		t.Fatalf("a verification on the photos read again: %v", err)
	}

	// A void weighs the check alone: an edit of it since is refused.
	check := newID()
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityVehicleCheck, check, F{"county": xinfu, "checkpoint": "豆罗检查站",
		"plate": "晋H88888", "checked_at": time.Now().Format(time.RFC3339)}))
	seqs, _ = read()
	apptest.PushApplied(t, phone, upsert(t, phone, syncproto.EntityVehicleCheck, check, F{"note": "补记"}))
	void := func(evidence int64) error {
		return office.Do(t.Context(), http.MethodPost, "/api/v1/vehicle-checks/"+check+"/void",
			api.ReviewRequest{Decision: "void", Comment: "重复录入", EvidenceSeq: evidence}, nil)
	}
	if err := void(seqs[check]); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict {
		t.Fatalf("a void of a check edited since: %v, want 409 conflict", err)
	}
	seqs, _ = read()
	if err := void(seqs[check]); err != nil {
		t.Fatalf("a void of the check read again: %v", err)
	}
}

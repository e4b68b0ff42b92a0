package server

// A decision sent twice (a double click on 审核通过 or 退回修改/补充, a
// bulk approval posted again, a form or an API request resent after a
// lost answer) is answered as the first was when it is the one in
// effect: the second finds the record changed by the first and would be
// refused, as if what the office decided had not been saved. The console
// and the API ask these after a conflict.

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// reviewResults are the inspection statuses a review decision leaves.
var reviewResults = map[string]string{DecisionApprove: "approved", DecisionReturn: "returned"}

// verifyResults are the finding statuses a rectification decision leaves.
var verifyResults = map[string]string{DecisionVerify: "verified", DecisionReopen: "rectifying"}

// DecisionReader is what telling a decision in effect reads: records, and
// a roadside check's decisions in the audit log.
type DecisionReader interface {
	RecordReader
	AuditHistory(ctx context.Context, entity, recordID string) ([]audit.Entry, error)
}

// ReviewInEffect reports whether decision with comment, by p, on the
// version seen of inspection id is already in effect: the inspection is
// in the decision's status by p with that comment, and its latest review,
// made after version seen, is p's with the same decision and comment.
// A form without a version (seen ≤ 0) never is.
func ReviewInEffect(ctx context.Context, st RecordReader, p *Principal, id, decision, comment string, seen int64) (*StoredRecord, bool, error) {
	want, ok := reviewResults[decision]
	if !ok || seen <= 0 {
		return nil, false, nil
	}
	comment = strings.TrimSpace(comment)
	insp, err := st.Get(ctx, syncproto.EntityInspection, id)
	if err != nil || insp == nil || insp.State.IsDeleted() || !p.CanSee(insp.County) {
		return nil, false, err
	}
	if insp.Text("status") != want || insp.Text("reviewer_id") != p.UserID || insp.Text("review_comment") != comment {
		return nil, false, nil
	}
	rs, err := st.Find(ctx, syncproto.EntityReview, "inspection_id", id)
	if err != nil {
		return nil, false, err
	}
	var last *StoredRecord
	for _, r := range rs {
		if !r.State.IsDeleted() && (last == nil || r.Seq > last.Seq) {
			last = r
		}
	}
	return insp, last != nil && last.Seq > seen && last.Text("reviewer_id") == p.UserID &&
		last.Text("decision") == decision && last.Text("comment") == comment, nil
}

// VerifyInEffect reports whether decision with comment, by p, on the
// version seen of finding id is already in effect: the finding is in the
// decision's status, by p's decision with that comment made after version
// seen. A form without a version (seen ≤ 0) never is.
func VerifyInEffect(ctx context.Context, st RecordReader, p *Principal, id, decision, comment string, seen int64) (*StoredRecord, bool, error) {
	want, ok := verifyResults[decision]
	if !ok || seen <= 0 {
		return nil, false, nil
	}
	f, err := st.Get(ctx, syncproto.EntityFinding, id)
	if err != nil || f == nil || f.State.IsDeleted() || !p.CanSee(f.County) {
		return nil, false, err
	}
	return f, f.Seq > seen && f.Text("status") == want && f.Text("verifier_id") == p.UserID &&
		f.Text("verify_comment") == strings.TrimSpace(comment), nil
}

// VoidInEffect reports whether a voiding or a restoring with comment, by
// p, on the version seen of roadside check id is already in effect: the
// check changed after version seen and is voided by p with that reason,
// or (a restore) not voided, the last decision on it in the audit log
// being p's restore with that reason — another office's restore
// meanwhile must not read as this one's. A form without a version
// (seen ≤ 0) never is.
func VoidInEffect(ctx context.Context, st DecisionReader, p *Principal, id, decision, comment string, seen int64) (*StoredRecord, bool, error) {
	if seen <= 0 {
		return nil, false, nil
	}
	v, err := st.Get(ctx, syncproto.EntityVehicleCheck, id)
	if err != nil || v == nil || v.State.IsDeleted() || !p.CanSee(v.County) || v.Seq <= seen {
		return nil, false, err
	}
	comment = strings.TrimSpace(comment)
	switch decision {
	case DecisionVoid:
		return v, v.Text("voided_by") == p.UserID && v.Text("void_reason") == comment, nil
	case DecisionRestore:
		if v.Text("voided_at") != "" {
			return nil, false, nil
		}
		entries, err := st.AuditHistory(ctx, syncproto.EntityVehicleCheck, id)
		if err != nil {
			return nil, false, err
		}
		for i := len(entries) - 1; i >= 0; i-- {
			var ch map[string]audit.Change
			if json.Unmarshal(entries[i].Changes, &ch) != nil || ch["decision"].New == nil {
				continue // not a decision: a phone's edit, which leaves it restored
			}
			var d, reason string
			_ = json.Unmarshal(ch["decision"].New, &d)
			_ = json.Unmarshal(ch["restore_reason"].New, &reason)
			return v, entries[i].ActorID == p.UserID && d == DecisionRestore && reason == comment, nil
		}
	}
	return nil, false, nil
}

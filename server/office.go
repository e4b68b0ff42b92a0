package server

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Review decisions.
const (
	DecisionApprove = "approve"
	DecisionReturn  = "return"
)

// Blank reports whether a text shows nothing (syncproto.Blank).
func Blank(s string) bool { return syncproto.Blank(s) }

// Abridge is s without its surrounding spaces, cut to its first n
// characters with … when it had more: a text quoted in a page or a
// message.
func Abridge(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

// ErrNoVersion is a decision (Review, VerifyFinding) whose form did not
// say which version of the record it was taken on (seen < 0: a hand-made
// request, a page damaged on its way), refused after the other checks —
// not as a record that changed while the office looked at it.
var ErrNoVersion = Errorf(syncproto.CodeInvalidField, "表单缺少所审记录的版本号（seq），请刷新页面后重新提交")

// Review records an office's decision on a submitted inspection: approve
// locks it for good; return unlocks it for its inspector with a comment.
// Both reach the phone on its next pull, as the inspection's new status and
// a review record. seen, if not 0, is the inspection's version as the
// reviewer saw it (InspectionVersion: with its evidence): if it has
// changed since, nothing is done (conflict);
// negative (ErrNoVersion), the form said none.
// Errors: forbidden, invalid_value, missing_field, invalid_field,
// not_found, out_of_scope, conflict.
func (s *Syncer) Review(ctx context.Context, p *Principal, inspectionID, decision, comment string, seen Seen) (*syncproto.Change, error) {
	return s.ReviewAt(ctx, p, inspectionID, decision, comment, seen, s.Now())
}

// ReviewAt is Review made at now instead of the server's clock (the
// demo's month: its offices decided the days after each visit).
func (s *Syncer) ReviewAt(ctx context.Context, p *Principal, inspectionID, decision, comment string, seen Seen, at time.Time) (*syncproto.Change, error) {
	comment, mine, err := s.decision(ctx, p, decisionKind{What: "审核", Field: "审核结论",
		Codes: [2][2]string{{DecisionApprove, "审核通过"}, {DecisionReturn, "退回"}}, CommentNeeded: DecisionReturn, NoComment: "退回时必须填写意见"}, decision, comment)
	if err != nil {
		return nil, err
	}
	var out syncproto.Change
	err = s.Store.Update(ctx, func(tx WriteTx) error {
		insp, err := tx.Get(ctx, EntityByName(syncproto.EntityInspection), inspectionID)
		switch {
		case err != nil:
			return err
		case insp == nil || insp.State.IsDeleted():
			return Errorf(syncproto.CodeNotFound, "检查记录不存在")
		case !p.CanSee(insp.County):
			return Errorf(syncproto.CodeOutOfScope, "无权审核其他区县的检查")
		}
		// An office account can push a record as a phone does; it must
		// not then approve a visit of its own hand: one it made, or whose
		// answers, findings or photos it wrote.
		evidence, err := inspectionEvidence(ctx, txFinder(tx), insp)
		if err != nil {
			return err
		}
		switch {
		case mine.In(p, evidence...):
			return Errorf(syncproto.CodeForbidden, "不能审核自己创建或修改过的检查记录（含其中的问题和照片），请由其他督查人员审核")
		case insp.Text("status") != "submitted":
			now, err := inspectionNow(ctx, txFinder(tx), p, insp)
			if err != nil {
				return err
			}
			return Errorf(syncproto.CodeConflict, "只能审核待审核的检查（此检查%s），请重新打开查看", now)
		case seen.Seq < 0:
			return ErrNoVersion
		case seen.changed(insp, evidence):
			// The reviewer decided on another version: a return and a
			// new submission since would otherwise be approved unseen, and
			// so would a photo that arrived since.
			return Errorf(syncproto.CodeConflict, "检查记录在您查看后有了更新（如巡查员重新提交、照片上传完成或其他人员已审核），请重新打开查看后再审核")
		}
		now := at.UTC()
		status := map[string]string{DecisionApprove: "approved", DecisionReturn: "returned"}[decision]
		old := auditSnapshot(insp, map[string]json.RawMessage{"status": nil, "review_comment": nil})
		if err := s.write(ctx, tx, insp, map[string]any{
			"status": status, "reviewer_id": p.UserID, "review_comment": comment,
			"reviewed_at": now.Format(time.RFC3339Nano),
		}, now); err != nil {
			return err
		}
		out = ToChange(insp)
		changes := auditChanges(insp, old, []string{"status", "review_comment"}) // the reviewer is the entry's actor
		changes["decision"] = audit.Change{New: mustJSON(decision)}
		if err := appendAudit(ctx, tx, audit.ActionReview, p.UserID, p.Name, p.DeviceID, insp, insp.ID, changes, now); err != nil {
			return err
		}
		review := &StoredRecord{Entity: EntityByName(syncproto.EntityReview), ID: uuid.Must(uuid.NewV7()).String(),
			County: insp.County, CreatedBy: p.UserID, CreatedAt: now}
		return s.write(ctx, tx, review, map[string]any{
			"inspection_id": insp.ID, "decision": decision, "comment": comment,
			"reviewer_id": p.UserID, "reviewer_name": p.Name, "decided_at": now.Format(time.RFC3339Nano),
		}, now)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// inspectionNow says what inspection insp is now, for a decision refused
// because it is no longer waiting for review: its status and, when an
// office decided it, who and when ("现为已通过，由张督查于12月7日 10:31
// 审核"; 您 for p). Two reviewers on one queue were told only 现为已通过,
// not by whom (county probe).
func inspectionNow(ctx context.Context, find finder, p *Principal, insp *StoredRecord) (string, error) {
	st := insp.Text("status")
	now := "现为" + cmp.Or(InspectionStatusLabels[st], "草稿")
	if st != "approved" && st != "returned" {
		return now, nil
	}
	reviews, err := find(ctx, syncproto.EntityReview, "inspection_id", insp.ID)
	if err != nil {
		return "", err
	}
	var (
		last *StoredRecord
		at   time.Time
	)
	for _, r := range reviews {
		t, err := time.Parse(time.RFC3339Nano, r.Text("decided_at"))
		if err == nil && !r.State.IsDeleted() && r.Text("decision") == map[string]string{"approved": DecisionApprove, "returned": DecisionReturn}[st] &&
			(last == nil || t.After(at)) {
			last, at = r, t
		}
	}
	if last == nil {
		return now, nil
	}
	who := cmp.Or(last.Text("reviewer_name"), "其他督查人员")
	if last.Text("reviewer_id") == p.UserID {
		who = "您"
	}
	return now + "，由" + who + decidedOn(last.Text("decided_at")) + "审核", nil
}

// findingStands says how finding f stands, for a refused decision's
// message: 现为整改中; and when an office's decision put it there, whose
// and when (现为整改中，由赵督查于12月7日 22:29退回继续整改; 您 for p),
// byOffice then true.
func (s *Syncer) findingStands(ctx context.Context, p *Principal, f *StoredRecord) (stands string, byOffice bool) {
	status := f.Text("status")
	now := "现为" + cmp.Or(FindingStatusLabels[status], "待整改")
	did := map[string]string{"verified": "核实整改到位", "rectifying": "退回继续整改"}[status]
	if did == "" || f.State.Fields["status"].HLC.Node != syncproto.ServerNode {
		return now, false
	}
	return now + "，由" + s.decider(ctx, p, f.Text("verifier_id")) + decidedOn(f.Text("verified_at")) + did, true
}

// decider names the office user id who decided, for a message: 您 for p,
// their name where the store can say it, else 其他督查人员.
func (s *Syncer) decider(ctx context.Context, p *Principal, id string) string {
	if id == p.UserID {
		return "您"
	}
	if us, ok := s.Store.(interface {
		Users(ctx context.Context) ([]*User, error)
	}); ok && id != "" {
		if users, err := us.Users(ctx); err == nil {
			for _, u := range users {
				if u.ID == id {
					return cmp.Or(u.DisplayName, u.Username)
				}
			}
		}
	}
	return "其他督查人员"
}

// decidedOn says when a decision stamped at (RFC 3339) was made, in
// China's time, for a message: "于12月7日 10:31", "" if at is no time.
func decidedOn(at string) string {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return ""
	}
	return "于" + t.In(ChinaTime).Format("1月2日 15:04")
}

// OwnWork reports whether p created r: an office account that pushed a
// record as a phone does judges none of its own (Review, VerifyFinding),
// and the console offers it no decision on them. It is the part of
// OwnHand a list can tell without the store.
func OwnWork(p *Principal, r *StoredRecord) bool {
	return r != nil && r.CreatedBy != "" && r.CreatedBy == p.UserID
}

// Hands are the devices of one user (whose phone last wrote a field is
// its HLC's node), to tell the work of its hand (Hands.In).
type Hands map[string]bool

// HandsOf returns p's devices (its session's, and every one registered to
// its user): an office account may push as a phone does.
func (s *Syncer) HandsOf(ctx context.Context, p *Principal) (Hands, error) {
	out := Hands{}
	if p.DeviceID != "" {
		out[p.DeviceID] = true
	}
	lister, ok := s.Store.(interface {
		DeviceIDs(ctx context.Context, userID string) ([]string, error)
	})
	if !ok { // a store of records only: the session's device is known
		return out, nil
	}
	ids, err := lister.DeviceIDs(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// In reports whether p, whose devices mine are, had a hand in one of
// recs: created it (OwnWork), or last wrote one of its fields, or its
// deletion, from one of its devices — an office account that rewrote an
// inspector's returned inspection and resubmitted it, or reported a
// finding's rectification. An office judges no work of its own hand:
// Review, VerifyFinding and VoidVehicleCheck refuse it (forbidden), and
// the console offers it no decision on it.
func (mine Hands) In(p *Principal, recs ...*StoredRecord) bool {
	for _, r := range recs {
		if OwnWork(p, r) {
			return true
		}
		if r != nil && !r.State.Deleted.IsZero() && mine[r.State.Deleted.Node] {
			return true
		}
		for _, f := range r.State.Fields {
			if mine[f.HLC.Node] {
				return true
			}
		}
	}
	return false
}

// finder finds the records, live and deleted, whose field has a value:
// WriteTx.Find within a write, RecordReader.Find outside one.
type finder func(ctx context.Context, entity, field, value string) ([]*StoredRecord, error)

func txFinder(tx WriteTx) finder {
	return func(ctx context.Context, entity, field, value string) ([]*StoredRecord, error) {
		return tx.Find(ctx, EntityByName(entity), field, value)
	}
}

// inspectionEvidence is an inspection with what a review of it weighs:
// its photos, its findings and their photos (deleted ones too).
func inspectionEvidence(ctx context.Context, find finder, insp *StoredRecord) ([]*StoredRecord, error) {
	out := []*StoredRecord{insp}
	add := func(entity, field, id string) error {
		rs, err := find(ctx, entity, field, id)
		out = append(out, rs...)
		return err
	}
	if err := add(syncproto.EntityPhoto, "inspection_id", insp.ID); err != nil {
		return nil, err
	}
	fs, err := find(ctx, syncproto.EntityFinding, "inspection_id", insp.ID)
	if err != nil {
		return nil, err
	}
	out = append(out, fs...)
	for _, f := range fs {
		if err := add(syncproto.EntityPhoto, "finding_id", f.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Seen is the version of what an office decided on, as its request said
// it: Seq is the record's own seq (the API's requests: as pulled) or, with
// Evidence, the version of the record with its evidence (the console's
// forms: InspectionVersion, FindingVersion), which a photo arriving or
// flagged after the page was read changes too. Seq 0 is not checked;
// negative is a request that said none (ErrNoVersion).
//
// EvidenceSeq (the API's evidence_seq) is the highest Seq among the
// record and its evidence as the office read them, checked beside Seq:
// a photo added, uploaded or flagged since has a higher one. 0 is not
// checked.
type Seen struct {
	Seq         int64
	Evidence    bool
	EvidenceSeq int64
}

// changed reports whether r, with evidence (r among them), is no longer
// the version seen.
func (s Seen) changed(r *StoredRecord, evidence []*StoredRecord) bool {
	v := r.Seq
	if s.Evidence {
		v = version(evidence)
	}
	return s.Seq != 0 && v != s.Seq || s.EvidenceSeq != 0 && version(evidence) > s.EvidenceSeq
}

// version is the version of a decision's evidence: the highest Seq among
// its records. Any write to one of them, a record added or deleted, a
// photo's bytes arriving or its flags set, makes it higher.
func version(rs []*StoredRecord) int64 {
	var v int64
	for _, r := range rs {
		v = max(v, r.Seq)
	}
	return v
}

// InspectionVersion is the version of an inspection a review is taken on
// (Review's seen): its own with its photos', its findings' and theirs. A
// photo that arrived, or was checked and flagged, after the reviewer read
// the page changes it, and the review from that page is refused.
func InspectionVersion(ctx context.Context, r RecordReader, insp *StoredRecord) (int64, error) {
	rs, err := inspectionEvidence(ctx, r.Find, insp)
	return version(rs), err
}

// FindingVersion is the version of a finding a decision on its
// rectification is taken on (VerifyFinding's seen): its own with its
// photos' — the rectification's evidence.
func FindingVersion(ctx context.Context, r RecordReader, f *StoredRecord) (int64, error) {
	photos, err := r.Find(ctx, syncproto.EntityPhoto, "finding_id", f.ID)
	return version(append(photos, f)), err
}

// decisionKind describes an office's decision of one kind (Review,
// VerifyFinding, VoidVehicleCheck) for Syncer.decision.
type decisionKind struct {
	What  string       // what only offices may do (审核)
	Field string       // what the decision is called (审核结论)
	Codes [2][2]string // its two values, each with its label
	// CommentNeeded is the value that needs a comment, "*" both; NoComment
	// says so when it is missing.
	CommentNeeded, NoComment string
}

// decision checks an office's decision of kind k before it is taken — p
// is an office, decision one of k's values, comment fine (trimmed, and
// present where needed) — and returns the comment trimmed and p's
// devices (HandsOf), whose work p may not judge.
func (s *Syncer) decision(ctx context.Context, p *Principal, k decisionKind, decision, comment string) (string, Hands, error) {
	comment = OneNewline(strings.TrimSpace(comment))
	values := fmt.Sprintf("%s（%s）或 %s（%s）", k.Codes[0][0], k.Codes[0][1], k.Codes[1][0], k.Codes[1][1])
	switch {
	case !p.Role.CanReview():
		return "", nil, Errorf(syncproto.CodeForbidden, "只有区县或市级督查人员可以%s", k.What)
	case decision == "":
		return "", nil, Errorf(syncproto.CodeMissingField, "缺少%s：%s", k.Field, values).At("decision") // the field is named in field
	case decision != k.Codes[0][0] && decision != k.Codes[1][0]:
		return "", nil, Errorf(syncproto.CodeInvalidValue, "%s只能是 %s", k.Field, values).At("decision")
	}
	if err := checkComment(comment, k.CommentNeeded == "*" || decision == k.CommentNeeded, k.NoComment); err != nil {
		return "", nil, err
	}
	mine, err := s.HandsOf(ctx, p)
	return comment, mine, err
}

// Decisions on a finding's rectification (VerifyFinding).
const (
	DecisionVerify = "verify"
	DecisionReopen = "reopen"
)

// VerifyFinding records an office's decision on the rectification an
// inspector reported (the finding's status rectified) of an approved
// inspection's finding: verify marks it verified (已核实), which locks it
// for devices; reopen sends it back to rectifying (整改中) with a comment
// the inspector reads on the phone (a verified finding may be reopened
// too, when the site slips back), and with deadline, if not "", as its new
// deadline (a date, not before today in China: the old one, often past,
// would count it overdue the moment it is sent back). seen, if not 0, is the finding's version as
// the office saw it (FindingVersion: with its photos): if it has changed
// since, nothing is done (conflict); negative (ErrNoVersion), the form said none. Errors: forbidden, invalid_value, missing_field,
// invalid_field, not_found, out_of_scope, conflict.
func (s *Syncer) VerifyFinding(ctx context.Context, p *Principal, findingID, decision, comment, deadline string, seen Seen) (*syncproto.Change, error) {
	comment, mine, err := s.decision(ctx, p, decisionKind{What: "核实整改", Field: "核查结论",
		Codes: [2][2]string{{DecisionVerify, "核实整改到位"}, {DecisionReopen, "退回继续整改"}}, CommentNeeded: DecisionReopen, NoComment: "退回继续整改时必须填写意见"}, decision, comment)
	if err != nil {
		return nil, err
	}
	if deadline = strings.TrimSpace(deadline); deadline != "" {
		if err := s.checkNewDeadline(decision, deadline); err != nil {
			return nil, err
		}
	}
	var out syncproto.Change
	err = s.Store.Update(ctx, func(tx WriteTx) error {
		f, err := tx.Get(ctx, EntityByName(syncproto.EntityFinding), findingID)
		if err != nil {
			return err
		}
		if f == nil || f.State.IsDeleted() {
			return Errorf(syncproto.CodeNotFound, "问题记录不存在")
		}
		if !p.CanSee(f.County) {
			return Errorf(syncproto.CodeOutOfScope, "无权核实其他区县的问题整改")
		}
		insp, err := tx.Get(ctx, EntityByName(syncproto.EntityInspection), f.Text("inspection_id"))
		if err != nil {
			return err
		}
		status := f.Text("status")
		var photos []*StoredRecord
		if insp != nil {
			if photos, err = tx.Find(ctx, EntityByName(syncproto.EntityPhoto), "finding_id", f.ID); err != nil {
				return err
			}
		}
		switch {
		case insp == nil || insp.State.IsDeleted():
			return Errorf(syncproto.CodeNotFound, "问题所属的检查记录已删除")
		case OwnWork(p, insp) || mine.In(p, append(photos, f)...):
			// Its inspection's creator, or whoever reported the
			// rectification (the finding's status, its photos).
			return Errorf(syncproto.CodeForbidden, "不能核实自己创建的检查、问题或自己报告的整改，请由其他督查人员核实")
		case insp.Text("status") != "approved":
			return Errorf(syncproto.CodeConflict, "检查通过审核后才能核实其问题的整改")
		case decision == DecisionVerify && status == "verified":
			return Errorf(syncproto.CodeConflict, "此问题的整改已核实，无需再次核实（由%s%s核实）", s.decider(ctx, p, f.Text("verifier_id")), decidedOn(f.Text("verified_at")))
		case decision == DecisionVerify && status != "rectified" && f.State.Fields["status"].HLC.Node == syncproto.ServerNode:
			// An office's decision put it there (another office sent it
			// back, or this one), not the inspector.
			when := strings.TrimPrefix(decidedOn(f.Text("verified_at")), "于")
			if when != "" {
				when += "，"
			}
			return Errorf(syncproto.CodeConflict, "此问题已由%s退回整改（%s现为%s），须等巡查员报告整改完成后才能核实；请重新打开查看",
				s.decider(ctx, p, f.Text("verifier_id")), when, cmp.Or(FindingStatusLabels[status], "待整改"))
		case decision == DecisionVerify && status != "rectified":
			return Errorf(syncproto.CodeConflict, "巡查员尚未报告整改完成（此问题现为%s），不能核实；请重新打开查看",
				cmp.Or(FindingStatusLabels[status], "待整改"))
		case decision == DecisionReopen && status != "rectified" && status != "verified":
			// Another office sent it back first: who and when (a
			// verification probe's city reviewer was told only 现为整改中,
			// their page showing 已核实).
			stands, _ := s.findingStands(ctx, p, f)
			return Errorf(syncproto.CodeConflict, "只能退回已整改或已核实的问题（此问题%s），请重新打开查看", stands)
		case seen.Seq < 0:
			return ErrNoVersion
		case seen.changed(f, append(photos, f)):
			// As it stands, decided by an office: said, as above (office
			// probe: a reopen refused after another's verification said
			// only 有了更新). Not said to be what changed: a photo may have
			// come since too.
			if stands, byOffice := s.findingStands(ctx, p, f); byOffice {
				return Errorf(syncproto.CodeConflict, "问题记录在您查看后有了更新（%s），请重新打开查看后再决定", stands)
			}
			return Errorf(syncproto.CodeConflict, "问题记录在您查看后有了更新（如巡查员更新了整改情况、补充了整改照片，或其他人员已核实），请重新打开查看后再决定")
		}
		now := s.Now().UTC()
		newStatus := map[string]string{DecisionVerify: "verified", DecisionReopen: "rectifying"}[decision]
		old := auditSnapshot(f, map[string]json.RawMessage{"status": nil, "verify_comment": nil})
		fields := map[string]any{"status": newStatus, "verifier_id": p.UserID, "verify_comment": comment, "verified_at": now.Format(time.RFC3339Nano),
			"rectified_at": nil, "rectified_by": nil}
		if decision == DecisionVerify {
			// The inspector's report, which the verification replaces:
			// whether it was in time is the report's day, not this one,
			// and who put the site right its reporter.
			fields["rectified_at"] = f.State.Fields["status"].HLC.Time().Format(time.RFC3339Nano)
			if dr, ok := s.Store.(DeviceReader); ok {
				by, err := RectifiedBy(ctx, dr, f, nil)
				if err != nil {
					return err
				}
				fields["rectified_by"] = by
			}
		}
		audited := []string{"status", "verify_comment"}
		if deadline != "" {
			old["deadline"] = f.Value("deadline")
			fields["deadline"], audited = deadline, append(audited, "deadline")
		}
		if err := s.write(ctx, tx, f, fields, now); err != nil {
			return err
		}
		out = ToChange(f)
		changes := auditChanges(f, old, audited)
		changes["decision"] = audit.Change{New: mustJSON(decision)}
		return appendAudit(ctx, tx, audit.ActionReview, p.UserID, p.Name, p.DeviceID, f, insp.ID, changes, now)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeviceReader reads a device by its id (AccountStore.Device).
type DeviceReader interface {
	Device(ctx context.Context, id string) (*Device, error)
}

// RectifiedBy is the user who reported finding f rectified: of one
// rectified, the user of the device that wrote its status (its HLC's
// node); of one verified, rectified_by, which the verification kept; ""
// for another status, or a device no longer known. users, if not nil,
// caches device ids' users across calls (a page of findings reads each
// device once).
func RectifiedBy(ctx context.Context, st DeviceReader, f *StoredRecord, users map[string]string) (string, error) {
	switch f.Text("status") {
	case "verified":
		return f.Text("rectified_by"), nil
	case "rectified":
	default:
		return "", nil
	}
	node := f.State.Fields["status"].HLC.Node
	if node == "" || node == syncproto.ServerNode {
		return "", nil
	}
	if u, ok := users[node]; ok {
		return u, nil
	}
	d, err := st.Device(ctx, node)
	if err != nil && ErrorCode(err) != syncproto.CodeNotFound {
		return "", err
	}
	u := ""
	if d != nil {
		u = d.UserID
	}
	if users != nil {
		users[node] = u
	}
	return u, nil
}

// checkNewDeadline checks the new deadline of a finding sent back
// (VerifyFinding): a date, with reopen only, not before today in China.
func (s *Syncer) checkNewDeadline(decision, deadline string) error {
	if decision != DecisionReopen {
		return Errorf(syncproto.CodeInvalidField, "只有退回继续整改时才能设定新的整改时限").At("deadline")
	}
	f, _ := EntityByName(syncproto.EntityFinding).Field("deadline")
	if err := f.checkString(deadline, false); err != nil {
		return AtField(err, "deadline")
	}
	if today := ChinaDay(s.Now()); deadline < today {
		return Errorf(syncproto.CodeInvalidField, "新的整改时限 %s 早于今天（%s），请选择今天或以后的日期", deadline, today).At("deadline")
	}
	// A year typed wrong (2100, 2062) would keep the finding from ever
	// counting as overdue, out of every overdue figure, unnoticed (city
	// probe): a rectification sent back is given weeks or months.
	if latest := LatestNewDeadline(s.Now()); deadline > latest {
		return Errorf(syncproto.CodeInvalidField, "新的整改时限 %s 在一年以后（最晚 %s），请核对年份", deadline, latest).At("deadline")
	}
	return nil
}

// LatestNewDeadline is the latest new deadline an office may give a
// finding it sends back on day now: a year from today in China.
func LatestNewDeadline(now time.Time) string {
	return ChinaDay(now.In(ChinaTime).AddDate(1, 0, 0))
}

// Decisions on a roadside check (VoidVehicleCheck).
const (
	DecisionVoid    = "void"
	DecisionRestore = "restore"
)

// VoidVehicleCheck records an office's decision that a roadside check
// does not count (void: a truck saved twice, a check of the wrong
// vehicle), or counts again (restore). A voided check stays, as
// evidence: it counts in no statistic, devices may no longer change it,
// and its phones learn of it on their next pull. Both need a reason
// (comment), both are in the audit log; an office does not void its
// own check. seen is as for Review.
// Errors: forbidden, invalid_value, missing_field, invalid_field,
// not_found, out_of_scope, conflict.
func (s *Syncer) VoidVehicleCheck(ctx context.Context, p *Principal, checkID, decision, comment string, seen Seen) (*syncproto.Change, error) {
	comment, mine, err := s.decision(ctx, p, decisionKind{What: "作废路检记录", Field: "处理决定",
		Codes: [2][2]string{{DecisionVoid, "作废"}, {DecisionRestore, "恢复"}}, CommentNeeded: "*", NoComment: "作废或恢复路检记录时必须说明原因"}, decision, comment)
	if err != nil {
		return nil, err
	}
	var out syncproto.Change
	err = s.Store.Update(ctx, func(tx WriteTx) error {
		v, err := tx.Get(ctx, EntityByName(syncproto.EntityVehicleCheck), checkID)
		if err != nil {
			return err
		}
		voided := v != nil && v.Text("voided_at") != ""
		var photos []*StoredRecord
		if v != nil {
			if photos, err = tx.Find(ctx, EntityByName(syncproto.EntityPhoto), "vehicle_check_id", v.ID); err != nil {
				return err
			}
		}
		switch {
		case v == nil || v.State.IsDeleted():
			return Errorf(syncproto.CodeNotFound, "路检记录不存在")
		case !p.CanSee(v.County):
			return Errorf(syncproto.CodeOutOfScope, "无权处理其他区县的路检记录")
		case mine.In(p, append(photos, v)...): // the check, or its photos
			return Errorf(syncproto.CodeForbidden, "不能作废或恢复自己创建或修改过的路检记录（含其照片），请由其他督查人员处理")
		case decision == DecisionVoid && voided:
			return Errorf(syncproto.CodeConflict, "此路检记录已作废")
		case decision == DecisionRestore && !voided:
			return Errorf(syncproto.CodeConflict, "此路检记录未作废，无需恢复")
		case seen.Seq < 0:
			return ErrNoVersion
		case seen.changed(v, []*StoredRecord{v}):
			return Errorf(syncproto.CodeConflict, "路检记录在您查看后有了更新，请重新打开查看后再决定")
		}
		now := s.Now().UTC()
		vals := map[string]any{"voided_at": now.Format(time.RFC3339Nano), "voided_by": p.UserID, "void_reason": comment}
		if decision == DecisionRestore {
			vals = map[string]any{"voided_at": nil, "voided_by": nil, "void_reason": nil}
		}
		old := auditSnapshot(v, map[string]json.RawMessage{"voided_at": nil, "void_reason": nil})
		if err := s.write(ctx, tx, v, vals, now); err != nil {
			return err
		}
		out = ToChange(v)
		changes := auditChanges(v, old, []string{"voided_at", "void_reason"})
		changes["decision"] = audit.Change{New: mustJSON(decision)}
		if decision == DecisionRestore {
			// A voiding's reason is its void_reason; a restoring's, its own.
			changes["restore_reason"] = audit.Change{New: mustJSON(comment)}
		}
		return appendAudit(ctx, tx, audit.ActionReview, p.UserID, p.Name, p.DeviceID, v, "", changes, now)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CountyName is a county's Chinese name for messages ("区县 <code>" when
// get finds none): people read 定襄县, not 140921.
func CountyName(ctx context.Context, get func(ctx context.Context, entity, id string) (*StoredRecord, error), code string) string {
	if c, err := get(ctx, syncproto.EntityCounty, code); err == nil && c != nil && c.Text("name") != "" {
		return c.Text("name")
	}
	return "区县 " + code
}

// checkComment checks an office's comment on a decision: present where
// the decision needs one (missing says so), at most 4000 characters, and
// nothing that hides or reverses text.
func checkComment(comment string, required bool, missing string) error {
	switch {
	case required && Blank(comment):
		return Errorf(syncproto.CodeMissingField, "%s", missing).At("comment")
	case len([]rune(comment)) > 4000:
		return Errorf(syncproto.CodeInvalidField, "意见不能超过 4000 字").At("comment")
	case !MultiLine(comment):
		return Errorf(syncproto.CodeInvalidField, "意见不能含控制字符或文字方向控制符").At("comment")
	}
	return nil
}

// write is the server's own write path: the same merge as a device's, with
// the server's HLC. Fields whose stored value is already equal are left
// alone, so re-running a seed changes nothing and bumps no sequence.
func (s *Syncer) write(ctx context.Context, tx WriteTx, r *StoredRecord, values map[string]any, now time.Time) error {
	vals, err := canonicalValues(r.Entity, values)
	if err != nil {
		return err
	}
	return s.writeCanonical(ctx, tx, r, vals, now)
}

// canonicalValues encodes a server write's values of e's fields as they
// are stored (Field.Canonical). Errors: unknown_field, and the field's.
func canonicalValues(e *Entity, values map[string]any) (map[string]json.RawMessage, error) {
	vals := make(map[string]json.RawMessage, len(values))
	for name, v := range values {
		f, _ := e.Field(name)
		if f == nil {
			return nil, Errorf(syncproto.CodeUnknownField, "%s 没有字段 %q", e.Name, name)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		c, err := f.Canonical(raw, false)
		if err != nil {
			return nil, err
		}
		vals[name] = c
	}
	return vals, nil
}

// writeCanonical is write for values already in their canonical encoding
// (as Field.Canonical returns it). It keeps vals.
func (s *Syncer) writeCanonical(ctx context.Context, tx WriteTx, r *StoredRecord, vals map[string]json.RawMessage, now time.Time) error {
	changed := make(map[string]json.RawMessage, len(vals))
	for name, c := range vals {
		if st, ok := r.State.Fields[name]; !ok || string(st.Value) != string(c) {
			changed[name] = c
		}
	}
	if len(changed) == 0 {
		return nil
	}
	vals = changed
	var auditOld map[string]json.RawMessage
	action := auditServerWrite(r, changed)
	if action != "" {
		auditOld = auditSnapshot(r, changed)
	}
	// A decision is stamped after every write the record holds, so it
	// takes effect on each field it sets even when a device's clock ran
	// ahead of the server's (within MaxSkew) or the server's clock was set
	// back. The server's writes are decisions (a review, a new seed),
	// recorded as such; the device values they replace are not conflicts
	// to log.
	h := s.Clock.Observe(r.State.Highest())
	o := syncproto.Merge(&r.State, vals, false, h)
	if len(o.Won) != len(vals) {
		return fmt.Errorf("server write to %s %s at %s lost fields %v", r.Entity.Name, r.ID, h, o.Losses)
	}
	if siteNeedsDerive(r.Entity, o.Won) {
		s.deriveSite(r)
	}
	s.noteVisitChange(tx, r, o.Won)
	r.UpdatedAt = now
	if action != "" {
		if err := s.auditServerEntry(ctx, tx, action, r, auditOld, changed, now); err != nil {
			return err
		}
	}
	return tx.Put(ctx, r)
}

// Upsert is the server's write of reference or administrative data: it
// creates the record if needed and writes the given fields with the
// server's HLC. Used by the seed loader and office tools.
func (s *Syncer) Upsert(ctx context.Context, tx WriteTx, entity, id, county string, values map[string]any) error {
	e := EntityByName(entity)
	if e == nil {
		return Errorf(syncproto.CodeUnknownEntity, "未知的数据类型 %q", entity)
	}
	r, err := tx.Get(ctx, e, id)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	created := r == nil
	if created {
		r = &StoredRecord{Entity: e, ID: id, County: county, CreatedAt: now}
	}
	if err := s.write(ctx, tx, r, values, now); err != nil {
		return err
	}
	return s.recheckAfterWrite(ctx, tx, r, values, created, now)
}

// InspectionQuery selects inspections for an office's review queue.
type InspectionQuery struct {
	Scope      Scope
	County     string // "" for every county in scope
	TemplateID string // "" for every checklist
	// Status is one of submitted, returned, approved; "" means any of
	// them (drafts are the inspector's own and never listed).
	Status string
	// From and To bound the visit's date (YYYY-MM-DD, as the phone wrote
	// its start time, so in the inspector's local time); "" is open.
	From, To string
	// Completeness keeps the complete inspections (CompletenessComplete:
	// missing_items is empty) or the incomplete ones
	// (CompletenessIncomplete); "" is any.
	Completeness string
	// Flag keeps inspections with at least one live photo (of the
	// inspection or of one of its findings) carrying this evidence flag,
	// such as no_gps, or AnyFlag: any flag; "" is any inspection. Only
	// [a-z_] names are honoured.
	Flag string
	// TemplateIDs and Counties, when not empty, keep the inspections of
	// any of these checklists and in any of these counties (a
	// rectification task's evidence).
	TemplateIDs, Counties []string
	// ReceivedAfter, when not zero, keeps the inspections the server
	// received after it (a month's sent in after the month ended).
	ReceivedAfter time.Time
	// Limit and Offset page the list (newest first).
	Limit, Offset int
}

// AnyFlag is the InspectionQuery.Flag of inspections with at least one
// photo carrying any evidence flag (the overview's 带证据标记).
const AnyFlag = "any"

// Values of InspectionQuery.Completeness.
const (
	CompletenessComplete   = "complete"
	CompletenessIncomplete = "incomplete"
)

// ReviewStatuses are the inspection statuses an office's queue shows and
// its figures count (Reviewable): submitted, whatever the review made of
// it since.
var ReviewStatuses = []string{"submitted", "returned", "approved"}

// StatusAwaitingReview is the status of an inspection waiting for its
// review; StatusDraft that of one not yet submitted (no office sees it in
// the queue, nor its findings in search).
const (
	StatusAwaitingReview = "submitted"
	StatusDraft          = "draft"
)

// OpenFindingStatuses are the statuses of a finding still to be rectified
// (one that can be overdue); a finding without a status is open.
var OpenFindingStatuses = []string{"", "open", "rectifying"}

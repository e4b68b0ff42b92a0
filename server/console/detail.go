package console

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

type answerRow struct {
	Key, Label, Value string
	// Answer is the answer as it reads (Value, but for what the row adds:
	// a number's limit exceeded).
	Answer string
	Failed bool
	// Invalid says why the answer does not fit its item; Unknown marks an
	// answer to a key the checklist does not have.
	Invalid string
	Unknown bool
	// Answered: the inspection has an answer to it, valid or not.
	Answered bool
}

type photoRow struct {
	ID, Caption, Item, Captured string
	// Kind says, of a finding's photo, which it is: 问题照片 (taken on
	// the visit's day) or 整改照片 (later: the rectification's).
	Kind string
	// Placeholder, when set, stands in for the thumbnail, which does not
	// exist: why (the bytes are not uploaded, the preview is being made,
	// or cannot be). Uploaded says whether the original can be opened.
	Placeholder string
	Uploaded    bool
	// Checked: its bytes were processed, so no flag means none was found
	// (before, the page says so rather than 未发现异常).
	Checked  bool
	Flags    []flagRow
	Notes    []noteRow
	Capture  string // the capture signature's check (capture.go)
	Location string
	Distance string
	// Source says where Location comes from: the camera's EXIF GPS (and
	// whether the phone had a fix), or the phone's position.
	Source string
	// N numbers the photo from 1; Prev and Next are its neighbours' ids
	// (wrapping around) for the lightbox; Device names the phone that
	// took it.
	N          int
	Prev, Next string
	Device     string
	located    bool
	lon, lat   float64
}

type findingRow struct {
	ID, Item, Description, Severity, Deadline, Status, StatusCode string
	// Note is the inspector's rectification note; VerifyComment the
	// office's comment that sent the rectification back; Decided who
	// decided on the rectification last, and when (核实 or 退回).
	Note, VerifyComment, Decided string
	// Rectified is when it was reported rectified, by whom and when the
	// report reached the server, as 问题整改 says (month-end probe: the
	// page an office verifies on said none of it).
	Rectified rectification
	Seq       int64
	// CanVerify and CanReopen offer the office's decisions on the
	// rectification (Syncer.VerifyFinding) where they can be taken.
	CanVerify, CanReopen bool
	// AwaitsApproval: rectified, but its inspection is not approved, so
	// no one can verify it yet (the page says why).
	AwaitsApproval bool
	// Warns say what does not fit the inspection (markFindings).
	Warns []string
	// Done is the decision on it just taken ("verify", "reopen"): the page
	// opens at its row, which says so.
	Done string
	// Photos are its photos (those naming it), as numbered on the page;
	// NoneLater: reported rectified, and none was taken after the day of
	// the visit (the rectification's evidence, if any, is among those of
	// the visit).
	Photos    []findingPhoto
	NoneLater bool
	// DeadlinePassed: its deadline is before today (the form sending it
	// back says it would be overdue at once unless given a new one).
	DeadlinePassed bool
	// Overdue is how many days its deadline is past while it is still to
	// be rectified (0: not overdue), as the findings list says.
	Overdue int
	mine    bool   // of the viewer's own hand (server.Hands.In)
	key     string // the item it was raised for ("" if none)
}

type reviewRow struct {
	Decision, Comment, Reviewer, At string
}

var severityNames = server.SeverityLabels
var findingStatusNames = server.FindingStatusLabels

func (c *Console) detail(ec echo.Context) error {
	insp, err := c.visible(ec, syncproto.EntityInspection)
	if err != nil {
		return err
	}
	return c.showDetail(ec, insp, http.StatusOK, nil)
}

// reviewRefusal is a decision sending work back (退回, 退回继续整改) that
// the server refused for its comment, shown on the inspection's page at
// its form with the comment as typed (it went to an error page, the
// comment lost). Finding is the finding whose rectification it was on,
// "" for the inspection's return.
type reviewRefusal struct {
	Message, Field, Comment, Finding string
	// Deadline is the new deadline typed with a finding sent back.
	Deadline string
}

// showDetail shows the page of inspection insp (one in the user's scope),
// answering status, with a refused decision's message at its form.
func (c *Console) showDetail(ec echo.Context, insp *server.StoredRecord, status int, refused *reviewRefusal) error {
	ctx := ec.Request().Context()
	p := principalOf(ec)
	site, err := c.d.Store.Get(ctx, syncproto.EntitySite, insp.Text("site_id"))
	if err != nil {
		return err
	}
	tmpl, err := c.template(ec, insp)
	if err != nil {
		return err
	}
	items := itemLabels(tmpl.Items)
	// An inspection sent without a status is a draft (as the review
	// refusing it says).
	// The forms' version: the inspection's with its evidence, so that a
	// photo that arrives after the page is read stops its review.
	seq, err := server.InspectionVersion(ctx, c.d.Store, insp)
	if err != nil {
		return err
	}
	notice := takeNotice(ec)
	data := map[string]any{"ID": insp.ID, "Seq": seq, "County": c.countyName(insp.County), "Status": cmp.Or(insp.Text("status"), "draft"),
		"Summary": insp.Text("summary"), "Started": visitStarted(insp), "StartedAhead": clockAhead(insp.Text("started_at"), insp.CreatedAt),
		"StartedLate": arrivedLate(insp.Text("started_at"), insp.CreatedAt), "EndsFirst": endsBeforeStart(insp.Text("started_at"), insp.Text("finished_at")), "Finished": localTime(insp.Text("finished_at")),
		// No start but an end: not shown as a range from the receipt,
		// which an end before it would make run backwards.
		"NoStart": insp.Text("started_at") == "" && insp.Text("finished_at") != "", "Received": insp.CreatedAt.In(chinaTime).Format("2006-01-02 15:04"),
		"ReviewComment": insp.Text("review_comment"), "Resubmitted": resubmitted(insp), "Template": tmpl.Title, "TemplateVersion": tmpl.Version, "Answers": answers(insp, tmpl),
		"Done": notice.Get("done"), "Inspector": c.userName(ctx, insp.CreatedBy),
		"Today": c.today(), "LatestDate": server.LatestNewDeadline(c.now())}
	mine, err := c.d.Syncer.HandsOf(ctx, p)
	if err != nil {
		return err
	}
	if rows, ok := missingRows(insp, tmpl); ok {
		data["Checked"], data["Missing"] = true, rows
	}
	if site != nil {
		data["Site"] = site.Text("name")
		data["SiteRetired"] = string(site.Value("active")) == "false"
		data["Address"] = site.Text("address")
		data["SiteLocation"] = siteCoords(site)
		if r, ok := site.Float("radius_m"); ok {
			data["Radius"] = fmt.Sprintf("%.0f", r)
		}
	}
	findings, err := c.findings(ec, insp, items, mine)
	if err != nil {
		return err
	}
	markFindings(tmpl, data["Answers"].([]answerRow), findings, visitDay(insp))
	if done := notice.Get("done"); done == "verify" || done == "reopen" {
		for i := range findings {
			if findings[i].ID == notice.Get("finding") {
				findings[i].Done = done
				data["DoneHere"] = true
			}
		}
	}
	data["Findings"] = findings
	data["Unraised"] = unraised(tmpl, data["Answers"].([]answerRow), findings)
	ps, err := c.inspectionPhotos(ctx, insp.ID)
	if err != nil {
		return err
	}
	// Work of the office's own hand (server.Hands.In: made, or written
	// from its devices — the inspection, a finding, a photo) is judged by
	// another office.
	own := mine.In(p, append(ps, insp)...) || slices.ContainsFunc(findings, func(f findingRow) bool { return f.mine })
	data["CanReview"] = p.Role.CanReview() && insp.Text("status") == "submitted" && !own
	data["OwnWork"] = p.Role.CanReview() && own
	var anchor *geo.Point
	if site != nil {
		if at, ok := server.SiteLocation(site); ok {
			anchor = &at
		}
	}
	if data["Photos"], err = c.photos(ec, ps, anchor, items); err != nil {
		return err
	}
	var approved time.Time
	if insp.Text("status") == "approved" {
		approved = insp.Time("reviewed_at")
	}
	findingPhotos(findings, ps, data["Photos"].([]photoRow), visitDay(insp), approved)
	// The photos with evidence flags, named at the top of the page and
	// beside 审核通过: a reviewer approving from the top never scrolls
	// down to the photos.
	var flagged []photoRow
	unchecked := 0
	for _, ph := range data["Photos"].([]photoRow) {
		if len(ph.Flags) > 0 {
			flagged = append(flagged, ph)
		} else if !ph.Checked {
			unchecked++
		}
	}
	data["Flagged"], data["Unchecked"] = flagged, unchecked
	data["Cautions"], data["ApproveConfirm"] = approveCautions(insp, data["Missing"], len(flagged), unchecked)
	data["AnchorName"] = "点位"
	if site != nil {
		if at, ok := server.SiteLocation(site); ok {
			if m := c.newSiteMap(at.Lon, at.Lat, data["Photos"].([]photoRow)); m != nil {
				data["Map"] = m
			}
		}
	}
	if data["Reviews"], err = c.reviews(ec, insp.ID); err != nil {
		return err
	}
	// The values the merge did not keep, of the inspection, its findings
	// and its photos.
	refs := []recordRef{{syncproto.EntityInspection, insp.ID}}
	for _, f := range data["Findings"].([]findingRow) {
		refs = append(refs, recordRef{syncproto.EntityFinding, f.ID})
	}
	refs = append(refs, photoRefs(data["Photos"].([]photoRow))...)
	if data["Conflicts"], err = c.conflictRows(ctx, p, items, refs...); err != nil {
		return err
	}
	if data["History"], err = c.history(ec, insp, items); err != nil {
		return err
	}
	data["ReviewRefused"] = refused
	// A refusal is said at the form it came from; a form no longer on the
	// page (the finding is no longer rectified, the inspection no longer
	// submitted: a page left open) has it said at the top, not nowhere
	// (city probe: a 400 without a word).
	if refused != nil {
		placed := refused.Finding == "" && data["CanReview"] == true
		for _, f := range data["Findings"].([]findingRow) {
			placed = placed || f.ID == refused.Finding && f.CanReopen
		}
		if !placed {
			data["RefusedUnplaced"] = refused.Message
		}
	}
	return c.render(ec, status, "detail.html", data)
}

// visible returns the record of entity the request's :id names, when it
// is live and in the viewer's counties. Errors: not_found, out_of_scope,
// each naming the record's kind (Entity.Label).
func (c *Console) visible(ec echo.Context, entity string) (*server.StoredRecord, error) {
	r, err := c.d.Store.Get(ec.Request().Context(), entity, ec.Param("id"))
	switch {
	case err != nil:
		return nil, err
	case r == nil || r.State.IsDeleted():
		return nil, server.Errorf(syncproto.CodeNotFound, "%s不存在", server.EntityByName(entity).Label)
	case !principalOf(ec).CanSee(r.County):
		return nil, server.Errorf(syncproto.CodeOutOfScope, "无权查看其他区县的%s", server.EntityByName(entity).Label)
	}
	return r, nil
}

// template returns the checklist version the inspection was made with: the
// synced record, else the embedded seed.
func (c *Console) template(ec echo.Context, insp *server.StoredRecord) (*seeds.Template, error) {
	var version int
	_ = json.Unmarshal(insp.Value("template_version"), &version)
	id := insp.Text("template_id")
	rec, err := c.d.Store.Get(ec.Request().Context(), syncproto.EntityTemplate, fmt.Sprintf("%s@%d", id, version))
	if err != nil {
		return nil, err
	}
	if rec != nil {
		t := &seeds.Template{ID: id, Version: version, Title: rec.Text("title")}
		if err := json.Unmarshal(rec.Value("items"), &t.Items); err == nil {
			return t, nil
		}
	}
	if t := c.set.Template(id, version); t != nil {
		return t, nil
	}
	return &seeds.Template{ID: id, Version: version, Title: "未知检查表 " + id}, nil
}

// answers lists the template's items in order with their answers, then any
// answer whose item the template does not know (kept, and marked).
func answers(insp *server.StoredRecord, t *seeds.Template) []answerRow {
	var out []answerRow
	for i := range t.Items {
		it := &t.Items[i]
		row := answerRow{Key: it.Key, Label: it.Label}
		switch raw := insp.Value("answers." + it.Key); {
		case raw == nil || string(raw) == "null":
			row.Value = "（未填写）"
		default:
			row.Answered = true
			a, err := syncproto.ParseAnswer(it, raw)
			if err != nil {
				row.Value, row.Invalid = syncproto.ShowAnswer(it, raw), invalidAnswer(it)
				break
			}
			row.Value, row.Failed = a.Text(it), a.Failed(it)
			row.Answer = row.Value
			// A failure is said, not only coloured (a printout in black
			// and white, a screen reader): a check's 不合格 says itself.
			switch l := it.Limit(); {
			case !row.Failed || a.Result == syncproto.ResultFail:
			case l != "":
				row.Value += "（超过限值 " + l + "，不合格）"
			default:
				row.Value += "（不合格）" // an option that describes a violation
			}
		}
		out = append(out, row)
	}
	var extra []string
	for name, st := range insp.State.Fields {
		k, ok := strings.CutPrefix(name, "answers.")
		if ok && string(st.Value) != "null" && t.ItemIndex(k) < 0 {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		out = append(out, answerRow{Key: k, Label: k, Value: syncproto.ShowAnswer(&syncproto.ChecklistItem{}, insp.Value("answers."+k)), Unknown: true, Answered: true})
	}
	return out
}

// invalidAnswer says why an answer does not fit its item, for offices:
// what the item takes (the phone's developer reads ParseAnswer's message).
func invalidAnswer(it *seeds.Item) string {
	return "答案不符合检查表：此项应为" + it.Expected()
}

// missingReasons say in Chinese why an item is listed in missing_items.
var missingReasons = map[string]string{
	syncproto.MissingAnswer:       "未填写",
	syncproto.MissingInvalid:      "答案无效",
	syncproto.MissingPhoto:        "缺照片",
	syncproto.MissingUpload:       "照片未上传完成",
	syncproto.MissingUnreadable:   "照片无法读取（文件损坏或不是图片），需重拍",
	syncproto.MissingTemplate:     "检查表未找到，无法核对",
	syncproto.MissingContradicted: "与其他检查项的答案矛盾，应判为不合格",
	syncproto.MissingSiteKind:     "检查表不适用于该点位的类型",
}

type missingRow struct {
	Key, Label string
	Reasons    []string
}

// missingRows groups an inspection's missing_items by item, in order,
// with the items' labels ("" and false: not computed yet).
func missingRows(insp *server.StoredRecord, t *seeds.Template) ([]missingRow, bool) {
	var ms []syncproto.MissingItem
	if json.Unmarshal(insp.Value("missing_items"), &ms) != nil || insp.Value("missing_items") == nil {
		return nil, false
	}
	var out []missingRow
	for _, m := range ms {
		why := missingReasons[m.Reason]
		if why == "" {
			why = m.Reason
		}
		i := t.ItemIndex(m.Key)
		switch {
		case m.Reason == syncproto.MissingInvalid && i >= 0:
			why += "：应为" + t.Items[i].Expected() // Detail is the phone's developer's message
		case m.Reason == syncproto.MissingSiteKind:
			why = "检查表不适用于" + siteKindName(m.Detail) + "点位：请核对点位类型（可在点位页更正），或退回巡查员"
		case m.Reason == syncproto.MissingContradicted:
			// Detail is the key of the failed item this verdict judges.
			if j := t.ItemIndex(m.Detail); j >= 0 {
				it := &t.Items[j]
				shown := syncproto.ShowAnswer(it, insp.Value("answers."+it.Key))
				if a, err := syncproto.ParseAnswer(it, insp.Value("answers."+it.Key)); err == nil {
					shown = syncproto.Answer{Result: a.Result, Value: a.Value}.Text(it) // without its note
				}
				why = "与“" + it.Label + "：" + shown + "”矛盾，应判为不合格"
			}
		case m.Detail != "":
			why += "：" + m.Detail
		}
		if n := len(out); n > 0 && out[n-1].Key == m.Key {
			out[n-1].Reasons = append(out[n-1].Reasons, why)
			continue
		}
		label := m.Key
		switch {
		case i >= 0:
			label = t.Items[i].Label
		case m.Reason == syncproto.MissingSiteKind && t.Title != "":
			label = "检查表 " + t.Title + "（第 " + strconv.Itoa(t.Version) + " 版）"
		}
		out = append(out, missingRow{Key: m.Key, Label: label, Reasons: []string{why}})
	}
	return out, true
}

// unraised names the items of t whose answer fails them and that should
// have raised a finding (finding_on_fail) but have none: the phone creates
// it (sync.md 9.1), and an app older than a checklist's failing options
// records 已拆除 without one — approved so, nothing would be rectified;
// and the verdicts a failing item contradicts (answered 合格 or 不适用),
// whose finding was not raised either (the checklist probe: approved with
// one click, a sewer discharge had no rectification).
func unraised(t *seeds.Template, rows []answerRow, findings []findingRow) []string {
	var out []string
	raised := func(key string) bool {
		return slices.ContainsFunc(findings, func(f findingRow) bool { return f.key == key })
	}
	for _, r := range rows {
		i := t.ItemIndex(r.Key)
		if !r.Failed || i < 0 {
			continue
		}
		it := &t.Items[i]
		if it.FindingOnFail && !raised(r.Key) {
			out = append(out, r.Label)
		}
		// A failing item whose verdict was answered 合格 or 不适用
		// (contradicted): the verdict's finding was never raised either.
		if v := slices.IndexFunc(rows, func(x answerRow) bool { return x.Key == it.Verdict }); it.Verdict != "" && v >= 0 &&
			rows[v].Answered && !rows[v].Failed && rows[v].Invalid == "" && !raised(it.Verdict) {
			out = append(out, rows[v].Label+"（与“"+r.Label+"："+r.Answer+"”矛盾）")
		}
	}
	return out
}

// markFindings warns of the findings that do not fit their inspection,
// as the phone makes them (sync.md 9.1): one raised for an item its
// checklist does not have (named by its key, which would show as
// nothing), one for an item whose answer does not fail it (合格, 不适用,
// unanswered: the phone withdraws it when the answer stops failing), and
// one due before the visit began (day: YYYY-MM-DD, China time). The
// office may return the inspection before approving them into the
// ledger.
func markFindings(t *seeds.Template, rows []answerRow, findings []findingRow, day string) {
	for i := range findings {
		f := &findings[i]
		switch j := slices.IndexFunc(rows, func(r answerRow) bool { return r.Key == f.key }); {
		case f.key == "":
		case t.ItemIndex(f.key) < 0 && len(t.Items) > 0:
			f.Warns = append(f.Warns, "⚠ 检查表中没有此检查项")
		case j >= 0 && !rows[j].Answered:
			f.Warns = append(f.Warns, "⚠ 此检查项未作答")
		case j >= 0 && !rows[j].Failed && !rows[j].Unknown && rows[j].Invalid == "":
			f.Warns = append(f.Warns, "⚠ 此检查项的答案（"+rows[j].Value+"）不是不合格")
		}
		if f.Deadline != "" && day != "" && f.Deadline < day {
			f.Warns = append(f.Warns, "⚠ 整改时限早于检查日期（"+day+"）")
		}
	}
}

// itemLabels maps checklist items' keys to their labels.
func itemLabels(items []seeds.Item) map[string]string {
	out := make(map[string]string, len(items))
	for _, it := range items {
		out[it.Key] = it.Label
	}
	return out
}

// itemLabel is the label of checklist item key among items (key →
// label), or the key itself when the checklist has no such item: a
// finding or photo raised for it is not shown as of no item.
func itemLabel(items map[string]string, key string) string {
	return cmp.Or(items[key], key)
}

// visitDay is the day an inspection's visit began (China time), or it
// was received when it names no start.
func visitDay(insp *server.StoredRecord) string {
	if t, ok := server.ParseTime(insp.Text("started_at")); ok {
		return t.In(chinaTime).Format(time.DateOnly)
	}
	return insp.CreatedAt.In(chinaTime).Format(time.DateOnly)
}

// findings are an inspection's findings, with the decisions an office may
// take on their rectification once the inspection is approved.
func (c *Console) findings(ec echo.Context, insp *server.StoredRecord, items map[string]string, mine server.Hands) ([]findingRow, error) {
	fs, err := c.d.Store.Find(ec.Request().Context(), syncproto.EntityFinding, "inspection_id", insp.ID)
	if err != nil {
		return nil, err
	}
	p := principalOf(ec)
	decides := p.Role.CanReview() && insp.Text("status") == "approved" && !server.OwnWork(p, insp)
	var people map[string]string // read once, for the first finding an office decided on
	var out []findingRow
	for _, f := range fs {
		if f.State.IsDeleted() {
			continue
		}
		ownHand := mine.In(p, f) // made it, or reported its rectification
		decides := decides && !ownHand
		st := cmp.Or(f.Text("status"), "open")
		seq, err := server.FindingVersion(ec.Request().Context(), c.d.Store, f)
		if err != nil {
			return nil, err
		}
		out = append(out, findingRow{mine: ownHand, ID: f.ID, Seq: seq, Item: itemLabel(items, f.Text("item_key")), Description: f.Text("description"),
			Severity: severityNames[f.Text("severity")], Deadline: f.Text("deadline"), Status: findingStatusNames[st], StatusCode: st,
			Note: f.Text("rectification_note"), VerifyComment: f.Text("verify_comment"), Decided: c.rectificationDecided(ec.Request().Context(), f, &people),
			Rectified: c.rectificationOf(ec, f, c.peopleOnce(ec.Request().Context(), f, &people)),
			CanVerify: decides && st == "rectified", CanReopen: decides && (st == "rectified" || st == "verified"),
			AwaitsApproval: st == "rectified" && insp.Text("status") != "approved", key: f.Text("item_key"),
			DeadlinePassed: f.Text("deadline") != "" && f.Text("deadline") < c.today(), Overdue: overdueBy(f, c.todayAt())})
	}
	return out, nil
}

// rectificationDecided says who last decided on a finding's
// rectification, and when: "王督查 2026-12-05 10:00 核实" for a verified
// one, "… 退回继续整改" for one sent back; "" when no office has. people
// names the users, read into it the first time it is needed (once a
// page, not once a finding).
func (c *Console) rectificationDecided(ctx context.Context, f *server.StoredRecord, people *map[string]string) string {
	who, at := f.Text("verifier_id"), localTime(f.Text("verified_at"))
	if who == "" || at == "" {
		return ""
	}
	c.peopleOnce(ctx, f, people)
	what := "退回继续整改"
	if f.Text("status") == "verified" {
		what = "核实整改到位"
	}
	return (*people)[who] + " " + at + " " + what
}

// peopleOnce reads the users' names into people the first time a
// finding f needs them (one an office decided on, or reported rectified),
// once a page, and returns them (nil while no finding did).
func (c *Console) peopleOnce(ctx context.Context, f *server.StoredRecord, people *map[string]string) map[string]string {
	if *people == nil && (f.Text("verifier_id") != "" || f.Text("status") == "rectified" || f.Text("status") == "verified") {
		*people = c.peopleNames(ctx)
	}
	return *people
}

func (c *Console) reviews(ec echo.Context, inspID string) ([]reviewRow, error) {
	rs, err := c.d.Store.Find(ec.Request().Context(), syncproto.EntityReview, "inspection_id", inspID)
	if err != nil {
		return nil, err
	}
	var out []reviewRow
	for _, r := range rs {
		d := "通过"
		if r.Text("decision") == server.DecisionReturn {
			d = "退回"
		}
		out = append(out, reviewRow{Decision: d, Comment: r.Text("comment"), Reviewer: r.Text("reviewer_name"), At: localTime(r.Text("decided_at"))})
	}
	return out, nil
}

// photos shows photo records ps (the deleted left out) in the order they
// were taken, each with its flags, its place and its distance from anchor
// (the site, a roadside check's place) when both are known, and items'
// labels for the checklist items they document.
func (c *Console) photos(ec echo.Context, ps []*server.StoredRecord, anchor *geo.Point, items map[string]string) ([]photoRow, error) {
	ps = slices.Clone(ps)
	var err error
	// In the order they were taken (then created), not of their last
	// write: a photo reprocessed or flagged later keeps its number.
	taken := func(r *server.StoredRecord) time.Time {
		return r.Time("captured_at")
	}
	slices.SortStableFunc(ps, func(a, b *server.StoredRecord) int {
		return cmp.Or(taken(a).Compare(taken(b)), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	var out []photoRow
	reuse := &reuseView{c: c, ctx: ec.Request().Context(), viewer: principalOf(ec), items: items}
	devices := c.deviceNames(ec)
	for _, ph := range ps {
		if ph.State.IsDeleted() {
			continue
		}
		row := photoRow{ID: ph.ID, Caption: ph.Text("caption"), Item: itemLabel(items, ph.Text("item_key")), Captured: localTime(ph.Text("captured_at")),
			Uploaded: ph.Uploaded(), Checked: ph.Text("processed_at") != "", Placeholder: photoPlaceholder(ph), Capture: photoCapture(ph)}
		if row.Flags, row.Notes, err = reuse.rows(ph); err != nil {
			return nil, err
		}
		lon, ok1 := ph.Float("lon_wgs84")
		lat, ok2 := ph.Float("lat_wgs84")
		if ok1 && ok2 {
			row.Location, row.Source = lonLat(lon, lat), positionSource(ph)
			row.located, row.lon, row.lat = true, lon, lat
			if anchor != nil {
				row.Distance = exactDistance(geo.DistanceM(geo.Point{Lon: lon, Lat: lat}, *anchor))
			}
		} else {
			row.Location = noLocation(ph)
		}
		row.N, row.Device = len(out)+1, devices.name(ph.CreatedDevice)
		out = append(out, row)
	}
	for i := range out {
		out[i].Prev, out[i].Next = out[(i+len(out)-1)%len(out)].ID, out[(i+1)%len(out)].ID
	}
	return out, nil
}

// positionSource says where a located photo's position was taken from,
// as photo processing chose it: the camera's EXIF GPS when the picture has
// it, else the phone's fix (cycle probe: a phone without a fix went
// unsaid, the EXIF position looking like the phone's).
func positionSource(ph *server.StoredRecord) string {
	var exif struct {
		Lat *float64 `json:"lat"`
	}
	_ = json.Unmarshal(ph.Value("exif"), &exif)
	_, phoneLon := ph.Float("lon")
	_, phoneLat := ph.Float("lat")
	switch phone := phoneLon && phoneLat; {
	case exif.Lat != nil && phone:
		return "位置取自照片 GPS"
	case exif.Lat != nil:
		return "位置取自照片 GPS，手机未定位"
	}
	return "位置取自手机定位"
}

// noLocation says why a photo shows no position: its place is read when
// its bytes are checked, so before that it is not known to be missing.
func noLocation(ph *server.StoredRecord) string {
	switch {
	case !ph.Uploaded():
		return "位置待照片上传后读取"
	case ph.Text("processed_at") == "":
		return "位置待照片检查完成后显示"
	}
	return "无位置信息"
}

// photoPlaceholder says why a photo has no thumbnail to show, or "" when
// it has one: processing makes the derivatives of every JPEG and PNG it
// can decode (not of HEIC, whose header alone it reads) — with or without
// a perceptual hash, which a picture too uniform (a blank wall) has none
// of: the thumbnail was said missing for those (field app probe).
func photoPlaceholder(ph *server.StoredRecord) string {
	switch {
	case !ph.Uploaded() && server.FlagsHave(ph.Value("flags"), server.FlagRefused):
		return "照片文件被服务器拒收（原因见证据标记）"
	case !ph.Uploaded():
		return "照片文件尚未上传（手机联网后自动上传）"
	case ph.Text("processed_at") == "":
		return "正在生成预览图，请稍后刷新"
	case server.FlagsUnreadable(ph.Value("flags")), !slices.Contains([]string{"image/jpeg", "image/png", ""}, ph.Text("content_type")):
		return "无法生成预览图，请查看原图"
	}
	return ""
}

// crsNames are the coordinate systems as the console names them.
var crsNames = map[string]string{geo.GCJ02: "GCJ-02（高德/腾讯）", geo.BD09: "BD-09（百度）"}

// siteCoords shows a site's position in WGS-84 and, when the phone sent it
// in another system, what it sent.
func siteCoords(site *server.StoredRecord) string {
	at, ok := server.SiteLocation(site)
	if !ok {
		return "无坐标"
	}
	out := lonLat(at.Lon, at.Lat) + "（WGS-84）"
	if name := crsNames[server.SiteCRS(site)]; name != "" {
		lon, _ := site.Float("lon")
		lat, _ := site.Float("lat")
		out += fmt.Sprintf("；上报坐标 %s（%s）", lonLat(lon, lat), name)
	}
	return out
}

// approveCautions are what the review bar says before 审核通过 beyond the
// photos flagged (named there with their links): what bulk approval
// refuses an inspection for (bulkCheck) — missing items, completeness not
// yet checked, answers to items not on the checklist, photos whose flags
// are not known yet. confirm is the question 审核通过 asks when any of
// these or a flag is there: one click approved an inspection with
// required items unanswered and its photos not uploaded, unwarned.
func approveCautions(insp *server.StoredRecord, missing any, flagged, unchecked int) (cautions []string, confirm string) {
	if rows, ok := missing.([]missingRow); !ok {
		cautions = append(cautions, "尚未完成完整性核对")
	} else if len(rows) > 0 {
		cautions = append(cautions, fmt.Sprintf("有 %d 项缺项", len(rows)))
	}
	if server.HasUnknownAnswers(insp) {
		cautions = append(cautions, "有检查表中没有的检查项的答案")
	}
	if unchecked > 0 {
		cautions = append(cautions, fmt.Sprintf("有 %d 张照片尚未上传或尚未完成检查，证据标记未知", unchecked))
	}
	all := cautions
	if flagged > 0 {
		all = append([]string{fmt.Sprintf("有 %d 张照片带证据标记", flagged)}, cautions...)
	}
	if len(all) > 0 {
		confirm = "此检查" + strings.Join(all, "；") + "。确定已查看并审核通过？"
	}
	return cautions, confirm
}

// findingPhoto is a finding's photo as its row names it: a link to it
// among the page's photos, with when it was taken.
type findingPhoto struct {
	ID, Captured string
	N            int
	Later        bool   // taken after the day of the visit, or after its approval
	After        string // which: 检查之后, 审核通过后
}

// findingPhotos gives each finding the photos naming it, in the page's
// order, so that a reviewer verifying a rectification sees its evidence
// in the row of 核实整改到位 rather than looking for it among the visit's.
func findingPhotos(findings []findingRow, ps []*server.StoredRecord, rows []photoRow, day string, approved time.Time) {
	byID := make(map[string]int, len(rows))
	for j, r := range rows {
		byID[r.ID] = j
	}
	at := make(map[string]int, len(findings))
	for i, f := range findings {
		at[f.ID] = i
	}
	for _, ph := range ps {
		i, ok := at[ph.Text("finding_id")]
		j, shown := byID[ph.ID]
		if !ok || !shown {
			continue
		}
		later, after := false, ""
		if t, ok := server.ParseTime(ph.Text("captured_at")); ok {
			switch {
			case t.In(chinaTime).Format(time.DateOnly) > day:
				later, after = true, "检查之后"
			case !approved.IsZero() && !t.Before(approved):
				// Rectified on the spot, the day of the visit, once the
				// office approved it: the rectification's photo too
				// (verification probe: it read as the problem's).
				later, after = true, "审核通过后"
			}
		}
		row := &rows[j]
		findings[i].Photos = append(findings[i].Photos, findingPhoto{ID: ph.ID, Captured: row.Captured, N: row.N, Later: later, After: after})
		// Its caption in the gallery says so too: a rectification's
		// photo had no word of what it was (county office probe).
		row.Kind = "问题照片"
		if later {
			row.Kind = "整改照片"
		}
		if row.Item == "" {
			row.Item = cmp.Or(findings[i].Item, server.Abridge(findings[i].Description, 30))
		}
	}
	for i := range findings {
		f := &findings[i]
		slices.SortFunc(f.Photos, func(a, b findingPhoto) int { return a.N - b.N })
		f.NoneLater = f.StatusCode == "rectified" && !slices.ContainsFunc(f.Photos, func(p findingPhoto) bool { return p.Later })
	}
}

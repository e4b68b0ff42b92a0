package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Template is a pulled checklist template.
type Template struct {
	ID         string // record id, template_id@version
	TemplateID string
	Version    int
	Kind       string
	Title      string
	SiteKinds  []string
	Items      []syncproto.ChecklistItem
}

func templateOf(r *Record) *Template {
	t := &Template{ID: r.ID, TemplateID: r.Str("template_id"), Kind: r.Str("kind"), Title: r.Str("title")}
	_ = json.Unmarshal(r.Fields["version"], &t.Version)
	_ = json.Unmarshal(r.Fields["site_kinds"], &t.SiteKinds)
	_ = json.Unmarshal(r.Fields["items"], &t.Items)
	return t
}

// china is the +08:00 zone record times are written in.
var china = time.FixedZone("CST", 8*3600)

// now returns the corrected clock's time in +08:00 (sync.md 7: record
// times are data, taken from the corrected clock).
func (d *Device) now() string {
	return time.UnixMilli(d.clock.Physical()).In(china).Format(time.RFC3339)
}

// ErrLocked matches (errors.Is) the LockedError returned when editing an
// inspection an office has not returned (submitted or approved).
var ErrLocked = errors.New("检查记录已锁定，不能修改")

// StartInspection creates a draft inspection of site with template (a
// template record id like coal_yard@1, a template_id, or "" for the first
// template whose site kinds include the site's kind), makes it the current
// inspection and returns its id.
func (d *Device) StartInspection(ctx context.Context, siteID, template string) (string, error) {
	site, err := d.Record(ctx, syncproto.EntitySite, siteID)
	if err != nil {
		return "", fmt.Errorf("点位 %s 不在本机数据中（先同步）: %w", siteID, err)
	}
	recs, err := d.records(ctx, syncproto.EntityTemplate)
	if err != nil {
		return "", err
	}
	if site.Retired() {
		return "", fmt.Errorf("点位 %s（%s）已被督查停用，不能新建检查", siteID, site.Str("name"))
	}
	// The template named as id@version, or else the highest version
	// pulled of the one named, or of the first for the site's kind: a new
	// inspection is never made on a version a newer one replaced (sync.md
	// 9.1).
	var tpl *Template
	for _, r := range recs {
		t := templateOf(r)
		if template != "" && t.ID == template {
			tpl = t
			break
		}
		match := t.TemplateID == template || template == "" && slices.Contains(t.SiteKinds, site.Str("kind"))
		switch {
		case !match:
		case tpl == nil:
			tpl = t
		case t.TemplateID == tpl.TemplateID && t.Version > tpl.Version:
			tpl = t
		}
	}
	if tpl != nil && template != "" && !slices.Contains(tpl.SiteKinds, site.Str("kind")) {
		// A checklist of another kind of site (a boiler's for a
		// construction site): the report would count it under the wrong
		// inspection type.
		return "", fmt.Errorf("检查表 %s（%s）不适用于%s点位 %s", tpl.ID, tpl.Title, syncproto.Label(syncproto.SiteKinds, site.Str("kind")), siteID)
	}
	if tpl == nil {
		return "", fmt.Errorf("没有适用于点位 %s 的检查表模板 %q", siteID, template)
	}
	id := uuid.Must(uuid.NewV7()).String()
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.change(ctx, tx, syncproto.EntityInspection, id, site.County, map[string]any{
			"site_id": siteID, "template_id": tpl.TemplateID, "template_version": tpl.Version,
			"started_at": d.now(), "status": "draft",
		}); err != nil {
			return err
		}
		return d.set(tx, keyCurrent, id)
	})
	return id, err
}

// UseInspection makes id the current inspection.
func (d *Device) UseInspection(ctx context.Context, id string) error {
	if _, err := d.Record(ctx, syncproto.EntityInspection, id); err != nil {
		return err
	}
	return d.set(d.db, keyCurrent, id)
}

// Current returns the current inspection id ("" if none).
func (d *Device) Current() (string, error) { return d.get(keyCurrent) }

// editable returns the inspection if a device may change it.
func (d *Device) editable(ctx context.Context, tx *sql.Tx, id string) (*Record, error) {
	if id == "" {
		return nil, errors.New("没有当前检查记录：先 inspect start")
	}
	r, err := getRecord(ctx, tx, syncproto.EntityInspection, id)
	if err != nil {
		return nil, err
	}
	if r.Deleted {
		return nil, fmt.Errorf("检查记录 %s 已删除", id)
	}
	if s := r.Str("status"); s == "submitted" || s == "approved" {
		return nil, &LockedError{Status: s}
	}
	return r, nil
}

// Answer is an inspector's answer to one checklist item, as typed.
type Answer struct {
	Item string // item key
	// Value is the answer as typed (see ItemAnswer): pass/fail/na for a
	// check item, a number, a text, an option, 是/否; na for any item.
	Value string
	Note  string
	Photo string // path of a photo file, optional
}

// AnswerResult is what AnswerItem did besides recording the answer.
type AnswerResult struct {
	Text    string // the answer in words
	PhotoID string // the photo record made, or ""
	// FindingID is the finding opened for a failed item, FindingChanged
	// the one open for it whose description now follows the new note, and
	// FindingDropped the one withdrawn as its item no longer fails ("" if
	// none).
	FindingID, FindingChanged, FindingDropped string
}

// AnswerItem records an answer to inspection inspID: answers.ITEM is the
// answer object of sync.md 9.1, checked against the item first (an
// unknown item or a value of the wrong type is refused, nothing is
// recorded). With a photo, it makes a photo record and queues the file's
// upload. For an item with finding_on_fail, its finding follows the
// answer (followFinding), as the field app's does.
func (d *Device) AnswerItem(ctx context.Context, inspID string, a Answer) (res AnswerResult, err error) {
	var data []byte
	if a.Photo != "" {
		if data, err = os.ReadFile(a.Photo); err != nil {
			return res, fmt.Errorf("读取照片: %w", err)
		}
		if a.Photo, err = filepath.Abs(a.Photo); err != nil {
			return res, err
		}
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		insp, err := d.editable(ctx, tx, inspID)
		if err != nil {
			return err
		}
		t, err := inspectionTemplate(ctx, tx, insp)
		if err != nil {
			return err
		}
		item, err := t.item(a.Item)
		if err != nil {
			return err
		}
		answer, err := ItemAnswer(item, a.Value, a.Note)
		if err != nil {
			return err
		}
		res.Text = answer.Text(item)
		if err := d.change(ctx, tx, syncproto.EntityInspection, inspID, insp.County, map[string]any{"answers." + a.Item: answer}); err != nil {
			return err
		}
		if item.FindingOnFail {
			if err := d.followFinding(ctx, tx, insp, item, answer, &res); err != nil {
				return err
			}
		}
		if data != nil {
			res.PhotoID, err = d.addPhoto(ctx, tx, insp.County, map[string]any{"inspection_id": insp.ID, "item_key": a.Item}, a.Photo, data)
		}
		return err
	})
	return res, err
}

// followFinding keeps the finding of item of insp (a draft, or returned:
// editable) with its answer: a failed answer opens one (once per item) or
// has the open one's description follow the answer; an answer that no
// longer fails withdraws (deletes) the open one — a fail typed by mistake
// and corrected leaves no finding to rectify.
func (d *Device) followFinding(ctx context.Context, tx *sql.Tx, insp *Record, item *syncproto.ChecklistItem, answer syncproto.Answer, res *AnswerResult) error {
	existing, err := d.itemFinding(ctx, tx, insp.ID, item.Key)
	if err != nil {
		return err
	}
	failed, desc := answer.Failed(item), answer.FindingDescription(item)
	switch {
	case failed && existing != nil:
		if existing.Str("description") == desc || existing.Str("status") != "open" {
			return nil
		}
		res.FindingChanged = existing.ID
		return d.change(ctx, tx, syncproto.EntityFinding, existing.ID, existing.County, map[string]any{"description": desc})
	case failed:
		f := map[string]any{"inspection_id": insp.ID, "item_key": item.Key, "description": desc, "severity": "major", "status": "open"}
		if item.DeadlineDays > 0 {
			f["deadline"] = time.UnixMilli(d.clock.Physical()).In(china).AddDate(0, 0, item.DeadlineDays).Format(time.DateOnly)
		}
		res.FindingID = uuid.Must(uuid.NewV7()).String()
		return d.change(ctx, tx, syncproto.EntityFinding, res.FindingID, insp.County, f)
	case existing != nil && existing.Str("status") == "open":
		res.FindingDropped = existing.ID
		return d.remove(ctx, tx, existing)
	}
	return nil
}

// itemFinding returns the live local finding of item key of inspection
// inspID, or nil.
func (d *Device) itemFinding(ctx context.Context, tx *sql.Tx, inspID, key string) (*Record, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM records WHERE entity = 'finding' AND deleted = 0
		AND json_extract(fields, '$.inspection_id') = ? AND json_extract(fields, '$.item_key') = ? ORDER BY id LIMIT 1`, inspID, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return getRecord(ctx, tx, syncproto.EntityFinding, id)
}

// addPhoto makes a photo record of county with the parent fields given
// (an inspection and its item, a finding) and queues its upload, in tx.
func (d *Device) addPhoto(ctx context.Context, tx *sql.Tx, county string, parent map[string]any, path string, data []byte) (string, error) {
	ct := http.DetectContentType(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return "", fmt.Errorf("照片 %s 不是 JPEG 或 PNG（%s）", path, ct)
	}
	id := uuid.Must(uuid.NewV7()).String()
	sum := syncproto.SHA256Hex(data)
	// The photo is kept in the data directory, as a phone app keeps it in
	// its own storage: the file it was read from may be moved, edited or
	// deleted before the upload (which then failed every sync after, its
	// bytes no longer those of the record).
	ext := ".jpg"
	if ct == "image/png" {
		ext = ".png"
	}
	kept := filepath.Join(d.dir, "photos", id+ext)
	if err := os.MkdirAll(filepath.Dir(kept), 0o700); err != nil {
		return "", fmt.Errorf("keep the photo: %w", err)
	}
	if err := os.WriteFile(kept, data, 0o600); err != nil {
		return "", fmt.Errorf("keep the photo: %w", err)
	}
	path = kept
	fields := map[string]any{"sha256": sum, "content_type": ct, "size_bytes": len(data), "captured_at": d.now()}
	maps.Copy(fields, parent)
	if err := d.change(ctx, tx, syncproto.EntityPhoto, id, county, fields); err != nil {
		return "", err
	}
	state, _ := json.Marshal(&syncproto.Upload{PhotoID: id, SHA256: sum, ContentType: ct, Size: int64(len(data))})
	if _, err := tx.ExecContext(ctx, `INSERT INTO uploads(photo_id, path, state) VALUES(?, ?, ?)`, id, path, string(state)); err != nil {
		return "", fmt.Errorf("queue upload: %w", err)
	}
	return id, nil
}

// Submit queues the submission of inspection id (status submitted and
// finished_at), after every change already in the outbox. An inspection
// that lacks required answers or photos (sync.md 9.2) is refused with an
// *IncompleteError unless force is set: the inspector may have reasons to
// submit it as it is, and the office then sees what is missing.
func (d *Device) Submit(ctx context.Context, id string, force bool) error {
	if !force {
		s, err := d.Inspection(ctx, id)
		if err != nil {
			return err
		}
		if len(s.Missing) > 0 && s.Status != "submitted" && s.Status != "approved" {
			labels := map[string]string{}
			for _, it := range s.Items {
				labels[it.Key] = it.Label
			}
			return &IncompleteError{Missing: s.Missing, Labels: labels}
		}
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		insp, err := d.editable(ctx, tx, id)
		if err != nil {
			return err
		}
		// A resubmission after a return keeps the visit's end: the
		// visit is the time from started_at to finished_at (the console's
		// 检查时间, the photos' outside_visit), not to the correction.
		end := insp.Str("finished_at")
		if end == "" {
			end = d.now()
		}
		return d.change(ctx, tx, syncproto.EntityInspection, id, insp.County, map[string]any{"status": "submitted", "finished_at": end})
	})
}

// Vehicle is a roadside heavy-truck check.
type Vehicle struct {
	County, Plate, Checkpoint, Stage, Fuel, Aftertreatment, Action, Note string
	// Again records the check though the same truck was checked at the
	// same checkpoint today already (RepeatError).
	Again bool
}

// RepeatError refuses a vehicle check of a truck checked at the same
// checkpoint the same day already (a crew of two, a plate entered twice):
// every check counts as a vehicle in the figures and no one can delete
// one, so the second is recorded only when asked for (Vehicle.Again).
type RepeatError struct {
	Plate, Checkpoint, At string // the earlier check's
}

func (e *RepeatError) Error() string {
	return fmt.Sprintf("%s 今天已在%s检查过（%s），每保存一次都会计为一辆车；确要再记一次，请加 --again", e.Plate, e.Checkpoint, e.At)
}

// AddVehicle records a vehicle check and returns its id. County defaults
// to the user's first county. A value outside its field's allowed values
// (EnumCode) is refused at once, before anything is recorded.
func (d *Device) AddVehicle(ctx context.Context, v Vehicle) (string, error) {
	cs, err := d.counties()
	if err != nil {
		return "", err
	}
	if v.County == "" {
		if len(cs) == 0 {
			return "", errors.New("不知道所属区县：先 login，或用 --county")
		}
		v.County = cs[0]
	}
	// A county code the reference data pulled does not have is refused
	// now, not at the push (which says out_of_scope or unknown).
	var known, counties int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(id = ?), 0) FROM records WHERE entity = ? AND NOT deleted`,
		v.County, syncproto.EntityCounty).Scan(&counties, &known); err != nil {
		return "", err
	}
	if counties > 0 && known == 0 {
		return "", fmt.Errorf("未知的区县代码 %s（区县代码为 6 位数字，如 140902 忻府区）", v.County)
	}
	// Another county than the user's is refused now, not at the push
	// (out_of_scope, with no way to correct the record from here).
	if len(cs) > 0 && !slices.Contains(cs, v.County) {
		return "", fmt.Errorf("区县 %s 不在本账号的工作范围内（%s）", v.County, strings.Join(cs, "、"))
	}
	f := map[string]any{"county": v.County, "plate": v.Plate, "checkpoint": v.Checkpoint, "checked_at": d.now()}
	if !v.Again {
		if err := d.checkRepeat(ctx, v.Plate, v.Checkpoint, f["checked_at"].(string)); err != nil {
			return "", err
		}
	}
	for k, s := range map[string]string{"emission_stage": v.Stage, "fuel": v.Fuel, "aftertreatment": v.Aftertreatment, "action": v.Action, "note": v.Note} {
		if s == "" {
			continue
		}
		code, err := EnumCode(syncproto.EntityVehicleCheck, k, s)
		if err != nil {
			return "", err
		}
		f[k] = code
	}
	id := uuid.Must(uuid.NewV7()).String()
	return id, d.inTx(ctx, func(tx *sql.Tx) error {
		return d.change(ctx, tx, syncproto.EntityVehicleCheck, id, v.County, f)
	})
}

// checkRepeat refuses (RepeatError) a check of plate at checkpoint on the
// day of at when one of the same truck there that day is recorded, not
// voided — compared as the server stores them (the plate and checkpoint
// in their canonical spellings, times at +08:00: the first ten characters
// the day in China).
func (d *Device) checkRepeat(ctx context.Context, plate, checkpoint, at string) error {
	canon := func(name, v string) (string, error) {
		raw, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		if raw, err = server.CheckDeviceField(syncproto.EntityVehicleCheck, name, raw); err != nil {
			return "", err
		}
		return v, json.Unmarshal(raw, &v)
	}
	var err error
	if plate, err = canon("plate", plate); err != nil {
		return err
	}
	if checkpoint, err = canon("checkpoint", checkpoint); err != nil {
		return err
	}
	if at, err = canon("checked_at", at); err != nil {
		return err
	}
	var earlier string
	err = d.db.QueryRowContext(ctx, `SELECT json_extract(fields, '$.checked_at') FROM records WHERE entity = ? AND NOT deleted
		AND json_extract(fields, '$.plate') = ? AND json_extract(fields, '$.checkpoint') = ?
		AND substr(json_extract(fields, '$.checked_at'), 1, 10) = ? AND json_extract(fields, '$.voided_at') IS NULL
		ORDER BY 1 LIMIT 1`, syncproto.EntityVehicleCheck, plate, checkpoint, at[:min(len(at), 10)]).Scan(&earlier)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	if len(earlier) >= 16 {
		earlier = earlier[11:16]
	}
	return &RepeatError{Plate: plate, Checkpoint: checkpoint, At: earlier}
}

func (d *Device) counties() ([]string, error) {
	s, err := d.get(keyCounties)
	if err != nil || s == "" {
		return nil, err
	}
	var cs []string
	if err := json.Unmarshal([]byte(s), &cs); err != nil {
		return nil, fmt.Errorf("本机保存的区县列表无法读取（%v）：请重新登录（fieldctl login），待上传的记录不受影响", err)
	}
	return cs, nil
}

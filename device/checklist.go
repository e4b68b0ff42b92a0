package device

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// A device checks what the inspector enters against the inspection's
// checklist as it is entered (sync.md 9.1), with the rules the server
// applies (syncproto.ParseAnswer, CheckCompleteness): an unknown item or a
// value of the wrong type is refused at once, in Chinese, rather than
// accepted and found missing by an office days later.

// ItemAnswer turns what an inspector typed for item into its answer
// object. typed is, by item type: pass, fail or na (or 合格, 不合格,
// 不适用) for a check item; a number for a number item; the text for a
// text item; an option's value or label for a choice item; 是/否 (or
// true/false) for a boolean item; na (不适用) answers an item of any type.
func ItemAnswer(it *syncproto.ChecklistItem, typed, note string) (syncproto.Answer, error) {
	typed = strings.TrimSpace(typed)
	a := syncproto.Answer{Note: note}
	what := fmt.Sprintf("检查项 %s（%s）", it.Key, it.Label)
	switch {
	case typed == "na" || typed == "不适用":
		a.Result = syncproto.ResultNA
	case it.Type == syncproto.ItemCheck:
		a.Result = map[string]string{"pass": syncproto.ResultPass, "合格": syncproto.ResultPass,
			"fail": syncproto.ResultFail, "不合格": syncproto.ResultFail}[typed]
		if a.Result == "" {
			return a, fmt.Errorf("%s是合格/不合格项，应答 pass（合格）、fail（不合格）或 na（不适用），而不是 %q", what, typed)
		}
	case it.Type == syncproto.ItemNumber:
		n, err := strconv.ParseFloat(typed, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return a, fmt.Errorf("%s是数值项（%s），应填数字，而不是 %q", what, numberHint(it), typed)
		}
		a.Value = n
	case it.Type == syncproto.ItemText:
		a.Value = typed
	case it.Type == syncproto.ItemChoice:
		i := slices.IndexFunc(it.Options, func(o syncproto.ChecklistOption) bool { return o.Value == typed || o.Label == typed })
		if i < 0 {
			return a, fmt.Errorf("%s是选项，应从 %s 中选一个，而不是 %q", what, it.OptionList(), typed)
		}
		a.Value = it.Options[i].Value
	case it.Type == syncproto.ItemBoolean:
		b, ok := map[string]bool{"是": true, "true": true, "yes": true, "否": false, "false": false, "no": false}[typed]
		if !ok {
			return a, fmt.Errorf("%s应答 是 或 否，而不是 %q", what, typed)
		}
		a.Value = b
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	if _, err := syncproto.ParseAnswer(it, raw); err != nil { // range, empty text, note length
		return a, err
	}
	return a, nil
}

// numberHint describes a number item's unit and range, e.g. "µg/m³，0–5000".
func numberHint(it *syncproto.ChecklistItem) string {
	if r := it.Range(); r != "" {
		return r
	}
	return it.Unit
}

// item returns the checklist item key of t, or an error naming the
// items there are.
func (t *Template) item(key string) (*syncproto.ChecklistItem, error) {
	for i := range t.Items {
		if t.Items[i].Key == key {
			return &t.Items[i], nil
		}
	}
	return nil, fmt.Errorf("检查表「%s」没有检查项 %q（用 inspect show 查看全部检查项及其键）", t.Title, key)
}

// inspectionTemplate returns the local checklist the inspection follows.
func inspectionTemplate(ctx context.Context, q queryer, insp *Record) (*Template, error) {
	id := insp.Str("template_id") + "@" + string(insp.Fields["template_version"])
	r, err := getRecord(ctx, q, syncproto.EntityTemplate, id)
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("本机没有检查表 %s（先同步）", id)
	}
	if err != nil {
		return nil, err
	}
	return templateOf(r), nil
}

// photoItems returns the inspection's local photo records that name an
// item. A photo this device took counts as uploaded: its file waits in the
// upload queue and goes with the next sync.
func (d *Device) photoItems(ctx context.Context, inspID string) ([]syncproto.ItemPhoto, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT json_extract(r.fields, '$.item_key'),
		json_extract(r.fields, '$.uploaded') = 1 OR u.photo_id IS NOT NULL
		FROM records r LEFT JOIN uploads u ON u.photo_id = r.id
		WHERE r.entity = 'photo' AND r.deleted = 0 AND json_extract(r.fields, '$.inspection_id') = ?
		AND coalesce(json_extract(r.fields, '$.item_key'), '') != ''`, inspID)
	if err != nil {
		return nil, fmt.Errorf("photos of inspection %s: %w", inspID, err)
	}
	defer rows.Close()
	var out []syncproto.ItemPhoto
	for rows.Next() {
		var p syncproto.ItemPhoto
		var uploaded *bool
		if err := rows.Scan(&p.ItemKey, &uploaded); err != nil {
			return nil, err
		}
		p.Uploaded = uploaded != nil && *uploaded
		out = append(out, p)
	}
	return out, rows.Err()
}

// ItemState is one checklist item of an inspection, for showing it.
type ItemState struct {
	syncproto.ChecklistItem
	// Answer is the answer in words ("" if none); Invalid says why the
	// stored answer does not fit the item.
	Answer, Invalid string
	// Photos counts the photo records of the inspection naming the item.
	Photos int
}

// InspectionState is an inspection with its checklist, as the device
// has it.
type InspectionState struct {
	ID, Status, Site string
	// ReviewComment is the office's comment on its review (why it
	// returned the inspection).
	ReviewComment string
	Template      *Template
	Items         []ItemState
	syncproto.Completeness
}

// Inspection returns inspection id with its checklist's items, their
// answers and photos, and what it lacks (computed on the device from its
// local records, by the server's rule).
func (d *Device) Inspection(ctx context.Context, id string) (*InspectionState, error) {
	insp, err := getRecord(ctx, d.db, syncproto.EntityInspection, id)
	if err != nil {
		return nil, err
	}
	t, err := inspectionTemplate(ctx, d.db, insp)
	if err != nil {
		return nil, err
	}
	s := &InspectionState{ID: id, Status: insp.Str("status"), ReviewComment: insp.Str("review_comment"), Template: t}
	if site, err := getRecord(ctx, d.db, syncproto.EntitySite, insp.Str("site_id")); err == nil {
		s.Site = site.Str("name")
	}
	photos, err := d.photoItems(ctx, id)
	if err != nil {
		return nil, err
	}
	answers := insp.answers()
	s.Completeness = syncproto.CheckCompleteness(t.Items, answers, photos)
	for i := range t.Items {
		it := ItemState{ChecklistItem: t.Items[i]}
		if raw, ok := answers[it.Key]; ok && string(raw) != "null" {
			if a, err := syncproto.ParseAnswer(&it.ChecklistItem, raw); err != nil {
				it.Answer, it.Invalid = string(raw), err.Error()
			} else {
				it.Answer = a.Text(&it.ChecklistItem)
			}
		}
		for _, p := range photos {
			if p.ItemKey == it.Key {
				it.Photos++
			}
		}
		s.Items = append(s.Items, it)
	}
	return s, nil
}

// answers returns an inspection's answers by item key.
func (r *Record) answers() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for name, v := range r.Fields {
		if key, ok := strings.CutPrefix(name, "answers."); ok {
			out[key] = v
		}
	}
	return out
}

// IncompleteError is Submit's refusal of an inspection that lacks
// required answers or photos (unless forced).
type IncompleteError struct {
	Missing []syncproto.MissingItem
	// Labels are the checklist items' labels by key.
	Labels map[string]string
}

var missingWords = map[string]string{
	syncproto.MissingAnswer: "未填写", syncproto.MissingInvalid: "答案无效", syncproto.MissingPhoto: "缺照片",
	syncproto.MissingUpload: "照片未上传", syncproto.MissingTemplate: "检查表未找到",
	syncproto.MissingUnreadable: "照片无法读取，需重拍", syncproto.MissingSiteKind: "检查表不适用于该点位的类型",
}

func (e *IncompleteError) Error() string {
	keys := syncproto.MissingKeys(e.Missing)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s（%s）", k, e.Labels[k], strings.Join(e.Reasons(k), "、")))
	}
	return fmt.Sprintf("检查尚未完成，缺 %d 项：%s", len(keys), strings.Join(parts, "；"))
}

// Reasons says in Chinese what item key lacks: 未填写, 答案无效, 缺照片,
// 照片未上传, 照片无法读取, 检查表未找到, or that it contradicts the
// failed item it is the verdict of.
func (e *IncompleteError) Reasons(key string) []string {
	var why []string
	for _, m := range e.Missing {
		switch {
		case m.Key != key:
		case m.Reason == syncproto.MissingContradicted:
			why = append(why, fmt.Sprintf("与 %s %s 的答案矛盾，应判为不合格", m.Detail, e.Labels[m.Detail]))
		default:
			why = append(why, cmp.Or(missingWords[m.Reason], m.Reason))
		}
	}
	return why
}

// LockedError is the refusal to change an inspection an office has not
// returned: it is submitted (待审核) or approved (已通过). errors.Is(err,
// ErrLocked) holds for it.
type LockedError struct{ Status string }

func (e *LockedError) Error() string {
	if e.Status == "approved" {
		return "检查记录已审核通过，不能再修改"
	}
	return "检查记录已提交，待审核，办公室退回前不能修改"
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

package syncproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Checklist items and answers: the format of checklist_template.items and
// of an inspection's answers.<key> fields, as mobile-api-docs publishes it
// (checklist.schema.json, sync.md 9). Phones, the server and the console
// read answers with the same rules (ParseAnswer, CheckCompleteness), so an
// answer a phone accepts at entry is one the server counts.

// ChecklistItem is one question of a checklist template (an element of
// checklist_template.items).
type ChecklistItem struct {
	// Key is a snake_case ASCII identifier, unique within the template;
	// the answer is the inspection's field answers.<key>.
	Key   string `json:"key"`
	Label string `json:"label"`
	Hint  string `json:"hint,omitempty"`
	// Type is one of the Item* constants.
	Type string `json:"type"`
	// Options are the allowed values of a choice item.
	Options []ChecklistOption `json:"options,omitempty"`
	// Unit, Min and Max apply to number items.
	Unit string   `json:"unit,omitempty"`
	Min  *float64 `json:"min,omitempty"`
	Max  *float64 `json:"max,omitempty"`
	// Required means the inspection is incomplete without an answer (for
	// every type, "not applicable" — result na — is an answer).
	Required bool `json:"required"`
	// PhotoRequired means at least one photo must be attached to the item
	// (a photo record with this item_key) unless it is answered na or is
	// optional and unanswered.
	PhotoRequired bool `json:"photo_required"`
	// FindingOnFail means a failed answer (check: fail, boolean: false)
	// raises a finding with a rectification deadline of DeadlineDays.
	FindingOnFail bool `json:"finding_on_fail"`
	DeadlineDays  int  `json:"deadline_days,omitempty"`
}

// ChecklistOption is one allowed value of a choice item.
type ChecklistOption struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Item types.
const (
	ItemCheck   = "check"   // result pass / fail / na (合格 / 不合格 / 不适用)
	ItemNumber  = "number"  // value: a number in Unit, within Min..Max
	ItemText    = "text"    // value: non-empty text
	ItemChoice  = "choice"  // value: one of Options' values
	ItemBoolean = "boolean" // value: true or false (是 / 否)
)

// ItemTypes are the valid item types.
var ItemTypes = []string{ItemCheck, ItemNumber, ItemText, ItemChoice, ItemBoolean}

// ItemTypeNames are the item types in Chinese, for people.
var ItemTypeNames = map[string]string{
	ItemCheck: "合格/不合格", ItemNumber: "数值", ItemText: "文字", ItemChoice: "选项", ItemBoolean: "是/否",
}

// Answer results.
const (
	ResultPass = "pass" // 合格
	ResultFail = "fail" // 不合格
	ResultNA   = "na"   // 不适用: answers an item of any type
)

// Answer is the value of an inspection's answers.<key> field: one object
// per item. A check item has a Result; an item of another type has a
// Value (a number, a string or a boolean, as its type says) or the Result
// na. Note is an optional remark.
type Answer struct {
	Result string `json:"result,omitempty"`
	Value  any    `json:"value,omitempty"`
	Note   string `json:"note,omitempty"`
}

// MaxNoteLen is the most characters an answer's note may have.
const MaxNoteLen = 2000

// ParseAnswer reads raw, the value of answers.<it.Key>, and checks it
// against the item: an error (in Chinese, naming the item) says why it
// does not answer the item. A bare value, as earlier versions of sync.md
// showed ("pass", 128), is read as {"result": v} for a check item and
// {"value": v} otherwise; new code sends the object.
func ParseAnswer(it *ChecklistItem, raw json.RawMessage) (Answer, error) {
	var a Answer
	raw = bytes.TrimSpace(raw)
	bad := func(format string, args ...any) (Answer, error) {
		return Answer{}, fmt.Errorf("检查项 %s（%s）%s", it.Key, it.Label, fmt.Sprintf(format, args...))
	}
	if len(raw) == 0 || raw[0] != '{' {
		var v any
		if json.Unmarshal(raw, &v) != nil || v == nil {
			return bad("没有答案")
		}
		if s, ok := v.(string); ok && it.Type == ItemCheck {
			a.Result = s
		} else {
			a.Value = v
		}
	} else {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return bad("的答案不是有效的 JSON 对象")
		}
		for k, v := range m {
			var err error
			switch k {
			case "result":
				err = json.Unmarshal(v, &a.Result)
			case "note":
				err = json.Unmarshal(v, &a.Note)
			case "value":
				if err = json.Unmarshal(v, &a.Value); err == nil && a.Value == nil {
					return bad("的 value 不能为 null")
				}
			default:
				return bad("的答案含未知字段 %q（只能有 result、value、note）", k)
			}
			if err != nil {
				return bad("的答案字段 %s 类型不对", k)
			}
		}
	}
	switch {
	case utf8.RuneCountInString(a.Note) > MaxNoteLen:
		return bad("的备注超过 %d 个字", MaxNoteLen)
	case a.Result != "" && a.Result != ResultPass && a.Result != ResultFail && a.Result != ResultNA:
		return bad("的 result 只能是 pass、fail 或 na，而不是 %q", a.Result)
	case it.Type == ItemCheck && a.Result == "":
		return bad("应答 pass（合格）、fail（不合格）或 na（不适用）")
	case it.Type == ItemCheck && a.Value != nil:
		return bad("是合格/不合格项，不能填 value")
	case it.Type == ItemCheck:
		return a, nil
	case a.Result == ResultNA:
		if a.Value != nil {
			return bad("答了不适用（na），不能同时填 value")
		}
		return a, nil
	case a.Result != "":
		return bad("是%s项，result 只能是 na（不适用）", ItemTypeNames[it.Type])
	case a.Value == nil:
		return bad("没有填 value")
	}
	if err := it.checkValue(a.Value); err != "" {
		return bad("%s", err)
	}
	return a, nil
}

// checkValue checks the value of an answer to a number, text, choice or
// boolean item; "" means it is good.
func (it *ChecklistItem) checkValue(v any) string {
	switch it.Type {
	case ItemNumber:
		n, ok := v.(float64)
		switch {
		case !ok || math.IsInf(n, 0) || math.IsNaN(n):
			return "应填数字"
		case it.Min != nil && n < *it.Min, it.Max != nil && n > *it.Max:
			return "超出范围 " + it.Range()
		}
	case ItemText:
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "应填文字"
		}
	case ItemChoice:
		s, _ := v.(string)
		if !slices.ContainsFunc(it.Options, func(o ChecklistOption) bool { return o.Value == s }) {
			return "应从选项中选一个：" + it.OptionList()
		}
	case ItemBoolean:
		if _, ok := v.(bool); !ok {
			return "应填 true（是）或 false（否）"
		}
	default:
		return fmt.Sprintf("的类型 %q 未知", it.Type)
	}
	return ""
}

// Range shows a number item's bounds and unit, e.g. "0–5000 µg/m³" or
// "≥ 0 吨" ("" for an item without bounds).
func (it *ChecklistItem) Range() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	var s string
	switch {
	case it.Min != nil && it.Max != nil:
		s = f(*it.Min) + "–" + f(*it.Max)
	case it.Min != nil:
		s = "≥ " + f(*it.Min)
	case it.Max != nil:
		s = "≤ " + f(*it.Max)
	default:
		return ""
	}
	if it.Unit != "" {
		s += " " + it.Unit
	}
	return s
}

// OptionList shows a choice item's options as "value（label）、…".
func (it *ChecklistItem) OptionList() string {
	parts := make([]string, len(it.Options))
	for i, o := range it.Options {
		parts[i] = o.Value + "（" + o.Label + "）"
	}
	return strings.Join(parts, "、")
}

// Text shows an answer to the item for people, in Chinese: 合格 / 不合格 /
// 不适用, the number with its unit, the option's label, 是 / 否, or the
// text, followed by the note in brackets.
func (a Answer) Text(it *ChecklistItem) string {
	var s string
	switch a.Result {
	case ResultPass:
		s = "合格"
	case ResultFail:
		s = "不合格"
	case ResultNA:
		s = "不适用"
	}
	switch v := a.Value.(type) {
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
		if it.Unit != "" {
			s += " " + it.Unit
		}
	case bool:
		s = map[bool]string{true: "是", false: "否"}[v]
	case string:
		s = v
		for _, o := range it.Options {
			if o.Value == v {
				s = o.Label
			}
		}
	}
	if a.Note != "" {
		s += "（" + a.Note + "）"
	}
	return s
}

// Failed reports whether the answer fails its item: a check answered
// fail, or a boolean answered false.
func (a Answer) Failed() bool {
	b, isBool := a.Value.(bool)
	return a.Result == ResultFail || (isBool && !b)
}

// Why an item is listed in an inspection's missing_items.
const (
	// MissingAnswer: a required item has no answer.
	MissingAnswer = "answer"
	// MissingInvalid: the item's answer does not fit its type (ParseAnswer
	// fails); it counts as no answer. Detail says why.
	MissingInvalid = "invalid"
	// MissingPhoto: the item needs a photo and no photo record of the
	// inspection names it (item_key).
	MissingPhoto = "photo"
	// MissingUpload: the item's photo records exist but the bytes of none
	// of them have been uploaded yet.
	MissingUpload = "photo_upload"
	// MissingTemplate: the inspection's checklist (template_id@version) is
	// unknown, so nothing can be checked; Key is that template record id.
	MissingTemplate = "template"
)

// MissingItem is one entry of an inspection's server-owned missing_items:
// what is missing for the inspection to be complete.
type MissingItem struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
	// Detail says, in Chinese, why an answer is invalid.
	Detail string `json:"detail,omitempty"`
}

// ItemPhoto is a live photo record of an inspection, as completeness
// counts it.
type ItemPhoto struct {
	ItemKey  string
	Uploaded bool
}

// Completeness is what CheckCompleteness finds.
type Completeness struct {
	// Missing lists, in the template's order, the items whose answer is
	// missing or invalid and those that lack a photo; empty (not nil) when
	// the inspection is complete.
	Missing []MissingItem
	// Unknown lists, sorted, the keys answered that the template does not
	// have (the answers are kept; they count for nothing); never nil.
	Unknown []string
}

// CheckCompleteness checks an inspection's answers (by item key, the
// values of its answers.<key> fields, null for cleared ones) and its
// photos against its checklist items.
func CheckCompleteness(items []ChecklistItem, answers map[string]json.RawMessage, photos []ItemPhoto) Completeness {
	c := Completeness{Missing: []MissingItem{}, Unknown: []string{}}
	known := make(map[string]bool, len(items))
	for i := range items {
		it := &items[i]
		known[it.Key] = true
		raw, answered := answers[it.Key]
		answered = answered && !isNull(raw)
		var a Answer
		switch {
		case !answered && it.Required:
			c.Missing = append(c.Missing, MissingItem{Key: it.Key, Reason: MissingAnswer})
		case answered:
			var err error
			if a, err = ParseAnswer(it, raw); err != nil {
				c.Missing = append(c.Missing, MissingItem{Key: it.Key, Reason: MissingInvalid, Detail: err.Error()})
			}
		}
		if !it.PhotoRequired || a.Result == ResultNA || (!answered && !it.Required) {
			continue
		}
		has, uploaded := false, false
		for _, p := range photos {
			if p.ItemKey == it.Key {
				has, uploaded = true, uploaded || p.Uploaded
			}
		}
		switch {
		case !has:
			c.Missing = append(c.Missing, MissingItem{Key: it.Key, Reason: MissingPhoto})
		case !uploaded:
			c.Missing = append(c.Missing, MissingItem{Key: it.Key, Reason: MissingUpload})
		}
	}
	for k, raw := range answers {
		if !known[k] && !isNull(raw) {
			c.Unknown = append(c.Unknown, k)
		}
	}
	slices.Sort(c.Unknown)
	return c
}

// MissingKeys returns the distinct item keys of missing, in order: the
// number of items an inspection lacks (缺项) is its length.
func MissingKeys(missing []MissingItem) []string {
	var keys []string
	for _, m := range missing {
		if !slices.Contains(keys, m.Key) {
			keys = append(keys, m.Key)
		}
	}
	return keys
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

package syncproto

import (
	"bytes"
	"encoding/json"
	"slices"
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
	// FailsAbove, on a number item, is the limit a value above which
	// fails the item (Answer.Failed): an emission limit (颗粒物 10 mg/m³),
	// a count that must be nought (火点 0). A number item raises no
	// finding of its own; it names the check item that judges it
	// (Verdict).
	FailsAbove *float64 `json:"fails_above,omitempty"`
	// Required means the inspection is incomplete without an answer (for
	// every type, "not applicable" — result na — is an answer).
	Required bool `json:"required"`
	// PhotoRequired means at least one photo must be attached to the item
	// (a photo record with this item_key) unless it is answered na or is
	// optional and unanswered.
	PhotoRequired bool `json:"photo_required"`
	// FindingOnFail means a failed answer (Answer.Failed: check fail,
	// boolean false, a choice option that Fails; a number above
	// FailsAbove fails too, but raises none) raises a finding with a
	// rectification deadline of DeadlineDays. A boolean item without it
	// never fails: 否 is no violation there.
	FindingOnFail bool `json:"finding_on_fail"`
	DeadlineDays  int  `json:"deadline_days,omitempty"`
	// Verdict is the key of the check item, in the same checklist, that
	// gives the verdict on what this item records (淘汰任务已完成 on
	// 锅炉现状): when this item's answer fails, the verdict must be answered
	// fail, and its finding is the one raised; a verdict answered pass or
	// na contradicts it (missing_items reason contradicted). Only on an
	// item that can fail and has no FindingOnFail of its own; the verdict
	// has FindingOnFail.
	Verdict string `json:"verdict,omitempty"`
}

// ChecklistOption is one allowed value of a choice item.
type ChecklistOption struct {
	Value string `json:"value"`
	Label string `json:"label"`
	// Fails marks an option that describes a violation (a boiler 仍在燃煤,
	// a catalyst 已拆除): choosing it fails the item, as a check answered
	// fail does.
	Fails bool `json:"fails,omitempty"`
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
	// of them have been uploaded yet (or none readable has, and some are
	// still on their way).
	MissingUpload = "photo_upload"
	// MissingUnreadable: the bytes of the item's photos arrived, but the
	// server could read none of them as a picture (each is flagged
	// unreadable: a file cut short, not an image): take another.
	MissingUnreadable = "photo_unreadable"
	// MissingTemplate: the inspection's checklist (template_id@version) is
	// unknown, so nothing can be checked; Key is that template record id.
	MissingTemplate = "template"
	// MissingSiteKind: the inspection's checklist does not apply to the
	// kind of its site (a roadside checklist on a construction site); Key
	// is the template record id, as for MissingTemplate, and Detail the
	// site's kind.
	MissingSiteKind = "site_kind"
	// MissingContradicted: the item is the verdict of another item whose
	// answer fails (ChecklistItem.Verdict), yet it is answered pass or na
	// (淘汰任务已完成 合格 for a boiler 仍在燃煤); Detail is that other
	// item's key. Answered fail, it raises the finding.
	MissingContradicted = "contradicted"
)

// MissingItem is one entry of an inspection's server-owned missing_items:
// what is missing for the inspection to be complete.
type MissingItem struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
	// Detail says, in Chinese, why an answer is invalid; for a
	// contradicted verdict, it is the key of the item it contradicts; for
	// a checklist not for its site, the site's kind.
	Detail string `json:"detail,omitempty"`
}

// ItemPhoto is a live photo record of an inspection, as completeness
// counts it.
type ItemPhoto struct {
	ItemKey  string
	Uploaded bool
	// Unreadable: its bytes arrived and could not be read as a picture
	// (the photo's unreadable flag).
	Unreadable bool
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
	// Failed lists, in the template's order, the items whose (valid)
	// answer fails them (Answer.Failed: a check answered fail, a boolean
	// with FindingOnFail answered false, a choice option that fails);
	// never nil.
	Failed []string
}

// CheckCompleteness checks an inspection's answers (by item key, the
// values of its answers.<key> fields, null for cleared ones) and its
// photos against its checklist items.
func CheckCompleteness(items []ChecklistItem, answers map[string]json.RawMessage, photos []ItemPhoto) Completeness {
	c := Completeness{Missing: make([]MissingItem, 0, 2*len(items)), Unknown: []string{}, Failed: []string{}}
	var verdicts []*ChecklistItem // failed items that have a verdict
	for i := range items {
		it := &items[i]
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
			} else if a.Failed(it) {
				c.Failed = append(c.Failed, it.Key)
				if it.Verdict != "" {
					verdicts = append(verdicts, it)
				}
			}
		}
		if !it.PhotoRequired || a.Result == ResultNA || (!answered && !it.Required) {
			continue
		}
		// readable: one whose bytes arrived and were read; waiting: one
		// whose bytes have not arrived (it may yet be read).
		has, readable, waiting := false, false, false
		for _, p := range photos {
			if p.ItemKey == it.Key {
				has = true
				readable = readable || (p.Uploaded && !p.Unreadable)
				waiting = waiting || !p.Uploaded
			}
		}
		switch {
		case !has:
			c.Missing = append(c.Missing, MissingItem{Key: it.Key, Reason: MissingPhoto})
		case readable:
		case waiting:
			c.Missing = append(c.Missing, MissingItem{Key: it.Key, Reason: MissingUpload})
		default:
			c.Missing = append(c.Missing, MissingItem{Key: it.Key, Reason: MissingUnreadable})
		}
	}
	if len(verdicts) > 0 {
		c.Missing = contradictions(c.Missing, items, answers, verdicts)
	}
	for k, raw := range answers {
		known := slices.ContainsFunc(items, func(it ChecklistItem) bool { return it.Key == k })
		if !known && !isNull(raw) {
			c.Unknown = append(c.Unknown, k)
		}
	}
	slices.Sort(c.Unknown)
	return c
}

// contradictions adds to missing, in the checklist's order, the verdicts
// of the failed items given that are answered pass or na (a verdict
// unanswered or invalid is missing already).
func contradictions(missing []MissingItem, items []ChecklistItem, answers map[string]json.RawMessage, failed []*ChecklistItem) []MissingItem {
	at := func(key string) int {
		return slices.IndexFunc(items, func(it ChecklistItem) bool { return it.Key == key })
	}
	added := false
	for _, it := range failed {
		v := at(it.Verdict)
		if v < 0 {
			continue
		}
		raw, answered := answers[it.Verdict]
		if !answered || isNull(raw) {
			continue
		}
		if a, err := ParseAnswer(&items[v], raw); err == nil && !a.Failed(&items[v]) {
			missing = append(missing, MissingItem{Key: it.Verdict, Reason: MissingContradicted, Detail: it.Key})
			added = true
		}
	}
	if added {
		slices.SortStableFunc(missing, func(a, b MissingItem) int { return at(a.Key) - at(b.Key) })
	}
	return missing
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

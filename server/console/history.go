package console

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// historyRow is one audit entry on an inspection's page: who, when, from
// which device, what changed.
type historyRow struct {
	Seq                             int64
	At, Who, Device, Action, Record string
	Changes                         []changeRow
}

type changeRow struct{ Field, Old, New string }

var auditActionNames = map[string]string{
	audit.ActionReview:        "审核",
	audit.ActionRecordChange:  "审核后修改",
	audit.ActionEvidenceFlags: "证据标记",
	audit.ActionTaskProgress:  "整改进展",
}

var auditEntityNames = map[string]string{
	syncproto.EntityInspection: "检查记录", syncproto.EntityFinding: "发现问题", syncproto.EntityPhoto: "照片",
}

var auditFieldNames = map[string]string{
	"verify_comment": "督查整改意见", "rectification_note": "整改说明", "status": "状态", "summary": "检查摘要", "review_comment": "审核意见", "reviewer_id": "审核人", "decision": "审核决定",
	"flags": "证据标记", "deleted": "删除", "description": "问题描述", "deadline": "整改时限", "caption": "照片说明",
	"item_key": "检查项", "sha256": "照片哈希", "finished_at": "结束时间", "started_at": "开始时间",
}

// history lists the audit entries of an inspection and of its findings
// and photos, oldest first, as the viewer may see them.
func (c *Console) history(ec echo.Context, insp *server.StoredRecord, items map[string]string) ([]historyRow, error) {
	p := principalOf(ec)
	entries, err := c.d.Store.AuditHistory(ec.Request().Context(), insp.ID)
	if err != nil {
		return nil, err
	}
	devices := c.deviceNames(ec)
	var out []historyRow
	for _, e := range entries {
		if !p.CanSee(e.County) {
			continue
		}
		row := historyRow{Seq: e.Seq, At: e.At.In(chinaTime).Format("2006-01-02 15:04:05"), Who: e.ActorName,
			Action: auditActionNames[e.Action], Record: auditEntityNames[e.Entity]}
		switch {
		case e.ActorID == "" && e.DeviceID == "":
			row.Who, row.Device = server.AuditServerName, "服务器自动处理"
		case e.DeviceID == "":
			row.Device = "办公室后台"
		default:
			row.Device = devices.name(e.DeviceID)
		}
		if row.Record == "" {
			row.Record = e.Entity
		}
		if e.Entity != syncproto.EntityInspection {
			row.Record += " " + shortID(e.RecordID)
		}
		for field, ch := range e.DecodeChanges() {
			row.Changes = append(row.Changes, changeRow{Field: fieldLabel(field, items), Old: auditValue(field, ch.Old, items), New: auditValue(field, ch.New, items)})
		}
		slices.SortFunc(row.Changes, func(a, b changeRow) int { return strings.Compare(a.Field, b.Field) })
		out = append(out, row)
	}
	return out, nil
}

func fieldLabel(field string, items map[string]string) string {
	if k, ok := strings.CutPrefix(field, "answers."); ok {
		if l := items[k]; l != "" {
			return "答案：" + l
		}
		return "答案：" + k
	}
	if l := auditFieldNames[field]; l != "" {
		return l
	}
	return field
}

// auditValue shows a field's JSON value as the console shows it
// elsewhere: text without quotes and codes by their names, a photo's
// flags as their sentences, a checklist item by its label, nothing as
// （空）; long values cut.
func auditValue(field string, v json.RawMessage, items map[string]string) string {
	if len(v) == 0 || string(v) == "null" {
		return "（空）"
	}
	var s string
	out := string(v)
	switch {
	case field == "flags":
		out = cmp.Or(strings.Join(ExplainFlags(v), "；"), "无")
	case strings.HasPrefix(field, "answers."):
		out = syncproto.ShowAnswer(&syncproto.ChecklistItem{}, v)
	case json.Unmarshal(v, &s) == nil:
		out = s
		if field == "item_key" && items[s] != "" {
			out = items[s]
		} else if l := cmp.Or(statusNames[s], decisionNames[s], server.FindingStatusLabels[s], server.SeverityLabels[s]); l != "" {
			out = l
		}
	}
	if utf8.RuneCountInString(out) > 200 {
		out = string([]rune(out)[:200]) + "…"
	}
	return out
}

var decisionNames = map[string]string{server.DecisionApprove: "通过", server.DecisionReturn: "退回",
	server.DecisionVerify: "核实整改到位", server.DecisionReopen: "退回继续整改"}

// shortID is the end of a record's id, which tells records apart: the
// start of a UUIDv7 is its time, the same for every photo of a minute.
func shortID(id string) string {
	if len(id) > 8 {
		return "…" + id[len(id)-8:]
	}
	return id
}

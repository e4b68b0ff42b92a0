package console

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/geo"
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
	audit.ActionAccount:       "账号管理",
}

var auditEntityNames = map[string]string{
	syncproto.EntityInspection: "检查记录", syncproto.EntityFinding: "发现问题", syncproto.EntityPhoto: "照片",
	syncproto.EntityVehicleCheck: "路检记录", syncproto.EntitySite: "点位",
	"user": "用户", "device": "设备", "console_session": "后台会话",
}

// auditFieldNames names the fields an inspection's history, and a page's
// conflict log, can show: every field of every entity (server.FieldLabels,
// TestHistoryLabelsEveryField), and what account entries set.
var auditFieldNames = func() map[string]string {
	m := maps.Clone(server.FieldLabels)
	maps.Copy(m, map[string]string{
		// an account (audit.ActionAccount)
		"operation": "操作", "role": "角色", "counties": "区县", "user": "用户", "device": "设备", "device_name": "设备名称",
		"session_started": "会话开始时间",
	})
	return m
}()

// history lists the audit entries of an inspection and of its findings
// and photos (or of another record: a roadside check), oldest first, as
// the viewer may see them.
func (c *Console) history(ec echo.Context, insp *server.StoredRecord, items map[string]string) ([]historyRow, error) {
	p := principalOf(ec)
	entries, err := c.d.Store.AuditHistory(ec.Request().Context(), insp.Entity.Name, insp.ID)
	if err != nil {
		return nil, err
	}
	devices := c.deviceNames(ec)
	// The records its entries refer to, by name: the page's own record,
	// and an inspection's findings by their description.
	names := maps.Clone(items)
	if names == nil {
		names = map[string]string{}
	}
	names[insp.ID] = "本" + auditEntityNames[insp.Entity.Name]
	if insp.Entity.Name == syncproto.EntityInspection {
		findings, err := c.d.Store.Find(ec.Request().Context(), syncproto.EntityFinding, "inspection_id", insp.ID)
		if err != nil {
			return nil, err
		}
		for _, f := range findings {
			names[f.ID] = "问题“" + server.Abridge(f.Text("description"), 20) + "”"
		}
	}
	var out []historyRow
	for _, e := range entries {
		if !p.CanSee(e.County) {
			continue
		}
		row := historyRow{Seq: e.Seq, At: e.At.In(chinaTime).Format("2006-01-02 15:04:05"), Who: e.ActorName,
			Action: auditActionNames[e.Action], Record: auditEntityNames[e.Entity]}
		changes := e.DecodeChanges()
		if e.Entity == syncproto.EntityVehicleCheck {
			switch e.Action {
			case audit.ActionRecordChange:
				row.Action = "事后修改" // not reviewed: changed after its day, or by another
			case audit.ActionReview: // voided or restored: the decision says which
				var d string
				_ = json.Unmarshal(changes["decision"].New, &d)
				row.Action = cmp.Or(decisionNames[d], row.Action)
			}
		}
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
		for field, ch := range changes {
			f := entityField(e.Entity, field)
			old, now := auditValue(field, f, ch.Old, names), auditValue(field, f, ch.New, names)
			if old == now {
				continue // no change to read: a review with no comment read 审核意见：（空） → （空）
			}
			row.Changes = append(row.Changes, changeRow{Field: fieldLabel(field, items), Old: old, New: now})
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

// entityField is the catalog's field name of entity, or nil.
func entityField(entity, name string) *server.Field {
	e := server.EntityByName(entity)
	if e == nil {
		return nil
	}
	f, _ := e.Field(name)
	return f
}

// auditValue shows a field's JSON value as the console shows it
// elsewhere: text without quotes and codes by their names, a photo's
// flags as their sentences, a checklist item by its label, times in
// China's time, a record by its name in names or else the end of its id,
// sizes in KB, coordinates to the 6th decimal, yes and no in words,
// nothing as （空）; long values cut. f is the field in the catalog (nil
// for one it lacks); items holds the checklist's item labels by key and
// the names of records by id.
func auditValue(field string, f *server.Field, v json.RawMessage, items map[string]string) string {
	if len(v) == 0 || string(v) == "null" {
		return "（空）"
	}
	var s string
	var b bool
	out := string(v)
	switch {
	case field == "flags":
		out = cmp.Or(strings.Join(ExplainFlags(v, items), "；"), "无")
	case strings.HasPrefix(field, "answers."):
		out = syncproto.ShowAnswer(&syncproto.ChecklistItem{}, v)
	case field == "size_bytes":
		var n float64
		if json.Unmarshal(v, &n) == nil {
			out = fmt.Sprintf("%s（%.0f 字节）", server.ByteSize(int64(n)), n)
		}
	case f != nil && f.Type == server.TypeReal && (strings.HasPrefix(field, "lon") || strings.HasPrefix(field, "lat")):
		var x float64
		if json.Unmarshal(v, &x) == nil {
			out = strconv.FormatFloat(x, 'f', -1, 64)
			if r := math.Round(x*1e6) / 1e6; r != x {
				out = strconv.FormatFloat(r, 'f', 6, 64)
			}
		}
	case json.Unmarshal(v, &b) == nil:
		out = map[bool]string{true: "是", false: "否"}[b]
	case json.Unmarshal(v, &s) == nil:
		out = s
		switch {
		case s == "":
			out = "（空）" // an empty comment, as nothing at all
		case field == "item_key" && items[s] != "":
			out = items[s]
		case f != nil && f.Type == server.TypeTime:
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				out = t.In(chinaTime).Format("2006-01-02 15:04:05")
			}
		case f != nil && f.Type == server.TypeRef:
			out = cmp.Or(items[s], shortID(s))
		case field == "content_type":
			out = cmp.Or(imageTypeNames[s], s)
		case field == "sha256" || field == "phash" || field == syncproto.FieldCaptureSig:
			if len(s) > 12 {
				out = s[:12] + "…"
			}
		case field == "crs":
			out = cmp.Or(crsNames[s], map[string]string{geo.WGS84: "WGS-84（GPS）"}[s], strings.ToUpper(s))
		case f != nil && f.Labels[s] != "":
			out = f.Labels[s] // a code of the vocabulary (aftertreatment present: 完好)
		default:
			if l := cmp.Or(statusNames[s], decisionNames[s], server.FindingStatusLabels[s], server.SeverityLabels[s]); l != "" {
				out = l
			}
		}
	}
	if utf8.RuneCountInString(out) > 200 {
		out = string([]rune(out)[:200]) + "…"
	}
	return out
}

// imageTypeNames name the photo types the server takes.
var imageTypeNames = map[string]string{"image/jpeg": "JPEG 照片", "image/png": "PNG 图片", "image/heic": "HEIC 照片"}

var decisionNames = map[string]string{server.DecisionApprove: "通过", server.DecisionReturn: "退回",
	server.DecisionVerify: "核实整改到位", server.DecisionReopen: "退回继续整改",
	server.DecisionVoid: "作废", server.DecisionRestore: "恢复"}

// shortID is the end of a record's id, which tells records apart: the
// start of a UUIDv7 is its time, the same for every photo of a minute.
func shortID(id string) string {
	if len(id) > 8 {
		return "…" + id[len(id)-8:]
	}
	return id
}

package apidocs_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
)

var update = flag.Bool("update", false, "rewrite the generated sections of openapi.yaml and sync.md")

// entityTitles are the entities' Chinese names, shown in the tables.
var entityTitles = map[string]string{
	"county":             "区县",
	"checklist_template": "检查表模板",
	"rectification_task": "整改任务（台账）",
	"task_progress":      "整改进展（各区县）",
	"site":               "检查点位",
	"inspection":         "检查记录",
	"finding":            "问题（整改项）",
	"vehicle_check":      "路检车辆记录",
	"photo":              "照片证据",
	"review":             "审核意见",
}

// jsonFormats describe the JSON fields whose format is published in this
// directory, instead of "JSON object or array".
var jsonFormats = map[string]string{
	"checklist_template.site_kinds": "JSON array of site kinds (`checklist.schema.json`)",
	"checklist_template.items":      "JSON array of checklist items (`checklist.schema.json#/$defs/item`; sync.md 9.1)",
	"inspection.answers":            "answer object (`answers.schema.json`; sync.md 9.1) (≤ 64 KiB)",
	"inspection.missing_items":      "JSON array of `{key, reason, detail}` (sync.md 9.2); `[]` when complete",
	"inspection.unknown_answers":    "JSON array of answered keys the checklist does not have (sync.md 9.2)",
	"inspection.failed_items":       "JSON array of the item keys whose answer fails the item, in checklist order (sync.md 9.2)",
}

const (
	beginMarker = "<!-- BEGIN GENERATED entity-fields"
	endMarker   = "<!-- END GENERATED entity-fields -->"
)

// TestGeneratedTables checks that the entity and field tables in
// openapi.yaml and sync.md are what server.Entities says; run with -update
// to rewrite them.
func TestGeneratedTables(t *testing.T) {
	table := entityTables(t)
	for _, name := range []string{"openapi.yaml", "sync.md"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := replaceGenerated(string(b), table)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got == string(b) {
			continue
		}
		if *update {
			if err := os.WriteFile(name, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("updated %s", name)
			continue
		}
		t.Errorf("%s: the entity tables differ from server/entity.go; run: go test ./mobile-api-docs -run TestGeneratedTables -update", filepath.Join("mobile-api-docs", name))
	}
}

// replaceGenerated puts lines between the markers of doc, indented like the
// begin marker (so that it works inside a YAML block scalar).
func replaceGenerated(doc string, lines []string) (string, error) {
	all := strings.Split(doc, "\n")
	begin, end := -1, -1
	for i, l := range all {
		switch {
		case strings.Contains(l, beginMarker):
			begin = i
		case strings.Contains(l, endMarker):
			end = i
		}
	}
	if begin < 0 || end < begin {
		return "", fmt.Errorf("no %q … %q section", beginMarker, endMarker)
	}
	indent := all[begin][:len(all[begin])-len(strings.TrimLeft(all[begin], " "))]
	out := append([]string{}, all[:begin+1]...)
	for _, l := range lines {
		if l == "" {
			out = append(out, "")
		} else {
			out = append(out, indent+l)
		}
	}
	out = append(out, all[end:]...)
	return strings.Join(out, "\n"), nil
}

// entityTables renders one Markdown table per entity of server.Entities.
func entityTables(t *testing.T) []string {
	var out []string
	for _, e := range server.Entities {
		title, ok := entityTitles[e.Name]
		if !ok {
			t.Errorf("entity %s has no Chinese title in entityTitles (generate_test.go)", e.Name)
		}
		out = append(out, "", fmt.Sprintf("#### `%s` — %s", e.Name, title), "", entitySummary(e), "",
			"| field | type | rules |", "|---|---|---|")
		fields := append(append([]server.Field(nil), e.Fields...), server.MetaFields...)
		for i := range fields {
			f := &fields[i]
			name := "`" + f.Name + "`"
			if f.Map {
				name = "`" + f.Name + ".<key>`"
			}
			rules := fieldRules(e, f)
			if slices.ContainsFunc(server.MetaFields, func(m server.Field) bool { return m.Name == f.Name }) {
				rules += "; set by the server at creation, sent without an HLC"
			}
			typ := fieldType(f)
			if doc, ok := jsonFormats[e.Name+"."+f.Name]; ok {
				typ = doc
			}
			out = append(out, fmt.Sprintf("| %s | %s | %s |", name, typ, rules))
		}
	}
	return append(out, "")
}

func entitySummary(e *server.Entity) string {
	var s []string
	switch {
	case e.Global:
		s = append(s, "Global reference data: every user pulls it (`county` is empty). Read-only for devices (`read_only_entity`).")
	case !e.DeviceWritable:
		s = append(s, "Written only by the server or an office; read-only for devices (`read_only_entity`).")
	case e.DeviceDeletable && e.KeptOnce != "":
		s = append(s, fmt.Sprintf("Devices create, update and delete it — until an office's act sets `%s`: from then on it is evidence of that act, a device's delete is refused (`not_deletable`), and so is a `status` of `draft` (`invalid_value`).", e.KeptOnce))
	case e.DeviceDeletable:
		s = append(s, "Devices create, update and delete it.")
	default:
		s = append(s, "Devices create and update it but never delete it (`not_deletable`).")
	}
	switch {
	case e.CountyField != "" && !e.DeviceWritable:
		s = append(s, fmt.Sprintf("Its county is the `%s` field: a device pulls the records of its user's counties.", e.CountyField))
	case e.CountyField != "":
		s = append(s, fmt.Sprintf("Its county is the `%s` field, which must be a county in the user's scope.", e.CountyField))
	case len(e.Parents) == 1:
		s = append(s, fmt.Sprintf("Its county is that of the record `%s` names.", e.Parents[0]))
	case len(e.Parents) > 1:
		s = append(s, fmt.Sprintf("A new one must name at least one of %s; its county is that of the first of them (in this order) that is set.", codeList(e.Parents)))
	}
	if len(e.Parents) > 0 && e.DeviceWritable {
		s = append(s, "Every record it references must already be on the server and not deleted (`unknown_reference` otherwise: push parents first) and be in the same county (`out_of_scope` otherwise).")
	}
	return strings.Join(s, " ")
}

func fieldType(f *server.Field) string {
	switch f.Type {
	case server.TypeText:
		if f.Enum != nil {
			return "string"
		}
		limit := f.MaxLen
		if limit == 0 {
			limit = 2000
		}
		if f.Format != nil {
			return fmt.Sprintf("string (≤ %d chars): %s", limit, f.Format.Doc)
		}
		return fmt.Sprintf("string (≤ %d chars)", limit)
	case server.TypeInt:
		return "integer"
	case server.TypeReal:
		return "number"
	case server.TypeBool:
		return "boolean"
	case server.TypeTime:
		if f.AsSent {
			return "string (RFC 3339 date-time), stored as sent"
		}
		return "string (RFC 3339 date-time), stored at `+08:00`"
	case server.TypeDate:
		return fmt.Sprintf("string (date `YYYY-MM-DD`, years %d to %d)", server.EarliestDeviceTime.Year(), server.LatestDateYear)
	case server.TypeRef:
		if f.Within != "" {
			return fmt.Sprintf("string: the UUID of a `%s` (with `%s` too, one whose `%s` is the same, else `invalid_value`)", f.Ref, f.Within, f.Within)
		}
		return fmt.Sprintf("string: the UUID of a `%s`", f.Ref)
	case server.TypeJSON:
		if f.Map {
			return "any JSON value (≤ 64 KiB)"
		}
		return "JSON object or array (≤ 64 KiB)"
	}
	return "?"
}

func fieldRules(e *server.Entity, f *server.Field) string {
	var r []string
	if f.Required {
		r = append(r, "required")
	}
	if f.Immutable {
		r = append(r, "immutable")
	}
	if f.OwnDevice {
		r = append(r, "written by the record's own device only (another device's change is `immutable_field`)")
	}
	if f.Server {
		r = append(r, "**server-owned**")
	}
	if f.Enum != nil {
		r = append(r, "enum: "+enumList(f))
	}
	if f.Aliases != nil {
		r = append(r, "a label is also accepted and stored as its code (deprecated)")
	}
	if f.Deprecated != "" {
		r = append(r, "**deprecated**, no longer written: "+f.Deprecated)
	}
	if f.DeviceEnum != nil {
		r = append(r, "device may write: "+codeList(f.DeviceEnum))
	}
	if f.Min < f.Max {
		r = append(r, "range "+num(f.Min)+" … "+num(f.Max))
	}
	if f.Doc != "" {
		r = append(r, f.Doc)
	}
	if e.DeviceWritable && !f.Server && f.Type == server.TypeTime {
		r = append(r, "from a device, at most a day ahead of the server's clock and not before "+
			server.EarliestDeviceTime.Format("2006-01-02")+", else `invalid_value`")
	}
	if e.DeviceWritable && !f.Server && f.Type == server.TypeDate {
		r = append(r, "from a device, at most a year after the server's day (China), else `invalid_value`")
	}
	if f.Map {
		r = append(r, "map: one field per key `[a-z0-9][a-z0-9_]{0,63}`, each merged on its own; at most "+
			strconv.Itoa(server.MaxMapKeys)+" keys holding a value per record, else `invalid_value`")
	}
	if len(r) == 0 {
		return "—"
	}
	return strings.Join(r, "; ")
}

func codeList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "`" + v + "`"
	}
	return strings.Join(q, ", ")
}

// enumList lists an enum's codes, each with its label when it has one.
func enumList(f *server.Field) string {
	q := make([]string, len(f.Enum))
	for i, v := range f.Enum {
		q[i] = "`" + v + "`"
		if l := f.Labels[v]; l != "" {
			q[i] += " " + l
		}
	}
	return strings.Join(q, ", ")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

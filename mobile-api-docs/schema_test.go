package apidocs_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// compileSchema compiles a schema file of this directory, or a definition
// in it (name#/$defs/x).
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	file, frag, _ := strings.Cut(name, "#")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(file, doc); err != nil {
		t.Fatal(err)
	}
	loc := file
	if frag != "" {
		loc += "#" + frag
	}
	sch, err := c.Compile(loc)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return sch
}

func instance(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

// TestSeedTemplatesMatchSchema validates every seed template against
// checklist.schema.json: the published format is the one the seeds use.
func TestSeedTemplatesMatchSchema(t *testing.T) {
	sch := compileSchema(t, "checklist.schema.json")
	names, err := fs.Glob(seeds.FS(), "templates/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no seed templates: %v", err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(seeds.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(instance(t, b)); err != nil {
			t.Errorf("%s does not match checklist.schema.json: %v", name, err)
		}
	}
}

// TestBrokenTemplatesFailSchema: each way of breaking a valid template
// that the item format forbids is caught by the schema.
func TestBrokenTemplatesFailSchema(t *testing.T) {
	sch := compileSchema(t, "checklist.schema.json")
	b, err := fs.ReadFile(seeds.FS(), "templates/construction_dust@1.json")
	if err != nil {
		t.Fatal(err)
	}
	// item returns the first item of type typ in the decoded template.
	item := func(tpl map[string]any, typ string) map[string]any {
		for _, it := range tpl["items"].([]any) {
			if m := it.(map[string]any); m["type"] == typ {
				return m
			}
		}
		t.Fatalf("no %s item", typ)
		return nil
	}
	for _, tc := range []struct {
		name   string
		break_ func(tpl map[string]any)
	}{
		{"unknown item type", func(tpl map[string]any) { item(tpl, "check")["type"] = "yesno" }},
		{"key not snake_case", func(tpl map[string]any) { item(tpl, "check")["key"] = "Fence-1" }},
		{"empty label", func(tpl map[string]any) { item(tpl, "check")["label"] = "" }},
		{"required missing", func(tpl map[string]any) { delete(item(tpl, "check"), "required") }},
		{"photo_required a string", func(tpl map[string]any) { item(tpl, "check")["photo_required"] = "yes" }},
		{"unknown item field", func(tpl map[string]any) { item(tpl, "check")["range"] = []any{0, 1} }},
		{"number item without unit", func(tpl map[string]any) { delete(item(tpl, "number"), "unit") }},
		{"min on a text item", func(tpl map[string]any) { item(tpl, "text")["min"] = 0 }},
		{"options on a check item", func(tpl map[string]any) {
			item(tpl, "check")["options"] = []any{map[string]any{"value": "a", "label": "甲"}}
		}},
		{"choice item without options", func(tpl map[string]any) { item(tpl, "check")["type"] = "choice" }},
		{"finding_on_fail on a text item", func(tpl map[string]any) { item(tpl, "text")["finding_on_fail"] = true }},
		{"finding_on_fail on a number item", func(tpl map[string]any) { item(tpl, "number")["finding_on_fail"] = true }},
		{"finding_on_fail on a choice no option of which fails", func(tpl map[string]any) {
			it := item(tpl, "number")
			it["type"], it["options"], it["finding_on_fail"] = "choice", []any{map[string]any{"value": "a", "label": "甲"}, map[string]any{"value": "b", "label": "乙", "fails": false}}, true
			delete(it, "unit")
		}},
		{"every option fails", func(tpl map[string]any) {
			it := item(tpl, "number")
			it["type"], it["options"] = "choice", []any{map[string]any{"value": "a", "label": "甲", "fails": true}}
			delete(it, "unit")
		}},
		{"fails not a boolean", func(tpl map[string]any) {
			it := item(tpl, "number")
			it["type"], it["options"] = "choice", []any{map[string]any{"value": "a", "label": "甲"}, map[string]any{"value": "b", "label": "乙", "fails": "yes"}}
			delete(it, "unit")
		}},
		{"deadline_days without finding_on_fail", func(tpl map[string]any) { item(tpl, "text")["deadline_days"] = 3 }},
		{"no items", func(tpl map[string]any) { tpl["items"] = []any{} }},
		{"unknown site kind", func(tpl map[string]any) { tpl["site_kinds"] = []any{"airport"} }},
		{"version 0", func(tpl map[string]any) { tpl["version"] = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := instance(t, b).(map[string]any)
			if err := sch.Validate(tpl); err != nil {
				t.Fatalf("the unbroken template fails: %v", err)
			}
			tpl = instance(t, b).(map[string]any)
			tc.break_(tpl)
			if err := sch.Validate(tpl); err == nil {
				t.Errorf("schema accepts a template with %s", tc.name)
			}
		})
	}
}

// TestAnswersSchemaAgreesWithServer: for each item type, answers.schema.json
// and syncproto.ParseAnswer (the rule the server's missing_items and
// fieldctl apply) accept and refuse the same answer objects; what the
// schema cannot know (the item's range and options) only the server checks.
func TestAnswersSchemaAgreesWithServer(t *testing.T) {
	lo, hi := 0.0, 5000.0
	items := map[string]syncproto.ChecklistItem{
		"check":   {Key: "fence", Label: "围挡", Type: syncproto.ItemCheck},
		"number":  {Key: "pm10", Label: "PM10", Type: syncproto.ItemNumber, Unit: "µg/m³", Min: &lo, Max: &hi},
		"text":    {Key: "plates", Label: "车牌", Type: syncproto.ItemText},
		"choice":  {Key: "status", Label: "现状", Type: syncproto.ItemChoice, Options: []syncproto.ChecklistOption{{Value: "removed", Label: "已拆除"}}},
		"boolean": {Key: "lamp", Label: "故障灯", Type: syncproto.ItemBoolean},
	}
	for _, tc := range []struct {
		typ, answer string
		valid       bool
	}{
		{"check", `{"result":"pass"}`, true},
		{"check", `{"result":"fail","note":"东侧不连续"}`, true},
		{"check", `{"result":"na"}`, true},
		{"check", `{"result":"ok"}`, false},
		{"check", `{"result":"pass","value":1}`, false},
		{"check", `{"note":"只有备注"}`, false},
		{"check", `{"result":"pass","extra":1}`, false},
		{"check", `{"result":"pass","note":3}`, false},
		{"check", `{"result":"pass","note":"` + strings.Repeat("长", 2001) + `"}`, false},
		{"number", `{"value":128}`, true},
		{"number", `{"value":128,"note":"小时均值"}`, true},
		{"number", `{"result":"na"}`, true},
		{"number", `{"value":"128"}`, false},
		{"number", `{"value":null}`, false},
		{"number", `{"result":"pass","value":128}`, false},
		{"number", `{"result":"na","value":128}`, false},
		{"number", `{}`, false},
		{"text", `{"value":"晋H12345"}`, true},
		{"text", `{"value":"  "}`, false},
		{"text", `{"value":12}`, false},
		{"choice", `{"value":"removed"}`, true},
		{"choice", `{"value":true}`, false},
		{"boolean", `{"value":false}`, true},
		{"boolean", `{"value":"false"}`, false},
		{"boolean", `{"result":"fail"}`, false},
	} {
		it := items[tc.typ]
		schemaErr := compileSchema(t, "answers.schema.json#/$defs/"+tc.typ).Validate(instance(t, []byte(tc.answer)))
		if (schemaErr == nil) != tc.valid {
			t.Errorf("%s answer %s: schema valid %v, want %v (%v)", tc.typ, tc.answer, schemaErr == nil, tc.valid, schemaErr)
		}
		if err := compileSchema(t, "answers.schema.json").Validate(instance(t, []byte(tc.answer))); tc.valid && err != nil {
			t.Errorf("%s answer %s: the whole schema refuses it: %v", tc.typ, tc.answer, err)
		}
		_, err := syncproto.ParseAnswer(&it, json.RawMessage(tc.answer))
		if (err == nil) != tc.valid {
			t.Errorf("%s answer %s: ParseAnswer valid %v, want %v (%v)", tc.typ, tc.answer, err == nil, tc.valid, err)
		}
	}
	// Only the server knows the item: range and options.
	for typ, answer := range map[string]string{"number": `{"value":6000}`, "choice": `{"value":"burning"}`} {
		it := items[typ]
		if err := compileSchema(t, "answers.schema.json#/$defs/"+typ).Validate(instance(t, []byte(answer))); err != nil {
			t.Errorf("%s answer %s: schema refuses it: %v", typ, answer, err)
		}
		if _, err := syncproto.ParseAnswer(&it, json.RawMessage(answer)); err == nil {
			t.Errorf("%s answer %s: ParseAnswer accepts it", typ, answer)
		}
	}
}

package syncproto

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func testItems() []ChecklistItem {
	lo, hi := 0.0, 5000.0
	return []ChecklistItem{
		{Key: "fence", Label: "围挡", Type: ItemCheck, Required: true, PhotoRequired: true},
		{Key: "monitor", Label: "在线监测", Type: ItemCheck, Required: true},
		{Key: "pm10", Label: "PM10", Type: ItemNumber, Unit: "µg/m³", Min: &lo, Max: &hi},
		{Key: "status", Label: "现状", Type: ItemChoice, Required: true, PhotoRequired: true,
			Options: []ChecklistOption{{Value: "removed", Label: "已拆除"}, {Value: "burning", Label: "仍在燃煤", Fails: true}}},
		{Key: "remarks", Label: "说明", Type: ItemText},
		{Key: "night", Label: "夜间检查", Type: ItemBoolean},
		{Key: "permit", Label: "有审批手续", Type: ItemBoolean, FindingOnFail: true, DeadlineDays: 3},
	}
}

func answersOf(kv ...string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = json.RawMessage(kv[i+1])
	}
	return m
}

func TestCheckCompleteness(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers map[string]json.RawMessage
		photos  []ItemPhoto
		missing []MissingItem
		unknown []string
	}{
		{"nothing answered", nil, nil,
			[]MissingItem{{"fence", MissingAnswer, ""}, {"fence", MissingPhoto, ""}, {"monitor", MissingAnswer, ""},
				{"status", MissingAnswer, ""}, {"status", MissingPhoto, ""}}, []string{}},
		{"complete", answersOf("fence", `{"result":"fail","note":"东侧"}`, "monitor", `{"result":"pass"}`, "status", `{"value":"removed"}`),
			[]ItemPhoto{{"fence", true, false}, {"status", true, false}}, []MissingItem{}, []string{}},
		{"na needs no photo, cleared answer is none", answersOf("fence", `{"result":"na"}`, "monitor", `null`, "status", `{"result":"na"}`), nil,
			[]MissingItem{{"monitor", MissingAnswer, ""}}, []string{}},
		{"photo not uploaded", answersOf("fence", `{"result":"pass"}`, "monitor", `{"result":"pass"}`, "status", `{"value":"removed"}`),
			[]ItemPhoto{{"fence", false, false}, {"status", false, false}, {"status", true, false}, {"other", true, false}},
			[]MissingItem{{"fence", MissingUpload, ""}}, []string{}},
		{"photos unreadable", answersOf("fence", `{"result":"pass"}`, "monitor", `{"result":"pass"}`, "status", `{"value":"removed"}`),
			// fence: its one uploaded photo unreadable; status: one of two,
			// the other readable; an unreadable photo not uploaded yet is
			// still waiting for its bytes.
			[]ItemPhoto{{"fence", true, true}, {"status", true, true}, {"status", true, false}},
			[]MissingItem{{"fence", MissingUnreadable, ""}}, []string{}},
		{"photo unreadable beside one on its way", answersOf("fence", `{"result":"pass"}`, "monitor", `{"result":"pass"}`, "status", `{"value":"removed"}`),
			[]ItemPhoto{{"fence", true, true}, {"fence", false, false}, {"status", true, false}},
			[]MissingItem{{"fence", MissingUpload, ""}}, []string{}},
		{"unknown keys kept and listed", answersOf("nosuch", `{"result":"pass"}`, "zzz", `1`, "cleared", `null`, "monitor", `{"result":"pass"}`),
			[]ItemPhoto{{"fence", true, false}, {"status", true, false}},
			[]MissingItem{{"fence", MissingAnswer, ""}, {"status", MissingAnswer, ""}}, []string{"nosuch", "zzz"}},
		{"legacy bare values", answersOf("fence", `"pass"`, "monitor", `"na"`, "status", `"burning"`, "pm10", `128`),
			[]ItemPhoto{{"fence", true, false}, {"status", true, false}}, []MissingItem{}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CheckCompleteness(testItems(), tc.answers, tc.photos)
			if !reflect.DeepEqual(c.Missing, tc.missing) || !reflect.DeepEqual(c.Unknown, tc.unknown) {
				t.Errorf("got missing %v unknown %v\nwant missing %v unknown %v", c.Missing, c.Unknown, tc.missing, tc.unknown)
			}
		})
	}
}

func TestInvalidAnswersCountAsMissing(t *testing.T) {
	for _, tc := range []struct {
		key, answer, detail string
	}{
		{"pm10", `{"value":6000}`, "超出范围 0–5000 µg/m³"},
		{"pm10", `{"value":"很高"}`, "应填数字"},
		{"pm10", `{"result":"fail"}`, "result 只能是 na"},
		{"status", `{"value":"gas"}`, "removed（已拆除）、burning（仍在燃煤，不合格）"},
		{"fence", `{"result":"ok"}`, "只能是 pass、fail 或 na"},
		{"fence", `true`, "应答 pass"},
		{"remarks", `{"value":""}`, "应填文字"},
		// Text that prints nothing is no answer, whatever makes it.
		{"remarks", `{"value":"\u200b"}`, "应填文字"},
		{"remarks", `{"value":"\u200d\u200c\u2060\ufeff"}`, "应填文字"},
		{"remarks", `{"value":"\u3164"}`, "应填文字"},
		{"remarks", `{"value":"\u0301"}`, "应填文字"},
		{"remarks", `{"value":"\u3000\u00a0"}`, "应填文字"},
		{"remarks", `{"value":"x","photo":1}`, "未知字段 \"photo\""},
		// Free text: no control character but line breaks and tabs, no
		// direction override, no noncharacter (security probe).
		{"remarks", `{"value":"东侧\u0007"}`, "含有控制字符"},
		{"remarks", `{"value":"东侧\uffff"}`, "含有控制字符"},
		{"fence", `{"result":"fail","note":"东侧\u001b[31m"}`, "的备注含有控制字符"},
		{"fence", `{"result":"fail","note":"东侧\u202e"}`, "的备注含有控制字符"},
	} {
		t.Run(tc.key+" "+tc.answer, func(t *testing.T) {
			c := CheckCompleteness(testItems(), answersOf(tc.key, tc.answer), nil)
			var got *MissingItem
			for i := range c.Missing {
				if c.Missing[i].Key == tc.key && c.Missing[i].Reason == MissingInvalid {
					got = &c.Missing[i]
				}
			}
			if got == nil || !strings.Contains(got.Detail, tc.detail) {
				t.Errorf("missing %+v, want %s invalid with %q", c.Missing, tc.key, tc.detail)
			}
		})
	}
}

func TestAnswerText(t *testing.T) {
	items := testItems()
	for _, tc := range []struct {
		item   int
		answer string
		text   string
		failed bool
	}{
		{0, `{"result":"fail","note":"东侧"}`, "不合格（东侧）", true},
		{0, `"pass"`, "合格", false},
		{2, `{"value":128.5}`, "128.5 µg/m³", false},
		{3, `{"value":"burning"}`, "仍在燃煤", true},
		{3, `{"value":"removed"}`, "已拆除", false},
		{3, `{"result":"na"}`, "不适用", false},
		{4, `{"result":"na"}`, "不适用", false},
		{4, `{"value":"fail"}`, "fail", false},
		{5, `{"value":false}`, "否", false}, // no finding_on_fail: how the visit was made
		{5, `{"value":true}`, "是", false},
		{6, `{"value":false}`, "否", true},
		{6, `true`, "是", false},
	} {
		a, err := ParseAnswer(&items[tc.item], json.RawMessage(tc.answer))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Text(&items[tc.item]); got != tc.text || a.Failed(&items[tc.item]) != tc.failed {
			t.Errorf("%s: %q failed %v, want %q %v", tc.answer, got, a.Failed(&items[tc.item]), tc.text, tc.failed)
		}
	}
}

func TestMissingKeys(t *testing.T) {
	got := MissingKeys([]MissingItem{{"a", MissingAnswer, ""}, {"a", MissingPhoto, ""}, {"b", MissingUpload, ""}})
	if !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("MissingKeys = %v", got)
	}
}

// referenceDecode is decodeAnswer through encoding/json alone.
func referenceDecode(raw []byte) (Answer, bool) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return Answer{}, false
	}
	var a Answer
	for k, v := range m {
		switch k {
		case "result", "note":
			s, ok := v.(string)
			if !ok {
				return Answer{}, false
			}
			if k == "result" {
				a.Result = s
			} else {
				a.Note = s
			}
		case "value":
			if v == nil {
				return Answer{}, false
			}
			a.Value = v
		default:
			return Answer{}, false
		}
	}
	return a, true
}

// FuzzDecodeAnswer: the scan of an answer object reads what encoding/json
// reads, and refuses what it refuses, whatever a phone sends.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{`{"result":"pass"}`, `{"note":"东侧","result":"fail"}`, `{"value":128.5}`, `{"value":{"a":[1,"]"]}}`,
		`{ "value" : "a\"b" , "note":"\u4e1c" }`, `{"r\u0065sult":"na"}`, `{"result":"pass","extra":null}`, `{"value":null}`, `{}`,
		`{"value":[1,2,{"x":"}"}]}`, `{"value":-0.5e3}`, `{"value":true,"note":""}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := []byte(s)
		if !json.Valid(raw) || len(raw) == 0 || raw[0] != '{' {
			return
		}
		got, problem := decodeAnswer(raw, false)
		want, ok := referenceDecode(raw)
		if (problem == "") != ok {
			t.Fatalf("%s: decodeAnswer problem %q, encoding/json ok %v", s, problem, ok)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decodeAnswer %+v, encoding/json %+v", s, got, want)
		}
	})
}

// TestCheckCompletenessFailed: Failed lists, in checklist order, the items
// whose valid answer fails them — a check answered fail, in either form,
// a boolean with finding_on_fail answered false, a choice option that
// fails — and nothing for a boolean without it answered false, nor for
// a pass, a na, another option, an invalid answer or an unknown key.
func TestCheckCompletenessFailed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers map[string]json.RawMessage
		want    []string
	}{
		{"none answered", nil, []string{}},
		{"fail object and bare fail", answersOf("monitor", `"fail"`, "fence", `{"result":"fail"}`), []string{"fence", "monitor"}},
		{"pass and na", answersOf("fence", `{"result":"pass"}`, "monitor", `{"result":"na"}`), []string{}},
		{"failing option, false, in checklist order", answersOf("permit", `{"value":false}`, "status", `{"value":"burning"}`, "fence", `"pass"`), []string{"status", "permit"}},
		{"false without finding_on_fail", answersOf("night", `{"value":false}`), []string{}},
		{"other option, true, na", answersOf("night", `{"value":true}`, "status", `{"value":"removed"}`, "remarks", `{"result":"na"}`), []string{}},
		{"not an option is missing, not failed", answersOf("status", `{"value":"Burning"}`), []string{}},
		{"invalid is missing, not failed", answersOf("fence", `{"result":false}`, "monitor", `false`), []string{}},
		{"unknown key", answersOf("nosuch", `{"result":"fail"}`), []string{}},
		{"a number without a limit", answersOf("pm10", `{"value":4999}`), []string{}},
		{"a number above its limit", answersOf("pm10", `{"value":4999}`, "fence", `"pass"`), []string{"pm10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := testItems()
			if strings.Contains(tc.name, "its limit") {
				items[2].FailsAbove = new(150.0)
			}
			if got := CheckCompleteness(items, tc.answers, nil).Failed; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("failed %q, want %q", got, tc.want)
			}
		})
	}
}

// TestShowAnswer: an answer that does not fit its item is shown to people
// as its words, not its JSON, beside what the item takes; a number
// answer of minus zero reads 0.
func TestShowAnswer(t *testing.T) {
	lo, hi := 0.0, 5000.0
	num := &ChecklistItem{Key: "pm10", Label: "PM10", Type: ItemNumber, Unit: "µg/m³", Min: &lo, Max: &hi}
	check := &ChecklistItem{Key: "fence", Label: "围挡", Type: ItemCheck}
	choice := &ChecklistItem{Key: "level", Label: "预警", Type: ItemChoice, Options: []ChecklistOption{{Value: "orange", Label: "橙色"}, {Value: "red", Label: "红色"}}}
	for _, tc := range []struct {
		it        *ChecklistItem
		raw, want string
	}{
		{num, `{"value":"很高"}`, "很高"},
		{num, `{"value":"10","note":"目测"}`, "10（目测）"},
		{num, `{"value":[1,2]}`, "[1,2]"},
		{check, `{"result":"PASS"}`, "PASS"},
		{check, `{"result":"fail","value":3}`, "不合格，3"},
		{choice, `{"value":"orange"}`, "橙色"},
		{num, `not json`, "not json"},
	} {
		if got := ShowAnswer(tc.it, json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("ShowAnswer(%s, %s) = %q, want %q", tc.it.Key, tc.raw, got, tc.want)
		}
	}
	for it, want := range map[*ChecklistItem]string{num: "数字（0–5000），单位 µg/m³", check: "合格、不合格或不适用", choice: "以下之一：橙色、红色"} {
		if got := it.Expected(); got != want {
			t.Errorf("%s.Expected() = %q, want %q", it.Key, got, want)
		}
	}
	if got := (Answer{Value: math.Copysign(0, -1)}).Text(num); got != "0 µg/m³" {
		t.Errorf("minus zero reads %q", got)
	}
}

// TestCheckCompletenessVerdict: an item whose answer fails contradicts its
// verdict (ChecklistItem.Verdict) answered pass or na — missing_items
// names the verdict, reason contradicted, detail the failing item, in the
// checklist's order wherever the verdict stands — and not a verdict
// answered fail, unanswered or invalid (missing already), nor any verdict
// when the item does not fail.
func TestCheckCompletenessVerdict(t *testing.T) {
	items := []ChecklistItem{
		{Key: "retired", Label: "淘汰任务已完成", Type: ItemCheck, FindingOnFail: true, DeadlineDays: 30},
		{Key: "status", Label: "现状", Type: ItemChoice, Verdict: "retired",
			Options: []ChecklistOption{{Value: "removed", Label: "已拆除"}, {Value: "burning", Label: "仍在燃煤", Fails: true}}},
		{Key: "fence", Label: "围挡", Type: ItemCheck, Required: true},
		{Key: "stove", Label: "炉具", Type: ItemCheck, Verdict: "retired"},
		{Key: "fires", Label: "火点", Type: ItemNumber, Unit: "处", FailsAbove: new(0.0), Verdict: "retired"},
	}
	contradicted := func(by string) MissingItem {
		return MissingItem{Key: "retired", Reason: MissingContradicted, Detail: by}
	}
	answer := MissingItem{Key: "fence", Reason: MissingAnswer}
	for _, tc := range []struct {
		name    string
		answers map[string]json.RawMessage
		want    []MissingItem
	}{
		{"failing option, verdict pass", answersOf("status", `{"value":"burning"}`, "retired", `{"result":"pass"}`),
			[]MissingItem{contradicted("status"), answer}},
		{"failing option, verdict na", answersOf("status", `{"value":"burning"}`, "retired", `"na"`),
			[]MissingItem{contradicted("status"), answer}},
		{"failing option, verdict fail", answersOf("status", `{"value":"burning"}`, "retired", `{"result":"fail"}`), []MissingItem{answer}},
		{"other option, verdict pass", answersOf("status", `{"value":"removed"}`, "retired", `"pass"`), []MissingItem{answer}},
		{"failing option, verdict unanswered", answersOf("status", `{"value":"burning"}`, "retired", `null`), []MissingItem{answer}},
		{"failing option, verdict invalid", answersOf("status", `{"value":"burning"}`, "retired", `{"result":"yes"}`),
			[]MissingItem{{Key: "retired", Reason: MissingInvalid}, answer}},
		{"two items fail, verdict pass", answersOf("status", `{"value":"burning"}`, "stove", `"fail"`, "retired", `"pass"`, "fence", `"pass"`),
			[]MissingItem{contradicted("status"), contradicted("stove")}},
		{"a failing check, verdict na", answersOf("stove", `{"result":"fail"}`, "retired", `{"result":"na"}`, "fence", `"pass"`),
			[]MissingItem{contradicted("stove")}},
		// A number above its limit (fails_above) fails as a failing option
		// does; at the limit, or na, it does not.
		{"a number above its limit, verdict pass", answersOf("fires", `{"value":0.5}`, "retired", `"pass"`, "fence", `"pass"`),
			[]MissingItem{contradicted("fires")}},
		{"a number above its limit, verdict fail", answersOf("fires", `{"value":3}`, "retired", `"fail"`, "fence", `"pass"`), []MissingItem{}},
		{"a number at its limit, verdict pass", answersOf("fires", `{"value":0}`, "retired", `"pass"`, "fence", `"pass"`), []MissingItem{}},
		{"a number na, verdict pass", answersOf("fires", `{"result":"na"}`, "retired", `"pass"`, "fence", `"pass"`), []MissingItem{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckCompleteness(items, tc.answers, nil).Missing
			for i := range got {
				if got[i].Reason == MissingInvalid {
					got[i].Detail = "" // the parser's words, which TestInvalidAnswersCountAsMissing checks
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("missing %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

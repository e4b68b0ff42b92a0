package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestCheckDeviceField: the check an app makes at entry is the push's own:
// a value the server stores is taken in its canonical form, one it would
// refuse is refused with the push's code (a deadline of year 1 or 9999
// counted a finding overdue by centuries).
func TestCheckDeviceField(t *testing.T) {
	for _, tc := range []struct {
		entity, field, value, want string // want: the canonical value, or the code refused with
	}{
		{syncproto.EntityFinding, "deadline", `"2026-12-31"`, `"2026-12-31"`},
		{syncproto.EntityFinding, "deadline", `"2000-01-01"`, `"2000-01-01"`},
		{syncproto.EntityFinding, "deadline", `"2100-12-31"`, `"2100-12-31"`},
		{syncproto.EntityFinding, "deadline", `"1999-12-31"`, syncproto.CodeInvalidField},
		{syncproto.EntityFinding, "deadline", `"0001-01-01"`, syncproto.CodeInvalidField},
		{syncproto.EntityFinding, "deadline", `"9999-12-31"`, syncproto.CodeInvalidField},
		{syncproto.EntityFinding, "deadline", `"2026-02-30"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H\u0031 2345"`, `"晋H12345"`},
		// A special action may not be named as the statistics name the
		// checks outside any (its checks would share that row), however
		// spaced; another name, or none, is taken.
		{syncproto.EntityVehicleCheck, "campaign", `"未列入专项行动"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "campaign", `" 未列入 专项行动 "`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "campaign", `"秋冬 专项行动"`, `"秋冬专项行动"`},
		{syncproto.EntityVehicleCheck, "campaign", `""`, `""`},
		{syncproto.EntityVehicleCheck, "plate", `"晋H1\n2345"`, syncproto.CodeInvalidField},
		// A plate or VIN: Chinese characters, Latin letters and digits
		// (any width, any case, with separators); no other alphabet's
		// letter, which looks like one of them and is not (é, Cyrillic Н,
		// Greek Α), nor other signs.
		{syncproto.EntityVehicleCheck, "plate", `"晋ｈ·３０２７挂"`, `"晋H3027挂"`},
		{syncproto.EntityVehicleCheck, "plate", `"晋AD12345"`, `"晋AD12345"`},
		{syncproto.EntityVehicleCheck, "plate", `"使014578"`, `"使014578"`},
		{syncproto.EntityVehicleCheck, "plate", `"粤Z1234港"`, `"粤Z1234港"`},
		{syncproto.EntityVehicleCheck, "plate", `"晋Hé0001"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋Н30272"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋Α30272"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H3027(2)"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H30272🚚"`, syncproto.CodeInvalidField},
		// A plate's form (GA 36), as the field app checks it: a province,
		// a letter, five or six more (or four and 挂 …), no I or O
		// (roadside probe: 晋 alone and 12345 were taken and counted).
		{syncproto.EntityVehicleCheck, "plate", `"晋"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"12345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H1234"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H1234567"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋112345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"忻H12345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋HO1234"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋I12345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H12345挂"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H123挂4"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"HH12345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"使01457"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"使A12345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"新AF12345"`, `"新AF12345"`},
		// Six after the letter only on a new-energy plate: D or F, a
		// letter or digit and four digits; or five digits and D or F.
		{syncproto.EntityVehicleCheck, "plate", `"晋HDA1234"`, `"晋HDA1234"`},
		{syncproto.EntityVehicleCheck, "plate", `"晋H12345F"`, `"晋H12345F"`},
		{syncproto.EntityVehicleCheck, "plate", `"晋HABCDEF"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H123456"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋HD1234A"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋HA12345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"晋H1234DF"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "plate", `"京a-1234学"`, `"京A1234学"`},
		// Blank is a required text cleared, whatever its form.
		{syncproto.EntityVehicleCheck, "plate", `"   "`, syncproto.CodeInvalidValue},
		{syncproto.EntityVehicleCheck, "checkpoint", `"　"`, syncproto.CodeInvalidValue},
		{syncproto.EntityVehicleCheck, "vin", `"lzz1blse9kd123456"`, `"LZZ1BLSE9KD123456"`},
		{syncproto.EntityVehicleCheck, "vin", `"LZZ1BLSE9KD12345É"`, syncproto.CodeInvalidField},
		// A VIN is 17 letters and digits, never I, O or Q (roadside probe).
		{syncproto.EntityVehicleCheck, "vin", `"lfv2a21k 5831 23456"`, `"LFV2A21K583123456"`},
		{syncproto.EntityVehicleCheck, "vin", `"LFWSRXSJ9K"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "vin", `"LFWIOQSJ9K1A12345"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "vin", `"晋FWSRXSJ9K1A1234"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "vin", `"LFWSRXSJ9K1A123456"`, syncproto.CodeInvalidField},
		// The opacity is k in m⁻¹, not a percentage.
		{syncproto.EntityVehicleCheck, "opacity", `1.35`, `1.35`},
		{syncproto.EntityVehicleCheck, "opacity", `45`, syncproto.CodeInvalidField},
		// Free text (a note, a description, a summary): line breaks and
		// tabs, not other control characters, direction overrides or
		// noncharacters, escaped or not (security probe: stored, and
		// shown by the console as sent).
		{syncproto.EntityVehicleCheck, "note", `"东侧\n西侧\t完 👨\u200d👩\u200d👧"`, "\"东侧\\n西侧\\t完 👨\u200d👩\u200d👧\""},
		{syncproto.EntityVehicleCheck, "note", `"a\u0001b"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "note", "\"a\x7fb\"", syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "note", `"a\u001bb"`, syncproto.CodeInvalidField},
		{syncproto.EntityFinding, "description", "\"围挡\ufffe\"", syncproto.CodeInvalidField},
		{syncproto.EntityFinding, "description", `"围挡\uffff"`, syncproto.CodeInvalidField},
		{syncproto.EntityFinding, "rectification_note", `"已整改\ufdd0"`, syncproto.CodeInvalidField},
		{syncproto.EntityInspection, "summary", `"\ud83f\udfff"`, syncproto.CodeInvalidField},
		{syncproto.EntityInspection, "summary", "\"通过\u202e过通\"", syncproto.CodeInvalidField},
		// A time to the nanosecond is kept; past it, it would be cut, not
		// stored as sent (security probe).
		{syncproto.EntityVehicleCheck, "checked_at", `"2026-12-05T09:00:00.123456789+08:00"`, `"2026-12-05T09:00:00.123456789+08:00"`},
		{syncproto.EntityVehicleCheck, "checked_at", `"2026-12-05T09:00:00.123456789123+08:00"`, syncproto.CodeInvalidField},
		{syncproto.EntityPhoto, "captured_at", `"2026-12-05T09:00:00.1234567891Z"`, syncproto.CodeInvalidField},
		{syncproto.EntityVehicleCheck, "voided_at", `"2026-12-01T10:00:00+08:00"`, syncproto.CodeServerOwnedField},
		{syncproto.EntityVehicleCheck, "no_such_field", `1`, syncproto.CodeUnknownField},
		{"no_such_entity", "x", `1`, syncproto.CodeUnknownEntity},
	} {
		got, err := server.CheckDeviceField(tc.entity, tc.field, json.RawMessage(tc.value))
		if err != nil {
			if code := server.ErrorCode(err); code != tc.want {
				t.Errorf("%s.%s = %s: refused %s (%v), want %s", tc.entity, tc.field, tc.value, code, err, tc.want)
			}
			// Said by the field's label, with its name for a developer
			// (roadside probe: 字段 urea_level_pct reached inspectors).
			if l := server.FieldLabels[tc.field]; l != "" && !strings.Contains(server.ErrorMessage(err), "“"+l+"”（"+tc.field+"）") {
				t.Errorf("%s.%s = %s: %q does not name the field as “%s”（%s）", tc.entity, tc.field, tc.value, server.ErrorMessage(err), l, tc.field)
			}
			// A space between Chinese and the digits of a format (roadside
			// probe: 应为17 位车辆识别代号).
			if tc.field == "vin" && !strings.Contains(server.ErrorMessage(err), "应为 17 位") {
				t.Errorf("%s.%s = %s: %q", tc.entity, tc.field, tc.value, server.ErrorMessage(err))
			}
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s.%s = %s: taken as %s, want %s", tc.entity, tc.field, tc.value, got, tc.want)
		}
	}
}

// TestNotAllowedSaysWhat: a value not among a field's codes is refused
// naming the codes with their labels; a code's label sent in its place
// (已拆除 for removed: roadside probe) is said to be one, with the code;
// an invisible character in a one-line value is named.
func TestNotAllowedSaysWhat(t *testing.T) {
	for _, tc := range []struct {
		entity, field, value string
		want                 []string
	}{
		{syncproto.EntityVehicleCheck, "aftertreatment", `"已拆除"`, []string{"“已拆除”是代码 removed 的名称，请发送代码"}},
		{syncproto.EntityVehicleCheck, "aftertreatment", `"gone"`, []string{`"gone"`, "present（完好）", "removed（已拆除）", "之一"}},
		{syncproto.EntityFinding, "severity", `"严重"`, []string{"代码 critical"}},
		// A value that looks right but holds an invisible character is
		// said to, naming it, not to be of the wrong form (SDK probe).
		{syncproto.EntityVehicleCheck, "plate", `"晋H\u200b20099"`, []string{"含有看不见的字符（U+200B"}},
		{syncproto.EntityVehicleCheck, "checkpoint", `"豆罗\u2060检查站"`, []string{"含有看不见的字符（U+2060"}},
	} {
		_, err := server.CheckDeviceField(tc.entity, tc.field, json.RawMessage(tc.value))
		if code := server.ErrorCode(err); code != syncproto.CodeInvalidValue && code != syncproto.CodeInvalidField {
			t.Errorf("%s.%s = %s: %v, want invalid_value or invalid_field", tc.entity, tc.field, tc.value, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(server.ErrorMessage(err), w) {
				t.Errorf("%s.%s = %s: %q does not say %q", tc.entity, tc.field, tc.value, server.ErrorMessage(err), w)
			}
		}
	}
}

// TestTextRefusesHidden: every text field a device writes, whatever its
// form (free text, a name on one line, a checkpoint's label, a plate),
// refuses what free text refuses — control characters, direction
// overrides and isolates, noncharacters — so that no stricter form
// lets through what the looser one refuses (a checkpoint took A\uFFFEB,
// and its statistics counted apart). Fields with a fixed vocabulary
// refuse them anyway.
func TestTextRefusesHidden(t *testing.T) {
	hidden := []rune{0x01, 0x1b, 0x7f, 0x85, 0x202a, 0x202e, 0x2066, 0x2069,
		0xfdd0, 0xfdef, 0xfffe, 0xffff, 0x1fffe, 0x10ffff}
	checked := 0
	for _, e := range server.Entities {
		if !e.DeviceWritable {
			continue
		}
		for _, f := range e.Fields {
			if f.Type != server.TypeText || f.Server || f.Map {
				continue
			}
			checked++
			for _, r := range hidden {
				for _, v := range []string{"A" + string(r) + "B", "晋H" + string(r) + "12345"} {
					raw, _ := json.Marshal(v)
					if got, err := server.CheckDeviceField(e.Name, f.Name, raw); err == nil {
						t.Errorf("%s.%s took %q (U+%04X) as %s", e.Name, f.Name, v, r, got)
					} else if code := server.ErrorCode(err); code != syncproto.CodeInvalidField && code != syncproto.CodeInvalidValue {
						t.Errorf("%s.%s refused %q with %s, want invalid_field", e.Name, f.Name, v, code)
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d text fields checked", checked)
	}
}

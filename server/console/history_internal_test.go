package console

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestHistoryLabelsEveryField: every field of the records an inspection's
// 修改历史 lists (the inspection, its findings and photos, its reviews) has
// a Chinese name there, not its name in the API.
func TestHistoryLabelsEveryField(t *testing.T) {
	for _, entity := range []string{syncproto.EntityInspection, syncproto.EntityFinding, syncproto.EntityPhoto, syncproto.EntityReview,
		syncproto.EntityVehicleCheck, syncproto.EntitySite} {
		for _, f := range server.EntityByName(entity).Fields {
			if l := fieldLabel(f.Name, nil); !strings.ContainsFunc(l, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("%s.%s is shown as %q", entity, f.Name, l)
			}
		}
	}
	// What account entries set (server.AccountAction.Set): the users
	// page showed device_name and user as they are.
	for _, k := range []string{"role", "counties", "user", "device", "device_name", "session_started"} {
		if l := fieldLabel(k, nil); !strings.ContainsFunc(l, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("an account entry's %s is shown as %q", k, l)
		}
	}
	if got := fieldLabel("answers.fence", map[string]string{"fence": "围挡"}); got != "答案：围挡" {
		t.Errorf("an answer is shown as %q", got)
	}
}

// TestHistoryValues: values as the console shows them elsewhere: times in
// China's time, records by the end of their id, yes and no in words, a
// vocabulary's codes by their labels (in the history and the conflict log).
func TestHistoryValues(t *testing.T) {
	for _, tc := range []struct {
		entity, field, value, want string
	}{
		{syncproto.EntityPhoto, "captured_at", `"2026-12-03T02:00:00Z"`, "2026-12-03 10:00:00"},
		{syncproto.EntityPhoto, "captured_at", `"2026-12-03T10:00:00.5+08:00"`, "2026-12-03 10:00:00"},
		{syncproto.EntityInspection, "reviewed_at", `"2026-11-30T16:30:00Z"`, "2026-12-01 00:30:00"},
		{syncproto.EntityPhoto, "finding_id", `"0190a0b0-0000-7000-8000-00000000abcd"`, "…0000abcd"},
		{syncproto.EntityFinding, "inspection_id", `"0190a0b0-0000-7000-8000-00000000abcd"`, "…0000abcd"},
		{syncproto.EntityPhoto, "uploaded", `true`, "是"},
		{syncproto.EntityPhoto, "sha256", `"` + strings.Repeat("ab", 32) + `"`, "abababababab…"},
		{syncproto.EntityPhoto, "crs", `"gcj02"`, "GCJ-02（高德/腾讯）"},
		{syncproto.EntityFinding, "severity", `"major"`, server.SeverityLabels["major"]},
		{syncproto.EntityFinding, "deadline", `"2026-12-31"`, "2026-12-31"},
		{syncproto.EntityPhoto, "accuracy_m", `5`, "5"},
		{syncproto.EntityPhoto, "caption", `null`, "（空）"},
		{syncproto.EntityInspection, "review_comment", `""`, "（空）"},
		// Every code of a roadside check's vocabulary by its label.
		{syncproto.EntityVehicleCheck, "aftertreatment", `"present"`, "完好"},
		{syncproto.EntityVehicleCheck, "emission_stage", `"cn5"`, "国五"},
		// Records by their names where the page knows them, sizes with
		// their unit, coordinates and types as people read them
		// (wording probe: 11225, 38.41844553922934, image/jpeg, WGS84).
		{syncproto.EntityPhoto, "inspection_id", `"0190a0b0-0000-7000-8000-00000000aaaa"`, "本检查记录"},
		{syncproto.EntityPhoto, "finding_id", `"0190a0b0-0000-7000-8000-00000000bbbb"`, "问题“料堆未苫盖”"},
		{syncproto.EntityPhoto, "size_bytes", `11225`, "11 KB（11225 字节）"},
		{syncproto.EntityPhoto, "size_bytes", `3500000`, "3.3 MB（3500000 字节）"},
		{syncproto.EntityPhoto, "lat", `38.41844553922934`, "38.418446"},
		{syncproto.EntityPhoto, "lon", `112.75`, "112.75"},
		{syncproto.EntityPhoto, "content_type", `"image/jpeg"`, "JPEG 照片"},
		{syncproto.EntityPhoto, "crs", `"wgs84"`, "WGS-84（GPS）"},
	} {
		names := map[string]string{"0190a0b0-0000-7000-8000-00000000aaaa": "本检查记录", "0190a0b0-0000-7000-8000-00000000bbbb": "问题“料堆未苫盖”"}
		if got := auditValue(tc.field, entityField(tc.entity, tc.field), json.RawMessage(tc.value), names); got != tc.want {
			t.Errorf("%s.%s %s is shown as %q, want %q", tc.entity, tc.field, tc.value, got, tc.want)
		}
	}
}

// TestExactDistance: a photo's distance is to the metre, and past a
// kilometre in kilometres too, as its flags say it.
func TestExactDistance(t *testing.T) {
	for m, want := range map[float64]string{850.4: "850 米", 999.6: "1000 米（1.0 公里）", 356784.2: "356784 米（356.8 公里）"} {
		if got := exactDistance(m); got != want {
			t.Errorf("%v m: %q, want %q", m, got, want)
		}
	}
}

package console_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDirectionControlsShown: a direction override an inspector typed
// into free text (a finding's description, an answer's note, a caption)
// cannot reorder what an office reads: every page and export shows it as
// U+FFFD; in a code (a roadside check's OBD codes) it is refused.
func TestDirectionControlsShown(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp, finding := uuid.NewString(), uuid.NewString()
	spoof := "问题\u202e21-21-6202 限期"
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00",
		"summary", "结论\u2067隔离\u2069", "answers.material_cover", map[string]any{"result": "fail", "note": "note\u202eabc"})),
		apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
			"description", spoof, "deadline", "2026-11-30", "status", "open")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))

	b := loggedIn(t, srv, apptest.CountyOffice)
	for _, path := range []string{"/console/inspections/" + insp, "/console/findings", "/console/queue", "/console/search?q=" + insp,
		"/console/report.csv?month=2026-11"} {
		st, body := b.get(path)
		if st != 200 {
			t.Errorf("%s: %d", path, st)
			continue
		}
		if strings.ContainsAny(body, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
			t.Errorf("%s carries a direction control", path)
		}
	}
	_, f := download(t, b, "/console/findings.xlsx?status=")
	rows, err := f.GetRows("发现问题")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		for _, c := range r {
			found = found || c == "问题\ufffd21-21-6202 限期"
			if strings.ContainsAny(c, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
				t.Errorf("findings export cell %q carries a direction control", c)
			}
		}
	}
	if !found {
		t.Error("the findings export lacks the description, its override shown as U+FFFD")
	}
	if _, page := b.get("/console/inspections/" + insp); !strings.Contains(page, "问题\ufffd21-21-6202 限期") {
		t.Error("the description's override is not shown as U+FFFD")
	}
	resp := apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "G108", "plate", "晋H12345", "checked_at", "2026-11-28T10:00:00+08:00", "obd_codes", "P20EE\u202e")))
	if r := resp.Results[0]; r.Status != "rejected" || r.Code != syncproto.CodeInvalidField {
		t.Errorf("obd_codes with an override: %s %s, want rejected invalid_field", r.Status, r.Code)
	}
}

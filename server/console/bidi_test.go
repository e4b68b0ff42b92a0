package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDirectionControlsShown: a direction override an inspector typed
// into free text (a finding's description, an answer's note, a caption)
// cannot reorder what an office reads: every page and export shows it as
// U+FFFD, as it does other control characters (a bell, an escape, C1); in
// a code (a roadside check's OBD codes) it is refused.
func TestDirectionControlsShown(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp, finding := uuid.NewString(), uuid.NewString()
	spoof := "问题\u202e21-21-6202 限期"
	summary := "结论\u2067隔离\u2069响铃\u0007转义\u001b\u0085\u007f"
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00",
		"answers.material_cover", map[string]any{"result": "fail", "note": "note\u202eabc"})),
		apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
			"description", "问题", "deadline", "2026-11-30", "status", "open")))
	// A phone's free text with them is refused now; stored before that
	// rule (written here by the server), it is shown as below.
	for _, m := range []syncproto.Mutation{apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("summary", summary)),
		apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("description", spoof))} {
		if r := apptest.Push(t, phone, m).Results[0]; r.Status != "rejected" || r.Code != syncproto.CodeInvalidField {
			t.Errorf("a phone's %s with control characters: %s %s, want rejected invalid_field", m.Entity, r.Status, r.Code)
		}
	}
	if err := srv.App.Syncer.Store.Update(t.Context(), func(tx server.WriteTx) error {
		if err := srv.App.Syncer.Upsert(t.Context(), tx, syncproto.EntityInspection, insp, apptest.Xinfu, map[string]any{"summary": summary}); err != nil {
			return err
		}
		return srv.App.Syncer.Upsert(t.Context(), tx, syncproto.EntityFinding, finding, apptest.Xinfu, map[string]any{"description": spoof})
	}); err != nil {
		t.Fatal(err)
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))

	b := loggedIn(t, srv, apptest.CountyOffice)
	for _, path := range []string{"/console/inspections/" + insp, "/console/findings", "/console/queue", "/console/search?q=" + insp,
		"/console/report.csv?month=2026-11"} {
		st, body := b.get(path)
		if st != 200 {
			t.Errorf("%s: %d", path, st)
			continue
		}
		if strings.ContainsAny(body, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u0007\u001b\u0085\u007f") {
			t.Errorf("%s carries a direction or control character", path)
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
	if _, page := b.get("/console/inspections/" + insp); !strings.Contains(page, "问题\ufffd21-21-6202 限期") ||
		!strings.Contains(page, "响铃\ufffd转义\ufffd\ufffd\ufffd") {
		t.Error("the description's override, or the summary's control characters, are not shown as U+FFFD")
	}
	resp := apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "G108", "plate", "晋H12345", "checked_at", "2026-11-28T10:00:00+08:00", "obd_codes", "P20EE\u202e")))
	if r := resp.Results[0]; r.Status != "rejected" || r.Code != syncproto.CodeInvalidField {
		t.Errorf("obd_codes with an override: %s %s, want rejected invalid_field", r.Status, r.Code)
	}
}

// TestDirectionControlsEditable: a value holding a direction override
// (sent by a phone, typed into a console form, or stored before a ledger
// note with one was refused) is shown as U+FFFD,
// in the form's fields and in its record of what it showed alike; it
// stays correctable: an office changing it is not refused as "changed
// meanwhile", and one leaving it as shown leaves it as stored.
func TestDirectionControlsEditable(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	phone := srv.Login(apptest.Inspector)
	site := apptest.DemoSite(t, apptest.Xinfu)
	spoofed := "地址\u202e21-21-6202\u202c"
	// Stored before a phone's was refused (written here by the server).
	if r := apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntitySite, site, apptest.Fields("address", spoofed))).Results[0]; r.Code != syncproto.CodeInvalidField {
		t.Errorf("a phone's address with an override: %s %s, want rejected invalid_field", r.Status, r.Code)
	}
	if err := srv.App.Syncer.Store.Update(t.Context(), func(tx server.WriteTx) error {
		return srv.App.Syncer.Upsert(t.Context(), tx, syncproto.EntitySite, site, apptest.Xinfu, map[string]any{"address": spoofed})
	}); err != nil {
		t.Fatal(err)
	}
	stored := func(field string) string { return storedField(t, srv, syncproto.EntitySite, site, field) }

	// The name corrected, the address left as shown: kept as stored.
	_, page := county.get("/console/sites/" + site)
	form := siteFormOf(t, page)
	form.Set("name", "更正后的名称")
	if st, body := county.post("/console/sites/"+site, form); st != http.StatusOK {
		t.Fatalf("correcting the name beside an address with an override: %d\n%s", st, body)
	}
	if stored("name") != "更正后的名称" || stored("address") != spoofed {
		t.Errorf("after correcting the name: name %q, address %q", stored("name"), stored("address"))
	}
	// The address itself corrected.
	_, page = county.get("/console/sites/" + site)
	form = siteFormOf(t, page)
	form.Set("address", "更正后的地址")
	if st, body := county.post("/console/sites/"+site, form); st != http.StatusOK || stored("address") != "更正后的地址" {
		t.Fatalf("correcting an address with an override: %d, stored %q\n%s", st, stored("address"), body)
	}

	// A ledger row's note likewise: one stored before such notes were
	// refused (TestLedgerTextHasNoControls).
	note := func() string { return storedProgress(t, srv, "task-08", apptest.Xinfu).Note }
	serverWrite(t, srv, syncproto.EntityTaskProgress, server.TaskProgressID("task-08", apptest.Xinfu), apptest.Xinfu, map[string]any{
		"task_id": "task-08", "county": apptest.Xinfu, "status": "in_progress", "note": "问题\u202e21-21-6202\u202c 限期"})
	if st, body := report(t, county, "task-08", apptest.Xinfu, url.Values{"progress_pct": {"40"}}); st != http.StatusOK || note() != "问题\u202e21-21-6202\u202c 限期" {
		t.Fatalf("the percentage changed beside that note: %d, note %q\n%s", st, note(), body)
	}
	if st, body := report(t, county, "task-08", apptest.Xinfu, url.Values{"note": {"更正后的说明"}}); st != http.StatusOK || note() != "更正后的说明" {
		t.Fatalf("correcting that note: %d, note %q\n%s", st, note(), body)
	}
}

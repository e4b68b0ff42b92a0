package app_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestVoidVehicleCheck: an office voids a roadside check saved twice —
// it counts in no statistic, its phones pull the voiding, a device may
// no longer change it, and the decision is in the audit log — and can
// restore it; only an office of the check's county, never the check's
// own author, and always with a reason.
func TestVoidVehicleCheck(t *testing.T) {
	srv := apptest.Start(t)
	insp, county, city := srv.Login(apptest.Inspector), srv.Login(apptest.CountyOffice), srv.Login(apptest.CityOffice)
	dingxiang := srv.Login(apptest.DingxiangOffice)
	check := func(c *syncproto.Client, plate string) string {
		id := uuid.NewString()
		apptest.PushApplied(t, c, apptest.Mut(c, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "作废检查站", "plate", plate, "emission_stage", "cn6", "aftertreatment", "removed",
			"checked_at", "2026-11-28T10:00:00+08:00")))
		return id
	}
	first, twice := check(insp, "晋H70001"), check(insp, "晋H70001")
	trucks := func() (n, removed int) {
		stats, err := srv.App.DB.VehicleStats(ctx, server.VehicleQuery{Scope: server.Scope{All: true}, Checkpoint: "作废检查站"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stats {
			n, removed = n+s.Trucks, removed+s.Removed
		}
		return n, removed
	}
	if n, r := trucks(); n != 2 || r != 2 {
		t.Fatalf("before voiding: %d trucks, %d removed", n, r)
	}
	decide := func(c *syncproto.Client, id string, body map[string]any) (*syncproto.Change, error) {
		var ch syncproto.Change
		err := c.Do(ctx, http.MethodPost, "/api/v1/vehicle-checks/"+id+"/void", body, &ch)
		return &ch, err
	}
	for _, tc := range []struct {
		name      string
		who       *syncproto.Client
		id        string
		body      map[string]any
		code, fld string
	}{
		{"an inspector", insp, twice, map[string]any{"decision": "void", "comment": "重复"}, syncproto.CodeForbidden, ""},
		{"another county's office", dingxiang, twice, map[string]any{"decision": "void", "comment": "重复"}, syncproto.CodeOutOfScope, ""},
		{"no reason", county, twice, map[string]any{"decision": "void"}, syncproto.CodeMissingField, "comment"},
		{"a blank reason", county, twice, map[string]any{"decision": "void", "comment": " \u3000"}, syncproto.CodeMissingField, "comment"},
		{"no decision", county, twice, map[string]any{"comment": "重复"}, syncproto.CodeMissingField, "decision"},
		{"an unknown decision", county, twice, map[string]any{"decision": "delete", "comment": "重复"}, syncproto.CodeInvalidValue, "decision"},
		{"restore of a check not voided", county, twice, map[string]any{"decision": "restore", "comment": "误操作"}, syncproto.CodeConflict, ""},
		{"no such check", county, uuid.NewString(), map[string]any{"decision": "void", "comment": "重复"}, syncproto.CodeNotFound, ""},
		{"an old version", county, twice, map[string]any{"decision": "void", "comment": "重复", "seq": 1}, syncproto.CodeConflict, ""},
	} {
		_, err := decide(tc.who, tc.id, tc.body)
		if code := syncproto.ErrorCodeOf(err); code != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
		var ae *syncproto.APIError
		if tc.fld != "" && (!errors.As(err, &ae) || ae.Body.Field != tc.fld) {
			t.Errorf("%s: %v names no field %q", tc.name, err, tc.fld)
		}
	}
	// An office's own check is judged by another office.
	own := check(county, "晋H70002")
	if _, err := decide(county, own, map[string]any{"decision": "void", "comment": "重复"}); syncproto.ErrorCodeOf(err) != syncproto.CodeForbidden {
		t.Errorf("voiding its own check: %v, want forbidden", err)
	}
	if n, _ := trucks(); n != 3 {
		t.Fatalf("after refused decisions: %d trucks, want 3", n)
	}

	// Its photos: one sent before the voiding, one taken before it and
	// sent after (stamped now, pushed later).
	photo := func(id string, f map[string]json.RawMessage) syncproto.Mutation {
		return apptest.Mut(insp, syncproto.EntityPhoto, id, f)
	}
	shown, late := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, insp, photo(shown, apptest.Fields("vehicle_check_id", twice, "sha256", apptest.SHA256([]byte("shown")), "content_type", "image/jpeg")))
	takenBefore := photo(late, apptest.Fields("vehicle_check_id", twice, "sha256", apptest.SHA256([]byte("late")), "content_type", "image/jpeg"))

	cur, _ := srv.App.DB.Get(ctx, syncproto.EntityVehicleCheck, twice)
	ch, err := decide(county, twice, map[string]any{"decision": "void", "comment": "与上一条重复（同一车辆保存了两次）", "seq": cur.Seq})
	if err != nil {
		t.Fatalf("void: %v", err)
	}
	var reason string
	_ = json.Unmarshal(ch.Fields["void_reason"], &reason)
	if reason != "与上一条重复（同一车辆保存了两次）" || len(ch.Fields["voided_at"]) < 3 {
		t.Errorf("the voided check: %s", ch.Fields)
	}
	if n, r := trucks(); n != 2 || r != 2 {
		t.Errorf("with one voided: %d trucks, %d removed, want 2 and 2", n, r)
	}
	listed, total, err := srv.App.DB.VehicleChecks(ctx, server.VehicleQuery{Scope: server.Scope{All: true}, Voided: server.OnlyVoided})
	if err != nil || total != 1 || listed[0].ID != twice {
		t.Errorf("voided checks: %d %v", total, err)
	}
	if _, err := decide(city, twice, map[string]any{"decision": "void", "comment": "重复"}); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict {
		t.Errorf("voiding it again: %v, want conflict", err)
	}

	// The phone learns of it, and may change it no more (the other check
	// it may).
	pulled := map[string]json.RawMessage{}
	for cursor, more := "", true; more; {
		resp, err := insp.Pull(ctx, cursor, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range resp.Changes {
			if ch.ID == twice {
				pulled = ch.Fields
			}
		}
		cursor, more = resp.Cursor, resp.HasMore
	}
	if string(pulled["void_reason"]) != string(ch.Fields["void_reason"]) {
		t.Errorf("the phone pulled %s", pulled)
	}
	r := apptest.Push(t, insp, apptest.Mut(insp, syncproto.EntityVehicleCheck, twice, apptest.Fields("note", "补充备注"))).Results[0]
	if r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeRecordLocked {
		t.Errorf("a device's change to the voided check: %+v, want record_locked", r)
	}
	apptest.PushApplied(t, insp, apptest.Mut(insp, syncproto.EntityVehicleCheck, first, apptest.Fields("note", "补充备注")))
	// Nor its photos: a new one taken since, or a change to one's record;
	// a photo taken before the voiding and sent late is still taken.
	apptest.PushApplied(t, insp, takenBefore)
	for name, m := range map[string]syncproto.Mutation{
		"a new photo":            photo(uuid.NewString(), apptest.Fields("vehicle_check_id", twice, "sha256", apptest.SHA256([]byte("new")), "content_type", "image/jpeg")),
		"a photo's caption":      photo(shown, apptest.Fields("caption", "尾气处理装置")),
		"a late photo's caption": photo(late, apptest.Fields("caption", "补拍")),
	} {
		if r := apptest.Push(t, insp, m).Results[0]; r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeRecordLocked || !strings.Contains(r.Message, "作废") {
			t.Errorf("%s of the voided check: %+v, want record_locked", name, r)
		}
	}
	if r := apptest.Push(t, insp, apptest.Mut(insp, syncproto.EntityVehicleCheck, twice, apptest.Fields("voided_at", nil))).Results[0]; r.Status != syncproto.StatusRejected {
		t.Errorf("a device clearing voided_at: %+v", r)
	}

	// Restored by another office: it counts again, and the phone may
	// correct it again.
	if _, err := decide(city, twice, map[string]any{"decision": "restore", "comment": "经核实并非重复，是同一车辆往返两次"}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if n, r := trucks(); n != 3 || r != 3 {
		t.Errorf("restored: %d trucks, %d removed, want 3 and 3", n, r)
	}
	apptest.PushApplied(t, insp, apptest.Mut(insp, syncproto.EntityVehicleCheck, twice, apptest.Fields("note", "往返两次")),
		photo(shown, apptest.Fields("caption", "尾气处理装置")))

	// Both decisions are in the audit log, with their reasons.
	entries, err := srv.App.DB.AuditEntries(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var decisions []string
	for _, e := range entries {
		if e.RecordID != twice {
			continue
		}
		if c, ok := e.DecodeChanges()["decision"]; ok {
			decisions = append(decisions, string(c.New)+" by "+e.ActorID)
		}
	}
	userID := func(name string) string {
		u, _, err := srv.App.DB.UserByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	countyID, cityID := userID(apptest.CountyOffice), userID(apptest.CityOffice)
	if want := []string{`"void" by ` + countyID, `"restore" by ` + cityID}; !slices.Equal(decisions, want) {
		t.Errorf("audited decisions %v, want %v", decisions, want)
	}
}

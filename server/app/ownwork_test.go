package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestNoJudgingOwnWork: an office account may push records as a phone
// does, but it may not approve or return an inspection it created, nor
// verify the rectification of a finding of one (forbidden); another
// office user judges them as usual.
func TestNoJudgingOwnWork(t *testing.T) {
	srv := apptest.Start(t)
	county, city := srv.Login(apptest.CountyOffice), srv.Login(apptest.CityOffice)
	insp := newInspection(t, county, apptest.Xinfu)
	finding := newFinding(t, county, insp)
	wantStatus(t, apptest.Push(t, county, apptest.Mut(county, syncproto.EntityInspection, insp, apptest.Fields(
		"status", "submitted", "finished_at", "2026-11-28T10:00:00+08:00"))), "applied")

	review := func(who *syncproto.Client, decision string) error {
		return who.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]any{"decision": decision, "comment": "意见"}, nil)
	}
	verify := func(who *syncproto.Client) error {
		return who.Do(ctx, http.MethodPost, "/api/v1/findings/"+finding+"/verify", map[string]any{"decision": "verify"}, nil)
	}
	for _, decision := range []string{"approve", "return"} {
		if code := syncproto.ErrorCodeOf(review(county, decision)); code != syncproto.CodeForbidden {
			t.Errorf("%s of its own inspection: %q, want forbidden", decision, code)
		}
	}
	if r, _ := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp); r.Text("status") != "submitted" {
		t.Fatalf("inspection %s after its creator's refused review, want submitted", r.Text("status"))
	}
	if err := review(city, "approve"); err != nil {
		t.Fatalf("another office's approval: %v", err)
	}
	wantStatus(t, apptest.Push(t, county, apptest.Mut(county, syncproto.EntityFinding, finding, apptest.Fields("status", "rectified"))), "applied")
	if code := syncproto.ErrorCodeOf(verify(county)); code != syncproto.CodeForbidden {
		t.Errorf("verify of its own finding: %q, want forbidden", code)
	}
	if err := verify(city); err != nil {
		t.Errorf("another office's verification: %v", err)
	}
}

// TestNoJudgingOwnHand: nor the work of its own hand in another's record
// (the security probe): an office account that rewrote an inspector's
// returned inspection from its phone session and resubmitted it may not
// approve it, nor one whose finding it edited; one that reported a
// finding's rectification from its phone may not verify it; one that
// corrected a roadside check may not void it. Another office may.
func TestNoJudgingOwnHand(t *testing.T) {
	srv := apptest.Start(t)
	insp, county, city := srv.Login(apptest.Inspector), srv.Login(apptest.CountyOffice), srv.Login(apptest.CityOffice)
	decide := func(who *syncproto.Client, path string, body map[string]any) error {
		return who.Do(ctx, http.MethodPost, path, body, nil)
	}
	submit := func(id string) {
		wantStatus(t, apptest.Push(t, insp, apptest.Mut(insp, syncproto.EntityInspection, id, apptest.Fields(
			"status", "submitted", "finished_at", "2026-11-28T10:00:00+08:00"))), "applied")
	}
	forbidden := func(what string, err error) {
		t.Helper()
		if code := syncproto.ErrorCodeOf(err); code != syncproto.CodeForbidden {
			t.Errorf("%s: %v, want forbidden", what, err)
		}
	}
	allowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s, by another office: %v", what, err)
		}
	}
	approve := map[string]any{"decision": "approve"}

	// Returned by the city, rewritten and resubmitted by the county office.
	rewritten := newInspection(t, insp, apptest.Xinfu)
	submit(rewritten)
	allowed("return", decide(city, "/api/v1/inspections/"+rewritten+"/review", map[string]any{"decision": "return", "comment": "请补充"}))
	pullAll(t, county, "", 500) // its clock past the return
	wantStatus(t, apptest.Push(t, county, apptest.Mut(county, syncproto.EntityInspection, rewritten, apptest.Fields(
		"summary", "督查改写", "status", "submitted"))), "applied")
	forbidden("approving an inspection it rewrote", decide(county, "/api/v1/inspections/"+rewritten+"/review", approve))
	allowed("approving it", decide(city, "/api/v1/inspections/"+rewritten+"/review", approve))

	// A draft whose finding the county office edited, then submitted by
	// its inspector.
	edited := newInspection(t, insp, apptest.Xinfu)
	finding := newFinding(t, insp, edited)
	pullAll(t, county, "", 500)
	wantStatus(t, apptest.Push(t, county, apptest.Mut(county, syncproto.EntityFinding, finding, apptest.Fields("description", "督查改写的问题描述"))), "applied")
	submit(edited)
	forbidden("approving an inspection whose finding it wrote", decide(county, "/api/v1/inspections/"+edited+"/review", approve))

	// A rectification the county office reported from its phone.
	rectified := newInspection(t, insp, apptest.Xinfu)
	fixed := newFinding(t, insp, rectified)
	submit(rectified)
	allowed("approving", decide(city, "/api/v1/inspections/"+rectified+"/review", approve))
	pullAll(t, county, "", 500)
	wantStatus(t, apptest.Push(t, county, apptest.Mut(county, syncproto.EntityFinding, fixed, apptest.Fields(
		"status", "rectified", "rectification_note", "已整改"))), "applied")
	forbidden("verifying a rectification it reported", decide(county, "/api/v1/findings/"+fixed+"/verify", map[string]any{"decision": "verify"}))
	allowed("verifying it", decide(city, "/api/v1/findings/"+fixed+"/verify", map[string]any{"decision": "verify"}))

	// A roadside check the county office corrected.
	check := newID()
	apptest.PushApplied(t, insp, apptest.Mut(insp, syncproto.EntityVehicleCheck, check, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "G108", "plate", "晋H60001", "checked_at", "2026-11-28T10:00:00+08:00")))
	pullAll(t, county, "", 500)
	apptest.PushApplied(t, county, apptest.Mut(county, syncproto.EntityVehicleCheck, check, apptest.Fields("note", "督查补充")))
	void := map[string]any{"decision": "void", "comment": "重复"}
	forbidden("voiding a check it corrected", decide(county, "/api/v1/vehicle-checks/"+check+"/void", void))
	allowed("voiding it", decide(city, "/api/v1/vehicle-checks/"+check+"/void", void))

	// A roadside check the county office added a photo to.
	pictured := newID()
	apptest.PushApplied(t, insp, apptest.Mut(insp, syncproto.EntityVehicleCheck, pictured, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "G108", "plate", "晋H60002", "checked_at", "2026-11-28T10:00:00+08:00")))
	pullAll(t, county, "", 500)
	apptest.PushApplied(t, county, apptest.Mut(county, syncproto.EntityPhoto, newID(), apptest.Fields("vehicle_check_id", pictured,
		"sha256", strings.Repeat("ef", 32), "captured_at", "2026-11-28T10:01:00+08:00")))
	forbidden("voiding a check it added a photo to", decide(county, "/api/v1/vehicle-checks/"+pictured+"/void", void))
}

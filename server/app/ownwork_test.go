package app_test

import (
	"net/http"
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

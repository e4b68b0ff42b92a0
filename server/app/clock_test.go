package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestClockSurvivesRestartAndDecisionsTakeEffect: a phone whose clock runs
// two minutes ahead (within the skew allowed) submits an inspection; the
// server restarts. Its clock must not go back behind the stored HLC, and
// an office return must take effect on every field it sets — status
// included — however far ahead the device's stamp was.
func TestClockSurvivesRestartAndDecisionsTakeEffect(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *app.Config) { c.DataDir = dir }
	srv := apptest.Start(t, withDir)
	phone := srv.Login(apptest.Inspector)
	insp := newInspection(t, phone, apptest.Xinfu)
	phone.Clock.SetOffset(2 * time.Minute)
	submit := apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted", "summary", "提交"))
	wantStatus(t, apptest.Push(t, phone, submit), "applied")
	ahead, _ := syncproto.ParseHLC(submit.HLC)
	srv.Stop()

	srv = apptest.Start(t, withDir)
	resp, err := srv.HTTPClient().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got, err := syncproto.ParseHLC(resp.Header.Get(syncproto.HeaderServerHLC))
	if err != nil {
		t.Fatalf("X-Server-HLC after restart: %v", err)
	}
	if got.Compare(ahead) <= 0 {
		t.Fatalf("after restart X-Server-HLC %s is not after the stored %s: the clock went back", got, ahead)
	}

	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review",
		map[string]string{"decision": "return", "comment": "请补充照片"}, nil); err != nil {
		t.Fatalf("return: %v", err)
	}
	phone = srv.Login(apptest.Inspector)
	chs, _ := pullAll(t, phone, "", 1000)
	ch := latest(chs)["inspection/"+insp]
	if text(ch, "status") != "returned" || text(ch, "review_comment") != "请补充照片" {
		t.Fatalf("after the return the phone sees status %q comment %q, want returned with the comment", text(ch, "status"), text(ch, "review_comment"))
	}
	// The returned inspection is editable again.
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("summary", "已补充"))), "applied")
}

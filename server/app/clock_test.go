package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/logtest"
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

// TestServerHLCAheadOfHostClock: a server whose HLC ran far ahead of its
// host's clock (a phone took a day's lead under a looser --max-skew, then
// the operator set it back to 5 minutes; or the host clock was set back)
// keeps that HLC across restarts, and says so in its log. Phones still
// sync: one that has heard from the server stamps after its HLC and is
// taken; one whose clock runs past both is refused clock_skew, corrects
// its clock from the answer's Date — not from the HLC, which would date
// its records a day ahead and stamp it past the HLC again — and is then
// taken, with its record times by the host's clock.
func TestServerHLCAheadOfHostClock(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *app.Config) { c.DataDir = dir }
	srv := apptest.Start(t, withDir, func(c *app.Config) { c.MaxSkew = 24 * time.Hour })
	rogue := srv.Login(apptest.Inspector)
	rogue.Clock.SetOffset(20 * time.Hour)
	insp := newInspection(t, rogue, apptest.Xinfu)
	wantStatus(t, apptest.Push(t, rogue, apptest.Mut(rogue, syncproto.EntityInspection, insp, apptest.Fields("summary", "提前 20 小时"))), "applied")
	srv.Stop()

	var log logtest.Buffer // the server logs from its goroutines
	srv = apptest.StartLogged(t, &log, withDir)
	if !strings.Contains(log.String(), "the server's HLC is ahead of the host clock") {
		t.Errorf("no warning of the HLC 20 h ahead in the log:\n%s", log.String())
	}

	// A phone with a right clock, which has heard from the server (its
	// sign-in), edits after the rogue value and wins over it.
	honest := srv.Login(apptest.Inspector)
	wantStatus(t, apptest.Push(t, honest, apptest.Mut(honest, syncproto.EntityInspection, insp, apptest.Fields("summary", "正确时间"))), "applied")

	// A phone a day and a half fast is refused, corrects its clock, and
	// is taken; its clock reads the host's time, not the HLC's.
	fast := srv.Login(apptest.Inspector)
	fast.Clock = syncproto.NewClock(fast.DeviceID, func() time.Time { return time.Now().Add(36 * time.Hour) })
	resp := apptest.Push(t, fast, apptest.Mut(fast, syncproto.EntityInspection, insp, apptest.Fields("summary", "快 36 小时")))
	wantStatus(t, resp, "rejected/clock_skew")
	if msg := resp.Results[0].Message; !strings.Contains(msg, "快了约 1 天") && !strings.Contains(msg, "快了约 35 小时") && !strings.Contains(msg, "快了约 36 小时") {
		t.Errorf("clock_skew message %q does not say the lead", msg)
	}
	if err := fast.CorrectClock(resp.ServerHLC); err != nil {
		t.Fatal(err)
	}
	if off := fast.Clock.Physical() - time.Now().UnixMilli(); off > 5000 || off < -5000 {
		t.Fatalf("corrected clock %d ms off the host's: it took the HLC's time", off)
	}
	wantStatus(t, apptest.Push(t, fast, apptest.Mut(fast, syncproto.EntityInspection, insp, apptest.Fields("summary", "校准后"))), "applied")
	chs, _ := pullAll(t, honest, "", 1000)
	if got := text(latest(chs)["inspection/"+insp], "summary"); got != "校准后" {
		t.Errorf("summary %q after the corrected phone's edit, want 校准后", got)
	}
}

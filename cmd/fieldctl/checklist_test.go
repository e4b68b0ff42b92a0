package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// fails runs a command that must fail with exit 1 and say want (and
// never that it recorded anything).
func (c *cli) fails(want string, args ...string) string {
	c.t.Helper()
	code, out := c.run(args...)
	if code != 1 || !strings.Contains(out, want) || strings.Contains(out, "已记录") {
		c.t.Fatalf("fieldctl %s: exit %d, want 1 saying %q\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

// has fails the test unless out contains every one of wants.
func has(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

// TestInspectChecklist: inspect show lists the checklist's items with
// their keys, types and requirements; answers are checked at entry
// (unknown keys, wrong types and values out of range refused in Chinese,
// nothing recorded), numbers and text are answered; submit refuses an
// incomplete inspection unless --force; editing then says 已提交，待审核,
// and after the office approves, 已审核通过.
func TestInspectChecklist(t *testing.T) {
	srv := apptest.Start(t)
	c := &cli{t: t, dir: t.TempDir(), srv: srv}
	out := c.ok("login", "--server", srv.URL, "--username", apptest.Inspector, "--password", apptest.Passwords[apptest.Inspector])
	has(t, "login", out, "巡查员", "140902")
	c.ok("sync")
	for _, cmd := range [][]string{{"templates"}, {"sites"}, {"login", "--server", srv.URL, "--username", apptest.Inspector, "--password", apptest.Passwords[apptest.Inspector]}} {
		if out := c.ok(cmd...); strings.ContainsAny(out, "[]{}") {
			t.Errorf("fieldctl %s prints Go values or JSON:\n%s", cmd[0], out)
		}
	}
	has(t, "templates", c.ok("templates"), "建筑施工扬尘", "适用于建筑工地")
	has(t, "login after sync", c.ok("login", "--server", srv.URL, "--username", apptest.Inspector, "--password", apptest.Passwords[apptest.Inspector]),
		"忻府区（140902）")

	c.fails("不适用于建筑工地点位", "inspect", "start", apptest.DemoSite(t, apptest.Xinfu), "--template", "coal_boiler@1")
	insp := strings.TrimSpace(c.ok("inspect", "start", apptest.DemoSite(t, apptest.Xinfu), "--template", "construction_dust"))
	has(t, "inspect show", c.ok("inspect", "show"),
		"状态：草稿", "fence", "[合格/不合格] 必填、需照片  工地围挡100%设置：（未填写）",
		"pm10_reading", "[数值，0–5000 µg/m³] 选填  PM10监测读数：（未填写）", "muck_truck_plates", "[文字] 选填",
		"检查尚未完成，缺 14 项")

	c.fails(`没有检查项 "nosuch"`, "inspect", "answer", "nosuch", "pass")
	for _, v := range []string{"很高", "NaN", "Inf", "Infinity", "1e400"} {
		c.fails("是数值项（0–5000 µg/m³），应填数字", "inspect", "answer", "pm10_reading", v)
	}
	c.fails("超出范围 0–5000 µg/m³", "inspect", "answer", "pm10_reading", "6000")
	c.fails("应答 pass（合格）、fail（不合格）或 na（不适用）", "inspect", "answer", "fence", "128")
	has(t, "answer a number", c.ok("inspect", "answer", "pm10_reading", "128"), "已记录 pm10_reading：128 µg/m³")
	has(t, "answer a text", c.ok("inspect", "answer", "muck_truck_plates", "晋H12345、晋H54321"), "已记录 muck_truck_plates：晋H12345、晋H54321")
	photo := filepath.Join(t.TempDir(), "fence.jpg")
	if err := os.WriteFile(photo, testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 5}), 0o600); err != nil {
		t.Fatal(err)
	}
	has(t, "answer a check with a photo", c.ok("inspect", "answer", "fence", "合格", "--note", "连续完好", "--photo", photo),
		"已记录 fence：合格（连续完好）", "照片")
	out = c.ok("inspect", "show", insp)
	has(t, "inspect show after answers", out, "工地围挡100%设置：合格（连续完好），照片 1 张", "PM10监测读数：128 µg/m³", "缺 13 项")
	if strings.Contains(out, "fence 工地围挡") {
		t.Errorf("the answered fence with its photo is still listed missing:\n%s", out)
	}

	// Submitting an incomplete inspection needs --force.
	out = c.fails("检查尚未完成，缺 13 项", "inspect", "submit")
	has(t, "refused submit", out, "material_cover           物料堆放100%苫盖：未填写、缺照片", "--force")
	has(t, "status after the refused submit", c.ok("status"), "待上传记录：5") // start, 3 answers, photo record
	has(t, "forced submit", c.ok("inspect", "submit", "--force"), "已提交")
	c.fails("检查记录已提交，待审核", "inspect", "answer", "fence", "fail")
	c.ok("sync")
	rec, err := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	if err != nil || rec.Text("status") != "submitted" || !strings.Contains(string(rec.Value("missing_items")), `"material_cover"`) {
		t.Fatalf("server: %v status %s missing_items %s", err, rec.Text("status"), rec.Value("missing_items"))
	}
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	c.ok("sync")
	out = c.fails("检查记录已审核通过，不能再修改", "inspect", "answer", "fence", "fail")
	if strings.Contains(out, "待审核") {
		t.Errorf("editing an approved inspection says 待审核:\n%s", out)
	}
	has(t, "inspect show of the approved inspection", c.ok("inspect", "show"), "状态：已审核通过")
}

// TestVehicleEnumsAtEntry: vehicle add refuses, offline and before
// recording anything, a value the server's entity catalog does not allow,
// and names the allowed ones; the catalog's own values are accepted. The
// same truck at the same checkpoint the same day needs --again (fieldctl
// probe: it was saved twice without a word).
func TestVehicleEnumsAtEntry(t *testing.T) {
	c := &cli{t: t, dir: t.TempDir()}
	allowed := func(field string) []string {
		f, _ := server.EntityByName(syncproto.EntityVehicleCheck).Field(field)
		return f.Enum
	}
	ok := []string{"vehicle", "add", "--plate", "晋H12345", "--checkpoint", "豆罗", "--county", "140902",
		"--stage", allowed("emission_stage")[0], "--fuel", allowed("fuel")[0], "--aftertreatment", allowed("aftertreatment")[0],
		"--action", allowed("action")[0]}
	for i, flag := range []string{"--stage", "--fuel", "--aftertreatment", "--action"} {
		args := append([]string(nil), ok...)
		at := 9 + 2*i
		if args[at-1] != flag {
			t.Fatalf("argument %d is %s, want %s", at-1, args[at-1], flag)
		}
		args[at] = "没有这种"
		field := map[string]string{"--stage": "emission_stage", "--fuel": "fuel", "--aftertreatment": "aftertreatment", "--action": "action"}[flag]
		f, _ := server.EntityByName(syncproto.EntityVehicleCheck).Field(field)
		var choices []string
		for _, code := range allowed(field) {
			choices = append(choices, f.Label(code)+"（"+code+"）")
		}
		c.fails(`不能是 "没有这种"，可选：`+strings.Join(choices, "、"), args...)
	}
	has(t, "status after refusals", c.ok("status"), "待上传记录：0")
	c.ok(ok...)
	has(t, "status after a good check", c.ok("status"), "待上传记录：1")

	// The same truck again at the same checkpoint today, typed otherwise:
	// refused unless asked for with --again (each save counts a vehicle);
	// another checkpoint is another check.
	again := []string{"vehicle", "add", "--plate", "晋h 12345", "--checkpoint", " 豆罗 ", "--county", "140902"}
	c.fails("晋H12345 今天已在豆罗检查过", again...)
	has(t, "status after the repeat refused", c.ok("status"), "待上传记录：1")
	c.ok(append(again, "--again")...)
	c.ok("vehicle", "add", "--plate", "晋H12345", "--checkpoint", "秦城", "--county", "140902")
	has(t, "status after the repeat asked for", c.ok("status"), "待上传记录：3")
}

// TestFlagNames: status names a photo's evidence flags in Chinese, an
// unknown flag by its name, never as JSON.
func TestFlagNames(t *testing.T) {
	got := flagNames([]byte(`{"far_from_site":{"distance_m":1200},"no_gps":{},"new_flag":{}}`))
	if got != "new_flag、无 GPS 位置、远离点位" {
		t.Errorf("flagNames = %q", got)
	}
}

// TestRectifyFinding: the inspector lists the findings, and reports one's
// rectification with a note and a photo once the inspection is approved
// (refused while it waits for review); the server holds the report and
// the photo on the finding; the office sends it back and the list says
// why; a verified finding takes no report (fieldctl probe: fieldctl could
// not report a rectification at all).
func TestRectifyFinding(t *testing.T) {
	srv := apptest.Start(t)
	c := &cli{t: t, dir: t.TempDir(), srv: srv}
	c.login()
	c.ok("sync")
	insp := strings.TrimSpace(c.ok("inspect", "start", apptest.DemoSiteOf(t, "140902", "factory"), "--template", "coal_yard"))
	out := c.ok("inspect", "answer", "closed_shed", "fail", "--note", "东侧敞开")
	id := strings.TrimSpace(out[strings.Index(out, "已建立问题 ")+len("已建立问题 "):])
	has(t, "finding list", c.ok("finding", "list"), id, "待整改", "东侧敞开", "共 1 个问题")
	c.ok("inspect", "submit", "--force")
	c.fails("已提交，待审核", "finding", "rectify", id, "--note", "已封闭")
	c.ok("sync")
	office := srv.Login(apptest.CountyOffice)
	// Returned first: inspect show says why.
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "return", "comment": "请补充说明"}, nil); err != nil {
		t.Fatal(err)
	}
	c.ok("sync")
	has(t, "inspect show of the returned inspection", c.ok("inspect", "show"), "状态：已退回", "审核意见：请补充说明")
	c.ok("inspect", "submit", "--force")
	c.ok("sync")
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	c.ok("sync")
	photo := filepath.Join(t.TempDir(), "fixed.jpg")
	if err := os.WriteFile(photo, testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 8}), 0o600); err != nil {
		t.Fatal(err)
	}
	has(t, "rectify", c.ok("finding", "rectify", id, "--note", "已全部封闭", "--photo", photo), "已整改", "照片")
	c.ok("sync")
	f, err := srv.App.DB.Get(t.Context(), syncproto.EntityFinding, id)
	if err != nil || f.Text("status") != "rectified" || f.Text("rectification_note") != "已全部封闭" {
		t.Fatalf("the finding on the server: %v %s %q", err, f.Text("status"), f.Text("rectification_note"))
	}
	photos, err := srv.App.DB.Find(t.Context(), syncproto.EntityPhoto, "finding_id", id)
	if err != nil || len(photos) != 1 || string(photos[0].Value("uploaded")) != "true" {
		t.Fatalf("the rectification's photo on the server: %d %v", len(photos), err)
	}
	// Sent back by the office: the list says why; verified, no report.
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/findings/"+id+"/verify", map[string]any{"decision": "reopen", "comment": "北侧仍未封闭", "seq": f.Seq}, nil); err != nil {
		t.Fatal(err)
	}
	c.ok("sync")
	has(t, "finding list after it was sent back", c.ok("finding", "list"), "整改被退回：北侧仍未封闭")
	c.ok("finding", "rectify", id, "--note", "北侧也已封闭")
	c.ok("sync")
	f, _ = srv.App.DB.Get(t.Context(), syncproto.EntityFinding, id)
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/findings/"+id+"/verify", map[string]any{"decision": "verify", "seq": f.Seq}, nil); err != nil {
		t.Fatal(err)
	}
	c.ok("sync")
	has(t, "finding list after verification", c.ok("finding", "list"), "已核实")
	c.fails("已由督查室核实", "finding", "rectify", id, "--note", "再改")
}

package console_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserReturn drives a real headless Chromium through the console:
// login → review queue → inspection detail → return with a comment, and
// checks that the inspector's phone pulls the return. It saves screenshots
// of the main pages to screenshots/ at the repository root.
func TestBrowserReturn(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI (.ci/run installs it): %v", err)
		}
		t.Skipf("no chromium at %s (apt-get install chromium); skipping the browser test", chromiumPath)
	}
	shots := screenshotDir(t)

	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	// A roadside check outside any special action, as an older app sends
	// it: Chinese labels for the values.
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields(
		"county", apptest.Xinfu, "checkpoint", "忻州北收费站", "plate", "晋H7E123", "emission_stage", "国六", "fuel", "天然气",
		"aftertreatment", "removed", "action", "处罚", "checked_at", "2026-11-28T10:00:00+08:00")))
	_, cursor := pullAll(t, phone, "")

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // small /dev/shm in containers
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	defer cancelTimeout()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// navigate runs actions that load a new page, waits for it and checks
	// that it answered 200.
	navigate := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(bctx, actions...)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if resp.Status != 200 {
			t.Fatalf("%s: %s answered %d", step, resp.URL, resp.Status)
		}
	}
	text := func() string {
		t.Helper()
		body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatalf("page text: %v", err)
		}
		return body
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100 captures PNG
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Login page.
	navigate("login page", chromedp.Navigate(srv.URL+"/console/login"))
	do("login form", chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	shot("console-login.png")
	do("fill login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), apptest.CountyOffice),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[apptest.CountyOffice]))
	navigate("log in", chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))

	// Review queue: the phone's inspection is listed.
	row := `tr[data-id="` + insp + `"]`
	do("review queue", chromedp.WaitVisible(chromedp.CSS(row)))
	if body := text(); !strings.Contains(body, "审核队列") {
		t.Errorf("queue page lacks 审核队列:\n%s", body)
	}
	shot("console-queue.png")

	// Detail page.
	navigate("open detail", chromedp.Click(chromedp.CSS(row+` a`)))
	do("detail page", chromedp.WaitVisible(chromedp.CSS(`textarea[name="comment"]`)))
	body := text()
	for _, want := range []string{"建筑施工扬尘", "待审核", "不合格（东侧料堆裸露）"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q:\n%s", want, body)
		}
	}
	shot("console-detail.png")

	// Return with a comment.
	comment := "东侧料堆未苫盖，请三日内整改并补拍照片"
	do("fill comment", chromedp.SendKeys(chromedp.CSS(`textarea[name="comment"]`), comment))
	navigate("return", chromedp.Click(chromedp.CSS(`form:has(textarea[name="comment"]) button[type="submit"]`)))
	body = text()
	if !strings.Contains(body, "已退回") || !strings.Contains(body, comment) {
		t.Errorf("page after the return lacks 已退回 or the comment:\n%s", body)
	}
	shot("console-returned.png")

	// The other main pages load and are captured for a person to look at.
	for _, page := range []struct{ path, want, file string }{
		{"/console/ledger", "整改台账", "console-ledger.png"},
		{"/console/vehicles", "豆罗", "console-vehicles.png"},
		{"/console/report", "信息报送", "console-report.png"},
		{"/console/devices", "同步", "console-devices.png"},
		{"/console/users", "用户", "console-users.png"},
	} {
		navigate(page.path, chromedp.Navigate(srv.URL+page.path))
		if body := text(); !strings.Contains(body, page.want) {
			t.Errorf("%s lacks %q", page.path, page.want)
		}
		shot(page.file)
	}

	// The roadside check outside any action is counted under its own row
	// and shown with the labels, though stored as codes.
	navigate("vehicles outside any action", chromedp.Navigate(srv.URL+"/console/vehicles?nocampaign=1#records"))
	body = text()
	for _, want := range []string{"未列入专项行动", "晋H7E123", "国六", "天然气", "已拆除", "处罚", "共 1 条"} {
		if !strings.Contains(body, want) {
			t.Errorf("vehicles page lacks %q", want)
		}
	}
	shot("console-vehicles-unlisted.png")

	// The county office reports its own progress on task 4.4 in the
	// ledger's form.
	own := `#p-task-08-140902`
	navigate("ledger", chromedp.Navigate(srv.URL+"/console/ledger#p-task-08-140902"))
	do("fill progress",
		chromedp.SetValue(chromedp.CSS(own+` select[name="status"]`), "in_progress"),
		chromedp.SendKeys(chromedp.CSS(own+` input[name="progress_pct"]`), "40"),
		chromedp.SendKeys(chromedp.CSS(own+` textarea[name="note"]`), "忻府区在建工地已全部安装围挡"),
		chromedp.SendKeys(chromedp.CSS(own+` textarea[name="evidence"]`), "忻府环发〔2026〕8号"))
	navigate("save progress", chromedp.Click(chromedp.CSS(own+` button[type="submit"]`)))
	// TextContent: a textarea's text is the saved value the page shows.
	row, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(own)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"忻府区", "推进中 40%", "忻府区在建工地已全部安装围挡", "忻府环发〔2026〕8号", "填报：赵督查"} {
		if !strings.Contains(row, want) {
			t.Errorf("the county's row after saving lacks %q:\n%s", want, row)
		}
	}
	if ledger, err := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("#ledger"))); err != nil || strings.Contains(ledger, `data-county="140921"`) {
		t.Errorf("the county office's ledger shows 定襄县's rows (%v)", err)
	}
	shot("console-ledger-county.png")

	// The city office sees every county's row of 4.4 and the roll-up.
	navigate("log out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button[type="submit"]`)))
	do("city login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), apptest.CityOffice),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[apptest.CityOffice]))
	navigate("city logs in", chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))
	navigate("city ledger", chromedp.Navigate(srv.URL+"/console/ledger#task-task-08"))
	for sel, want := range map[string][]string{
		`#task-task-08 td.rollup`: {"未开始 15 · 推进中 1 · 已完成 0 · 已验收 0", "16 个单位", "最慢：定襄县等 15 个单位 0%"},
		own:                       {"推进中 40%", "忻府区在建工地已全部安装围挡"},
		`#p-task-08-140921`:       {"定襄县", "未开始", "尚未填报"},
	} {
		got, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("city ledger %s lacks %q:\n%s", sel, w, got)
			}
		}
	}
	shot("console-ledger-city.png")

	// 定襄县's monthly report row for 4.4 shows nothing done.
	navigate("定襄县 report", chromedp.Navigate(srv.URL+"/console/report?month=2026-11&county=140921"))
	if body := text(); !strings.Contains(body, "定襄县") || strings.Contains(body, "忻府区在建工地") {
		t.Errorf("定襄县's report shows 忻府区's progress:\n%s", body)
	}
	shot("console-report-dingxiang.png")

	// The inspector's next pull carries the return and the comment.
	changes, _ := pullAll(t, phone, cursor)
	var got *syncproto.Change
	for i := range changes {
		if changes[i].Entity == syncproto.EntityInspection && changes[i].ID == insp {
			got = &changes[i]
		}
	}
	if got == nil {
		t.Fatalf("the phone's pull after the return has no change for %s", insp)
	}
	var status, gotComment string
	_ = json.Unmarshal(got.Fields["status"], &status)
	_ = json.Unmarshal(got.Fields["review_comment"], &gotComment)
	if status != "returned" || gotComment != comment {
		t.Errorf("phone pulled status %q comment %q, want returned %q", status, gotComment, comment)
	}
}

// screenshotDir returns screenshots/ at the module root, creating it.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	shots := filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

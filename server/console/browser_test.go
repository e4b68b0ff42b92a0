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
	bctx, cancelTimeout := context.WithTimeout(bctx, 20*time.Second)
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

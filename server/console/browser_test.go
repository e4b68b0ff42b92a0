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
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserReturn drives a real headless Chromium through the console:
// login → review queue → inspection detail → return with a comment, and
// checks that the inspector's phone pulls the return. It saves screenshots
// of its pages to screenshots/ at the repository root (TestBrowserDemo
// captures the other pages, with the demo's month in them).
func TestBrowserReturn(t *testing.T) {
	needChromium(t)
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	_, cursor := pullAll(t, phone, "")
	b := newChrome(t)

	// Login page.
	b.navigate("login page", chromedp.Navigate(srv.URL+"/console/login"))
	b.do("login form", chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	b.shot("console-login.png")
	b.login(apptest.CountyOffice)

	// Review queue: the phone's inspection is listed.
	row := `tr[data-id="` + insp + `"]`
	b.do("review queue", chromedp.WaitVisible(chromedp.CSS(row)))
	if body := b.text(); !strings.Contains(body, "审核队列") {
		t.Errorf("queue page lacks 审核队列:\n%s", body)
	}
	b.shot("console-queue.png")

	// Detail page.
	b.navigate("open detail", chromedp.Click(chromedp.CSS(row+` a`)))
	b.do("detail page", chromedp.WaitVisible(chromedp.CSS(`textarea[name="comment"]`)))
	body := b.text()
	for _, want := range []string{"建筑施工扬尘", "待审核", "不合格（东侧料堆裸露）"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q:\n%s", want, body)
		}
	}
	b.shot("console-detail.png")

	// Return with a comment.
	comment := "东侧料堆未苫盖，请三日内整改并补拍照片"
	b.do("fill comment", chromedp.SendKeys(chromedp.CSS(`textarea[name="comment"]`), comment))
	b.navigate("return", chromedp.Click(chromedp.CSS(`form:has(textarea[name="comment"]) button[type="submit"]`)))
	body = b.text()
	if !strings.Contains(body, "已退回") || !strings.Contains(body, comment) {
		t.Errorf("page after the return lacks 已退回 or the comment:\n%s", body)
	}
	b.shot("console-returned.png")

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

// TestBrowserDemo looks at the console as a first visitor of --demo does,
// logged in as the city office, and saves screenshots of the main pages
// with the demo's month in them: the review queue, an inspection whose
// photo a planted fraud flagged (with the photo), the ledger, the monthly
// report, the roadside figures, the devices and the users.
func TestBrowserDemo(t *testing.T) {
	needChromium(t)
	srv := startDemoMonth(t)
	insp, flag := waitFlagged(t, srv)
	b := newChrome(t)
	b.navigate("login page", chromedp.Navigate(srv.URL+"/console/login"))
	b.login(apptest.CityOffice)
	b.do("review queue", chromedp.WaitVisible(chromedp.CSS(`tr[data-id]`)))
	b.shot("demo-queue.png")

	b.navigate("flag filter", chromedp.Navigate(srv.URL+"/console/queue?status=&flag="+flag))
	b.do("flagged inspection listed", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+insp+`"]`)))
	b.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	b.do("photo shown", chromedp.WaitVisible(chromedp.CSS(`.photos img`)),
		chromedp.Poll[chromedp.Void](`Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)`))
	if body := b.text(); !strings.Contains(body, "照片") {
		t.Errorf("detail of %s lacks its photo:\n%s", insp, body)
	}
	b.shot("demo-detail.png")

	for _, page := range []struct{ path, want, file string }{
		{"/console/ledger", "整改台账", "demo-ledger.png"},
		{"/console/report", "信息报送", "demo-report.png"},
		{"/console/vehicles", "代县G108国道过境段检查点", "demo-vehicles.png"},
		{"/console/devices", "华为 Mate 40 Pro（张巡查）", "demo-devices.png"},
		{"/console/users", "孙代县", "demo-users.png"},
	} {
		b.navigate(page.path, chromedp.Navigate(srv.URL+page.path))
		if body := b.text(); !strings.Contains(body, page.want) {
			t.Errorf("%s lacks %q", page.path, page.want)
		}
		b.shot(page.file)
	}
}

// waitFlagged waits until the processing pool has flagged a demo photo
// (the photos arrive after the server starts) and returns its inspection
// and the flag. The demo has one photo at most per visit, so that
// inspection's photo is processed.
func waitFlagged(t *testing.T, srv *apptest.Server) (string, string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute) // the race detector slows image decoding a lot
	for time.Now().Before(deadline) {
		for _, flag := range []string{"far_from_site", "edited", "time_mismatch", "duplicate", "mock_location"} {
			recs, _, err := srv.App.DB.Inspections(ctx, server.InspectionQuery{Scope: server.Scope{All: true}, Flag: flag, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) > 0 {
				return recs[0].ID, flag
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("no demo photo was flagged within 5 minutes")
	return "", ""
}

// needChromium skips the test without Debian's chromium, except in CI.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI (.ci/run installs it): %v", err)
		}
		t.Skipf("no chromium at %s (apt-get install chromium); skipping the browser test", chromiumPath)
	}
}

// chrome is a headless Chromium tab for one test.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
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
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	bctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return &chrome{t: t, ctx: bctx, shots: screenshotDir(t)}
}

func (b *chrome) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// navigate runs actions that load a new page, waits for it and checks that
// it answered 200.
func (b *chrome) navigate(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("%s: %s answered %d", step, resp.URL, resp.Status)
	}
}

func (b *chrome) text() string {
	b.t.Helper()
	body, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatalf("page text: %v", err)
	}
	return body
}

func (b *chrome) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // quality 100 captures PNG
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// login signs in through the form on the login page the tab shows.
func (b *chrome) login(username string) {
	b.t.Helper()
	b.do("fill login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[username]))
	b.navigate("log in", chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))
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

package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// chromium is a headless Chromium tab for a test, with the steps the
// browser tests take.
type chromium struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// startChromium starts Debian's chromium headless (skipping the test
// when it is missing, except under CI) with the options TestBrowserReturn
// uses, for 20 seconds at most.
func startChromium(t *testing.T) *chromium {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI (.ci/run installs it): %v", err)
		}
		t.Skipf("no chromium at %s (apt-get install chromium); skipping the browser test", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	bctx, cancelTimeout := context.WithTimeout(bctx, 20*time.Second)
	t.Cleanup(cancelTimeout)
	return &chromium{t: t, ctx: bctx, shots: screenshotDir(t)}
}

func (c *chromium) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
}

// navigate runs actions that load a new page, waits for it and checks
// that it answered 200.
func (c *chromium) navigate(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	resp, err := chromedp.RunResponse(c.ctx, actions...)
	if err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	if resp.Status != 200 {
		c.t.Fatalf("%s: %s answered %d", step, resp.URL, resp.Status)
	}
}

// text returns the visible text of the element sel matches.
func (c *chromium) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// count returns how many elements sel matches.
func (c *chromium) count(sel string) int {
	c.t.Helper()
	n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
	if err != nil {
		c.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func (c *chromium) shot(name string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100)) // quality 100 captures PNG
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(c.shots, name), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// login signs in through the console's form.
func (c *chromium) login(srv *apptest.Server, user string) {
	c.t.Helper()
	c.navigate("login page", chromedp.Navigate(srv.URL+"/console/login"))
	c.do("fill login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[user]))
	c.navigate("log in", chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))
}

// TestBrowserMissingItems: in a real Chromium, the review queue shows 缺项 N
// on the incomplete inspection and 完整 on the complete one, the filter
// 只看缺项 keeps only the first, and its detail page lists the missing
// items by name and marks the unknown answer. Screenshots go to
// screenshots/console-queue-missing.png and console-detail-missing.png.
func TestBrowserMissingItems(t *testing.T) {
	c := startChromium(t)
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	done := pushInspection(t, phone, "coal_boiler", completeBoiler...)
	dust := pushInspection(t, phone, "construction_dust", incompleteDust...)
	c.login(srv, apptest.CountyOffice)

	dustRow, doneRow := `tr[data-id="`+dust+`"]`, `tr[data-id="`+done+`"]`
	c.do("review queue", chromedp.WaitVisible(chromedp.CSS(dustRow)), chromedp.WaitVisible(chromedp.CSS(doneRow)))
	if got := c.text(dustRow + ` td.missing`); got != "缺项 15" {
		t.Errorf("incomplete row shows %q, want 缺项 15", got)
	}
	if got := c.text(doneRow + ` td.complete`); got != "完整" {
		t.Errorf("complete row shows %q, want 完整", got)
	}
	if got := c.text(`table.list thead`); !strings.Contains(got, "缺项") {
		t.Errorf("queue header %q lacks 缺项", got)
	}

	c.do("choose 只看缺项", chromedp.SetValue(chromedp.CSS(`select[name="complete"]`), "incomplete"))
	c.navigate("filter", chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	c.do("filtered queue", chromedp.WaitVisible(chromedp.CSS(dustRow)))
	if n := c.count(doneRow); n != 0 {
		t.Errorf("只看缺项 still lists the complete inspection")
	}
	c.shot("console-queue-missing.png")

	c.navigate("open detail", chromedp.Click(chromedp.CSS(dustRow+` td.missing a`)))
	c.do("detail page", chromedp.WaitVisible(chromedp.CSS(`ul.missing-items`)))
	if got := c.text(`#missing`); got != "缺项 15" {
		t.Errorf("detail heading %q, want 缺项 15", got)
	}
	missing := c.text(`ul.missing-items`)
	for _, want := range []string{"工地围挡100%设置：缺照片", "物料堆放100%苫盖：未填写；缺照片", "答案无效"} {
		if !strings.Contains(missing, want) {
			t.Errorf("missing list lacks %q:\n%s", want, missing)
		}
	}
	if got := c.text(`table.answers tr.unknown`); !strings.Contains(got, "未知检查项") || !strings.Contains(got, "nosuch") {
		t.Errorf("unknown answer row: %q", got)
	}
	c.shot("console-detail-missing.png")
}

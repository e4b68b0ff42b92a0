package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserMissingItems: in a real Chromium, the review queue shows 缺项 N
// on the incomplete inspection and 完整 on the complete one, the filter
// 只看缺项 keeps only the first, and its detail page lists the missing
// items by name and marks the unknown answer. Screenshots go to
// screenshots/console-queue-missing.png and console-detail-missing.png.
func TestBrowserMissingItems(t *testing.T) {
	c := newChrome(t)
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	done := pushInspection(t, phone, "coal_boiler", completeBoiler...)
	dust := pushInspection(t, phone, "construction_dust", incompleteDust...)
	c.login(srv.URL, apptest.CountyOffice)

	dustRow, doneRow := `tr[data-id="`+dust+`"]`, `tr[data-id="`+done+`"]`
	c.do("review queue", chromedp.WaitVisible(chromedp.CSS(dustRow)), chromedp.WaitVisible(chromedp.CSS(doneRow)))
	if got := c.textOf(dustRow + ` td.missing`); got != "缺项 15" {
		t.Errorf("incomplete row shows %q, want 缺项 15", got)
	}
	if got := c.textOf(doneRow + ` td.complete`); got != "完整" {
		t.Errorf("complete row shows %q, want 完整", got)
	}
	if got := c.textOf(`table.list thead`); !strings.Contains(got, "缺项") {
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
	if got := c.textOf(`#missing`); got != "缺项 15" {
		t.Errorf("detail heading %q, want 缺项 15", got)
	}
	missing := c.textOf(`ul.missing-items`)
	for _, want := range []string{"工地围挡100%设置：缺照片", "物料堆放100%苫盖：未填写；缺照片", "答案无效"} {
		if !strings.Contains(missing, want) {
			t.Errorf("missing list lacks %q:\n%s", want, missing)
		}
	}
	if got := c.textOf(`table.answers tr.unknown`); !strings.Contains(got, "未知检查项") || !strings.Contains(got, "nosuch") {
		t.Errorf("unknown answer row: %q", got)
	}
	c.shot("console-detail-missing.png")
}

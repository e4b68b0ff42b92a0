package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestVisitTimesWarned: an inspection's page warns, as a roadside check's
// does, of a visit that reached the server days after it began — and of
// the month it counts in, when that is not the month it arrived — and of
// one that ends before it starts; a visit of today that ends after it
// starts carries no such warning (the referential probe: a visit of
// 2000-01-02 ending the day before, sent in 2026, showed none).
func TestVisitTimesWarned(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	visit := func(started, finished string) string {
		t.Helper()
		id := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, id, apptest.Fields(
			"site_id", apptest.DemoSiteFor(t, apptest.Xinfu, "construction_dust"), "template_id", "construction_dust", "template_version", 1,
			"status", "submitted", "started_at", started, "finished_at", finished)))
		return id
	}
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	old := visit("2000-01-02T09:00:00+08:00", "2000-01-01T08:00:00+08:00")
	today := visit(now.Add(-2*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339))
	backwards := visit(now.Add(-time.Hour).Format(time.RFC3339), now.Add(-4*time.Hour).Format(time.RFC3339))
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/inspections/" + old)
	for _, want := range []string{`id="arrived-late">⚠ 检查后 `, "天才送达服务器", "此记录计入 2000 年 1 月的统计",
		`id="ends-first">⚠ 结束时间早于开始时间 25 小时`} {
		if !strings.Contains(page, want) {
			t.Errorf("the visit of 2000 sent now: the page lacks %q", want)
		}
	}
	_, page = b.get("/console/inspections/" + backwards)
	if !strings.Contains(page, `id="ends-first">⚠ 结束时间早于开始时间 3 小时`) || strings.Contains(page, `id="arrived-late"`) {
		t.Error("a visit of today ending 3 hours before it starts: not warned of that, or warned of arriving late")
	}
	if _, page = b.get("/console/inspections/" + today); strings.Contains(page, `id="ends-first"`) || strings.Contains(page, `id="arrived-late"`) {
		t.Error("a visit of today, in order, is warned about")
	}
}

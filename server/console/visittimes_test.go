package console_test

import (
	"regexp"
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
	site := apptest.DemoSiteFor(t, apptest.Xinfu, "construction_dust")
	visit := func(started, finished string) string {
		t.Helper()
		return pushAt(t, phone, site, "construction_dust", 1, "status", "submitted", "started_at", started, "finished_at", finished)
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
	// No start, an end two months back: not a range from the receipt
	// running backwards (the probe of this session's changes).
	endOnly := pushAt(t, phone, site, "construction_dust", 1, "status", "submitted", "finished_at", "2026-10-01T10:00:00+08:00")
	if _, page = b.get("/console/inspections/" + endOnly); !strings.Contains(page, "结束于 2026-10-01 10:00（未填开始时间，按收到时间 ") ||
		strings.Contains(page, " 至 2026-10-01 10:00") {
		t.Error("a visit with an end and no start is shown as a range from its receipt")
	}
}

// TestFindingsThatDoNotFit: the inspection's page warns of a finding
// raised for an item its checklist lacks (shown by its key, not as
// nothing), of one raised for an item answered 合格, and of one due
// before the visit (the referential probe: all three listed as any
// other); a finding of a failed item, due after the visit, carries none.
func TestFindingsThatDoNotFit(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := pushAt(t, phone, apptest.DemoSiteFor(t, apptest.Xinfu, "construction_dust"), "construction_dust", 1,
		"status", "draft", "started_at", "2026-11-20T09:00:00+08:00",
		"answers.fence", map[string]any{"result": "pass"}, "answers.material_cover", map[string]any{"result": "fail"})
	finding := func(item, deadline string) string {
		id := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityFinding, id, apptest.Fields("inspection_id", insp,
			"item_key", item, "description", "问题", "deadline", deadline, "severity", "minor", "status", "open")))
		return id
	}
	unknown, passed, early, fine := finding("no_such_item", "2026-12-20"), finding("fence", "2026-12-20"),
		finding("material_cover", "2020-01-01"), finding("material_cover", "2026-11-27")
	unanswered := finding("road_paving", "2026-12-20")
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/inspections/" + insp)
	row := func(id string) string {
		return regexp.MustCompile(`(?s)<tr id="finding-` + id + `">.*?</tr>`).FindString(page)
	}
	for id, want := range map[string]string{unknown: "⚠ 检查表中没有此检查项", passed: "⚠ 此检查项的答案（合格）不是不合格",
		early: "⚠ 整改时限早于检查日期（2026-11-20）", unanswered: "⚠ 此检查项未作答"} {
		if !strings.Contains(row(id), want) {
			t.Errorf("finding row %q lacks %q", row(id), want)
		}
	}
	if !strings.Contains(row(unknown), `<td data-label="检查项">no_such_item</td>`) {
		t.Errorf("the unknown item is not named by its key: %q", row(unknown))
	}
	if r := row(fine); r == "" || strings.Contains(r, "⚠") {
		t.Errorf("a finding that fits is warned about: %q", r)
	}
}

package console_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// pushInspection has the phone push one submitted inspection of template
// at a demo site of 忻府区 with the given answers (field name → value) and
// returns its id.
func pushInspection(t *testing.T, c *syncproto.Client, template string, answers ...any) string {
	t.Helper()
	id := uuid.Must(uuid.NewRandom()).String()
	f := apptest.Fields(append([]any{"site_id", apptest.DemoSiteFor(t, apptest.Xinfu, template), "template_id", template, "template_version", 1,
		"status", "submitted", "started_at", "2026-11-28T09:00:00+08:00"}, answers...)...)
	apptest.PushApplied(t, c, syncproto.Mutation{Entity: syncproto.EntityInspection, ID: id, HLC: c.Clock.Now().String(), Fields: f})
	return id
}

// completeBoiler is a coal_boiler inspection with every required item
// answered (na spares the photos).
var completeBoiler = []any{"answers.tonnage", map[string]any{"value": 20}, "answers.boiler_status", map[string]any{"result": "na"},
	"answers.boiler_retired", map[string]any{"result": "na"}, "answers.no_coal_stock", map[string]any{"result": "na", "note": "已拆除"},
	"answers.no_new_boiler", map[string]any{"result": "pass"}}

// incompleteDust is a construction_dust inspection with one required
// item answered (without its photo), an answer of the wrong type and an
// answer to an item the checklist lacks.
var incompleteDust = []any{"answers.fence", map[string]any{"result": "pass"}, "answers.pm10_reading", map[string]any{"value": "很高"},
	"answers.nosuch", map[string]any{"result": "pass"}}

// rowOf returns the queue row of an inspection ("" if it is not listed).
func rowOf(page, id string) string {
	return regexp.MustCompile(`<tr data-id="` + id + `">.*?</tr>`).FindString(page)
}

// TestQueueShowsAndFiltersMissingItems: the review queue shows 缺项 N (the
// items missing_items names) or 完整 on each row and filters on it; the
// detail page names the missing items and why, and marks the answer to an
// unknown item (未知检查项) and the invalid answer.
func TestQueueShowsAndFiltersMissingItems(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	done := pushInspection(t, phone, "coal_boiler", completeBoiler...)
	dust := pushInspection(t, phone, "construction_dust", incompleteDust...)
	b := loggedIn(t, srv, apptest.CountyOffice)

	_, page := b.get("/console/queue?status=submitted")
	// construction_dust has 14 required items: 13 unanswered, the fence
	// lacks its photo, and pm10_reading's answer is invalid.
	if row := rowOf(page, dust); !strings.Contains(row, "缺项 15") {
		t.Errorf("incomplete row lacks 缺项 15: %s", row)
	}
	if row := rowOf(page, done); !strings.Contains(row, "完整") || strings.Contains(row, ">缺项 ") {
		t.Errorf("complete row: %s", row)
	}
	for _, tc := range []struct {
		filter     string
		want, gone string
	}{
		{"incomplete", dust, done},
		{"complete", done, dust},
	} {
		_, page := b.get("/console/queue?status=submitted&complete=" + tc.filter)
		if rowOf(page, tc.want) == "" || rowOf(page, tc.gone) != "" {
			t.Errorf("complete=%s: want %s listed and %s not", tc.filter, tc.want, tc.gone)
		}
		if !strings.Contains(page, `<option value="`+tc.filter+`" selected>`) {
			t.Errorf("complete=%s: the filter is not shown selected", tc.filter)
		}
	}
	if st, page := b.get("/console/queue?complete=bogus"); st != http.StatusBadRequest || !strings.Contains(page, "只看缺项") {
		t.Errorf("complete=bogus: %d", st)
	}

	_, page = b.get("/console/inspections/" + dust)
	for _, want := range []string{
		"缺项 15",
		"<b>工地围挡100%设置</b>：缺照片",
		"<b>物料堆放100%苫盖</b>：未填写；缺照片",
		"PM10", "答案无效：应为数字", "<code>很高</code>", "答案不符合检查表：此项应为数字",
		"⚠ 未知检查项</span> <code>nosuch</code>", "<code>合格</code>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("detail of the incomplete inspection lacks %q", want)
		}
	}
	// The phone's developer's message, naming the item's key, is not an
	// office's to read.
	if strings.Contains(page, "检查项 pm10_reading") || strings.Contains(page, `{&#34;value&#34;`) {
		i := strings.Index(page, "pm10_reading")
		t.Errorf("the detail page shows the invalid answer's key or JSON: %s", page[max(i-300, 0):min(i+200, len(page))])
	}
	_, page = b.get("/console/inspections/" + done)
	if !strings.Contains(page, `<dt>完整性</dt><dd><span class="ok">完整</span>`) || strings.Contains(page, "缺项") {
		t.Errorf("detail of the complete inspection does not say 完整")
	}
}

// pushVersion has the phone push an inspection of version version of
// template, with status, at a demo site of county, on 2026-11-28, with
// the given answers (field name → value), and returns its id.
func pushVersion(t *testing.T, c *syncproto.Client, county, template string, version int, status string, answers ...any) string {
	t.Helper()
	return pushAt(t, c, apptest.DemoSiteFor(t, county, template), template, version,
		append([]any{"status", status, "started_at", "2026-11-28T09:00:00+08:00"}, answers...)...)
}

// pushAt has the phone push an inspection of template@version at site
// with the given fields (name, value, …) and returns its id.
func pushAt(t *testing.T, c *syncproto.Client, site, template string, version int, fields ...any) string {
	t.Helper()
	id := uuid.NewString()
	apptest.PushApplied(t, c, apptest.Mut(c, syncproto.EntityInspection, id, apptest.Fields(
		append([]any{"site_id", site, "template_id", template, "template_version", version}, fields...)...)))
	return id
}

// TestFailingOptionMarked: an inspection on coal_boiler@2 answered 锅炉现状
// 仍在燃煤 — an option that describes a violation — counts that item as
// 不合格 in the review queue and marks its row on the detail page, while
// the same answer on version 1, whose options do not fail, does not.
func TestFailingOptionMarked(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	push := func(version int) string {
		return pushVersion(t, phone, apptest.Xinfu, "coal_boiler", version, "submitted",
			append(slices.Clone(completeBoiler), "answers.boiler_status", map[string]any{"value": "burning"})...)
	}
	v1, v2 := push(1), push(2)
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/queue?status=submitted")
	failed := regexp.MustCompile(`class="num n-failed[^"]*">([0-9]+)<`)
	for id, want := range map[string]string{v1: "0", v2: "1"} {
		if m := failed.FindStringSubmatch(rowOf(page, id)); m == nil || m[1] != want {
			t.Errorf("queue row of %s: 不合格项 %q, want %s", id, m, want)
		}
	}
	row := regexp.MustCompile(`<tr( class="fail")?><th scope="row">锅炉现状</th><td>仍在燃煤(?:（不合格）)?</td></tr>`)
	for id, marked := range map[string]bool{v1: false, v2: true} {
		_, page := b.get("/console/inspections/" + id)
		m := row.FindStringSubmatch(page)
		if m == nil || (m[1] != "") != marked {
			t.Errorf("detail of %s: the row of 锅炉现状 %q, want marked failed %v", id, m, marked)
		}
	}
}

// TestUnraisedFindingWarned: an item that fails and should have raised a
// finding (finding_on_fail) but has none — what a phone app older than
// roadside_truck@2's failing options sends: 已拆除, no finding — is named on
// the detail page, for the office to return it before approving nothing
// to rectify; with its finding there, nothing is said.
func TestUnraisedFindingWarned(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	removed := []any{"answers.twc", map[string]any{"value": "removed"}, "answers.obd_mil_off", map[string]any{"result": "fail"}}
	bare := pushVersion(t, phone, apptest.Xinfu, "roadside_truck", 2, "submitted", removed...)
	withFinding := pushVersion(t, phone, apptest.Xinfu, "roadside_truck", 2, "draft", removed...)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityFinding, uuid.NewString(), apptest.Fields("inspection_id", withFinding,
		"item_key", "twc", "description", "三元催化器（燃气车）：已拆除", "severity", "major", "status", "open")),
		apptest.Mut(phone, syncproto.EntityFinding, uuid.NewString(), apptest.Fields("inspection_id", withFinding,
			"item_key", "obd_mil_off", "description", "OBD故障指示灯（MIL）未点亮：不合格", "severity", "major", "status", "open")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, withFinding, apptest.Fields("status", "submitted")))
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/inspections/" + bare)
	warn := regexp.MustCompile(`<p class="warn" id="unraised">[^<]*</p>`).FindString(page)
	if !strings.Contains(warn, "没有：OBD故障指示灯（MIL）未点亮、三元催化器（燃气车）。") {
		t.Errorf("the failed items without a finding: %q", warn)
	}
	if _, page := b.get("/console/inspections/" + withFinding); strings.Contains(page, `id="unraised"`) {
		t.Error("an inspection whose failed items have their findings is warned about")
	}
}

// TestVerdictContradictionShown: on coal_boiler@3 a boiler 仍在燃煤 with 淘汰
// 任务已完成 answered 不适用 lacks one item more for the office than on
// version 2, which has no verdict: the verdict, listed as contradicting
// the boiler's status (both lack the boiler's photo).
func TestVerdictContradictionShown(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	burning := append(slices.Clone(completeBoiler), "answers.boiler_status", map[string]any{"value": "burning", "note": "今晨仍在供暖"})
	v2, v3 := pushVersion(t, phone, apptest.Xinfu, "coal_boiler", 2, "submitted", burning...),
		pushVersion(t, phone, apptest.Xinfu, "coal_boiler", 3, "submitted", burning...)
	b := loggedIn(t, srv, apptest.CountyOffice)
	const said = "与“锅炉现状：仍在燃煤”矛盾，应判为不合格"
	_, page := b.get("/console/inspections/" + v3)
	if !strings.Contains(page, said) {
		t.Errorf("version 3's page does not say %q:\n%s", said, page)
	}
	// The verdict's finding was not raised: the warning before approval
	// names it, as it names a failing item without its finding.
	if warn := regexp.MustCompile(`<p class="warn" id="unraised">[^<]*</p>`).FindString(page); !strings.Contains(warn, "没有：淘汰任务已完成（与“锅炉现状：仍在燃煤（今晨仍在供暖）”矛盾）。") {
		t.Errorf("the contradicted verdict is not among the findings not raised: %q", warn)
	}
	if _, page := b.get("/console/inspections/" + v2); strings.Contains(page, "矛盾") {
		t.Error("version 2's page speaks of a contradiction")
	}
	_, queue := b.get("/console/queue?status=submitted")
	for id, want := range map[string]string{v2: "缺项 1<", v3: "缺项 2<"} {
		if row := rowOf(queue, id); !strings.Contains(row, want) {
			t.Errorf("queue row %q, want %q", row, want)
		}
	}
}

// TestChoiceFailureSaid: an option that describes a violation (地热尾水
// 排入市政污水管网) says 不合格 in its row, as a failed check and a number
// over its limit do — it was marked by colour only, so the rows saying
// 不合格 were fewer than the queue's 不合格项 (office probe).
func TestChoiceFailureSaid(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	id := pushVersion(t, phone, apptest.Xinfu, "geothermal_heat_pump", 1, "submitted",
		"answers.tailwater", map[string]any{"value": "sewer"})
	_, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/inspections/" + id)
	page = squash(page)
	if want := `<tr class="fail"><th scope="row">地热尾水去向</th><td>排入市政污水管网（不合格）</td></tr>`; !strings.Contains(page, want) {
		t.Errorf("the page lacks %s", want)
	}
	// Every row marked failed says so in words.
	for _, row := range regexp.MustCompile(`<tr class="fail">.*?</tr>`).FindAllString(page, -1) {
		if !strings.Contains(row, "不合格") {
			t.Errorf("a failed row says it only by colour: %s", row)
		}
	}
}

// TestSiteKindMismatchShown: the page of an inspection on a checklist not
// for its site's kind (a roadside check at a construction site) says so
// among what it lacks, and the queue does not count it complete.
func TestSiteKindMismatchShown(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	id := pushAt(t, phone, apptest.DemoSiteOf(t, apptest.Xinfu, "construction_site"), "roadside_truck", 2,
		"status", "submitted", "started_at", "2026-11-28T09:00:00+08:00")
	b := loggedIn(t, srv, apptest.CountyOffice)
	said := "检查表不适用于" + syncproto.Label(syncproto.SiteKinds, "construction_site") + "点位"
	_, page := b.get("/console/inspections/" + id)
	if !strings.Contains(page, said) || !strings.Contains(page, "检查表 重型货车路检路查（第 2 版）") {
		t.Errorf("the page does not say %q of the checklist by its title", said)
	}
	if _, queue := b.get("/console/queue?status=submitted&complete=complete"); rowOf(queue, id) != "" {
		t.Error("the queue lists it among the complete")
	}
}

// TestNumberOverLimitSaid: a number over its item's limit (fails_above)
// is said so in its row, not only coloured, and its verdict answered 合格
// is a contradiction among the findings not raised (pellet_plant@1: 颗粒物
// 25.5 mg/m³ against 10).
func TestNumberOverLimitSaid(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	id := pushVersion(t, phone, apptest.Xinfu, "pellet_plant", 1, "submitted",
		"answers.pm_mg_m3", map[string]any{"value": 25.5}, "answers.so2_mg_m3", map[string]any{"value": 35},
		"answers.emission_compliant", map[string]any{"result": "pass"})
	_, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/inspections/" + id)
	page = squash(page)
	for _, want := range []string{
		`<tr class="fail"><th scope="row">颗粒物排放浓度（小时均值）</th><td>25.5 mg/m³（超过限值 10 mg/m³，不合格）</td></tr>`,
		`<tr><th scope="row">二氧化硫排放浓度（小时均值）</th><td>35 mg/m³</td></tr>`, // at its limit: passes
		`焙烧烟气达到超低排放限值（与“颗粒物排放浓度（小时均值）：25.5 mg/m³”矛盾）`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestVoidInConsole: an office voids a truck saved twice from the
// check's page, with a reason; the statistics count it no more, the
// records list leaves it out but says how many are voided and lists them
// on demand, marked; the page and its history say who voided it and why;
// the same form sent twice is one decision; another office restores it.
// An office's own check offers no voiding.
func TestVoidInConsole(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	check := func(c *syncproto.Client, at string) string {
		id := uuid.NewString()
		apptest.PushApplied(t, c, apptest.Mut(c, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "作废测试检查站", "plate", "晋H80001", "emission_stage", "cn6", "aftertreatment", "removed",
			"checked_at", at)))
		return id
	}
	first, twice := check(phone, "2026-11-28T10:00:00+08:00"), check(phone, "2026-11-28T10:01:00+08:00")

	county := loggedIn(t, srv, apptest.CountyOffice)
	trucks := func(b *browser) string {
		t.Helper()
		for _, r := range tableRows(t, mustGet(t, b, "/console/vehicles"), "by-checkpoint") {
			if c := strings.Split(r, "|"); len(c) > 2 && c[1] == "作废测试检查站" {
				return strings.Join(c[2:], "|")
			}
		}
		return ""
	}
	if got := trucks(county); got != "2|0|2|0|2|100.0%" {
		t.Fatalf("before voiding: %q", got)
	}
	page := mustGet(t, county, "/console/vehicles/"+twice)
	if !strings.Contains(page, "作废此记录") {
		t.Fatal("the check's page offers no voiding")
	}
	form := url.Values{"csrf": {csrf(t, page)}, "seq": {regexp.MustCompile(`name="seq" value="(\d+)"`).FindStringSubmatch(page)[1]}, "decision": {"void"}}
	if st, body := county.post("/console/vehicles/"+twice+"/void", form); st != http.StatusBadRequest || !strings.Contains(body, "原因") {
		t.Errorf("voiding without a reason: %d", st)
	}
	form.Set("comment", "与 10:00 的记录重复（同一车辆保存了两次）")
	for range 2 { // a double click is one decision
		st, body := county.post("/console/vehicles/"+twice+"/void", form)
		if st != http.StatusOK || !strings.Contains(body, "已作废：此记录不再计入统计") {
			t.Fatalf("void: %d %s", st, regexp.MustCompile(`(?s)<main.*?</h1>.{0,400}`).FindString(body))
		}
	}
	page = mustGet(t, county, "/console/vehicles/"+twice)
	for _, want := range []string{`id="voided"`, "不计入任何统计", "与 10:00 的记录重复（同一车辆保存了两次）", "恢复此记录", "作废原因", ">作废<"} {
		if !strings.Contains(page, want) {
			t.Errorf("the voided check's page lacks %q", want)
		}
	}
	if got := trucks(county); got != "1|0|1|0|1|100.0%" {
		t.Errorf("with one voided: %q, want 1|0|1|1|100.0%%", got)
	}
	list := mustGet(t, county, "/console/vehicles?checkpoint=作废测试检查站#records")
	if strings.Contains(list, `data-id="`+twice+`"`) || !strings.Contains(list, `data-id="`+first+`"`) {
		t.Error("the records list, counted ones: the voided check listed, or the other not")
	}
	link := regexp.MustCompile(`href="([^"]+)" id="voided-link">1 条已作废`).FindStringSubmatch(list)
	if link == nil {
		t.Fatal("the records list does not say 1 more is voided")
	}
	voided := mustGet(t, county, strings.ReplaceAll(link[1], "&amp;", "&"))
	if !strings.Contains(voided, `data-id="`+twice+`" class="voided"`) || strings.Contains(voided, `data-id="`+first+`"`) || !strings.Contains(voided, "已作废的记录（不计入统计）") {
		t.Error("the voided checks' list")
	}
	// Its export says of the voided check when, by whom and why.
	q := strings.ReplaceAll(link[1], "&amp;", "&")
	body, f := download(t, county, "/console/vehicles.xlsx"+q[strings.Index(q, "?"):])
	rows := checkSheet(t, body, f, "路检记录")
	if h := strings.Join(rows[0], "|"); !strings.HasSuffix(h, "|作废时间|作废人|作废原因") {
		t.Errorf("the voided checks' export header %q lacks when, by whom and why", h)
	}
	if len(rows) != 2 || !strings.HasPrefix(rows[1][len(rows[1])-3], "2026-") || rows[1][len(rows[1])-2] == "" ||
		!strings.Contains(rows[1][len(rows[1])-1], "与 10:00 的记录重复") {
		t.Errorf("the voided checks' export rows %q, want the one voided, with its time, office and reason", rows[1:])
	}
	// The truck's other check lists it, marked.
	other := mustGet(t, county, "/console/vehicles/"+first)
	if !regexp.MustCompile(`data-id="` + twice + `" class="voided">.*?已作废`).MatchString(other) {
		t.Error("the truck's other checks do not list the voided one, marked")
	}

	city := loggedIn(t, srv, apptest.CityOffice)
	page = mustGet(t, city, "/console/vehicles/"+twice)
	restore := url.Values{"csrf": {csrf(t, page)}, "seq": {regexp.MustCompile(`name="seq" value="(\d+)"`).FindStringSubmatch(page)[1]},
		"decision": {"restore"}, "comment": {"经核实是同一车辆往返两次"}}
	if st, body := city.post("/console/vehicles/"+twice+"/void", restore); st != http.StatusOK || !strings.Contains(body, "已恢复") {
		t.Fatalf("restore: %d", st)
	}
	if got := trucks(city); got != "2|0|2|0|2|100.0%" {
		t.Errorf("restored: %q", got)
	}
	// The same restore sent again (a double click, back and resubmit) is
	// answered as the first; the same form with another reason is not.
	if st, body := city.post("/console/vehicles/"+twice+"/void", restore); st != http.StatusOK || !strings.Contains(body, "已恢复") {
		t.Errorf("the restore sent again: %d, want 200 as the first", st)
	}
	another := url.Values{"csrf": restore["csrf"], "seq": restore["seq"], "decision": {"restore"}, "comment": {"另一个理由"}}
	if st, _ := city.post("/console/vehicles/"+twice+"/void", another); st != http.StatusConflict {
		t.Errorf("the restore form with another reason: %d, want 409", st)
	}
	// The county's form, shown before the city restored it, sent now: the
	// record changed since, and the page does not say it was restored by
	// this form (the city's reason is not this one's).
	stale := url.Values{"csrf": {form.Get("csrf")}, "seq": {form.Get("seq")}, "decision": {"restore"}, "comment": {"县里也要恢复"}}
	if st, body := county.post("/console/vehicles/"+twice+"/void", stale); st != http.StatusConflict || strings.Contains(body, "已恢复：") {
		t.Errorf("a restore form out of date: %d, want 409 without 已恢复", st)
	}
	hist := strings.Join(tableRows(t, mustGet(t, county, "/console/vehicles/"+twice), "history"), "\n")
	for _, want := range []string{"作废", "恢复", "与 10:00 的记录重复", "经核实是同一车辆往返两次"} {
		if !strings.Contains(hist, want) {
			t.Errorf("修改历史 lacks %q:\n%s", want, hist)
		}
	}

	// An office's own check: no voiding offered, and a note why.
	ownPhone := srv.Login(apptest.CountyOffice)
	own := check(ownPhone, "2026-11-28T11:00:00+08:00")
	page = mustGet(t, county, "/console/vehicles/"+own)
	if strings.Contains(page, "作废此记录") || !strings.Contains(page, `id="own-check"`) {
		t.Error("an office's own check offers voiding")
	}
}

// TestVoidedAmongTruckChecks: a truck's page that lists only some of its
// other checks says how many of the total the link names are voided (the
// list it opens counts those apart).
func TestVoidedAmongTruckChecks(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	var ids []string
	var muts []syncproto.Mutation
	for i := range 23 {
		id := uuid.NewString()
		ids = append(ids, id)
		muts = append(muts, apptest.Mut(phone, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "多次检查站", "plate", "晋H80002", "emission_stage", "cn6", "aftertreatment", "present",
			"checked_at", fmt.Sprintf("2026-11-%02dT10:00:00+08:00", 1+i))))
	}
	apptest.PushApplied(t, phone, muts...)
	county := loggedIn(t, srv, apptest.CountyOffice)
	for _, id := range ids[:2] {
		page := mustGet(t, county, "/console/vehicles/"+id)
		form := url.Values{"csrf": {csrf(t, page)}, "seq": {regexp.MustCompile(`name="seq" value="(\d+)"`).FindStringSubmatch(page)[1]},
			"decision": {"void"}, "comment": {"重复录入"}}
		if st, _ := county.post("/console/vehicles/"+id+"/void", form); st != http.StatusOK {
			t.Fatalf("void %s: %d", id, st)
		}
	}
	for _, c := range []struct {
		id, want string
	}{
		{ids[5], "查看该车全部 22 条其他记录</a>（其中 2 条已作废"},
		{ids[0], "查看该车全部 22 条其他记录</a>（其中 1 条已作废"},
	} {
		if page := mustGet(t, county, "/console/vehicles/"+c.id); !strings.Contains(page, c.want) {
			t.Errorf("the page of %s lacks %q:\n%s", c.id, c.want, regexp.MustCompile(`查看该车全部[^\n]*`).FindString(page))
		}
	}
}

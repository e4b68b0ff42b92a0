package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestRectifiedToVerify: 已整改（待核实） lists the rectified findings an
// office can verify now (of approved inspections); a rectified finding of
// a returned inspection is not among them, and its page says why it
// cannot be verified yet.
func TestRectifiedToVerify(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	b := loggedIn(t, srv, apptest.CountyOffice)
	inspected := func(decision string) (insp, finding string) {
		t.Helper()
		insp, finding = uuid.NewString(), uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
			"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00")),
			apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
				"description", "料堆裸露 "+decision, "severity", "major", "deadline", "2026-12-05", "status", "rectified",
				"rectification_note", "已苫盖")))
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
		_, page := b.get("/console/inspections/" + insp)
		form := withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {decision}, "comment": {"请补充照片"}}, page)
		if st, page := b.post("/console/inspections/"+insp+"/review", form); st != http.StatusOK {
			t.Fatalf("%s: %d\n%s", decision, st, page)
		}
		return insp, finding
	}
	approvedInsp, approved := inspected("approve")
	returnedInsp, returned := inspected("return")

	_, list := b.get("/console/findings?status=rectified")
	if !strings.Contains(list, "#finding-"+approved) {
		t.Error("已整改（待核实） lacks the approved inspection's rectified finding")
	}
	if strings.Contains(list, "#finding-"+returned) {
		t.Error("已整改（待核实） lists a returned inspection's finding, which cannot be verified")
	}
	if strings.Contains(list, "送达服务器") {
		t.Error("a rectification that reached the server when reported is said to have arrived later")
	}
	// Every status still lists it, and so does its own choice (the
	// statuses' lists added up to less than the whole: reviewer probe).
	if _, all := b.get("/console/findings"); !strings.Contains(all, "#finding-"+returned) {
		t.Error("the findings list lacks the returned inspection's finding")
	}
	_, waiting := b.get("/console/findings?status=rectified_unapproved")
	if !strings.Contains(waiting, "#finding-"+returned) || strings.Contains(waiting, "#finding-"+approved) ||
		!strings.Contains(waiting, `<option value="rectified_unapproved" selected>`) {
		t.Error("已整改（所属检查未审核通过） does not list just the returned inspection's finding")
	}
	total := 0
	for _, st := range []string{"open", "rectifying", "rectified", "rectified_unapproved", "verified"} {
		_, page := b.get("/console/findings?status=" + st)
		total += strings.Count(page, `<tr data-id="`)
	}
	if _, all := b.get("/console/findings"); strings.Count(all, `<tr data-id="`) != total || total != 2 {
		t.Errorf("the statuses list %d findings, all %d, want 2 each", total, strings.Count(all, `<tr data-id="`))
	}
	// The overview counts the one to verify, linking to its list.
	if _, ov := b.get("/console/overview"); !strings.Contains(ov, `<a href="/console/findings?status=rectified"><b id="kpi-verify">1</b> 个问题已整改，待核实</a>`) {
		t.Error("the overview does not count the one rectification to verify")
	}
	for _, tc := range []struct {
		insp        string
		verify, why bool
	}{{approvedInsp, true, false}, {returnedInsp, false, true}} {
		_, page := b.get("/console/inspections/" + tc.insp)
		if got := strings.Contains(page, `value="verify"`); got != tc.verify {
			t.Errorf("%s: verify form %v, want %v", tc.insp, got, tc.verify)
		}
		if got := strings.Contains(page, "所属检查尚未审核通过，审核通过后才能核实整改"); got != tc.why {
			t.Errorf("%s: says why it cannot be verified: %v, want %v", tc.insp, got, tc.why)
		}
	}
	// Verified today, past its deadline of 2026-12-05: the list says
	// the day it was verified, and how late that was.
	page := mustGet(t, b, "/console/inspections/"+approvedInsp)
	m := regexp.MustCompile(`action="/console/findings/` + approved + `/verify" class="verify"><input type="hidden" name="csrf" value="[^"]+"><input type="hidden" name="seq" value="([0-9]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no verify form for the approved inspection's finding")
	}
	if st, page := b.post("/console/findings/"+approved+"/verify", url.Values{"csrf": {csrf(t, page)}, "seq": {m[1]}, "decision": {"verify"}}); st != http.StatusOK {
		t.Fatalf("verify: %d\n%s", st, page)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	lateBy := int(today.Sub(time.Date(2026, 12, 5, 0, 0, 0, 0, today.Location())).Hours() / 24)
	_, verified := b.get("/console/findings?status=verified")
	r := regexp.MustCompile(`(?s)<tr data-id="` + approved + `"[^>]*>.*?</tr>`).FindString(verified)
	if !strings.Contains(r, "已核实<br><span class=\"time\">"+today.Format(time.DateOnly)) || (lateBy > 0) != strings.Contains(r, "超过时限 "+strconv.Itoa(lateBy)+" 天") {
		t.Errorf("the finding verified %d days past its deadline: row %s", lateBy, r)
	}
}

// rectifiedOffline makes, on srv, an inspection by 张巡查 with a finding
// due on deadline, approved by the county office b, and the finding
// reported rectified by 李巡查's phone, offline, at reported: it returns
// the inspection, the finding and 李巡查's name.
func rectifiedOffline(t *testing.T, srv *apptest.Server, b *browser, reported time.Time, deadline string) (insp, finding, otherName string) {
	t.Helper()
	phone, other := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	hlc := syncproto.HLC{Wall: reported.Add(-time.Hour).UnixMilli(), Node: phone.Clock.Node()}
	insp, finding = uuid.NewString(), uuid.NewString()
	offline := func(m syncproto.Mutation) syncproto.Mutation {
		hlc.Counter++
		m.HLC = hlc.String()
		return m
	}
	apptest.PushApplied(t, phone,
		offline(apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
			"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", reported.Add(-time.Hour).Format(time.RFC3339)))),
		offline(apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
			"description", "料堆裸露", "severity", "major", "deadline", deadline, "status", "rectifying"))))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	page := mustGet(t, b, "/console/inspections/"+insp)
	if st, page := b.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}}, page)); st != http.StatusOK {
		t.Fatalf("approve: %d\n%s", st, page)
	}
	// Put right by another inspector of the county, offline.
	hlc2 := syncproto.HLC{Wall: reported.UnixMilli(), Node: other.Clock.Node()}
	apptest.PushApplied(t, other, syncproto.Mutation{Entity: syncproto.EntityFinding, ID: finding, HLC: hlc2.String(),
		Fields: apptest.Fields("status", "rectified", "rectification_note", "已苫盖")})
	users, err := srv.App.DB.Users(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == apptest.Inspector2 {
			otherName = u.DisplayName
		}
	}
	return insp, finding, otherName
}

// TestVerifiedLateRectifiedInTime: a finding an inspector reported
// rectified before its deadline, on a phone offline for days, and
// verified after that deadline was rectified in time: 问题整改 and the
// export give the inspector's day, not the verification's, and no
// 超过时限 (the verification's day had replaced the report's). The
// rectification reported by another inspector than the finding's is said
// to be theirs, before and after the verification (county office probe:
// the list named the finding's inspector alone).
func TestVerifiedLateRectifiedInTime(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	china := time.FixedZone("CST", 8*3600)
	today := time.Now().In(china)
	reported := today.AddDate(0, 0, -3)
	deadline := today.AddDate(0, 0, -2).Format(time.DateOnly)
	insp, finding, otherName := rectifiedOffline(t, srv, b, reported, deadline)
	if _, list := b.get("/console/findings?status=rectified"); !strings.Contains(list, "由 "+otherName+" 报告整改") {
		t.Errorf("the rectification reported by %s is not said to be theirs", otherName)
	}
	page := mustGet(t, b, "/console/inspections/"+insp)
	// The page the office verifies on says what 问题整改 says: the day,
	// who reported it, and that the report, in time by the phone's clock,
	// reached the server only today, after the deadline (month-end probe:
	// none of it; attacker probe: a report backdated by the phone's clock
	// read as one in time, unsaid).
	arrived := today.Format(time.DateOnly) + " 才送达服务器，已过时限（按手机时间未超时）"
	row := regexp.MustCompile(`(?s)<tr id="finding-` + finding + `">.*?</tr>`).FindString(page)
	for _, want := range []string{"已整改<br><span class=\"time\">" + reported.Format(time.DateOnly), "由 " + otherName + " 报告整改", arrived} {
		if !strings.Contains(row, want) {
			t.Errorf("the inspection's finding row lacks %q:\n%s", want, row)
		}
	}
	m := regexp.MustCompile(`action="/console/findings/` + finding + `/verify" class="verify"><input type="hidden" name="csrf" value="[^"]+"><input type="hidden" name="seq" value="([0-9]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no verify form for the finding")
	}
	if st, page := b.post("/console/findings/"+finding+"/verify", url.Values{"csrf": {csrf(t, page)}, "seq": {m[1]}, "decision": {"verify"}}); st != http.StatusOK {
		t.Fatalf("verify: %d\n%s", st, page)
	}
	_, verified := b.get("/console/findings?status=verified")
	r := regexp.MustCompile(`(?s)<tr data-id="` + finding + `"[^>]*>.*?</tr>`).FindString(verified)
	if !strings.Contains(r, "已核实<br><span class=\"time\">"+reported.Format(time.DateOnly)) || strings.Contains(r, "超过时限") || !strings.Contains(r, "由 "+otherName+" 报告整改") ||
		!strings.Contains(r, arrived) {
		t.Errorf("a finding rectified on %s, deadline %s, verified today: row %s", reported.Format(time.DateOnly), deadline, r)
	}
	body, f := download(t, b, "/console/findings.xlsx?status=approved")
	named := map[string]int{}
	found := false
	for _, r := range checkSheet(t, body, f, "发现问题") {
		if slices.Contains(r, "整改完成日期") {
			for i, h := range r {
				named[h] = i
			}
		}
		if slices.Contains(r, insp) {
			found = true
			if r[named["整改完成日期"]] != reported.Format(time.DateOnly) || r[named["超过时限天数"]] != "" || r[named["整改报告人"]] != otherName ||
				r[named["整改报告送达日期"]] != today.Format(time.DateOnly) {
				t.Errorf("exported with 整改完成日期 %q, 超过时限天数 %q, 整改报告人 %q, 整改报告送达日期 %q, want %s, none, %s and today",
					r[named["整改完成日期"]], r[named["超过时限天数"]], r[named["整改报告人"]], r[named["整改报告送达日期"]], reported.Format(time.DateOnly), otherName)
			}
		}
	}
	if !found {
		t.Error("the export lacks the finding")
	}
}

// TestRectifiedHoursBeforeTheDeadline: a report stamped by its phone the
// evening of the deadline that reached the server the next day, hours
// later, is said to have arrived after the deadline, with the warning (a
// clock set back by hours read as in time, unsaid: verification probe);
// one that arrived within its day says nothing of arrival.
func TestRectifiedHoursBeforeTheDeadline(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	china := time.FixedZone("CST", 8*3600)
	now := time.Now().In(china)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, china)
	yesterday := midnight.AddDate(0, 0, -1).Format(time.DateOnly)
	late, _, _ := rectifiedOffline(t, srv, b, midnight.Add(-30*time.Minute), yesterday)
	row := regexp.MustCompile(`(?s)<tr id="finding-[^"]+">.*?</tr>`).FindString(mustGet(t, b, "/console/inspections/"+late))
	if want := now.Format(time.DateOnly) + " 才送达服务器，已过时限（按手机时间未超时）"; !strings.Contains(row, want) || strings.Contains(row, "超过时限") {
		t.Errorf("reported at %s on its deadline's evening, received today: row lacks %q\n%s", yesterday, want, row)
	}
	inTime, _, _ := rectifiedOffline(t, srv, b, now.Add(-time.Minute), now.AddDate(0, 0, 1).Format(time.DateOnly))
	row = regexp.MustCompile(`(?s)<tr id="finding-[^"]+">.*?</tr>`).FindString(mustGet(t, b, "/console/inspections/"+inTime))
	if strings.Contains(row, "送达服务器") {
		t.Errorf("a report received a minute after it was made says when it arrived:\n%s", row)
	}
}

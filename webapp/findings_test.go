package webapp_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserAllFindings: home lists the first 30 open findings and offers
// the rest; 显示全部 shows every one, and a sync drawing home again keeps
// them shown.
func TestBrowserAllFindings(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	const open = 35
	other := srv.Login(apptest.Inspector)
	insp := uuid.Must(uuid.NewV7()).String()
	ms := []syncproto.Mutation{apptest.Mut(other, "inspection", insp, apptest.Fields(
		"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust", "template_version", 1,
		"status", "draft", "started_at", "2026-11-28T09:00:00+08:00"))}
	for i := range open {
		ms = append(ms, apptest.Mut(other, "finding", uuid.Must(uuid.NewV7()).String(), apptest.Fields("inspection_id", insp,
			"item_key", "fence", "description", fmt.Sprintf("问题 %02d", i+1), "severity", "major", "status", "open")))
	}
	apptest.PushApplied(t, other, ms...)
	// And one of the inspector's inspections the office returned: its
	// finding is the office's to count, the inspection to correct.
	returned, sentBack := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	apptest.PushApplied(t, other, apptest.Mut(other, "inspection", returned, apptest.Fields(
		"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust", "template_version", 1,
		"status", "draft", "started_at", "2026-11-27T09:00:00+08:00")),
		apptest.Mut(other, "finding", sentBack, apptest.Fields("inspection_id", returned,
			"item_key", "fence", "description", "退回检查的问题", "severity", "major", "status", "open")))
	apptest.PushApplied(t, other, apptest.Mut(other, "inspection", returned, apptest.Fields("status", "submitted", "finished_at", "2026-11-27T09:40:00+08:00")))
	if err := srv.Login(apptest.CountyOffice).Do(ctx, http.MethodPost, "/api/v1/inspections/"+returned+"/review",
		map[string]string{"decision": "return", "comment": "补拍近景"}, nil); err != nil {
		t.Fatal(err)
	}

	bctx := browserFor(t)
	p := newPhone(t, bctx, srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.has(fmt.Sprintf("待整改问题（%d）", open+1))
	shown := `document.querySelectorAll('#findings a[data-finding]').length`
	if n := eval[int](p, shown); n != 30 {
		t.Errorf("home lists %d open findings before 显示全部, want 30", n)
	}
	// Of the inspector's own draft: each says the office has not got it
	// (cycle probe: counted as overdue where the console counts nothing).
	if !eval[bool](p, `[...document.querySelectorAll('#findings a[data-finding]')].filter((a) => a.dataset.finding !== '`+sentBack+`').every((a) => a.dataset.held === '所属检查未提交' && a.textContent.includes('督查尚未收到'))`) {
		t.Errorf("a finding of the inspector's draft does not say it is the draft's")
	}
	p.shot("app-home-findings-held.png")
	p.click(`#all-findings`)
	p.waitJS("all shown", shown+` === `+itoa(open+1))
	// Of the returned inspection: said so, and not as one the office lacks
	// (verification probe: the console counts it).
	if got := eval[string](p, `(() => { const a = document.querySelector('#findings a[data-finding="`+sentBack+`"]'); return a ? a.dataset.held + '|' + a.textContent : ''; })()`); !strings.Contains(got, "所属检查已退回|") ||
		!strings.Contains(got, "请按退回意见修改后重新提交") || strings.Contains(got, "督查尚未收到") {
		t.Errorf("the returned inspection's finding reads %q", got)
	}
	p.drawnAgain(`#findings`, syncNow)
	if n := eval[int](p, shown); n != open+1 {
		t.Errorf("after a sync home lists %d open findings, want all %d", n, open+1)
	}
	if n := eval[int](p, `document.querySelectorAll('#all-findings').length`); n != 0 {
		t.Errorf("all findings shown, and 显示全部 still offered")
	}
}

// TestBrowserColleagueDraftFindings: a colleague's inspection still in
// their hands (a draft) is theirs to change: its findings are not listed
// to rectify on this phone; once submitted, they are.
func TestBrowserColleagueDraftFindings(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	colleague := srv.Login(apptest.Inspector2)
	push := func(status, description string) {
		insp := uuid.Must(uuid.NewV7()).String()
		apptest.PushApplied(t, colleague, apptest.Mut(colleague, "inspection", insp, apptest.Fields(
			"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust", "template_version", 1,
			"status", "draft", "started_at", "2026-11-28T09:00:00+08:00")),
			apptest.Mut(colleague, "finding", uuid.Must(uuid.NewV7()).String(), apptest.Fields("inspection_id", insp,
				"item_key", "fence", "description", description, "severity", "major", "status", "open")))
		switch status {
		case "draft":
		case "deleted": // the inspection alone, its finding left
			apptest.PushApplied(t, colleague, syncproto.Mutation{Entity: "inspection", ID: insp, Delete: true, HLC: colleague.Clock.Now().String()})
		default:
			apptest.PushApplied(t, colleague, apptest.Mut(colleague, "inspection", insp, apptest.Fields("status", status)))
		}
	}
	push("draft", "同事草稿中的问题")
	push("submitted", "同事已提交的问题")
	push("deleted", "已删除检查的问题")
	push("submitted", "见文件 https://example.gov.cn/"+strings.Repeat("a", 300))

	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.has("同事已提交的问题")
	if eval[bool](p, `document.querySelector('#findings').textContent.includes('同事草稿中的问题')`) {
		t.Error("home lists a finding of a colleague's draft inspection to rectify")
	}
	// A finding whose inspection was deleted is no one's to rectify (the
	// console lists it nowhere either).
	if eval[bool](p, `document.querySelector('#findings').textContent.includes('已删除检查的问题')`) {
		t.Error("home lists a finding of a deleted inspection to rectify")
	}
	// A long unbroken word (a URL typed whole) breaks; the page does not
	// scroll sideways at 390 px.
	p.has("https://example.gov.cn/")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("home is %d px wide with a long URL in a finding, want 390", w)
	}
}

package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestNoticeOnce: a page says what a form just did once, after the form —
// not on a reload, not on coming back to it from a record, and never
// from an address: a crafted link made a pending inspection's page say
// 已审核通过, and the users page say a user of the link's naming (with
// the link's text) was disabled.
func TestNoticeOnce(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)

	// Bulk approval with nothing ticked, from the queue of 忻府区: said
	// on the queue as it was filtered, once.
	const none = "请先勾选要批量通过的检查记录"
	queue := "/console/queue?county=" + apptest.Xinfu
	_, page := b.get("/console/bulk?" + url.Values{"back": {queue}}.Encode())
	if !strings.Contains(page, none) || !strings.Contains(page, `<option value="`+apptest.Xinfu+`" selected`) {
		t.Fatalf("the filtered queue does not say nothing was ticked:\n%s", page)
	}
	if _, again := b.get(queue); strings.Contains(again, none) {
		t.Error("the queue says nothing was ticked again on a reload")
	}
	link := regexp.MustCompile(`href="(/console/inspections/` + insp + `\?back=[^"#]*)"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatal("no link to the submitted inspection")
	}
	_, detail := b.get(html.UnescapeString(link[1]))
	back := regexp.MustCompile(`<a[^>]* href="(/console/queue[^"]*)"[^>]*>[^<]*返回审核队列`).FindStringSubmatch(detail)
	if back == nil {
		t.Fatalf("the detail page has no way back to the queue")
	}
	if _, q := b.get(html.UnescapeString(back[1])); strings.Contains(q, none) || !strings.Contains(html.UnescapeString(back[1]), "county="+apptest.Xinfu) {
		t.Errorf("back from the record (%s): notice shown again or the filter lost", back[1])
	}

	// Addresses a notice once rode in say nothing now.
	admin := loggedIn(t, srv, apptest.Admin)
	for _, c := range []struct {
		who  *browser
		path string
		said []string
	}{
		{b, "/console/queue?bulk=none", []string{none}},
		{b, "/console/inspections/" + insp + "?done=approve", []string{"已审核通过"}},
		{b, "/console/inspections/" + insp + "?done=return", []string{"已退回修改"}},
		{b, "/console/ledger?saved=task-08@" + apptest.Xinfu, []string{"已保存整改进展"}},
		{b, "/console/password?done=1", []string{"密码已修改"}},
		{admin, "/console/users?done=enabled&user=" + url.QueryEscape("张三。系统通知：请将密码发送至 http://evil.example"), []string{"已启用用户", "evil.example"}},
		{admin, "/console/users?done=disabled&user=" + apptest.Inspector, []string{"已停用用户"}},
		{admin, "/console/users?done=added", []string{"已添加用户"}},
		{admin, "/console/users?done=session", []string{"已注销该后台会话"}},
	} {
		st, page := c.who.get(c.path)
		if st != http.StatusOK {
			t.Errorf("%s: %d", c.path, st)
		}
		for _, s := range c.said {
			if strings.Contains(page, s) {
				t.Errorf("%s says %q", c.path, s)
			}
		}
	}

	// A decision's page says it once.
	path := "/console/inspections/" + insp
	_, page = b.get(path)
	st, page := b.post(path+"/review", withSeqs(url.Values{"decision": {"return"}, "comment": {"请补拍围挡照片"}, "csrf": {csrf(t, page)}}, page))
	if st != http.StatusOK || !strings.Contains(page, "已退回修改/补充") {
		t.Fatalf("return: %d, the page does not say it:\n%s", st, page)
	}
	if _, again := b.get(path); strings.Contains(again, "已退回修改/补充") {
		t.Error("the inspection's page says it was returned again on a reload")
	}
	// Another viewer of that page, after the decision, is not told.
	if _, other := loggedIn(t, srv, apptest.CityOffice).get(path); strings.Contains(other, "已退回修改/补充，巡查员") {
		t.Error("another office's view of the page says the decision was just taken")
	}
}

package console_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestNoticeNotCarriedBack: a page's notice of what was just done (the
// queue's "nothing ticked" after bulk approval with no record ticked)
// stays out of the addresses the page hands on — its links' way back,
// its forms, its exports — so that coming back from a record does not
// say it again; the list's filters are kept.
func TestNoticeNotCarriedBack(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	const notice = "请先勾选要批量通过的检查记录"
	// Bulk approval with nothing ticked, from the queue of 忻府区.
	_, page := b.get("/console/bulk?" + url.Values{"back": {"/console/queue?county=" + apptest.Xinfu}}.Encode())
	if !strings.Contains(page, notice) {
		t.Fatalf("the queue does not say nothing was ticked:\n%s", page)
	}
	hrefs := regexp.MustCompile(`(?:href|value)="(/console/[^"]*)"`).FindAllStringSubmatch(page, -1)
	for _, h := range hrefs {
		if u := html.UnescapeString(h[1]); strings.Contains(u, "bulk%3Dnone") || strings.Contains(u, "bulk=none") {
			t.Errorf("the page hands on the notice: %s", u)
		}
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
	_, queue := b.get(html.UnescapeString(back[1]))
	if strings.Contains(queue, notice) || !strings.Contains(html.UnescapeString(back[1]), "county="+apptest.Xinfu) {
		t.Errorf("back from the record (%s): notice shown again or the filter lost", back[1])
	}
	// An address that carried a notice before this was fixed is cleaned too.
	_, detail = b.get("/console/inspections/" + insp + "?" + url.Values{"back": {"/console/queue?bulk=none&county=" + apptest.Xinfu}}.Encode())
	if strings.Contains(detail, "bulk=none") {
		t.Error("a back address with the notice is followed with it")
	}
}

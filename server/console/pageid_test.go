package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestPageIDs: a page whose address names a record by its id in upper
// case (typed, or copied from a spreadsheet that upper-cased it) shows
// the record's page, at its address in lower case; an id that is no
// record's is a 400 page saying so, not a 404 saying no such record
// exists; a form posted to such an address is refused.
func TestPageIDs(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	site := apptest.DemoSite(t, apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	for _, tc := range []struct{ path, want string }{
		{"/console/inspections/" + strings.ToUpper(insp), "/console/inspections/" + insp},
		{"/console/inspections/" + strings.ToUpper(insp[:8]) + insp[8:] + "?from=map", "/console/inspections/" + insp + "?from=map"},
		{"/console/sites/" + strings.ToUpper(site), "/console/sites/" + site},
	} {
		req, _ := http.NewRequest(http.MethodGet, b.base+tc.path, nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.RequestURI() != tc.want {
			t.Errorf("GET %s: %d at %s, want 200 at %s", tc.path, resp.StatusCode, resp.Request.URL.RequestURI(), tc.want)
		}
	}
	page := page0(t, b)
	for _, id := range []string{insp[:35], "{" + insp + "}", "00000000-0000-0000-0000-000000000000", "abc", insp + "0", url.PathEscape("检查")} {
		for _, path := range []string{"/console/inspections/" + id, "/console/vehicles/" + id, "/console/sites/" + id, "/console/photos/" + id + "/thumbnail"} {
			st, body := b.get(path)
			if st != http.StatusBadRequest || !strings.Contains(body, "链接中的编号") || !strings.Contains(body, "<html") {
				t.Errorf("GET %s: %d, want 400 saying 链接中的编号\n%s", path, st, body)
			}
		}
	}
	for _, id := range []string{strings.ToUpper(insp), insp[:35]} {
		st, body := b.post("/console/inspections/"+id+"/review", url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}})
		if st != http.StatusBadRequest || !strings.Contains(body, "链接中的编号") {
			t.Errorf("review posted to %s: %d\n%s", id, st, body)
		}
	}
	// HEAD, as a link checker asks, is answered as GET.
	req, _ := http.NewRequest(http.MethodHead, b.base+"/console/inspections/"+strings.ToUpper(insp), nil)
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/inspections/"+insp {
		t.Errorf("HEAD of the upper-case address: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// An id with a space about it (a link copied from a chat) says so:
	// quoted, it looks right.
	for _, path := range []string{"/console/inspections/" + insp + "%20", "/console/inspections/%0A" + insp} {
		if st, body := b.get(path); st != http.StatusBadRequest || !strings.Contains(body, "前后有多余的空格或换行") {
			t.Errorf("GET %s: %d, want 400 saying the space\n%.2000s", path, st, body)
		}
	}
	// Bulk approval names an id in upper case as not an id, not as a
	// record that does not exist.
	if _, body := b.get("/console/bulk?id=" + strings.ToUpper(insp)); !strings.Contains(body, "不是记录编号") || strings.Contains(body, "检查记录不存在") {
		t.Errorf("bulk approval of an upper-case id:\n%.3000s", body)
	}
	// Not signed in: the sign-in comes first, whatever the id.
	if st, body := newBrowser(t, srv).get("/console/inspections/abc"); st != http.StatusOK || !strings.Contains(body, "登录") || strings.Contains(body, "链接中的编号") {
		t.Errorf("signed out, a malformed id: %d\n%s", st, body)
	}
	// An id no record has is still 404.
	if st, body := b.get("/console/inspections/" + uuid.NewString()); st != http.StatusNotFound || !strings.Contains(body, "不存在") {
		t.Errorf("unknown inspection: %d", st)
	}
}

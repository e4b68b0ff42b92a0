package console_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

var nextRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

// signIn posts the login form of page as the county office (with the
// form's next, or next when not nil) and returns the status, the address
// the browser lands on (path and query) and its page.
func (b *browser) signIn(page string, next *string) (int, string, string) {
	b.t.Helper()
	form := url.Values{"csrf": {csrf(b.t, page)}, "username": {apptest.CountyOffice}, "password": {apptest.Passwords[apptest.CountyOffice]}}
	if m := nextRE.FindStringSubmatch(page); m != nil {
		form.Set("next", html.UnescapeString(m[1]))
	}
	if next != nil {
		form.Set("next", *next)
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+"/console/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.RequestURI(), string(body)
}

// TestLoginReturns: a page asked for without a session leads, once signed
// in, back to that page; an address to return to that is not a page of
// the console leads to its start.
func TestLoginReturns(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	asked := "/console/inspections/" + insp + "?back=" + url.QueryEscape("/console/queue?county="+apptest.Xinfu)
	b := newBrowser(t, srv)
	_, page := b.get(asked)
	if st, at, page := b.signIn(page, nil); st != http.StatusOK || at != asked || !strings.Contains(page, "建筑施工扬尘") {
		t.Fatalf("signed in from %s: %d at %s", asked, st, at)
	}
	for _, tc := range []struct{ next, want string }{
		{"/console/findings?status=rectified", "/console/findings?status=rectified"},
		{"//evil.com", "/console/"},
		{"/\\evil.com", "/console/"},
		{"https://evil.com/console/", "/console/"},
		{"/console/../x", "/console/"},
		{"/console/%2e%2e/x", "/console/"},
		{"/console//evil.com", "/console/"},
		{"/console/\\evil.com", "/console/"},
		{"/console/x\r\nSet-Cookie: a=b", "/console/"},
		{"javascript:alert(1)", "/console/"},
		{"/console/login", "/console/"},
		{"/console/login/", "/console/"},
		{"/console/logout?x=1", "/console/"},
		{"", "/console/"},
	} {
		b := newBrowser(t, srv)
		_, page := b.get("/console/login?" + url.Values{"next": {tc.next}}.Encode())
		if tc.want == "/console/" && strings.Contains(page, `name="next"`) {
			t.Errorf("%q: the login form carries it on", tc.next)
		}
		if st, at, _ := b.signIn(page, &tc.next); st != http.StatusOK || at != tc.want {
			t.Errorf("next %q: %d at %s, want %s", tc.next, st, at, tc.want)
		}
	}
}

// TestLoginPageExpired: a login form older than the browser's login
// cookie (another login tab opened since, an hour passed) shows the form
// again with a fresh token and a plain message, not a CSRF error; when
// another tab has signed in meanwhile as the same user, it goes on to the
// console, and as another user, it says so and signs nobody in. A
// sign-in replaces the browser's session.
func TestLoginPageExpired(t *testing.T) {
	srv := apptest.Start(t)
	b := newBrowser(t, srv)
	_, first := b.get("/console/login?next=" + url.QueryEscape("/console/ledger"))
	_, second := b.get("/console/login")
	st, _, again := b.signIn(first, nil)
	if st != http.StatusForbidden || !strings.Contains(again, "登录页面已过期，请重新输入密码登录") || strings.Contains(again, "CSRF") ||
		csrf(t, again) == csrf(t, first) || !strings.Contains(again, `name="next" value="/console/ledger"`) {
		t.Fatalf("the older login form: %d\n%s", st, again)
	}
	if st, at, _ := b.signIn(again, nil); st != http.StatusOK || at != "/console/ledger" {
		t.Fatalf("the form shown again: %d at %s", st, at)
	}
	// Signed in in another tab: the older form goes on to the console.
	if st, at, _ := b.signIn(second, nil); st != http.StatusOK || at != "/console/" {
		t.Errorf("the older form once signed in: %d at %s", st, at)
	}

	// An older form typed with another user's name, on a browser signed
	// in as county: not the console as county (the city office would act
	// as county unknowing), but the form again, saying who is signed in.
	_, third := b.get("/console/login")
	_, _ = b.get("/console/login") // a newer login page makes the third one old
	form := url.Values{"csrf": {csrf(t, third)}, "username": {" " + apptest.CityOffice}, "password": {apptest.Passwords[apptest.CityOffice]}}
	st, page := b.post("/console/login", form)
	if st != http.StatusForbidden || !strings.Contains(page, "此浏览器现在登录的是 county，不是 city") || csrf(t, page) == csrf(t, third) {
		t.Fatalf("an older form for another user: %d\n%s", st, page)
	}
	if _, home := b.get("/console/queue"); !strings.Contains(home, "赵督查") {
		t.Errorf("the refused form changed the session:\n%s", home)
	}
	// The form shown again signs the city office in, and county's
	// session ends with it.
	base, _ := url.Parse(srv.URL + "/console/")
	countyCookies := b.c.Jar.Cookies(base)
	form.Set("csrf", csrf(t, page))
	if st, _ := b.post("/console/login", form); st != http.StatusOK {
		t.Fatalf("the form shown again: %d", st)
	}
	if _, home := b.get("/console/queue"); !strings.Contains(home, "刘督查") {
		t.Errorf("not signed in as the city office:\n%s", home)
	}
	old := newBrowser(t, srv)
	old.c.Jar.SetCookies(base, countyCookies)
	old.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if st, _ := old.get("/console/queue"); st == http.StatusOK {
		t.Error("county's session lives on after the browser signed in as the city office")
	}
}

// TestLoginLockedSaysWhen: a sign-in refused for too many failures
// answers 429 with the Retry-After the API gives, in whole seconds
// rounded up, and a page that says how long to wait.
func TestLoginLockedSaysWhen(t *testing.T) {
	srv := apptest.Start(t)
	b := newBrowser(t, srv)
	for i := range 5 {
		st, page := b.login(apptest.CountyOffice, "wrong-password-"+strconv.Itoa(i))
		if st != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, st)
		}
		// Said to a screen reader as the page opens (a11y probe: no role).
		if !strings.Contains(page, `<p class="alert" role="alert" id="login-error">用户名或密码错误`) {
			t.Errorf("failure %d: the refusal is not an alert", i+1)
		}
	}
	_, page := b.get("/console/login")
	req, _ := http.NewRequest(http.MethodPost, b.base+"/console/login", strings.NewReader(url.Values{"csrf": {csrf(t, page)},
		"username": {apptest.CountyOffice}, "password": {apptest.Passwords[apptest.CountyOffice]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "后再试") {
		t.Fatalf("sign-in while locked: %d\n%s", resp.StatusCode, body)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds", resp.Header.Get("Retry-After"))
	}
}

package console_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// browserAt is newBrowser for a browser whose requests come from the
// loopback address ip (127.x.y.z: any of them reaches the server).
func browserAt(t *testing.T, srv *apptest.Server, ip string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: apptest.TransportFrom(ip)}}
}

// TestKnownBrowserPassesTheAccountLock: wrong passwords for an office's
// account sent from many addresses lock it for browsers it never signed
// in on, but not for the browser its owner signs in on every day (the
// black-box probe: twenty failures from fresh addresses, then one an
// hour, kept an office out of the console as long as the guesser liked).
func TestKnownBrowserPassesTheAccountLock(t *testing.T) {
	srv := apptest.Start(t)
	owner := loggedIn(t, srv, apptest.CountyOffice) // its everyday browser, signed in before
	_, page := owner.get("/console/")
	if st, _ := owner.post("/console/logout", url.Values{"csrf": {csrf(t, page)}}); st != http.StatusOK {
		t.Fatalf("log out: %d", st)
	}
	for i := range 25 {
		st, page := browserAt(t, srv, "127.0.1."+strconv.Itoa(i+10)).login(apptest.CountyOffice, "wrong guess")
		if st != http.StatusUnauthorized && st != http.StatusTooManyRequests {
			t.Fatalf("guess %d: %d\n%s", i+1, st, page)
		}
	}
	if st, page := browserAt(t, srv, "127.0.2.1").login(apptest.CountyOffice, apptest.Passwords[apptest.CountyOffice]); st != http.StatusTooManyRequests || !strings.Contains(page, "登录失败次数过多") {
		t.Errorf("the right password on a browser never signed in on: %d, want 429 登录失败次数过多", st)
	}
	if st, page := owner.login(apptest.CountyOffice, apptest.Passwords[apptest.CountyOffice]); st != http.StatusOK || !strings.Contains(page, "审核队列") {
		t.Errorf("the owner on their everyday browser: %d, want signed in\n%s", st, page)
	}
}

package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDatabaseCutAnswersUnavailable: while the database's connections
// are cut — those in the pool closed under it, each new one taken and
// closed at once, as a proxy or a load balancer in front of a database
// that went down does — every request that needs it is answered 503
// unavailable with a Retry-After, whatever words the driver found for the
// cut (a bare "unexpected EOF" among them): sign-in, pull, push and a
// console page, never 500. Once the database is back, they are served
// again. (Multi-server probe: a third of sign-ins and pulls were 500.)
func TestDatabaseCutAnswersUnavailable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	sw := newCutter(t, u.Host)
	u.Host = sw.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	srv := apptest.Start(t, func(c *app.Config) { c.Database = u.String() })
	phone := srv.Login(apptest.Inspector)
	office := consoleSession(t, srv.URL, apptest.CountyOffice, "county123")
	// A sign-in form, opened before the cut and sent during it.
	jar, _ := cookiejar.New(nil)
	signer := &http.Client{Jar: jar}
	loginCSRF := formCSRF(t, signer, srv.URL+"/console/login")

	sw.cut()
	ctx := context.Background()
	unavailable := func(what string, err error) {
		t.Helper()
		var ae *syncproto.APIError
		if !asAPIError(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Body.Code != syncproto.CodeUnavailable || ae.RetryAfter <= 0 {
			t.Errorf("%s with the database cut: %v, want 503 unavailable with a Retry-After", what, err)
		}
	}
	// Several of each: a pool's connections are cut each its own way.
	for range 4 {
		_, err := srv.NewClient().Login(ctx, apptest.Inspector, "inspector123", "cut")
		unavailable("a sign-in", err)
		_, err = phone.Pull(ctx, "", 100)
		unavailable("a pull", err)
		_, err = phone.Push(ctx, uuid.NewString(), []syncproto.Mutation{apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields(
			"county", apptest.Xinfu, "checkpoint", "豆罗检查站", "plate", "晋H12345", "checked_at", "2026-11-28T10:00:00+08:00"))})
		unavailable("a push", err)
		resp, err := office.Get(srv.URL + "/console/vehicles")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "暂时无法访问数据存储") || resp.Header.Get("Retry-After") == "" {
			t.Errorf("a console page with the database cut: %d %q (Retry-After %q), want 503 saying the store is out of reach, and when to try again",
				resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}
	// A console sign-in: said in an office's words, not a phone's.
	resp, err := signer.PostForm(srv.URL+"/console/login", url.Values{"csrf": {loginCSRF}, "username": {apptest.CountyOffice}, "password": {"county123"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || strings.Contains(string(body), "手机") ||
		!strings.Contains(string(body), "本次操作未完成") {
		t.Errorf("a console sign-in with the database cut: %d (Retry-After %q) %q", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	sw.restore()
	if _, err := phone.Pull(ctx, "", 100); err != nil {
		t.Errorf("a pull once the database is back: %v", err)
	}
}

// asAPIError is errors.As for the client's error.
func asAPIError(err error, ae **syncproto.APIError) bool {
	e, ok := err.(*syncproto.APIError)
	if !ok {
		return false
	}
	*ae = e
	return true
}

// formCSRF opens the page at u with c and returns its form's CSRF token.
func formCSRF(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form at %s: %s", u, page)
	}
	return string(m[1])
}

// consoleSession signs user in to the console at base and returns the
// browser's client.
func consoleSession(t *testing.T, base, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/console/login", url.Values{"csrf": {formCSRF(t, c, base+"/console/login")}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/console/login" {
		t.Fatalf("console sign-in: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return c
}

// cutter forwards connections to a database until cut: then it closes
// those it carries, and takes each new one and closes it at once, until
// restored.
type cutter struct {
	addr  string
	down  atomic.Bool
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c := &cutter{addr: ln.Addr().String()}
	go accept(ln, func(conn net.Conn) {
		if c.down.Load() {
			conn.Close()
			return
		}
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
		go forward(conn, target)
	})
	return c
}

func (c *cutter) cut() {
	c.down.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *cutter) restore() { c.down.Store(false) }

// Package console is the office console: server-rendered pages in Chinese
// for county and city offices (login, review queue, inspection detail with
// approve and return), mounted under /console/ on the API's echo server.
// Templates and CSS are embedded; nothing is loaded from the internet.
//
// Sessions are stored in the database (server.ConsoleSessionStore), keyed
// by the hash of a random token in an HttpOnly, SameSite=Lax cookie limited
// to /console, so they survive a restart, expire (idle and absolute
// limits) and can be revoked (sessions.go). Every POST carries the
// session's CSRF token in a hidden field (the login form a token bound to
// a pre-login cookie), and every page checks the user's county scope.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

//go:embed templates/*.html templates/console.css templates/*.js
var files embed.FS

// AddUserFunc creates a user with a hashed password (app.App.AddUser).
type AddUserFunc func(ctx context.Context, username, password, displayName string, role server.Role, counties []string) (*server.User, error)

// Deps are the parts the console uses.
type Deps struct {
	Syncer *server.Syncer
	Auth   *auth.Service
	Store  server.Store
	Blobs  server.BlobStore // nil: photos are not served
	Log    *slog.Logger
	// AddUser creates users from the users page; nil: adding is refused.
	AddUser AddUserFunc
	// TileURL is a map tile URL template with {z}, {x} and {y}; "" shows
	// coordinates only.
	TileURL string
	// Sealer gives the monthly report's audit seal (report.go); nil: the
	// report is exported without one.
	Sealer *server.Sealer
}

const (
	sessionCookie = "fs_console"
	loginCookie   = "fs_console_login" // binds the login form's CSRF token
	knownCookie   = "fs_console_known" // the accounts signed in on this browser (knownClients)
	cookiePath    = "/console"
)

// Console serves the office pages.
type Console struct {
	d        Deps
	tmpl     map[string]*template.Template
	counties []seeds.County
	names    map[string]string // county code → name
	set      *seeds.Set
}

// Mount adds the console's routes under /console/ to e.
func Mount(e *echo.Echo, d Deps) (*Console, error) {
	set, err := seeds.Load()
	if err != nil {
		return nil, err
	}
	c := &Console{d: d, set: set, counties: set.Counties, names: map[string]string{}}
	for _, ct := range set.Counties {
		c.names[ct.Code] = ct.Name
	}
	c.names[server.CityCounty] = "市本级"
	if c.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	// A form's body: the ledger's carries a note of up to 8,000 Chinese
	// characters twice (as typed, and as the form began: orig), each
	// percent-encoded in 9 bytes, with its evidence.
	g := e.Group("/console", securityHeaders, c.htmlErrors, middleware.BodyLimit("1M"), oneValueEach)
	// Errors the console's routes return before htmlErrors runs (the
	// API's checks of every request's query and form) are its pages too.
	if api := e.HTTPErrorHandler; api != nil {
		e.HTTPErrorHandler = func(err error, ec echo.Context) {
			if p := ec.Request().URL.Path; (p == "/console" || strings.HasPrefix(p, "/console/")) && !ec.Response().Committed {
				if c.errorPage(ec, err) == nil {
					return
				}
			}
			api(err, ec)
		}
	}
	// Browsers ask for /favicon.ico (and, on some pages, the console's
	// own) whatever a page links: the field app's icon answers both.
	e.GET("/favicon.ico", favicon)
	g.GET("/favicon.ico", favicon)
	g.GET("/console.css", c.css)
	g.GET("/keys.js", script("keys.js"))
	g.GET("/forms.js", script("forms.js"))
	g.GET("/login", c.loginPage)
	g.POST("/login", c.login)
	g.POST("/logout", c.logout, c.authn, c.checkCSRF)
	g.GET("/", c.queue, c.authn)
	g.GET("/queue", c.queue, c.authn)
	g.GET("/inspections/:id", c.detail, c.authn, pageID)
	g.POST("/inspections/:id/review", c.review, c.authn, pageID, c.checkCSRF)
	g.POST("/findings/:id/verify", c.verifyFinding, c.authn, pageID, c.checkCSRF)
	g.GET("/bulk", c.bulkConfirm, c.authn)
	g.POST("/bulk", c.bulkApprove, c.authn, c.checkCSRF)
	g.GET("/photos/:id/:variant", c.photo, c.authn, pageID)
	g.GET("/findings", c.findingsList, c.authn)
	g.GET("/vehicles", c.vehicles, c.authn)
	g.GET("/vehicles/:id", c.vehicle, c.authn, pageID)
	g.POST("/vehicles/:id/void", c.voidVehicle, c.authn, pageID, c.checkCSRF)
	g.GET("/ledger", c.ledger, c.authn)
	g.POST("/ledger/:task/:county", c.reportProgress, c.authn, c.checkCSRF)
	g.GET("/report", c.report, c.authn)
	g.GET("/report.csv", c.reportCSV, c.authn)
	g.GET("/report.xlsx", c.reportXLSX, c.authn)
	g.GET("/report/seal.json", c.reportSeal, c.authn)
	g.GET("/report/audit.jsonl", c.reportAuditEntries, c.authn)
	g.GET("/queue.xlsx", c.queueXLSX, c.authn)
	g.GET("/findings.xlsx", c.findingsXLSX, c.authn)
	g.GET("/findings-list.xlsx", c.findingsListXLSX, c.authn)
	g.GET("/vehicles.xlsx", c.vehiclesXLSX, c.authn)
	g.GET("/ledger.xlsx", c.ledgerXLSX, c.authn)
	g.GET("/devices", c.devices, c.authn)
	g.GET("/users", c.users, c.authn)
	g.POST("/users", c.addUser, c.authn, c.checkCSRF)
	g.POST("/users/:username/counties", c.setCounties, c.authn, c.checkCSRF)
	g.POST("/users/:username/role", c.setRole, c.authn, c.checkCSRF)
	g.POST("/devices/:id/revoke", c.revokeDevice, c.authn, pageID, c.checkCSRF)
	g.POST("/devices/:id/reinstate", c.reinstateDevice, c.authn, pageID, c.checkCSRF)
	g.GET("/search", c.search, c.authn)
	g.GET("/overview", c.overview, c.authn)
	g.GET("/sites", c.sites, c.authn)
	g.GET("/sites/new", c.siteForm, c.authn)
	g.GET("/sites/:id", c.siteForm, c.authn, pageID)
	g.POST("/sites", c.saveSite, c.authn, c.checkCSRF)
	g.POST("/sites/:id", c.saveSite, c.authn, pageID, c.checkCSRF)
	g.GET("/map", c.siteMapPage, c.authn)
	c.mountAccounts(g)
	// The console's pages are read (GET, HEAD) and its forms posted
	// (POST): another method on a page that exists (a GET of a form's
	// address included) is 405 naming the methods it takes, and OPTIONS
	// is answered 204 with them, as in the
	// API — not the 404 of a page that does not exist, which the group's
	// catch-all would answer.
	g.Match([]string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions}, "/*", func(ec echo.Context) error {
		allow := routedMethods(e, ec.Request())
		if len(allow) == 0 {
			return echo.ErrNotFound
		}
		ec.Response().Header().Set(echo.HeaderAllow, strings.Join(append([]string{http.MethodOptions}, allow...), ", "))
		if ec.Request().Method == http.MethodOptions {
			return ec.NoContent(http.StatusNoContent)
		}
		return echo.ErrMethodNotAllowed
	}, c.maybeAuthn)
	e.GET("/console", func(ec echo.Context) error { return ec.Redirect(http.StatusSeeOther, "/console/") })
	return c, nil
}

// manyValued are the parameters a console address or form may repeat:
// the inspections ticked for bulk approval, a user's counties.
var manyValued = map[string]bool{"id": true, "counties": true}

// oneValueEach refuses an address that gives a parameter two different
// values (month=2026-11&month=2026-10: a link edited by hand, a bookmark
// joined to another), which took the first silently and showed a list
// other than the one asked for (city probe), and a form that does
// (decision=approve&decision=return approved: verification probe; the
// API refuses a key twice in JSON). The same value twice is one. The
// API refuses any repeat in a query (strictQuery); the console's links
// and forms never repeat one.
func oneValueEach(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if err := oneValue("链接中的参数", ec.QueryParams()); err != nil {
			return err
		}
		if ec.Request().Method == http.MethodPost {
			form, err := ec.FormParams()
			if err != nil {
				return &server.Error{Code: syncproto.CodeBadRequest, Message: "提交的表单无法读取", Err: err}
			}
			if err := oneValue("提交的表单中", form); err != nil {
				return err
			}
		}
		return next(ec)
	}
}

// oneValue refuses values (of where) giving a parameter other than
// manyValued two different values.
func oneValue(where string, values url.Values) error {
	for name, vs := range values {
		if manyValued[name] {
			continue
		}
		for _, v := range vs[1:] {
			if v != vs[0] {
				return server.Errorf(syncproto.CodeBadRequest, "%s %s 出现了多次且取值不同（%q、%q），无法确定以哪一个为准", where, server.Abridge(name, 32), server.Abridge(vs[0], 32), server.Abridge(v, 32))
			}
		}
	}
	return nil
}

// pageID answers a page whose address names a record by an id in upper
// case (as typed or copied from elsewhere) with the page of the record's
// id in lower case, the only form ids have; any other id that is not a
// record's is a 400 page that says so (server.CheckID), not a 404 that
// says no such record exists. A form posted to such an address is refused
// alike: the console's own forms never name one.
func pageID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		id := ec.Param("id")
		if server.IsCanonicalUUID(id) {
			return next(ec)
		}
		if m, lower := ec.Request().Method, strings.ToLower(id); (m == http.MethodGet || m == http.MethodHead) && server.IsCanonicalUUID(lower) {
			u := *ec.Request().URL
			u.Path, u.RawPath = strings.Replace(u.Path, "/"+id, "/"+lower, 1), ""
			return ec.Redirect(http.StatusMovedPermanently, u.RequestURI())
		}
		return server.CheckID("链接中的编号", id)
	}
}

// routedMethods are the methods a console path has routes for (GET
// with HEAD), found by routing the request as each: a path that only the
// group's catch-all takes has none.
func routedMethods(e *echo.Echo, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := e.NewContext(r, nil)
		e.Router().Find(m, echo.GetPath(r), probe)
		if p := probe.Path(); p == "" || p == "/console/*" {
			continue
		}
		out = append(out, m)
		if m == http.MethodGet {
			out = append(out, http.MethodHead)
		}
	}
	return out
}

func (c *Console) css(ec echo.Context) error {
	b, err := files.ReadFile("templates/console.css")
	if err != nil {
		return err
	}
	ec.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return ec.Blob(http.StatusOK, "text/css; charset=utf-8", b)
}

// iconPath is the field app's icon (package webapp serves it, with an
// ETag), which the console's pages link as theirs.
const iconPath = "/app/icons/icon-192.png"

// favicon sends the browser to the field app's icon, for a day before it
// asks again.
func favicon(ec echo.Context) error {
	ec.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return ec.Redirect(http.StatusMovedPermanently, iconPath)
}

// script serves one of the console's scripts (the lightbox's keys, the
// forms' guard against a second click): pages allow scripts from the
// console's own origin, never inline, and work without them.
func script(name string) echo.HandlerFunc {
	return func(ec echo.Context) error {
		b, err := files.ReadFile("templates/" + name)
		if err != nil {
			return err
		}
		ec.Response().Header().Set("Cache-Control", "private, max-age=3600")
		return ec.Blob(http.StatusOK, "text/javascript; charset=utf-8", b)
	}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie sets one of the console's cookies, Secure when the browser
// reached the console over HTTPS — directly, or through a trusted proxy
// that says so (the API's forwarding middleware drops what an untrusted
// peer says), so that a session never travels in clear text.
func setCookie(ec echo.Context, name, value string, maxAge int) {
	ec.SetCookie(&http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: ec.Scheme() == "https"})
}

const (
	ctxPrincipal = "console.principal"
	ctxSession   = "console.session"
	ctxToken     = "console.token"
)

// authn loads the session's user afresh on every request, so a disabled
// user or a changed county list takes effect at once; without a session it
// redirects to the login page.
func (c *Console) authn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		token, s, p, err := c.signedIn(ec.Request().Context(), ec)
		if err == errNoSession {
			if m := ec.Request().Method; m == http.MethodGet || m == http.MethodHead {
				return ec.Redirect(http.StatusSeeOther, loginURL(ec))
			}
			return server.Errorf(syncproto.CodeUnauthorized, "请先登录")
		}
		if err != nil {
			return err
		}
		ec.Set(ctxPrincipal, p)
		ec.Set(ctxSession, s)
		ec.Set(ctxToken, token)
		return next(ec)
	}
}

// maybeAuthn is authn for a page anyone may be answered (the 404 of a
// page that does not exist): a signed-in user's is drawn with the menu,
// and nobody is sent to sign in first.
func (c *Console) maybeAuthn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if token, s, p, err := c.signedIn(ec.Request().Context(), ec); err == nil {
			ec.Set(ctxPrincipal, p)
			ec.Set(ctxSession, s)
			ec.Set(ctxToken, token)
		}
		return next(ec)
	}
}

// errNoSession is a request that came with no session cookie.
var errNoSession = errors.New("no console session")

// signedIn returns the request's live session and its user as they are
// now: errNoSession without a session cookie; unauthorized for a session
// that ended; forbidden (and the session ended) for a user disabled or no
// longer allowed the console. A request that acts on many records (a bulk
// approval) asks again before each, so that a disable or a new county
// list an administrator makes meanwhile stops it there.
func (c *Console) signedIn(ctx context.Context, ec echo.Context) (string, *session, *server.Principal, error) {
	token, s, err := c.sessionOf(ctx, ec)
	if err != nil {
		return "", nil, nil, err
	}
	if s == nil {
		if ck, err := ec.Cookie(sessionCookie); err == nil && ck.Value != "" {
			// A session that was: timed out, signed out in another
			// tab, or ended by an administrator.
			return "", nil, nil, server.Errorf(syncproto.CodeUnauthorized, "登录已失效（超时未操作、已在别处退出或被管理员结束），请重新登录")
		}
		return "", nil, nil, errNoSession
	}
	u, _, err := c.d.Store.UserByUsername(ctx, s.username)
	if server.ErrorCode(err) == syncproto.CodeNotFound || (err == nil && (u.Disabled || !mayUse(u.Role))) {
		if err := c.drop(ctx, token); err != nil {
			return "", nil, nil, err
		}
		return "", nil, nil, server.Errorf(syncproto.CodeForbidden, "账号已停用或无权使用督查后台，请重新登录")
	}
	if err != nil {
		return "", nil, nil, err
	}
	return token, s, &server.Principal{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Role: u.Role, Counties: u.Counties}, nil
}

// mayUse reports whether a role may sign in to the console: offices and
// admins, never inspectors (they use the phone).
func mayUse(r server.Role) bool {
	return r == server.RoleCountyOffice || r == server.RoleCityOffice || r == server.RoleAdmin
}

func principalOf(ec echo.Context) *server.Principal {
	p, _ := ec.Get(ctxPrincipal).(*server.Principal)
	return p
}

func sessionFrom(ec echo.Context) *session {
	s, _ := ec.Get(ctxSession).(*session)
	return s
}

var errCSRF = server.Errorf(syncproto.CodeForbidden, "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试")

// securityHeaders marks every console answer (pages, exports, photos) as
// not to be sniffed into another type, and keeps the console's paths,
// which carry record ids and filters, out of the Referer sent elsewhere.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		return next(ec)
	}
}

// checkCSRF refuses a POST whose csrf field is not the session's token.
func (c *Console) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		s := sessionFrom(ec)
		// From the body only: a token in a URL ends up in logs and in
		// the Referer of the next page.
		if s == nil || !sameToken(ec.Request().PostFormValue("csrf"), s.csrf) {
			return errCSRF
		}
		return next(ec)
	}
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// pauseAt, set by tests only, is called at named points of a request
// (before its handler: "handler"; before each item of a bulk approval:
// "bulk"), so that a test can act there (close the browser's connection)
// without waiting on a clock.
var pauseAt func(r *http.Request, point string)

// htmlErrors renders every error of a console route as a Chinese page
// instead of the API's JSON.
func (c *Console) htmlErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if pauseAt != nil {
			pauseAt(ec.Request(), "handler")
		}
		err := next(ec)
		if err == nil || ec.Response().Committed {
			return err
		}
		return c.errorPage(ec, err)
	}
}

// errorPage answers err with the console's Chinese error page (or, for a
// GET that needs a session, the login page).
func (c *Console) errorPage(ec echo.Context, err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			err = server.Errorf(syncproto.CodeNotFound, "页面不存在")
		case http.StatusMethodNotAllowed:
			err = server.Errorf(syncproto.CodeMethodNotAllowed, "不支持此请求方法")
		case http.StatusRequestEntityTooLarge:
			err = server.Errorf(syncproto.CodeBodyTooLarge, "提交的内容过大")
		default:
			err = &server.Error{Code: syncproto.CodeInternal, Message: "服务器内部错误", Err: he}
		}
	}
	code := server.ErrorCode(err)
	if code == syncproto.CodeInternal && ec.Request().Context().Err() != nil {
		// The browser went away (a page left, a second click) and the
		// work was abandoned with whatever the store says of a cancelled
		// context: not a server fault, as in the API (no ERROR, no 500).
		if c.d.Log != nil {
			c.d.Log.Info("console request abandoned by the client", "path", ec.Request().URL.Path, "err", err)
		}
		err = &server.Error{Code: syncproto.CodeUnavailable, Message: "请求已取消", Err: err}
		code = syncproto.CodeUnavailable
	}
	unreachable := server.StoreUnreachable(err)
	if o := server.Outage(ec.Request().Context(), err, c.d.Store, c.d.Blobs); o != err {
		err, code, unreachable = o, server.ErrorCode(o), true
	}
	if code == syncproto.CodeInternal && c.d.Log != nil {
		c.d.Log.Error("console error", "path", ec.Request().URL.Path, "err", err)
	}
	message := server.ErrorMessage(err)
	if full := server.StorageFull(err); full || unreachable {
		// The store's messages speak to phones (数据仍在手机上，稍后会自动
		// 重试): an office's browser resends nothing.
		if c.d.Log != nil {
			c.d.Log.Error("console: store refused the request", "path", ec.Request().URL.Path, "err", err)
		}
		message = "服务器暂时无法访问数据存储，本次操作未完成，请稍后重试"
		if full {
			message = "服务器存储空间已满，本次操作未保存，请稍后重试（请告知管理员）"
		}
	}
	status := syncproto.HTTPStatus(code)
	if s := server.RetryAfterSeconds(err); s > 0 {
		// As the API says it: when to try again (verification probe: the
		// console's 503 said nothing).
		ec.Response().Header().Set("Retry-After", strconv.Itoa(s))
	}
	if m := ec.Request().Method; status == http.StatusUnauthorized && (m == http.MethodGet || m == http.MethodHead) {
		return ec.Redirect(http.StatusSeeOther, loginURL(ec))
	}
	data := map[string]any{"Status": status, "Heading": errorHeading(code, status), "Message": message}
	data["Back"], data["BackLabel"] = c.backLink(ec, status)
	if status == http.StatusUnauthorized {
		// A form sent after the session ended: sign in again, back to
		// the page the form was on.
		data["Login"] = "/console/login"
		if next, ok := returnTo(data["Back"].(string)); ok && next != "/console/" {
			data["Login"] = "/console/login?" + url.Values{"next": {next}}.Encode()
		}
	}
	if r := ec.Request(); r.Method == http.MethodPost {
		// What the office typed is shown again, to copy into the form
		// when it is opened anew (a review refused because the record
		// changed must not lose a long comment, nor a ledger report its
		// note and evidence).
		var kept []keptText
		for _, f := range typedFields {
			// As valid text: a form refused for invalid UTF-8 or a NUL
			// (api's storableText) shows what was typed, not those bytes.
			if v := strings.TrimSpace(strings.ToValidUTF8(strings.ReplaceAll(r.PostFormValue(f.name), "\x00", ""), "\uFFFD")); v != "" {
				kept = append(kept, keptText{Label: f.label, Text: v})
			}
		}
		data["Kept"] = kept
	}
	return c.render(ec, status, "error.html", data)
}

// errorHeading is an error page's heading: what happened, in the words
// of an office, not an HTTP status (the message below it says why).
func errorHeading(code string, status int) string {
	if code == syncproto.CodeConflict {
		// Not always someone else's change: the same office's earlier
		// decision in another tab, or a decision the record's state does
		// not allow yet (the message below says which).
		return "操作与记录当前状态不符"
	}
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return "提交的内容有误"
	case http.StatusUnauthorized:
		return "需要重新登录"
	case http.StatusForbidden:
		return "无权操作"
	case http.StatusNotFound:
		return "未找到"
	case http.StatusRequestEntityTooLarge:
		return "提交的内容过大"
	case http.StatusTooManyRequests:
		return "操作过于频繁"
	case http.StatusServiceUnavailable, http.StatusInsufficientStorage:
		return "服务器暂时无法处理"
	}
	if status >= 500 {
		return "服务器出错"
	}
	return "无法完成操作"
}

// typedFields are the fields of the console's forms where an office types
// free text (a comment, a note, evidence), with their names on the page:
// what a refused form shows again to copy. Passwords are never among them.
var typedFields = []struct{ name, label string }{
	{"comment", "意见"}, {"deadline", "新的整改时限"}, {"note", "进展说明"}, {"evidence", "佐证材料"},
	{"responsible_leader", "责任领导"}, {"responsible_person", "责任人"},
}

// keptText is a typed field of a refused form, shown again to copy.
type keptText struct{ Label, Text string }

// sections are the console's parts by the first segment of their paths,
// with the page that lists each and its name: where an error page leads
// back to.
var sections = map[string][2]string{
	"inspections": {"/console/queue", "返回审核队列"}, "queue": {"/console/queue", "返回审核队列"},
	"bulk": {"/console/queue", "返回审核队列"}, "findings": {"/console/findings", "返回问题整改"},
	"vehicles": {"/console/vehicles", "返回路检路查"}, "ledger": {"/console/ledger", "返回整改台账"},
	"sites": {"/console/sites", "返回点位列表"}, "map": {"/console/sites", "返回点位列表"},
	"report": {"/console/report", "返回信息报送"}, "devices": {"/console/devices", "返回同步状态"},
	"users": {"/console/users", "返回用户与设备"}, "overview": {"/console/overview", "返回概览"},
	"search": {"/console/overview", "返回概览"},
}

// listBack reads a detail page's back parameter: the list page the viewer
// opened it from (a path of this console's lists, with its filters and
// fragment), so that its ← link and the page after a decision lead back
// to the list as it was filtered. Anything else (another site, a detail
// page, a path of no list) is ignored: ok is false.
func listBack(raw string) (b backTo, ok bool) {
	if len(raw) > 4096 || !strings.HasPrefix(raw, "/console/") || strings.ContainsAny(raw, "\\\r\n\t") {
		return b, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return b, false
	}
	section := strings.TrimPrefix(u.Path, "/console/")
	label := "返回审核队列"
	if section != "" {
		sec, known := sections[section]
		if !known || sec[0] != "/console/"+section {
			return b, false
		}
		label = sec[1]
	}
	u.Path, u.RawPath = "/console/"+section, ""
	return backTo{Href: u.String(), Label: label, Raw: raw}, true
}

// backTo is a list page to come back to (listBack).
type backTo struct {
	Href, Label string
	Raw         string // as the back parameter gave it, for the page's forms to carry on
}

// withBack adds a list to come back to, when the request carries one, to
// a detail page's address.
func withBack(ec echo.Context, q url.Values) url.Values {
	if b, ok := listBack(ec.FormValue("back")); ok {
		q.Set("back", b.Raw)
	}
	return q
}

// backLink is where an error page leads: for a refused form, the page the
// form was on (an inspection's, a finding's inspection's) when it can be
// shown; else the list of the section the request was in; else the
// console's start.
func (c *Console) backLink(ec echo.Context, status int) (href, label string) {
	rest, _ := strings.CutPrefix(ec.Request().URL.Path, "/console/")
	parts := strings.Split(rest, "/")
	parts[0], _, _ = strings.Cut(parts[0], ".") // report.csv is the report's
	post := ec.Request().Method == http.MethodPost
	if post && status != http.StatusNotFound && status != http.StatusForbidden && len(parts) == 3 && server.IsCanonicalUUID(parts[1]) {
		// The detail page keeps the list it was opened from (withBack);
		// not a page of an id no record has (pageID).
		q := ""
		if v := withBack(ec, url.Values{}); len(v) > 0 {
			q = "?" + v.Encode()
		}
		switch id := parts[1]; parts[0] {
		case "inspections":
			return "/console/inspections/" + url.PathEscape(id) + q, "返回检查详情"
		case "findings":
			// Only a finding the viewer may see: its inspection's id is
			// not another county's to learn.
			if f, err := c.d.Store.Get(ec.Request().Context(), syncproto.EntityFinding, id); err == nil && f != nil &&
				principalOf(ec) != nil && principalOf(ec).CanSee(f.County) {
				return "/console/inspections/" + url.PathEscape(f.Text("inspection_id")) + q + "#finding-" + url.PathEscape(id), "返回检查详情"
			}
		}
	}
	if principalOf(ec) == nil {
		return "/console/", "返回首页"
	}
	// The list, filtered as it was, that the page or form came from
	// (back), or that the ledger's form was posted from (list).
	if b, ok := listBack(ec.FormValue("back")); ok {
		return b.Href, b.Label
	}
	if parts[0] == "ledger" && post {
		if q := postedLedgerFilter(ec).query(); len(q) > 0 {
			return "/console/ledger?" + q.Encode(), sections["ledger"][1]
		}
	}
	if s, ok := sections[parts[0]]; ok {
		return s[0], s[1]
	}
	return "/console/", "返回首页"
}

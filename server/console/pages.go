package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/internal/byterange"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// pageSize is how many inspections a queue page lists.
const pageSize = 30

var statusNames = server.InspectionStatusLabels

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"status": func(s string) string {
			if n := statusNames[s]; n != "" {
				return n
			}
			return s
		},
		"taskStatus":  server.TaskStatusLabel,
		"overdueDays": overdueDays,
		// longer and head cut a long text for a list (the "longtext"
		// template): whether it has more than n characters, and its first n.
		"longer": func(s string, n int) bool { return utf8.RuneCountInString(s) > n },
		"head": func(s string, n int) string {
			r := []rune(s)
			return string(r[:min(n, len(r))]) + "…"
		},
		"runeCount": utf8.RuneCountInString,
		// path escapes one segment of a URL's path (html/template leaves
		// / ? # as they are in an attribute's URL).
		"path": url.PathEscape,
		// isLink reports whether an evidence item is a web address to link.
		"isLink": func(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") },
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(chinaTime).Format("2006-01-02 15:04")
		},
	}
	out := map[string]*template.Template{}
	for _, page := range []string{"login.html", "queue.html", "detail.html", "error.html", "vehicles.html", "vehicle.html", "findings.html", "ledger.html", "report.html", "devices.html", "users.html", "search.html", "overview.html", "sites.html", "site.html", "map.html", "bulk.html", "revoke.html", "password.html"} {
		t, err := template.New(page).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/photos.html", "templates/conflicts.html", "templates/"+page)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", page, err)
		}
		out[page] = t
	}
	return out, nil
}

// chinaTime is China Standard Time (no daylight saving), fixed so that the
// pages do not depend on the server's zone database.
var chinaTime = server.ChinaTime

// render writes a page with the common layout data.
// navItem is one link of the console's main menu; Current marks the
// page being shown (aria-current), so that a screen reader says where
// the office is, not only a colour.
type navItem struct {
	Href, Label string
	Current     bool
}

// mainNav is the console's main menu, in order.
var mainNav = [][2]string{{"/console/overview", "概览"}, {"/console/queue", "审核队列"}, {"/console/findings", "问题整改"},
	{"/console/ledger", "整改台账"}, {"/console/vehicles", "路检路查"}, {"/console/sites", "点位"}, {"/console/map", "地图"},
	{"/console/report", "信息报送"}, {"/console/devices", "同步状态"}, {"/console/users", "用户与设备"}}

// navFor is the main menu as shown on the page at path.
func navFor(path string) []navItem {
	if path == "/console/" {
		path = "/console/queue" // the console's front page is the queue (a11y probe: no item current after sign-in)
	}
	out := make([]navItem, len(mainNav))
	for i, n := range mainNav {
		out[i] = navItem{Href: n[0], Label: n[1], Current: path == n[0]}
	}
	return out
}

func (c *Console) render(ec echo.Context, status int, page string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	if p := principalOf(ec); p != nil {
		data["User"] = p
		data["RoleName"] = roleNames[p.Role]
	}
	if s := sessionFrom(ec); s != nil {
		data["CSRF"] = s.csrf
	}
	data["ExportQuery"] = exportQuery(ec)
	data["Nav"] = navFor(ec.Request().URL.Path)
	// A list's own address, for its links to detail pages to come back
	// to (listBack); and on a detail page, the list it came from.
	data["Here"] = ec.Request().URL.RequestURI()
	// (A posted form carries it as a field: bulk approval's result.)
	if b, ok := listBack(ec.FormValue("back")); ok {
		data["List"] = b
	}
	var buf bytes.Buffer
	if err := c.tmpl[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	out := unbidi(buf.Bytes())
	h := ec.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	imgSrc := "'self'"
	if o := tileOrigin(c.d.TileURL); o != "" {
		imgSrc += " " + o
	}
	h.Set("Content-Security-Policy", "default-src 'self'; img-src "+imgSrc+"; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	return ec.HTMLBlob(status, out)
}

// bidiControls are the characters that reorder the text after them
// (embeddings, overrides, isolates): in a finding's description an
// inspector could make "问题\u202e21-21-6202 限期" read "问题期限
// 2026-12-12". The console's own words never use them.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

// hidden reports whether r is shown as U+FFFD on pages and in exports: a
// direction control (bidiControls), or another control character a phone
// let into free text (a bell, an escape; C0 but tab and line breaks, DEL,
// C1), which HTML and spreadsheets cannot show and XML cannot hold.
func hidden(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune(bidiControls, r)
}

// unbidi returns b (a page, a cell) with each hidden character shown as
// U+FFFD, so that what an office reads is in the order it was written and
// holds nothing it cannot see; b itself when it has none.
func unbidi(b []byte) []byte {
	if bytes.IndexFunc(b, hidden) < 0 {
		return b
	}
	return bytes.Map(func(r rune) rune {
		if hidden(r) {
			return utf8.RuneError
		}
		return r
	}, b)
}

// unbidiText is unbidi for a string.
func unbidiText(s string) string {
	if strings.IndexFunc(s, hidden) < 0 {
		return s
	}
	return string(unbidi([]byte(s)))
}

var roleNames = server.RoleLabels

func (c *Console) loginPage(ec echo.Context) error {
	if _, s, _ := c.sessionOf(ec.Request().Context(), ec); s != nil {
		return ec.Redirect(http.StatusSeeOther, afterLogin(ec))
	}
	return c.showLogin(ec, http.StatusOK, "", "")
}

// afterLogin is where a browser goes once signed in: the page that sent
// it to the login (the form's or the address's next, returnTo), or the
// console's start.
func afterLogin(ec echo.Context) string {
	if next, ok := returnTo(ec.FormValue("next")); ok {
		return next
	}
	return "/console/"
}

// showLogin renders the login form with a fresh token bound to a pre-login
// cookie (double submit), so another site cannot sign a browser in, and
// the address to return to.
func (c *Console) showLogin(ec echo.Context, status int, username, msg string) error {
	token := randomToken()
	setCookie(ec, loginCookie, token, 3600)
	data := map[string]any{"LoginCSRF": token, "Username": username, "Error": msg}
	if next, ok := returnTo(ec.FormValue("next")); ok {
		data["Next"] = next
	}
	return c.render(ec, status, "login.html", data)
}

func (c *Console) login(ec echo.Context) error {
	username := ec.FormValue("username")
	ck, err := ec.Cookie(loginCookie)
	if err != nil || !sameToken(ec.Request().PostFormValue("csrf"), ck.Value) {
		// A login page from before (another tab signed in since, or an
		// hour has passed): signed in already as this user, go on; else
		// the form again, with a fresh token. Nothing is signed in by
		// it, and a browser signed in as someone else says so: going on
		// would have had this user act, unknowing, as that one.
		if _, s, _ := c.sessionOf(ec.Request().Context(), ec); s != nil {
			if typed := strings.TrimSpace(username); typed != "" && !strings.EqualFold(typed, s.username) {
				return c.showLogin(ec, http.StatusForbidden, username,
					fmt.Sprintf("登录页面已过期。此浏览器现在登录的是 %s，不是 %s；要换成 %s，请重新输入密码登录", s.username, typed, typed))
			}
			return ec.Redirect(http.StatusSeeOther, afterLogin(ec))
		}
		return c.showLogin(ec, http.StatusForbidden, username, "登录页面已过期，请重新输入密码登录")
	}
	in, err := c.d.Auth.CheckPassword(ec.Request().Context(), username, ec.FormValue("password"), ec.RealIP(), knownClients(ec)...)
	switch code := server.ErrorCode(err); {
	case code == syncproto.CodeInternal, server.StoreUnreachable(err), server.StorageFull(err):
		// The console's error page: a store out of reach said in an
		// office's words (verification probe: the phones' 数据仍在手机上).
		return err
	case err != nil:
		if s := server.RetryAfterSeconds(err); s > 0 {
			ec.Response().Header().Set("Retry-After", strconv.Itoa(s))
		}
		return c.showLogin(ec, syncproto.HTTPStatus(code), username, server.ErrorMessage(err))
	case !mayUse(in.User.Role):
		return c.showLogin(ec, http.StatusForbidden, username, "巡查员账号请使用手机端，督查后台仅限区县、市级督查人员和管理员登录")
	}
	setCookie(ec, loginCookie, "", -1)
	if id, s, _ := c.sessionOf(ec.Request().Context(), ec); s != nil {
		// Another sign-in on this browser replaces its session: the one
		// before ends here, not at its expiry.
		if err := c.drop(ec.Request().Context(), id); err != nil {
			return err
		}
	}
	token, err := c.newSession(ec, in.User)
	if err != nil {
		return err
	}
	// A reset or a disable that came while the password was compared:
	// the session just stored is ended, as the reset ended the others.
	if err := c.d.Auth.Confirm(ec.Request().Context(), in); err != nil {
		if err := c.drop(ec.Request().Context(), auth.HashToken(token)); err != nil {
			return err
		}
		if server.ErrorCode(err) == syncproto.CodeInternal {
			return err
		}
		return c.showLogin(ec, syncproto.HTTPStatus(server.ErrorCode(err)), username, server.ErrorMessage(err))
	}
	setCookie(ec, sessionCookie, token, 0)
	known, err := c.d.Auth.KnownClient(ec.Request().Context(), in.User.Username)
	if err != nil {
		return err
	}
	before := knownClients(ec)
	setCookie(ec, knownCookie, strings.Join(append([]string{known}, before[:min(len(before), maxKnown-1)]...), "~"),
		int(auth.KnownClientTTL.Seconds()))
	return ec.Redirect(http.StatusSeeOther, afterLogin(ec))
}

// knownClients are the tokens of the accounts that signed in on this
// browser (auth.KnownClient), the latest first: the browser an office
// always uses is not locked out by a guesser's failures elsewhere. The
// cookie keeps maxKnown, for a computer an office's staff share.
func knownClients(ec echo.Context) []string {
	ck, err := ec.Cookie(knownCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	tokens := strings.Split(ck.Value, "~")
	return tokens[:min(len(tokens), maxKnown)]
}

// maxKnown is how many accounts' known-client tokens a browser keeps.
const maxKnown = 4

func (c *Console) logout(ec echo.Context) error {
	if token, _ := ec.Get(ctxToken).(string); token != "" {
		if err := c.drop(ec.Request().Context(), token); err != nil {
			return err
		}
	}
	setCookie(ec, sessionCookie, "", -1)
	return ec.Redirect(http.StatusSeeOther, "/console/login")
}

type countyCount struct {
	Code, Name string
	N          int
	Selected   bool
	// Link lists the county's rows under the page's other filters (the
	// ones N counts).
	Link template.URL
}

// countyChoices are the counties p sees, for a filter's select, with
// selected marked.
func (c *Console) countyChoices(p *server.Principal, selected string) []countyCount {
	var out []countyCount
	for _, ct := range c.counties {
		if p.CanSee(ct.Code) {
			out = append(out, countyCount{Code: ct.Code, Name: ct.Name, Selected: ct.Code == selected})
		}
	}
	return out
}

type queueRow struct {
	ID, County, Site, Template, Status, Started, Inspector string
	// Received is when the server received the inspection (month-day
	// time): a visit made offline days ago arrives today, listed by its
	// visit among old ones (county probe: what came since yesterday).
	Received string
	// Missing is how many items the inspection lacks (缺项), once the
	// server has checked it (Checked).
	Missing int
	Checked bool
	// Failed, Photos and Flags count the failed answers, the photos and
	// their evidence flags, Unchecked the photos not yet uploaded or
	// checked; Bulk says the row may be approved in bulk.
	Failed, Photos, Flags, Unchecked int
	Bulk                             bool
	// Unknown: it answers items its checklist lacks, which keeps it out
	// of a bulk approval though nothing is missing.
	Unknown bool
	// Resubmitted: waiting for review again, after a return.
	Resubmitted bool
}

// resubmitted reports whether inspection r waits for review after a
// return: submitted, and reviewed before.
func resubmitted(r *server.StoredRecord) bool {
	return r.Text("status") == "submitted" && r.Text("reviewed_at") != ""
}

// completenessOptions are the queue's completeness filter.
var completenessOptions = []struct{ Value, Label string }{
	{server.CompletenessIncomplete, "只看缺项"}, {server.CompletenessComplete, "只看完整"},
}

// jsonLen is the length of a JSON array value, 0 for anything else
// (absent, null, not an array).
func jsonLen(v json.RawMessage) int {
	var xs []json.RawMessage
	if json.Unmarshal(v, &xs) != nil {
		return 0
	}
	return len(xs)
}

// missingCount is the number of items an inspection lacks according to
// its missing_items, and whether the server has computed it.
func missingCount(r *server.StoredRecord) (int, bool) {
	var ms []syncproto.MissingItem
	if r.Value("missing_items") == nil || json.Unmarshal(r.Value("missing_items"), &ms) != nil {
		return 0, false
	}
	return len(syncproto.MissingKeys(ms)), true
}

func (c *Console) queue(ec echo.Context) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	q, task, err := c.inspectionQuery(ec)
	if err != nil {
		return err
	}
	q.Limit = pageSize
	sort, err := queueSort(ec)
	if err != nil {
		return err
	}
	page := pageParam(ec)
	q.Offset = (page - 1) * pageSize
	rows, total, err := c.queueEntries(ec, q, sort)
	if err != nil {
		return err
	}
	counts, err := c.d.Store.InspectionCounts(ctx, q)
	if err != nil {
		return err
	}
	filters := nonEmpty(map[string]string{"county": q.County, "template": q.TemplateID, "from": q.From, "to": q.To, "flag": q.Flag,
		"complete": q.Completeness})
	filters.Set("status", q.Status) // kept when empty: "" is every status, absent is the default
	if task != nil {
		filters.Set("task", task.ID)
	}
	if sort.Key != "started" || !sort.Desc {
		filters.Set("sort", sort.Key)
		filters.Set("dir", map[bool]string{true: "desc", false: "asc"}[sort.Desc])
	}
	var cc []countyCount
	for _, ct := range c.counties {
		if p.CanSee(ct.Code) && (p.Role.AllCounties() || counts[ct.Code] > 0 || slices.Contains(p.Counties, ct.Code)) {
			link := maps.Clone(filters)
			link.Set("county", ct.Code)
			cc = append(cc, countyCount{Code: ct.Code, Name: ct.Name, N: counts[ct.Code], Selected: ct.Code == q.County,
				Link: template.URL("/console/queue?" + link.Encode())})
		}
	}
	data := map[string]any{"Rows": rows, "Total": total, "Counties": cc, "Q": q, "Templates": c.set.LatestTemplates(),
		"Statuses": server.ReviewStatuses, "Flags": flagOptions, "Completeness": completenessOptions}
	if task != nil {
		data["Task"] = map[string]string{"ID": task.ID, "Number": task.Text("number"), "Problem": server.Abridge(task.Text("problem"), 60)}
	}
	unsorted := maps.Clone(filters)
	unsorted.Del("sort")
	unsorted.Del("dir")
	data["Columns"] = sortColumns(unsorted, sort)
	if sort.Key != "started" || !sort.Desc {
		data["SortKey"], data["SortDir"] = filters.Get("sort"), filters.Get("dir") // kept by the filter form
	}
	data["CanBulk"] = p.Role.CanReview()
	data["BulkNone"] = takeNotice(ec).Get("bulk") == "none" // bulkConfirm with nothing ticked
	pageLinks(data, "/console/queue", filters, "", page, q.Offset+len(rows), total)
	return c.render(ec, http.StatusOK, "queue.html", data)
}

// maxPage bounds the list page a request may ask for, so that a page's
// offset, (page-1) rows a page, cannot overflow: a million pages of
// rows is past any list, and shows an empty page.
const maxPage = 1 << 20

// pageParam is the list page a request asks for (from 1, at most
// maxPage).
func pageParam(ec echo.Context) int {
	page, _ := strconv.Atoi(ec.QueryParam("page"))
	return min(max(page, 1), maxPage)
}

// nonEmpty returns the parameters whose value is not "".
func nonEmpty(params map[string]string) url.Values {
	v := url.Values{}
	for k, val := range params {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// pageLinks sets a list page's Page, Pages, Prev and Next in data: page
// (from 1) of total rows, pageSize to a page, the rows up to the end of
// this page numbering upTo. The links keep filters and end in suffix (a
// fragment).
func pageLinks(data map[string]any, path string, filters url.Values, suffix string, page, upTo, total int) {
	link := func(n int) string {
		v := url.Values{}
		for k, vals := range filters {
			v[k] = vals
		}
		v.Set("page", strconv.Itoa(n))
		return path + "?" + v.Encode() + suffix
	}
	pages := max(1, (total+pageSize-1)/pageSize)
	data["Page"], data["Pages"] = page, pages
	data["PageNote"] = fmt.Sprintf("第 %d/%d 页", page, pages)
	switch {
	case page > pages:
		// A link kept from before the list shrank, or a typed number.
		data["PageNote"] = fmt.Sprintf("没有第 %d 页（共 %d 页）", page, pages)
		if page == maxPage { // a number past it, held there: not one anyone typed
			data["PageNote"] = fmt.Sprintf("没有这一页（共 %d 页）", pages)
		}
		data["Prev"] = link(pages)
	case page > 1:
		data["Prev"] = link(page - 1)
	}
	if upTo < total {
		data["Next"] = link(page + 1)
	}
}

// checkCounty refuses a page's county filter: a code no county has is a
// wrong request whoever sends it (400, the same for every viewer), one
// outside the viewer's counties is out of scope (what names the records
// it would list). Empty is every county of the viewer's.
func (c *Console) checkCounty(p *server.Principal, county, what string) error {
	switch {
	case county == "":
		return nil
	case c.names[county] == "":
		return server.Errorf(syncproto.CodeInvalidValue, "没有代码为 %q 的区县（区县代码如 140902，即忻府区）", county)
	case !p.CanSee(county):
		return server.Errorf(syncproto.CodeOutOfScope, "无权查看区县 %s 的%s", c.countyName(county), what)
	}
	return nil
}

func (c *Console) countyName(code string) string {
	if n := c.names[code]; n != "" {
		return n
	}
	return code
}

func (c *Console) templateTitle(id string) string {
	if t := c.set.LatestTemplate(id); t != nil {
		return t.Title
	}
	return id
}

func (c *Console) siteName(ec echo.Context, id string) string {
	return c.siteNameIn(ec.Request().Context(), id)
}

// siteNameIn is a site's name, or its id if it cannot be read.
func (c *Console) siteNameIn(ctx context.Context, id string) string {
	s, err := c.d.Store.Get(ctx, syncproto.EntitySite, id)
	if err != nil || s == nil {
		return id
	}
	return s.Text("name")
}

// localTime shows an RFC 3339 time in China Standard Time.
// visitStarted is when an inspection's visit began, as the console shows
// it; for one sent without started_at, when the server received it, said
// so (it counts in that day's month: sqlstore.Dialect.VisitDate).
func visitStarted(insp *server.StoredRecord) string {
	if s := insp.Text("started_at"); s != "" {
		return localTime(s)
	}
	return insp.CreatedAt.In(chinaTime).Format("2006-01-02 15:04") + "（未填开始时间，按收到时间）"
}

// clockSlack is how much later than its receipt a phone's record time
// may be before the console says the phone's clock ran ahead (the
// server's own tolerance of a phone's HLC).
const clockSlack = 5 * time.Minute

// clockAhead warns of a time a phone recorded (RFC 3339) that is later
// than the server received it, by more than clockSlack: the phone's clock
// ran ahead (a visit cannot end up in the future), and the time, with
// the month it counts in, may be wrong. "" otherwise.
func clockAhead(recorded string, received time.Time) string {
	t, ok := server.ParseTime(recorded)
	if !ok || received.IsZero() || t.Sub(received) <= clockSlack {
		return ""
	}
	return "⚠ 比服务器收到此记录的时间（" + received.In(chinaTime).Format("2006-01-02 15:04") + "）晚 " +
		server.ChineseDuration(t.Sub(received)) + "：手机时钟可能不准，此时间及其所计月份可能有误"
}

// arrivedLate warns of a record the server received more than a day
// after the time a phone recorded (RFC 3339): a phone offline since, or
// its clock behind. What was changed on the phone before it arrived is
// not in its 修改历史 (the audit log keeps the changes made after the
// server had it), and a record of a month before its arrival changes
// that month's figures, perhaps reported already. "" otherwise.
func arrivedLate(recorded string, received time.Time) string {
	t, ok := server.ParseTime(recorded)
	if !ok || received.IsZero() || received.Sub(t) <= 24*time.Hour {
		return ""
	}
	msg := "⚠ 检查后 " + strconv.Itoa(int(received.Sub(t)/(24*time.Hour))) + " 天才送达服务器：送达之前在手机上的修改不在修改历史中"
	if at, got := t.In(chinaTime), received.In(chinaTime); at.Year() != got.Year() || at.Month() != got.Month() {
		msg += "；此记录计入 " + at.Format("2006 年 1 月") + "的统计，该月数字如已上报，现已不同"
	}
	return msg
}

// endsBeforeStart warns of a visit whose recorded end (RFC 3339) is
// before its start: a phone's clock changed during the visit, or a time
// typed wrong. "" otherwise, or when either is missing.
func endsBeforeStart(started, finished string) string {
	s, ok1 := server.ParseTime(started)
	f, ok2 := server.ParseTime(finished)
	if !ok1 || !ok2 || !f.Before(s) {
		return ""
	}
	return "⚠ 结束时间早于开始时间 " + server.ChineseDuration(s.Sub(f)) + "：手机时钟可能在检查中被改动，或时间填写有误"
}

// recentStamp is a time the console lists by the minute, said as a date
// in the year it is now (China time) or with its year if another
// (最近送达 of a record last changed in December, read in January).
func recentStamp(t, now time.Time) string {
	t = t.In(chinaTime)
	if t.Year() == now.In(chinaTime).Year() {
		return t.Format("01-02 15:04")
	}
	return t.Format("2006-01-02 15:04")
}

func localTime(s string) string {
	t, ok := server.ParseTime(s)
	if !ok {
		return s
	}
	return t.In(chinaTime).Format("2006-01-02 15:04")
}

func (c *Console) review(ec echo.Context) error {
	id := ec.Param("id")
	decision, comment, seen := ec.FormValue("decision"), ec.FormValue("comment"), formSeq(ec.FormValue("seq"))
	ctx, p := ec.Request().Context(), principalOf(ec)
	if _, err := c.d.Syncer.Review(ctx, p, id, decision, comment, server.Seen{Seq: seen, Evidence: true}); err != nil {
		// The same decision sent again (a double click) finds the first
		// in effect: answered as the first was.
		if code := server.ErrorCode(err); server.ErrorField(err) == "comment" && decision == server.DecisionReturn {
			// The comment refused (left blank, too long): the page again,
			// the comment as typed, the message at it.
			insp, verr := c.visible(ec, syncproto.EntityInspection)
			if verr != nil {
				return verr
			}
			return c.showDetail(ec, insp, syncproto.HTTPStatus(code), &reviewRefusal{Message: server.ErrorMessage(err), Field: "comment", Comment: comment})
		} else if code != syncproto.CodeConflict {
			return err
		}
		if _, done, derr := server.ReviewInEffect(ctx, c.d.Store, p, id, decision, comment, seen); derr != nil || !done {
			return err
		}
	}
	return redirectDone(ec, withQuery("/console/inspections/"+url.PathEscape(id), withBack(ec, url.Values{})), url.Values{"done": {decision}})
}

// verifyFinding takes an office's decision on a finding's rectification
// and shows the finding's inspection again.
func (c *Console) verifyFinding(ec echo.Context) error {
	id, decision, comment, seen := ec.Param("id"), ec.FormValue("decision"), ec.FormValue("comment"), formSeq(ec.FormValue("seq"))
	deadline := ec.FormValue("deadline")
	ctx, p := ec.Request().Context(), principalOf(ec)
	var insp string
	ch, err := c.d.Syncer.VerifyFinding(ctx, p, id, decision, comment, deadline, server.Seen{Seq: seen, Evidence: true})
	switch field := server.ErrorField(err); {
	case err == nil:
		_ = json.Unmarshal(ch.Fields["inspection_id"], &insp)
	case (field == "comment" || field == "deadline") && decision == server.DecisionReopen:
		// As a return's (review): the page again, at the finding's form.
		f, ferr := c.visible(ec, syncproto.EntityFinding)
		if ferr != nil {
			return ferr
		}
		r, ierr := c.d.Store.Get(ctx, syncproto.EntityInspection, f.Text("inspection_id"))
		if ierr != nil {
			return ierr
		} else if r == nil {
			return err
		}
		return c.showDetail(ec, r, syncproto.HTTPStatus(server.ErrorCode(err)),
			&reviewRefusal{Message: server.ErrorMessage(err), Field: field, Comment: comment, Deadline: deadline, Finding: id})
	case server.ErrorCode(err) != syncproto.CodeConflict:
		return err
	default: // the same decision sent again (server.VerifyInEffect)
		f, done, derr := server.VerifyInEffect(ctx, c.d.Store, p, id, decision, comment, seen)
		if derr != nil || !done {
			return err
		}
		insp = f.Text("inspection_id")
	}
	return redirectDone(ec, withQuery("/console/inspections/"+url.PathEscape(insp), withBack(ec, url.Values{}))+"#done", url.Values{"done": {decision}, "finding": {id}})
}

// formSeq reads the version of a record a review form was shown with
// (the record's Seq), for Syncer.Review: a console form always carries it,
// so that a decision is on what the office saw. Without one, or with one
// no record has (a hand-made request, a page damaged on its way), it is
// -1: the decision is refused after the other checks as saying no
// version (server.ErrNoVersion, 400), not as of a changed record.
func formSeq(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return -1
	}
	return n
}

// photo serves a photo's variant to a session whose scope holds it.
func (c *Console) photo(ec echo.Context) error {
	b, err := server.OpenPhoto(ec.Request().Context(), c.d.Store.Get, c.d.Blobs, principalOf(ec), ec.Param("id"), ec.Param("variant"))
	if err != nil {
		return err
	}
	defer b.Close()
	h := ec.Response().Header()
	b.SetHeaders(h)
	// An office's browser may be a shared PC: it keeps the photo but asks
	// each time (the ETag makes that a 304), so that after a sign-out or
	// a change of counties the evidence is not shown from its cache.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	byterange.Apply(ec.Request(), b.Size()) // as the API does
	http.ServeContent(ec.Response(), ec.Request(), "", b.ModTime(), b)
	return nil
}

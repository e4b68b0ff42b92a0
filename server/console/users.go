package console

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

type userRow struct {
	Username, Name, Role, Counties string
	Disabled                       bool
	// Works says the user works in the field (an inspector): a county
	// taken away refuses that county's work still on the phone.
	Works   bool
	Devices []userDevice
	// Boxes are the county checkboxes of the admin's form, the user's
	// counties ticked; Sessions the user's live console sessions (admin).
	Boxes    []countyBox
	Sessions []userSession
	// RoleBoxes are the county checkboxes of the admin's 修改角色 form
	// (nil: no form, the admin's own row); RoleCode the role held.
	RoleBoxes []countyBox
	RoleCode  server.Role
	// History is what administrators did to the account and its devices
	// (the audit log's account entries; admin), newest first.
	History []historyRow
}

type userDevice struct {
	ID, Name, LastSeen string
	Revoked            bool
}

// countyBox is one county checkbox (the "counties" partial of users.html,
// shared by the add-user form and each user's county form).
type countyBox struct {
	Code, Name string
	Checked    bool
}

type userSession struct {
	ID, Created, LastSeen, Where string
}

func (c *Console) countyBoxes(checked []string) []countyBox {
	out := make([]countyBox, 0, len(c.counties)+1)
	for _, ct := range c.counties {
		out = append(out, countyBox{Code: ct.Code, Name: ct.Name, Checked: slices.Contains(checked, ct.Code)})
	}
	return out
}

// users lists the users the caller may see with their devices: all for
// city offices and admins, those sharing a county for county offices.
func (c *Console) users(ec echo.Context) error {
	return c.showUsers(ec, nil)
}

// showUsers renders the users page with extra data (a password shown once).
func (c *Console) showUsers(ec echo.Context, extra map[string]any) error {
	return c.showUsersStatus(ec, http.StatusOK, extra)
}

// showUsersStatus is showUsers answering status (a refused form's).
func (c *Console) showUsersStatus(ec echo.Context, status int, extra map[string]any) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	admin := p.Role == server.RoleAdmin
	all, err := c.d.Store.Users(ctx)
	if err != nil {
		return err
	}
	devs, err := c.d.Store.Devices(ctx, p.Scope())
	if err != nil {
		return err
	}
	byUser := map[string][]userDevice{}
	for _, d := range devs {
		byUser[d.UserID] = append(byUser[d.UserID], userDevice{ID: d.ID, Name: d.Name,
			LastSeen: d.LastSeenAt.In(chinaTime).Format("2006-01-02 15:04"), Revoked: d.RevokedAt != nil})
	}
	// What was done to accounts and devices, read at once and told
	// apart by record (user/<username>, device/<id>).
	history := map[string][]audit.Entry{}
	if admin {
		entries, err := c.d.Store.AccountAudit(ctx)
		if err != nil {
			return err
		}
		for _, e := range entries {
			history[e.Entity+"/"+e.RecordID] = append(history[e.Entity+"/"+e.RecordID], e)
		}
	}
	rows := []userRow{}
	for _, u := range all {
		if !p.Role.AllCounties() && !slices.ContainsFunc(u.Counties, p.CanSee) {
			continue
		}
		names := make([]string, 0, len(u.Counties))
		for _, ct := range u.Counties {
			names = append(names, c.countyName(ct))
		}
		row := userRow{Username: u.Username, Name: u.DisplayName, Role: roleNames[u.Role],
			Counties: strings.Join(names, "、"), Disabled: u.Disabled, Devices: byUser[u.ID], Works: u.Role == server.RoleInspector}
		if u.Role.AllCounties() {
			// Whatever list it stores: it limits nothing, and a form
			// to change it would say it did (CheckCountiesChange).
			row.Counties = "全部区县"
		}
		if admin && !u.Role.AllCounties() {
			row.Boxes = c.countyBoxes(u.Counties)
		}
		if admin && u.Username != p.Username {
			row.RoleBoxes, row.RoleCode = c.countyBoxes(u.Counties), u.Role
		}
		if admin {
			row.History = c.accountHistory(history, u.Username, byUser[u.ID])
			if mayUse(u.Role) {
				ss, err := c.d.Store.ConsoleSessions(ctx, u.Username, SessionTTL, sessionNow())
				if err != nil {
					return err
				}
				for _, s := range ss {
					row.Sessions = append(row.Sessions, userSession{ID: s.ID, Created: s.CreatedAt.In(chinaTime).Format("01-02 15:04"),
						LastSeen: s.LastSeenAt.In(chinaTime).Format("01-02 15:04"), Where: s.IP})
				}
			}
		}
		rows = append(rows, row)
	}
	notice := takeNotice(ec)
	data := map[string]any{"Rows": rows, "Admin": admin, "NewBoxes": c.countyBoxes(nil),
		"Roles":     []server.Role{server.RoleInspector, server.RoleCountyOffice, server.RoleCityOffice, server.RoleAdmin},
		"RoleNames": roleNames, "Done": notice.Get("done"), "DoneUser": notice.Get("user")}
	if name := notice.Get("user"); name != "" && (data["Done"] == "disabled" || data["Done"] == "counties" || data["Done"] == "role") {
		// What the user's phones still owe, which the change holds back
		// (the revocation's confirmation says it of one phone).
		pending := 0
		for _, d := range devs {
			if d.Username == name && d.RevokedAt == nil {
				pending += d.Health.PendingUploads
			}
		}
		data["DonePending"] = pending
	}
	if data["Done"] == "password" {
		data["NewPassword"], data["PasswordUser"] = notice.Get("password"), notice.Get("user")
	}
	if id := notice.Get("device"); id != "" && (data["Done"] == "revoked" || data["Done"] == "reinstated") {
		// The device revoked or reinstated, named (several may share a name).
		if d, err := c.device(ec, id); err == nil {
			data["DoneDevice"] = c.deviceView(d)
		}
	}
	for k, v := range extra {
		data[k] = v
	}
	return c.render(ec, status, "users.html", data)
}

// accountOperations are the account entries' operations, as offices read
// them.
var accountOperations = map[string]string{
	"user_added": "添加用户", "password_reset": "重置密码", "password_changed": "本人修改密码", "user_disabled": "停用", "user_enabled": "启用",
	"user_counties_set": "修改区县", "user_role_set": "修改角色", "device_revoked": "吊销设备", "device_reinstated": "恢复设备",
	"console_session_revoked": "注销后台会话",
}

// accountHistory is what was done to a user's account and devices, newest
// first, from the account entries by record (user/<username>,
// device/<id>).
func (c *Console) accountHistory(history map[string][]audit.Entry, username string, devices []userDevice) []historyRow {
	entries := slices.Clone(history["user/"+username])
	for _, d := range devices {
		entries = append(entries, history["device/"+d.ID]...)
	}
	var out []historyRow
	for _, e := range entries {
		changes := e.DecodeChanges()
		var op string
		_ = json.Unmarshal(changes["operation"].New, &op)
		row := historyRow{Seq: e.Seq, At: e.At.In(chinaTime).Format("2006-01-02 15:04:05"), Who: e.ActorName,
			Action: cmp.Or(accountOperations[op], op), Record: auditEntityNames[e.Entity]}
		if e.Entity == "device" {
			row.Record += " " + shortID(e.RecordID)
		}
		for field, ch := range changes {
			if field == "operation" {
				continue
			}
			var v any
			_ = json.Unmarshal(ch.New, &v)
			shown := fmt.Sprint(v)
			switch field {
			case "role":
				shown = roleNames[server.Role(fmt.Sprint(v))]
				var was string
				if json.Unmarshal(ch.Old, &was) == nil && was != "" {
					shown = roleNames[server.Role(was)] + " → " + shown
				}
			case "counties":
				// What it replaced, where the entry says (a change's, not
				// an addition's): none was every county.
				shown = c.countyNames(ch.New)
				if old := c.countyNames(ch.Old); len(ch.Old) > 0 && old != shown && (string(ch.Old) != "null" || op != "user_counties_set" && op != "user_added") {
					shown = old + " → " + shown
				}
			}
			row.Changes = append(row.Changes, changeRow{Field: fieldLabel(field, nil), New: shown})
		}
		slices.SortFunc(row.Changes, func(a, b changeRow) int { return strings.Compare(a.Field, b.Field) })
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b historyRow) int { return cmp.Compare(b.Seq, a.Seq) })
	return out
}

// countyNames names the counties of a JSON list of codes; 全部区县 for
// none (a city office's, an administrator's).
func (c *Console) countyNames(raw json.RawMessage) string {
	var codes []string
	_ = json.Unmarshal(raw, &codes)
	if len(codes) == 0 {
		return "全部区县"
	}
	names := make([]string, len(codes))
	for i, code := range codes {
		names[i] = c.countyName(code)
	}
	return strings.Join(names, "、")
}

func requireAdmin(ec echo.Context) error {
	if principalOf(ec).Role != server.RoleAdmin {
		return server.Errorf(syncproto.CodeForbidden, "仅管理员可以管理用户和设备")
	}
	return nil
}

// formCounties reads the counties field(s): repeated values or one value
// separated by commas or spaces.
func formCounties(ec echo.Context) []string {
	form, _ := ec.FormParams()
	var out []string
	for _, v := range form["counties"] {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '、' }) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func (c *Console) addUser(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	if c.d.AddUser == nil {
		return server.Errorf(syncproto.CodeForbidden, "此服务器未启用添加用户")
	}
	password := ec.FormValue("password")
	if len(password) < 8 {
		return c.addUserRefused(ec, server.Errorf(syncproto.CodeInvalidField, "密码至少 8 位"))
	}
	role := server.Role(ec.FormValue("role"))
	u, err := c.d.AddUser(ec.Request().Context(), strings.TrimSpace(ec.FormValue("username")), password,
		strings.TrimSpace(ec.FormValue("name")), role, formCounties(ec))
	if err != nil {
		return c.addUserRefused(ec, err)
	}
	c.accountAction(ec, "user_added", "user", u.Username, "role", string(u.Role), "counties", u.Counties)
	return redirectDone(ec, "/console/users", url.Values{"done": {"added"}})
}

// addUserRefused shows the users page again after a refused 添加用户,
// saying why, with the form as it was filled in (but the password): an
// error page lost the name, the role and the counties ticked.
func (c *Console) addUserRefused(ec echo.Context, err error) error {
	code := server.ErrorCode(err)
	if code == syncproto.CodeInternal {
		return err
	}
	field := server.ErrorField(err)
	if field == "" && code == syncproto.CodeConflict {
		field = "username" // taken
	}
	return c.showUsersStatus(ec, syncproto.HTTPStatus(code), map[string]any{"AddError": server.ErrorMessage(err), "AddErrorField": field,
		"NewUser": map[string]string{"Username": strings.TrimSpace(ec.FormValue("username")), "Name": strings.TrimSpace(ec.FormValue("name")),
			"Role": ec.FormValue("role")}, "NewBoxes": c.countyBoxes(formCounties(ec))})
}

func (c *Console) setCounties(ec echo.Context) error {
	return c.setAccess(ec, "")
}

// setRole gives a user another role (the admin's 修改角色 form): working
// in the counties ticked, or in every county for a city office or an
// administrator, whatever is ticked. An administrator does not change
// their own role here: the page would be gone from under them.
func (c *Console) setRole(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	role := server.Role(ec.FormValue("role"))
	if err := role.Check(); err != nil {
		return err
	}
	return c.setAccess(ec, role)
}

// setAccess sets the user's counties, and role unless it is "": audited
// with what they replaced (as the store read it in the change), and told
// on the users page (with the photos the user's phones still owe); the
// role and counties held, sent again, change nothing.
func (c *Console) setAccess(ec echo.Context, role server.Role) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	ctx := ec.Request().Context()
	u, _, err := c.d.Store.UserByUsername(ctx, ec.Param("username"))
	if err != nil {
		return err
	}
	counties := formCounties(ec)
	if role != "" {
		if u.Username == principalOf(ec).Username {
			return server.Errorf(syncproto.CodeForbidden, "不能修改自己的角色，请由其他管理员修改")
		}
		if role.AllCounties() {
			counties = nil // every county, whatever was ticked
		}
	}
	want := cmp.Or(role, u.Role)
	counties = slices.Compact(slices.Sorted(slices.Values(counties))) // as stored
	if sameAccess(u, want, counties) {
		return redirectDone(ec, "/console/users", url.Values{"done": {"unchanged"}, "user": {u.Username}})
	}
	was, err := c.d.Store.SetUserAccess(ctx, u.Username, role, counties)
	if err != nil {
		return err
	}
	switch {
	case sameAccess(was, want, counties): // another administrator made the same change first
		return redirectDone(ec, "/console/users", url.Values{"done": {"unchanged"}, "user": {u.Username}})
	case was.Role == want:
		c.accountAction(ec, "user_counties_set", "user", u.Username, "counties", counties, "counties_was", was.Counties)
		return redirectDone(ec, "/console/users", url.Values{"done": {"counties"}, "user": {u.Username}})
	}
	c.accountAction(ec, "user_role_set", "user", u.Username, "role", string(want), "role_was", string(was.Role), "counties", counties, "counties_was", was.Counties)
	return redirectDone(ec, "/console/users", url.Values{"done": {"role"}, "user": {u.Username}})
}

// sameAccess reports whether u already has the role and the counties
// (none said for a role that sees every county: whatever list it holds).
func sameAccess(u *server.User, role server.Role, counties []string) bool {
	return role == u.Role && (role.AllCounties() && len(counties) == 0 || slices.Equal(counties, u.Counties))
}

// revokeDevice revokes a device once confirmed: the first POST shows
// what the device is and what it still owes (photos not uploaded), with
// the confirming form; the phone's unsent work cannot reach the server
// after it, unless an administrator reinstates the device.
func (c *Console) revokeDevice(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	d, err := c.device(ec, ec.Param("id"))
	if err != nil {
		return err
	}
	if ec.FormValue("confirm") != "1" && d.RevokedAt == nil {
		return c.render(ec, http.StatusOK, "revoke.html", map[string]any{"D": c.deviceView(d)})
	}
	if err := c.setRevoked(ec, d.ID, true); err != nil {
		return err
	}
	return redirectDone(ec, "/console/users", url.Values{"done": {"revoked"}, "device": {d.ID}})
}

// reinstateDevice undoes a revocation made by mistake: the phone's user
// signs in on it again (its old tokens stay ended) and its kept work
// syncs.
func (c *Console) reinstateDevice(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	d, err := c.device(ec, ec.Param("id"))
	if err != nil {
		return err
	}
	if err := c.setRevoked(ec, d.ID, false); err != nil {
		return err
	}
	// Reinstated already (the form sent twice): answered as the first.
	return redirectDone(ec, "/console/users", url.Values{"done": {"reinstated"}, "device": {d.ID}})
}

// device is a device by its id (any user's: the caller is an admin).
func (c *Console) device(ec echo.Context, id string) (*server.Device, error) {
	return server.DeviceByID(ec.Request().Context(), c.d.Store, id)
}

// setRevoked revokes or reinstates a device and audits it, unless it was
// so already (server.SetDeviceRevoked).
func (c *Console) setRevoked(ec echo.Context, id string, revoke bool) error {
	_, a, err := server.SetDeviceRevoked(ec.Request().Context(), c.d.Store, id, revoke, c.now())
	if a != nil {
		c.audit(ec, *a)
	}
	return err
}

// revokeView is what the revocation's confirmation and notice say of a
// device.
type revokeView struct {
	ID, Name, User, Username, Created, LastSync string
	Pending                                     int
	Revoked                                     bool
}

func (c *Console) deviceView(d *server.Device) revokeView {
	v := revokeView{ID: d.ID, Name: d.Name, User: d.UserName, Username: d.Username, Revoked: d.RevokedAt != nil,
		Created: d.CreatedAt.In(chinaTime).Format("2006-01-02 15:04"), LastSync: "从未同步", Pending: d.Health.PendingUploads}
	var last *time.Time
	for _, t := range []*time.Time{d.Health.LastPullAt, d.Health.LastPushAt} {
		if t != nil && (last == nil || t.After(*last)) {
			last = t
		}
	}
	if last != nil {
		v.LastSync = last.In(chinaTime).Format("2006-01-02 15:04")
	}
	return v
}

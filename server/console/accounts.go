package console

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// mountAccounts adds the admin's account actions: disable and enable a
// user, reset a password, revoke a console session. Each is admin-only and
// CSRF-checked, and each that ends a user's access does it through the
// store (the same methods `fieldsync user disable` uses).
func (c *Console) mountAccounts(g *echo.Group) {
	g.POST("/users/:username/disable", func(ec echo.Context) error { return c.setDisabled(ec, true) }, c.authn, c.checkCSRF)
	g.POST("/users/:username/enable", func(ec echo.Context) error { return c.setDisabled(ec, false) }, c.authn, c.checkCSRF)
	g.POST("/users/:username/password", c.resetPassword, c.authn, c.checkCSRF)
	g.GET("/password", c.passwordPage, c.authn)
	g.POST("/password", c.changePassword, c.authn, c.checkCSRF)
	g.POST("/sessions/:id/revoke", c.revokeSession, c.authn, c.checkCSRF)
}

func (c *Console) setDisabled(ec echo.Context, disabled bool) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	u, _, err := c.d.Store.UserByUsername(ec.Request().Context(), ec.Param("username"))
	if err != nil {
		return err
	}
	name := u.Username // as stored, whatever the letter case of the URL
	if disabled && name == principalOf(ec).Username {
		return server.Errorf(syncproto.CodeInvalidValue, "不能停用自己的账号")
	}
	done := "enabled"
	if disabled {
		done = "disabled"
	}
	if u.Disabled == disabled {
		// Sent twice (a double click, a second tab): said, not audited again.
		return redirectDone(ec, "/console/users", url.Values{"done": {"was-" + done}, "user": {name}})
	}
	if err := c.d.Store.SetUserDisabled(ec.Request().Context(), name, disabled); err != nil {
		return err
	}
	c.accountAction(ec, "user_"+done, "user", name)
	return redirectDone(ec, "/console/users", url.Values{"done": {done}, "user": {name}})
}

// resetPassword sets a user's password: the one the admin typed, or a
// generated one, shown once on the page that follows and stored only
// hashed. The user's sessions end, so the old password's sign-ins stop.
func (c *Console) resetPassword(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	u, _, err := c.d.Store.UserByUsername(ec.Request().Context(), ec.Param("username"))
	if err != nil {
		return err
	}
	name := u.Username // as stored, whatever the letter case of the URL
	password := ec.FormValue("password")
	if password == "" {
		password = auth.NewPassword()
	}
	hash, err := auth.HashPassword(password, c.bcryptCost())
	if err != nil {
		return err
	}
	if err := c.d.Store.SetUserPassword(ec.Request().Context(), name, hash); err != nil {
		return err
	}
	c.accountAction(ec, "password_reset", "user", name)
	if name == principalOf(ec).Username { // the admin's own session ended too: said here, once
		setCookie(ec, sessionCookie, "", -1)
		return c.showUsers(ec, map[string]any{"NewPassword": password, "PasswordUser": name})
	}
	// Shown on the page the browser is sent to, once (the notice is read
	// and cleared): a reload of the POST's answer reset it again, and the
	// user was told a password already replaced.
	return redirectDone(ec, "/console/users", url.Values{"done": {"password"}, "user": {name}, "password": {password}})
}

// passwordPage is the form on which a console user changes their own
// password.
func (c *Console) passwordPage(ec echo.Context) error {
	return c.render(ec, http.StatusOK, "password.html", map[string]any{"Done": takeNotice(ec).Get("done") == "1"})
}

// changePassword sets the signed-in user's own password, once their
// current one is checked (slowed after failures as a sign-in is): only an
// administrator's reset could change it, so a password an administrator
// had set stayed one they knew. Every session of the user ends, this
// browser's too, which is signed in again with the new password.
func (c *Console) changePassword(ec echo.Context) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	refuse := func(status int, msg string) error {
		return c.render(ec, status, "password.html", map[string]any{"Error": msg})
	}
	newPW := ec.FormValue("new")
	if newPW != ec.FormValue("again") {
		return refuse(http.StatusBadRequest, "两次输入的新密码不一致")
	}
	if err := auth.CheckNewPassword(ec.FormValue("current"), newPW); err != nil {
		return refuse(http.StatusBadRequest, server.ErrorMessage(err))
	}
	in, err := c.d.Auth.CheckPassword(ctx, p.Username, ec.FormValue("current"), ec.RealIP())
	switch code := server.ErrorCode(err); {
	case code == syncproto.CodeInternal:
		return err
	case code == syncproto.CodeInvalidLogin:
		return refuse(http.StatusForbidden, "当前密码不正确")
	case err != nil:
		if s := server.RetryAfterSeconds(err); s > 0 {
			ec.Response().Header().Set("Retry-After", strconv.Itoa(s))
		}
		return refuse(syncproto.HTTPStatus(code), server.ErrorMessage(err))
	}
	hash, err := auth.HashPassword(newPW, c.bcryptCost())
	if err != nil {
		return err
	}
	if err := c.d.Store.SetUserPassword(ctx, p.Username, hash); err != nil {
		return err
	}
	c.accountAction(ec, "password_changed", "user", p.Username)
	token, err := c.newSession(ec, in.User)
	if err != nil {
		return err
	}
	setCookie(ec, sessionCookie, token, 0)
	return redirectDone(ec, "/console/password", url.Values{"done": {"1"}})
}

// bcryptCost is the cost new passwords are hashed at.
func (c *Console) bcryptCost() int {
	if c.d.Auth != nil && c.d.Auth.BcryptCost != 0 {
		return c.d.Auth.BcryptCost
	}
	return 10
}

func (c *Console) revokeSession(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	// Whose it is, for the audit log (the id is a token's hash: not to be
	// kept there, and its row goes in time).
	owner, started := c.sessionOwner(ec.Request().Context(), ec.Param("id"))
	if err := c.d.Store.RevokeConsoleSession(ec.Request().Context(), ec.Param("id"), sessionNow()); err != nil {
		return err
	}
	c.accountAction(ec, "console_session_revoked", "user", owner, "session_started", started)
	return redirectDone(ec, "/console/users", url.Values{"done": {"session"}})
}

// sessionOwner is the username of a live console session and when it
// began ("" if none is found).
func (c *Console) sessionOwner(ctx context.Context, id string) (username, started string) {
	users, err := c.d.Store.Users(ctx)
	if err != nil {
		return "", ""
	}
	for _, u := range users {
		ss, err := c.d.Store.ConsoleSessions(ctx, u.Username, SessionTTL, sessionNow())
		if err != nil {
			continue
		}
		for _, s := range ss {
			if s.ID == id {
				return u.Username, s.CreatedAt.In(chinaTime).Format("2006-01-02 15:04")
			}
		}
	}
	return "", ""
}

// accountAction records a change to an account, a device or a console
// session — an administrator's, or a user's to their own password —:
// entity and id, then what it set as name, value pairs, a name ending in
// "_was" giving the value before of the one without it (audit).
func (c *Console) accountAction(ec echo.Context, action, entity, id string, set ...any) {
	a := server.AccountAction{Action: action, Entity: entity, RecordID: id, Set: map[string]any{}, Was: map[string]any{}}
	for i := 0; i+1 < len(set); i += 2 {
		if k, was := strings.CutSuffix(fmt.Sprint(set[i]), "_was"); was {
			a.Was[k] = set[i+1]
		} else {
			a.Set[k] = set[i+1]
		}
	}
	c.audit(ec, a)
}

// audit records a in the audit log (server.AuditAccount: a password reset
// lets whoever made it sign in as the user) and in the server's log, with
// who made it and from where (never a password).
func (c *Console) audit(ec echo.Context, a server.AccountAction) {
	ctx := ec.Request().Context()
	p := principalOf(ec)
	err := server.AuditAccount(context.WithoutCancel(ctx), c.d.Store, a.By(p), c.now())
	if c.d.Log == nil {
		return
	}
	if err != nil {
		c.d.Log.ErrorContext(ctx, "admin action not in the audit log", "action", a.Action, a.Entity, a.RecordID, "err", err)
	}
	by := ""
	if p != nil {
		by = p.Username
	}
	attrs := []any{"action", a.Action, "by", by, "client_ip", ec.RealIP(), a.Entity, a.RecordID}
	for _, k := range slices.Sorted(maps.Keys(a.Set)) {
		attrs = append(attrs, k, a.Set[k])
	}
	c.d.Log.InfoContext(ctx, "admin action", attrs...)
}

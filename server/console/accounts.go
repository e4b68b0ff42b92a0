package console

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/url"

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
	g.POST("/sessions/:id/revoke", c.revokeSession, c.authn, c.checkCSRF)
}

func (c *Console) setDisabled(ec echo.Context, disabled bool) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	name := ec.Param("username")
	if disabled && name == principalOf(ec).Username {
		return server.Errorf(syncproto.CodeInvalidValue, "不能停用自己的账号")
	}
	if err := c.d.Store.SetUserDisabled(ec.Request().Context(), name, disabled); err != nil {
		return err
	}
	done := "enabled"
	if disabled {
		done = "disabled"
	}
	c.adminAction(ec, "user_"+done, "user", name)
	return ec.Redirect(http.StatusSeeOther, "/console/users?done="+done+"&user="+url.QueryEscape(name))
}

// resetPassword sets a user's password: the one the admin typed, or a
// generated one, shown once on the page that follows and stored only
// hashed. The user's sessions end, so the old password's sign-ins stop.
func (c *Console) resetPassword(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	name := ec.Param("username")
	password := ec.FormValue("password")
	if password == "" {
		password = newPassword()
	}
	cost := 10
	if c.d.Auth != nil && c.d.Auth.BcryptCost != 0 {
		cost = c.d.Auth.BcryptCost
	}
	hash, err := auth.HashPassword(password, cost)
	if err != nil {
		return err
	}
	if err := c.d.Store.SetUserPassword(ec.Request().Context(), name, hash); err != nil {
		return err
	}
	c.adminAction(ec, "password_reset", "user", name)
	if name == principalOf(ec).Username { // the admin's own session ended too
		setCookie(ec, sessionCookie, "", -1)
	}
	return c.showUsers(ec, map[string]any{"NewPassword": password, "PasswordUser": name})
}

// newPassword returns 12 characters that are easy to read out and type
// (no 0/O, 1/l/I).
func newPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 12)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

func (c *Console) revokeSession(ec echo.Context) error {
	if err := requireAdmin(ec); err != nil {
		return err
	}
	if err := c.d.Store.RevokeConsoleSession(ec.Request().Context(), ec.Param("id"), sessionNow()); err != nil {
		return err
	}
	c.adminAction(ec, "console_session_revoked", "console_session", ec.Param("id"))
	return ec.Redirect(http.StatusSeeOther, "/console/users?done=session")
}

// adminAction records an administrator's change to an account, a device
// or a console session — entity and id, then what it set as name, value
// pairs — in the audit log (server.AuditAccount: a password reset lets
// whoever made it sign in as the user) and in the server's log, with who
// made it and from where (never a password).
func (c *Console) adminAction(ec echo.Context, action, entity, id string, set ...any) {
	ctx := ec.Request().Context()
	p := principalOf(ec)
	a := server.AccountAction{Action: action, Entity: entity, RecordID: id, Set: map[string]any{}}
	if p != nil {
		a.ActorID, a.ActorName = p.UserID, p.Name
	}
	for i := 0; i+1 < len(set); i += 2 {
		a.Set[fmt.Sprint(set[i])] = set[i+1]
	}
	err := server.AuditAccount(context.WithoutCancel(ctx), c.d.Store, a, c.now())
	if c.d.Log == nil {
		return
	}
	if err != nil {
		c.d.Log.ErrorContext(ctx, "admin action not in the audit log", "action", action, entity, id, "err", err)
	}
	by := ""
	if p != nil {
		by = p.Username
	}
	c.d.Log.InfoContext(ctx, "admin action", append([]any{"action", action, "by", by, "client_ip", ec.RealIP(), entity, id}, set...)...)
}

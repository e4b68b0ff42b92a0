package console

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// A page says what a form just did (已审核通过, 已保存点位, 已停用用户 …) from
// a notice the form's answer leaves in a cookie for the page it sends the
// browser to, read there once. An address alone never makes a page say it:
// a crafted link said a pending inspection was approved, or a user was
// disabled with text of the link's choosing, and a reload or a bookmark
// said it again.

// noticeCookie holds the notice, for the path of the page that shows it.
const noticeCookie = "fieldsync_notice"

// ctxNotice caches the request's notice (takeNotice).
const ctxNotice = "console.notice"

// redirectDone answers a form with a redirect to target, a console path
// with its query and fragment, whose page is to say notice (what was done:
// its keys are the page's own, such as done and user).
func redirectDone(ec echo.Context, target string, notice url.Values) error {
	path, _, _ := strings.Cut(target, "?")
	path, _, _ = strings.Cut(path, "#")
	ec.SetCookie(&http.Cookie{Name: noticeCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(notice.Encode())),
		Path: path, MaxAge: 120, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: ec.Scheme() == "https"})
	return ec.Redirect(http.StatusSeeOther, target)
}

// takeNotice returns the notice a form left for this page (redirectDone),
// empty when there is none, and clears it: the page says it once.
func takeNotice(ec echo.Context) url.Values {
	if n, ok := ec.Get(ctxNotice).(url.Values); ok {
		return n
	}
	n := url.Values{}
	if ck, err := ec.Cookie(noticeCookie); err == nil {
		if b, err := base64.RawURLEncoding.DecodeString(ck.Value); err == nil {
			if q, err := url.ParseQuery(string(b)); err == nil {
				n = q
			}
		}
		ec.SetCookie(&http.Cookie{Name: noticeCookie, Path: ec.Request().URL.EscapedPath(), MaxAge: -1, HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: ec.Scheme() == "https"})
	}
	ec.Set(ctxNotice, n)
	return n
}

// withQuery returns path with q as its query, if any.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

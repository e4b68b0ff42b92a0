package console

import (
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// loginURL is the login page for a request that needs a session: with
// the page asked for as the address to return to after signing in.
func loginURL(ec echo.Context) string {
	if next, ok := returnTo(ec.Request().URL.RequestURI()); ok && next != "/console/" {
		return "/console/login?" + url.Values{"next": {next}}.Encode()
	}
	return "/console/login"
}

// returnTo checks an address to return to after signing in (the login
// form's next): a path of this console, relative, as a browser would
// resolve it (no "..", no second slash or backslash that would make it
// another host), and not the login page itself. Anything else is not
// followed (ok false): the login page must not send a user elsewhere.
func returnTo(raw string) (string, bool) {
	if len(raw) > 4096 || !strings.HasPrefix(raw, "/console/") ||
		strings.ContainsFunc(raw, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	// As cleaned, but for a final slash: no "..", ".", "//" (escaped or not).
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") {
		clean += "/"
	}
	if clean != u.Path || strings.HasPrefix(u.Path, "/console/login") || strings.HasPrefix(u.Path, "/console/logout") {
		return "", false
	}
	return u.RequestURI(), true
}

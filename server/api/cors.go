package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// corsAllowHeaders are the request headers an app on another origin may
// send: the token, JSON, tus's, and conditional and ranged photo requests.
var corsAllowHeaders = []string{
	echo.HeaderAuthorization, echo.HeaderContentType, "X-Request-ID",
	"Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length", "Upload-Concat", "X-HTTP-Method-Override",
	"If-None-Match", "If-Modified-Since", "If-Range", "Range",
}

// corsExposeHeaders are the answer headers such an app may read: the
// server's clock (X-Server-HLC, and Date, from which the SDK learns the
// time), Retry-After, the request id, tus's, and a photo's caching and
// range headers.
var corsExposeHeaders = []string{
	"X-Server-HLC", "Date", "Retry-After", "X-Request-ID",
	"Location", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Expires",
	"ETag", "Last-Modified", "Content-Range", "Content-Length", "Accept-Ranges",
}

// cors lets apps served from origins (a hybrid app's WebView, a web app
// on another host) call the API from a browser: preflights of /api/v1/
// are answered, and answers carry Access-Control-Allow-Origin for an
// allowed origin. Credentials are never allowed: the API authenticates
// with bearer tokens the app sends itself, never with cookies, and the
// office console (/console/, cookies) and the field app are left out.
func cors(origins []string) echo.MiddlewareFunc {
	lower := make([]string, len(origins))
	for i, o := range origins {
		lower[i] = strings.ToLower(o) // as browsers send them
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		Skipper: func(c echo.Context) bool {
			// Only a preflight is answered here: tus's own OPTIONS (which
			// tells Tus-Max-Size) is no preflight and goes to its route.
			r := c.Request()
			return !strings.HasPrefix(r.URL.Path, "/api/") ||
				r.Method == http.MethodOptions && r.Header.Get(echo.HeaderAccessControlRequestMethod) == ""
		},
		AllowOrigins:  lower,
		AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowHeaders:  corsAllowHeaders,
		ExposeHeaders: corsExposeHeaders,
		MaxAge:        3600,
	})
}

// CheckOrigin checks a CORS origin as serve takes it: scheme://host with
// an optional port, nothing more (no path, no wildcard), written as a
// browser sends it (an ASCII host, punycode for a Chinese one; no default
// port), so that it can match.
func CheckOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return fmt.Errorf("origin %q: %w", o, err)
	case u.Scheme == "" || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
		strings.Contains(o, "*") || o != u.Scheme+"://"+u.Host:
		return fmt.Errorf("origin %q: want scheme://host[:port], e.g. https://app.example.cn or capacitor://localhost", o)
	case strings.ContainsFunc(u.Host, func(r rune) bool { return r > 0x7e || r < 0x21 }):
		return fmt.Errorf("origin %q: write the host in ASCII (punycode, xn--…), as browsers send it", o)
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		n, err := strconv.Atoi(p)
		switch {
		case err != nil || n < 1 || n > 65535:
			return fmt.Errorf("origin %q: the port must be 1 to 65535", o)
		case u.Scheme == "https" && n == 443, u.Scheme == "http" && n == 80:
			return fmt.Errorf("origin %q: leave out the default port %d, as browsers do", o, n)
		}
	}
	return nil
}

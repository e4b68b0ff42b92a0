package api

import (
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// headRouted marks a HEAD request routed as a GET (headAsGet).
const headRouted = "fieldsync.head_as_get"

// headAsGet routes a HEAD request of a path that has a GET route but no
// HEAD route of its own (a monitor's `curl -I /healthz`, a proxy checking
// /app/) to that GET route; headRestore, the first middleware after
// routing, makes it a HEAD again, so the handler answers with the GET's
// status and headers and net/http drops the body. Paths with their own
// HEAD (a photo, a tus upload's offset) keep it; a HEAD of a path with
// neither gets the router's answer (404, or 405 naming the methods
// allowed).
//
// echo routes by the method of the request it was given, so the method
// is changed in that request, before routing, and changed back after.
func headAsGet(e *echo.Echo) echo.MiddlewareFunc {
	var once sync.Once
	var routes map[string]bool // "METHOD path" of every route registered
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Method != http.MethodHead {
				return next(c)
			}
			once.Do(func() {
				routes = map[string]bool{}
				for _, rt := range e.Routes() {
					routes[rt.Method+" "+rt.Path] = true
				}
			})
			if !routes[http.MethodHead+" "+routePath(e, http.MethodHead, r)] && routes[http.MethodGet+" "+routePath(e, http.MethodGet, r)] {
				r.Method = http.MethodGet
				c.Set(headRouted, true)
			}
			return next(c)
		}
	}
}

// routePath is the path of the route (or of the not-found handler) that a
// request with method would take, found in a context of its own.
func routePath(e *echo.Echo, method string, r *http.Request) string {
	probe := e.NewContext(r, nil)
	e.Router().Find(method, echo.GetPath(r), probe)
	return probe.Path()
}

// headRestore makes a request headAsGet routed as a GET a HEAD again.
// The router's Allow header (an OPTIONS request's, a 405's) names the
// methods routes were registered for; a path with a GET answers HEAD too
// (headAsGet), so its Allow says so.
func headRestore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if routed, _ := c.Get(headRouted).(bool); routed {
			c.Request().Method = http.MethodHead
		}
		if allow, _ := c.Get(echo.ContextKeyHeaderAllow).(string); allow != "" {
			res := c.Response()
			res.Before(func() {
				if a := res.Header().Get(echo.HeaderAllow); a != "" {
					res.Header().Set(echo.HeaderAllow, withHead(a))
				}
			})
		}
		return next(c)
	}
}

// withHead adds HEAD to an Allow header's methods that have GET and lack it.
func withHead(allow string) string {
	methods := strings.Split(allow, ",")
	for i := range methods {
		methods[i] = strings.TrimSpace(methods[i])
	}
	if !slices.Contains(methods, http.MethodGet) || slices.Contains(methods, http.MethodHead) {
		return allow
	}
	i := slices.Index(methods, http.MethodGet)
	return strings.Join(slices.Insert(methods, i+1, http.MethodHead), ", ")
}

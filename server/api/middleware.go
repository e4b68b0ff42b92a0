package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

const principalKey = "fieldsync.principal"

// authenticate requires a valid bearer access token whose user and device
// are still allowed, and puts the caller in the context.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hs := c.Request().Header.Values(echo.HeaderAuthorization)
		if len(hs) == 0 || len(hs) == 1 && hs[0] == "" {
			return server.Errorf(syncproto.CodeUnauthorized, "请先登录")
		}
		// Two: which one is meant? A proxy may have checked the other.
		if len(hs) > 1 {
			return server.Errorf(syncproto.CodeTokenInvalid, "请求只能带一个 Authorization 头")
		}
		// "Bearer" 1*SP token (RFC 6750 section 2.1).
		scheme, token, ok := strings.Cut(hs[0], " ")
		token = strings.TrimLeft(token, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return server.Errorf(syncproto.CodeTokenInvalid, "Authorization 应为 Bearer 令牌")
		}
		p, err := a.auth.Authenticate(c.Request().Context(), token)
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		c.SetRequest(c.Request().WithContext(server.ContextWithPrincipal(c.Request().Context(), p)))
		return next(c)
	}
}

func principalOf(c echo.Context) *server.Principal {
	p, _ := c.Get(principalKey).(*server.Principal)
	return p
}

func requireRole(allowed func(server.Role) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if p := principalOf(c); p == nil || !allowed(p.Role) {
				return server.Errorf(syncproto.CodeForbidden, "当前角色无权执行此操作")
			}
			return next(c)
		}
	}
}

type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	mutations *prometheus.CounterVec
	pulled    prometheus.Counter
	inFlight  prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_http_requests_total",
			Help: "HTTP requests by route, method and status."}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fieldsync_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		mutations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_push_mutations_total",
			Help: "Pushed mutations by result status."}, []string{"status"}),
		pulled: prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldsync_pull_changes_total",
			Help: "Changes sent in pull responses."}),
	}
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fieldsync_http_requests_in_flight",
		Help: "Requests being served now."})
	reg.MustRegister(m.requests, m.duration, m.mutations, m.pulled, m.inFlight)
	return m
}

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		timer := prometheus.NewTimer(m.duration.WithLabelValues(c.Path()))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		timer.ObserveDuration()
		m.requests.WithLabelValues(c.Path(), methodLabel(c.Request().Method), strconv.Itoa(c.Response().Status)).Inc()
		return nil
	}
}

// methodLabel is a request's method as the metrics' label: one of HTTP's
// own, else "OTHER". Any token is a method a client may send, and each
// label value is a series kept as long as the server runs, so the labels
// are bounded as the route's are (a path no route has is "").
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

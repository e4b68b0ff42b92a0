// Package api is fieldsync's HTTP API on echo v4: routes, thin handlers
// that decode strictly and call the domain, authentication, metrics,
// request logs, and the one error handler that maps codes to statuses.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/server/upload"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Config holds the API's limits and its photo parts.
type Config struct {
	// MaxPushBytes caps a push body; MaxBodyBytes every other body.
	MaxPushBytes, MaxBodyBytes int64
	// Uploads receives photo bytes over tus; Blobs serves them.
	Uploads *upload.Service
	Blobs   server.BlobStore
	// TrustedProxies are the reverse proxies whose X-Forwarded-* headers
	// are believed; from any other peer they are ignored.
	TrustedProxies []*net.IPNet
	// CORSOrigins are the origins of apps served elsewhere that may call
	// the API from a browser (cors.go); empty: none.
	CORSOrigins []string
	// Pull and Push bound the pulls and pushes served at once and those
	// waiting for a turn (admit.go); the rest are answered 503
	// server_busy with Retry-After.
	Pull, Push GateConfig
	// Activity, if set, is told of every signed-in push, pull and upload
	// request in flight, so that work no device waits for can give way to
	// theirs.
	Activity *server.Activity
	// BodyIdle is the longest a JSON request body may go without a byte
	// arriving, and BodyMinRate the least rate (bytes a second) it must
	// keep on average after its first BodyIdle; slower, it is answered
	// 408 request_timeout. Zero: 20 s and 4096.
	BodyIdle    time.Duration
	BodyMinRate float64
}

// API serves the HTTP endpoints.
type API struct {
	syncer  *server.Syncer
	auth    *auth.Service
	store   server.Store
	log     *slog.Logger
	cfg     Config
	metrics *metrics
	ready   func() bool
	pace    bodyPace // how JSON bodies must arrive
	// pulls bounds the pull pages built at once: each holds a page of
	// records and its JSON, so hundreds at once cost memory and time for
	// nothing. pushes bounds the push bodies read and decoded at once (the
	// store applies them one at a time anyway).
	pulls, pushes *gate
}

// New builds the echo server with every route. ready reports whether the
// server accepts traffic (false while shutting down).
func New(syncer *server.Syncer, au *auth.Service, st server.Store, log *slog.Logger, cfg Config, reg *prometheus.Registry, ready func() bool) *echo.Echo {
	if cfg.MaxPushBytes == 0 {
		cfg.MaxPushBytes = 16 << 20
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	// Pages read ahead are gzipped ahead too.
	syncer.EncodePage = encodePage
	gm := newGateMetrics(reg)
	if cfg.BodyIdle <= 0 {
		cfg.BodyIdle = DefaultBodyIdle
	}
	if cfg.BodyMinRate <= 0 {
		cfg.BodyMinRate = defaultBodyMinRate
	}
	a := &API{syncer: syncer, auth: au, store: st, log: log, cfg: cfg, metrics: newMetrics(reg), ready: ready,
		pace:   bodyPace{idle: cfg.BodyIdle, rate: cfg.BodyMinRate},
		pulls:  newGate("pull", cfg.Pull, GateConfig{Wait: defaultPullWait}, gm),
		pushes: newGate("push", cfg.Push, GateConfig{Limit: minPushLimit, Wait: defaultPushWait, PerDevice: defaultPushDevice, PerUser: userLeavesTwo}, gm)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.errorHandler
	// The client address (used to slow failed logins) is the peer's, never a
	// header a client can set — unless the peer is a trusted proxy, whose
	// X-Forwarded-For is then read (right to left, past trusted hops).
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	e.Pre(headAsGet(e))
	if len(cfg.CORSOrigins) > 0 {
		e.Pre(cors(cfg.CORSOrigins))
	}
	e.Use(headRestore, a.forwarding, clientRequestID, middleware.RequestID(), a.logRequests, a.metrics.middleware, middleware.Recover(), noSniff, noStore, a.serverHLC, strictQuery, a.storableText,
		compress(func(c echo.Context) bool {
			// Not /metrics (it compresses itself), not photos (JPEG is
			// compressed, and Range must address the stored bytes), not tus,
			// not the office console's photos.
			p := c.Path()
			return p == "/metrics" || strings.HasPrefix(p, "/api/v1/photos/") || strings.HasPrefix(p, "/api/v1/uploads/") ||
				strings.HasPrefix(p, "/console/photos/")
		}))

	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	small, push := bodyLimit(cfg.MaxBodyBytes), bodyLimit(cfg.MaxPushBytes)
	v1 := e.Group("/api/v1")
	v1.POST("/auth/login", a.login, small)
	v1.POST("/auth/refresh", a.refresh, small)

	authn, office := a.authenticate, requireRole(server.Role.CanReview)
	device := a.deviceTraffic
	admin := requireRole(func(r server.Role) bool { return r == server.RoleAdmin })
	v1.POST("/auth/logout", a.logout, small, authn)
	v1.POST("/auth/password", a.changePassword, small, authn, device)
	v1.GET("/me", a.me, authn)
	v1.GET("/sync/pull", a.pull, authn, device, a.pulls.admit)
	// The body's size is checked once the device is known, so that a push
	// refused for it is in the device's sync health too (pushRefusals).
	v1.POST("/sync/push", a.push, authn, a.pushRefusals, push, device, a.pushes.admit) // a turn before the body is read
	v1.POST("/inspections/:id/review", decide(a, "检查记录", func(ctx context.Context, p *server.Principal, id string, r ReviewRequest) (*syncproto.Change, error) {
		return syncer.Review(ctx, p, id, r.Decision, r.Comment, r.seen())
	}, func(ctx context.Context, p *server.Principal, id string, r ReviewRequest) (*server.StoredRecord, bool, error) {
		return server.ReviewInEffect(ctx, a.store, p, id, r.Decision, r.Comment, r.seen().Seq)
	}), small, authn, office, pathID)
	v1.POST("/findings/:id/verify", decide(a, "问题记录", func(ctx context.Context, p *server.Principal, id string, r VerifyRequest) (*syncproto.Change, error) {
		return syncer.VerifyFinding(ctx, p, id, r.Decision, r.Comment, r.Deadline, r.seen())
	}, func(ctx context.Context, p *server.Principal, id string, r VerifyRequest) (*server.StoredRecord, bool, error) {
		return server.VerifyInEffect(ctx, a.store, p, id, r.Decision, r.Comment, r.seen().Seq)
	}), small, authn, office, pathID)
	v1.POST("/vehicle-checks/:id/void", decide(a, "路检记录", func(ctx context.Context, p *server.Principal, id string, r ReviewRequest) (*syncproto.Change, error) {
		return syncer.VoidVehicleCheck(ctx, p, id, r.Decision, r.Comment, r.seen())
	}, func(ctx context.Context, p *server.Principal, id string, r ReviewRequest) (*server.StoredRecord, bool, error) {
		return server.VoidInEffect(ctx, a.store, p, id, r.Decision, r.Comment, r.seen().Seq)
	}), small, authn, office, pathID)
	v1.GET("/conflicts", a.conflicts, authn, office)
	v1.GET("/devices", a.devices, authn, office)
	v1.POST("/devices/:id/revoke", a.revokeDevice, authn, admin, pathID)
	v1.POST("/devices/:id/reinstate", a.reinstateDevice, authn, admin, pathID)
	v1.POST("/devices/key", a.captureKey, small, authn)
	v1.GET("/photos/:id/:variant", a.photo, authn, pathID)
	v1.HEAD("/photos/:id/:variant", a.photo, authn, pathID)
	if u := cfg.Uploads; u != nil {
		v1.OPTIONS("/uploads/", echo.WrapHandler(u.Options()))
		v1.POST("/uploads/", echo.WrapHandler(u.Post()), authn, device)
		v1.HEAD("/uploads/:id", echo.WrapHandler(u.Head()), authn, device)
		v1.PATCH("/uploads/:id", echo.WrapHandler(u.Patch()), authn, device)
		v1.DELETE("/uploads/:id", echo.WrapHandler(u.Delete()), authn)
		v1.POST("/uploads/:id", methodOverride(map[string]echo.HandlerFunc{
			http.MethodPatch:  chain(echo.WrapHandler(u.Patch()), authn, device),
			http.MethodDelete: chain(echo.WrapHandler(u.Delete()), authn),
		}))
	}
	return e
}

// deviceTraffic tells Config.Activity of a signed-in device's sync or
// upload request, from its start (before it waits for a turn) to its end.
func (a *API) deviceTraffic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		defer a.cfg.Activity.Begin()()
		return next(c)
	}
}

// serverHLC puts the server's HLC on every response, read as its header
// is written: after every HLC the request stored (a push's own, which a
// phone's clock may have put ahead of the server's).
// noSniff marks every answer (JSON, the field app's files, photos, the
// console's pages) as of the type it says, not to be sniffed into
// another: a JSON error quoting a value cannot be read as a page.
func noSniff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("X-Content-Type-Options", "nosniff")
		return next(c)
	}
}

// noStore marks the API's answers — a county's records, a user's
// tokens and details, errors — as kept in no cache, on the phone or on
// the way (the attacker probe: a pull's and /me's answers had no
// Cache-Control, so a shared phone's browser, or a proxy, could keep
// them after a sign-out). A handler that may be cached says so itself
// (a photo's bytes, which never change under their id).
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			c.Response().Header().Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

func (a *API) serverHLC(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(syncproto.HeaderServerHLC, a.syncer.ServerHLC())
		c.Response().Before(func() { h.Set(syncproto.HeaderServerHLC, a.syncer.ServerHLC()) })
		return next(c)
	}
}

func (a *API) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyWait bounds /readyz's checks of the database and the photo store.
const readyWait = 5 * time.Second

// readyz answers 200 when the server takes requests: not shutting down,
// its database and its photo store answering (within readyWait), and the
// directories it writes photos to taking writes (not read-only, not full).
func (a *API) readyz(c echo.Context) error {
	if !a.ready() {
		return server.Errorf(syncproto.CodeUnavailable, "服务正在关闭")
	}
	// A store that does not answer is not ready either: the check gives
	// up after readyWait, as a load balancer's probe would.
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyWait)
	defer cancel()
	notReady := func(message, reason string, err error) error {
		// The log says why, in the operator's words (ops probe: only
		// "status=503" was logged, the reason in the answer alone).
		a.log.WarnContext(ctx, "not ready: "+reason, "err", err)
		if server.StorageFull(err) {
			// Its writes are refused (and were logged as they were).
			return &server.Error{Code: syncproto.CodeUnavailable, Message: "服务器存储空间已满", RetryAfter: server.ErrStorageFull.RetryAfter, Err: err}
		}
		return &server.Error{Code: syncproto.CodeUnavailable, Message: message, RetryAfter: readyWait, Err: err}
	}
	if err := a.store.Ping(ctx); err != nil {
		if errors.Is(err, server.ErrNewerSchema) {
			// Another server, of a newer build, migrated the database
			// (a rolling upgrade): this one is to be stopped and updated.
			a.log.WarnContext(ctx, "not ready: stop this server and run the newer fieldsync", "err", err)
			return &server.Error{Code: syncproto.CodeUnavailable, Message: "数据库已由新版本的 fieldsync 升级：请停止这台服务器并换用新版本", Err: err}
		}
		return notReady("数据库不可用", "the database does not answer", err)
	}
	if a.cfg.Blobs != nil {
		if err := a.cfg.Blobs.Ping(ctx); err != nil {
			return notReady("照片存储不可用", "the photo store does not answer", err)
		}
	}
	if a.cfg.Uploads != nil {
		if err := a.cfg.Uploads.Ping(); err != nil {
			return notReady("照片上传目录不可写", "the upload directory takes no writes", err)
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (a *API) login(c echo.Context) error {
	var req syncproto.LoginRequest
	if err := a.decodeJSON(c, &req); err != nil {
		return err
	}
	resp, err := a.auth.Login(c.Request().Context(), &req, c.RealIP())
	if err != nil {
		return err
	}
	resp.ServerHLC = a.syncer.ServerHLC()
	return c.JSON(http.StatusOK, resp)
}

func (a *API) refresh(c echo.Context) error {
	var req syncproto.RefreshRequest
	if err := a.decodeJSON(c, &req); err != nil {
		return err
	}
	resp, err := a.auth.Refresh(c.Request().Context(), req.RefreshToken, c.RealIP())
	if err != nil {
		return err
	}
	resp.ServerHLC = a.syncer.ServerHLC()
	return c.JSON(http.StatusOK, resp)
}

func (a *API) logout(c echo.Context) error {
	if err := a.auth.Logout(c.Request().Context(), principalOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) me(c echo.Context) error {
	p := principalOf(c)
	counties := p.Counties
	if counties == nil {
		counties = []string{}
	}
	return c.JSON(http.StatusOK, syncproto.User{ID: p.UserID, Username: p.Username, DisplayName: p.Name,
		Role: string(p.Role), Counties: counties, DeviceID: p.DeviceID})
}

func (a *API) pull(c echo.Context) error {
	limit, err := intParam(c, "limit", 0)
	if err != nil {
		return err
	}
	form := server.FormFields
	// A parameter given empty (hlcs=) is not one left out: the spec's
	// enums have no "", and a client sending it meant something.
	for _, name := range []string{"hlcs", "form"} {
		if c.QueryParams().Has(name) && c.QueryParam(name) == "" {
			return server.Errorf(syncproto.CodeBadRequest, "参数 %s 不能为空：不需要时请不带此参数", name)
		}
	}
	switch h := c.QueryParam("hlcs"); h {
	case "", "fields":
	case syncproto.HLCsGrouped:
		form = server.FormGrouped
	default:
		return server.Errorf(syncproto.CodeBadRequest, "hlcs 只能是 fields 或 grouped")
	}
	switch c.QueryParam("form") {
	case "":
	case syncproto.FormCompact:
		if c.QueryParam("hlcs") != "" {
			return server.Errorf(syncproto.CodeBadRequest, "form=compact 时不能再指定 hlcs")
		}
		form = server.FormCompact
	default:
		return server.Errorf(syncproto.CodeBadRequest, "form 只能是 compact 或不填")
	}
	q := server.PullQuery{Cursor: c.QueryParam("cursor"), Limit: limit, Form: form}
	if acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		q.Encoding = "gzip"
	}
	page, err := a.syncer.PullPage(c.Request().Context(), principalOf(c), q)
	if err != nil {
		return err
	}
	defer page.Release()
	a.metrics.pulled.Add(float64(page.Len()))
	if head, ok := page.Encoded.(*gzipHead); ok && page.Encoding == q.Encoding {
		defer head.recycle()
		c.Response().Header().Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, head.finish(page.AppendTail(nil)))
	}
	return writePage(c, page.AppendJSON)
}

func (a *API) push(c echo.Context) error {
	var req syncproto.PushRequest
	if err := a.decodeJSON(c, &req); err != nil {
		return err
	}
	resp, err := a.syncer.Push(c.Request().Context(), principalOf(c), &req)
	if err != nil {
		return err
	}
	if !resp.Replayed {
		for _, r := range resp.Results {
			a.metrics.mutations.WithLabelValues(r.Status).Inc()
		}
	}
	return c.JSON(http.StatusOK, resp)
}

// pushRefusals records a push refused whole in its device's sync health
// (Syncer.PushRefused) — its body too large, malformed, or its batch
// refused: one that pulls but cannot push looked well in 同步状态.
func (a *API) pushRefusals(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err != nil {
			if rerr := a.syncer.PushRefused(c.Request().Context(), principalOf(c), err); rerr != nil {
				a.log.WarnContext(c.Request().Context(), "push refusal not recorded", "err", rerr)
			}
		}
		return err
	}
}

// ReviewRequest is the body of POST /api/v1/inspections/{id}/review and
// of POST /api/v1/vehicle-checks/{id}/void.
type ReviewRequest struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	// Seq, if set, is the record's seq as the office read it: if the
	// record has changed since, 409 conflict and nothing is done.
	Seq int64 `json:"seq"`
	// EvidenceSeq, if set, is the highest seq among the records the
	// decision weighs as the office read them (server.Seen.Evidence): if
	// any changed since, or one was added, 409 conflict.
	EvidenceSeq int64 `json:"evidence_seq"`
}

func (r ReviewRequest) seen() server.Seen { return server.Seen{Seq: r.Seq, EvidenceSeq: r.EvidenceSeq} }

// VerifyRequest is the body of POST /api/v1/findings/{id}/verify: a
// decision, and with reopen an optional new deadline (YYYY-MM-DD).
type VerifyRequest struct {
	ReviewRequest
	Deadline string `json:"deadline"`
}

// decide answers an office's decision on a record of the kind what names
// (an inspection's review, a finding's rectification, a roadside check's
// voiding), sent as a body R, with the record's new state.
func decide[R interface{ seen() server.Seen }](a *API, what string, run func(ctx context.Context, p *server.Principal, id string, req R) (*syncproto.Change, error),
	inEffect func(ctx context.Context, p *server.Principal, id string, req R) (*server.StoredRecord, bool, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req R
		if err := a.decodeJSON(c, &req); err != nil {
			return err
		}
		if req.seen().Seq < 0 {
			return server.Errorf(syncproto.CodeInvalidField, "seq 应为%s的 seq（不小于 0 的整数）", what).At("seq")
		}
		if req.seen().EvidenceSeq < 0 {
			return server.Errorf(syncproto.CodeInvalidField, "evidence_seq 应为不小于 0 的整数（读到的%s及其所依据记录中最大的 seq）", what).At("evidence_seq")
		}
		if err := a.readable(c.Request().Context(), req.seen()); err != nil {
			return err
		}
		ctx, p, id := c.Request().Context(), principalOf(c), c.Param("id")
		ch, err := run(ctx, p, id, req)
		if server.ErrorCode(err) == syncproto.CodeConflict {
			// The same decision sent again with the seq it was made on
			// (its answer lost), by the same user, and in effect: answered
			// as the first was, with the record as it stands (API probe:
			// a retry could not tell its own decision from another's).
			if rec, done, derr := inEffect(ctx, p, id, req); derr != nil {
				return derr
			} else if done {
				cur := server.ToChange(rec)
				ch, err = &cur, nil
			}
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, ch)
	}
}

// pathID refuses a request whose path names a record or a device by an id
// that is not a lower-case UUID, as every one's is (server.IsCanonicalUUID):
// 400 invalid_id, as a push says of such an id, not a 404 that says no
// such record exists (roadside probe: an existing check's id in upper
// case was "not found").
func pathID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := server.CheckID("路径中的 id", c.Param("id")); err != nil {
			return err
		}
		return next(c)
	}
}

// readable refuses a version no read could have given: a seq or an
// evidence_seq beyond the last the change feed has numbered checks
// nothing (evidence_seq) or is no record's version (seq). A write after
// the head is read only raises it, so a version read before is never
// refused.
func (a *API) readable(ctx context.Context, seen server.Seen) error {
	if seen.Seq == 0 && seen.EvidenceSeq == 0 {
		return nil
	}
	head, err := a.store.FeedHead(ctx)
	if err != nil {
		return err
	}
	for _, v := range []struct {
		field string
		seq   int64
	}{{"seq", seen.Seq}, {"evidence_seq", seen.EvidenceSeq}} {
		if v.seq > head {
			return server.Errorf(syncproto.CodeInvalidField, "%s 为 %d，大于服务器已编号的最大 seq（%d）：应为读到的记录中的 seq", v.field, v.seq, head).At(v.field)
		}
	}
	return nil
}

func (a *API) conflicts(c echo.Context) error {
	limit, err := intParam(c, "limit", 100)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return server.Errorf(syncproto.CodeBadRequest, "limit 应在 1 到 1000 之间")
	}
	// A filter that can match nothing is refused, not answered with an
	// empty log that says the record had no conflict (an id in upper
	// case listed none).
	entity, record := c.QueryParam("entity"), c.QueryParam("record_id")
	if entity != "" && server.EntityByName(entity) == nil {
		return server.Errorf(syncproto.CodeUnknownEntity, "参数 entity 为未知的数据类型 %q：应为推送时 mutation 的 entity 之一（小写，见接口文档中的 EntityName）", server.Abridge(entity, 64))
	}
	if record != "" {
		if err := server.CheckID("参数 record_id", record); err != nil {
			return err
		}
	}
	cs, err := a.store.Conflicts(c.Request().Context(), principalOf(c).Scope(), entity, record, limit)
	if err != nil {
		return err
	}
	for i := range cs {
		cs[i].At = cs[i].At.In(server.ChinaTime) // as every time the server writes
	}
	return c.JSON(http.StatusOK, map[string]any{"conflicts": cs})
}

// DeviceInfo is a device with its sync health, as offices see it.
type DeviceInfo struct {
	ID             string     `json:"id"`
	UserID         string     `json:"user_id"`
	Username       string     `json:"username"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	LastSeenAt     time.Time  `json:"last_seen_at"`
	RevokedAt      *time.Time `json:"revoked_at"`
	LastPullAt     *time.Time `json:"last_pull_at"`
	LastPushAt     *time.Time `json:"last_push_at"`
	LastAckSeq     int64      `json:"last_ack_seq"`
	LastBatchID    string     `json:"last_batch_id"`
	PendingUploads int        `json:"pending_uploads"`
	// LastPushRefused is the last push refused whole (nil: none).
	LastPushRefused *RefusedPushInfo `json:"last_push_refused"`
}

// RefusedPushInfo is a push the server refused whole.
type RefusedPushInfo struct {
	At      time.Time `json:"at"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
}

func (a *API) devices(c echo.Context) error {
	ds, err := a.store.Devices(c.Request().Context(), principalOf(c).Scope())
	if err != nil {
		return err
	}
	out := make([]DeviceInfo, len(ds))
	for i, d := range ds {
		out[i] = DeviceInfo{ID: d.ID, UserID: d.UserID, Username: d.Username, Name: d.Name, CreatedAt: d.CreatedAt.In(server.ChinaTime),
			LastSeenAt: d.LastSeenAt.In(server.ChinaTime), RevokedAt: inChina(d.RevokedAt), LastPullAt: inChina(d.Health.LastPullAt),
			LastPushAt: inChina(d.Health.LastPushAt), LastAckSeq: d.Health.LastAckSeq, LastBatchID: d.Health.LastBatchID,
			PendingUploads: d.Health.PendingUploads}
		if r := d.Health.LastRefused; r != nil {
			out[i].LastPushRefused = &RefusedPushInfo{At: r.At.In(server.ChinaTime), Code: r.Code, Message: r.Message}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"devices": out})
}

// inChina is t in China time (+08:00), as every time the server writes;
// nil stays nil.
func inChina(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.In(server.ChinaTime)
	return &c
}

func (a *API) revokeDevice(c echo.Context) error {
	return a.setRevoked(c, true)
}

// reinstateDevice undoes a revocation (AccountStore.ReinstateDevice); a
// device not revoked — reinstated already, the answer lost — is left as
// it is, as a revocation sent twice is.
func (a *API) reinstateDevice(c echo.Context) error {
	return a.setRevoked(c, false)
}

// setRevoked revokes or reinstates the device the path names, recording
// it in the audit log unless it was so already (server.SetDeviceRevoked).
func (a *API) setRevoked(c echo.Context, revoke bool) error {
	_, act, err := server.SetDeviceRevoked(c.Request().Context(), a.store, c.Param("id"), revoke, time.Now())
	if err != nil {
		return err
	}
	if act != nil {
		a.audit(c, *act)
	}
	return c.NoContent(http.StatusNoContent)
}

// changePassword sets the caller's own password and answers the device's
// new tokens (auth.Service.ChangePassword); it is in the audit log.
func (a *API) changePassword(c echo.Context) error {
	var req syncproto.PasswordRequest
	if err := a.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principalOf(c)
	resp, d, err := a.auth.ChangePassword(c.Request().Context(), p, req.CurrentPassword, req.NewPassword, c.RealIP())
	if err != nil {
		return err
	}
	a.audit(c, server.AccountAction{Action: "password_changed", Entity: "user", RecordID: p.Username,
		Set: map[string]any{"device_name": d.Name}})
	resp.ServerHLC = a.syncer.ServerHLC()
	return c.JSON(http.StatusOK, resp)
}

// audit records an account change made through the API in the audit log
// (server.AuditAccount), by the caller; one that cannot be recorded is
// logged at ERROR, and the change stands.
func (a *API) audit(c echo.Context, act server.AccountAction) {
	ctx := c.Request().Context()
	p := principalOf(c)
	if err := server.AuditAccount(context.WithoutCancel(ctx), a.store, act.By(p), time.Now()); err != nil {
		a.log.ErrorContext(ctx, "account change not in the audit log", "action", act.Action, act.Entity, act.RecordID, "err", err)
	}
	a.log.InfoContext(ctx, "account change", "action", act.Action, "by", p.Username, "client_ip", c.RealIP(), act.Entity, act.RecordID)
}

// captureKey registers the caller's device's capture key
// (signed-captures.md).
func (a *API) captureKey(c echo.Context) error {
	var req syncproto.CaptureKeyRequest
	if err := a.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	k, err := server.RegisterCaptureKey(ctx, a.store, principalOf(c), req, time.Now())
	if err != nil {
		return err
	}
	if k.MovedFrom != "" {
		a.log.WarnContext(ctx, "capture key registered by another device without a proof moved to the device that proved it",
			"key_id", k.ID, "device_id", k.DeviceID, "from_device_id", k.MovedFrom, "client_ip", c.RealIP())
	}
	// The photos that came before the key are checked again; they keep
	// their result if this fails, and the next registration tries again.
	if err := a.syncer.KeyRegistered(context.WithoutCancel(ctx), a.store, k); err != nil {
		a.log.ErrorContext(ctx, "check again the photos signed with a key registered after them", "key_id", k.ID, "err", err)
	}
	return c.JSON(http.StatusOK, syncproto.CaptureKeyResponse{KeyID: k.ID, DeviceID: k.DeviceID, CreatedAt: k.CreatedAt, Proven: k.Proven})
}

func intParam(c echo.Context, name string, def int) (int, error) {
	if !c.QueryParams().Has(name) {
		return def, nil
	}
	// Decimal digits, as the spec's integer is written: not empty, no '+'.
	s := c.QueryParam(name)
	n, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) {
		return 0, server.Errorf(syncproto.CodeBadRequest, "参数 %s 超出范围", name)
	}
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, server.Errorf(syncproto.CodeBadRequest, "参数 %s 应为整数", name)
	}
	return n, nil
}

// forwarding drops the headers in which a proxy states the original scheme
// and host unless the peer is a trusted proxy, so that no client chooses
// the addresses the server hands out (upload locations).
func (a *API) forwarding(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !a.trustedPeer(c.Request().RemoteAddr) {
			h := c.Request().Header
			// Every header echo's Context.Scheme believes, too.
			for _, name := range []string{"Forwarded", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Protocol", "X-Forwarded-Ssl", "X-Url-Scheme"} {
				h.Del(name)
			}
		}
		return next(c)
	}
}

// trustedPeer reports whether the peer address is a trusted proxy.
func (a *API) trustedPeer(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range a.cfg.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// methodOverride answers a POST carrying X-HTTP-Method-Override (tus 1.0,
// for networks whose proxies pass only GET and POST) as the request it
// names, one of handlers'; else 405.
func methodOverride(handlers map[string]echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m := strings.ToUpper(strings.TrimSpace(c.Request().Header.Get("X-HTTP-Method-Override")))
		h := handlers[m]
		if h == nil {
			return server.Errorf(syncproto.CodeMethodNotAllowed, "上传地址只接受 HEAD、PATCH、DELETE（或带 X-HTTP-Method-Override: PATCH/DELETE 的 POST）")
		}
		c.Request().Method = m
		return h(c)
	}
}

// chain is h behind middleware mw, the first outermost.
func chain(h echo.HandlerFunc, mw ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

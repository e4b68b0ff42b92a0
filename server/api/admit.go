package api

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// GateConfig bounds one kind of request (pulls, pushes): how many are
// served at once, how many may wait for a turn, and for how long. The zero
// value takes the defaults.
type GateConfig struct {
	// Limit is how many requests are in progress at once (0: 2×GOMAXPROCS
	// for pulls; the same but at least 8 for pushes, whose turn is taken
	// before the body arrives, so that a few phones sending slowly over a
	// poor link do not hold every turn).
	Limit int
	// Queue is how many more may wait for a turn (0: 64; negative: none,
	// a request finding every turn taken is refused at once).
	Queue int
	// Wait is the longest a request waits for a turn (0: the route's
	// default, 2 s for a push and 5 s for a pull).
	Wait time.Duration
	// PerDevice is how many of the requests in progress and waiting may
	// be one device's (0: the route's default, 2 for pushes, no limit for
	// pulls; negative: no limit): more are refused at once. A push holds
	// its turn while its body arrives, so that one device (a stolen
	// token, a broken app) could otherwise hold every turn; a phone
	// pushes one batch at a time, and the second is the retry of one
	// whose answer it lost while the server still reads it.
	PerDevice int
	// PerUser is how many may be one user's, over all their devices (0:
	// the route's default, for pushes all turns but two, so that one
	// account signed in on many devices leaves others a turn; no limit
	// for pulls; negative: no limit).
	PerUser int
}

// Default admission limits.
const (
	defaultGateQueue  = 64
	minPushLimit      = 8
	defaultPushWait   = 2 * time.Second
	defaultPushDevice = 2
	// userLeavesTwo is GateConfig.PerUser's default for pushes: all
	// turns but two (at least one).
	userLeavesTwo   = -1 << 31
	defaultPullWait = 5 * time.Second
	// maxRetryAfter caps the Retry-After a refused request is given.
	maxRetryAfter = 30 * time.Second
)

// busyMessage is what a phone shows (if anything) while it waits to retry.
const busyMessage = "服务器繁忙，请稍后重试"

// gate is admission control for one route: at most limit requests in
// progress, at most queue more waiting (each at most wait), and the rest
// refused at once with 503 server_busy and a Retry-After, so that a burst
// degrades into clients waiting on their side rather than into the memory
// of requests queued here. A waiter whose client goes away leaves the
// queue (net/http notices it only once a request's body is read, so a
// push whose client is gone leaves at the end of its wait, 2 s by
// default). Turns are handed out in arrival order (a channel's senders).
type gate struct {
	route string
	slots chan struct{}
	queue int64
	wait  time.Duration

	waiting atomic.Int64
	// perDevice and perUser bound a device's and a user's requests in
	// progress and waiting (0: no bound); counts counts them, by device
	// and by user id.
	perDevice, perUser int
	counts             map[string]int
	// hold is the mean time a request holds a turn (an exponentially
	// weighted average), from which Retry-After is estimated.
	mu   sync.Mutex
	hold time.Duration

	inFlight, queued prometheus.Gauge
	refused          *prometheus.CounterVec
	waited           prometheus.Observer
}

// gateMetrics are the admission figures of every gate, by route.
type gateMetrics struct {
	inFlight, waiting *prometheus.GaugeVec
	refused           *prometheus.CounterVec
	waited            *prometheus.HistogramVec
}

func newGateMetrics(reg prometheus.Registerer) *gateMetrics {
	m := &gateMetrics{
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fieldsync_admission_in_flight",
			Help: "Requests holding an admission turn, by route."}, []string{"route"}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fieldsync_admission_waiting",
			Help: "Requests waiting for an admission turn, by route."}, []string{"route"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldsync_admission_refused_total",
			Help: "Requests answered 503 server_busy, by route and reason (queue_full, wait_expired, device_limit, user_limit)."}, []string{"route", "reason"}),
		waited: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fieldsync_admission_wait_seconds",
			Help: "Time admitted requests waited for their turn, by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
	}
	reg.MustRegister(m.inFlight, m.waiting, m.refused, m.waited)
	return m
}

// newGate makes the gate of route from cfg, whose zero fields take def's
// values (def.Limit 0: 2×GOMAXPROCS) or the package defaults.
func newGate(route string, cfg, def GateConfig, m *gateMetrics) *gate {
	limit := cfg.Limit
	if limit <= 0 {
		limit = max(def.Limit, 2*runtime.GOMAXPROCS(0))
	}
	queue := cfg.Queue
	switch {
	case queue == 0:
		queue = defaultGateQueue
	case queue < 0:
		queue = 0
	}
	wait := cfg.Wait
	if wait <= 0 {
		wait = def.Wait
	}
	perDevice := cmp.Or(cfg.PerDevice, def.PerDevice)
	perUser := cmp.Or(cfg.PerUser, def.PerUser)
	if perUser == userLeavesTwo {
		perUser = max(limit-2, 1)
	}
	return &gate{route: route, slots: make(chan struct{}, limit), queue: int64(queue), wait: wait,
		perDevice: max(perDevice, 0), perUser: max(perUser, 0), counts: map[string]int{},
		inFlight: m.inFlight.WithLabelValues(route), queued: m.waiting.WithLabelValues(route),
		refused: m.refused.MustCurryWith(prometheus.Labels{"route": route}), waited: m.waited.WithLabelValues(route)}
}

// Gate events reported to testHookGate.
const (
	gateQueued   = "queued"   // the request waits for a turn
	gateAdmitted = "admitted" // the request has a turn (the hook may hold it there)
	gateLeft     = "left"     // the request left the queue without a turn
)

// testHookGate, when set (by tests only), is called with a gate's route
// and each event of a request passing it.
var testHookGate atomic.Pointer[func(route, event string)]

func (g *gate) event(ev string) {
	if h := testHookGate.Load(); h != nil {
		(*h)(g.route, ev)
	}
}

// admit is the route middleware: the handler runs only with a turn.
func (g *gate) admit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if p := server.PrincipalFrom(ctx); p != nil {
			if reason := g.enter(p); reason != "" {
				return g.busy(reason)
			}
			defer g.leave(p)
		}
		if err := g.acquire(ctx); err != nil {
			return err
		}
		start := time.Now()
		defer g.release(start)
		g.event(gateAdmitted)
		return next(c)
	}
}

// enter counts a request of p's device and user in, unless either has
// its bound in already; it then returns the refusal's reason.
func (g *gate) enter(p *server.Principal) string {
	dev, user := "d:"+p.DeviceID, "u:"+p.UserID
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.perDevice > 0 && g.counts[dev] >= g.perDevice:
		return "device_limit"
	case g.perUser > 0 && g.counts[user] >= g.perUser:
		return "user_limit"
	}
	g.counts[dev]++
	g.counts[user]++
	return ""
}

// leave counts a request of p's device and user out.
func (g *gate) leave(p *server.Principal) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range []string{"d:" + p.DeviceID, "u:" + p.UserID} {
		if g.counts[k]--; g.counts[k] <= 0 {
			delete(g.counts, k)
		}
	}
}

// acquire takes a turn, waiting in the queue if there is room. It returns
// a server_busy error when there is no room or the wait ran out, and the
// context's error when the client went away meanwhile.
func (g *gate) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		g.inFlight.Inc()
		return nil
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return g.busy("queue_full")
	}
	g.queued.Inc()
	start := time.Now()
	t := time.NewTimer(g.wait)
	defer t.Stop()
	g.event(gateQueued)
	var err error
	select {
	case g.slots <- struct{}{}:
		g.inFlight.Inc()
		g.waited.Observe(time.Since(start).Seconds())
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		err = g.busy("wait_expired")
	}
	g.waiting.Add(-1)
	g.queued.Dec()
	if err != nil {
		g.event(gateLeft)
	}
	return err
}

// release gives the turn back and updates the mean holding time.
func (g *gate) release(start time.Time) {
	d := time.Since(start)
	g.mu.Lock()
	if g.hold == 0 {
		g.hold = d
	} else {
		g.hold += (d - g.hold) / 8
	}
	g.mu.Unlock()
	g.inFlight.Dec()
	<-g.slots
}

// busy counts a refusal and returns its error: 503 server_busy with a
// Retry-After of whole seconds, at least 1, about the time the requests
// now in progress and waiting take to drain.
func (g *gate) busy(reason string) error {
	g.refused.WithLabelValues(reason).Inc()
	return &server.Error{Code: syncproto.CodeServerBusy, Message: busyMessage, RetryAfter: g.retryAfter()}
}

func (g *gate) retryAfter() time.Duration {
	g.mu.Lock()
	hold := g.hold
	g.mu.Unlock()
	ahead := float64(len(g.slots)) + float64(g.waiting.Load())
	drain := time.Duration(ahead * float64(hold) / float64(cap(g.slots)))
	secs := math.Ceil(min(drain, maxRetryAfter).Seconds())
	return time.Duration(max(secs, 1)) * time.Second
}

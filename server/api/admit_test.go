package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// gateWatch sees the admission gates' events and holds requests inside a
// gate: an admitted request takes the next ticket from holds, if any, and
// stays admitted until the ticket is closed. Tests that use it must not
// run in parallel (the hook is the package's).
type gateWatch struct {
	events chan string // "route event"
	holds  chan chan struct{}
}

func watchGates(t *testing.T) *gateWatch {
	w := &gateWatch{events: make(chan string, 256), holds: make(chan chan struct{}, 8)}
	restore := api.SetGateHook(func(route, ev string) {
		w.events <- route + " " + ev
		if ev == "admitted" {
			select {
			case h := <-w.holds:
				<-h
			default:
			}
		}
	})
	t.Cleanup(restore)
	return w
}

// hold makes the next admitted request stay in its gate until release.
func (w *gateWatch) hold() (release func()) {
	h := make(chan struct{})
	w.holds <- h
	return func() { close(h) }
}

// expect waits for the next gate event and checks it.
func (w *gateWatch) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-w.events:
		if got != want {
			t.Fatalf("gate event %q, want %q", got, want)
		}
	case <-time.After(30 * time.Second): // a hang, not a timing
		t.Fatalf("no gate event, want %q", want)
	}
}

// answer is a raw HTTP answer (or the error of a request without one).
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// gateReq sends a pull or a push (body) as c; safe in a goroutine.
func gateReq(ctx context.Context, srv *apptest.Server, c *syncproto.Client, route string, body []byte) answer {
	method, path, rd := http.MethodGet, syncproto.PathPull+"?limit=10", io.Reader(nil)
	if route == "push" {
		method, path, rd = http.MethodPost, syncproto.PathPush, bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+accessToken(c))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func goReq(ctx context.Context, srv *apptest.Server, c *syncproto.Client, route string, body []byte) <-chan answer {
	ch := make(chan answer, 1)
	go func() { ch <- gateReq(ctx, srv, c, route, body) }()
	return ch
}

// wantOK checks a successful answer.
func (a answer) wantOK(t *testing.T) {
	t.Helper()
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("answer %d %v: %s", a.status, a.err, truncate(a.body))
	}
}

// wantBusy checks a 503 server_busy answer with a Retry-After of whole
// seconds, at least one.
func (a answer) wantBusy(t *testing.T) {
	t.Helper()
	if a.err != nil {
		t.Fatal(a.err)
	}
	reply{Status: a.status, Header: a.header, Body: a.body}.wantError(t, http.StatusServiceUnavailable, syncproto.CodeServerBusy)
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds ≥ 1", a.header.Get("Retry-After"))
	}
}

// pushBody is a push of one new site under batch.
func pushBody(t *testing.T, c *syncproto.Client, batch, site string) []byte {
	b, err := json.Marshal(syncproto.PushRequest{DeviceID: c.DeviceID, BatchID: batch,
		Mutations: []syncproto.Mutation{upsert(t, c, syncproto.EntitySite, site, newSite(xinfu, "排队测试"))}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGate fills the pull and the push gate (one turn, one place in the
// queue): the next request waits and is served when the turn frees; with
// the queue full one more is refused with 503 server_busy and Retry-After;
// a waiter whose client goes away frees its place; and a refused push has
// stored nothing, so its batch sent again is applied once.
func TestGate(t *testing.T) {
	one := api.GateConfig{Limit: 1, Queue: 1, Wait: time.Hour, PerDevice: -1, PerUser: -1} // one device fills the gate
	srv := apptest.Start(t, func(c *app.Config) { c.Pull, c.Push = one, one })
	w := watchGates(t)
	c := srv.Login(apptest.Inspector)
	ctx := t.Context()
	for _, route := range []string{"pull", "push"} {
		t.Run(route, func(t *testing.T) {
			body := func() []byte {
				if route == "push" {
					return pushBody(t, c, newID(), newID())
				}
				return nil
			}
			// One request holds the only turn.
			release := w.hold()
			first := goReq(ctx, srv, c, route, body())
			w.expect(t, route+" admitted")

			// A waiter whose client goes away leaves the queue, so the
			// next one finds its place. (Only a pull: a server learns that
			// the client of a request whose body it has not read went away
			// only when it reads the body, so a push waiter leaves at the
			// end of its wait, TestGateWaitExpires.)
			if route == "pull" {
				gone, cancel := context.WithCancel(ctx)
				left := goReq(gone, srv, c, route, body())
				w.expect(t, route+" queued")
				cancel()
				w.expect(t, route+" left")
				if a := <-left; a.err == nil {
					t.Fatalf("cancelled request answered %d", a.status)
				}
			}
			second := goReq(ctx, srv, c, route, body())
			w.expect(t, route+" queued")

			// The queue is full: refused at once.
			refusedBatch, refusedSite := newID(), newID()
			var refusedBody []byte
			if route == "push" {
				refusedBody = pushBody(t, c, refusedBatch, refusedSite)
			}
			gateReq(ctx, srv, c, route, refusedBody).wantBusy(t)

			release()
			(<-first).wantOK(t)
			w.expect(t, route+" admitted") // the waiter
			(<-second).wantOK(t)

			if route != "push" {
				return
			}
			for _, ch := range pullAll(t, c) {
				if ch.ID == refusedSite {
					t.Fatalf("the refused push stored %s", refusedSite)
				}
			}
			drain(w) // pullAll went through the pull gate
			for i, replayed := range []bool{false, true} {
				a := gateReq(ctx, srv, c, route, refusedBody)
				w.expect(t, route+" admitted")
				a.wantOK(t)
				var pr syncproto.PushResponse
				if err := json.Unmarshal(a.body, &pr); err != nil {
					t.Fatal(err)
				}
				if pr.Replayed != replayed || len(pr.Results) != 1 || pr.Results[0].Status != syncproto.StatusApplied {
					t.Fatalf("sending the refused batch again (%d): replayed %v, results %+v", i+1, pr.Replayed, pr.Results)
				}
			}
		})
	}
	metrics := string(send(t, srv, request{method: http.MethodGet, path: "/metrics"}).Body)
	for _, want := range []string{`fieldsync_admission_refused_total{reason="queue_full",route="pull"} 1`,
		`fieldsync_admission_refused_total{reason="queue_full",route="push"} 1`,
		`fieldsync_admission_in_flight{route="push"} 0`, `fieldsync_admission_waiting{route="pull"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// drain forgets the gate events seen so far.
func drain(w *gateWatch) {
	for {
		select {
		case <-w.events:
		default:
			return
		}
	}
}

// TestGateWaitExpires: a request that waits longer than the gate's wait
// leaves the queue with 503 server_busy; and with no queue at all one is
// refused at once.
func TestGateWaitExpires(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) {
		c.Push = api.GateConfig{Limit: 1, Queue: 1, Wait: time.Millisecond, PerDevice: -1, PerUser: -1}
		c.Pull = api.GateConfig{Limit: 1, Queue: -1}
	})
	w := watchGates(t)
	c := srv.Login(apptest.Inspector)
	for _, tc := range []struct {
		route  string
		events []string
	}{
		{"push", []string{"queued", "left"}},
		{"pull", nil},
	} {
		release := w.hold()
		var body []byte
		if tc.route == "push" {
			body = pushBody(t, c, newID(), newID())
		}
		first := goReq(t.Context(), srv, c, tc.route, body)
		w.expect(t, tc.route+" admitted")
		a := goReq(t.Context(), srv, c, tc.route, body)
		for _, ev := range tc.events {
			w.expect(t, tc.route+" "+ev)
		}
		(<-a).wantBusy(t)
		release()
		(<-first).wantOK(t)
	}
	metrics := string(send(t, srv, request{method: http.MethodGet, path: "/metrics"}).Body)
	for _, want := range []string{`fieldsync_admission_refused_total{reason="wait_expired",route="push"} 1`,
		`fieldsync_admission_refused_total{reason="queue_full",route="pull"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestDeviceRequestsAreActivity: a device's pull or push is in flight for
// the server's Activity from before it waits for a turn until it is
// answered; signing in is not device traffic.
func TestDeviceRequestsAreActivity(t *testing.T) {
	srv := apptest.Start(t)
	act := srv.App.Activity
	c := srv.Login(apptest.Inspector)
	if q := act.Quiet(); q < time.Hour {
		t.Fatalf("quiet %v after a sign-in only, want very long (no device traffic)", q)
	}
	w := watchGates(t)
	for _, route := range []string{"pull", "push"} {
		release := w.hold()
		var body []byte
		if route == "push" {
			body = pushBody(t, c, newID(), newID())
		}
		ans := goReq(t.Context(), srv, c, route, body)
		w.expect(t, route+" admitted")
		if q := act.Quiet(); q != 0 {
			t.Errorf("%s in flight: quiet %v, want 0", route, q)
		}
		release()
		(<-ans).wantOK(t)
		// Once answered, the request ends (its middleware returns just
		// after the client has the answer).
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang, not a timing
		if err := act.WaitQuiet(ctx, time.Millisecond); err != nil {
			t.Errorf("%s answered: still in flight (%v)", route, err)
		}
		cancel()
		drain(w)
	}
}

// stalledPush opens a connection and sends a push's headers, declaring a
// body of 1,000 bytes, and its first bytes, then nothing: a phone that
// lost its signal half-way, or a client holding a turn on purpose.
func stalledPush(t *testing.T, srv *apptest.Server, c *syncproto.Client) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"device_id\"",
		syncproto.PathPush, accessToken(c))
	return conn
}

// holdTurns opens a stalled push as each client and waits until each
// holds a push turn.
func holdTurns(t *testing.T, srv *apptest.Server, w *gateWatch, cs ...*syncproto.Client) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for _, c := range cs {
		conns = append(conns, stalledPush(t, srv, c))
		w.expect(t, "push admitted")
	}
	return conns
}

// refusedAndServed wants a push of refused answered server_busy at once,
// and one of served applied.
func refusedAndServed(t *testing.T, srv *apptest.Server, w *gateWatch, refused, served *syncproto.Client) {
	t.Helper()
	gateReq(t.Context(), srv, refused, "push", pushBody(t, refused, newID(), newID())).wantBusy(t)
	gateReq(t.Context(), srv, served, "push", pushBody(t, served, newID(), newID())).wantOK(t)
	w.expect(t, "push admitted")
}

// wantTimedOut reads the answer a stalled push's connection gets, and
// wants 408 request_timeout.
func wantTimedOut(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang, not a timing
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: no answer: %v", what, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	reply{Status: resp.StatusCode, Header: resp.Header, Body: body}.wantError(t, http.StatusRequestTimeout, syncproto.CodeRequestTimeout)
	// Sent whole, with its length: its end does not wait for the rest
	// of the body the server reads for a while after answering.
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("%s: the 408 is sent without its length (%d, %d bytes): its end waits for the rest of the body", what, resp.ContentLength, len(body))
	}
}

// TestStalledPushBodies: pushes whose bodies stop arriving hold their
// turns only for the body's idle time, and then are answered 408
// request_timeout (nothing stored); meanwhile one device holds at most
// two turns, so that other devices' pushes go on.
func TestStalledPushBodies(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) {
		c.Push = api.GateConfig{Limit: 3, Queue: -1, PerUser: -1}
		c.BodyIdle, c.BodyMinRate = 500*time.Millisecond, 4096
	})
	w := watchGates(t)
	a := srv.Login(apptest.Inspector)
	b := srv.Login(apptest.Inspector2)
	// Two stalled pushes of one device; a third of the same device is
	// refused at once, another device's is served on the turn left.
	stalled := holdTurns(t, srv, w, a, a)
	refusedAndServed(t, srv, w, a, b)

	// The stalled bodies end in 408 request_timeout, and free the turns.
	for i, conn := range stalled {
		wantTimedOut(t, conn, fmt.Sprintf("stalled push %d", i))
	}
	site := newID()
	gateReq(t.Context(), srv, a, "push", pushBody(t, a, newID(), site)).wantOK(t)
	w.expect(t, "push admitted")
}

// TestTricklingPushBodies: a body that brings a byte now and then, never
// idle for long, but far slower than any phone's link, is given up too;
// and one user's devices together hold all turns but two, so that an
// account signed in on many devices cannot take every turn.
func TestTricklingPushBodies(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) {
		c.Push = api.GateConfig{Limit: 4, Queue: -1}
		c.BodyIdle, c.BodyMinRate = 300*time.Millisecond, 1000
	})
	w := watchGates(t)
	a1, a2, a3 := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector), srv.Login(apptest.Inspector)
	b := srv.Login(apptest.Inspector2)

	// One stalled push from each of two of the inspector's devices: the
	// user holds 2 turns, all of 4 but two.
	held := holdTurns(t, srv, w, a1, a2)
	refusedAndServed(t, srv, w, a3, b)

	// A byte every 100 ms (10 B/s against the 1,000 B/s asked for, never
	// idle for 300 ms) is answered 408 once its first 300 ms are past.
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				for _, c := range held {
					c.Write([]byte(" "))
				}
			}
		}
	}()
	for i, conn := range held {
		wantTimedOut(t, conn, fmt.Sprintf("trickling push %d", i))
	}
	gateReq(t.Context(), srv, a3, "push", pushBody(t, a3, newID(), newID())).wantOK(t)
	w.expect(t, "push admitted")
}

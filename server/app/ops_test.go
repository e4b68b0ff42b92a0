package app_test

import (
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func TestHealthReadyAndMetrics(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	wantStatus(t, apptest.Push(t, c, apptest.Mut(c, "site", newID(), apptest.Fields("county", apptest.Xinfu, "kind", "factory", "name", "测试企业"))), "applied")
	for path, want := range map[string]string{
		"/healthz": `"ok"`,
		"/readyz":  `"ready"`,
		"/metrics": `fieldsync_push_mutations_total{status="applied"} 1`,
	} {
		resp, err := srv.HTTPClient().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %s:\n%.400s", path, resp.StatusCode, want, body)
		}
		if resp.Header.Get(syncproto.HeaderServerHLC) == "" {
			t.Errorf("GET %s: no %s header", path, syncproto.HeaderServerHLC)
		}
	}
}

// waitFor polls cond until it holds (or fails the test after a generous
// limit). It orders steps of a test; it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func inFlight(t *testing.T, srv *apptest.Server) float64 {
	mfs, err := srv.App.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "fieldsync_http_requests_in_flight" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// TestShutdownFinishesInFlightPush holds the store's writer so that a push
// is in the middle of its handler, starts a graceful shutdown, then lets
// the push go on: it completes, is committed, and the server then stops.
func TestShutdownFinishesInFlightPush(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	hold, held := make(chan struct{}), make(chan struct{})
	go srv.App.DB.Update(ctx, func(server.WriteTx) error {
		close(held)
		<-hold
		return nil
	})
	<-held
	site := newID()
	type result struct {
		resp *syncproto.PushResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := c.Push(ctx, batchID(), []syncproto.Mutation{apptest.Mut(c, "site", site, apptest.Fields("county", apptest.Xinfu, "kind", "factory", "name", "关停中的企业"))})
		done <- result{resp, err}
	}()
	waitFor(t, "the push to be in flight", func() bool { return inFlight(t, srv) >= 1 })
	stopped := make(chan struct{})
	go func() { srv.Stop(); close(stopped) }()
	waitFor(t, "shutdown to begin", func() bool { return !srv.App.Ready() })
	close(hold)
	r := <-done
	if r.err != nil {
		t.Fatalf("in-flight push failed during shutdown: %v", r.err)
	}
	wantStatus(t, r.resp, "applied")
	<-stopped
	if _, err := http.Get(srv.URL + "/healthz"); err == nil {
		t.Fatalf("server still answering after shutdown")
	}
	db, err := sqlite.Open(ctx, filepath.Join(srv.Dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if rec, err := db.Get(ctx, "site", site); err != nil || rec == nil {
		t.Fatalf("the push answered during shutdown was not committed: %v", err)
	}
}

package app_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
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

// TestReadyNeedsThePhotoStore: /readyz is 503 unavailable while the photo
// store does not answer (an S3 store that holds every request, a photo
// directory gone from under the server), within its own time limit, and
// 200 again once the store is back.
func TestReadyNeedsThePhotoStore(t *testing.T) {
	ready := func(t *testing.T, srv *apptest.Server) (int, string) {
		t.Helper()
		resp, err := srv.HTTPClient().Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e syncproto.ErrorBody
		body, _ := io.ReadAll(resp.Body)
		json.Unmarshal(body, &e) //nolint:errcheck // a 200's body has no code
		return resp.StatusCode, e.Code
	}
	check := func(t *testing.T, srv *apptest.Server, lose, restore func()) {
		t.Helper()
		if status, _ := ready(t, srv); status != 200 {
			t.Fatalf("/readyz with the photo store there: %d", status)
		}
		lose()
		if status, code := ready(t, srv); status != 503 || code != syncproto.CodeUnavailable {
			t.Errorf("/readyz without the photo store: %d %q, want 503 %s", status, code, syncproto.CodeUnavailable)
		}
		restore()
		if status, _ := ready(t, srv); status != 200 {
			t.Errorf("/readyz with the photo store back: %d", status)
		}
	}
	t.Run("s3", func(t *testing.T) {
		url, hang := s3test.StartHung(t)
		srv := apptest.Start(t, func(c *app.Config) { c.Blobs = url + "&timeout=1s" })
		check(t, srv, func() { hang(true) }, func() { hang(false) })
	})
	t.Run("directory", func(t *testing.T) {
		var log logtest.Buffer // the server logs from its goroutines
		srv := apptest.StartLogged(t, &log)
		blobs := filepath.Join(srv.Dir, "blobs")
		check(t, srv, func() {
			if err := os.Rename(blobs, blobs+".away"); err != nil {
				t.Fatal(err)
			}
		}, func() {
			if err := os.Rename(blobs+".away", blobs); err != nil {
				t.Fatal(err)
			}
		})
		// The log says why, for whoever takes the alert (ops probe: only
		// the request's 503 was logged).
		if !strings.Contains(log.String(), `"msg":"not ready: the photo store does not answer"`) {
			t.Errorf("the log does not say why the server was not ready:\n%s", log.String())
		}
	})
	// A directory the server writes photos to that takes no write (here
	// a file where it was; a volume made read-only or full alike): every
	// upload would fail.
	for _, dir := range []string{"uploads", filepath.Join("blobs", "tmp")} {
		t.Run(dir+" not writable", func(t *testing.T) {
			srv := apptest.Start(t)
			path := filepath.Join(srv.Dir, dir)
			check(t, srv, func() {
				if err := errors.Join(os.Rename(path, path+".away"), os.WriteFile(path, nil, 0o600)); err != nil {
					t.Fatal(err)
				}
			}, func() {
				if err := errors.Join(os.Remove(path), os.Rename(path+".away", path)); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestMetricsLabelsBounded: whatever methods and paths clients send, the
// request counter's labels stay within HTTP's methods and the server's
// routes, so that no client can grow /metrics (and the server's memory)
// without bound.
func TestMetricsLabelsBounded(t *testing.T) {
	srv := apptest.Start(t)
	for i, method := range []string{"FOO", "PROPFIND", "get", "BREW", strings.Repeat("X", 40)} {
		for _, path := range []string{"/api/v1/me", "/no/such/" + strconv.Itoa(i), "/api/v1/sync/pull"} {
			req, err := http.NewRequest(method, srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: %d, want a 4xx", method, path, resp.StatusCode)
			}
		}
	}
	mfs, err := srv.App.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	others := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "fieldsync_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				switch {
				case l.GetName() == "method" && !slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "OTHER"}, l.GetValue()):
					t.Errorf("method label %q", l.GetValue())
				case l.GetName() == "method" && l.GetValue() == "OTHER":
					others += m.GetCounter().GetValue()
				case l.GetName() == "route" && strings.HasPrefix(l.GetValue(), "/no/such/"):
					t.Errorf("route label %q", l.GetValue())
				}
			}
		}
	}
	if others != 15 {
		t.Errorf("%v requests counted under method OTHER, want 15", others)
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

// TestDemoLoginsSayWhatChanged: the demo accounts printed at start say
// which no longer have the demo's password (an admin reset it on a
// database that outlived its first start) or are disabled, instead of
// printing passwords that do not work.
func TestDemoLoginsSayWhatChanged(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	hash, err := bcrypt.GenerateFromPassword([]byte("a-new-secret-1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.DB.SetUserPassword(ctx, apptest.Admin, string(hash)); err != nil {
		t.Fatal(err)
	}
	if err := srv.App.DB.SetUserDisabled(ctx, apptest.Inspector2, true); err != nil {
		t.Fatal(err)
	}
	logins, err := srv.App.DemoLogins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, l := range logins {
		changed, disabled := l.Username == apptest.Admin, l.Username == apptest.Inspector2
		if l.Changed != changed || l.Disabled != disabled {
			t.Errorf("%s: changed %v disabled %v, want %v %v", l.Username, l.Changed, l.Disabled, changed, disabled)
		}
		if l.Username == apptest.Inspector {
			seen++
			if l.Password != apptest.Passwords[apptest.Inspector] {
				t.Errorf("inspector's demo password %q", l.Password)
			}
		}
	}
	if seen != 1 || len(logins) < 5 {
		t.Errorf("%d demo logins, inspector seen %d times", len(logins), seen)
	}
}

// TestUploadWhilePhotoStoreOutOfReach: an upload begun while the S3 store
// does not answer is 503 unavailable with a Retry-After (the phone sends
// it again later), not 500 internal, which a phone takes for a server
// bug; once the store answers, the same upload begins.
func TestUploadWhilePhotoStoreOutOfReach(t *testing.T) {
	url, hang := s3test.StartHung(t)
	srv := apptest.Start(t, func(c *app.Config) { c.Blobs = url + "&timeout=1s" })
	c := srv.Login(apptest.Inspector)
	vc, photo := uuid.NewString(), uuid.NewString()
	data := []byte("not yet read: the store is asked before the bytes")
	apptest.PushApplied(t, c,
		apptest.Mut(c, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu, "checkpoint", "豆罗检查站",
			"plate", "晋H30272", "checked_at", "2026-11-28T10:00:00+08:00")),
		apptest.Mut(c, syncproto.EntityPhoto, photo, apptest.Fields("vehicle_check_id", vc, "sha256", apptest.SHA256(data),
			"size_bytes", len(data), "content_type", "image/jpeg")))
	tus := srv.Tus(c)
	hang(true)
	r := tus.Create(photo, apptest.SHA256(data), "image/jpeg", len(data))
	if r.Status != http.StatusServiceUnavailable || r.Err.Code != syncproto.CodeUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("create with the store out of reach: %d %+v (Retry-After %q), want 503 unavailable with a Retry-After",
			r.Status, r.Err, r.Header.Get("Retry-After"))
	}
	hang(false)
	r = tus.Create(photo, apptest.SHA256(data), "image/jpeg", len(data))
	if r.Status != http.StatusCreated {
		t.Fatalf("create with the store back: %d %+v", r.Status, r.Err)
	}
	// The store stops answering again while the bytes are sent: tusd's
	// own write fails, and the answer says to come back.
	hang(true)
	loc := r.Header.Get("Location")
	if r := tus.Patch(loc, 0, data); r.Status != http.StatusServiceUnavailable || r.Err.Code != syncproto.CodeUnavailable ||
		r.Header.Get("Retry-After") == "" {
		t.Errorf("bytes sent with the store out of reach: %d %+v (Retry-After %q), want 503 unavailable with a Retry-After",
			r.Status, r.Err, r.Header.Get("Retry-After"))
	}
	// The phone's HEAD, to learn where to resume, answers the same while
	// the fault lasts (sync.md 10.4): its tusd answer has no body to say
	// what failed (multi-server probe: 500).
	if r := tus.Head(loc); r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("HEAD with the store out of reach: %d (Retry-After %q), want 503 with a Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	hang(false)
	if r := tus.Head(loc); r.Status != http.StatusOK || r.Header.Get("Upload-Offset") != "0" {
		t.Errorf("HEAD with the store back: %d offset %q", r.Status, r.Header.Get("Upload-Offset"))
	}

	// A photo shown to an office while the store does not answer: 503,
	// and its message does not speak of a phone's data kept.
	shown, jpeg := uuid.NewString(), testimg.JPEG(testimg.Options{Width: 64, Height: 48, Seed: 7})
	apptest.PushApplied(t, c, apptest.Mut(c, syncproto.EntityPhoto, shown, apptest.Fields("vehicle_check_id", vc,
		"sha256", apptest.SHA256(jpeg), "size_bytes", len(jpeg), "content_type", "image/jpeg")))
	tus.Upload(shown, "image/jpeg", jpeg, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	photo = shown
	office := srv.Login(apptest.CountyOffice)
	hang(true)
	defer hang(false)
	err := office.Do(t.Context(), http.MethodGet, "/api/v1/photos/"+photo+"/original", nil, nil)
	var ae *syncproto.APIError
	if !errors.As(err, &ae) || ae.Body.Code != syncproto.CodeUnavailable || strings.Contains(ae.Body.Message, "手机") {
		t.Errorf("an office's photo with the store out of reach: %v, want unavailable, not speaking of a phone", err)
	}
}

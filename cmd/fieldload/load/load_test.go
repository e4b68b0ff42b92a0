package load_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/cmd/fieldload/load"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestRunAgainstRealServer: ten simulated devices visit sites, push,
// upload photos and edit each other's inspections for a few seconds
// against a real server; nothing fails and nothing acknowledged is lost.
func TestRunAgainstRealServer(t *testing.T) {
	srv := apptest.Start(t)
	var out strings.Builder
	// A bounded amount of work (3 visits a device), not a time window: on a
	// loaded machine under -race a window may hold no visit at all.
	rep, err := load.Run(context.Background(), load.Config{Server: srv.URL, Devices: 10, Duration: 5 * time.Minute, Visits: 3, Photos: true})
	if rep != nil {
		rep.Print(&out)
		t.Log("\n" + out.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.ErrorCount() != 0 || rep.Lost != 0 {
		t.Fatalf("errors %v, lost %d %v", rep.Errors, rep.Lost, rep.LostSample)
	}
	// Every visit leaves at least an inspection, a finding and a photo; a
	// third of them edit another device's inspection.
	if rep.Visits != 30 || rep.Photos < rep.Visits || rep.Checked < 3*rep.Visits || rep.Conflicts == 0 {
		t.Fatalf("too little was done: %d visits, %d photos, %d conflicts, %d records", rep.Visits, rep.Photos, rep.Conflicts, rep.Checked)
	}
	for _, ep := range []string{load.EndpointPull, load.EndpointPush, load.EndpointUpload} {
		s := rep.Endpoints[ep]
		if s == nil || s.Requests == 0 || s.P99 <= 0 || s.P50 > s.P99 {
			t.Fatalf("endpoint %s: %+v", ep, s)
		}
	}
	if rep.PeakMemory <= 0 {
		t.Fatal("no server memory figure")
	}
	// The server's own figures cover the same requests: each answer is
	// counted in its histogram before the client can read all of it.
	for _, ep := range []string{load.EndpointPull, load.EndpointPush} {
		s, dev := rep.Server[ep], rep.Endpoints[ep]
		if s == nil || s.Requests != dev.Requests || s.P50 <= 0 || s.P50 > s.P99 || s.Within1s < s.Within250ms || s.Within1s <= 0 {
			t.Fatalf("server-side %s: %+v (devices counted %d)", ep, s, dev.Requests)
		}
	}
	if !strings.Contains(out.String(), "as the server measured them") {
		t.Fatal("the report does not print the server's figures")
	}
}

// TestRealisticRhythm: in the realistic rhythm, compressed far beyond the
// default so that the test is quick, devices stagger their first syncs,
// sync periodically and visit; nothing fails and nothing is lost. The
// server admits one pull and one push at a time with a short queue, so
// some devices are refused with 503 server_busy: they wait Retry-After and
// send the same request again, counted as busy, not as errors.
func TestRealisticRhythm(t *testing.T) {
	tight := api.GateConfig{Limit: 1, Queue: -1}
	srv := apptest.Start(t, func(c *app.Config) { c.Pull, c.Push = tight, tight })
	var out strings.Builder
	rep, err := load.Run(context.Background(), load.Config{Server: srv.URL, Devices: 6, Duration: 5 * time.Minute, Visits: 2, Photos: false,
		Rhythm: load.RhythmRealistic, Stagger: 300 * time.Millisecond, Compress: 1200})
	if rep != nil {
		rep.Print(&out)
		t.Log("\n" + out.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.ErrorCount() != 0 || rep.Lost != 0 {
		t.Fatalf("errors %v, lost %d %v", rep.Errors, rep.Lost, rep.LostSample)
	}
	// Each device syncs first and again every 50–250 ms between visits
	// 0.5–1.5 s apart; a visit is an inspection and 1–3 findings.
	if rep.Rhythm != load.RhythmRealistic || rep.Visits != 12 || rep.Syncs < 2*6 || rep.Checked < 2*rep.Visits {
		t.Fatalf("%s rhythm: %d visits, %d syncs, %d records", rep.Rhythm, rep.Visits, rep.Syncs, rep.Checked)
	}
	if !strings.Contains(out.String(), "busy") {
		t.Fatal("the report has no busy column")
	}
}

// TestManyDevicesSignIn: more devices than the demo accounts take
// sign-ins at once (a username takes 5; the others are answered 429
// too_many_attempts with Retry-After, which the client retries only a few
// times): every device waits and signs in, and the run counts them all.
// 200 devices used to run as 20, printing "200 devices signed in".
func TestManyDevicesSignIn(t *testing.T) {
	srv := apptest.Start(t)
	var progress []string
	rep, err := load.Run(context.Background(), load.Config{Server: srv.URL, Devices: 72, Duration: 5 * time.Minute, Visits: 1, Photos: false,
		Progress: func(s string) { progress = append(progress, s) }})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(progress, "\n"))
	}
	if rep.ErrorCount() != 0 || rep.Visits != 72 || !slices.Contains(progress, "72 of 72 devices signed in") {
		t.Fatalf("errors %v, %d visits, progress:\n%s", rep.Errors, rep.Visits, strings.Join(progress, "\n"))
	}
}

// TestCheckLoopback: only loopback targets are accepted.
func TestCheckLoopback(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:8080", "http://[::1]:80", "http://localhost:9"} {
		if err := load.CheckLoopback(ctx, u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080", "http://192.168.1.2", "http://8.8.8.8", "ftp://127.0.0.1", "127.0.0.1:8080", "http://"} {
		if err := load.CheckLoopback(ctx, u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if _, err := load.Run(ctx, load.Config{Server: "http://10.1.2.3:8080", Devices: 1, Duration: time.Second}); err == nil {
		t.Fatal("Run accepted a non-loopback server")
	}
	if _, err := load.Run(ctx, load.Config{Server: "http://127.0.0.1:8080,http://10.1.2.3:8080", Devices: 1, Duration: time.Second}); err == nil {
		t.Fatal("Run accepted a non-loopback second server")
	}
}

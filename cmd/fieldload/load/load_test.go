package load_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/cmd/fieldload/load"
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

package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestProfilerOnDebugAddr: with --debug-addr the server serves Go's
// profiler there, and the API's port does not.
func TestProfilerOnDebugAddr(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.DebugAddr = "127.0.0.1:0" })
	addr := srv.App.DebugAddr()
	if addr == "" {
		t.Fatal("no profiler address")
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + addr + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("profiler index: %d %.200s", code, body)
	}
	if code, _ := get(srv.URL + "/debug/pprof/"); code == http.StatusOK {
		t.Fatal("the API's port serves the profiler")
	}
}

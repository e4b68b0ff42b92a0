package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestReady: `fieldsync ready` exits 0 when the server at --addr (or
// FIELDSYNC_ADDR, a wildcard host asked on the loopback, as the image
// sets it) answers /readyz 200, and 1 saying why when it answers
// otherwise or not at all; the image's health check is this command (its
// /bin/sh, dash, has no /dev/tcp: the check it had always failed).
func TestReady(t *testing.T) {
	srv := apptest.Start(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	ready := func(env map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"ready"}, args...), &out, &errb, func(k string) string { return env[k] })
		return code, out.String(), errb.String()
	}
	if code, out, errs := ready(nil, "--addr", addr); code != 0 || out != "ready\n" {
		t.Errorf("a ready server: exit %d, %q %q", code, out, errs)
	}
	for _, wild := range []string{"0.0.0.0:" + port, "[::]:" + port, ":" + port} {
		if code, _, errs := ready(map[string]string{"FIELDSYNC_ADDR": wild}); code != 0 {
			t.Errorf("FIELDSYNC_ADDR=%s: exit %d %s", wild, code, errs)
		}
	}
	// Not ready (its store down: 503), and nobody there.
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"code":"unavailable","message":"数据库不可用"}`, http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	if code, _, errs := ready(nil, "--addr", strings.TrimPrefix(busy.URL, "http://")); code != 1 || !strings.Contains(errs, "503") {
		t.Errorf("a server not ready: exit %d, %q", code, errs)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := l.Addr().String()
	l.Close()
	if code, _, errs := ready(nil, "--addr", gone); code != 1 || !strings.Contains(errs, gone) {
		t.Errorf("nobody at the address: exit %d, %q", code, errs)
	}

	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	hc := regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD (.*)$`).FindSubmatch(docker)
	if hc == nil || string(hc[1]) != `["fieldsync", "ready"]` || !bytes.Contains(docker, []byte("FIELDSYNC_ADDR=0.0.0.0:8080")) {
		t.Errorf("the image's health check is %q, want fieldsync ready (reading FIELDSYNC_ADDR)", hc)
	}
}

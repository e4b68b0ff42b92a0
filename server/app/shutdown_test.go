package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"golang.org/x/crypto/bcrypt"
)

// TestShutdownGraceRunsOut: a server stopped while a push still runs past
// its shutdown grace cuts it off and says so in the log, naming
// --shutdown-grace, and stops as asked — not failing with "context
// deadline exceeded" (operator probe); a stop with nothing running logs
// that the database is closed.
func TestShutdownGraceRunsOut(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.BcryptCost, cfg.ShutdownGrace = "127.0.0.1:0", t.TempDir(), bcrypt.MinCost, 100*time.Millisecond
	var logs logtest.Buffer
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddUser(context.Background(), "grace", "password123", "", server.RoleInspector, []string{"140902"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		a.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	base := "http://" + a.Addr()
	body, _ := json.Marshal(map[string]string{"username": "grace", "password": "password123", "device_id": uuid.NewString()})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("sign in: %v", err)
	}
	// A push whose body stops halfway: it holds its turn until cut off.
	conn, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/sync/push HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"batch_id\":", a.Addr(), tok.AccessToken)
	for !strings.Contains(metric(t, base), `fieldsync_admission_in_flight{route="push"} 1`) {
		time.Sleep(10 * time.Millisecond) // polled until the push holds its turn
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve ended with %v, want a stop", err)
	}
	if l := logs.String(); !strings.Contains(l, "shutdown grace ran out") || !strings.Contains(l, "--shutdown-grace") {
		t.Errorf("no word in the log of the push cut off:\n%s", l)
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(conn)) // the connection was closed

	// With nothing running, the stop says the database is closed.
	b, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Listen(); err != nil {
		b.Close()
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := b.Serve(ctx); err != nil {
		t.Errorf("a stop with nothing running: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "stopped: the database is closed") {
		t.Errorf("no word in the log of the stop:\n%s", l)
	}
}

// metric reads the server's /metrics.
func metric(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Package crashtest kills the real fieldsync server binary with SIGKILL in
// the middle of a push and of a photo upload, restarts it on the same data
// directory, lets the device retry, and checks that nothing was lost,
// nothing was applied twice and the database is intact.
package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// serverBinary builds ./cmd/fieldsync once for all tests of the package.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "fieldsync-crashtest-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "fieldsync")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/fieldsync")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a running fieldsync child process.
type server struct {
	URL    string
	Dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the process's exit, once exited is closed
	stderr *logtest.Buffer
}

const startedPrefix = "fieldsync 已启动: http://"

// startServer runs `fieldsync serve --demo` on a loopback port with dir as
// its data directory (and any further flags), waits until it answers
// /readyz, and kills it when the test ends.
func startServer(t *testing.T, dir string, flags ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--demo",
		"--demo-month=false"}, flags...) // no background demo writes while the test counts records
	cmd := exec.Command(serverBinary(t), args...)
	s := &server{Dir: dir, cmd: cmd, exited: make(chan struct{}), stderr: &logtest.Buffer{}}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.kill(t) })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), startedPrefix); ok {
				addr <- strings.Fields(rest)[0]
			}
		}
		close(addr)
		io.Copy(io.Discard, out)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("server exited before it started:\n%s", s.stderr)
		}
		s.URL = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start within 30 s:\n%s", s.stderr)
	}
	s.waitReady(t)
	return s
}

// waitReady polls /readyz, a bounded number of times.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range 500 {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		<-tick.C
	}
	t.Fatalf("server at %s never became ready:\n%s", s.URL, s.stderr)
}

// kill sends SIGKILL and waits for the process to be gone (idempotent).
func (s *server) kill(t *testing.T) {
	select {
	case <-s.exited:
		return
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Logf("kill: %v", err)
	}
	<-s.exited
}

// stop asks the server to shut down gracefully and waits for it.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.stopWith(t, syscall.SIGTERM)
}

// stopWith sends sig, which must stop the server gracefully (exit status
// 0, not killed by the signal), and waits for it.
func (s *server) stopWith(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Fatalf("server stopped by %v: %v (want a graceful exit)\n%s", sig, s.err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		s.kill(t)
		t.Fatalf("server did not stop on %v within 30 s", sig)
	}
}

// integrityCheck opens the stopped server's database and runs PRAGMA
// integrity_check.
func integrityCheck(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	cfg := app.Config{DataDir: dir}
	db, err := sqlite.Open(context.Background(), cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	res, err := db.IntegrityCheck(context.Background())
	if err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
	return db
}

package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

// BenchmarkDemoStart measures `serve --demo` from nothing to the first
// HTTP answer, with the production password hashing: a fresh data
// directory (first: migrations, seeds, the demo accounts, the month's
// records, while its photos wait for the background) and one the demo was
// made in before (again: everything found, nothing written).
func BenchmarkDemoStart(b *testing.B) {
	b.Run("first", func(b *testing.B) {
		for range b.N {
			serveDemoOnce(b, b.TempDir())
		}
	})
	b.Run("again", func(b *testing.B) {
		dir := b.TempDir()
		b.StopTimer()
		serveDemoOnce(b, dir)
		b.StartTimer()
		for range b.N {
			serveDemoOnce(b, dir)
		}
	})
}

// serveDemoOnce opens the demo server on dir, waits for /healthz to answer
// (timed) and stops it (not timed).
func serveDemoOnce(b *testing.B, dir string) {
	b.Helper()
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Demo = "127.0.0.1:0", dir, true
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	for {
		resp, err := http.Get("http://" + a.Addr() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-done
	b.StartTimer()
}

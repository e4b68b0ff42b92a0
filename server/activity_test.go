package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
)

// TestActivity: a request in flight makes devices busy until it ends, and
// WaitQuiet waits for the quiet asked after the last one ends.
func TestActivity(t *testing.T) {
	var none *server.Activity
	for name, a := range map[string]*server.Activity{"nil": none, "zero": {}} {
		if q := a.Quiet(); q < time.Hour {
			t.Errorf("%s: quiet %v with no request ever, want very long", name, q)
		}
		if err := a.WaitQuiet(t.Context(), time.Hour); err != nil {
			t.Errorf("%s: WaitQuiet with no request ever: %v", name, err)
		}
		a.Begin()() // a nil Activity records nothing
	}

	var a server.Activity
	end1, end2 := a.Begin(), a.Begin()
	end1()
	if q := a.Quiet(); q != 0 {
		t.Fatalf("quiet %v with a request still in flight, want 0", q)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.WaitQuiet(ctx, time.Millisecond); err != context.Canceled {
		t.Fatalf("WaitQuiet while busy, context cancelled: %v, want context.Canceled", err)
	}
	end2()
	const quiet = 20 * time.Millisecond
	if err := a.WaitQuiet(t.Context(), quiet); err != nil {
		t.Fatal(err)
	}
	if q := a.Quiet(); q < quiet {
		t.Fatalf("WaitQuiet(%v) returned after %v of quiet", quiet, q)
	}
	end := a.Begin()
	done := make(chan error, 1)
	go func() { done <- a.WaitQuiet(t.Context(), quiet) }()
	end()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if q := a.Quiet(); q < quiet {
		t.Fatalf("WaitQuiet(%v) returned %v after the request in flight ended", quiet, q)
	}
}

// TestGiveWay: GiveWay returns at once while devices are quiet or past
// its time, waits while a request is in flight until its time or until
// devices have been quiet long enough, and ends with its context.
func TestGiveWay(t *testing.T) {
	var a server.Activity
	long := time.Now().Add(time.Hour)
	if err := a.GiveWay(t.Context(), time.Hour, long); err != nil {
		t.Fatalf("no request ever: %v", err)
	}
	end := a.Begin()
	before := time.Now()
	if err := a.GiveWay(t.Context(), time.Hour, before.Add(-time.Second)); err != nil {
		t.Fatalf("past its time: %v", err)
	}
	until := time.Now().Add(30 * time.Millisecond)
	if err := a.GiveWay(t.Context(), time.Hour, until); err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(until) {
		t.Fatalf("busy: returned %v before its time", until.Sub(now))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.GiveWay(ctx, time.Hour, long); err != context.Canceled {
		t.Fatalf("busy, context cancelled: %v, want context.Canceled", err)
	}
	const quiet = 20 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- a.GiveWay(t.Context(), quiet, long) }()
	end()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if q := a.Quiet(); q < quiet {
		t.Fatalf("returned after %v of quiet, want %v", q, quiet)
	}
}

package server

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// Activity records the devices' requests (pushes, pulls, uploads) in
// flight and when the last one ended, so that work no device is waiting
// for, such as the demo's month of photos, can give way to theirs. The
// zero value is ready to use and has seen no request; a nil *Activity
// sees none either.
type Activity struct {
	inFlight atomic.Int64
	last     atomic.Int64 // unix nanoseconds the last request ended, 0 if none has
}

// Begin records a device's request starting; the function it returns
// records it ending (call it once).
func (a *Activity) Begin() (end func()) {
	if a == nil {
		return func() {}
	}
	a.inFlight.Add(1)
	return func() {
		a.last.Store(time.Now().UnixNano())
		a.inFlight.Add(-1)
	}
}

// Quiet returns how long no device request has been in flight: 0 while
// one is, a very long time if none ever was.
func (a *Activity) Quiet() time.Duration {
	if a == nil {
		return math.MaxInt64
	}
	if a.inFlight.Load() > 0 {
		return 0
	}
	last := a.last.Load()
	if last == 0 {
		return math.MaxInt64
	}
	return time.Since(time.Unix(0, last))
}

// WaitQuiet blocks until no device request has been in flight for quiet,
// or ctx ends (returning its error). It returns at once when devices have
// been quiet that long already.
func (a *Activity) WaitQuiet(ctx context.Context, quiet time.Duration) error {
	for {
		q := a.Quiet()
		if q >= quiet {
			return ctx.Err()
		}
		// While a request is in flight, look again after quiet: it
		// cannot have been over for longer by then.
		t := time.NewTimer(quiet - q)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// GiveWay waits until no device request has been in flight for quiet, or
// until the time given, whichever comes first, or ctx ends (returning its
// error). Work that no device waits for calls it before each piece, so
// that devices go first while until bounds how long the work is held up.
func (a *Activity) GiveWay(ctx context.Context, quiet time.Duration, until time.Time) error {
	if a.Quiet() >= quiet || !time.Now().Before(until) {
		return ctx.Err()
	}
	wctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	_ = a.WaitQuiet(wctx, quiet) // past until, the work goes on
	return ctx.Err()
}

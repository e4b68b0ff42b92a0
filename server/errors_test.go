package server

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestRetryAfterSeconds: a wait is told in whole seconds rounded up; a
// client told less comes back too soon and is refused again.
func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want int
	}{
		{0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1400 * time.Millisecond, 2}, {2 * time.Second, 2}, {15 * time.Minute, 900},
	} {
		e := Errorf(syncproto.CodeTooManyTries, "等")
		e.RetryAfter = tc.wait
		if got := RetryAfterSeconds(fmt.Errorf("wrapped: %w", e)); got != tc.want {
			t.Errorf("RetryAfter %v: %d s, want %d", tc.wait, got, tc.want)
		}
	}
	if got := RetryAfterSeconds(errors.New("plain")); got != 0 {
		t.Errorf("a plain error: %d", got)
	}
}

package photos

import (
	"testing"
	"time"
)

// TestSecondsBetween: a time flag's seconds are exact for ordinary gaps and
// right beyond the ±292 years a time.Duration holds (an EXIF time of year
// 9999 read 9223372036 seconds, and the console 106751 天).
func TestSecondsBetween(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		a, b time.Time
		want int64
	}{
		{at.Add(90 * time.Minute), at, 5400},
		{at.Add(-1500 * time.Millisecond), at, -1},
		{far, at, far.Unix() - at.Unix()},
		{at, far, at.Unix() - far.Unix()},
	} {
		if got := secondsBetween(tc.a, tc.b); got != tc.want {
			t.Errorf("secondsBetween(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 8: 64 * time.Minute, 9: time.Hour, 50: time.Hour} {
		if want > time.Hour {
			want = time.Hour
		}
		if got := retryDelay(n); got != want {
			t.Errorf("retryDelay(%d) = %v, want %v", n, got, want)
		}
	}
}

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

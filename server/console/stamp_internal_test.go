package console

import (
	"testing"
	"time"
)

// TestRecentStampSaysAnotherYear: a time in the year it is now (China
// time) is said as month, day and minute; one of another year, the year
// before the first of January's midnight in China included, with its
// year — 最近送达 of a record last changed in December read 12-31 in
// January, as if it were coming.
func TestRecentStampSaysAnotherYear(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2027, 1, 2, 9, 0, 0, 0, cst)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2027, 1, 1, 0, 5, 0, 0, cst), "01-01 00:05"},
		{time.Date(2026, 12, 31, 16, 5, 0, 0, time.UTC), "01-01 00:05"}, // China's new year already
		{time.Date(2026, 12, 31, 15, 59, 0, 0, time.UTC), "2026-12-31 23:59"},
		{time.Date(2025, 3, 4, 8, 0, 0, 0, cst), "2025-03-04 08:00"},
		{time.Date(2028, 2, 1, 8, 0, 0, 0, cst), "2028-02-01 08:00"}, // a clock ahead
	} {
		if got := recentStamp(c.at, now); got != c.want {
			t.Errorf("recentStamp(%s) at %s: %q, want %q", c.at, now, got, c.want)
		}
	}
	// now itself read in UTC on the last evening of the year is already
	// China's new year.
	if got := recentStamp(time.Date(2026, 12, 30, 8, 0, 0, 0, cst), time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)); got != "2026-12-30 08:00" {
		t.Errorf("a time of the year before, read after China's midnight: %q", got)
	}
}

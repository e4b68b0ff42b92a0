package server

import (
	"testing"
	"time"
)

func TestChineseDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		500 * time.Millisecond:          "0.5 秒",
		20 * time.Second:                "20 秒",
		0:                               "0 秒",
		5 * time.Minute:                 "5 分钟",
		time.Hour + 5*time.Minute:       "1 小时 5 分钟",
		59*time.Minute + 59*time.Second: "59 分 59 秒",
		2*time.Hour + 59*time.Minute + 59400*time.Millisecond: "2 小时 59 分 59 秒",
		3*time.Hour + time.Second:                             "3 小时 1 秒",
	} {
		if got := ChineseDuration(d); got != want {
			t.Errorf("ChineseDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestChineseLead: a clock_skew message says a device clock's lead in
// hours up to two days, then in days, then in years — up to the largest
// HLC wall (999999999999999 ms), which as a time.Duration overflowed
// into 577607 小时.
func TestChineseLead(t *testing.T) {
	const hour, day = int64(time.Hour / time.Millisecond), 24 * int64(time.Hour/time.Millisecond)
	for ms, want := range map[int64]string{
		6 * 60_000:                      "6 分钟",
		20 * hour:                       "20 小时",
		47*hour + 59*60_000:             "47 小时 59 分钟",
		2 * day:                         "2 天",
		30*day - hour:                   "30 天",
		3*365*day - 2*day:               "3 年",
		400 * day:                       "400 天",
		2 * 365 * day:                   "2 年",
		999999999999999 - 1764547200000: "31654 年",
	} {
		if got := chineseLead(ms); got != want {
			t.Errorf("chineseLead(%d) = %q, want %q", ms, got, want)
		}
	}
}

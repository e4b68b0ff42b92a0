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
		5 * time.Minute:                 "5 分",
		59*time.Minute + 59*time.Second: "59 分 59 秒",
		2*time.Hour + 59*time.Minute + 59400*time.Millisecond: "2 小时 59 分 59 秒",
		3*time.Hour + time.Second:                             "3 小时 1 秒",
	} {
		if got := ChineseDuration(d); got != want {
			t.Errorf("ChineseDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

package load

import (
	"math"
	"testing"
	"time"
)

// TestServerStatsFromHistograms: the figures of a run are the histogram
// taken at its end minus the one taken at its start, quantiles
// interpolated within their bucket, with a quantile past the last finite
// bound reported as that bound and marked.
func TestServerStatsFromHistograms(t *testing.T) {
	inf := math.Inf(1)
	bounds := []float64{0.1, 0.25, 1, inf}
	h := func(counts ...float64) *histogram { return &histogram{bounds: bounds, counts: counts} }
	for _, tc := range []struct {
		name          string
		start, end    *histogram
		n             int
		p50, p95, p99 time.Duration
		over          bool
		in250, in1s   float64
	}{
		{name: "all in the first bucket", end: h(100, 100, 100, 100), n: 100,
			p50: 50 * time.Millisecond, p95: 95 * time.Millisecond, p99: 99 * time.Millisecond, in250: 1, in1s: 1},
		{name: "the start is taken off", start: h(1000, 1000, 1000, 1000), end: h(1100, 1100, 1100, 1100), n: 100,
			p50: 50 * time.Millisecond, p95: 95 * time.Millisecond, p99: 99 * time.Millisecond, in250: 1, in1s: 1},
		{name: "spread", end: h(50, 90, 99, 100), n: 100,
			p50: 100 * time.Millisecond, p95: 250*time.Millisecond + 750*time.Millisecond*5/9, p99: time.Second, in250: 0.9, in1s: 0.99},
		{name: "tail past the last bound", end: h(10, 20, 50, 100), n: 100,
			p50: time.Second, p95: time.Second, p99: time.Second, over: true, in250: 0.2, in1s: 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := map[string]*histogram{}
			if tc.start != nil {
				start["push"] = tc.start
			}
			stats, err := serverStats(start, map[string]*histogram{"push": tc.end})
			s := stats["push"]
			if err != nil || s == nil {
				t.Fatal("no figures")
			}
			near := func(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }
			if s.Requests != tc.n || !near(s.P50, tc.p50) || !near(s.P95, tc.p95) || !near(s.P99, tc.p99) || s.Over != tc.over ||
				math.Abs(s.Within250ms-tc.in250) > 1e-9 || math.Abs(s.Within1s-tc.in1s) > 1e-9 {
				t.Fatalf("got %+v, want n %d p50 %v p95 %v p99 %v over %v ≤250ms %v ≤1s %v", s, tc.n, tc.p50, tc.p95, tc.p99, tc.over, tc.in250, tc.in1s)
			}
		})
	}
	if got, _ := serverStats(nil, map[string]*histogram{"pull": h(5, 5, 5, 5)}); got["pull"] == nil || got["pull"].Requests != 5 {
		t.Fatalf("no start: %+v", got["pull"])
	}
	if got, _ := serverStats(map[string]*histogram{"pull": h(5, 5, 5, 5)}, map[string]*histogram{"pull": h(5, 5, 5, 5)}); len(got) != 0 {
		t.Fatalf("an endpoint with no requests in the run: %+v", got)
	}
	// A server that started again during the run: its counters began
	// again from zero, and the figures would be nonsense (over 100% within
	// 250 ms).
	if got, err := serverStats(map[string]*histogram{"pull": h(50, 60, 70, 80)}, map[string]*histogram{"pull": h(5, 5, 5, 5)}); err == nil {
		t.Fatalf("a restarted server's counters: %+v, want an error", got["pull"])
	}
}

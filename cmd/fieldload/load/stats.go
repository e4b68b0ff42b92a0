package load

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Endpoints the report breaks figures down by.
const (
	EndpointPull   = "pull"
	EndpointPush   = "push"
	EndpointUpload = "upload"
	EndpointAuth   = "auth"
	EndpointOther  = "other"
)

// endpointOf names the endpoint of a request by its path.
func endpointOf(r *http.Request) string { return endpointOfPath(r.URL.Path) }

// endpointOfPath names the endpoint of a path, or of a server's route
// pattern (the uploads' end in a parameter).
func endpointOfPath(p string) string {
	switch {
	case p == syncproto.PathPull:
		return EndpointPull
	case p == syncproto.PathPush:
		return EndpointPush
	case strings.HasPrefix(p, syncproto.PathUploads) || p+"/" == syncproto.PathUploads:
		return EndpointUpload
	case strings.HasPrefix(p, "/api/v1/auth/"):
		return EndpointAuth
	}
	return EndpointOther
}

// recorder counts every HTTP request a simulated device makes, with its
// latency (until the response headers arrive and the body is read) and
// its status.
type recorder struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration
	statuses  map[string]map[int]int // endpoint → HTTP status → count
	bytesIn   map[string]int64
	busy      map[string]int // endpoint → 503 server_busy answers
}

func newRecorder() *recorder {
	return &recorder{latencies: map[string][]time.Duration{}, statuses: map[string]map[int]int{}, bytesIn: map[string]int64{},
		busy: map[string]int{}}
}

func (r *recorder) add(endpoint string, d time.Duration, status int, n int64, busy bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if busy {
		r.busy[endpoint]++ // a quick refusal: not a latency of the endpoint's work
	} else {
		r.latencies[endpoint] = append(r.latencies[endpoint], d)
	}
	if r.statuses[endpoint] == nil {
		r.statuses[endpoint] = map[int]int{}
	}
	r.statuses[endpoint][status]++
	r.bytesIn[endpoint] += n
}

// transport measures each round trip, reading the whole response body so
// that the latency includes it.
type transport struct {
	next http.RoundTripper
	rec  *recorder
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ep := endpointOf(req)
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.rec.add(ep, time.Since(start), 0, 0, false)
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr != nil {
		t.rec.add(ep, time.Since(start), 0, 0, false)
		return nil, rerr
	}
	busy := resp.StatusCode == http.StatusServiceUnavailable && bytes.Contains(body, []byte(`"`+syncproto.CodeServerBusy+`"`))
	t.rec.add(ep, time.Since(start), resp.StatusCode, int64(len(body)), busy)
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp, nil
}

// EndpointStats are the figures of one endpoint.
type EndpointStats struct {
	Requests  int
	PerSecond float64
	// P50 … Max are the latencies of the requests served: the 503
	// server_busy refusals (Busy) are left out, since what a device waits
	// for those is Retry-After and then another request, counted itself.
	P50, P95, P99 time.Duration
	Max           time.Duration
	// Statuses counts answers by HTTP status (0: no answer, a transport
	// error). Non-2xx answers that a retry later overcame are counted here
	// but are not errors of the run.
	Statuses map[int]int
	// Busy counts the 503 server_busy answers among Statuses: each made
	// the device wait Retry-After and send the same request again, which
	// is the server degrading as designed, not an error.
	Busy          int
	ResponseBytes int64
}

// Report is the outcome of a run.
type Report struct {
	Devices int
	// Rhythm is the devices' rhythm (RhythmStress or RhythmRealistic) and
	// Syncs how many periodic syncs they made in the realistic one.
	Rhythm   string
	Syncs    int
	Duration time.Duration
	// Visits is how many inspections devices completed; Mutations how many
	// mutations they sent (answered by the server); Photos how many photo
	// uploads completed; Conflicts how many summary edits were made to
	// another device's inspection.
	Visits, Mutations, Photos, Conflicts int
	// Stale counts mutations answered "stale" (lost a conflict; kept in the
	// conflict log).
	Stale     int
	Endpoints map[string]*EndpointStats
	// Errors counts operations that failed for good (after the client's
	// retries) by error code, and rejected mutations as "rejected:<code>".
	Errors map[string]int
	// Checked is how many distinct records the server acknowledged; Lost
	// how many of them the final pull as the city office did not return.
	Checked, Lost int
	LostSample    []string
	// PeakMemory is the server's peak resident memory in bytes and
	// MemorySource where it came from (VmHWM of the pid, or the highest
	// process_resident_memory_bytes sampled from /metrics); 0 if unknown.
	PeakMemory   int64
	MemorySource string
	// Server holds, by endpoint, the request durations the servers
	// measured themselves over the same window (their /metrics
	// histogram): the devices' latencies without the load generator's
	// own work in them. Nil if the servers' metrics could not be read.
	Server map[string]*ServerStats
}

// ErrorCount is the total of Errors.
func (r *Report) ErrorCount() int {
	n := 0
	for _, v := range r.Errors {
		n += v
	}
	return n
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func (r *recorder) stats(elapsed time.Duration) map[string]*EndpointStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*EndpointStats{}
	for ep := range r.statuses {
		s := slices.Clone(r.latencies[ep])
		slices.Sort(s)
		n := len(s) + r.busy[ep]
		out[ep] = &EndpointStats{Requests: n, PerSecond: float64(n) / elapsed.Seconds(),
			P50: percentile(s, 0.50), P95: percentile(s, 0.95), P99: percentile(s, 0.99), Max: percentile(s, 1),
			Statuses: r.statuses[ep], Busy: r.busy[ep], ResponseBytes: r.bytesIn[ep]}
	}
	return out
}

// Print writes the report for people.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "fieldload: %d devices (%s) for %s: %d visits, %d syncs, %d mutations (%d stale), %d photos uploaded, %d conflicting edits\n",
		r.Devices, r.Rhythm, r.Duration.Round(time.Millisecond), r.Visits, r.Syncs, r.Mutations, r.Stale, r.Photos, r.Conflicts)
	fmt.Fprintf(w, "%-8s %9s %9s %9s %9s %9s %9s %6s  %s\n", "endpoint", "requests", "req/s", "p50", "p95", "p99", "max", "busy", "statuses")
	for _, ep := range slices.Sorted(maps.Keys(r.Endpoints)) {
		s := r.Endpoints[ep]
		fmt.Fprintf(w, "%-8s %9d %9.1f %9s %9s %9s %9s %6d  %v\n", ep, s.Requests, s.PerSecond, ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), s.Busy, s.Statuses)
	}
	if len(r.Server) > 0 {
		fmt.Fprintln(w, "as the server measured them (its request-duration histogram, interpolated within buckets):")
		fmt.Fprintf(w, "%-8s %9s %9s %9s %9s %8s %8s\n", "endpoint", "requests", "p50", "p95", "p99", "<=250ms", "<=1s")
		for _, ep := range slices.Sorted(maps.Keys(r.Server)) {
			s := r.Server[ep]
			p99 := ms(s.P99)
			if s.Over {
				p99 = ">" + p99
			}
			fmt.Fprintf(w, "%-8s %9d %9s %9s %9s %7.2f%% %7.2f%%\n", ep, s.Requests, ms(s.P50), ms(s.P95), p99, 100*s.Within250ms, 100*s.Within1s)
		}
	}
	fmt.Fprintf(w, "errors: %d %v\n", r.ErrorCount(), r.Errors)
	fmt.Fprintf(w, "lost writes: %d of %d records checked %v\n", r.Lost, r.Checked, r.LostSample)
	if r.PeakMemory > 0 {
		fmt.Fprintf(w, "server peak memory: %.1f MiB (%s)\n", float64(r.PeakMemory)/(1<<20), r.MemorySource)
	} else {
		fmt.Fprintln(w, "server peak memory: unknown")
	}
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

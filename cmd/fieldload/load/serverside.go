package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// This file reads the servers' own view of the run: the request-duration
// histogram each exports on /metrics, taken when the devices start and
// again when they stop. The latencies the devices measure include the
// load generator's own work (parsing pages, making photos), which on two
// shared cores can be as much CPU as the server's; the server's figures
// leave it out.

// durationMetric is the servers' request-duration histogram, by route.
const durationMetric = "fieldsync_http_request_duration_seconds"

// ServerStats are one endpoint's request durations as the servers measured
// them, from their histogram's buckets. P50, P95 and P99 are interpolated
// within the bucket they fall in, as Prometheus's histogram_quantile does;
// Over is set when one lies in the last bucket, past the largest finite
// bound (then it is that bound, a lower limit).
type ServerStats struct {
	Requests      int
	P50, P95, P99 time.Duration
	Over          bool
	// Within250ms and Within1s are the shares of requests the servers
	// answered in at most 250 ms and 1 s (bucket bounds of the histogram).
	Within250ms, Within1s float64
}

// histogram is a cumulative histogram: counts[i] requests took at most
// bounds[i] seconds; the last bound is +Inf.
type histogram struct {
	bounds []float64
	counts []float64
}

// durations returns the servers' request-duration histograms by endpoint,
// summed over servers and over each endpoint's routes.
func (r *run) durations(ctx context.Context) (map[string]*histogram, error) {
	out := map[string]*histogram{}
	for _, s := range r.servers {
		fams, err := scrape(ctx, s)
		if err != nil {
			return nil, err
		}
		for _, m := range fams[durationMetric].GetMetric() {
			route := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" {
					route = l.GetValue()
				}
			}
			h := m.GetHistogram()
			if h == nil || route == "/metrics" { // the load generator's own reads of it
				continue
			}
			ep := endpointOfPath(route)
			sum := out[ep]
			if sum == nil {
				sum = &histogram{}
				out[ep] = sum
			}
			sum.add(h)
		}
	}
	return out, nil
}

// scrape reads and parses a server's /metrics.
func scrape(ctx context.Context, server string) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read %s/metrics: %w", server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read %s/metrics: %s", server, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("parse %s/metrics: %w", server, err)
	}
	return fams, nil
}

// add adds a route's histogram (same bucket bounds for every route).
func (h *histogram) add(p *dto.Histogram) {
	bs := p.GetBucket()
	if h.bounds == nil {
		h.bounds = make([]float64, len(bs)+1)
		h.counts = make([]float64, len(bs)+1)
		for i, b := range bs {
			h.bounds[i] = b.GetUpperBound()
		}
		h.bounds[len(bs)] = math.Inf(1)
	}
	for i, b := range bs {
		if i < len(h.counts)-1 {
			h.counts[i] += float64(b.GetCumulativeCount())
		}
	}
	h.counts[len(h.counts)-1] += float64(p.GetSampleCount())
}

// since returns the requests counted in h and not in before.
func (h *histogram) since(before *histogram) *histogram {
	d := &histogram{bounds: h.bounds, counts: make([]float64, len(h.counts))}
	copy(d.counts, h.counts)
	if before != nil && len(before.counts) == len(h.counts) {
		for i := range d.counts {
			d.counts[i] -= before.counts[i]
		}
	}
	return d
}

// quantile returns the q-quantile, interpolated linearly within its
// bucket, and whether it lies past the largest finite bound.
func (h *histogram) quantile(q float64) (float64, bool) {
	n := len(h.counts)
	if n < 2 || h.counts[n-1] == 0 {
		return 0, false
	}
	rank := q * h.counts[n-1]
	i := sort.Search(n, func(i int) bool { return h.counts[i] >= rank })
	if i >= n-1 {
		return h.bounds[n-2], true
	}
	lo, below := 0.0, 0.0
	if i > 0 {
		lo, below = h.bounds[i-1], h.counts[i-1]
	}
	in := h.counts[i] - below
	if in <= 0 {
		return h.bounds[i], false
	}
	return lo + (h.bounds[i]-lo)*(rank-below)/in, false
}

// within returns the share of requests that took at most bound seconds
// (bound must be one of the histogram's bounds; else 0).
func (h *histogram) within(bound float64) float64 {
	n := len(h.counts)
	if n == 0 || h.counts[n-1] == 0 {
		return 0
	}
	for i, b := range h.bounds {
		if b == bound {
			return h.counts[i] / h.counts[n-1]
		}
	}
	return 0
}

// serverStats turns the histograms of the run (end minus start) into
// ServerStats by endpoint.
func serverStats(start, end map[string]*histogram) (map[string]*ServerStats, error) {
	out := map[string]*ServerStats{}
	for ep, h := range end {
		d := h.since(start[ep])
		if slices.ContainsFunc(d.counts, func(n float64) bool { return n < 0 }) {
			// Fewer requests at the end than at the start: the server
			// started again during the run and its counters with it.
			return nil, fmt.Errorf("a server restarted during the run (its %s counters are below the start's)", ep)
		}
		total := d.counts[len(d.counts)-1]
		if total <= 0 {
			continue
		}
		s := &ServerStats{Requests: int(total), Within250ms: d.within(0.25), Within1s: d.within(1)}
		for _, x := range []struct {
			q   float64
			dst *time.Duration
		}{{0.50, &s.P50}, {0.95, &s.P95}, {0.99, &s.P99}} {
			v, over := d.quantile(x.q)
			*x.dst = time.Duration(v * float64(time.Second))
			s.Over = s.Over || over
		}
		out[ep] = s
	}
	return out, nil
}

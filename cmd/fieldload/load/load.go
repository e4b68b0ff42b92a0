// Package load simulates many inspectors' phones syncing with one fieldsync
// server at once, and measures the server: throughput and latency per
// endpoint, errors, writes lost, and peak memory. cmd/fieldload runs it.
//
// Each simulated device signs in as a demo inspector (seeds/demo.json) with
// its own device id and loops over realistic visits until the time is up:
// pull its slice from its cursor, create an inspection at a site of its
// county with 20–50 mutations (answers, findings, a summary) pushed in 1–3
// batches, take 1–3 photos (real JPEGs with EXIF) pushed as photo records
// and uploaded over tus, and now and then edit the summary of another
// device's inspection, so that the server resolves real conflicts.
package load

import (
	"context"
	"errors"
	"fmt"
	"github.com/xinzhou-eco/fieldsync/internal/procmem"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Demo accounts the devices and the final check sign in as.
var (
	demoInspectors = []struct{ user, county string }{
		{"inspector", "140902"}, {"ningwu", "140925"}, {"inspector2", "140902"},
	}
	demoPassword           = "inspector123"
	cityUser, cityPassword = "city", "city1234"
	defaultPhotoChunk      = 64 << 10
	defaultPullLimit       = 500
	conflictProbability    = 0.3
)

// Config says what to run.
type Config struct {
	// Server is the base URL; it must resolve to loopback addresses only.
	// Several servers on one database are given comma-separated: device i
	// talks to the i-th (round robin), and the final check reads the first.
	Server   string
	Devices  int
	Duration time.Duration
	// Visits, if not zero, is how many visits each device makes before it
	// stops (the run still ends at Duration): a bounded amount of work
	// whatever the machine's speed, for tests.
	Visits int
	Photos bool
	// Rhythm is how devices spread their work: RhythmStress (""; the
	// default) or RhythmRealistic (rhythm.go).
	Rhythm string
	// Think is the mean pause of a device between visits in the stress
	// rhythm (0: none, every device visits back to back, a stress far
	// above a real working day).
	Think time.Duration
	// Stagger is the window in which each device's first sync falls, at
	// random, in the realistic rhythm (0: all at once).
	Stagger time.Duration
	// Compress divides the realistic rhythm's intervals (sync every 1–5
	// minutes, visit every 10–30): 10 makes them 6–30 s and 60–180 s.
	// 0 means 1 (real time).
	Compress float64
	// ServerPID, if not zero, is the server's process id: its VmHWM is the
	// peak memory reported. Otherwise /metrics is sampled every second.
	ServerPID int
	// Transport carries the devices' requests (default: a shared
	// http.Transport sized for Devices connections).
	Transport http.RoundTripper
	// Progress, if set, receives a line now and then.
	Progress func(string)
}

// CheckLoopback returns an error unless every address raw's host resolves
// to is a loopback address: the load generator may target nothing else.
func CheckLoopback(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("server URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("server URL %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("server URL %q has no host", raw)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", host, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("%s resolves to no address", host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("refusing %s: it resolves to %s, not a loopback address (only local servers may be loaded)", host, ip)
		}
	}
	return nil
}

// Run runs the load and returns the report. It stops by itself after
// cfg.Duration (or when ctx ends, or every device made cfg.Visits visits),
// then verifies that no acknowledged
// write is missing from the server.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	servers := strings.Split(cfg.Server, ",")
	for i, s := range servers {
		if err := CheckLoopback(ctx, s); err != nil {
			return nil, err
		}
		servers[i] = strings.TrimRight(strings.TrimSpace(s), "/")
	}
	if cfg.Devices < 1 || cfg.Duration <= 0 {
		return nil, errors.New("devices must be at least 1 and duration positive")
	}
	switch cfg.Rhythm {
	case "", RhythmStress:
		cfg.Rhythm = RhythmStress
	case RhythmRealistic:
		if cfg.Compress == 0 {
			cfg.Compress = 1
		}
		if cfg.Compress < 1 || cfg.Stagger < 0 {
			return nil, errors.New("compress must be at least 1 and stagger not negative")
		}
	default:
		return nil, fmt.Errorf("rhythm %q: want %s or %s", cfg.Rhythm, RhythmStress, RhythmRealistic)
	}
	cfg.Server = servers[0]
	rec := newRecorder()
	base := cfg.Transport
	if base == nil {
		base = &http.Transport{Proxy: nil, MaxIdleConns: cfg.Devices * 2, MaxIdleConnsPerHost: cfg.Devices * 2, IdleConnTimeout: 90 * time.Second}
	}
	r := &run{cfg: cfg, servers: servers, http: &http.Client{Timeout: 2 * time.Minute, Transport: &transport{next: base, rec: rec}},
		errors: map[string]int{}, written: map[string]bool{}, board: map[string][]boardEntry{}}

	memCtx, stopMem := context.WithCancel(ctx)
	memDone := make(chan struct{})
	go func() { defer close(memDone); r.sampleMemory(memCtx) }()

	devs := make([]*device, cfg.Devices)
	var wg sync.WaitGroup
	for i := range devs {
		devs[i] = newDevice(r, i)
		wg.Add(1)
		go func(d *device) { defer wg.Done(); d.login(ctx) }(devs[i])
	}
	wg.Wait()
	signedIn := 0
	for _, d := range devs {
		if d.ok {
			signedIn++
		}
	}
	r.progress("%d of %d devices signed in", signedIn, cfg.Devices)
	if signedIn < cfg.Devices {
		stopMem()
		<-memDone
		return nil, fmt.Errorf("%d of %d devices could not sign in (see the errors above)", cfg.Devices-signedIn, cfg.Devices)
	}
	before, herr := r.durations(ctx)

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	for _, d := range devs {
		if !d.ok {
			continue
		}
		wg.Add(1)
		go func(d *device) { defer wg.Done(); d.loop(runCtx) }(d)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var server map[string]*ServerStats
	after, err := r.durations(ctx)
	if herr == nil && err == nil {
		server, err = serverStats(before, after)
	}
	if err := errors.Join(herr, err); err != nil {
		r.progress("no server-side durations: %v", err)
	}
	stopMem()
	<-memDone

	rep := &Report{Devices: cfg.Devices, Rhythm: cfg.Rhythm, Duration: elapsed, Syncs: r.syncs, Visits: r.visits, Mutations: r.mutations, Photos: r.photos,
		Conflicts: r.conflicts, Stale: r.stale, Endpoints: rec.stats(elapsed), Errors: r.errors, Server: server}
	if err := r.verify(ctx, rep); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	rep.PeakMemory, rep.MemorySource = r.peakMemory()
	return rep, nil
}

// run is the state the devices share.
type run struct {
	cfg     Config
	servers []string // cfg.Server split: device i talks to servers[i%len]
	http    *http.Client

	mu                                          sync.Mutex
	visits, mutations, photos, conflicts, stale int
	syncs                                       int // periodic syncs (realistic rhythm)
	errors                                      map[string]int
	written                                     map[string]bool         // "entity/id" acknowledged by the server
	board                                       map[string][]boardEntry // county → recent inspections (for conflicts)
	memPeak                                     int64
}

func (r *run) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		r.cfg.Progress(fmt.Sprintf(format, args...))
	}
}

// fail counts an operation that failed for good.
func (r *run) fail(ctx context.Context, err error) {
	if err == nil || ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return // the run ended in the middle of a request: not a server error
	}
	code := syncproto.ErrorCodeOf(err)
	if code == "" {
		code = "transport"
	}
	r.mu.Lock()
	r.errors[code]++
	r.mu.Unlock()
}

// acknowledge records a push's answers.
func (r *run) acknowledge(muts []syncproto.Mutation, resp *syncproto.PushResponse) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mutations += len(resp.Results)
	for i, res := range resp.Results {
		switch res.Status {
		case syncproto.StatusApplied, syncproto.StatusDuplicate, syncproto.StatusStale:
			r.written[res.Entity+"/"+res.ID] = true
			if res.Status == syncproto.StatusStale {
				r.stale++
			}
		default:
			r.errors["rejected:"+res.Code]++
		}
		if i < len(muts) && (muts[i].Entity != res.Entity || muts[i].ID != res.ID) {
			r.errors["result_order"]++
		}
	}
	if len(resp.Results) != len(muts) {
		r.errors["result_count"]++
	}
}

// verify pulls everything as the city office and counts acknowledged
// records it does not return.
func (r *run) verify(ctx context.Context, rep *Report) error {
	c := syncproto.NewClient(r.cfg.Server, "01900000-0000-7000-8000-00000000f1e1")
	c.HTTP = &http.Client{Timeout: 2 * time.Minute}
	if _, err := c.Login(ctx, cityUser, cityPassword, "fieldload verifier"); err != nil {
		return fmt.Errorf("sign in as %s: %w", cityUser, err)
	}
	seen := map[string]bool{}
	if _, err := c.PullAll(ctx, "", 1000, func(p *syncproto.PullResponse) error {
		for _, ch := range p.Changes {
			seen[ch.Entity+"/"+ch.ID] = true
		}
		return nil
	}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rep.Checked = len(r.written)
	for k := range r.written {
		if !seen[k] {
			rep.Lost++
			if len(rep.LostSample) < 10 {
				rep.LostSample = append(rep.LostSample, k)
			}
		}
	}
	return nil
}

// sampleMemory keeps the highest process_resident_memory_bytes seen on
// /metrics, sampled every second, when no pid was given.
func (r *run) sampleMemory(ctx context.Context) {
	if r.cfg.ServerPID != 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if v := r.metricsRSS(ctx); v > 0 {
			r.mu.Lock()
			r.memPeak = max(r.memPeak, v)
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// metricsRSS reads the first server's process_resident_memory_bytes; 0 if
// it cannot.
func (r *run) metricsRSS(ctx context.Context) int64 {
	fams, err := scrape(ctx, r.cfg.Server)
	if err != nil {
		return 0
	}
	if ms := fams["process_resident_memory_bytes"].GetMetric(); len(ms) > 0 {
		return int64(ms[0].GetGauge().GetValue())
	}
	return 0
}

func (r *run) peakMemory() (int64, string) {
	if r.cfg.ServerPID != 0 {
		if v := procmem.PeakRSS(r.cfg.ServerPID); v > 0 {
			return v, fmt.Sprintf("VmHWM of pid %d", r.cfg.ServerPID)
		}
		return 0, ""
	}
	if v := r.metricsRSS(context.Background()); v > r.memPeak {
		r.memPeak = v
	}
	return r.memPeak, "highest process_resident_memory_bytes sampled from /metrics each second"
}

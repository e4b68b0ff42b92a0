// Command fieldbench measures fieldsync over HTTP side by side with the raw
// SQLite rate of the same rows, in one process and one run (issue 14).
//
// Every round, on the same generated workload (n roadside vehicle checks
// with random UUIDv4 ids, ~560 bytes of JSON each, batch per transaction or
// push):
//
//   - raw SQLite (mattn/go-sqlite3, WAL, synchronous=NORMAL, a fresh file):
//     INSERT the n rows, UPSERT all n rewritten, SELECT the county's slice
//     ordered by seq and JSON-encode each row;
//   - fieldsync over HTTP: a fieldsync server process with a fresh data
//     directory, and one sequential syncproto.Client that pushes the n
//     records as new, pushes them all rewritten, and pulls the county slice
//     (page -limit), then the server's peak RSS;
//   - the client alone: the same client, the same pushes and the pages the
//     pull got, against a stand-in server on a loopback port that answers
//     each at once (floor.go). Its rates are the most any server could
//     reach with this client.
//
// It prints each figure's median [min–max] over the rounds, the ratios the
// issue's targets name, each taken within a round, the same ratios for the
// client alone (the ceiling), and, per push and per page, the time
// fieldsync adds to the client's own against the time a server may add and
// still meet the target. Usage:
//
//	go run ./cmd/fieldbench -n 100000 -rounds 3
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// config is one run's settings (the flags).
type config struct {
	N, Rounds, Batch, Limit int
	Fieldsync               string // the server binary; "" builds ./cmd/fieldsync
	County                  string
	User, Password          string
	Form                    string  // the pull's wire form: compact or grouped
	LinkMBs                 float64 // the first sync's link in MB/s (0: none)
	ServerArgs              string  // more arguments for fieldsync serve
	JSON                    bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.N, "n", 100000, "records")
	flag.IntVar(&cfg.Rounds, "rounds", 3, "rounds; each runs raw SQLite and then fieldsync over HTTP")
	flag.IntVar(&cfg.Batch, "batch", 500, "records per push and rows per raw transaction")
	flag.IntVar(&cfg.Limit, "limit", 500, "pull page size")
	flag.StringVar(&cfg.Fieldsync, "fieldsync", "", "fieldsync binary (default: go build ./cmd/fieldsync into a temporary directory)")
	flag.StringVar(&cfg.County, "county", "140902", "the county the records are filed under (the user's)")
	flag.StringVar(&cfg.User, "user", "inspector", "demo user to sign in as")
	flag.StringVar(&cfg.Password, "password", "inspector123", "its password")
	flag.StringVar(&cfg.Form, "form", "compact", "the pull's wire form: compact (form=compact, what the clients use) or grouped (hlcs=grouped, as ../shared/peers' fsload asks; servers before the compact form have only this)")
	flag.StringVar(&cfg.ServerArgs, "server-args", "", "more arguments for fieldsync serve, space-separated (e.g. --debug-addr 127.0.0.1:6060 to profile it)")
	flag.Float64Var(&cfg.LinkMBs, "link", 2, "after the pull, a first sync of the slice over a link of this many MB/s of gzip-compressed answers (0: skip)")
	flag.BoolVar(&cfg.JSON, "json", false, "print one JSON line per round and one for the summary instead of tables")
	cpuProfile := flag.String("cpuprofile", "", "write this process's (the client's) CPU profile to the file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fieldbench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if _, err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fieldbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// roundResult is every figure of one round.
type roundResult struct {
	Round  int    `json:"round"`
	SQLite string `json:"sqlite_version"`

	RawInsertRowsS float64 `json:"raw_insert_rows_s"`
	RawUpsertRowsS float64 `json:"raw_upsert_rows_s"`
	RawReadRowsS   float64 `json:"raw_read_json_rows_s"`
	RawReadBytes   int64   `json:"raw_read_json_bytes"`

	PushNewS     float64 `json:"http_push_new_rec_s"`
	PushRewriteS float64 `json:"http_push_rewrite_rec_s"`
	PullS        float64 `json:"http_pull_rec_s"`
	PullRecords  int     `json:"http_pull_records"`
	PullChanges  int     `json:"http_pull_changes"`
	PullBytes    int64   `json:"http_pull_bytes"`
	OwnJSONBytes int64   `json:"own_json_bytes"`
	PeakRSSMiB   float64 `json:"server_peak_rss_mib"`
	FirstSyncS   float64 `json:"first_sync_s"`
	FirstSyncMB  float64 `json:"first_sync_wire_mb"`

	CPUPushNewMS     float64 `json:"server_cpu_ms_push_new"`
	CPUPushRewriteMS float64 `json:"server_cpu_ms_push_rewrite"`
	CPUPullPageMS    float64 `json:"server_cpu_ms_pull_page"`

	// The same client against a stand-in server that answers at once
	// (floor.go): the client's own rates, the ceiling of fieldsync's.
	ClientPushNewS     float64 `json:"client_alone_push_new_rec_s"`
	ClientPushRewriteS float64 `json:"client_alone_push_rewrite_rec_s"`
	ClientPullS        float64 `json:"client_alone_pull_rec_s"`

	PushNewRatio     float64 `json:"ratio_push_new_raw_insert"`
	PushRewriteRatio float64 `json:"ratio_push_rewrite_raw_upsert"`
	PullRatio        float64 `json:"ratio_pull_raw_read_json"`
	BytesRatio       float64 `json:"ratio_pull_bytes_own_json"`
	// The ratios a server taking no time at all would reach with this
	// client: the client alone ÷ the raw rate.
	CeilPushNewRatio     float64 `json:"ceiling_push_new_raw_insert"`
	CeilPushRewriteRatio float64 `json:"ceiling_push_rewrite_raw_upsert"`
	CeilPullRatio        float64 `json:"ceiling_pull_raw_read_json"`
	// Per push of a batch and per page: the time fieldsync adds to the
	// client's own (the server, HTTP and the wait for it), and the time a
	// server may add and still meet the target ratio (negative: no server
	// can, with this client).
	AddedMSPushNew      float64 `json:"added_ms_push_new"`
	BudgetMSPushNew     float64 `json:"budget_ms_push_new"`
	AddedMSPushRewrite  float64 `json:"added_ms_push_rewrite"`
	BudgetMSPushRewrite float64 `json:"budget_ms_push_rewrite"`
	AddedMSPullPage     float64 `json:"added_ms_pull_page"`
	BudgetMSPullPage    float64 `json:"budget_ms_pull_page"`
}

// The target ratios.
const (
	targetPushNew     = 0.5
	targetPushRewrite = 0.3
	targetPull        = 0.5
)

// atLeast is a target's text in the ratio table.
func atLeast(target float64) string { return fmt.Sprintf("≥ %.1f", target) }

// addedMS is the time in ms that per records take at rate records/s
// beyond what they take the client alone (at alone records/s): what the
// server, and waiting for it, costs.
func addedMS(per int, rate, alone float64) float64 {
	return float64(per) * (1/rate - 1/alone) * 1000
}

// setBudgets derives the added times and their budgets from the round's
// rates.
func (r *roundResult) setBudgets(batch, limit int) {
	r.AddedMSPushNew = addedMS(batch, r.PushNewS, r.ClientPushNewS)
	r.BudgetMSPushNew = addedMS(batch, targetPushNew*r.RawInsertRowsS, r.ClientPushNewS)
	r.AddedMSPushRewrite = addedMS(batch, r.PushRewriteS, r.ClientPushRewriteS)
	r.BudgetMSPushRewrite = addedMS(batch, targetPushRewrite*r.RawUpsertRowsS, r.ClientPushRewriteS)
	r.AddedMSPullPage = addedMS(limit, r.PullS, r.ClientPullS)
	r.BudgetMSPullPage = addedMS(limit, targetPull*r.RawReadRowsS, r.ClientPullS)
}

// figure names one figure of a round, how to print it, and its target.
type figure struct {
	key, name, unit string
	get             func(*roundResult) float64
	target          string
}

var figures = []figure{
	{"raw_insert_rows_s", "raw SQLite INSERT new rows", "rows/s", func(r *roundResult) float64 { return r.RawInsertRowsS }, ""},
	{"raw_upsert_rows_s", "raw SQLite UPSERT all rewritten", "rows/s", func(r *roundResult) float64 { return r.RawUpsertRowsS }, ""},
	{"raw_read_json_rows_s", "raw SQLite SELECT county slice + JSON", "rows/s", func(r *roundResult) float64 { return r.RawReadRowsS }, ""},
	{"http_push_new_rec_s", "fieldsync HTTP push new records", "rec/s", func(r *roundResult) float64 { return r.PushNewS }, ""},
	{"http_push_rewrite_rec_s", "fieldsync HTTP push rewrites", "rec/s", func(r *roundResult) float64 { return r.PushRewriteS }, ""},
	{"http_pull_rec_s", "fieldsync HTTP pull county slice", "rec/s", func(r *roundResult) float64 { return r.PullS }, ""},
	{"http_pull_mb", "bytes of the pulled pages", "MB", func(r *roundResult) float64 { return float64(r.PullBytes) / 1e6 }, ""},
	{"own_json_mb", "the records' own JSON", "MB", func(r *roundResult) float64 { return float64(r.OwnJSONBytes) / 1e6 }, ""},
	{"server_peak_rss_mib", "fieldsync server peak RSS (VmHWM)", "MiB", func(r *roundResult) float64 { return r.PeakRSSMiB }, ""},
	{"server_cpu_ms_push_new", "server CPU per push of a batch, new", "ms", func(r *roundResult) float64 { return r.CPUPushNewMS }, ""},
	{"server_cpu_ms_push_rewrite", "server CPU per push of a batch, rewrites", "ms", func(r *roundResult) float64 { return r.CPUPushRewriteMS }, ""},
	{"server_cpu_ms_pull_page", "server CPU per pulled page", "ms", func(r *roundResult) float64 { return r.CPUPullPageMS }, ""},
	{"first_sync_s", "first sync of the slice over the link (gzip)", "s", func(r *roundResult) float64 { return r.FirstSyncS }, "< 30 s at 2 MB/s"},
	{"first_sync_wire_mb", "compressed bytes of the first sync", "MB", func(r *roundResult) float64 { return r.FirstSyncMB }, ""},
	{"client_alone_push_new_rec_s", "client alone (instant stand-in server): push new", "rec/s", func(r *roundResult) float64 { return r.ClientPushNewS }, ""},
	{"client_alone_push_rewrite_rec_s", "client alone: push rewrites", "rec/s", func(r *roundResult) float64 { return r.ClientPushRewriteS }, ""},
	{"client_alone_pull_rec_s", "client alone: pull the same pages", "rec/s", func(r *roundResult) float64 { return r.ClientPullS }, ""},
}

var ratios = []figure{
	{"ratio_push_new_raw_insert", "HTTP push new ÷ raw insert", "×", func(r *roundResult) float64 { return r.PushNewRatio }, atLeast(targetPushNew)},
	{"ratio_push_rewrite_raw_upsert", "HTTP rewrites ÷ raw upsert", "×", func(r *roundResult) float64 { return r.PushRewriteRatio }, atLeast(targetPushRewrite)},
	{"ratio_pull_raw_read_json", "HTTP pull ÷ raw read + JSON", "×", func(r *roundResult) float64 { return r.PullRatio }, atLeast(targetPull)},
	{"ratio_pull_bytes_own_json", "pulled page bytes ÷ records' own JSON", "×", func(r *roundResult) float64 { return r.BytesRatio }, "≤ 1.3"},
	{"ceiling_push_new_raw_insert", "ceiling: client alone push new ÷ raw insert", "×", func(r *roundResult) float64 { return r.CeilPushNewRatio }, "(a server taking no time)"},
	{"ceiling_push_rewrite_raw_upsert", "ceiling: client alone rewrites ÷ raw upsert", "×", func(r *roundResult) float64 { return r.CeilPushRewriteRatio }, "(a server taking no time)"},
	{"ceiling_pull_raw_read_json", "ceiling: client alone pull ÷ raw read + JSON", "×", func(r *roundResult) float64 { return r.CeilPullRatio }, "(a server taking no time)"},
}

// budget is one line of the budget table: what fieldsync adds to the
// client's time, and what a server may add and meet the target.
type budget struct {
	key, name     string
	added, budget func(*roundResult) float64
}

var budgets = []budget{
	{"push_new", "a push of a batch of new records", func(r *roundResult) float64 { return r.AddedMSPushNew }, func(r *roundResult) float64 { return r.BudgetMSPushNew }},
	{"push_rewrite", "a push of a batch of rewrites", func(r *roundResult) float64 { return r.AddedMSPushRewrite }, func(r *roundResult) float64 { return r.BudgetMSPushRewrite }},
	{"pull_page", "a pulled page", func(r *roundResult) float64 { return r.AddedMSPullPage }, func(r *roundResult) float64 { return r.BudgetMSPullPage }},
}

// run does cfg.Rounds rounds, printing each as it ends and then the summary
// to w, and returns the rounds' results.
func run(ctx context.Context, cfg config, w io.Writer) ([]*roundResult, error) {
	if cfg.N < 1 || cfg.Rounds < 1 || cfg.Batch < 1 || cfg.Limit < 1 {
		return nil, fmt.Errorf("-n, -rounds, -batch and -limit must be positive")
	}
	tmp, err := os.MkdirTemp("", "fieldbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.Fieldsync
	if bin == "" {
		bin = filepath.Join(tmp, "fieldsync")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/xinzhou-eco/fieldsync/cmd/fieldsync")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/fieldsync: %w", err)
		}
	}
	recs := generate(cfg.N, cfg.County)
	own := ownJSONBytes(recs)
	if !cfg.JSON {
		fmt.Fprintf(w, "fieldbench %s: n=%d batch=%d limit=%d rounds=%d form=%s, records' own JSON %.0f B each, server %s\n",
			time.Now().UTC().Format(time.DateTime+" MST"), cfg.N, cfg.Batch, cfg.Limit, cfg.Rounds, cfg.Form, float64(own)/float64(cfg.N), bin)
	}
	var results []*roundResult
	for round := 1; round <= cfg.Rounds; round++ {
		dir := filepath.Join(tmp, fmt.Sprintf("round%d", round))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
		rr, err := runRound(ctx, cfg, bin, dir, recs)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		rr.Round, rr.OwnJSONBytes = round, own
		rr.BytesRatio = float64(rr.PullBytes) / float64(own)
		rr.setBudgets(cfg.Batch, cfg.Limit)
		results = append(results, rr)
		if cfg.JSON {
			b, _ := json.Marshal(rr)
			fmt.Fprintf(w, "%s\n", b)
		} else {
			fmt.Fprintf(w, "round %d: raw (SQLite %s) insert %s, upsert %s, read+JSON %s rows/s; HTTP push new %s, rewrites %s, pull %s rec/s (%.1f MB); server CPU %.1f / %.1f ms a push, %.1f ms a page; server peak RSS %.0f MiB\n",
				round, rr.SQLite, kilo(rr.RawInsertRowsS), kilo(rr.RawUpsertRowsS), kilo(rr.RawReadRowsS),
				kilo(rr.PushNewS), kilo(rr.PushRewriteS), kilo(rr.PullS), float64(rr.PullBytes)/1e6,
				rr.CPUPushNewMS, rr.CPUPushRewriteMS, rr.CPUPullPageMS, rr.PeakRSSMiB)
		}
		os.RemoveAll(dir)
	}
	summarize(w, cfg, results)
	return results, nil
}

// runRound runs the raw baseline and then fieldsync over HTTP on a fresh
// server, and takes the ratios.
func runRound(ctx context.Context, cfg config, bin, dir string, recs []record) (*roundResult, error) {
	raw, err := runRaw(ctx, dir, recs, cfg.Batch)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, bin, dir, strings.Fields(cfg.ServerArgs)...)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	o := httpOptions{user: cfg.User, password: cfg.Password,
		batch: cfg.Batch, limit: cfg.Limit, form: cfg.Form, linkBytesS: cfg.LinkMBs * 1e6, serverCPU: srv.cpu}
	h, err := runHTTP(ctx, srv.URL, recs, o)
	if err != nil {
		return nil, fmt.Errorf("%w (server log %s)", err, srv.log)
	}
	if h.PeakRSSMiB, err = srv.peakRSSMiB(); err != nil {
		return nil, err
	}
	srv.stop() // before the client runs alone, so that it has the machine
	floor, err := runFloor(ctx, cfg.County, h.pages, recs, o)
	if err != nil {
		return nil, err
	}
	return &roundResult{
		SQLite:         raw.SQLite,
		RawInsertRowsS: raw.InsertRowsS, RawUpsertRowsS: raw.UpsertRowsS, RawReadRowsS: raw.ReadRowsS, RawReadBytes: raw.ReadBytes,
		PushNewS: h.PushNewS, PushRewriteS: h.PushRewriteS, PullS: h.PullS,
		PullRecords: h.PullRecords, PullChanges: h.PullChanges, PullBytes: h.PullBytes, PeakRSSMiB: h.PeakRSSMiB,
		FirstSyncS: h.FirstSyncS, FirstSyncMB: float64(h.FirstSyncWire) / 1e6,
		CPUPushNewMS: h.CPUPushNewMS, CPUPushRewriteMS: h.CPUPushRewriteMS, CPUPullPageMS: h.CPUPullPageMS,
		PushNewRatio:     h.PushNewS / raw.InsertRowsS,
		PushRewriteRatio: h.PushRewriteS / raw.UpsertRowsS,
		PullRatio:        h.PullS / raw.ReadRowsS,

		ClientPushNewS: floor.PushNewS, ClientPushRewriteS: floor.PushRewriteS, ClientPullS: floor.PullS,
		CeilPushNewRatio:     floor.PushNewS / raw.InsertRowsS,
		CeilPushRewriteRatio: floor.PushRewriteS / raw.UpsertRowsS,
		CeilPullRatio:        floor.PullS / raw.ReadRowsS,
	}, nil
}

// spread is the median, min and max of one figure over the rounds.
type spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func spreadOf(rs []*roundResult, get func(*roundResult) float64) spread {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = get(r)
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return spread{Median: m, Min: v[0], Max: v[len(v)-1]}
}

func summarize(w io.Writer, cfg config, rs []*roundResult) {
	if cfg.JSON {
		sum := map[string]any{"summary": true, "n": cfg.N, "rounds": len(rs), "batch": cfg.Batch, "limit": cfg.Limit, "form": cfg.Form}
		for _, f := range slices.Concat(figures, ratios) {
			sum[f.key] = spreadOf(rs, f.get)
		}
		for _, b := range budgets {
			sum["added_ms_"+b.key] = spreadOf(rs, b.added)
			sum["budget_ms_"+b.key] = spreadOf(rs, b.budget)
		}
		b, _ := json.Marshal(sum)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nfigure\tmedian [min–max] of %d rounds\t\n", len(rs))
	for _, f := range figures {
		s := spreadOf(rs, f.get)
		fmt.Fprintf(tw, "%s\t%s [%s–%s] %s\t\n", f.name, kilo(s.Median), kilo(s.Min), kilo(s.Max), f.unit)
	}
	fmt.Fprintf(tw, "\nratio (within each round)\tmedian [min–max]\ttarget\n")
	for _, f := range ratios {
		s := spreadOf(rs, f.get)
		fmt.Fprintf(tw, "%s\t%.2f [%.2f–%.2f]\t%s\n", f.name, s.Median, s.Min, s.Max, f.target)
	}
	fmt.Fprintf(tw, "\nms beyond the client's own time, median [min–max]\tfieldsync adds\ta server may add to meet the target (< 0: none can)\n")
	for _, b := range budgets {
		a, g := spreadOf(rs, b.added), spreadOf(rs, b.budget)
		fmt.Fprintf(tw, "%s\t%.1f [%.1f–%.1f]\t%.1f [%.1f–%.1f]\n", b.name, a.Median, a.Min, a.Max, g.Median, g.Min, g.Max)
	}
	tw.Flush()
}

// kilo formats a figure: 12.1k above 10,000, else with one decimal.
func kilo(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf("%.1f", v)
}

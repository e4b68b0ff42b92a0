// Command fieldload simulates many inspectors' phones syncing with a local
// fieldsync server (started with --demo) and reports throughput, latency
// per endpoint (as the devices measured it, and as the server did, from its
// request-duration histogram on /metrics), errors, lost writes and the
// server's peak memory.
//
//	fieldload [--server http://127.0.0.1:8080] [--devices 200] [--duration 60s] [--photos=true] [--think 0s] [--server-pid PID]
//	          [--rhythm stress|realistic] [--stagger 1m] [--compress 10]
//
// The stress rhythm (the default) has every device visit back to back; the
// realistic one has each device sync every 1–5 minutes and visit every
// 10–30 minutes, divided by --compress, its first sync within --stagger,
// and push a visit as soon as it is recorded (as the app does when
// online). A device refused with 503 server_busy waits Retry-After and
// sends the same request again; the report counts those answers per
// endpoint (busy), not as errors.
//
// It only targets loopback addresses, and stops by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/xinzhou-eco/fieldsync/cmd/fieldload/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the load generator with args and returns the exit status: 0
// when the run had no errors and lost no writes, 1 otherwise, 2 for bad
// usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fieldload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg load.Config
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "base URL of a fieldsync server with demo data (loopback only); several servers on one database comma-separated, devices spread over them")
	fs.IntVar(&cfg.Devices, "devices", 200, "simulated devices")
	fs.DurationVar(&cfg.Duration, "duration", 60*time.Second, "how long the devices keep visiting")
	fs.BoolVar(&cfg.Photos, "photos", true, "take and upload 1–3 photos per visit")
	fs.StringVar(&cfg.Rhythm, "rhythm", load.RhythmStress, "stress: visits back to back; realistic: sync every 1–5 min and visit every 10–30 min, divided by --compress")
	fs.DurationVar(&cfg.Think, "think", 0, "stress rhythm: mean pause of each device between visits (0: back to back)")
	fs.DurationVar(&cfg.Stagger, "stagger", time.Minute, "realistic rhythm: each device's first sync falls at random within this window")
	fs.Float64Var(&cfg.Compress, "compress", 10, "realistic rhythm: divide the sync and visit intervals by this (10: sync every 6–30 s, visit every 60–180 s)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "server process id, to read its peak memory (VmHWM) from /proc")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Progress = func(s string) { fmt.Fprintln(stderr, "fieldload:", s) }
	rep, err := load.Run(ctx, cfg)
	if rep != nil {
		rep.Print(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "fieldload:", err)
		return 1
	}
	if rep.ErrorCount() > 0 || rep.Lost > 0 {
		return 1
	}
	return 0
}

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// startedPrefix begins the line fieldsync serve prints once it listens.
const startedPrefix = "fieldsync 已启动: http://"

// server is a fieldsync server process started for one round.
type server struct {
	cmd  *exec.Cmd
	URL  string
	done chan error
	log  string
}

// startServer runs bin serve on a free local port with a fresh data
// directory under dir and more args, and waits for the address it prints.
// It starts it with --demo, month included, as ../shared/peers'
// run_f_side_by_side.sh does: the demo's photos must give way to the
// benchmark's requests, as they would to real phones'.
func startServer(ctx context.Context, bin, dir string, args ...string) (*server, error) {
	data := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--demo"}, args...)...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan error, 1), log: logPath}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), startedPrefix); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					addr <- "http://" + f[0]
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		s.done <- cmd.Wait()
		logf.Close()
	}()
	select {
	case s.URL = <-addr:
		return s, nil
	case err := <-s.done:
		s.done <- err
		return nil, fmt.Errorf("fieldsync serve exited before listening (%v); see %s", err, logPath)
	case <-time.After(2 * time.Minute):
	case <-ctx.Done():
	}
	s.stop()
	return nil, fmt.Errorf("fieldsync serve printed no address; see %s", logPath)
}

// peakRSSMiB reads the server's peak resident set (VmHWM) from /proc.
func (s *server) peakRSSMiB() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) < 1 {
				break
			}
			kib, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return 0, err
			}
			return kib / 1024, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// cpu returns the CPU time, user and system, the server has used so far
// (from /proc, in clock ticks of 10 ms), or 0 if it cannot be read.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name (which may hold spaces) are
	// state, ppid, …; utime and stime are the 14th and 15th of the line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		s.done <- <-s.done
	}
}

// httpResult is one round of fieldsync over HTTP.
type httpResult struct {
	PushNewS      float64 // records/s pushing the n records as new
	PushRewriteS  float64 // records/s pushing all n rewritten
	PullS         float64 // records/s pulling the county slice
	PullRecords   int     // the workload's records the pull returned (rewritten)
	PullChanges   int     // every change pulled (with the reference data)
	PullBytes     int64   // bytes of the pulled pages' bodies, uncompressed
	FirstSyncS    float64 // seconds to pull the slice over the link
	FirstSyncWire int64   // compressed bytes that crossed the link
	PeakRSSMiB    float64
	// The server's CPU time per push of a batch (new, rewritten) and per
	// pulled page, in ms: steadier than the rates on a shared machine.
	CPUPushNewMS, CPUPushRewriteMS, CPUPullPageMS float64
	// pages are the pulled pages' bodies, for the client-alone run to
	// replay.
	pages []json.RawMessage
}

// countingBody counts the bytes read from a response body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// countingTransport counts the bytes of pull responses' bodies as the client
// reads them (after the transport has undone any gzip).
type countingTransport struct {
	base  http.RoundTripper
	pulls atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil && req.URL.Path == syncproto.PathPull {
		resp.Body = countingBody{resp.Body, &t.pulls}
	}
	return resp, err
}

type httpOptions struct {
	user, password string
	batch, limit   int
	form           string  // compact or grouped
	linkBytesS     float64 // the first sync's link, bytes/s (0: skip it)
	// serverCPU reads the server's CPU time so far (nil: not measured).
	serverCPU func() time.Duration
}

// runHTTP pushes the records to the server at base as one device (batch
// mutations a push, sequential), pushes them all again rewritten, then
// pulls the user's county slice page by page.
func runHTTP(ctx context.Context, base string, recs []record, o httpOptions) (*httpResult, error) {
	tr := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	c := syncproto.NewClient(base, uuid.Must(uuid.NewV7()).String())
	c.HTTP = &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	switch o.form {
	case "compact":
	case syncproto.HLCsGrouped:
		c.PullForm = syncproto.HLCsGrouped
	default:
		return nil, fmt.Errorf("pull form %q: want compact or grouped", o.form)
	}
	tok, err := c.Login(ctx, o.user, o.password, "fieldbench")
	if err != nil {
		return nil, fmt.Errorf("login as %s: %w", o.user, err)
	}
	if len(recs) > 0 && !slices.Contains(tok.User.Counties, recs[0].County) {
		return nil, fmt.Errorf("user %s may not write county %s (counties %v)", o.user, recs[0].County, tok.User.Counties)
	}
	res := &httpResult{}
	cpu := o.serverCPU
	if cpu == nil {
		cpu = func() time.Duration { return 0 }
	}
	batches := float64((len(recs) + o.batch - 1) / o.batch)
	for pass := range 2 {
		rewrite := pass == 1
		start, cpu0 := time.Now(), cpu()
		for i := 0; i < len(recs); i += o.batch {
			muts := make([]syncproto.Mutation, 0, o.batch)
			for _, r := range recs[i:min(i+o.batch, len(recs))] {
				if rewrite {
					r = r.rewritten()
				}
				muts = append(muts, syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: r.ID,
					Fields: r.fields(!rewrite), HLC: c.Clock.Now().String()})
			}
			pr, err := c.Push(ctx, uuid.Must(uuid.NewV7()).String(), muts)
			if err != nil {
				return nil, fmt.Errorf("push: %w", err)
			}
			if len(pr.Results) != len(muts) {
				return nil, fmt.Errorf("push: %d results for %d mutations", len(pr.Results), len(muts))
			}
			for _, r := range pr.Results {
				if r.Status != syncproto.StatusApplied {
					return nil, fmt.Errorf("push: %s %s: %s %s %s", r.Entity, r.ID, r.Status, r.Code, r.Message)
				}
			}
		}
		rate := float64(len(recs)) / time.Since(start).Seconds()
		perBatch := float64(cpu()-cpu0) / 1e6 / batches
		if rewrite {
			res.PushRewriteS, res.CPUPushRewriteMS = rate, perBatch
		} else {
			res.PushNewS, res.CPUPushNewMS = rate, perBatch
		}
	}

	want := make(map[string]bool, len(recs))
	for _, r := range recs {
		want[r.ID] = true
	}
	// The timed pull reads each page and splits it into changes, as
	// ../shared/peers' fsload does; the changes are checked after the clock
	// stops, so the figure is the server's and the link's, not this
	// client's decoding.
	tr.pulls.Store(0)
	start, cpu0 := time.Now(), cpu()
	pages, n, err := pullPages(ctx, c, o.limit, c.PullForm != syncproto.HLCsGrouped)
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	res.PullS = float64(len(recs)) / time.Since(start).Seconds()
	res.CPUPullPageMS = float64(cpu()-cpu0) / 1e6 / float64((n+o.limit-1)/o.limit)
	res.PullBytes = tr.pulls.Load()
	if err := checkPulled(pages, want, res); err != nil {
		return nil, err
	}
	res.pages = pages
	if o.linkBytesS > 0 {
		if err := firstSync(ctx, c, o, want, res); err != nil {
			return nil, fmt.Errorf("first sync over the link: %w", err)
		}
	}
	return res, nil
}

// rawPage is a pull page split into its changes (or, compact, its
// entities' records), not yet decoded.
type rawPage struct {
	Changes []json.RawMessage            `json:"changes"`
	Records map[string][]json.RawMessage `json:"records"`
	Cursor  string                       `json:"cursor"`
	HasMore bool                         `json:"has_more"`
}

// pullPages pulls the whole slice from the start, limit changes a page
// (form=compact if compact, else hlcs=grouped), splitting each page into
// its changes or records. It returns the pages' bodies, to be decoded
// after the clock stops, and how many changes they hold.
func pullPages(ctx context.Context, c *syncproto.Client, limit int, compact bool) ([]json.RawMessage, int, error) {
	var bodies []json.RawMessage
	n, cursor := 0, ""
	for {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if compact {
			q.Set("form", syncproto.FormCompact)
		} else {
			q.Set("hlcs", syncproto.HLCsGrouped)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		body, err := getRaw(ctx, c, syncproto.PathPull+"?"+q.Encode())
		if err != nil {
			return nil, 0, err
		}
		var pg rawPage
		if err := json.Unmarshal(body, &pg); err != nil {
			return nil, 0, err
		}
		n += len(pg.Changes)
		for _, recs := range pg.Records {
			n += len(recs)
		}
		bodies = append(bodies, body)
		cursor = pg.Cursor
		if !pg.HasMore {
			return bodies, n, nil
		}
	}
}

// getRaw GETs path with the client's token and returns the body as it
// came (unzipped by net/http), read once, as fsload reads a page: the
// client's Do would also validate it as JSON, a second pass over every
// byte that is this client's cost, not the server's or the link's.
func getRaw(ctx context.Context, c *syncproto.Client, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return nil, err
	}
	access, _ := c.Tokens()
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
	}
	return body, nil
}

// checkPulled decodes the pulled pages as a device would (expanding a
// compact page or grouped HLCs) and checks that every pushed record came
// back once, with its rewritten note.
func checkPulled(pages []json.RawMessage, want map[string]bool, res *httpResult) error {
	// Every pulled note must be the rewritten one (a JSON string ending in
	// the suffix): the rewrite reached the store and the pull reads it.
	rewritten := []byte(strconv.Quote(rewriteSuffix)[1:])
	seen := make(map[string]bool, len(want))
	for _, body := range pages {
		var pr *syncproto.PullResponse
		if bytes.HasPrefix(body, []byte(`{"records"`)) {
			var cp syncproto.CompactPage
			if err := json.Unmarshal(body, &cp); err != nil {
				return fmt.Errorf("pull: compact page: %w", err)
			}
			var err error
			if pr, err = cp.Response(); err != nil {
				return fmt.Errorf("pull: %w", err)
			}
		} else if err := json.Unmarshal(body, &pr); err != nil {
			return fmt.Errorf("pull: page %.80s: %w", body, err)
		}
		for _, ch := range pr.Changes {
			ch.ExpandHLCs()
			res.PullChanges++
			if ch.Entity != syncproto.EntityVehicleCheck || !want[ch.ID] {
				continue
			}
			if seen[ch.ID] {
				return fmt.Errorf("pull: %s came twice", ch.ID)
			}
			seen[ch.ID] = true
			res.PullRecords++
			if !bytes.HasSuffix(ch.Fields["note"], rewritten) {
				return fmt.Errorf("pull: %s has note %.60s…, not the rewritten one", ch.ID, ch.Fields["note"])
			}
			if len(ch.HLCs) != len(ch.Fields)-2 { // all but created_by and received_at
				return fmt.Errorf("pull: %s has %d HLCs for %d fields", ch.ID, len(ch.HLCs), len(ch.Fields))
			}
		}
	}
	if res.PullRecords != len(want) {
		return fmt.Errorf("pull returned %d of the %d pushed records", res.PullRecords, len(want))
	}
	return nil
}

// firstSync pulls the whole slice again, as a phone's first sync does, over
// a link of o.linkBytesS bytes a second carrying the gzip-compressed
// answers, decoding every page into changes.
func firstSync(ctx context.Context, c *syncproto.Client, o httpOptions, want map[string]bool, res *httpResult) error {
	link := &linkTransport{base: http.DefaultTransport.(*http.Transport).Clone(), rate: o.linkBytesS}
	link.base.DisableCompression = true
	saved := c.HTTP
	c.HTTP = &http.Client{Transport: link, Timeout: 10 * time.Minute}
	defer func() { c.HTTP = saved }()
	got := 0
	start := time.Now()
	_, err := c.PullAll(ctx, "", o.limit, func(pr *syncproto.PullResponse) error {
		for _, ch := range pr.Changes {
			if ch.Entity == syncproto.EntityVehicleCheck && want[ch.ID] {
				got++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if got != len(want) {
		return fmt.Errorf("first sync returned %d of the %d records", got, len(want))
	}
	res.FirstSyncS = time.Since(start).Seconds()
	res.FirstSyncWire = link.wire.Load()
	return nil
}

// linkTransport asks for gzip and hands the client the answers' bodies no
// faster than rate compressed bytes a second (a phone's link), counting
// them, then unzips them.
type linkTransport struct {
	base  *http.Transport
	rate  float64
	wire  atomic.Int64
	start time.Time
}

func (t *linkTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.start.IsZero() {
		t.start = time.Now()
	}
	req = req.Clone(req.Context())
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body := io.ReadCloser(&slowBody{ReadCloser: resp.Body, t: t})
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		body = struct {
			io.Reader
			io.Closer
		}{zr, resp.Body}
		resp.Header.Del("Content-Encoding")
		resp.ContentLength = -1
	}
	resp.Body = body
	return resp, nil
}

// slowBody counts what it reads and waits so that the link's total stays
// at its rate.
type slowBody struct {
	io.ReadCloser
	t *linkTransport
}

func (b *slowBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	total := b.t.wire.Add(int64(n))
	due := b.t.start.Add(time.Duration(float64(total) / b.t.rate * float64(time.Second)))
	if wait := time.Until(due); wait > 0 {
		time.Sleep(wait)
	}
	return n, err
}

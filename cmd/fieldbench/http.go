package main

import (
	"bufio"
	"bytes"
	"context"
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
// directory under dir (demo accounts and sites, no demo month) and waits for
// the address it prints.
func startServer(ctx context.Context, bin, dir string) (*server, error) {
	data := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--demo", "--demo-month=false")
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
	PushNewS     float64 // records/s pushing the n records as new
	PushRewriteS float64 // records/s pushing all n rewritten
	PullS        float64 // records/s pulling the county slice
	PullRecords  int     // the workload's records the pull returned (rewritten)
	PullChanges  int     // every change pulled (with the reference data)
	PullBytes    int64   // bytes of the pulled pages' bodies, uncompressed
	PeakRSSMiB   float64
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
	grouped        bool
}

// runHTTP pushes the records to the server at base as one device (batch
// mutations a push, sequential), pushes them all again rewritten, then
// pulls the user's county slice page by page.
func runHTTP(ctx context.Context, base string, recs []record, o httpOptions) (*httpResult, error) {
	tr := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	c := syncproto.NewClient(base, uuid.Must(uuid.NewV7()).String())
	c.HTTP = &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	tok, err := c.Login(ctx, o.user, o.password, "fieldbench")
	if err != nil {
		return nil, fmt.Errorf("login as %s: %w", o.user, err)
	}
	if len(recs) > 0 && !slices.Contains(tok.User.Counties, recs[0].County) {
		return nil, fmt.Errorf("user %s may not write county %s (counties %v)", o.user, recs[0].County, tok.User.Counties)
	}
	res := &httpResult{}
	for pass := range 2 {
		rewrite := pass == 1
		start := time.Now()
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
		if rewrite {
			res.PushRewriteS = rate
		} else {
			res.PushNewS = rate
		}
	}

	want := make(map[string]bool, len(recs))
	for _, r := range recs {
		want[r.ID] = true
	}
	// Every pulled note must be the rewritten one (a JSON string ending in
	// the suffix): the rewrite reached the store and the pull reads it.
	rewritten := []byte(strconv.Quote(rewriteSuffix)[1:])
	var bad error
	apply := func(pr *syncproto.PullResponse) error {
		for _, ch := range pr.Changes {
			res.PullChanges++
			if ch.Entity != syncproto.EntityVehicleCheck || !want[ch.ID] {
				continue
			}
			want[ch.ID] = false
			res.PullRecords++
			if bad == nil && !bytes.HasSuffix(ch.Fields["note"], rewritten) {
				bad = fmt.Errorf("pull: %s has note %.60s…, not the rewritten one", ch.ID, ch.Fields["note"])
			}
		}
		return nil
	}
	tr.pulls.Store(0)
	start := time.Now()
	if o.grouped {
		err = pullGrouped(ctx, c, o.limit, apply)
	} else {
		_, err = c.PullAll(ctx, "", o.limit, apply)
	}
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	res.PullS = float64(res.PullRecords) / time.Since(start).Seconds()
	res.PullBytes = tr.pulls.Load()
	if bad != nil {
		return nil, bad
	}
	if res.PullRecords != len(recs) {
		return nil, fmt.Errorf("pull returned %d of the %d pushed records", res.PullRecords, len(recs))
	}
	return res, nil
}

// pullGrouped is Client.PullAll asking for hlcs=grouped (the smaller form of
// a change's HLCs), expanding each change's groups as a device would.
func pullGrouped(ctx context.Context, c *syncproto.Client, limit int, apply func(*syncproto.PullResponse) error) error {
	cursor := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(limit)}, "hlcs": {syncproto.HLCsGrouped}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var pr syncproto.PullResponse
		if err := c.Do(ctx, http.MethodGet, syncproto.PathPull+"?"+q.Encode(), nil, &pr); err != nil {
			return err
		}
		for i := range pr.Changes {
			pr.Changes[i].ExpandHLCs()
		}
		if err := apply(&pr); err != nil {
			return err
		}
		cursor = pr.Cursor
		if !pr.HasMore {
			return nil
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestRunEndToEnd runs one tiny round against a real fieldsync binary and
// checks that every figure is there and positive and that the pull returned
// every pushed record. It asserts nothing about speed.
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fieldsync server")
	}
	bin := filepath.Join(t.TempDir(), "fieldsync")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/xinzhou-eco/fieldsync/cmd/fieldsync").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 2000
	cfg := config{N: n, Rounds: 1, Batch: 500, Limit: 300, Fieldsync: bin, County: "140902",
		User: "inspector", Password: "inspector123", Form: "compact", LinkMBs: 50, JSON: true}
	var out bytes.Buffer
	rs, err := run(ctx, cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d rounds, want 1", len(rs))
	}
	r := rs[0]
	if r.PullRecords != n {
		t.Errorf("pull returned %d of the %d pushed records", r.PullRecords, n)
	}
	// The first sync crossed the link compressed.
	if r.FirstSyncMB*1e6 > float64(r.PullBytes)/2 {
		t.Errorf("first sync moved %.2f MB over the link for %.2f MB of pages: not compressed", r.FirstSyncMB, float64(r.PullBytes)/1e6)
	}
	if r.PullChanges < n {
		t.Errorf("pull returned %d changes, fewer than the %d records", r.PullChanges, n)
	}

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a round line and a summary line, got:\n%s", out.String())
	}
	var round map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &round); err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &sum); err != nil {
		t.Fatal(err)
	}
	for _, f := range slices.Concat(figures, ratios) {
		s, ok := sum[f.key].(map[string]any)
		if !ok {
			t.Errorf("summary has no %s: %s", f.key, lines[1])
			continue
		}
		for _, k := range []string{"median", "min", "max"} {
			if v, _ := s[k].(float64); !(v > 0) {
				t.Errorf("summary %s.%s = %v, want > 0", f.key, k, s[k])
			}
		}
		if v := f.get(r); !(v > 0) {
			t.Errorf("round %s = %v, want > 0", f.key, v)
		}
	}
	for _, k := range []string{"raw_insert_rows_s", "raw_upsert_rows_s", "raw_read_json_rows_s", "raw_read_json_bytes",
		"http_push_new_rec_s", "http_push_rewrite_rec_s", "http_pull_rec_s", "http_pull_bytes", "own_json_bytes",
		"server_peak_rss_mib", "ratio_push_new_raw_insert", "ratio_push_rewrite_raw_upsert",
		"ratio_pull_raw_read_json", "ratio_pull_bytes_own_json"} {
		if v, _ := round[k].(float64); !(v > 0) {
			t.Errorf("round line %s = %v, want > 0", k, round[k])
		}
	}
	for _, b := range budgets {
		for _, k := range []string{"added_ms_" + b.key, "budget_ms_" + b.key} {
			if _, ok := round[k].(float64); !ok {
				t.Errorf("round line has no %s", k)
			}
			if _, ok := sum[k].(map[string]any); !ok {
				t.Errorf("summary has no %s", k)
			}
		}
	}
	if v, _ := round["http_pull_records"].(float64); v != n {
		t.Errorf("round line http_pull_records = %v, want %d", round["http_pull_records"], n)
	}
}

// TestWorkload checks the generated records: deterministic, distinct
// UUIDv4 ids, and about the size the benchmark claims.
func TestWorkload(t *testing.T) {
	a, b := generate(1000, "140902"), generate(1000, "140902")
	seen := map[string]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("record %d differs between two calls", i)
		}
		id := a[i].ID
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Errorf("id %q is not a UUIDv4", id)
		}
		if seen[id] {
			t.Errorf("id %q twice", id)
		}
		seen[id] = true
	}
	if per := ownJSONBytes(a) / int64(len(a)); per < 500 || per > 800 {
		t.Errorf("records' own JSON is %d B each, want about 680", per)
	}
}

// TestStubAnswersAsFieldsync checks the stand-in server the client-alone
// run uses: a push is answered "applied" for exactly the mutations sent,
// in order, even when a value holds the text of an id key, and the pull
// replays the recorded pages in order.
func TestStubAnswersAsFieldsync(t *testing.T) {
	pages := []json.RawMessage{
		json.RawMessage(`{"changes":[{"seq":1}],"cursor":"a","has_more":true}`),
		json.RawMessage(`{"changes":[{"seq":2},{"seq":3}],"cursor":"b","has_more":false}`),
	}
	s, err := startStub("140902", pages)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	ctx := context.Background()
	c := syncproto.NewClient(s.URL, uuid.Must(uuid.NewV7()).String())
	tok, err := c.Login(ctx, "anyone", "anything", "test")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tok.User.Counties, "140902") {
		t.Errorf("stub signed in with counties %v", tok.User.Counties)
	}
	recs := generate(3, "140902")
	var muts []syncproto.Mutation
	for _, r := range recs {
		f := r.fields(true)
		f["note"] = json.RawMessage(`"a note quoting {\"id\":\"not-a-mutation\"}"`)
		muts = append(muts, syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: r.ID, Fields: f, HLC: c.Clock.Now().String()})
	}
	pr, err := c.Push(ctx, uuid.Must(uuid.NewV7()).String(), muts)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Results) != len(muts) {
		t.Fatalf("%d results for %d mutations: %+v", len(pr.Results), len(muts), pr.Results)
	}
	for i, r := range pr.Results {
		if r.ID != muts[i].ID || r.Status != syncproto.StatusApplied {
			t.Errorf("result %d = %+v, want %s applied", i, r, muts[i].ID)
		}
	}
	got, n, err := pullPages(ctx, c, 500, true)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(got) != 2 || string(got[1]) != string(pages[1]) {
		t.Errorf("pulled %d changes in %d pages (%s), want the 2 recorded pages", n, len(got), got)
	}
}

// TestBudgets checks the per-push and per-page times derived from a
// round's rates: what fieldsync adds to the client's own time, and what a
// server may add at the target ratio, negative when the client alone is
// slower than the target.
func TestBudgets(t *testing.T) {
	r := &roundResult{
		RawInsertRowsS: 80000, PushNewS: 25000, ClientPushNewS: 100000,
		RawUpsertRowsS: 100000, PushRewriteS: 20000, ClientPushRewriteS: 50000,
		RawReadRowsS: 300000, PullS: 50000, ClientPullS: 100000,
	}
	r.setBudgets(500, 250)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"added, push new", r.AddedMSPushNew, 15},         // 500/25k − 500/100k s
		{"budget, push new", r.BudgetMSPushNew, 7.5},      // 500/(0.5·80k) − 500/100k
		{"added, rewrites", r.AddedMSPushRewrite, 15},     // 500/20k − 500/50k
		{"budget, rewrites", r.BudgetMSPushRewrite, 6.67}, // 500/(0.3·100k) − 500/50k
		{"added, pull page", r.AddedMSPullPage, 2.5},      // 250/50k − 250/100k
		{"budget, pull page", r.BudgetMSPullPage, -0.83},  // 250/150k − 250/100k: no server can
	} {
		if math.Abs(c.got-c.want) > 0.01 {
			t.Errorf("%s = %.3f ms, want %.2f", c.name, c.got, c.want)
		}
	}
}

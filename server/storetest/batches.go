package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// batchCases: a push batch is applied once. Its answer is stored with it,
// so a retry of the same batch (same device, same id, same content) gets
// that answer and writes nothing; the id reused for other content is
// refused.
var batchCases = []testCase{
	{"RetryGetsTheStoredAnswer", testBatchReplay},
	{"SameIDOtherContentRefused", testBatchMismatch},
	{"ConcurrentRetriesApplyOnce", testBatchConcurrentRetries},
	{"BatchIDsArePerDevice", testBatchPerDevice},
	{"PushRecordsDeviceHealth", testPushHealth},
}

func testBatchReplay(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b := e.inspector(xinfu), e.inspector(xinfu)
	site := a.site(xinfu, "甲")
	b.pushOK(b.mutAt(b.hlcAt(9000), syncproto.EntitySite, site, map[string]any{"note": "新"}))
	newSite := uuid.NewString()
	ms := []syncproto.Mutation{
		a.mut(syncproto.EntitySite, newSite, map[string]any{"county": xinfu, "kind": "factory", "name": "乙"}),
		a.mutAt(a.hlcAt(100), syncproto.EntitySite, site, map[string]any{"note": "旧"}),                                   // stale
		a.mut(syncproto.EntitySite, uuid.NewString(), map[string]any{"county": dingxia, "kind": "factory", "name": "丙"}), // rejected
	}
	batch := uuid.NewString()
	first, err := a.pushBatch(batch, ms...)
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed {
		t.Error("first delivery marked replayed")
	}
	// The devices' last pushes are read back outside a write, in one read
	// (the devices page counts their refused records): a's is this batch,
	// b's its own earlier one, and a device never seen has none.
	last, err := e.st.LastPushes(e.ctx, []string{a.p.DeviceID, b.p.DeviceID, uuid.NewString()})
	if err != nil || len(last) != 2 || last[a.p.DeviceID] == nil || last[a.p.DeviceID].BatchID != batch || last[b.p.DeviceID] == nil {
		t.Fatalf("last pushes: %v %v, want a's and b's", last, err)
	}
	if n, codes, err := last[a.p.DeviceID].Rejected(); err != nil || n != 1 || !slices.Equal(codes, []string{syncproto.CodeOutOfScope}) {
		t.Errorf("the last push's refused records: %d %v %v, want 1 out_of_scope", n, codes, err)
	}
	if n, _, err := last[b.p.DeviceID].Rejected(); err != nil || n != 0 {
		t.Errorf("b's last push: %d refused (%v), want none", n, err)
	}
	if none, err := e.st.LastPushes(e.ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("last pushes of no device: %v %v", none, err)
	}
	seq := e.lastSeq()
	conflicts, _ := e.st.Conflicts(e.ctx, server.Scope{All: true}, "", "", 100)
	e.advance(time.Minute)

	// The retry spells the same values otherwise (spacing): same batch.
	retry := make([]syncproto.Mutation, len(ms))
	for i, m := range ms {
		retry[i] = m
		retry[i].Fields = map[string]json.RawMessage{}
		for k, v := range m.Fields {
			retry[i].Fields[k] = append(json.RawMessage(" "), v...)
		}
	}
	again, err := a.pushBatch(batch, retry...)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed {
		t.Error("retry not marked replayed")
	}
	if !reflect.DeepEqual(first.Results, again.Results) {
		t.Errorf("retry answered\n%+v\nfirst answer\n%+v", again.Results, first.Results)
	}
	for i, want := range []string{syncproto.StatusApplied, syncproto.StatusStale, syncproto.StatusRejected} {
		if again.Results[i].Status != want {
			t.Errorf("result %d: %+v, want %s", i, again.Results[i], want)
		}
	}
	if got := e.lastSeq(); got != seq {
		t.Errorf("retry moved the feed %d → %d", seq, got)
	}
	if cs, _ := e.st.Conflicts(e.ctx, server.Scope{All: true}, "", "", 100); len(cs) != len(conflicts) {
		t.Errorf("retry logged conflicts again: %d → %d", len(conflicts), len(cs))
	}
	if r := e.get(syncproto.EntitySite, newSite); r == nil || !r.UpdatedAt.Equal(t0) {
		t.Errorf("created site rewritten by the retry: %+v", r)
	}
}

func testBatchMismatch(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "甲")
	batch := uuid.NewString()
	if _, err := d.pushBatch(batch, d.mut(syncproto.EntitySite, site, map[string]any{"note": "一"})); err != nil {
		t.Fatal(err)
	}
	seq := e.lastSeq()
	_, err := d.pushBatch(batch, d.mut(syncproto.EntitySite, site, map[string]any{"note": "二"}))
	wantCode(t, err, syncproto.CodeBatchMismatch, "same batch id, other content")
	if got := e.text(syncproto.EntitySite, site, "note"); got != "一" {
		t.Errorf("note %q after a refused batch", got)
	}
	if got := e.lastSeq(); got != seq {
		t.Errorf("refused batch moved the feed %d → %d", seq, got)
	}
}

func testBatchPerDevice(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b := e.inspector(xinfu), e.inspector(xinfu)
	site := a.site(xinfu, "甲")
	batch := uuid.NewString()
	if _, err := a.pushBatch(batch, a.mut(syncproto.EntitySite, site, map[string]any{"note": "甲"})); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	resp, err := b.pushBatch(batch, b.mut(syncproto.EntitySite, site, map[string]any{"note": "乙"}))
	if err != nil {
		t.Fatalf("another device's batch with the same id: %v", err)
	}
	if resp.Replayed || resp.Results[0].Status != syncproto.StatusApplied {
		t.Errorf("another device's batch: %+v", resp)
	}
	if got := e.text(syncproto.EntitySite, site, "note"); got != "乙" {
		t.Errorf("note %q", got)
	}
}

func testPushHealth(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	e.advance(time.Hour)
	batch := uuid.NewString()
	if _, err := d.pushBatch(batch, d.mut(syncproto.EntitySite, uuid.NewString(),
		map[string]any{"county": xinfu, "kind": "factory", "name": "甲"})); err != nil {
		t.Fatal(err)
	}
	devs, err := e.st.Devices(e.ctx, server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 {
		t.Fatalf("devices %+v", devs)
	}
	h := devs[0].Health
	if h.LastBatchID != batch || h.LastPushAt == nil || !h.LastPushAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("health after a push %+v", h)
	}
	if !devs[0].LastSeenAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("last seen %v", devs[0].LastSeenAt)
	}
	if h.PendingUploads != 0 {
		t.Errorf("pending uploads %d before any photo", h.PendingUploads)
	}
	// A photo record whose bytes have not arrived is pending until it is
	// marked uploaded.
	_, insp := d.newInspection(xinfu)
	photo := uuid.NewString()
	d.pushOK(d.mut(syncproto.EntityPhoto, photo, map[string]any{"inspection_id": insp, "sha256": sha(1)}))
	if devs, _ := e.st.Devices(e.ctx, server.Scope{All: true}); devs[0].Health.PendingUploads != 1 {
		t.Errorf("pending uploads %d, want 1", devs[0].Health.PendingUploads)
	}
	if err := e.s.SetServerFields(e.ctx, syncproto.EntityPhoto, photo, map[string]any{"uploaded": true}); err != nil {
		t.Fatal(err)
	}
	if devs, _ := e.st.Devices(e.ctx, server.Scope{All: true}); devs[0].Health.PendingUploads != 0 {
		t.Errorf("pending uploads %d after the upload, want 0", devs[0].Health.PendingUploads)
	}
	// MarkPulled keeps the greatest cursor acknowledged.
	if err := e.st.MarkPulled(e.ctx, d.p.DeviceID, 40, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.MarkPulled(e.ctx, d.p.DeviceID, 10, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	devs, _ = e.st.Devices(e.ctx, server.Scope{All: true})
	h = devs[0].Health
	if h.LastAckSeq != 40 || h.LastPullAt == nil || !h.LastPullAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("health after pulls %+v", h)
	}
	if h.LastRefused != nil || h.PushRefused() != nil {
		t.Errorf("a refused push before any was refused: %+v", h.LastRefused)
	}
	// A push refused whole (its batch id sent again with other content)
	// is kept with the device; one refused for a reason of the moment is
	// not; a push applied afterwards ends it, and the refusal stays on
	// record.
	e.advance(3 * time.Hour)
	_, err = d.pushBatch(batch, d.mut(syncproto.EntitySite, uuid.NewString(), map[string]any{"county": xinfu, "kind": "factory", "name": "乙"}))
	if server.ErrorCode(err) != syncproto.CodeBatchMismatch {
		t.Fatalf("batch id reused with other content: %v", err)
	}
	if err := e.s.PushRefused(e.ctx, d.p, err); err != nil {
		t.Fatal(err)
	}
	refusedAt := e.s.Now()
	e.advance(time.Minute)
	for _, code := range []string{syncproto.CodeServerBusy, syncproto.CodeRequestTimeout, syncproto.CodeUnavailable} {
		if err := e.s.PushRefused(e.ctx, d.p, server.Errorf(code, "稍后重试")); err != nil {
			t.Fatal(err)
		}
	}
	devs, _ = e.st.Devices(e.ctx, server.Scope{All: true})
	r := devs[0].Health.PushRefused()
	if r == nil || r.Code != syncproto.CodeBatchMismatch || !r.At.Equal(refusedAt) || r.Message == "" {
		t.Errorf("refused push %+v, want batch_mismatch at %v with its message", devs[0].Health.LastRefused, refusedAt)
	}
	if devs[0].PushesRefused() != r {
		t.Errorf("the device's pushes refused: %+v, want its health's", devs[0].PushesRefused())
	}
	e.advance(time.Minute)
	d.pushOK(d.mut(syncproto.EntitySite, uuid.NewString(), map[string]any{"county": xinfu, "kind": "factory", "name": "丙"}))
	devs, _ = e.st.Devices(e.ctx, server.Scope{All: true})
	if h := devs[0].Health; h.PushRefused() != nil || h.LastRefused == nil || h.LastRefused.Code != syncproto.CodeBatchMismatch {
		t.Errorf("after a push applied: refused now %+v, last refused %+v", h.PushRefused(), h.LastRefused)
	}
}

// testBatchConcurrentRetries: a phone that retries while its first push is
// still being applied (or several servers receiving the same batch) gets
// one application: every delivery answers the same results, exactly one
// of them is not a replay, and each record is written once.
func testBatchConcurrentRetries(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	const deliveries, n = 4, 10
	ms := make([]syncproto.Mutation, n)
	for i := range ms {
		ms[i] = d.mut(syncproto.EntitySite, uuid.NewString(), map[string]any{"county": xinfu, "kind": "factory", "name": fmt.Sprint("厂", i)})
	}
	batch := uuid.NewString()
	seq := e.lastSeq()
	resps := make([]*syncproto.PushResponse, deliveries)
	errs := make([]error, deliveries)
	var wg sync.WaitGroup
	for i := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each delivery decodes its own copy of the body.
			own := make([]syncproto.Mutation, len(ms))
			for k, m := range ms {
				own[k] = m
				own[k].Fields = map[string]json.RawMessage{}
				for f, v := range m.Fields {
					own[k].Fields[f] = v
				}
			}
			resps[i], errs[i] = d.pushBatch(batch, own...)
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range deliveries {
		if errs[i] != nil {
			t.Fatalf("delivery %d: %v", i, errs[i])
		}
		if !resps[i].Replayed {
			fresh++
		}
		if !reflect.DeepEqual(resps[i].Results, resps[0].Results) {
			t.Errorf("delivery %d answered %+v, delivery 0 %+v", i, resps[i].Results, resps[0].Results)
		}
	}
	if fresh != 1 {
		t.Errorf("%d deliveries applied the batch, want 1", fresh)
	}
	for i, r := range resps[0].Results {
		if r.Status != syncproto.StatusApplied {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	recs := e.feed(server.Scope{All: true}, seq, 1000)
	if len(recs) != n {
		t.Errorf("the batch wrote %d changes, want %d", len(recs), n)
	}
}

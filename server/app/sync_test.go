package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPullsDuringPushesNeverSkipOrRepeat runs pullers with small pages
// while several devices push; every change a puller receives has a greater
// seq than the one before (nothing repeated), and after the pushes stop each
// puller holds the final version of every record (nothing skipped).
func TestPullsDuringPushesNeverSkipOrRepeat(t *testing.T) {
	srv := apptest.Start(t)
	pushers := []*syncproto.Client{srv.Login(apptest.Inspector), srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2), srv.Login(apptest.Inspector2)}
	pullers := []*syncproto.Client{srv.Login(apptest.CountyOffice), srv.Login(apptest.CityOffice)}
	for _, c := range pullers {
		c.PullForm = syncproto.HLCsGrouped // changes with their seq, to check the order
	}

	var wg sync.WaitGroup
	var pushing atomic.Int32
	pushing.Store(int32(len(pushers)))
	errc := make(chan error, 16)
	for pi, c := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pushing.Add(-1)
			var ids []string
			for b := 0; b < 15; b++ {
				var ms []syncproto.Mutation
				for k := 0; k < 12; k++ {
					if len(ids) > 0 && k%3 == 0 { // update an earlier site
						ms = append(ms, apptest.Mut(c, "site", ids[(b*7+k)%len(ids)], apptest.Fields("note", fmt.Sprintf("p%d b%d k%d", pi, b, k))))
						continue
					}
					id := newID()
					ids = append(ids, id)
					ms = append(ms, apptest.Mut(c, "site", id, apptest.Fields("county", apptest.Xinfu, "kind", "construction_site", "name", fmt.Sprintf("工地 %d-%d-%d", pi, b, k))))
				}
				resp, err := c.Push(ctx, batchID(), ms)
				if err != nil {
					errc <- err
					return
				}
				for _, r := range resp.Results {
					if r.Status != syncproto.StatusApplied {
						errc <- fmt.Errorf("push result %+v", r)
						return
					}
				}
			}
		}()
	}
	received := make([]map[string]syncproto.Change, len(pullers))
	for i, c := range pullers {
		received[i] = map[string]syncproto.Change{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cursor, last := "", int64(0)
			for done := false; !done; {
				done = pushing.Load() == 0 // one more full drain after the pushers stop
				_, err := c.PullAll(ctx, cursor, 7, func(p *syncproto.PullResponse) error {
					for _, ch := range p.Changes {
						if ch.Seq <= last {
							return fmt.Errorf("seq %d after %d: repeated or out of order", ch.Seq, last)
						}
						last = ch.Seq
						received[i][ch.Entity+"/"+ch.ID] = ch
					}
					cursor = p.Cursor
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	office := srv.Login(apptest.CountyOffice)
	office.PullForm = syncproto.HLCsGrouped
	final, _ := pullAll(t, office, "", 1000)
	sites := 0
	for key, want := range latest(final) {
		if want.Entity == "site" {
			sites++
		}
		for i := range pullers {
			if got, ok := received[i][key]; !ok || got.Seq != want.Seq || !reflect.DeepEqual(got.Fields, want.Fields) {
				t.Fatalf("puller %d: %s missing or stale (got seq %d, final %d)", i, key, got.Seq, want.Seq)
			}
		}
	}
	if min := len(pushers) * 15 * 8; sites < min {
		t.Fatalf("final pull has %d sites, want at least %d", sites, min)
	}
}

// dropFirstResponse lets requests through but loses the first push
// response, as a phone losing signal after sending would.
type dropFirstResponse struct {
	rt      http.RoundTripper
	dropped atomic.Bool
}

func (d *dropFirstResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := d.rt.RoundTrip(req)
	if err == nil && req.URL.Path == syncproto.PathPush && d.dropped.CompareAndSwap(false, true) {
		resp.Body.Close()
		return nil, errors.New("connection reset (simulated)")
	}
	return resp, err
}

// TestRetriedBatchHasOneEffect: a batch whose response is lost is re-sent
// by the client with the same batch id; the server applies it once and
// answers the same results. Sending it again by hand changes nothing either.
func TestRetriedBatchHasOneEffect(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	other := srv.Login(apptest.Inspector2)
	insp := newInspection(t, other, apptest.Xinfu)
	before, _ := srv.App.DB.Conflicts(ctx, srvScopeAll, "", "", 1000)

	c.HTTP.Transport = &dropFirstResponse{rt: c.HTTP.Transport}
	site := newID()
	ms := []syncproto.Mutation{
		apptest.Mut(c, "site", site, apptest.Fields("county", apptest.Xinfu, "kind", "coal_yard", "name", "忻府区某煤场")),
		apptest.Mut(c, "inspection", insp, apptest.Fields("summary", "围挡不连续")),
	}
	id := batchID()
	first, err := c.Push(ctx, id, ms)
	if err != nil {
		t.Fatalf("push with a lost response: %v", err)
	}
	if !first.Replayed {
		t.Fatalf("the retried push should have been answered from the stored batch")
	}
	wantStatus(t, first, "applied", "applied")
	rec1, _ := srv.App.DB.Get(ctx, "site", site)

	again, err := c.Push(ctx, id, ms)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || !reflect.DeepEqual(again.Results, first.Results) {
		t.Fatalf("re-sent batch answered %+v, want the same results %+v", again.Results, first.Results)
	}
	rec2, _ := srv.App.DB.Get(ctx, "site", site)
	if rec1.Seq != rec2.Seq || !reflect.DeepEqual(rec1.State, rec2.State) {
		t.Fatalf("re-sent batch changed the record: seq %d → %d", rec1.Seq, rec2.Seq)
	}
	after, _ := srv.App.DB.Conflicts(ctx, srvScopeAll, "", "", 1000)
	if len(after) != len(before) {
		t.Fatalf("re-sent batch logged %d new conflicts", len(after)-len(before))
	}
	// The same mutations in a new batch (an app that lost its batch id)
	// are recognised as duplicates by their HLCs.
	dup := apptest.Push(t, c, ms...)
	wantStatus(t, dup, "duplicate", "duplicate")
	if rec3, _ := srv.App.DB.Get(ctx, "site", site); rec3.Seq != rec1.Seq {
		t.Fatalf("duplicate mutations bumped the record's seq")
	}
}

// TestClockSkewCannotWinForever: a phone whose clock is hours ahead has its
// writes refused (they would otherwise beat every later write); once it
// corrects its clock from server_hlc its re-stamped write is accepted and a
// later write by another device still wins.
func TestClockSkewCannotWinForever(t *testing.T) {
	srv := apptest.Start(t)
	fast := srv.Login(apptest.Inspector)
	fast.Clock = syncproto.NewClock(fast.DeviceID, func() time.Time { return time.Now().Add(3 * time.Hour) })
	other := srv.Login(apptest.Inspector2)
	insp := newInspection(t, other, apptest.Xinfu)

	resp := apptest.Push(t, fast, apptest.Mut(fast, "inspection", insp, apptest.Fields("summary", "来自未来")))
	wantStatus(t, resp, "rejected/clock_skew")
	if err := fast.CorrectClock(resp.ServerHLC); err != nil {
		t.Fatal(err)
	}
	if skew := fast.Clock.Physical() - time.Now().UnixMilli(); skew > 60_000 {
		t.Fatalf("corrected clock still %d ms ahead", skew)
	}
	corrected := apptest.Push(t, fast, apptest.Mut(fast, "inspection", insp, apptest.Fields("summary", "校准后")))
	wantStatus(t, corrected, "applied")
	// The other device's later write is made after it has heard from the
	// server since (a sync): its clock is past the write it follows, as
	// an HLC orders writes by what each device has seen, not by a clock
	// its sign-in set a few milliseconds behind (which under load let
	// the two writes' order flip).
	h, err := syncproto.ParseHLC(corrected.ServerHLC)
	if err != nil {
		t.Fatal(err)
	}
	other.Clock.Observe(h)
	wantStatus(t, apptest.Push(t, other, apptest.Mut(other, "inspection", insp, apptest.Fields("summary", "之后的修改"))), "applied")
	rec, _ := srv.App.DB.Get(ctx, "inspection", insp)
	if got := rec.Text("summary"); got != "之后的修改" {
		t.Fatalf("summary = %q, want the later write", got)
	}
}

// TestDeviceTimesArePast: every time a device writes (a visit's start and
// end, a roadside check, a photo's capture: each TypeTime field of an
// entity a device writes) is refused when it is later than the server's
// clock allows (a day ahead: a wrong zone writes local time as UTC) or
// before 2000, the record left as it was, and stored when it is within
// those bounds.
func TestDeviceTimesArePast(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	insp := newInspection(t, c, apptest.Xinfu)
	// base returns a mutation of entity e carrying time in field: a new
	// record, or (an inspection) a change to insp.
	base := map[string]func(field, at string) (string, map[string]json.RawMessage){
		syncproto.EntityInspection: func(field, at string) (string, map[string]json.RawMessage) {
			return insp, apptest.Fields(field, at)
		},
		syncproto.EntityVehicleCheck: func(field, at string) (string, map[string]json.RawMessage) {
			return newID(), apptest.Fields("county", apptest.Xinfu, "checkpoint", "G108忻州北", "plate", "晋H12345", field, at)
		},
		syncproto.EntityPhoto: func(field, at string) (string, map[string]json.RawMessage) {
			return newID(), apptest.Fields("inspection_id", insp, "sha256", strings.Repeat("ab", 32), field, at)
		},
	}
	now := time.Now()
	cases := []struct{ at, want string }{
		{"2099-01-01T09:00:00+08:00", "rejected/invalid_value"},
		{now.Add(server.DeviceTimeLead + time.Minute).UTC().Format(time.RFC3339), "rejected/invalid_value"},
		{now.Add(server.DeviceTimeLead - time.Minute).Format(time.RFC3339), "applied"},
		{now.In(server.ChinaTime).Format("2006-01-02T15:04:05Z"), "applied"}, // local time written as UTC
		{"1970-01-01T08:00:00+08:00", "rejected/invalid_value"},
		{"1999-12-31T15:59:59Z", "rejected/invalid_value"},
		{"2000-01-01T00:00:00+08:00", "applied"},
	}
	tested := 0
	for _, e := range server.Entities {
		for _, f := range e.Fields {
			if !e.DeviceWritable || f.Server || f.Type != server.TypeTime {
				continue
			}
			mk := base[e.Name]
			if mk == nil {
				t.Errorf("%s.%s: a time a device writes, not covered by this test", e.Name, f.Name)
				continue
			}
			tested++
			for _, tc := range cases {
				id, fields := mk(f.Name, tc.at)
				before, _ := srv.App.DB.Get(ctx, e.Name, id)
				resp := apptest.Push(t, c, apptest.Mut(c, e.Name, id, fields))
				wantStatus(t, resp, tc.want)
				after, _ := srv.App.DB.Get(ctx, e.Name, id)
				if strings.HasPrefix(tc.want, "rejected") {
					if before == nil && after != nil || before != nil && after.Seq != before.Seq {
						t.Errorf("%s.%s = %s refused, but the record was written", e.Name, f.Name, tc.at)
					}
					if msg := resp.Results[0].Message; !strings.Contains(msg, f.Name) || !strings.Contains(msg, "时钟") {
						t.Errorf("%s.%s = %s: message %q should name the field and the clock", e.Name, f.Name, tc.at, msg)
					}
				} else if after == nil || after.Value(f.Name) == nil {
					t.Errorf("%s.%s = %s applied, but not stored", e.Name, f.Name, tc.at)
				}
			}
		}
	}
	if tested < 4 {
		t.Fatalf("%d device time fields tested, want started_at, finished_at, checked_at and captured_at at least", tested)
	}
}

// TestImmutableFieldsAreSetAtCreation: an immutable field a record was
// created without cannot be set later, by any device in any order (the
// first to arrive would otherwise win whatever its HLC, and the state
// depend on the order of delivery); one it was created with can be sent
// again unchanged, not changed. Every optional immutable field a device
// writes is covered.
func TestImmutableFieldsAreSetAtCreation(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	// At a checkpoint: a photo may name the roadside check too.
	insp, insp2 := newRoadsideInspection(t, a), newRoadsideInspection(t, b)
	finding := newFinding(t, a, insp)
	vc := newID()
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "G108忻州北", "plate", "晋H12345", "checked_at", "2026-11-30T09:00:00+08:00"))), "applied")
	photo := func(parent string, id string) map[string]json.RawMessage {
		return apptest.Fields(parent, id, "sha256", strings.Repeat("cd", 32))
	}
	// For each optional immutable field: a record created without it, and
	// two values two devices would set it to.
	cases := map[string]struct {
		create     map[string]json.RawMessage
		val1, val2 any
	}{
		"site.radius_m":          {apptest.Fields("county", apptest.Xinfu, "kind", "coal_yard", "name", "某煤场"), 100, 20000},
		"site.active":            {apptest.Fields("county", apptest.Xinfu, "kind", "coal_yard", "name", "某煤场"), true, false},
		"finding.item_key":       {apptest.Fields("inspection_id", insp, "description", "料堆未苫盖"), "fence", "cover"},
		"photo.inspection_id":    {photo("vehicle_check_id", vc), insp, insp2},
		"photo.finding_id":       {photo("inspection_id", insp), finding, newFinding(t, b, insp)},
		"photo.vehicle_check_id": {photo("inspection_id", insp), vc, vc},
		"photo.capture_sig":      {photo("inspection_id", insp), "c2lnbmF0dXJl", "b3RoZXI"},
		"photo.capture_key_id":   {photo("inspection_id", insp), "k1", "k2"},
	}
	for _, e := range server.Entities {
		for _, f := range e.Fields {
			if !e.DeviceWritable || !f.Immutable || f.Required || f.Server {
				continue
			}
			name := e.Name + "." + f.Name
			tc, ok := cases[name]
			if !ok {
				t.Errorf("%s: an optional immutable field, not covered by this test", name)
				continue
			}
			delete(cases, name)
			id := newID()
			wantStatus(t, apptest.Push(t, a, apptest.Mut(a, e.Name, id, tc.create)), "applied")
			// Either device, either value, either order: each refused.
			for _, w := range []struct {
				c *syncproto.Client
				v any
			}{{b, tc.val2}, {a, tc.val1}, {b, tc.val1}} {
				wantStatus(t, apptest.Push(t, w.c, apptest.Mut(w.c, e.Name, id, apptest.Fields(f.Name, w.v))), "rejected/immutable_field")
			}
			if r, _ := srv.App.DB.Get(ctx, e.Name, id); r.Value(f.Name) != nil {
				t.Errorf("%s set to %s after creation", name, r.Value(f.Name))
			}
			// Created with it: the same value may be sent again (it merges
			// as any write); another value is refused.
			with := maps.Clone(tc.create)
			maps.Copy(with, apptest.Fields(f.Name, tc.val1))
			id = newID()
			wantStatus(t, apptest.Push(t, a, apptest.Mut(a, e.Name, id, with)), "applied")
			wantStatus(t, apptest.Push(t, b, apptest.Mut(b, e.Name, id, apptest.Fields(f.Name, tc.val1))), "applied")
			if tc.val2 != tc.val1 {
				wantStatus(t, apptest.Push(t, b, apptest.Mut(b, e.Name, id, apptest.Fields(f.Name, tc.val2))), "rejected/immutable_field")
			}
		}
	}
	for name := range cases {
		t.Errorf("%s is not an optional immutable field a device writes", name)
	}
}

// TestRequiredFieldsCannotBeCleared: a device may not set a required field
// to null after the record's creation, on any entity (a roadside check's
// plate, a finding's description), whichever device sends it; the stored
// value stays.
func TestRequiredFieldsCannotBeCleared(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	insp := newInspection(t, a, apptest.Xinfu)
	creates := map[string]map[string]json.RawMessage{
		syncproto.EntitySite:    apptest.Fields("county", apptest.Xinfu, "kind", "coal_yard", "name", "某煤场"),
		syncproto.EntityFinding: apptest.Fields("inspection_id", insp, "description", "料堆未苫盖"),
		syncproto.EntityVehicleCheck: apptest.Fields("county", apptest.Xinfu, "checkpoint", "G108忻州北", "plate", "晋H12345",
			"checked_at", "2026-11-30T09:00:00+08:00"),
	}
	covered := map[string]bool{}
	for _, e := range server.Entities {
		for _, f := range e.Fields {
			if !e.DeviceWritable || !f.Required || f.Immutable || f.Server {
				continue
			}
			create, ok := creates[e.Name]
			if !ok {
				t.Errorf("%s.%s: a required field a device may change, not covered by this test", e.Name, f.Name)
				continue
			}
			covered[e.Name] = true
			id := newID()
			wantStatus(t, apptest.Push(t, a, apptest.Mut(a, e.Name, id, create)), "applied")
			for _, c := range []*syncproto.Client{a, b} {
				wantStatus(t, apptest.Push(t, c, apptest.Mut(c, e.Name, id, apptest.Fields(f.Name, nil))), "rejected/invalid_value")
			}
			// A text emptied is cleared as surely: refused too, at
			// creation as well (invalid_field where the field's format
			// already says it must be visible text).
			if f.Type == server.TypeText && f.Enum == nil {
				for _, blank := range []string{"", "  ", "\u200b", "\t\n"} {
					r := apptest.Push(t, a, apptest.Mut(a, e.Name, id, apptest.Fields(f.Name, blank))).Results[0]
					if r.Status != syncproto.StatusRejected || (r.Code != syncproto.CodeInvalidValue && r.Code != syncproto.CodeInvalidField) {
						t.Errorf("%s.%s set to %q: %s/%s", e.Name, f.Name, blank, r.Status, r.Code)
					}
					blankCreate := maps.Clone(create)
					maps.Copy(blankCreate, apptest.Fields(f.Name, blank))
					if r := apptest.Push(t, a, apptest.Mut(a, e.Name, newID(), blankCreate)).Results[0]; r.Status != syncproto.StatusRejected {
						t.Errorf("%s created with %s %q: %s", e.Name, f.Name, blank, r.Status)
					}
				}
			}
			if r, _ := srv.App.DB.Get(ctx, e.Name, id); r.Value(f.Name) == nil || string(r.Value(f.Name)) == "null" || string(r.Value(f.Name)) == `""` {
				t.Errorf("%s.%s cleared", e.Name, f.Name)
			}
		}
	}
	for name := range creates {
		if !covered[name] {
			t.Errorf("%s has no required field a device may change", name)
		}
	}
}

// TestChildrenOfDeletedInspection: once an inspection is deleted, its
// findings and photos take no change (from any device) and no new photo,
// though they may be deleted; no new finding names it; an office's
// verification of its finding answers not_found.
func TestChildrenOfDeletedInspection(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, a, apptest.Xinfu)
	finding, other := newFinding(t, a, insp), newFinding(t, a, insp, "item_key", "cover")
	photo := func(fields ...any) map[string]json.RawMessage {
		return apptest.Fields(append([]any{"sha256", strings.Repeat("ef", 32), "caption", "东侧"}, fields...)...)
	}
	ofInsp, ofFinding := newID(), newID()
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "photo", ofInsp, photo("inspection_id", insp)),
		apptest.Mut(a, "photo", ofFinding, photo("inspection_id", insp, "finding_id", finding))), "applied", "applied")
	wantStatus(t, apptest.Push(t, a, syncproto.Mutation{Entity: "inspection", ID: insp, Delete: true, HLC: a.Clock.Now().String()}), "applied")

	locked := "rejected/" + syncproto.CodeRecordLocked
	for _, c := range []*syncproto.Client{a, b} {
		wantStatus(t, apptest.Push(t, c,
			apptest.Mut(c, "finding", finding, apptest.Fields("status", "rectified", "description", "已补齐")),
			apptest.Mut(c, "photo", ofInsp, apptest.Fields("caption", "改")),
			apptest.Mut(c, "photo", ofFinding, apptest.Fields("caption", "改")),
			apptest.Mut(c, "photo", newID(), photo("finding_id", finding)),
			apptest.Mut(c, "photo", newID(), photo("inspection_id", insp)),
			apptest.Mut(c, "finding", newID(), apptest.Fields("inspection_id", insp, "description", "新问题")),
		), locked, locked, locked, locked, "rejected/"+syncproto.CodeUnknownReference, "rejected/"+syncproto.CodeUnknownReference)
	}
	if r, _ := srv.App.DB.Get(ctx, "finding", finding); r.Text("status") != "open" {
		t.Errorf("finding of the deleted inspection changed: %s", r.Text("status"))
	}
	wantStatus(t, apptest.Push(t, a, syncproto.Mutation{Entity: "finding", ID: other, Delete: true, HLC: a.Clock.Now().String()}), "applied")
	// A change of the finding deleted with it (a phone deletes an
	// inspection with its findings) is answered by the finding's own
	// delete: stale, record_deleted, whoever made it and whenever — not
	// record_locked, which a phone keeps for a return that never comes.
	// And the photo of a deleted finding of an inspection not deleted.
	for _, c := range []*syncproto.Client{a, b} {
		res := apptest.Push(t, c, apptest.Mut(c, "finding", other, apptest.Fields("description", "已补齐")))
		if r := res.Results[0]; r.Status != syncproto.StatusStale || r.Code != syncproto.CodeRecordDeleted {
			t.Errorf("%s's change of a deleted finding under a deleted inspection: %s/%s %s", c.DeviceID, r.Status, r.Code, r.Message)
		}
	}
	if r, _ := srv.App.DB.Get(ctx, "finding", other); !r.State.IsDeleted() {
		t.Error("the deleted finding is back")
	}
	// Whatever lock its inspection is under: a finding deleted before its
	// inspection was submitted, changed by a colleague after.
	insp2 := newInspection(t, a, apptest.Xinfu)
	gone, alive := newFinding(t, a, insp2), newFinding(t, a, insp2)
	wantStatus(t, apptest.Push(t, a, syncproto.Mutation{Entity: "finding", ID: gone, Delete: true, HLC: a.Clock.Now().String()}), "applied")
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", insp2, apptest.Fields("answers.fence", map[string]any{"result": "fail"}, "status", "submitted"))), "applied")
	if r := apptest.Push(t, b, apptest.Mut(b, "finding", gone, apptest.Fields("description", "已补齐"))).Results[0]; r.Status != syncproto.StatusStale || r.Code != syncproto.CodeRecordDeleted {
		t.Errorf("a change of a deleted finding under a submitted inspection: %s/%s %s", r.Status, r.Code, r.Message)
	}
	// Not a finding alive under it: still locked.
	wantStatus(t, apptest.Push(t, b, apptest.Mut(b, "finding", alive, apptest.Fields("description", "改"))), locked)
	err := office.Do(ctx, http.MethodPost, "/api/v1/findings/"+finding+"/verify", map[string]any{"decision": "verify"}, nil)
	if code := syncproto.ErrorCodeOf(err); code != syncproto.CodeNotFound {
		t.Errorf("verify a finding of a deleted inspection: %v, want not_found", err)
	}
}

// TestReceivedAtInChinaTime: received_at, the server's time a record
// arrived, is written at +08:00 like every time the server stores (the
// API's field tables say so), in a pulled page of each form.
func TestReceivedAtInChinaTime(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	newInspection(t, c, apptest.Xinfu)
	for _, form := range []string{"", syncproto.HLCsGrouped} {
		c.PullForm = form
		chs, _ := pullAll(t, c, "", 500)
		if len(chs) == 0 {
			t.Fatal("nothing pulled")
		}
		for _, ch := range chs {
			if at := text(ch, "received_at"); !strings.HasSuffix(at, "+08:00") || len(at) < 25 {
				t.Fatalf("form %q: %s %s received_at %q, want a time at +08:00", form, ch.Entity, ch.ID, at)
			}
		}
	}
}

// TestScopeChangeForcesResync: when a user's counties change, an old cursor
// is refused with resync_required and a pull from the start brings the
// newly visible records.
func TestScopeChangeForcesResync(t *testing.T) {
	srv := apptest.Start(t)
	ningwuDev := srv.Login(apptest.NingwuInsp)
	_, cursor := pullAll(t, ningwuDev, "", 500)
	xinfuSite := apptest.DemoSite(t, apptest.Xinfu)

	if err := srv.App.DB.SetUserCounties(ctx, apptest.NingwuInsp, []string{apptest.Ningwu, apptest.Xinfu}); err != nil {
		t.Fatal(err)
	}
	_, err := ningwuDev.Pull(ctx, cursor, 100)
	if code := syncproto.ErrorCodeOf(err); code != syncproto.CodeResyncRequired {
		t.Fatalf("pull with the old cursor: %v, want resync_required", err)
	}
	all, _ := pullAll(t, ningwuDev, "", 500)
	if _, ok := latest(all)["site/"+xinfuSite]; !ok {
		t.Fatalf("after resync the newly visible site %s is missing", xinfuSite)
	}
}

// TestTombstonesAreNotResurrected: after a delete, neither a late update
// made offline nor a re-sent create brings the record back; the late value
// is kept in the conflict log.
func TestTombstonesAreNotResurrected(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	insp := newInspection(t, a, apptest.Xinfu)
	offlineEdit := apptest.Mut(b, "inspection", insp, apptest.Fields("summary", "离线时的修改")) // stamped before the delete

	del := syncproto.Mutation{Entity: "inspection", ID: insp, Delete: true, HLC: a.Clock.Now().String()}
	wantStatus(t, apptest.Push(t, a, del), "applied")
	wantStatus(t, apptest.Push(t, b, offlineEdit), "stale/record_deleted")
	lateEdit := apptest.Mut(b, "inspection", insp, apptest.Fields("summary", "删除之后的修改", "finished_at", "2026-11-28T12:00:00+08:00"))
	wantStatus(t, apptest.Push(t, b, lateEdit), "stale/record_deleted")
	// Sent again (the answer was lost): answered as the first time, not
	// as a duplicate, so the phone learns the record is gone.
	for range 2 {
		r := apptest.Push(t, b, lateEdit).Results[0]
		if want := []string{"finished_at", "summary"}; r.Status != "stale" || r.Code != syncproto.CodeRecordDeleted || !slices.Equal(r.LostFields, want) {
			t.Errorf("late edit sent again: %s/%s lost %v, want stale/record_deleted lost %v", r.Status, r.Code, r.LostFields, want)
		}
	}
	wantStatus(t, apptest.Push(t, a, del), "duplicate")
	// An edit stamped before the record's own fields (made offline long
	// before, sent late), and one whose fields are older and newer than
	// the stored ones: every field is lost, logged as written to a
	// deleted record, whatever its HLC — but for a value the same phone
	// had itself replaced since (the late edit's summary and finish
	// time): an edit it superseded, not a conflict.
	created, _ := srv.App.DB.Get(ctx, "inspection", insp)
	h0 := created.State.Fields["status"].HLC
	h0.Wall -= 60_000
	h0.Node = b.DeviceID
	ancient := syncproto.Mutation{Entity: "inspection", ID: insp, HLC: h0.String(), Fields: apptest.Fields("status", "submitted")}
	mixed := apptest.Mut(b, "inspection", insp, apptest.Fields("summary", "更早的小结", "finished_at", "2026-11-28T11:00:00+08:00"))
	// Newer than the create, older than the late edit's summary.
	mixed.HLC = syncproto.HLC{Wall: created.State.Fields["status"].HLC.Wall + 1, Node: b.DeviceID}.String()
	for _, m := range []syncproto.Mutation{ancient, mixed} {
		r := apptest.Push(t, b, m).Results[0]
		fields := slices.Sorted(maps.Keys(m.Fields))
		if r.Status != "stale" || r.Code != syncproto.CodeRecordDeleted || !slices.Equal(r.LostFields, fields) {
			t.Errorf("edit of %v: %s/%s lost %v, want stale/record_deleted lost %v", fields, r.Status, r.Code, r.LostFields, fields)
		}
	}

	chs, _ := pullAll(t, b, "", 1000)
	got := latest(chs)["inspection/"+insp]
	if !got.Deleted || len(got.Fields) != 0 {
		t.Fatalf("pull shows %+v, want a tombstone", got)
	}
	cs, err := srv.App.DB.Conflicts(ctx, srvScopeAll, "inspection", insp, 100)
	if err != nil {
		t.Fatal(err)
	}
	kept, times := map[string]string{}, map[string]int{}
	for _, c := range cs {
		kept[string(c.Value)] = c.Reason
		times[string(c.Value)]++
	}
	if times[`"删除之后的修改"`] != 1 {
		t.Errorf("the late edit is logged %d times, want once", times[`"删除之后的修改"`])
	}
	for _, v := range []string{`"删除之后的修改"`, `"离线时的修改"`, `"submitted"`} {
		if kept[v] != "deleted" {
			t.Errorf("the conflict log has %s as %q, want deleted", v, kept[v])
		}
	}
	for _, v := range []string{`"更早的小结"`, `"2026-11-28T11:00:00+08:00"`} {
		if _, ok := kept[v]; ok {
			t.Errorf("the conflict log has %s, which its own phone had replaced since", v)
		}
	}
	if kept[`"删除之后的修改"`] != "deleted" || kept[`"离线时的修改"`] != "deleted" {
		t.Fatalf("conflict log %v lacks the losing values", kept)
	}
}

// TestSubmitLocksUntilOfficeReturns walks an inspection through submit,
// return with a comment (which the phone pulls), edit, resubmit, approve.
func TestSubmitLocksUntilOfficeReturns(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, phone, apptest.Xinfu)
	_, cursor := pullAll(t, phone, "", 1000)

	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("answers.fence", map[string]any{"result": "fail"}, "status", "submitted"))), "applied")
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("summary", "提交后修改"))), "rejected/record_locked")

	review := func(decision, comment string) error {
		return office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review",
			map[string]string{"decision": decision, "comment": comment}, nil)
	}
	if err := review("return", "请补充围挡照片"); err != nil {
		t.Fatalf("return: %v", err)
	}
	chs, _ := pullAll(t, phone, cursor, 1000)
	var sawReview bool
	for _, ch := range chs {
		if ch.Entity == "review" && text(ch, "inspection_id") == insp && text(ch, "comment") == "请补充围挡照片" && text(ch, "decision") == "return" {
			sawReview = true
		}
	}
	if got := latest(chs)["inspection/"+insp]; text(got, "status") != "returned" || text(got, "review_comment") != "请补充围挡照片" || !sawReview {
		t.Fatalf("phone pulled status %q comment %q review %v, want the return", text(got, "status"), text(got, "review_comment"), sawReview)
	}
	// A returned inspection's status is the office's to have set: the
	// phone resubmits it, or leaves it; it cannot clear it (nor a
	// finding's), which left phones a status no document names.
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("status", nil))), "rejected/invalid_value")
	finding := uuid.NewString()
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "finding", finding, apptest.Fields("inspection_id", insp, "description", "围挡破损",
		"status", "open"))), "applied")
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "finding", finding, apptest.Fields("status", nil))), "rejected/invalid_value")
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("summary", "已补充", "status", "submitted"))), "applied")
	if err := review("approve", ""); err != nil {
		t.Fatalf("approve: %v", err)
	}
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("summary", "通过后修改"))), "rejected/record_locked")
	if err := review("approve", ""); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict {
		t.Fatalf("second approve: %v, want conflict", err)
	}
}

// TestWorkBeforeSubmissionArrivesLate: what the submitting phone did
// under an inspection while it was a draft — a finding, an edit of it — is
// taken when it arrives after the submission (sent again after a restore,
// which sends the inspection before its findings), as it was in its
// order. A change of the inspection itself stamped before its submission
// that arrives after it is refused: a phone sends one record's writes in
// their order, so it is backdated (a clock set back, a modified app), and
// would change or delete an inspection under review. What the phone did
// after the submission, and what another phone did at any time, is
// refused until the office returns it; nothing is taken once the office
// has approved it.
func TestWorkBeforeSubmissionArrivesLate(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	colleague := srv.Login(apptest.Inspector2)
	office := srv.Login(apptest.CountyOffice)
	insp := newID()
	create := apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields(
		"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust", "template_version", 1,
		"status", "draft", "started_at", "2026-11-28T09:00:00+08:00"))
	finding := newID()
	made := apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp,
		"item_key", "fence", "description", "东侧围挡缺失", "severity", "major", "status", "open"))
	edited := apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("description", "东侧围挡缺失约 20 米"))
	answered := apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("summary", "提交前写的小结"))
	second := apptest.Mut(phone, syncproto.EntityFinding, newID(), apptest.Fields("inspection_id", insp,
		"item_key", "cover", "description", "裸土未覆盖", "severity", "minor", "status", "open"))
	h, _ := syncproto.ParseHLC(create.HLC)
	colleague.Clock.Observe(h)
	theirs := apptest.Mut(colleague, syncproto.EntityFinding, newID(), apptest.Fields("inspection_id", insp,
		"item_key", "cover", "description", "同事离线时记录", "severity", "minor", "status", "open"))
	submit := apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("answers.fence", map[string]any{"result": "fail"}, "status", "submitted"))
	locked := "rejected/" + syncproto.CodeRecordLocked

	wantStatus(t, apptest.Push(t, phone, create, submit), "applied", "applied")
	// A colleague's finding, made offline before the submission: refused
	// while the inspection waits for review.
	wantStatus(t, apptest.Push(t, colleague, theirs), locked)
	wantStatus(t, apptest.Push(t, phone, made), "applied")
	wantStatus(t, apptest.Push(t, phone, made), "duplicate")
	wantStatus(t, apptest.Push(t, phone, edited), "applied")
	if r, _ := srv.App.DB.Get(ctx, syncproto.EntityFinding, finding); r == nil || r.Text("description") != "东侧围挡缺失约 20 米" {
		t.Fatalf("the finding made before the submission: %v", r)
	}
	// The inspection's own change and deletion, stamped before its
	// submission, arriving after it: refused.
	wantStatus(t, apptest.Push(t, phone, answered), locked)
	h, _ = syncproto.ParseHLC(answered.HLC)
	backdated := syncproto.Mutation{Entity: syncproto.EntityInspection, ID: insp, Delete: true, HLC: syncproto.HLC{Wall: h.Wall, Counter: h.Counter + 1, Node: h.Node}.String()}
	wantStatus(t, apptest.Push(t, phone, backdated), locked)
	if r, _ := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp); r.Text("summary") != "" || r.Text("status") != "submitted" || r.State.IsDeleted() {
		t.Fatalf("the inspection reads summary %q status %q deleted %v", r.Text("summary"), r.Text("status"), r.State.IsDeleted())
	}
	// Made after the submission: refused until the office returns it.
	wantStatus(t, apptest.Push(t, phone,
		apptest.Mut(phone, syncproto.EntityFinding, newID(), apptest.Fields("inspection_id", insp, "item_key", "fence",
			"description", "提交后新增", "severity", "minor", "status", "open")),
		apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("description", "提交后修改")),
		apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("summary", "提交后修改"))), locked, locked, locked)

	// Approved: even what was made before the submission is refused.
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, apptest.Push(t, phone, second), locked)
}

// TestDeletedParentOrderDoesNotDecide: a phone's edits of a finding and a
// photo, and a new finding, made before the same phone deleted their
// inspection, leave the server as they would had they arrived first (sent
// again after a restore, the deletion comes first): taken, whichever
// comes first. One made after the deletion, and a colleague's made before
// it that arrives after it, are refused.
func TestDeletedParentOrderDoesNotDecide(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	type outcome struct{ description, caption, added string }
	run := func(deleteFirst bool) outcome {
		t.Helper()
		insp := newInspection(t, a, apptest.Xinfu)
		finding := newFinding(t, a, insp)
		photo := newID()
		wantStatus(t, apptest.Push(t, a, apptest.Mut(a, syncproto.EntityPhoto, photo, apptest.Fields("inspection_id", insp,
			"sha256", strings.Repeat("cd", 32), "content_type", "image/jpeg"))), "applied")
		added := newID()
		edits := []syncproto.Mutation{
			apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("description", "删除前离线修改")),
			apptest.Mut(a, syncproto.EntityPhoto, photo, apptest.Fields("caption", "删除前的说明")),
			apptest.Mut(a, syncproto.EntityFinding, added, apptest.Fields("inspection_id", insp, "item_key", "cover",
				"description", "删除前新增", "severity", "minor", "status", "open")),
		}
		h, _ := syncproto.ParseHLC(edits[len(edits)-1].HLC)
		b.Clock.Observe(h)
		theirs := apptest.Mut(b, syncproto.EntityFinding, finding, apptest.Fields("severity", "minor")) // before the deletion
		a.Clock.Observe(b.Clock.Now())
		del := syncproto.Mutation{Entity: syncproto.EntityInspection, ID: insp, Delete: true, HLC: a.Clock.Now().String()}
		if deleteFirst {
			wantStatus(t, apptest.Push(t, a, del), "applied")
			wantStatus(t, apptest.Push(t, a, edits...), "applied", "applied", "applied")
		} else {
			wantStatus(t, apptest.Push(t, a, edits...), "applied", "applied", "applied")
			wantStatus(t, apptest.Push(t, a, del), "applied")
		}
		// Made after the deletion, or by another phone: refused.
		locked := "rejected/" + syncproto.CodeRecordLocked
		wantStatus(t, apptest.Push(t, a, apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("description", "删除后修改"))), locked)
		wantStatus(t, apptest.Push(t, b, theirs), locked)
		var o outcome
		if r, _ := srv.App.DB.Get(ctx, syncproto.EntityFinding, finding); r != nil {
			o.description = r.Text("description")
		}
		if r, _ := srv.App.DB.Get(ctx, syncproto.EntityPhoto, photo); r != nil {
			o.caption = r.Text("caption")
		}
		if r, _ := srv.App.DB.Get(ctx, syncproto.EntityFinding, added); r != nil {
			o.added = r.Text("description")
		}
		return o
	}
	want := outcome{"删除前离线修改", "删除前的说明", "删除前新增"}
	for _, deleteFirst := range []bool{false, true} {
		if got := run(deleteFirst); got != want {
			t.Errorf("deletion first %v: %+v, want %+v", deleteFirst, got, want)
		}
	}
}

// TestLockedEvidence: while an inspection waits for review, and after it
// is approved, the records of its photos — its own and its findings' —
// cannot be re-dated, moved or re-assigned to another item, though new
// evidence may still arrive and a retry of a photo's creation is still a
// duplicate; once the office returns it they can be corrected again.
func TestLockedEvidence(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, phone, apptest.Xinfu)
	finding := newFinding(t, phone, insp)
	photo := func(fields ...any) syncproto.Mutation {
		return apptest.Mut(phone, "photo", newID(), apptest.Fields(append([]any{"sha256", strings.Repeat("ab", 32),
			"content_type", "image/jpeg", "captured_at", "2026-11-28T09:10:00+08:00", "lon", 112.73, "lat", 38.42}, fields...)...))
	}
	own, ofFinding := photo("inspection_id", insp, "item_key", "fence"), photo("finding_id", finding)
	wantStatus(t, apptest.Push(t, phone, own, ofFinding), "applied", "applied")
	edits := func() []syncproto.Mutation {
		return []syncproto.Mutation{
			apptest.Mut(phone, "photo", own.ID, apptest.Fields("item_key", "cover")),
			apptest.Mut(phone, "photo", own.ID, apptest.Fields("captured_at", "2026-11-20T09:10:00+08:00", "lon", 113.1)),
			apptest.Mut(phone, "photo", ofFinding.ID, apptest.Fields("caption", "换一张说明")),
		}
	}
	review := func(decision string) {
		t.Helper()
		if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review",
			map[string]string{"decision": decision, "comment": "请补充"}, nil); err != nil {
			t.Fatalf("%s: %v", decision, err)
		}
	}
	locked := "rejected/" + syncproto.CodeRecordLocked

	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("status", "submitted"))), "applied")
	wantStatus(t, apptest.Push(t, phone, edits()...), locked, locked, locked)
	wantStatus(t, apptest.Push(t, phone, own, photo("inspection_id", insp, "item_key", "cover")), "duplicate", "applied")

	review("return")
	wantStatus(t, apptest.Push(t, phone, edits()...), "applied", "applied", "applied")
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("status", "submitted"))), "applied")
	review("approve")
	wantStatus(t, apptest.Push(t, phone, edits()...), locked, locked, locked)
	if r, _ := srv.App.DB.Get(ctx, "photo", own.ID); r.Text("item_key") != "cover" || r.Text("captured_at") != "2026-11-20T09:10:00+08:00" {
		t.Errorf("the approved photo reads item %q taken %q, want the values of before the approval", r.Text("item_key"), r.Text("captured_at"))
	}
}

// TestOwnOlderValueSentAgainIsNoConflict: a phone's create sent again
// under a new batch id (its answer lost, or everything sent again after a
// restore) after the same phone had edited the record is stale, and the
// conflict log gains nothing: the phone replaced that value itself. A
// colleague's older value still is a conflict.
func TestOwnOlderValueSentAgainIsNoConflict(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	insp := newInspection(t, a, apptest.Xinfu)
	finding := newID()
	create := apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "fence",
		"description", "初次描述", "severity", "major", "status", "open"))
	colleague := apptest.Mut(b, syncproto.EntityFinding, finding, apptest.Fields("severity", "minor"))
	wantStatus(t, apptest.Push(t, a, create), "applied")
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("description", "改后的描述", "severity", "critical"))), "applied")
	r := apptest.Push(t, a, create).Results[0]
	if r.Status != syncproto.StatusStale || !slices.Contains(r.LostFields, "description") {
		t.Errorf("the create sent again: %+v, want stale, description lost", r)
	}
	wantStatus(t, apptest.Push(t, b, colleague), "stale")
	cs, err := srv.App.DB.Conflicts(ctx, srvScopeAll, syncproto.EntityFinding, finding, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Field+"="+string(c.Value))
	}
	if want := []string{`severity="minor"`}; !slices.Equal(got, want) {
		t.Errorf("conflict log %v, want only the colleague's %v", got, want)
	}
}

// TestConcurrentEditsKeepBothFieldsAndLogLoser: two inspectors change
// different fields of one record and both keep their change; when they
// change the same field the older value is in the conflict log the office
// reads over the API.
func TestConcurrentEditsKeepBothFieldsAndLogLoser(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, a, apptest.Xinfu)
	older := apptest.Mut(a, "inspection", insp, apptest.Fields("summary", "甲的结论", "answers.fence", map[string]any{"result": "pass"}))
	h, _ := syncproto.ParseHLC(older.HLC)
	b.Clock.Observe(h) // b's edit happens after a's
	newer := apptest.Mut(b, "inspection", insp, apptest.Fields("summary", "乙的结论", "answers.cover", map[string]any{"result": "fail"}))
	wantStatus(t, apptest.Push(t, b, newer), "applied")
	resp := apptest.Push(t, a, older)
	if resp.Results[0].Status != "applied" || !reflect.DeepEqual(resp.Results[0].LostFields, []string{"summary"}) {
		t.Fatalf("older edit: %+v, want applied with summary lost", resp.Results[0])
	}
	rec, _ := srv.App.DB.Get(ctx, "inspection", insp)
	if rec.Text("summary") != "乙的结论" || rec.Value("answers.fence") == nil || rec.Value("answers.cover") == nil {
		t.Fatalf("merged record lost a change: %s", dump(rec.State))
	}
	var out struct {
		Conflicts []struct {
			Field, Reason, At string
			Value             any
		} `json:"conflicts"`
	}
	if err := office.Do(ctx, http.MethodGet, "/api/v1/conflicts?entity=inspection&record_id="+insp, nil, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Conflicts) != 1 || out.Conflicts[0].Field != "summary" || out.Conflicts[0].Value != "甲的结论" {
		t.Fatalf("conflict log %+v, want the losing summary", out.Conflicts)
	}
	// In China time, as every time the server writes; so are the
	// devices' times.
	if !strings.HasSuffix(out.Conflicts[0].At, "+08:00") {
		t.Errorf("conflict at %q, want +08:00", out.Conflicts[0].At)
	}
	var devs struct {
		Devices []struct {
			CreatedAt  string  `json:"created_at"`
			LastPushAt *string `json:"last_push_at"`
		} `json:"devices"`
	}
	if err := office.Do(ctx, http.MethodGet, "/api/v1/devices", nil, &devs); err != nil || len(devs.Devices) == 0 {
		t.Fatalf("devices: %v", err)
	}
	for _, d := range devs.Devices {
		if !strings.HasSuffix(d.CreatedAt, "+08:00") || d.LastPushAt != nil && !strings.HasSuffix(*d.LastPushAt, "+08:00") {
			t.Errorf("device times %q %v, want +08:00", d.CreatedAt, d.LastPushAt)
		}
	}
}

// TestSyncHealth: the office sees each device's last pull and push and its
// unfinished uploads.
func TestSyncHealth(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	idle := srv.Login(apptest.Inspector2)
	insp := newInspection(t, phone, apptest.Xinfu)
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "photo", newID(), apptest.Fields("inspection_id", insp,
		"sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "content_type", "image/jpeg"))), "applied")
	pullAll(t, phone, "", 1000)
	var out struct {
		Devices []struct {
			ID             string     `json:"id"`
			LastPullAt     *time.Time `json:"last_pull_at"`
			LastPushAt     *time.Time `json:"last_push_at"`
			PendingUploads int        `json:"pending_uploads"`
		} `json:"devices"`
	}
	if err := srv.Login(apptest.CountyOffice).Do(ctx, http.MethodGet, "/api/v1/devices", nil, &out); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, d := range out.Devices {
		switch d.ID {
		case phone.DeviceID:
			found++
			if d.LastPullAt == nil || d.LastPushAt == nil || d.PendingUploads != 1 {
				t.Errorf("active phone health %+v, want pull and push times and 1 pending upload", d)
			}
		case idle.DeviceID:
			found++
			if d.LastPullAt != nil || d.LastPushAt != nil || d.PendingUploads != 0 {
				t.Errorf("idle phone health %+v, want no sync yet", d)
			}
		}
	}
	if found != 2 {
		t.Fatalf("device list lacks the phones: %+v", out.Devices)
	}
}

// TestPullMarksCoalesced: the pages in the middle of a pull sequence store
// the device's pull mark at most every two seconds of server time, and the
// last page always does, so sync health is exact once a device has caught
// up.
func TestPullMarksCoalesced(t *testing.T) {
	var clock atomic.Int64 // server time in ms, moved by the test only
	clock.Store(time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC).UnixMilli())
	srv := apptest.Start(t, func(c *app.Config) { c.Now = func() time.Time { return time.UnixMilli(clock.Load()) } })
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	mark := func() (int64, time.Time) {
		t.Helper()
		d := deviceInfo(t, office, phone.DeviceID)
		if d.LastPullAt == nil {
			return d.LastAckSeq, time.Time{}
		}
		return d.LastAckSeq, *d.LastPullAt
	}
	seq := func(cursor string) int64 {
		c, err := server.DecodeCursor(cursor)
		if err != nil {
			t.Fatal(err)
		}
		return c.Seq
	}
	page := func(cursor string) *syncproto.PullResponse {
		t.Helper()
		pr, err := phone.Pull(ctx, cursor, 20)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	start := time.UnixMilli(clock.Load())
	p1 := page("")
	if ack, at := mark(); ack != 0 || !at.Equal(start) || !p1.HasMore {
		t.Fatalf("after the first page: ack %d at %v (more %v), want 0 at %v", ack, at, p1.HasMore, start)
	}
	clock.Add(1000)
	p2 := page(p1.Cursor)
	if ack, at := mark(); ack != 0 || !at.Equal(start) {
		t.Fatalf("a second page a second later stored its mark: ack %d at %v", ack, at)
	}
	clock.Add(1500)
	p3 := page(p2.Cursor)
	if ack, at := mark(); ack != seq(p2.Cursor) || !at.Equal(start.Add(2500*time.Millisecond)) {
		t.Fatalf("a page 2.5 s after the last mark: ack %d at %v, want %d", ack, at, seq(p2.Cursor))
	}
	cursor, last := p3.Cursor, p3
	for last.HasMore {
		prev := cursor
		last = page(cursor)
		cursor = last.Cursor
		if !last.HasMore {
			if ack, _ := mark(); ack != seq(prev) {
				t.Fatalf("after the last page: ack %d, want %d (the cursor it was asked with)", ack, seq(prev))
			}
		}
	}
}

// TestRectificationAfterApproval: an approved inspection's findings are
// still rectified on the phone — their status and rectification note, and
// new photos — while everything else of them stays locked; an office
// verifies the reported rectification, which locks the finding, or sends
// it back with a comment, which unlocks it again.
func TestRectificationAfterApproval(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, phone, apptest.Xinfu)
	finding := newFinding(t, phone, insp, "deadline", "2026-12-10")
	photo := func() syncproto.Mutation {
		return apptest.Mut(phone, "photo", newID(), apptest.Fields("sha256", strings.Repeat("cd", 32), "content_type", "image/jpeg",
			"captured_at", "2026-11-30T09:10:00+08:00", "lon", 112.73, "lat", 38.42, "finding_id", finding))
	}
	before := photo()
	wantStatus(t, apptest.Push(t, phone, before), "applied")
	decide := func(who *syncproto.Client, decision, comment string, seq int64) error {
		return who.Do(ctx, http.MethodPost, "/api/v1/findings/"+finding+"/verify",
			map[string]any{"decision": decision, "comment": comment, "seq": seq}, nil)
	}
	wantCode := func(err error, code string) {
		t.Helper()
		if syncproto.ErrorCodeOf(err) != code {
			t.Fatalf("decision: %v, want %s", err, code)
		}
	}
	stored := func() *server.StoredRecord {
		t.Helper()
		r, err := srv.App.DB.Get(ctx, "finding", finding)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	locked := "rejected/" + syncproto.CodeRecordLocked
	progress := func(fields ...any) syncproto.Mutation {
		return apptest.Mut(phone, "finding", finding, apptest.Fields(fields...))
	}

	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("status", "submitted"))), "applied")
	// Under review the finding is the evidence being judged: locked whole.
	wantStatus(t, apptest.Push(t, phone, progress("status", "rectifying")), locked)
	wantCode(decide(office, server.DecisionVerify, "", 0), syncproto.CodeConflict) // not approved yet
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	pullAll(t, phone, "", 500)

	// Approved: the rectification progresses; the problem as approved does not change.
	del := apptest.Mut(phone, "finding", finding, nil)
	del.Delete = true
	wantStatus(t, apptest.Push(t, phone, progress("status", "rectifying")), "applied")
	wantCode(decide(office, server.DecisionVerify, "", 0), syncproto.CodeConflict) // not reported rectified
	wantStatus(t, apptest.Push(t, phone,
		progress("description", "改写问题"),
		progress("status", "rectified", "deadline", "2027-01-01"),
		apptest.Mut(phone, "photo", before.ID, apptest.Fields("caption", "改说明")),
		del,
		progress("status", "verified"),
	), locked, locked, locked, locked, "rejected/"+syncproto.CodeInvalidValue)
	after := photo()
	wantStatus(t, apptest.Push(t, phone, after, progress("status", "rectified", "rectification_note", "已补齐围挡")), "applied", "applied")
	if r := stored(); r.Text("status") != "rectified" || r.Text("rectification_note") != "已补齐围挡" || r.Text("description") != "东侧围挡缺失" || r.Text("deadline") != "2026-12-10" {
		t.Fatalf("finding after the phone's progress: %s", dump(r.State))
	}

	// The office decides: only an office of the county, with a comment to
	// send it back, on the finding as it read it.
	wantCode(decide(phone, server.DecisionVerify, "", 0), syncproto.CodeForbidden)
	if err := decide(srv.Login(apptest.DingxiangOffice), server.DecisionVerify, "", 0); syncproto.ErrorCodeOf(err) != syncproto.CodeOutOfScope ||
		strings.Contains(err.Error(), "忻府") {
		t.Fatalf("another county's office verifies: %v, want out_of_scope not naming the finding's county", err)
	}
	wantCode(decide(office, server.DecisionReopen, "  ", 0), syncproto.CodeMissingField)
	wantCode(decide(office, "approve", "", 0), syncproto.CodeInvalidValue)
	wantCode(decide(office, server.DecisionVerify, "", stored().Seq-1), syncproto.CodeConflict)
	if err := decide(office, server.DecisionReopen, "北侧仍有缺口", stored().Seq); err != nil {
		t.Fatal(err)
	}
	r := stored()
	if r.Text("status") != "rectifying" || r.Text("verify_comment") != "北侧仍有缺口" || r.Text("verifier_id") == "" || r.Text("verified_at") == "" {
		t.Fatalf("reopened finding: %s", dump(r.State))
	}
	// Verified before the inspector reports again: refused, saying who
	// sent it back — this office itself, or another (API probe: it
	// blamed another office worker for the office's own decision).
	county, _, err := srv.App.DB.UserByUsername(ctx, apptest.CountyOffice)
	if err != nil {
		t.Fatal(err)
	}
	for c, who := range map[*syncproto.Client]string{office: "已由您退回整改", srv.Login(apptest.CityOffice): "已由" + county.DisplayName + "退回整改"} {
		if err := decide(c, server.DecisionVerify, "", 0); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict || !strings.Contains(err.Error(), who) {
			t.Errorf("a verification of the finding sent back: %v, want conflict saying %s", err, who)
		}
	}
	pullAll(t, phone, "", 500) // the phone reads the comment, then acts on it
	report := progress("status", "rectified", "rectification_note", "北侧已补")
	wantStatus(t, apptest.Push(t, phone, report), "applied")
	newPhoto := func() syncproto.Mutation {
		return apptest.Mut(phone, syncproto.EntityPhoto, newID(), apptest.Fields("finding_id", finding,
			"sha256", strings.Repeat("ef", 32), "content_type", "image/jpeg"))
	}
	early := newPhoto() // taken before the verification, sent after it
	if err := decide(office, server.DecisionVerify, "", 0); err != nil {
		t.Fatal(err)
	}
	// It keeps when the inspector reported the rectification, which the
	// verification's status replaced: whether it was in time.
	reported, _ := syncproto.ParseHLC(report.HLC)
	if r := stored(); r.Text("status") != "verified" || !r.Time("rectified_at").Equal(reported.Time()) {
		t.Fatalf("verified finding (rectified_at, want %s): %s", reported.Time(), dump(r.State))
	}
	// Verified: locked for devices, its photos included, and a photo
	// taken since is no evidence of it (one taken before, sent late,
	// still is); an office may still reopen it.
	pullAll(t, phone, "", 500)
	wantStatus(t, apptest.Push(t, phone, progress("status", "rectifying"), progress("rectification_note", "改"), newPhoto(), early),
		locked, locked, locked, "applied")
	if err := decide(office, server.DecisionVerify, "", 0); syncproto.ErrorCodeOf(err) != syncproto.CodeConflict || !strings.Contains(err.Error(), "已核实，无需") {
		t.Errorf("verify a verified finding: %v, want conflict saying it is verified already", err)
	}
	if err := decide(office, server.DecisionReopen, "复查发现反弹", 0); err != nil {
		t.Fatal(err)
	}
	if r := stored(); r.Text("rectified_at") != "" || r.Text("rectified_by") != "" {
		t.Errorf("a finding sent back keeps the rectification it sent back as done: %s", dump(r.State))
	}
	pullAll(t, phone, "", 500)
	wantStatus(t, apptest.Push(t, phone, progress("status", "rectifying")), "applied")
	// A pull brings the phone the office's decision.
	changes, _ := pullAll(t, phone, "", 500)
	for _, ch := range changes {
		if ch.ID == finding && !strings.Contains(string(ch.Fields["verify_comment"]), "复查发现反弹") {
			t.Errorf("pulled finding %s lacks the office's comment", ch.Fields)
		}
	}
}

// TestAnswerErrorsNameTheItem: a refused value of one checklist answer
// names that answer (answers.fence), not the whole map, in its message
// and its field.
func TestAnswerErrorsNameTheItem(t *testing.T) {
	srv := apptest.Start(t)
	a := srv.Login(apptest.Inspector)
	insp := newInspection(t, a, apptest.Xinfu)
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"too large", map[string]string{"result": "fail", "note": strings.Repeat("长", 25_000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := apptest.Push(t, a, apptest.Mut(a, "inspection", insp, apptest.Fields("answers.fence", tc.value))).Results[0]
			if r.Status != "rejected" || r.Code != syncproto.CodeInvalidField || !strings.Contains(r.Message, "字段 answers.fence ") || r.Field != "answers.fence" {
				t.Errorf("%s/%s %q (field %q), want rejected/invalid_field naming answers.fence", r.Status, r.Code, r.Message, r.Field)
			}
		})
	}
}

// TestAnswersAreBounded: an inspection holds at most server.MaxMapKeys
// answers, counted over every write (a device cannot grow a record every
// phone of the county pulls without end); clearing answers makes room.
func TestAnswersAreBounded(t *testing.T) {
	srv := apptest.Start(t)
	a := srv.Login(apptest.Inspector)
	insp := newInspection(t, a, apptest.Xinfu)
	answers := func(from, n int, v any) map[string]json.RawMessage {
		kv := []any{}
		for i := from; i < from+n; i++ {
			kv = append(kv, fmt.Sprintf("answers.item_%d", i), v)
		}
		return apptest.Fields(kv...)
	}
	pass := map[string]string{"result": "pass"}
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", insp, answers(0, server.MaxMapKeys-1, pass))), "applied")
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", insp, answers(server.MaxMapKeys-1, 2, pass))), "rejected/invalid_value")
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", insp, answers(server.MaxMapKeys-1, 1, pass))), "applied")
	// Sent again, or changed, the answers held do not count twice.
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", insp, answers(0, 5, map[string]string{"result": "fail"}))), "applied")
	// Cleared ones make room, in the same write too.
	more := answers(0, 3, nil)
	maps.Copy(more, answers(server.MaxMapKeys, 3, pass))
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", insp, more)), "applied")
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", insp, answers(1000, 1, pass))), "rejected/invalid_value")
	// A create is bounded the same way.
	site := apptest.DemoSite(t, apptest.Xinfu)
	big := answers(0, server.MaxMapKeys+1, pass)
	maps.Copy(big, apptest.Fields("site_id", site, "template_id", "coal_yard", "template_version", 1, "status", "draft"))
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "inspection", newID(), big)), "rejected/invalid_value")
}

// TestDeleteHidingANewerEditLogsIt: an edit stamped after a delete (made
// on another phone that had not seen it) is logged as written to a
// deleted record whichever reaches the server first — before, when the
// edit came first, the older delete hid it without a trace. A delete
// hides without logging what was written before it, and a late edit of
// a deleted record logs only itself, not the stored value it merged
// over (that one was deleted, not lost to it).
func TestDeleteHidingANewerEditLogsIt(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	logged := func(id string) map[string]string {
		t.Helper()
		cs, err := srv.App.DB.Conflicts(ctx, srvScopeAll, "finding", id, 100)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range cs {
			out[c.Field+"="+string(c.Value)] = c.Reason
		}
		return out
	}
	insp := newInspection(t, a, apptest.Xinfu)
	for _, editFirst := range []bool{false, true} {
		f := newID()
		wantStatus(t, apptest.Push(t, a, apptest.Mut(a, "finding", f, apptest.Fields("inspection_id", insp, "description", "删除前的描述", "status", "open"))), "applied")
		del := syncproto.Mutation{Entity: "finding", ID: f, Delete: true, HLC: a.Clock.Now().String()}
		edit := apptest.Mut(b, "finding", f, apptest.Fields("description", "删除后另一台手机的修改", "rectification_note", "整改说明"))
		hd, _ := syncproto.ParseHLC(del.HLC)
		edit.HLC = syncproto.HLC{Wall: hd.Wall + 1000, Node: b.DeviceID}.String() // a second after the delete
		if editFirst {
			wantStatus(t, apptest.Push(t, b, edit), "applied")
			wantStatus(t, apptest.Push(t, a, del), "applied")
		} else {
			wantStatus(t, apptest.Push(t, a, del), "applied")
			wantStatus(t, apptest.Push(t, b, edit), "stale/record_deleted")
		}
		want := map[string]string{`description="删除后另一台手机的修改"`: "deleted", `rectification_note="整改说明"`: "deleted"}
		if editFirst {
			// The edit replaced the first description while the finding
			// was there: that one lost to it, as any overwrite by another.
			want[`description="删除前的描述"`] = "older"
		}
		if got := logged(f); !maps.Equal(got, want) {
			t.Errorf("edit first %v: the conflict log holds %v, want %v", editFirst, got, want)
		}
	}
}

// TestRoadsidePhotoLinks: a photo may be evidence of a roadside check and
// of an inspection (or its finding) together only when the inspection is
// of a checkpoint — the same truck on the roadside checklist, as the demo
// sends; a construction site's photo linked to a truck's check is refused
// naming vehicle_check_id (the referential probe: the truck's page listed
// it as its evidence, 11.7 km off, unflagged). Either link alone is taken.
func TestRoadsidePhotoLinks(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := newInspection(t, phone, apptest.Xinfu) // at a construction site
	finding := newFinding(t, phone, insp)
	roadside := newRoadsideInspection(t, phone)
	vc := newID()
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "G108忻州北", "plate", "晋H12345", "checked_at", "2026-11-30T09:00:00+08:00"))), "applied")
	photo := func(links ...any) syncproto.Mutation {
		return apptest.Mut(phone, syncproto.EntityPhoto, newID(), apptest.Fields(append(links, "sha256", strings.Repeat("cd", 32))...))
	}
	resp := apptest.Push(t, phone,
		photo("inspection_id", insp, "vehicle_check_id", vc),
		photo("inspection_id", insp, "finding_id", finding, "vehicle_check_id", vc),
		photo("finding_id", finding, "vehicle_check_id", vc),
		photo("inspection_id", roadside, "vehicle_check_id", vc),
		photo("inspection_id", insp, "finding_id", finding),
		photo("vehicle_check_id", vc))
	wantStatus(t, resp, "rejected/"+syncproto.CodeInvalidValue, "rejected/"+syncproto.CodeInvalidValue, "rejected/"+syncproto.CodeInvalidValue,
		"applied", "applied", "applied")
	for _, r := range resp.Results[:3] {
		if r.Field != "vehicle_check_id" {
			t.Errorf("refused naming field %q (%s), want vehicle_check_id", r.Field, r.Message)
		}
	}
	// A finding of another inspection than the photo's is refused naming
	// finding_id (it named no field).
	resp = apptest.Push(t, phone, photo("inspection_id", roadside, "finding_id", finding))
	wantStatus(t, resp, "rejected/"+syncproto.CodeInvalidValue)
	if f := resp.Results[0].Field; f != "finding_id" {
		t.Errorf("a finding of another inspection: field %q, want finding_id", f)
	}
}

// TestReviewedInspectionKept: an inspection an office has reviewed is
// evidence of that review. A returned one is corrected and submitted
// again — its findings may be withdrawn with the answers that raised
// them — but no device deletes it, whichever device and in whatever
// status the phone puts it first: it would vanish from the console, with
// its review and its overdue findings, and from a closed month's report
// (the office probe). A draft no office has seen is still given up.
func TestReviewedInspectionKept(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	other := srv.Login(apptest.Inspector) // the same inspector on a new phone
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, phone, apptest.Xinfu)
	finding := newID()
	wantStatus(t, apptest.Push(t, phone,
		apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "fence",
			"description", "围挡：不合格", "severity", "major", "status", "open", "deadline", "2026-11-29")),
		apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("answers.fence", map[string]any{"result": "fail"}, "status", "submitted"))),
		"applied", "applied")
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review",
		map[string]string{"decision": "return", "comment": "请补充照片"}, nil); err != nil {
		t.Fatal(err)
	}
	kept := "rejected/" + syncproto.CodeNotDeletable
	for _, c := range []*syncproto.Client{phone, other} {
		wantStatus(t, apptest.Push(t, c, apptest.Mut(c, syncproto.EntityFinding, newID(), apptest.Fields("inspection_id", insp,
			"item_key", "cover", "description", "裸土未覆盖", "severity", "minor", "status", "open"))), "applied")
		wantStatus(t, apptest.Push(t, c, remove(c, syncproto.EntityInspection, insp)), kept)
	}
	// Nor set back to a draft, which offices do not see: it would drop out
	// of the queue, the report and the overdue findings as a delete would
	// (office probe). The finding withdrawn with a delete of the
	// inspection in the same batch: the finding goes, the inspection stays.
	for _, c := range []*syncproto.Client{phone, other} {
		r := apptest.Push(t, c, apptest.Mut(c, syncproto.EntityInspection, insp, apptest.Fields("status", "draft", "summary", "重来")))
		wantStatus(t, r, "rejected/"+syncproto.CodeInvalidValue)
		if r.Results[0].Field != "status" {
			t.Errorf("back to a draft: field %q, want status", r.Results[0].Field)
		}
	}
	// A draft stamped before the return, sent late: it loses to the
	// status held, as any older write does, and the rest of the change
	// is taken.
	early := apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "draft", "lon", 112.7341))
	early.HLC = syncproto.HLC{Wall: time.Now().Add(-time.Hour).UnixMilli(), Node: phone.DeviceID}.String()
	if r := apptest.Push(t, phone, early).Results[0]; r.Status != "applied" || !slices.Equal(r.LostFields, []string{"status"}) {
		t.Errorf("an early draft with a new field: %s %s %v, want applied with status lost", r.Status, r.Code, r.LostFields)
	}
	wantStatus(t, apptest.Push(t, phone, remove(phone, syncproto.EntityFinding, finding), remove(phone, syncproto.EntityInspection, insp)), "applied", kept)
	r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp)
	if err != nil || r == nil || r.State.IsDeleted() || r.Text("reviewed_at") == "" {
		t.Fatalf("the returned inspection: %v %v", r, err)
	}
	// Approved, it is locked for any change, and its delete is refused
	// for good (not_deletable), not set aside until it is returned
	// (record_locked), which it never will be (sync probe).
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted"))), "applied")
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*syncproto.Client{phone, other} {
		wantStatus(t, apptest.Push(t, c, remove(c, syncproto.EntityInspection, insp)), kept)
		wantStatus(t, apptest.Push(t, c, apptest.Mut(c, syncproto.EntityInspection, insp, apptest.Fields("summary", "补充"))), "rejected/"+syncproto.CodeRecordLocked)
	}

	// A draft no office has reviewed: given up, as before.
	draft := newInspection(t, phone, apptest.Xinfu)
	wantStatus(t, apptest.Push(t, phone, remove(phone, syncproto.EntityInspection, draft)), "applied")
}

// TestReopenWithNewDeadline: an office sending a rectification back may
// give the finding a new deadline (not before today), which the phone
// pulls with the comment and the audit log records; without one the old
// deadline stays. A deadline with a verification, not a date, or before
// today is refused at the field; the other decisions take no deadline.
// The old deadline, past by then, counted a finding sent back overdue at
// once (reviewer probe).
func TestReopenWithNewDeadline(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, phone, apptest.Xinfu)
	finding := newFinding(t, phone, insp, "deadline", "2026-11-10")
	wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("status", "submitted"))), "applied")
	review := func(body map[string]any) error {
		return office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", body, nil)
	}
	if err := review(map[string]any{"decision": "approve", "deadline": "2030-01-01"}); syncproto.ErrorCodeOf(err) != syncproto.CodeUnknownField {
		t.Errorf("a review with a deadline: %v, want unknown_field", err)
	}
	if err := review(map[string]any{"decision": "approve"}); err != nil {
		t.Fatal(err)
	}
	rectified := func() {
		t.Helper()
		pullAll(t, phone, "", 500)
		wantStatus(t, apptest.Push(t, phone, apptest.Mut(phone, "finding", finding, apptest.Fields("status", "rectified"))), "applied")
	}
	decide := func(body map[string]any) error {
		return office.Do(ctx, http.MethodPost, "/api/v1/findings/"+finding+"/verify", body, nil)
	}
	deadline := func() string {
		t.Helper()
		r, err := srv.App.DB.Get(ctx, "finding", finding)
		if err != nil {
			t.Fatal(err)
		}
		return r.Text("deadline")
	}
	rectified()
	now := srv.App.Syncer.Now()
	today, later := server.ChinaDay(now), server.ChinaDay(now.AddDate(0, 0, 14))
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"with a verification", map[string]any{"decision": "verify", "deadline": later}},
		{"not a date", map[string]any{"decision": "reopen", "comment": "仍有缺口", "deadline": "12月20日"}},
		{"no such day", map[string]any{"decision": "reopen", "comment": "仍有缺口", "deadline": "2026-02-30"}},
		{"before today", map[string]any{"decision": "reopen", "comment": "仍有缺口", "deadline": server.ChinaDay(now.AddDate(0, 0, -1))}},
		{"past the last year", map[string]any{"decision": "reopen", "comment": "仍有缺口", "deadline": "2101-01-01"}},
		{"over a year ahead", map[string]any{"decision": "reopen", "comment": "仍有缺口", "deadline": server.ChinaDay(now.AddDate(1, 0, 1))}},
	} {
		err := decide(tc.body)
		var e *syncproto.APIError
		if !errors.As(err, &e) || e.Body.Code != syncproto.CodeInvalidField || e.Body.Field != "deadline" {
			t.Errorf("%s: %v, want invalid_field at deadline", tc.name, err)
		}
	}
	if d := deadline(); d != "2026-11-10" {
		t.Fatalf("refused decisions changed the deadline to %s", d)
	}
	// Sent back without one: the deadline stays; with one, today or later.
	if err := decide(map[string]any{"decision": "reopen", "comment": "仍有缺口", "deadline": ""}); err != nil {
		t.Fatal(err)
	}
	if d := deadline(); d != "2026-11-10" {
		t.Errorf("sent back without a deadline: %s, want the old one", d)
	}
	for _, d := range []string{server.ChinaDay(now.AddDate(1, 0, 0)), today, later} {
		rectified()
		if err := decide(map[string]any{"decision": "reopen", "comment": "北侧仍有缺口", "deadline": d}); err != nil {
			t.Fatalf("reopen with deadline %s: %v", d, err)
		}
		if got := deadline(); got != d {
			t.Errorf("sent back with deadline %s: stored %s", d, got)
		}
	}
	changes, _ := pullAll(t, phone, "", 500)
	pulled := false
	for _, ch := range changes {
		if ch.ID == finding {
			pulled = string(ch.Fields["deadline"]) == `"`+later+`"` && strings.Contains(string(ch.Fields["verify_comment"]), "北侧仍有缺口")
		}
	}
	if !pulled {
		t.Error("the phone did not pull the new deadline with the comment")
	}
	entries, err := srv.App.DB.AuditEntries(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	logged := false
	for _, e := range entries {
		var changes map[string]audit.Change
		if e.RecordID != finding || json.Unmarshal(e.Changes, &changes) != nil {
			continue
		}
		if c, ok := changes["deadline"]; ok && string(c.New) == `"`+later+`"` && string(c.Old) == `"`+today+`"` {
			logged = true
		}
	}
	if !logged {
		t.Error("the audit log has no change of the deadline from today's to the later one")
	}
}

// TestEarlyDeleteMovesTheClock: a delete of a record the server does not
// hold yet is refused (not_found) but kept for the record's create, its
// HLC stored: the server's clock follows it at once, as it follows every
// HLC it stores — it lagged until a restart (sync probe).
func TestEarlyDeleteMovesTheClock(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	ahead := phone.Clock.Now()
	ahead.Wall += (4 * time.Minute).Milliseconds() // within the skew the server takes
	resp := apptest.Push(t, phone, syncproto.Mutation{Entity: syncproto.EntityInspection, ID: newID(), Delete: true, HLC: ahead.String()})
	if r := resp.Results[0]; r.Code != syncproto.CodeNotFound {
		t.Fatalf("a delete of a record not there: %+v", r)
	}
	got, err := syncproto.ParseHLC(resp.ServerHLC)
	if err != nil {
		t.Fatal(err)
	}
	if got.Compare(ahead) < 0 {
		t.Errorf("server_hlc %s after keeping a delete at %s: behind an HLC it stores", got, ahead)
	}
}

package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// mergeCases: what a push stores. The rules are the Syncer's; the store
// must keep each field's value and HLC, the tombstone, the record's
// county and creator, and the conflict log exactly.
var mergeCases = []testCase{
	{"CreateKeepsEveryFieldAndItsHLC", testCreateRoundTrip},
	{"LastWriterWinsPerField", testLastWriterWins},
	{"OlderValueLoggedAsConflict", testOlderConflict},
	{"EqualHLCKeepsGreaterValue", testEqualHLC},
	{"TombstoneWins", testTombstoneWins},
	{"ServerFieldsRefusedFromDevices", testServerFieldsRefused},
	{"RetryIsDuplicate", testRetryDuplicate},
	{"ResentAfterChangesIsNotRefused", testResentAfterChanges},
	{"ReviewLocksAndUnlocks", testReview},
	{"ServerWriteWinsOverFutureStamps", testServerWriteWinsOverFuture},
}

// testServerWriteWinsOverFuture: the server's own write (an office
// decision) takes effect on every field even when its clock is behind the
// record's HLCs (a clock set back, or a mark lost).
func testServerWriteWinsOverFuture(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.s.Clock = syncproto.NewClock(syncproto.ServerNode, func() time.Time { return t0.Add(10 * time.Minute) })
	e.upsert(syncproto.EntityCounty, "149902", "", map[string]any{"code": "149902", "name": "测试", "note": "first"})
	e.s.Clock = syncproto.NewClock(syncproto.ServerNode, e.Now) // behind the stored stamps
	e.upsert(syncproto.EntityCounty, "149902", "", map[string]any{"code": "149902", "name": "测试", "note": "second"})
	if got := e.text(syncproto.EntityCounty, "149902", "note"); got != "second" {
		t.Fatalf("note = %q after the server's second write, want %q", got, "second")
	}
}

// hlcAt is an HLC of the device at t0 plus ms milliseconds.
func (d *device) hlcAt(ms int64) syncproto.HLC {
	return syncproto.HLC{Wall: t0.UnixMilli() + ms, Node: d.p.DeviceID}
}

func testCreateRoundTrip(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "砖厂")
	insp := uuid.NewString()
	h := d.hlcAt(1000)
	values := map[string]any{
		"site_id": site, "template_id": "coal_yard", "template_version": 1,
		"started_at": "2026-11-20T09:00:00+08:00", "status": "draft",
		"summary": "料棚\"未\"封闭 \\ 100% _x_ 🚧", "lon": 112.5, "lat": 38.25,
		"answers.closed_shed": map[string]any{"result": "fail", "note": "东侧敞开"},
	}
	d.pushOK(d.mutAt(h, syncproto.EntityInspection, insp, values))

	r := e.get(syncproto.EntityInspection, insp)
	if r == nil {
		t.Fatal("created inspection not found")
	}
	if r.Entity == nil || r.Entity.Name != syncproto.EntityInspection || r.ID != insp {
		t.Errorf("entity %v id %q", r.Entity, r.ID)
	}
	if r.County != xinfu || r.CreatedBy != d.p.UserID || r.CreatedDevice != d.p.DeviceID {
		t.Errorf("county %q created by %q on %q", r.County, r.CreatedBy, r.CreatedDevice)
	}
	if !r.CreatedAt.Equal(t0) || !r.UpdatedAt.Equal(t0) {
		t.Errorf("created %v updated %v, want %v", r.CreatedAt, r.UpdatedAt, t0)
	}
	if r.Seq <= 0 || r.State.IsDeleted() {
		t.Errorf("seq %d deleted %v", r.Seq, r.State.Deleted)
	}
	for name, v := range values {
		want, _ := json.Marshal(v)
		st, ok := r.State.Fields[name]
		switch {
		case !ok:
			t.Errorf("field %s not stored", name)
		case !jsonEq(st.Value, want):
			t.Errorf("field %s = %s, want %s", name, st.Value, want)
		case st.HLC != h:
			t.Errorf("field %s HLC %s, want %s", name, st.HLC, h)
		}
	}
	if got := r.Text("summary"); got != values["summary"] {
		t.Errorf("summary %q", got)
	}
	// Every read path returns the same record.
	for _, c := range e.feed(server.Scope{Counties: []string{xinfu}}, 0, 1000) {
		if c.ID == insp {
			sameRecord(t, "feed", c, r)
		}
	}
	found, err := e.st.Find(e.ctx, syncproto.EntityInspection, "site_id", site)
	if err != nil || len(found) != 1 {
		t.Fatalf("find: %v %v", ids(found), err)
	}
	sameRecord(t, "find", found[0], r)
	err = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		in, err := tx.Get(e.ctx, server.EntityByName(syncproto.EntityInspection), insp)
		if err == nil {
			sameRecord(t, "write transaction", in, r)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The server's own field, computed in the same write.
	if _, ok := r.State.Fields["missing_items"]; !ok {
		t.Errorf("missing_items not computed at creation: fields %v", fieldNames(r))
	}
}

// sameRecord compares two copies of a record.
func sameRecord(t *testing.T, what string, got, want *server.StoredRecord) {
	t.Helper()
	if got.Entity != want.Entity || got.ID != want.ID || got.County != want.County || got.Seq != want.Seq ||
		got.CreatedDevice != want.CreatedDevice || got.CreatedBy != want.CreatedBy || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.UpdatedAt.Equal(want.UpdatedAt) || got.State.Deleted != want.State.Deleted || len(got.State.Fields) != len(want.State.Fields) {
		t.Errorf("%s: record %+v, want %+v", what, got, want)
		return
	}
	for name, st := range want.State.Fields {
		if g := got.State.Fields[name]; g.HLC != st.HLC || !jsonEq(g.Value, st.Value) {
			t.Errorf("%s: field %s = %s at %s, want %s at %s", what, name, g.Value, g.HLC, st.Value, st.HLC)
		}
	}
}

func fieldNames(r *server.StoredRecord) []string {
	var out []string
	for k := range r.State.Fields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func testLastWriterWins(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b := e.inspector(xinfu), e.inspector(xinfu)
	site := a.site(xinfu, "甲")
	// b writes name later, a writes address later: each field keeps its
	// own newest value, whatever the order of arrival.
	b.pushOK(b.mutAt(b.hlcAt(3000), syncproto.EntitySite, site, map[string]any{"name": "乙改", "address": "乙地址"}))
	res := a.push(a.mutAt(a.hlcAt(2000), syncproto.EntitySite, site, map[string]any{"name": "甲改", "address": "甲地址"}))
	_ = res
	res = a.push(a.mutAt(a.hlcAt(4000), syncproto.EntitySite, site, map[string]any{"address": "甲新地址"}))
	if r := res.Results[0]; r.Status != syncproto.StatusApplied {
		t.Fatalf("newer address: %+v", r)
	}
	r := e.get(syncproto.EntitySite, site)
	if r.Text("name") != "乙改" || r.Text("address") != "甲新地址" {
		t.Errorf("name %q address %q, want 乙改 甲新地址", r.Text("name"), r.Text("address"))
	}
	if h := r.State.Fields["name"].HLC; h != b.hlcAt(3000) {
		t.Errorf("name HLC %s", h)
	}
	if h := r.State.Fields["address"].HLC; h != a.hlcAt(4000) {
		t.Errorf("address HLC %s", h)
	}
	if r.Text("kind") != "factory" || r.County != xinfu {
		t.Errorf("untouched fields changed: kind %q county %q", r.Text("kind"), r.County)
	}
}

func testOlderConflict(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b := e.inspector(xinfu), e.inspector(xinfu)
	site := a.site(xinfu, "甲")
	a.pushOK(a.mutAt(a.hlcAt(1000), syncproto.EntitySite, site, map[string]any{"note": "a1"}))
	e.advance(time.Second)
	// b's newer write replaces a's value: a's is logged, as a's.
	b.pushOK(b.mutAt(b.hlcAt(2000), syncproto.EntitySite, site, map[string]any{"note": "b"}))
	e.advance(time.Second)
	// a's older write loses on arrival.
	res := a.push(a.mutAt(a.hlcAt(1500), syncproto.EntitySite, site, map[string]any{"note": "a0"}))
	if r := res.Results[0]; r.Status != syncproto.StatusStale || !slices.Equal(r.LostFields, []string{"note"}) {
		t.Errorf("older write: %+v, want stale with lost note", r)
	}
	if got := e.text(syncproto.EntitySite, site, "note"); got != "b" {
		t.Errorf("note %q, want b", got)
	}
	cs, err := e.st.Conflicts(e.ctx, server.Scope{All: true}, syncproto.EntitySite, site, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("conflicts %+v, want 2", cs)
	}
	// Newest first.
	want := []server.Conflict{
		{Entity: syncproto.EntitySite, RecordID: site, County: xinfu, Field: "note", Value: json.RawMessage(`"a0"`),
			HLC: a.hlcAt(1500).String(), WinnerHLC: b.hlcAt(2000).String(), Reason: server.ConflictOlder,
			DeviceID: a.p.DeviceID, UserID: a.p.UserID, At: t0.Add(2 * time.Second)},
		{Entity: syncproto.EntitySite, RecordID: site, County: xinfu, Field: "note", Value: json.RawMessage(`"a1"`),
			HLC: a.hlcAt(1000).String(), WinnerHLC: b.hlcAt(2000).String(), Reason: server.ConflictOlder,
			DeviceID: a.p.DeviceID, UserID: "", At: t0.Add(time.Second)},
	}
	for i := range want {
		checkConflict(t, cs[i], want[i])
	}
	if cs[0].ID <= cs[1].ID {
		t.Errorf("conflict ids %d, %d: newest first has the greater id", cs[0].ID, cs[1].ID)
	}
	// The filters: another record, another entity, another county's scope.
	for _, q := range []struct {
		scope          server.Scope
		entity, record string
		want           int
	}{
		{server.Scope{All: true}, syncproto.EntitySite, uuid.NewString(), 0},
		{server.Scope{All: true}, syncproto.EntityInspection, "", 0},
		{server.Scope{All: true}, "", "", 2},
		{server.Scope{Counties: []string{xinfu}}, "", "", 2},
		{server.Scope{Counties: []string{dingxia}}, "", "", 0},
		{server.Scope{All: true}, "", "", 2},
	} {
		cs, err := e.st.Conflicts(e.ctx, q.scope, q.entity, q.record, 10)
		if err != nil || len(cs) != q.want {
			t.Errorf("conflicts %+v %q %q: %d %v, want %d", q.scope, q.entity, q.record, len(cs), err, q.want)
		}
	}
	if cs, err := e.st.Conflicts(e.ctx, server.Scope{All: true}, "", "", 1); err != nil || len(cs) != 1 || string(cs[0].Value) != `"a0"` {
		t.Errorf("conflicts limit 1: %+v %v", cs, err)
	}
	// a sends both its writes again under new batch ids (sync.md §5.2):
	// they lose again, and the log keeps one entry per loss.
	for range 2 {
		for _, m := range []syncproto.Mutation{
			a.mutAt(a.hlcAt(1000), syncproto.EntitySite, site, map[string]any{"note": "a1"}),
			a.mutAt(a.hlcAt(1500), syncproto.EntitySite, site, map[string]any{"note": "a0"}),
		} {
			if r := a.push(m).Results[0]; r.Status != syncproto.StatusStale {
				t.Errorf("write sent again: %+v, want stale", r)
			}
		}
	}
	if cs, err := e.st.Conflicts(e.ctx, server.Scope{All: true}, syncproto.EntitySite, site, 10); err != nil || len(cs) != 2 {
		t.Errorf("conflicts after the writes were sent again: %d %v, want the 2 losses", len(cs), err)
	}
	// The same value lost at another HLC is another loss.
	a.push(a.mutAt(a.hlcAt(1700), syncproto.EntitySite, site, map[string]any{"note": "a0"}))
	if cs, err := e.st.Conflicts(e.ctx, server.Scope{All: true}, syncproto.EntitySite, site, 10); err != nil || len(cs) != 3 {
		t.Errorf("conflicts after another loss of the same value: %d %v, want 3", len(cs), err)
	}
}

func checkConflict(t *testing.T, got, want server.Conflict) {
	t.Helper()
	if got.Entity != want.Entity || got.RecordID != want.RecordID || got.County != want.County || got.Field != want.Field ||
		!jsonEq(got.Value, want.Value) || got.HLC != want.HLC || got.WinnerHLC != want.WinnerHLC || got.Reason != want.Reason ||
		got.DeviceID != want.DeviceID || got.UserID != want.UserID || !got.At.Equal(want.At) {
		t.Errorf("conflict\n got %+v (value %s)\nwant %+v (value %s)", got, got.Value, want, want.Value)
	}
}

func testEqualHLC(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "甲")
	h := d.hlcAt(5000)
	d.pushOK(d.mutAt(h, syncproto.EntitySite, site, map[string]any{"note": "m"}))
	// The same HLC with a greater value wins; with a lesser one loses.
	d.pushOK(d.mutAt(h, syncproto.EntitySite, site, map[string]any{"note": "y"}))
	res := d.push(d.mutAt(h, syncproto.EntitySite, site, map[string]any{"note": "a"}))
	if r := res.Results[0]; r.Status != syncproto.StatusStale || !slices.Equal(r.LostFields, []string{"note"}) {
		t.Errorf("lesser value at the same HLC: %+v", r)
	}
	r := e.get(syncproto.EntitySite, site)
	if r.Text("note") != "y" || r.State.Fields["note"].HLC != h {
		t.Errorf("note %q at %s, want y at %s", r.Text("note"), r.State.Fields["note"].HLC, h)
	}
	cs, err := e.st.Conflicts(e.ctx, server.Scope{All: true}, syncproto.EntitySite, site, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("conflicts %+v", cs)
	}
	for i, v := range []string{`"a"`, `"m"`} {
		checkConflict(t, cs[i], server.Conflict{Entity: syncproto.EntitySite, RecordID: site, County: xinfu, Field: "note",
			Value: json.RawMessage(v), HLC: h.String(), WinnerHLC: h.String(), Reason: server.ConflictEqualHLC,
			DeviceID: d.p.DeviceID, UserID: []string{d.p.UserID, ""}[i], At: t0})
	}
}

// newInspection creates a draft inspection at a new site of county.
func (d *device) newInspection(county string) (site, insp string) {
	d.e.t.Helper()
	site = d.site(county, "检查点")
	insp = uuid.NewString()
	d.pushOK(d.mut(syncproto.EntityInspection, insp, map[string]any{
		"site_id": site, "template_id": "coal_yard", "template_version": 1,
		"started_at": "2026-11-20T09:00:00+08:00", "status": "draft"}))
	return site, insp
}

func testTombstoneWins(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b := e.inspector(xinfu), e.inspector(xinfu)
	_, insp := a.newInspection(xinfu)
	before := e.get(syncproto.EntityInspection, insp)
	del := a.hlcAt(2000)
	a.pushOK(syncproto.Mutation{Entity: syncproto.EntityInspection, ID: insp, Delete: true, HLC: del.String()})
	r := e.get(syncproto.EntityInspection, insp)
	if r == nil || r.State.Deleted != del || r.Seq <= before.Seq {
		t.Fatalf("after delete: %+v", r)
	}
	// A newer field write after the delete is kept out of sight and logged.
	res := b.push(b.mutAt(b.hlcAt(3000), syncproto.EntityInspection, insp, map[string]any{"summary": "晚到的修改"}))
	if r := res.Results[0]; r.Status != syncproto.StatusStale || r.Code != syncproto.CodeRecordDeleted {
		t.Errorf("write to a deleted record: %+v", r)
	}
	// An older delete changes nothing.
	res = b.push(syncproto.Mutation{Entity: syncproto.EntityInspection, ID: insp, Delete: true, HLC: b.hlcAt(1500).String()})
	if r := res.Results[0]; r.Status == syncproto.StatusApplied {
		t.Errorf("older delete: %+v", r)
	}
	r = e.get(syncproto.EntityInspection, insp)
	if r.State.Deleted != del {
		t.Errorf("tombstone %s, want %s", r.State.Deleted, del)
	}
	cs, err := e.st.Conflicts(e.ctx, server.Scope{All: true}, syncproto.EntityInspection, insp, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("conflicts %+v %v", cs, err)
	}
	checkConflict(t, cs[0], server.Conflict{Entity: syncproto.EntityInspection, RecordID: insp, County: xinfu, Field: "summary",
		Value: json.RawMessage(`"晚到的修改"`), HLC: b.hlcAt(3000).String(), WinnerHLC: del.String(), Reason: server.ConflictDeleted,
		DeviceID: b.p.DeviceID, UserID: b.p.UserID, At: t0})
	// The feed carries the tombstone, once.
	var n int
	for _, c := range e.feed(server.Scope{All: true}, 0, 100) {
		if c.ID == insp {
			n++
			if c.State.Deleted != del {
				t.Errorf("feed: %s not a tombstone at %s", insp, del)
			}
		}
	}
	if n != 1 {
		t.Errorf("feed has the inspection %d times", n)
	}
	// A delete of a record that does not exist is refused and stores
	// nothing.
	ghost := uuid.NewString()
	res = a.push(a.del(syncproto.EntityInspection, ghost))
	if r := res.Results[0]; r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeNotFound {
		t.Errorf("delete of nothing: %+v", r)
	}
	if r := e.get(syncproto.EntityInspection, ghost); r != nil {
		t.Errorf("delete of nothing stored %+v", r)
	}
}

func testServerFieldsRefused(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	_, insp := d.newInspection(xinfu)
	seq := e.lastSeq()
	photo := uuid.NewString()
	res := d.push(
		d.mut(syncproto.EntityPhoto, photo, map[string]any{"inspection_id": insp, "sha256": sha(1), "uploaded": true}),
		d.mut(syncproto.EntityInspection, insp, map[string]any{"status": "approved"}),
		d.mut(syncproto.EntityInspection, insp, map[string]any{"reviewer_id": d.p.UserID}),
		d.mut(syncproto.EntityCounty, xinfu, map[string]any{"name": "改名"}),
		d.mut(syncproto.EntityInspection, insp, map[string]any{"created_by": "someone"}),
		d.mut(syncproto.EntitySite, uuid.NewString(), map[string]any{"county": dingxia, "kind": "factory", "name": "越界"}),
	)
	for i, want := range []string{syncproto.CodeServerOwnedField, syncproto.CodeInvalidValue, syncproto.CodeServerOwnedField,
		syncproto.CodeReadOnlyEntity, syncproto.CodeServerOwnedField, syncproto.CodeOutOfScope} {
		if r := res.Results[i]; r.Status != syncproto.StatusRejected || r.Code != want {
			t.Errorf("mutation %d: %+v, want rejected %s", i, r, want)
		}
	}
	if r := e.get(syncproto.EntityPhoto, photo); r != nil {
		t.Errorf("refused photo stored: %+v", r)
	}
	if got := e.text(syncproto.EntityInspection, insp, "status"); got != "draft" {
		t.Errorf("status %q", got)
	}
	if got := e.lastSeq(); got != seq {
		t.Errorf("refused mutations moved the feed from %d to %d", seq, got)
	}
}

func testRetryDuplicate(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "甲")
	m := d.mut(syncproto.EntitySite, site, map[string]any{"note": "一次"})
	d.pushOK(m)
	r1 := e.get(syncproto.EntitySite, site)
	// The same mutation in another batch (a lost response): duplicate,
	// no new change.
	res := d.push(m)
	if r := res.Results[0]; r.Status != syncproto.StatusDuplicate {
		t.Errorf("retry: %+v", r)
	}
	r2 := e.get(syncproto.EntitySite, site)
	if r2.Seq != r1.Seq {
		t.Errorf("retry moved seq %d → %d", r1.Seq, r2.Seq)
	}
	if cs, _ := e.st.Conflicts(e.ctx, server.Scope{All: true}, "", "", 10); len(cs) != 0 {
		t.Errorf("retry logged conflicts %+v", cs)
	}
}

// testResentAfterChanges: a device's batch sent again under a new batch
// id after what it did has changed the records (the inspection it
// submitted is locked) or after its user's counties changed is answered
// duplicate, or stale where its own later writes replaced a value — not
// refused record_locked or out_of_scope, which would tell the phone to
// keep aside work the server holds (sync.md 5.2). What it did not send
// before is still refused, and nothing is logged or stored again.
func testResentAfterChanges(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "甲")
	insp, finding := uuid.NewString(), uuid.NewString()
	sent := []syncproto.Mutation{
		d.mut(syncproto.EntityInspection, insp, map[string]any{"site_id": site, "template_id": "coal_yard", "template_version": 1,
			"started_at": "2026-11-20T09:00:00+08:00", "status": "draft"}),
		d.mut(syncproto.EntityFinding, finding, map[string]any{"inspection_id": insp, "description": "料棚未封闭",
			"deadline": "2026-12-31", "status": "open"}),
		d.mut(syncproto.EntityInspection, insp, map[string]any{"status": "submitted"}),
	}
	d.pushOK(sent...)
	seq := e.lastSeq()
	want := []string{syncproto.StatusStale, syncproto.StatusDuplicate, syncproto.StatusDuplicate}
	check := func(when string) {
		t.Helper()
		res := d.push(sent...)
		for i, r := range res.Results {
			if r.Status != want[i] || r.Code != "" {
				t.Errorf("%s: mutation %d answered %s %s (%s), want %s", when, i, r.Status, r.Code, r.Message, want[i])
			}
		}
		if r := res.Results[0]; !slices.Equal(r.LostFields, []string{"status"}) {
			t.Errorf("%s: the create's lost fields %v, want [status] (its own later submit)", when, r.LostFields)
		}
		if r := res.Results[2]; r.Status == syncproto.StatusStale && !slices.Equal(r.LostFields, []string{"status"}) {
			t.Errorf("%s: the submit's lost fields %v, want [status] (the office's decision)", when, r.LostFields)
		}
		if got := e.lastSeq(); got != seq {
			t.Errorf("%s: the resent batch moved the feed from %d to %d", when, seq, got)
		}
		if cs, _ := e.st.Conflicts(e.ctx, server.Scope{All: true}, "", "", 10); len(cs) != 0 {
			t.Errorf("%s: the resent batch logged conflicts %+v", when, cs)
		}
	}
	check("submitted")
	// A new change is still refused as locked.
	res := d.push(d.mut(syncproto.EntityInspection, insp, map[string]any{"summary": "提交后修改"}))
	if r := res.Results[0]; r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeRecordLocked {
		t.Errorf("a new change of the submitted inspection: %+v, want rejected record_locked", r)
	}

	// Approved by the office (its decision overwrote the status the
	// device sent): the same batch again is stale, not record_locked, and
	// the status it lost to the decision is no conflict.
	if _, err := e.s.Review(e.ctx, e.office(server.RoleCountyOffice, xinfu), insp, server.DecisionApprove, "", server.Seen{}); err != nil {
		t.Fatal(err)
	}
	seq = e.lastSeq()
	want = []string{syncproto.StatusStale, syncproto.StatusDuplicate, syncproto.StatusStale}
	check("approved")

	// The user moved to another county: the same batch again, the same
	// answers; a new change is out of scope.
	if err := e.st.SetUserCounties(e.ctx, d.p.Username, []string{dingxia}); err != nil {
		t.Fatal(err)
	}
	p, err := e.st.Principal(e.ctx, d.p.UserID, d.p.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	d.p = p
	check("moved to another county")
	res = d.push(d.mut(syncproto.EntityFinding, finding, map[string]any{"rectification_note": "已整改"}))
	if r := res.Results[0]; r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeOutOfScope {
		t.Errorf("a new change out of scope: %+v, want rejected out_of_scope", r)
	}
}

func testReview(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	_, insp := d.newInspection(xinfu)
	reviewer := e.office(server.RoleCountyOffice, xinfu)
	other := e.office(server.RoleCountyOffice, dingxia)

	_, err := e.s.Review(e.ctx, reviewer, insp, server.DecisionApprove, "", server.Seen{})
	wantCode(t, err, syncproto.CodeConflict, "approve a draft")
	d.pushOK(d.mut(syncproto.EntityInspection, insp, map[string]any{"status": "submitted"}))
	_, err = e.s.Review(e.ctx, other, insp, server.DecisionApprove, "", server.Seen{})
	wantCode(t, err, syncproto.CodeOutOfScope, "approve another county's")
	_, err = e.s.Review(e.ctx, reviewer, uuid.NewString(), server.DecisionApprove, "", server.Seen{})
	wantCode(t, err, syncproto.CodeNotFound, "approve nothing")

	e.advance(time.Minute)
	ch, err := e.s.Review(e.ctx, reviewer, insp, server.DecisionReturn, "补拍照片", server.Seen{})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Fields["status"] == nil || string(ch.Fields["status"]) != `"returned"` {
		t.Errorf("review change %+v", ch.Fields)
	}
	r := e.get(syncproto.EntityInspection, insp)
	if r.Text("status") != "returned" || r.Text("review_comment") != "补拍照片" || r.Text("reviewer_id") != reviewer.UserID {
		t.Errorf("returned inspection: status %q comment %q reviewer %q", r.Text("status"), r.Text("review_comment"), r.Text("reviewer_id"))
	}
	reviews, err := e.st.Find(e.ctx, syncproto.EntityReview, "inspection_id", insp)
	if err != nil || len(reviews) != 1 || reviews[0].Text("decision") != "return" || reviews[0].County != xinfu {
		t.Fatalf("review records %v %v", reviews, err)
	}
	// Returned: the inspector edits and submits again; approved locks it.
	e.advance(time.Second)
	d.pushOK(d.mut(syncproto.EntityInspection, insp, map[string]any{"summary": "已补拍", "status": "submitted"}))
	if _, err := e.s.Review(e.ctx, reviewer, insp, server.DecisionApprove, "", server.Seen{}); err != nil {
		t.Fatal(err)
	}
	res := d.push(d.mut(syncproto.EntityInspection, insp, map[string]any{"summary": "再改"}))
	if r := res.Results[0]; r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeRecordLocked {
		t.Errorf("edit of an approved inspection: %+v", r)
	}
	if got := e.text(syncproto.EntityInspection, insp, "summary"); got != "已补拍" {
		t.Errorf("summary %q", got)
	}
}

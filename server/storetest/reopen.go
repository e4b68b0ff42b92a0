package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Reopener makes a fresh, empty database and returns a function that
// opens a new handle on it each time it is called. The suite closes every
// handle it opens; it holds two at once only in TwoHandlesShareTheSequence
// (a server and a command-line tool, or two servers, on one database).
type Reopener func(t testing.TB) (open func() server.Store)

// RunReopen runs the part of the suite that needs a restart: what must
// survive closing the store and opening it again.
func RunReopen(t *testing.T, r Reopener) {
	t.Run("Reopen", func(t *testing.T) {
		t.Run("KeepsFeedClockAndAnswers", func(t *testing.T) { testReopen(t, r) })
		t.Run("TwoHandlesShareTheSequence", func(t *testing.T) { testTwoHandles(t, r) })
	})
}

func testReopen(t *testing.T, r Reopener) {
	reopen := r(t)
	var st server.Store
	open := func(t testing.TB) server.Store {
		st = reopen()
		return st
	}
	t.Cleanup(func() {
		if st != nil {
			st.Close()
		}
	})
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "甲")
	ahead := syncproto.HLC{Wall: t0.Add(4 * time.Minute).UnixMilli(), Counter: 7, Node: d.p.DeviceID}
	batch := uuid.NewString()
	m := d.mutAt(ahead, syncproto.EntitySite, site, map[string]any{"note": "重启前"})
	first, err := d.pushBatch(batch, m)
	if err != nil {
		t.Fatal(err)
	}
	// The server answers many requests while its clock runs ahead of
	// physical time (it observed the device's HLC): their timestamps climb
	// past the stored write's.
	var answered syncproto.HLC
	for range 300 {
		if answered, err = syncproto.ParseHLC(e.s.ServerHLC()); err != nil {
			t.Fatal(err)
		}
	}
	if answered.Compare(ahead) <= 0 {
		t.Fatalf("answered %s, not past %s", answered, ahead)
	}
	epoch, seq := e.st.Epoch(), e.lastSeq()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = nil

	// A new server process on the same database.
	e2 := &env{t: t, ctx: context.Background(), st: reopen(), now: t0.Add(time.Minute)}
	st = e2.st
	e2.s = server.NewSyncer(e2.st, e2.Now)
	if e2.st.Epoch() != epoch {
		t.Errorf("epoch %q → %q across reopen", epoch, e2.st.Epoch())
	}
	if h, err := e2.st.HighHLC(e2.ctx); err != nil || h.Compare(ahead) < 0 {
		t.Errorf("HighHLC after reopen %s %v, want at least %s", h, err, ahead)
	}
	if err := e2.s.RestoreClock(e2.ctx); err != nil {
		t.Fatal(err)
	}
	if h, err := syncproto.ParseHLC(e2.s.ServerHLC()); err != nil || h.Compare(answered) <= 0 {
		t.Errorf("first answer after the restart %s (%v) not past the last before it %s", h, err, answered)
	}
	if got := e2.text(syncproto.EntitySite, site, "note"); got != "重启前" {
		t.Errorf("note %q after reopen", got)
	}
	// The device's session and the batch's answer survive.
	p, err := e2.st.Principal(e2.ctx, d.p.UserID, d.p.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	d2 := &device{e: e2, p: p, clock: d.clock}
	again, err := d2.pushBatch(batch, m)
	if err != nil || !again.Replayed || !reflect.DeepEqual(again.Results, first.Results) {
		t.Errorf("retry after reopen: %+v %v", again, err)
	}
	// Sequence numbers continue past the last one.
	e2.upsert(syncproto.EntityCounty, xinfu, "", map[string]any{"note": "重启后"})
	if got := e2.get(syncproto.EntityCounty, xinfu).Seq; got <= seq {
		t.Errorf("seq after reopen %d, not after %d", got, seq)
	}
	// A server write after the restart is newer than the device's write
	// that ran ahead.
	e2.upsert(syncproto.EntitySite, site, xinfu, map[string]any{"note": "服务器"})
	rec := e2.get(syncproto.EntitySite, site)
	if rec.Text("note") != "服务器" || rec.State.Fields["note"].HLC.Compare(ahead) <= 0 {
		t.Errorf("server write after restart: %q at %s", rec.Text("note"), rec.State.Fields["note"].HLC)
	}
}

// testTwoHandles: two handles on one database never hand out the same
// sequence number.
func testTwoHandles(t *testing.T, r Reopener) {
	reopen := r(t)
	a, b := reopen(), reopen()
	t.Cleanup(func() { a.Close(); b.Close() })
	ea := &env{t: t, ctx: context.Background(), st: a, now: t0}
	ea.s = server.NewSyncer(a, ea.Now)
	eb := &env{t: t, ctx: context.Background(), st: b, now: t0}
	eb.s = server.NewSyncer(b, eb.Now)
	ea.upsert(syncproto.EntityCounty, xinfu, "", map[string]any{"code": xinfu, "note": "a"})
	eb.upsert(syncproto.EntityCounty, dingxia, "", map[string]any{"code": dingxia, "note": "b"})
	ea.upsert(syncproto.EntityCounty, yuanpin, "", map[string]any{"code": yuanpin, "note": "a"})
	seen := map[int64]string{}
	for _, code := range []string{xinfu, dingxia, yuanpin} {
		seq := ea.get(syncproto.EntityCounty, code).Seq
		if other, dup := seen[seq]; dup {
			t.Fatalf("%s and %s share seq %d", code, other, seq)
		}
		seen[seq] = code
	}
}

package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Opener returns a fresh, empty, migrated store for each call. The opener
// closes it when t ends (t.Cleanup).
type Opener func(t testing.TB) server.Store

// Run runs the conformance suite against the stores open makes, one
// subtest per part of the contract.
func Run(t *testing.T, open Opener) {
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, open) })
			}
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, open Opener)
}

type group struct {
	name  string
	cases []testCase
}

// groups lists the parts of the contract, each in its own file.
var groups = []group{
	{"Merge", mergeCases},
	{"Feed", feedCases},
	{"Wire", wireCases},
	{"Scope", scopeCases},
	{"Batches", batchCases},
	{"Users", userCases},
	{"DeviceSessions", deviceSessionCases},
	{"ConsoleSessions", consoleSessionCases},
	{"Photos", photoCases},
	{"Office", officeCases},
	{"Records", recordCases},
	{"Completeness", completenessCases},
	{"Shared", sharedCases},
	{"DeviceKeys", deviceKeyCases},
	{"Audit", auditCases},
	{"EarlyDeletes", earlyDeleteCases},
}

// The counties of the seed set the suite uses.
const (
	xinfu   = "140902" // 忻府区
	dingxia = "140921" // 定襄县
	yuanpin = "140981" // 原平市
)

// t0 is the suite's start of time (whole milliseconds: stores keep
// milliseconds).
var t0 = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

// env is one subtest's store, the server's Syncer over it, and the clock
// both share.
type env struct {
	t   testing.TB
	ctx context.Context
	st  server.Store
	s   *server.Syncer

	mu  sync.Mutex
	now time.Time
}

// newEnv opens a store with a Syncer whose clock starts at t0.
func newEnv(t testing.TB, open Opener) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: open(t), now: t0}
	e.s = server.NewSyncer(e.st, e.Now)
	return e
}

// seeded is newEnv with the reference data loaded.
func seeded(t testing.TB, open Opener) *env {
	t.Helper()
	e := newEnv(t, open)
	e.loadReference()
	return e
}

// Now is the subtest's clock.
func (e *env) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// advance moves the clock on.
func (e *env) advance(d time.Duration) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
	return e.now
}

// loadReference writes the seed set's counties, checklists and tasks
// (server.LoadReference).
func (e *env) loadReference() {
	e.t.Helper()
	set, err := seeds.Load()
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := server.LoadReference(e.ctx, e.s, set); err != nil {
		e.t.Fatal(err)
	}
}

// upsert writes one record with the server's write path, in its own
// transaction.
func (e *env) upsert(entity, id, county string, values map[string]any) {
	e.t.Helper()
	if err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		return e.s.Upsert(e.ctx, tx, entity, id, county, values)
	}); err != nil {
		e.t.Fatalf("upsert %s %s: %v", entity, id, err)
	}
}

// user creates a user (password hash "hash-"+username).
func (e *env) user(username string, role server.Role, counties ...string) *server.User {
	e.t.Helper()
	u := &server.User{ID: uuid.NewString(), Username: username, DisplayName: "名" + username, Role: role,
		Counties: counties, CreatedAt: e.Now()}
	if err := e.st.CreateUser(e.ctx, u, "hash-"+username); err != nil {
		e.t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// device is a phone signed in as a user: its principal as the store
// loads it and its own HLC clock.
type device struct {
	e     *env
	p     *server.Principal
	clock *syncproto.Clock
}

// signIn registers a new device for u and loads its principal.
func (e *env) signIn(u *server.User) *device {
	e.t.Helper()
	d := &server.Device{ID: uuid.Must(uuid.NewV7()).String(), UserID: u.ID, Name: "phone", CreatedAt: e.Now()}
	if _, err := e.st.RegisterDevice(e.ctx, d, "refresh-"+d.ID, e.Now().Add(24*time.Hour)); err != nil {
		e.t.Fatalf("register device: %v", err)
	}
	p, err := e.st.Principal(e.ctx, u.ID, d.ID)
	if err != nil {
		e.t.Fatalf("principal: %v", err)
	}
	return &device{e: e, p: p, clock: syncproto.NewClock(d.ID, e.Now)}
}

// Inspector creates in st an inspector of county signed in on one new
// device and returns its principal, for a store's own tests and
// benchmarks that push as a phone.
func Inspector(tb testing.TB, st server.Store, county string) *server.Principal {
	tb.Helper()
	e := &env{t: tb, ctx: context.Background(), st: st, now: time.Now()}
	return e.inspector(county).p
}

// inspector is a new inspector of counties signed in on a new device.
func (e *env) inspector(counties ...string) *device {
	e.t.Helper()
	return e.signIn(e.user("insp-"+uuid.NewString()[:8], server.RoleInspector, counties...))
}

// office is a principal of the given role (no device) for office reads
// and reviews.
func (e *env) office(role server.Role, counties ...string) *server.Principal {
	e.t.Helper()
	u := e.user("office-"+uuid.NewString()[:8], role, counties...)
	d := e.signIn(u)
	return d.p
}

// mut is a mutation setting fields, stamped now by the device's clock.
func (d *device) mut(entity, id string, fields map[string]any) syncproto.Mutation {
	return d.mutAt(d.clock.Now(), entity, id, fields)
}

// mutAt is a mutation stamped h.
func (d *device) mutAt(h syncproto.HLC, entity, id string, fields map[string]any) syncproto.Mutation {
	m := syncproto.Mutation{Entity: entity, ID: id, HLC: h.String(), Fields: map[string]json.RawMessage{}}
	for k, v := range fields {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		m.Fields[k] = b
	}
	return m
}

// del is a delete stamped now.
func (d *device) del(entity, id string) syncproto.Mutation {
	return syncproto.Mutation{Entity: entity, ID: id, Delete: true, HLC: d.clock.Now().String()}
}

// pushBatch pushes mutations as one batch with the given id.
func (d *device) pushBatch(batchID string, ms ...syncproto.Mutation) (*syncproto.PushResponse, error) {
	return d.e.s.Push(d.e.ctx, d.p, &syncproto.PushRequest{DeviceID: d.p.DeviceID, BatchID: batchID, Mutations: ms})
}

// push pushes mutations as a new batch and fails the test on an error.
func (d *device) push(ms ...syncproto.Mutation) *syncproto.PushResponse {
	d.e.t.Helper()
	resp, err := d.pushBatch(uuid.NewString(), ms...)
	if err != nil {
		d.e.t.Fatalf("push: %v", err)
	}
	if len(resp.Results) != len(ms) {
		d.e.t.Fatalf("push: %d results for %d mutations", len(resp.Results), len(ms))
	}
	return resp
}

// pushOK pushes and requires every result to be applied.
func (d *device) pushOK(ms ...syncproto.Mutation) {
	d.e.t.Helper()
	for i, r := range d.push(ms...).Results {
		if r.Status != syncproto.StatusApplied {
			d.e.t.Fatalf("mutation %d (%s %s): %s %s %s", i, r.Entity, r.ID, r.Status, r.Code, r.Message)
		}
	}
}

// site creates a site in county by the device and returns its id.
func (d *device) site(county, name string) string {
	d.e.t.Helper()
	id := uuid.NewString()
	d.pushOK(d.mut(syncproto.EntitySite, id, map[string]any{"county": county, "kind": "factory", "name": name,
		"lon": 112.73, "lat": 38.42, "crs": "wgs84"}))
	return id
}

// get reads a record, failing the test on an error.
func (e *env) get(entity, id string) *server.StoredRecord {
	e.t.Helper()
	r, err := e.st.Get(e.ctx, entity, id)
	if err != nil {
		e.t.Fatalf("get %s %s: %v", entity, id, err)
	}
	return r
}

// text is a record's text field, failing the test if the record is absent.
func (e *env) text(entity, id, field string) string {
	e.t.Helper()
	r := e.get(entity, id)
	if r == nil {
		e.t.Fatalf("%s %s absent", entity, id)
	}
	return r.Text(field)
}

// feed reads the whole change feed in scope in pages of limit.
func (e *env) feed(scope server.Scope, after int64, limit int) []*server.StoredRecord {
	e.t.Helper()
	var out []*server.StoredRecord
	for range 100000 {
		page, more, err := e.st.Changes(e.ctx, scope, after, limit)
		if err != nil {
			e.t.Fatalf("changes after %d: %v", after, err)
		}
		if len(page) > limit {
			e.t.Fatalf("changes: %d records for limit %d", len(page), limit)
		}
		for _, r := range page {
			if r.Seq <= after {
				e.t.Fatalf("changes: seq %d after cursor %d", r.Seq, after)
			}
			after = r.Seq
		}
		out = append(out, page...)
		if !more {
			return out
		}
		if len(page) == 0 {
			e.t.Fatalf("changes: empty page with more")
		}
	}
	e.t.Fatal("changes: endless feed")
	return nil
}

// lastSeq is the greatest seq in the whole feed (0 when empty).
func (e *env) lastSeq() int64 {
	e.t.Helper()
	recs := e.feed(server.Scope{All: true}, 0, 1000)
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

// code returns the Code of the *server.Error in err's chain, "" for nil,
// and fails the test for an error of another type.
func code(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var se *server.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *server.Error", err, err)
	}
	return se.Code
}

// wantCode fails the test unless err carries the code.
func wantCode(t testing.TB, err error, want, what string) {
	t.Helper()
	if got := code(t, err); got != want {
		t.Errorf("%s: error %v, want code %q", what, err, want)
	}
}

// ids returns the records' ids in order.
func ids(recs []*server.StoredRecord) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// jsonEq compares two JSON values by meaning.
func jsonEq(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// sha is a made-up SHA-256 hex digest, different for each n.
func sha(n int) string {
	return fmt.Sprintf("%064x", n)
}

package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// columnWrites opens a database whose vehicle_check table logs, by
// trigger, every column an UPDATE names (SQLite fires "UPDATE OF c" only
// when c is in the statement's SET list, changed or not), and returns a
// function reading and clearing that log: column names by record id.
func columnWrites(t *testing.T) (*sqlite.DB, *server.Syncer, func() map[string][]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	db, s := openSeededAt(t, path)
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if _, err := raw.Exec(`CREATE TABLE col_writes (id TEXT, col TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"county", "checkpoint", "plate", "note", "seq", "hlcs", "created_at", "created_device"} {
		if _, err := raw.Exec(`CREATE TRIGGER log_` + c + ` AFTER UPDATE OF ` + c + ` ON vehicle_check
			BEGIN INSERT INTO col_writes VALUES (new.id, '` + c + `'); END`); err != nil {
			t.Fatal(err)
		}
	}
	return db, s, func() map[string][]string {
		rows, err := raw.Query(`SELECT id, col FROM col_writes ORDER BY id, col`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][]string{}
		for rows.Next() {
			var id, col string
			if err := rows.Scan(&id, &col); err != nil {
				t.Fatal(err)
			}
			out[id] = append(out[id], col)
		}
		if _, err := raw.Exec(`DELETE FROM col_writes`); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// TestPushWritesOnlyChangedColumns checks that a push updating records
// the store holds writes only the columns whose values changed (and the
// row's sequence and HLCs), so that an unchanged indexed column such as
// the checkpoint costs no index upkeep, and that what it stores is
// exactly what a full rewrite would have stored.
func TestPushWritesOnlyChangedColumns(t *testing.T) {
	ctx := context.Background()
	db, s, writes := columnWrites(t)
	p := storetest.Inspector(t, db, "140902")
	clock := syncproto.NewClock(p.DeviceID, nil)
	ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	push := func(ms ...syncproto.Mutation) {
		t.Helper()
		resp, err := s.Push(ctx, p, &syncproto.PushRequest{DeviceID: p.DeviceID, BatchID: uuid.NewString(), Mutations: ms})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.Results {
			if r.Status != syncproto.StatusApplied {
				t.Fatalf("%s: %s %s %s", r.ID, r.Status, r.Code, r.Message)
			}
		}
	}
	with := func(m syncproto.Mutation, field string, v any) syncproto.Mutation {
		f := maps(m.Fields)
		b, _ := json.Marshal(v)
		f[field] = b
		m.Fields = f
		return m
	}
	base := make([]syncproto.Mutation, len(ids))
	for i, id := range ids {
		base[i] = vehicleMutation(clock, id, i)
	}
	push(base...)
	if w := writes(); len(w) != 0 {
		t.Fatalf("creating records ran updates: %v", w)
	}

	// Every record sent again whole with a newer HLC: the first with a new
	// note, the second unchanged, the third at another checkpoint with
	// another plate.
	again := make([]syncproto.Mutation, len(ids))
	for i := range ids {
		again[i] = base[i]
		again[i].HLC = clock.Now().String()
	}
	again[0] = with(again[0], "note", "复查：已整改")
	again[2] = with(with(again[2], "checkpoint", "阳明堡检查站"), "plate", "晋H99999")
	push(again...)
	always := []string{"hlcs", "seq"}
	want := map[string][]string{
		ids[0]: sorted(append([]string{"note"}, always...)),
		ids[1]: always,
		ids[2]: sorted(append([]string{"checkpoint", "plate"}, always...)),
	}
	if got := writes(); !equalWrites(got, want) {
		t.Errorf("columns written by the rewrite: %v, want %v", got, want)
	}
	stored := func(id string) *server.StoredRecord {
		t.Helper()
		r, err := db.Get(ctx, syncproto.EntityVehicleCheck, id)
		if err != nil || r == nil {
			t.Fatal(id, err)
		}
		return r
	}
	for i, id := range ids {
		r := stored(id)
		for name := range again[i].Fields {
			if h := r.State.Fields[name].HLC.String(); h != again[i].HLC {
				t.Errorf("record %d field %s @ %s, want @ %s", i, name, h, again[i].HLC)
			}
		}
	}
	if r := stored(ids[0]); r.Text("note") != "复查：已整改" || r.Text("checkpoint") != "豆罗检查站" {
		t.Errorf("record 0: note %q checkpoint %q", r.Text("note"), r.Text("checkpoint"))
	}
	if r := stored(ids[2]); r.Text("checkpoint") != "阳明堡检查站" || r.Text("plate") != "晋H99999" || r.Text("note") != "三元催化器已拆除" {
		t.Errorf("record 2: checkpoint %q plate %q note %q", r.Text("checkpoint"), r.Text("plate"), r.Text("note"))
	}

	// Two mutations of one record in one batch: one row update writing
	// the columns both changed.
	first := with(again[1], "note", "第一次")
	first.HLC = clock.Now().String()
	second := syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: ids[1], HLC: clock.Now().String(),
		Fields: map[string]json.RawMessage{"plate": json.RawMessage(`"晋H12345"`)}}
	push(first, second)
	want = map[string][]string{ids[1]: sorted(append([]string{"note", "plate"}, always...))}
	if got := writes(); !equalWrites(got, want) {
		t.Errorf("columns written by two mutations of one record: %v, want %v", got, want)
	}
	if r := stored(ids[1]); r.Text("note") != "第一次" || r.Text("plate") != "晋H12345" {
		t.Errorf("after two mutations: note %q plate %q", r.Text("note"), r.Text("plate"))
	}
}

// TestUpdateAfterFlushInOneTransaction checks a record written, flushed
// (a Find flushes the queue), and changed again in one transaction: the
// second write is measured against the row as the first left it.
func TestUpdateAfterFlushInOneTransaction(t *testing.T) {
	ctx := context.Background()
	db, s, writes := columnWrites(t)
	p := storetest.Inspector(t, db, "140902")
	clock := syncproto.NewClock(p.DeviceID, nil)
	id := uuid.NewString()
	if _, err := s.Push(ctx, p, &syncproto.PushRequest{DeviceID: p.DeviceID, BatchID: uuid.NewString(),
		Mutations: []syncproto.Mutation{vehicleMutation(clock, id, 7)}}); err != nil {
		t.Fatal(err)
	}
	e := server.EntityByName(syncproto.EntityVehicleCheck)
	set := func(r *server.StoredRecord, field, v string) {
		b, _ := json.Marshal(v)
		r.State.Fields[field] = syncproto.FieldState{Value: b, HLC: clock.Now()}
	}
	err := db.Update(ctx, func(tx server.WriteTx) error {
		r, err := tx.Get(ctx, e, id)
		if err != nil {
			return err
		}
		set(r, "note", "一")
		if err := tx.Put(ctx, r); err != nil {
			return err
		}
		found, err := tx.Find(ctx, e, "plate", "晋H00007") // flushes
		if err != nil {
			return err
		}
		if len(found) != 1 || found[0].Text("note") != "一" {
			t.Errorf("Find after the first write: %d records", len(found))
		}
		set(r, "plate", "晋H77777")
		return tx.Put(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first flush wrote the note; the second only the plate (the
	// note it holds is what the first wrote).
	want := map[string][]string{id: {"hlcs", "hlcs", "note", "plate", "seq", "seq"}}
	if got := writes(); !equalWrites(got, want) {
		t.Errorf("columns written: %v, want %v", got, want)
	}
	r, err := db.Get(ctx, syncproto.EntityVehicleCheck, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Text("note") != "一" || r.Text("plate") != "晋H77777" {
		t.Errorf("stored note %q plate %q", r.Text("note"), r.Text("plate"))
	}
}

// TestPushOfManyStoredRecords checks a push naming many stored records:
// the store reads them (ReadDecoded, decoding chunks while it reads the
// next) and writes them (EncodeAhead, encoding rows while it writes), so
// every record must come back in its place whatever chunk it fell in; and
// a record that cannot be decoded, in a middle chunk, fails the push as a
// whole, with nothing written.
func TestPushOfManyStoredRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	db, s := openSeededAt(t, path)
	p := storetest.Inspector(t, db, "140902")
	clock := syncproto.NewClock(p.DeviceID, nil)
	const n = 203 // not a whole number of chunks
	ids := make([]string, n)
	creates := make([]syncproto.Mutation, n)
	for i := range ids {
		ids[i] = uuid.NewString()
		creates[i] = vehicleMutation(clock, ids[i], i)
	}
	push := func(ms []syncproto.Mutation) error {
		resp, err := s.Push(ctx, p, &syncproto.PushRequest{DeviceID: p.DeviceID, BatchID: uuid.NewString(), Mutations: ms})
		if err != nil {
			return err
		}
		for _, r := range resp.Results {
			if r.Status != syncproto.StatusApplied {
				t.Fatalf("%s: %s %s %s", r.ID, r.Status, r.Code, r.Message)
			}
		}
		return nil
	}
	rewrite := func(from, to int, note string) []syncproto.Mutation {
		var ms []syncproto.Mutation
		for i := from; i < to; i++ {
			b, _ := json.Marshal(note + strconv.Itoa(i))
			ms = append(ms, syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: ids[i], HLC: clock.Now().String(),
				Fields: map[string]json.RawMessage{"note": b}})
		}
		return ms
	}
	notes := func(want func(i int) string, skip int) {
		t.Helper()
		for i, id := range ids {
			if i == skip {
				continue
			}
			r, err := db.Get(ctx, syncproto.EntityVehicleCheck, id)
			if err != nil || r == nil {
				t.Fatal(id, err)
			}
			if got := r.Text("note"); got != want(i) {
				t.Fatalf("record %d: note %q, want %q", i, got, want(i))
			}
			if r.Text("plate") != fmt.Sprintf("晋H%05d", i) {
				t.Fatalf("record %d: plate %q: another record's fields", i, r.Text("plate"))
			}
		}
	}
	if err := push(creates); err != nil {
		t.Fatal(err)
	}
	if err := push(rewrite(0, n, "复查")); err != nil {
		t.Fatal(err)
	}
	notes(func(i int) string { return "复查" + strconv.Itoa(i) }, -1)

	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE vehicle_check SET hlcs = 'not hlcs' WHERE id = ?`, ids[150]); err != nil {
		t.Fatal(err)
	}
	if err := push(rewrite(0, n, "再查")); err == nil {
		t.Fatal("a push naming an undecodable record succeeded")
	}
	notes(func(i int) string { return "复查" + strconv.Itoa(i) }, 150)
	if err := push(rewrite(0, 150, "三查")); err != nil {
		t.Fatalf("a push not naming it: %v", err)
	}
}

func maps(f map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(f))
	for k, v := range f {
		out[k] = v
	}
	return out
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

func equalWrites(got, want map[string][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for id, cols := range want {
		if !slices.Equal(got[id], cols) {
			return false
		}
	}
	return true
}

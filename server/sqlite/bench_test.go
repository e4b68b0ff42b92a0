package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

const benchBatch = 500

// openSeeded opens a real database in a temp dir with the reference data.
func openSeeded(tb testing.TB) (*sqlite.DB, *server.Syncer) {
	tb.Helper()
	return openSeededAt(tb, filepath.Join(tb.TempDir(), "fieldsync.db"))
}

// openSeededAt is openSeeded with the database file at path.
func openSeededAt(tb testing.TB, path string) (*sqlite.DB, *server.Syncer) {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s := server.NewSyncer(db, nil)
	set, err := seeds.Load()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := server.LoadReference(context.Background(), s, set); err != nil {
		tb.Fatal(err)
	}
	return db, s
}

// requestContext returns a context that can be cancelled, as every HTTP
// request's can, so that the benchmarks pay what a cancellable context
// costs the store (the driver can watch one per statement) as the server
// does. It is cancelled when the benchmark ends.
func requestContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	return ctx
}

// vehicleRow is one roadside check of ten fields, as values and as fields.
func vehicleRow(i int) []any {
	return []any{"140902", "豆罗检查站", fmt.Sprintf("晋H%05d", i%100000), "黄", fmt.Sprintf("LZZ1BLSE%09d", i),
		"国六", "天然气", "removed", "2026-11-28T10:00:00+08:00", "三元催化器已拆除"}
}

var vehicleCols = []string{"county", "checkpoint", "plate", "plate_color", "vin", "emission_stage", "fuel", "aftertreatment", "checked_at", "note"}

func vehicleMutation(clock *syncproto.Clock, id string, i int) syncproto.Mutation {
	f := make(map[string]json.RawMessage, len(vehicleCols))
	for k, v := range vehicleRow(i) {
		b, _ := json.Marshal(v)
		f[vehicleCols[k]] = b
	}
	return syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: id, Fields: f, HLC: clock.Now().String()}
}

// pushSetup opens a seeded database with one device and returns its
// batch generator: batch n is 500 mutations of 10 fields, with new random
// ids each time for "create", the same 500 ids every time for "update".
// It also returns the ids of the last batch made.
func pushSetup(b testing.TB, kind string) (*server.Syncer, *server.Principal, func(n int) *syncproto.PushRequest, []string) {
	db, s := openSeeded(b)
	p := storetest.Inspector(b, db, "140902")
	clock := syncproto.NewClock(p.DeviceID, nil)
	ids := make([]string, benchBatch)
	batch := func(n int) *syncproto.PushRequest {
		for i := range ids {
			if kind == "create" || ids[i] == "" {
				ids[i] = uuid.NewString()
			}
		}
		return newBatch(p, clock, ids, n)
	}
	return s, p, batch, ids
}

// newBatch is device p's batch n: a roadside check of ten fields for each
// id, all stamped by clock.
func newBatch(p *server.Principal, clock *syncproto.Clock, ids []string, n int) *syncproto.PushRequest {
	ms := make([]syncproto.Mutation, len(ids))
	for i, id := range ids {
		ms[i] = vehicleMutation(clock, id, n*len(ids)+i)
	}
	return &syncproto.PushRequest{DeviceID: p.DeviceID, BatchID: uuid.NewString(), Mutations: ms}
}

// BenchmarkPushMerge measures the whole push path below HTTP — checks,
// per-field HLC merge, conflict detection, the batch record — for batches
// of 500 new records of 10 fields keyed by random UUIDv4 (the slow case),
// and for batches rewriting every field of 500 existing records.
func BenchmarkPushMerge(b *testing.B) {
	app.TuneRuntime(os.Getenv, 0) // as the server runs (no photos)
	for _, kind := range []string{"create", "update"} {
		b.Run(kind, func(b *testing.B) {
			s, p, batch, _ := pushSetup(b, kind)
			ctx := requestContext(b)
			if kind == "update" { // the records exist; every field is overwritten
				if _, err := s.Push(ctx, p, batch(-1)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				req := batch(n)
				b.StartTimer()
				resp, err := s.Push(ctx, p, req)
				if err != nil {
					b.Fatal(err)
				}
				if resp.Results[0].Status != syncproto.StatusApplied {
					b.Fatalf("result %+v", resp.Results[0])
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "mutations/s")
		})
	}
}

// BenchmarkPushMergeConcurrent is BenchmarkPushMerge/create with two
// devices pushing at once, as a server serving many phones does: each
// push's stateless checks run outside the write lock, overlapping with the
// other push's transaction.
func BenchmarkPushMergeConcurrent(b *testing.B) {
	app.TuneRuntime(os.Getenv, 0) // as the server runs (no photos)
	db, s := openSeeded(b)
	devices := []*server.Principal{storetest.Inspector(b, db, "140902"), storetest.Inspector(b, db, "140902")}
	batches := make([][]*syncproto.PushRequest, len(devices))
	for d, p := range devices {
		clock := syncproto.NewClock(p.DeviceID, nil)
		for n := 0; n < b.N; n++ {
			ms := make([]syncproto.Mutation, benchBatch)
			for i := range ms {
				ms[i] = vehicleMutation(clock, uuid.NewString(), n*benchBatch+i)
			}
			batches[d] = append(batches[d], &syncproto.PushRequest{DeviceID: p.DeviceID, BatchID: uuid.NewString(), Mutations: ms})
		}
	}
	ctx := requestContext(b)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1) - 1)
				if n >= b.N {
					return
				}
				if _, err := s.Push(ctx, devices[d], batches[d][n]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "mutations/s")
}

// BenchmarkPushVsRaw is the reference for BenchmarkPushMerge, measured in
// the same run and interleaved with it batch by batch, so that the drift of
// a shared machine (I/O write-back, other load) falls on both alike: each
// iteration pushes a batch of 500 mutations through Syncer.Push, then
// writes the same 500 rows (same ids, same values) with a prepared
// INSERT … ON CONFLICT DO UPDATE in one transaction, with none of the sync
// logic, into two more databases:
//   - "same-table": fieldsync's own vehicle_check table, every index, the
//     record's metadata columns (sequence, grouped HLCs, deletion HLC,
//     creating device and user, times) with precomputed values;
//   - "narrow": a table of just the ten field columns and a primary key, a
//     lower bound no store that keeps per-field HLCs can reach.
//
// It reports each path's rate and the ratios push/raw.
func BenchmarkPushVsRaw(b *testing.B) {
	app.TuneRuntime(os.Getenv, 0) // as the server runs (no photos)
	for _, kind := range []string{"create", "update"} {
		b.Run(kind, func(b *testing.B) {
			s, p, batch, ids := pushSetup(b, kind)
			ctx := requestContext(b)
			same, narrow := openSameTable(b, p), openNarrow(b)
			var tPush, tSame, tNarrow time.Duration
			run := func(n int, timed bool) {
				req := batch(n)
				start := time.Now()
				if _, err := s.Push(ctx, p, req); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				same.write(b, ids, n)
				mid2 := time.Now()
				narrow.write(b, ids, n)
				if timed {
					tPush, tSame, tNarrow = tPush+mid.Sub(start), tSame+mid2.Sub(mid), tNarrow+time.Since(mid2)
				}
			}
			if kind == "update" { // the records exist; every field is overwritten
				run(-1, false)
			}
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				run(n, true)
			}
			rows := float64(b.N * benchBatch)
			b.ReportMetric(rows/tPush.Seconds(), "push-mutations/s")
			b.ReportMetric(rows/tSame.Seconds(), "same-table-rows/s")
			b.ReportMetric(rows/tNarrow.Seconds(), "narrow-rows/s")
			b.ReportMetric(tSame.Seconds()/tPush.Seconds(), "push/same-table")
			b.ReportMetric(tNarrow.Seconds()/tPush.Seconds(), "push/narrow")
		})
	}
}

// rawTable writes batches of vehicle rows with one prepared upsert.
type rawTable struct {
	db  *sql.DB
	q   string
	row func(id string, i int) []any
}

func openRaw(b *testing.B, path, schema, q string, row func(id string, i int) []any) *rawTable {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_foreign_keys=on")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		b.Fatal(err)
	}
	return &rawTable{db: db, q: q, row: row}
}

// openSameTable opens a fresh fieldsync database for raw writes into its
// vehicle_check table, as device p's records.
func openSameTable(b *testing.B, p *server.Principal) *rawTable {
	path := filepath.Join(b.TempDir(), "fieldsync.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	db.Close()
	cols := []string{"id", "county", "seq", "hlcs", "created_at", "updated_at", "deleted_hlc", "created_device", "created_by"}
	cols = append(cols, vehicleCols[1:]...)
	names := append([]string(nil), vehicleCols...)
	sort.Strings(names)
	hlcs := `{"001795875991660-00001-` + p.DeviceID + `":["` + strings.Join(names, `","`) + `"]}`
	sets := make([]string, len(cols)-1)
	for i, c := range cols[1:] {
		sets[i] = c + "=excluded." + c
	}
	q := "INSERT INTO vehicle_check (" + strings.Join(cols, ",") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") +
		") ON CONFLICT (id) DO UPDATE SET " + strings.Join(sets, ",")
	seq := 0
	now := time.Now().UnixMilli()
	return openRaw(b, path, `INSERT INTO county (id, seq, created_at, updated_at) VALUES ('140902', 0, 0, 0)`, q, func(id string, i int) []any {
		seq++
		row := vehicleRow(i)
		return append([]any{id, row[0], seq, hlcs, now, now, "", p.DeviceID, p.UserID}, row[1:]...)
	})
}

func openNarrow(b *testing.B) *rawTable {
	return openRaw(b, filepath.Join(b.TempDir(), "raw.db"), `CREATE TABLE raw (id TEXT PRIMARY KEY, county TEXT, checkpoint TEXT, plate TEXT, plate_color TEXT,
			vin TEXT, emission_stage TEXT, fuel TEXT, aftertreatment TEXT, checked_at TEXT, note TEXT)`,
		`INSERT INTO raw VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET county=excluded.county,
			checkpoint=excluded.checkpoint, plate=excluded.plate, plate_color=excluded.plate_color, vin=excluded.vin,
			emission_stage=excluded.emission_stage, fuel=excluded.fuel, aftertreatment=excluded.aftertreatment,
			checked_at=excluded.checked_at, note=excluded.note`,
		func(id string, i int) []any { return append([]any{id}, vehicleRow(i)...) })
}

// write upserts the rows of batch n, one per id, in one transaction.
func (r *rawTable) write(b *testing.B, ids []string, n int) {
	tx, err := r.db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare(r.q)
	if err != nil {
		b.Fatal(err)
	}
	for i, id := range ids {
		if _, err := st.Exec(r.row(id, n*benchBatch+i)...); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPullPage compares the two ways a page of 500 roadside checks
// becomes its JSON: read as records, turned into Changes and encoded by
// encoding/json (how pulls were answered before issue 14), and written
// straight from the rows (WireChanges, how they are answered now). Both
// read the same page of the same database.
func BenchmarkPullPage(b *testing.B) {
	s, p, batch, _ := pushSetup(b, "create")
	for n := range 4 {
		if _, err := s.Push(context.Background(), p, batch(n)); err != nil {
			b.Fatal(err)
		}
	}
	ctx, scope := requestContext(b), p.Scope()
	var after int64 // the page of the checks: past the reference data
	recs, _, err := s.Store.Changes(ctx, scope, 0, server.MaxPullLimit)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range recs {
		if r.Entity.Name == syncproto.EntityVehicleCheck {
			break
		}
		after = r.Seq
	}
	for _, grouped := range []bool{false, true} {
		b.Run(fmt.Sprintf("records+encoding_json/grouped=%v", grouped), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				recs, _, err := s.Store.Changes(ctx, scope, after, benchBatch)
				if err != nil {
					b.Fatal(err)
				}
				out := make([]syncproto.Change, len(recs))
				for i, r := range recs {
					out[i] = server.ToChange(r)
					if grouped { // as the grouped form was made: HLC once per group
						out[i].HLCGroups = map[string][]string{}
						for name, h := range out[i].HLCs {
							out[i].HLCGroups[h] = append(out[i].HLCGroups[h], name)
						}
						out[i].HLCs = map[string]string{}
					}
				}
				if _, err := json.Marshal(syncproto.PullResponse{Changes: out}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "changes/s")
		})
		b.Run(fmt.Sprintf("wire/grouped=%v", grouped), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, _, err := s.Store.WireChanges(ctx, scope, after, benchBatch, grouped, nil)
				if err != nil || len(page) != benchBatch {
					b.Fatal(len(page), err)
				}
				pg := server.PullPage{Changes: page}
				_ = pg.AppendJSON(make([]byte, 0, pg.Size()))
			}
			b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "changes/s")
		})
	}
	b.Run("wire/compact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cp, err := s.Store.CompactChanges(ctx, scope, after, benchBatch, nil)
			if err != nil || cp.Count != benchBatch {
				b.Fatal(err)
			}
			pg := server.PullPage{Compact: cp}
			_ = pg.AppendJSON(make([]byte, 0, pg.Size()))
		}
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "changes/s")
	})
	// What a pull request costs the sync engine: the page, its cursor and
	// the device's pull mark.
	cursor := server.Cursor{Seq: after, Scope: server.ScopeFingerprint(p), Epoch: s.Store.Epoch()}.Encode()
	b.Run("syncer/compact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pg, err := s.PullPage(ctx, p, server.PullQuery{Cursor: cursor, Limit: benchBatch, Form: server.FormCompact})
			if err != nil || pg.Len() != benchBatch {
				b.Fatal(err)
			}
			_ = pg.AppendJSON(make([]byte, 0, pg.Size()))
		}
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "changes/s")
	})
}

// BenchmarkPushRewriteSpread rewrites every field of records spread over a
// table of 100,000, 500 at a time in the order they were created, as
// fieldbench's rewrite round does. Unlike BenchmarkPushMerge/update, whose
// same 500 records stay in the writer's cache, most of the rows a push
// reads and rewrites are on pages the cache does not hold.
func BenchmarkPushRewriteSpread(b *testing.B) {
	app.TuneRuntime(os.Getenv, 0) // as the server runs (no photos)
	const total = 100000
	db, s := openSeeded(b)
	p := storetest.Inspector(b, db, "140902")
	clock := syncproto.NewClock(p.DeviceID, nil)
	ids := make([]string, total)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	ctx := requestContext(b)
	push := func(req *syncproto.PushRequest) {
		resp, err := s.Push(ctx, p, req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.Results[0].Status != syncproto.StatusApplied {
			b.Fatalf("result %+v", resp.Results[0])
		}
	}
	for n := 0; n < total/benchBatch; n++ {
		push(newBatch(p, clock, ids[n*benchBatch:(n+1)*benchBatch], n))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		start := (n * benchBatch) % total
		req := newBatch(p, clock, ids[start:start+benchBatch], total/benchBatch+n)
		b.StartTimer()
		push(req)
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "mutations/s")
}

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
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

const benchBatch = 500

// openSeeded opens a real database in a temp dir with the reference data.
func openSeeded(tb testing.TB) (*sqlite.DB, *server.Syncer) {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "fieldsync.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s := server.NewSyncer(db, nil)
	set, err := seeds.Load()
	if err != nil {
		tb.Fatal(err)
	}
	if err := app.LoadReference(context.Background(), s, set); err != nil {
		tb.Fatal(err)
	}
	return db, s
}

// registerDevice adds an inspector of 140902 with one device.
func registerDevice(tb testing.TB, db *sqlite.DB) *server.Principal {
	tb.Helper()
	ctx := context.Background()
	u := &server.User{ID: uuid.NewString(), Username: "bench-" + uuid.NewString()[:8], Role: server.RoleInspector,
		Counties: []string{"140902"}, CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, u, "x"); err != nil {
		tb.Fatal(err)
	}
	d := &server.Device{ID: uuid.Must(uuid.NewV7()).String(), UserID: u.ID, CreatedAt: time.Now()}
	if err := db.RegisterDevice(ctx, d, "", time.Now().Add(time.Hour)); err != nil {
		tb.Fatal(err)
	}
	p, err := db.Principal(ctx, u.ID, d.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return p
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

// BenchmarkPushMerge measures the whole push path below HTTP — checks,
// per-field HLC merge, conflict detection, the batch record — for batches
// of 500 new records of 10 fields keyed by random UUIDv4 (the slow case).
func BenchmarkPushMerge(b *testing.B) {
	app.TuneRuntime(os.Getenv) // as the server runs
	for _, kind := range []string{"create", "update"} {
		b.Run(kind, func(b *testing.B) {
			db, s := openSeeded(b)
			p := registerDevice(b, db)
			deviceID := p.DeviceID
			clock := syncproto.NewClock(deviceID, nil)
			ids := make([]string, benchBatch)
			for i := range ids {
				ids[i] = uuid.NewString()
			}
			if kind == "update" { // records exist; every field is overwritten
				ms := make([]syncproto.Mutation, benchBatch)
				for i := range ms {
					ms[i] = vehicleMutation(clock, ids[i], i)
				}
				if _, err := s.Push(context.Background(), p, &syncproto.PushRequest{DeviceID: deviceID, BatchID: uuid.NewString(), Mutations: ms}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				ms := make([]syncproto.Mutation, benchBatch)
				for i := range ms {
					id := ids[i]
					if kind == "create" {
						id = uuid.NewString()
					}
					ms[i] = vehicleMutation(clock, id, n*benchBatch+i)
				}
				req := &syncproto.PushRequest{DeviceID: deviceID, BatchID: uuid.NewString(), Mutations: ms}
				b.StartTimer()
				resp, err := s.Push(context.Background(), p, req)
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
	app.TuneRuntime(os.Getenv) // as the server runs
	db, s := openSeeded(b)
	devices := []*server.Principal{registerDevice(b, db), registerDevice(b, db)}
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
				if _, err := s.Push(context.Background(), devices[d], batches[d][n]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "mutations/s")
}

// BenchmarkRawUpsert is the reference for BenchmarkPushMerge: the same rows
// written by a prepared INSERT … ON CONFLICT DO UPDATE, 500 per
// transaction, keyed by random UUIDv4, with none of the sync logic.
// "same-table" writes into fieldsync's own vehicle_check table (every
// column, every index, a precomputed hlcs value); "narrow" into a table of
// just the ten columns and a primary key.
func BenchmarkRawUpsert(b *testing.B) {
	app.TuneRuntime(os.Getenv) // the same runtime setting as the merge path
	b.Run("same-table", func(b *testing.B) {
		dir := b.TempDir()
		db, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
		cols := []string{"id", "county", "seq", "hlcs", "created_at", "updated_at"}
		cols = append(cols, vehicleCols[1:]...)
		names := append([]string(nil), vehicleCols...)
		sort.Strings(names)
		hlcs := `{"001795875991660-00001-01a2228d-d8fe-75a8-a120-827234ba3bf0":["` + strings.Join(names, `","`) + `"]}`
		q := "INSERT INTO vehicle_check (" + strings.Join(cols, ",") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") +
			") ON CONFLICT (id) DO UPDATE SET "
		for i, c := range cols[1:] {
			if i > 0 {
				q += ","
			}
			q += c + "=excluded." + c
		}
		seq := 0
		rawUpsert(b, filepath.Join(dir, "fieldsync.db"), "", q, func(i int) []any {
			seq++
			row := vehicleRow(i)
			return append([]any{uuid.NewString(), row[0], seq, hlcs, 1, 1}, row[1:]...)
		})
	})
	b.Run("narrow", func(b *testing.B) {
		rawUpsert(b, filepath.Join(b.TempDir(), "raw.db"), `CREATE TABLE raw (id TEXT PRIMARY KEY, county TEXT, checkpoint TEXT, plate TEXT, plate_color TEXT,
			vin TEXT, emission_stage TEXT, fuel TEXT, aftertreatment TEXT, checked_at TEXT, note TEXT)`,
			`INSERT INTO raw VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET county=excluded.county,
			checkpoint=excluded.checkpoint, plate=excluded.plate, plate_color=excluded.plate_color, vin=excluded.vin,
			emission_stage=excluded.emission_stage, fuel=excluded.fuel, aftertreatment=excluded.aftertreatment,
			checked_at=excluded.checked_at, note=excluded.note`,
			func(i int) []any { return append([]any{uuid.NewString()}, vehicleRow(i)...) })
	})
}

func rawUpsert(b *testing.B, path, schema, q string, row func(i int) []any) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_foreign_keys=on")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if schema != "" {
		if _, err := db.Exec(schema); err != nil {
			b.Fatal(err)
		}
	} else if _, err := db.Exec(`INSERT INTO county (id, seq, created_at, updated_at) VALUES ('140902', 0, 0, 0)`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st, err := tx.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < benchBatch; i++ {
			if _, err := st.Exec(row(n*benchBatch + i)...); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
}

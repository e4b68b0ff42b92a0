package postgres_test

import (
	"context"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSchemaMatchesCatalog: every synced entity has a table whose columns
// are the meta columns plus exactly the entity's fields, and a feed index.
func TestSchemaMatchesCatalog(t *testing.T) {
	ctx := context.Background()
	db, _ := openNew(t)
	meta := []string{"id", "county", "seq", "hlcs", "deleted_hlc", "created_device", "created_at", "updated_at", "created_by"}
	for _, e := range server.Entities {
		rows, err := db.Pool().Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, e.Name)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			cols = append(cols, c)
		}
		rows.Close()
		want := append([]string(nil), meta...)
		for _, f := range e.Fields {
			if !slices.Contains(want, f.Name) {
				want = append(want, f.Name)
			}
		}
		slices.Sort(cols)
		slices.Sort(want)
		if !slices.Equal(cols, want) {
			t.Errorf("table %s columns %v, want %v", e.Name, cols, want)
		}
		var n int
		db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`, e.Name+"_feed").Scan(&n)
		if n != 1 {
			t.Errorf("table %s has no feed index", e.Name)
		}
	}
}

// TestReopenKeepsEpochAndSequence: migrations run once, the epoch survives
// a restart, and sequence numbers continue after the last one.
func TestReopenKeepsEpochAndSequence(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, s := openAt(t, dsn)
	epoch := db.Epoch()
	if len(epoch) != 16 {
		t.Fatalf("epoch %q", epoch)
	}
	put(t, s, "140902")
	first, _ := db.Get(ctx, syncproto.EntityCounty, "140902")
	db.Close()

	db2, s2 := openAt(t, dsn)
	if db2.Epoch() != epoch {
		t.Fatalf("epoch changed across reopen: %s → %s", epoch, db2.Epoch())
	}
	put(t, s2, "140921")
	second, _ := db2.Get(ctx, syncproto.EntityCounty, "140921")
	if second.Seq <= first.Seq {
		t.Fatalf("seq after reopen %d not after %d", second.Seq, first.Seq)
	}
	// Each embedded migration applied once, not again at the reopen.
	var n int
	entries, _ := fs.ReadDir(postgres.Migrations, "migrations")
	if err := db2.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(entries) || n < 2 {
		t.Fatalf("schema_migrations: %d rows, %v; want one per migration (%d)", n, err, len(entries))
	}
}

// TestOpenTogether: servers starting at once on an empty database create
// the schema once and agree on the epoch.
func TestOpenTogether(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const n = 4
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(context.Background(), dsn)
		}()
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer db.Close()
		if db.Epoch() != dbs[0].Epoch() {
			t.Errorf("epochs differ: %s, %s", db.Epoch(), dbs[0].Epoch())
		}
	}
}

// TestTwoProcessesShareTheSequence: two stores on one database (two
// servers) never hand out the same sequence number.
func TestTwoProcessesShareTheSequence(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	a, sa := openAt(t, dsn)
	_, sb := openAt(t, dsn)
	put(t, sa, "140902")
	put(t, sb, "140921")
	put(t, sa, "140922")
	seen := map[int64]string{}
	for _, code := range []string{"140902", "140921", "140922"} {
		r, err := a.Get(ctx, syncproto.EntityCounty, code)
		if err != nil || r == nil {
			t.Fatalf("get %s: %v", code, err)
		}
		if other, dup := seen[r.Seq]; dup {
			t.Fatalf("%s and %s share seq %d", code, other, r.Seq)
		}
		seen[r.Seq] = code
	}
}

// TestHighHLCSurvivesReopen: the greatest HLC ever committed is kept, so a
// server restarted with a clock behind it resumes after it.
func TestHighHLCSurvivesReopen(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db, s := openAt(t, dsn)
	ahead := time.Now().Add(3 * time.Minute)
	s.Clock = syncproto.NewClock(syncproto.ServerNode, func() time.Time { return ahead })
	upsertNote(t, s, "149901", "ahead")
	rec, err := db.Get(context.Background(), syncproto.EntityCounty, "149901")
	if err != nil || rec == nil {
		t.Fatalf("get: %v", err)
	}
	want := rec.State.Highest()
	if got, err := db.HighHLC(context.Background()); err != nil || got != want {
		t.Fatalf("HighHLC = %s, %v; want %s", got, err, want)
	}
	db.Close()

	_, s = openAt(t, dsn)
	if err := s.RestoreClock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if now := s.Clock.Now(); now.Compare(want) <= 0 {
		t.Fatalf("restored clock issues %s, not after the stored %s", now, want)
	}
}

// TestServerWriteWinsOverFutureStamps: the server's own write takes effect
// on every field even when its clock is behind the record's HLCs.
func TestServerWriteWinsOverFutureStamps(t *testing.T) {
	db, s := openNew(t)
	ahead := time.Now().Add(10 * time.Minute)
	s.Clock = syncproto.NewClock(syncproto.ServerNode, func() time.Time { return ahead })
	upsertNote(t, s, "149902", "first")
	s.Clock = syncproto.NewClock(syncproto.ServerNode, nil) // behind the stored stamps
	upsertNote(t, s, "149902", "second")
	rec, err := db.Get(context.Background(), syncproto.EntityCounty, "149902")
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Text("note"); got != "second" {
		t.Fatalf("note = %q after the server's second write, want %q", got, "second")
	}
}

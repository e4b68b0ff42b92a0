package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestFeedNeverSkips: two stores on one database, each with its own pool
// (two servers), push batches through Syncer.Push as fast as they can,
// new records and updates of their earlier ones, while a third pulls the
// change feed continuously, at its head. The pulled positions must
// strictly increase, and every record pushed must be pulled at its final
// position exactly once: a sequence number that became visible after a
// greater one would be skipped by the reader's cursor and show up here.
// (Checked: with sequence numbers taken before commit, from the counter
// outside the lock, this test fails with hundreds of records never pulled.)
func TestFeedNeverSkips(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	_, seed := openAt(t, dsn)
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.LoadReference(ctx, seed, set); err != nil {
		t.Fatal(err)
	}
	batches := 120
	if testing.Short() {
		batches = 30
	}

	type writer struct {
		db  server.Store
		s   *server.Syncer
		p   *server.Principal
		ids []string
	}
	writers := make([]*writer, 2)
	for i := range writers {
		db, s := openAt(t, dsn)
		writers[i] = &writer{db: db, s: s, p: storetest.Inspector(t, db, "140902")}
	}
	reader, _ := openAt(t, dsn)

	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for wi, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(wi), 42))
			clock := syncproto.NewClock(w.p.DeviceID, nil)
			for b := 0; b < batches; b++ {
				req := &syncproto.PushRequest{DeviceID: w.p.DeviceID, BatchID: uuid.NewString()}
				n := 1 + rng.IntN(25)
				for k := 0; k < n; k++ {
					var id string
					if len(w.ids) > 0 && rng.IntN(4) == 0 { // an update of an earlier record
						id = w.ids[rng.IntN(len(w.ids))]
					} else {
						id = uuid.NewString()
						w.ids = append(w.ids, id)
					}
					req.Mutations = append(req.Mutations, syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: id,
						HLC: clock.Now().String(), Fields: map[string]json.RawMessage{
							"county": json.RawMessage(`"140902"`), "checkpoint": json.RawMessage(`"豆罗检查站"`),
							"plate": json.RawMessage(fmt.Sprintf(`"晋H%05d"`, rng.IntN(100000))), "checked_at": json.RawMessage(`"2026-11-28T10:00:00+08:00"`),
							"note": json.RawMessage(fmt.Sprintf(`"w%d b%d k%d"`, wi, b, k)),
						}})
				}
				resp, err := w.s.Push(ctx, w.p, req)
				if err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", wi, b, err)
					return
				}
				for _, r := range resp.Results {
					if r.Status != syncproto.StatusApplied {
						errs <- fmt.Errorf("writer %d batch %d: %+v", wi, b, r)
						return
					}
				}
			}
		}()
	}
	go func() { wg.Wait(); done.Store(true) }()

	// The reader pulls until the writers are done and a pull after that
	// finds nothing more.
	seen := map[string][]int64{} // id → the positions it was pulled at
	var cursor int64
	pulls := 0
	scope := server.Scope{Counties: []string{"140902"}}
	for {
		finished := done.Load()
		// Mostly whole pages, to stay at the head of the feed where a
		// commit out of order would be skipped; sometimes small ones.
		limit := 1000
		if pulls%4 == 3 {
			limit = 7
		}
		recs, more, err := reader.Changes(ctx, scope, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		pulls++
		for _, r := range recs {
			if r.Seq <= cursor {
				t.Fatalf("pulled seq %d after %d", r.Seq, cursor)
			}
			cursor = r.Seq
			if r.Entity.Name == syncproto.EntityVehicleCheck {
				seen[r.ID] = append(seen[r.ID], r.Seq)
			}
		}
		if finished && len(recs) == 0 && !more {
			break
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		if len(recs) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	total := 0
	for _, w := range writers {
		total += len(w.ids)
		for _, id := range w.ids {
			r, err := reader.Get(ctx, syncproto.EntityVehicleCheck, id)
			if err != nil || r == nil {
				t.Fatalf("get %s: %v", id, err)
			}
			n := 0
			for _, s := range seen[id] {
				if s == r.Seq {
					n++
				}
			}
			if n != 1 {
				t.Errorf("record %s: final seq %d pulled %d times (pulled at %v)", id, r.Seq, n, seen[id])
			}
		}
	}
	if len(seen) != total {
		t.Errorf("pulled %d records, pushed %d", len(seen), total)
	}
	t.Logf("%d records in %d batches per writer, %d pulls", total, batches, pulls)
}

package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// TestBandFilterKeepsEveryCandidate: a lookup through the store's band
// filter finds exactly the rows the index's statements find with every
// probed value: while the filter is still reading the rows written before
// the store opened (the first lookup starts that read, and until it ends
// every value is asked for), and once it has, for those rows, rows
// written after the store opened but before that lookup, written after
// it, and replaced (their old values stay in the filter); and the filter,
// once built, leaves out most of the values, which no row has.
func TestBandFilterKeepsEveryCandidate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	rng := rand.New(rand.NewPCG(14, 15))
	// Kinds of every class: dHash, whole content, centred windows, other
	// windows, mirrored, turned and trimmed.
	kinds := []int{0, 1, 2, 3, 4, 5, 17, 50, 101, 103, 140, 200, 201, 300, 303}
	bases := make([]uint64, 6)
	for i := range bases {
		bases[i] = rng.Uint64()
	}
	near := func(h uint64, bits int) uint64 {
		for range bits {
			h ^= 1 << rng.IntN(64)
		}
		return h
	}
	photo := func() []server.PhotoHashRow {
		rows := make([]server.PhotoHashRow, 0, len(kinds))
		for _, k := range kinds {
			rows = append(rows, server.PhotoHashRow{Kind: k, Hash: near(bases[rng.IntN(len(bases))], rng.IntN(12)),
				Mirror: rng.Uint64(), HasMirror: k > 0})
		}
		return rows
	}
	var stored [][]server.PhotoHashRow
	put := func(db *DB, id int, rows []server.PhotoHashRow) {
		t.Helper()
		if err := db.SetPhotoHashes(ctx, fmt.Sprintf("photo-%03d", id), rows); err != nil {
			t.Fatal(err)
		}
		if id == len(stored) {
			stored = append(stored, rows)
		} else {
			stored[id] = rows
		}
	}

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		put(db, i, photo())
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 40; i < 60; i++ {
		put(db, i, photo())
	}

	// Queries near the stored hashes (found) and far from them.
	query := func() server.HashProbes {
		var fp imageproc.Fingerprint
		for _, k := range []int{0, 1, 2, 9, 101, 201, 300} {
			h := rng.Uint64()
			if rng.IntN(4) > 0 {
				rows := stored[rng.IntN(len(stored))]
				h = near(rows[rng.IntN(len(rows))].Hash, rng.IntN(10))
			}
			fp = append(fp, imageproc.KindHash{Kind: k, Hash: h})
		}
		return server.HashProbes(fp.Probes())
	}
	sorted := func(c []server.HashCandidate) []server.HashCandidate {
		slices.SortFunc(c, func(a, b server.HashCandidate) int {
			return cmp.Or(cmp.Compare(a.PhotoID, b.PhotoID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Hash, b.Hash))
		})
		return c
	}
	values := func(p server.HashProbes) int {
		n := 0
		for _, set := range [][3][]uint32{p.Any, p.DHash, p.Full, p.Centre} {
			for _, vs := range set {
				n += len(vs)
			}
		}
		return n
	}
	probed, kept, found := 0, 0, 0
	check := func(stage string) {
		t.Helper()
		select {
		case <-db.bands.Built():
		default:
			t.Fatalf("%s: the filter has not read the table", stage)
		}
		for range 30 {
			p := query()
			got, err := db.PhotoHashCandidates(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := dialect.PhotoHashCandidates(ctx, reader{db.read}, p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sorted(got), sorted(want)) {
				t.Fatalf("%s: the filtered lookup found %d rows, the whole one %d", stage, len(got), len(want))
			}
			f := db.bands.Probes(reader{db.read}, p)
			probed, kept, found = probed+values(p), kept+values(f), found+len(want)
		}
	}

	// The first lookup starts the filter's read of the table and, as
	// every lookup until that read ends, asks for every value.
	p := query()
	if got := db.bands.Probes(reader{db.read}, p); values(got) != values(p) {
		t.Fatalf("before the table was read, the filter left out %d of %d values", values(p)-values(got), values(p))
	}
	got, err := db.PhotoHashCandidates(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := dialect.PhotoHashCandidates(ctx, reader{db.read}, p)
	if err != nil || !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("while the table is read: the lookup found %d rows, the whole one %d (%v)", len(got), len(want), err)
	}
	select {
	case <-db.bands.Built():
	case <-time.After(time.Minute): // a guard, not a wait: the read takes milliseconds
		t.Fatal("the filter never finished reading the table")
	}
	check("rows written before and since the store opened")
	for i := 60; i < 80; i++ {
		put(db, i, photo())
	}
	for i := range 10 {
		put(db, i*7, photo()) // replaced: the old values stay in the filter
	}
	check("rows written after the first lookup, and replaced")
	if found == 0 {
		t.Fatal("no lookup found a row: the test finds nothing to lose")
	}
	if kept*10 > probed {
		t.Errorf("the filter kept %d of %d probed values; most no row has", kept, probed)
	}
	t.Logf("%d lookups: %d values probed, %d kept, %d rows found", 60, probed, kept, found)
}

// heldReader is the store's reader, whose queries wait, once started,
// until their context ends: a read of the photo index that takes longer
// than the test.
type heldReader struct {
	sqlstore.Reader
	started chan context.Context
}

func (r heldReader) Query(ctx context.Context, q string, args ...any) (sqlstore.ReadRows, error) {
	r.started <- ctx
	<-ctx.Done()
	return r.Reader.Query(ctx, q, args...)
}

// TestBandFilterCloseEndsItsRead: closing the store ends the filter's
// read of the table under way and returns once it has (the store's pool
// would wait for the query: some ten seconds at a city's year of photos),
// the filter stays unbuilt and lookups still get every value, and no read
// starts after.
func TestBandFilterCloseEndsItsRead(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var f sqlstore.BandFilter
	r := heldReader{Reader: reader{db.read}, started: make(chan context.Context, 2)}
	p := server.HashProbes{Any: [3][]uint32{{1, 2, 3}, {4}, {5}}}
	f.Probes(r, p)
	ctx := <-r.started
	f.Close() // returns once the read has
	if ctx.Err() == nil {
		t.Fatal("Close returned with the read running")
	}
	if got := f.Probes(r, p); !slices.Equal(got.Any[0], p.Any[0]) {
		t.Fatalf("after Close the filter left out values: %v", got.Any)
	}
	f.Close() // had that lookup started a read, it would have begun its query before this returns
	select {
	case <-f.Built():
		t.Fatal("a read ended by Close built the filter")
	case <-r.started:
		t.Fatal("a lookup after Close started another read")
	default:
	}
}

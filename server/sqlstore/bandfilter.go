package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/xinzhou-eco/fieldsync/server"
)

// BandFilter is the set, held in memory, of the band values the rows of
// the perceptual hash index have, by band and by the lookup sets that
// find a row's kind (probeSets), so that a lookup asks the index only for
// values some row could answer. A fingerprint is looked up by about
// 70,000 band values (every value within 2 bits of each of its hashes'
// bands), and each costs an index seek whether a row has it or not: in
// an index of a few thousand photos almost none does, and the seeks were
// most of the processing of a small photo. A band of 22 bits takes
// 512 KiB, one of 21 bits 256 KiB; a class of kinds all three, and there
// are four (dHash, whole content, centred windows, the rest): 4 MiB at
// most, whatever the number of photos.
//
// The filter may hold values no row has any more (a photo's rows
// replaced or deleted): such a value only costs its seek, as every value
// did before. It must never lack a value a row has, so it is for a store
// that alone writes its index: every row is added (Add) before it is
// written, and those written before the store opened are read from the
// table, on a goroutine the first lookup (Probes) starts. Until that read
// ends, lookups ask for every value, as without the filter: a city's year
// of photos is about 15 million rows, some ten seconds to read, which the
// first photos processed after a start no longer wait for. A server on
// PostgreSQL shares its index with other servers and does not use it.
//
// The zero value is ready for use; a BandFilter must not be copied.
type BandFilter struct {
	classes [1 << len(probeSets)]atomic.Pointer[bandBits]
	built   atomic.Bool
	mu      sync.Mutex
	// Under mu: the end of the table's read under way (nil when none
	// is), the channel its goroutine closes when it returns, whether the
	// store has closed, and the channel Built returns (closed once built
	// is set).
	stop   context.CancelFunc
	ended  chan struct{}
	closed bool
	ready  chan struct{}
}

// bandBits holds one bit per value of each band.
type bandBits [3][]atomic.Uint64

// kindClass is the set of probeSets that find rows of kind k, as a mask:
// the filter keeps one bandBits per class.
func kindClass(k int) int {
	c := 0
	for i, set := range probeSets {
		if set.kinds == nil || slices.Contains(set.kinds, k) {
			c |= 1 << i
		}
	}
	return c
}

// class returns the bits of class c, made if absent.
func (f *BandFilter) class(c int) *bandBits {
	if b := f.classes[c].Load(); b != nil {
		return b
	}
	b := new(bandBits)
	for band := range b {
		b[band] = make([]atomic.Uint64, 1<<server.BandBits(band)/64)
	}
	if f.classes[c].CompareAndSwap(nil, b) {
		return b
	}
	return f.classes[c].Load()
}

// add adds the bands of one row of kind k.
func (f *BandFilter) add(k int, bands [3]uint32) {
	b := f.class(kindClass(k))
	for band, v := range bands {
		if w := int(v >> 6); w < len(b[band]) {
			b[band][w].Or(1 << (v & 63))
		}
	}
}

// Add adds the band values of rows. A store calls it before it writes
// them, so that no lookup that can read a row misses its values.
func (f *BandFilter) Add(rows []server.PhotoHashRow) {
	for _, r := range rows {
		f.add(r.Kind, r.Bands())
	}
}

// photoHashBandsSQL selects the kind and bands of every row of the index,
// from which a BandFilter is first filled.
const photoHashBandsSQL = `SELECT kind, b0, b1, b2 FROM photo_hash`

// startBuild starts reading the table on a goroutine of its own, unless
// one is reading it or it has been read. A read that fails is tried again
// by the next lookup.
func (f *BandFilter) startBuild(r Reader) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stop != nil || f.closed || f.built.Load() {
		return
	}
	// Not the lookup's context: the read outlives the lookup that started
	// it, and ends with the store (Close).
	ctx, stop := context.WithCancel(context.Background())
	ended := make(chan struct{})
	f.stop, f.ended = stop, ended
	go func() {
		defer close(ended)
		err := f.build(ctx, r)
		f.mu.Lock()
		defer f.mu.Unlock()
		stop()
		f.stop = nil
		if err == nil {
			f.built.Store(true)
			if f.ready != nil {
				close(f.ready)
			}
		}
	}()
}

// Close ends a read of the table under way and returns once it has
// ended, and no read starts after: the store is closing, and its pool
// would wait for the query.
func (f *BandFilter) Close() {
	f.mu.Lock()
	f.closed = true
	ended := f.ended
	if f.stop != nil {
		f.stop()
	}
	f.mu.Unlock()
	if ended != nil {
		<-ended
	}
}

// build adds every row of the table. Rows written meanwhile are added by
// their writers (Add), whether or not the read sees them.
func (f *BandFilter) build(ctx context.Context, r Reader) error {
	rows, err := r.Query(ctx, photoHashBandsSQL)
	if err != nil {
		return fmt.Errorf("read the hash index's bands: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int
		var bands [3]int64
		if err := rows.Scan(&k, &bands[0], &bands[1], &bands[2]); err != nil {
			return fmt.Errorf("read the hash index's bands: %w", err)
		}
		f.add(k, [3]uint32{uint32(bands[0]), uint32(bands[1]), uint32(bands[2])})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the hash index's bands: %w", err)
	}
	return nil
}

// Built returns a channel closed once the rows written before the store
// opened have been read, from when the filter leaves values out.
func (f *BandFilter) Built() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ready == nil {
		f.ready = make(chan struct{})
		if f.built.Load() {
			close(f.ready)
		}
	}
	return f.ready
}

// has reports whether some row of a kind in one of the classes cs has
// value v in band. A value wider than the band is kept: it is not the
// filter's to judge.
func (f *BandFilter) has(cs []*bandBits, band int, v uint32) bool {
	w := int(v >> 6)
	if w >= 1<<server.BandBits(band)/64 {
		return true
	}
	for _, b := range cs {
		if b[band][w].Load()&(1<<(v&63)) != 0 {
			return true
		}
	}
	return false
}

// Probes returns p without the values that no row of a kind its set
// finds has; p itself until the table, which the first call starts
// reading from r, has been read. p is not changed.
func (f *BandFilter) Probes(r Reader, p server.HashProbes) server.HashProbes {
	if !f.built.Load() {
		f.startBuild(r)
		return p
	}
	var out server.HashProbes
	for i, set := range probeSets {
		var cs []*bandBits
		for c := range f.classes {
			if c&(1<<i) != 0 {
				if b := f.classes[c].Load(); b != nil {
					cs = append(cs, b)
				}
			}
		}
		from, to := set.of(&p), set.of(&out)
		for band, vs := range from {
			var kept []uint32
			for _, v := range vs {
				if f.has(cs, band, v) {
					kept = append(kept, v)
				}
			}
			to[band] = kept
		}
	}
	return out
}

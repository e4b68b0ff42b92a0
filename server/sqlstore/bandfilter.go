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
// table on the first lookup (Probes). A server on PostgreSQL shares its
// index with other servers and does not use it.
//
// The zero value is ready for use; a BandFilter must not be copied.
type BandFilter struct {
	classes [1 << len(probeSets)]atomic.Pointer[bandBits]
	built   atomic.Bool
	mu      sync.Mutex // held while the filter reads the table
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

// build adds every row of the table, once: until it has, the filter
// keeps every value.
func (f *BandFilter) build(ctx context.Context, r Reader) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.built.Load() {
		return nil
	}
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
	f.built.Store(true)
	return nil
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
// finds has, reading the table from r on first use. p is not changed.
func (f *BandFilter) Probes(ctx context.Context, r Reader, p server.HashProbes) (server.HashProbes, error) {
	if !f.built.Load() {
		if err := f.build(ctx, r); err != nil {
			return p, err
		}
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
	return out, nil
}

package storetest

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// testPhotoHashIndex: fingerprint rows are replaced per photo, read back
// whole with their mirror hashes, and found by any of their three bands
// (never by the mirror's; by the kind-0 bands alone for dHash probes, the
// kind-1 bands alone for full probes, those of kinds 1, 2, 3 and 4 for
// centre probes; among thousands of probed values);
// LivePhotoSites keeps the processed live photos, in every county; photos
// with a phash and no rows are listed for indexing.
func testPhotoHashIndex(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b := e.inspector(xinfu), e.inspector(dingxia)
	siteA, inspA := a.newInspection(xinfu)
	siteB, inspB := b.newInspection(dingxia)
	// 0: processed (xinfu). 1: processed, another county. 2: not yet
	// processed. 3: processed, then deleted. 4: processed before
	// fingerprints: a phash, no rows.
	ph := make([]string, 5)
	for i := range ph {
		ph[i] = uuid.NewString()
		d, insp := a, inspA
		if i == 1 {
			d, insp = b, inspB
		}
		d.pushOK(d.mut(syncproto.EntityPhoto, ph[i], map[string]any{"inspection_id": insp, "sha256": sha(200 + i)}))
	}
	set := func(id string, v map[string]any) {
		t.Helper()
		if err := e.s.SetServerFields(e.ctx, syncproto.EntityPhoto, id, v); err != nil {
			t.Fatal(err)
		}
	}
	processed := func(site string) map[string]any {
		return map[string]any{"uploaded": true, "processed_at": "2026-11-20T10:00:00Z", "phash": "0123456789abcdef", "site_id": site}
	}
	set(ph[0], processed(siteA))
	set(ph[1], processed(siteB))
	set(ph[2], map[string]any{"uploaded": true})
	set(ph[3], processed(siteA))
	set(ph[4], processed(siteA))

	const h = 0x0123_4567_89ab_cdef
	const high = 0xfedc_ba98_7654_3210 // top bit set: stored as a negative integer
	put := func(id string, rows []server.PhotoHashRow) {
		t.Helper()
		if err := e.st.SetPhotoHashes(e.ctx, id, rows); err != nil {
			t.Fatal(err)
		}
	}
	put(ph[0], []server.PhotoHashRow{{Kind: 0, Hash: 1}}) // replaced next
	put(ph[0], []server.PhotoHashRow{{Kind: 0, Hash: h}, {Kind: 1, Hash: high, Mirror: 0xabcd_0000_0000_0001, HasMirror: true}})
	// Photo 1: its content, only band 2 equal to h (bits 3k+2); a centred
	// window (kind 3) and another (kind 18) with the same hash.
	const c = 0x5a5a_5a5a_5a5a_5a5a
	put(ph[1], []server.PhotoHashRow{{Kind: 1, Hash: h ^ 0b11011}, {Kind: 3, Hash: c}, {Kind: 18, Hash: c}})
	put(ph[2], []server.PhotoHashRow{{Kind: 0, Hash: h}})
	put(ph[3], []server.PhotoHashRow{{Kind: 0, Hash: h}})
	deleteRecord(t, e, syncproto.EntityPhoto, ph[3])

	rows, err := e.st.PhotoHashRows(e.ctx, ph[0])
	want := []server.PhotoHashRow{{Kind: 0, Hash: h}, {Kind: 1, Hash: high, Mirror: 0xabcd_0000_0000_0001, HasMirror: true}}
	if err != nil || !slices.Equal(rows, want) {
		t.Errorf("rows of photo 0: %+v %v, want %+v", rows, err, want)
	}
	if rows, err := e.st.PhotoHashRows(e.ctx, ph[4]); err != nil || len(rows) != 0 {
		t.Errorf("rows of photo 4: %+v %v, want none", rows, err)
	}

	bands := server.PhotoHashRow{Hash: h}.Bands()
	hb := server.PhotoHashRow{Hash: high}.Bands()
	if hb[0] < 1<<21 {
		t.Fatalf("band 0 of %x is %x: the test wants its 22nd bit set", uint64(high), hb[0])
	}
	mb := server.PhotoHashRow{Hash: 0xabcd_0000_0000_0001}.Bands()
	cb := server.PhotoHashRow{Hash: c}.Bands()
	// Thousands of values, the band among them.
	many := make([]uint32, 0, 5000)
	for v := range uint32(5000) {
		many = append(many, max(bands[2], 2500)-2500+v)
	}
	found := func(probes server.HashProbes) []string {
		t.Helper()
		cands, err := e.st.PhotoHashCandidates(e.ctx, probes)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cands {
			s := c.PhotoID + " " + strconv.Itoa(c.Kind)
			if c.Kind == 1 && c.PhotoID == ph[0] && c.Hash != high {
				t.Errorf("photo 0's kind 1 hash read back as %x", c.Hash)
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	// Candidates are rows, whatever their photo; LivePhotoSites (below)
	// keeps the processed live ones.
	k0 := func(i int) string { return ph[i] + " 0" }
	k1 := func(i int) string { return ph[i] + " 1" }
	for _, tc := range []struct {
		name string
		p    server.HashProbes
		want []string
	}{
		{"every band", server.HashProbes{Any: [3][]uint32{{bands[0]}, {bands[1]}, {bands[2]}}}, []string{k0(0), k1(1), k0(2), k0(3)}},
		{"first band only", server.HashProbes{Any: [3][]uint32{{bands[0], 7}}}, []string{k0(0), k0(2), k0(3)}},
		{"last band", server.HashProbes{Any: [3][]uint32{2: {bands[2]}}}, []string{k0(0), k1(1), k0(2), k0(3)}},
		{"among thousands of values", server.HashProbes{Any: [3][]uint32{2: many}}, []string{k0(0), k1(1), k0(2), k0(3)}},
		{"a mirror hash is not indexed", server.HashProbes{Any: [3][]uint32{{mb[0]}, {mb[1]}, {mb[2]}}}, nil},
		{"the high hash", server.HashProbes{Any: [3][]uint32{{hb[0]}}}, []string{k1(0)}},
		{"the high hash's last band", server.HashProbes{Any: [3][]uint32{2: {hb[2]}}}, []string{k1(0)}},
		{"nothing", server.HashProbes{Any: [3][]uint32{{1}, {2}, {3}}}, nil},
		{"no probes", server.HashProbes{}, nil},
		{"full probes: kind 1", server.HashProbes{Full: [3][]uint32{{hb[0]}}}, []string{k1(0)}},
		{"full probes: kind 0 is not found", server.HashProbes{Full: [3][]uint32{{bands[0]}}}, nil},
		{"full probes: by the last band", server.HashProbes{Full: [3][]uint32{2: {bands[2]}}}, []string{k1(1)}},
		{"dHash probes: kind 0 only", server.HashProbes{DHash: [3][]uint32{2: {bands[2]}}}, []string{k0(0), k0(2), k0(3)}},
		{"dHash probes: kind 1 is not found", server.HashProbes{DHash: [3][]uint32{{hb[0]}, {hb[1]}, {hb[2]}}}, nil},
		{"both sets", server.HashProbes{Any: [3][]uint32{{bands[0]}}, Full: [3][]uint32{{hb[0]}}}, []string{k0(0), k0(2), k0(3), k1(0)}},
		{"any probes: every kind", server.HashProbes{Any: [3][]uint32{1: {cb[1]}}}, []string{ph[1] + " 3", ph[1] + " 18"}},
		{"centre probes: a centred window", server.HashProbes{Centre: [3][]uint32{{cb[0]}}}, []string{ph[1] + " 3"}},
		{"centre probes: a content", server.HashProbes{Centre: [3][]uint32{{hb[0]}}}, []string{k1(0)}},
		{"centre probes: not kind 0", server.HashProbes{Centre: [3][]uint32{2: {bands[2]}}}, []string{k1(1)}},
		{"three sets", server.HashProbes{DHash: [3][]uint32{1: {bands[1]}}, Full: [3][]uint32{1: {hb[1]}}, Any: [3][]uint32{{7}}}, []string{k0(0), k0(2), k0(3), k1(0)}},
	} {
		if got := found(tc.p); !sameSet(got, tc.want) {
			t.Errorf("%s: found %q, want %q", tc.name, got, tc.want)
		}
	}
	live, err := e.st.LivePhotoSites(e.ctx, append(slices.Clone(ph), uuid.NewString()))
	wantLive := map[string]string{ph[0]: siteA, ph[1]: siteB, ph[4]: siteA}
	if err != nil || !maps.Equal(live, wantLive) {
		t.Errorf("live photo sites %v %v, want %v (processed, not deleted, any county)", live, err, wantLive)
	}

	un, err := e.st.UnindexedPhotos(e.ctx)
	if err != nil || !sameSet(un, []string{ph[4]}) {
		t.Errorf("unindexed %v %v, want [%s]", un, err, ph[4])
	}
	put(ph[4], []server.PhotoHashRow{{Kind: 0, Hash: h}})
	if un, err := e.st.UnindexedPhotos(e.ctx); err != nil || len(un) != 0 {
		t.Errorf("unindexed after indexing %v %v, want none", un, err)
	}
	put(ph[0], nil)
	if rows, err := e.st.PhotoHashRows(e.ctx, ph[0]); err != nil || len(rows) != 0 {
		t.Errorf("rows of photo 0 after clearing: %+v %v", rows, err)
	}
}

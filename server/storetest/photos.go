package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// photoCases: the completed uploads, the blobs being deleted, and the
// reads of photo processing.
var photoCases = []testCase{
	{"Uploads", testUploads},
	{"BlobRefsAndDeleting", testBlobRefs},
	{"ProcessingReads", testPhotoReads},
	{"UploadClaims", testUploadClaims},
	{"PhotoHashIndex", testPhotoHashIndex}, // phashindex.go
	{"ParentsAgree", testPhotoParentsAgree},
}

// testPhotoParentsAgree: a photo naming both an inspection and a finding
// names a finding of that inspection; a finding of another inspection is
// refused (invalid_value) whether it comes with the photo's creation or
// later, and nothing of it is stored.
func testPhotoParentsAgree(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	_, a := d.newInspection(xinfu)
	_, other := d.newInspection(xinfu)
	finding := uuid.NewString()
	d.pushOK(d.mut(syncproto.EntityFinding, finding, map[string]any{"inspection_id": a, "description": "问题"}))
	sum := strings.Repeat("ab", 32)
	photo := func(fields map[string]any) syncproto.PushResult {
		t.Helper()
		return d.push(d.mut(syncproto.EntityPhoto, uuid.NewString(), fields)).Results[0]
	}
	if r := photo(map[string]any{"inspection_id": a, "finding_id": finding, "sha256": sum}); r.Status != syncproto.StatusApplied {
		t.Errorf("a photo of the inspection and its finding: %+v", r)
	}
	if r := photo(map[string]any{"inspection_id": other, "finding_id": finding, "sha256": sum}); r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeInvalidValue {
		t.Errorf("a photo of one inspection and another's finding: %+v, want rejected invalid_value", r)
	}
	later := uuid.NewString()
	d.pushOK(d.mut(syncproto.EntityPhoto, later, map[string]any{"inspection_id": other, "sha256": sum}))
	if r := d.push(d.mut(syncproto.EntityPhoto, later, map[string]any{"finding_id": finding})).Results[0]; r.Status != syncproto.StatusRejected {
		t.Errorf("another inspection's finding added to a photo: %+v, want rejected", r)
	}
	if got := e.get(syncproto.EntityPhoto, later).Value("finding_id"); got != nil && string(got) != "null" {
		t.Errorf("the refused finding_id was stored: %s", got)
	}
}

func sameUpload(a, b server.PhotoUpload) bool {
	return a.PhotoID == b.PhotoID && a.SHA256 == b.SHA256 && a.DeviceID == b.DeviceID && a.UserID == b.UserID &&
		a.Size == b.Size && a.CompletedAt.Equal(b.CompletedAt) && a.ClaimedAt.Equal(b.ClaimedAt)
}

func uploadIDs(us []server.PhotoUpload) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.PhotoID)
	}
	return out
}

func testUploads(t *testing.T, open Opener) {
	e := newEnv(t, open)
	dev, other := uuid.NewString(), uuid.NewString()
	p1, p2, p3, p4 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	u1 := server.PhotoUpload{PhotoID: p1, SHA256: sha(1), DeviceID: dev, UserID: "u", Size: 1000, CompletedAt: t0}
	u2 := server.PhotoUpload{PhotoID: p2, SHA256: sha(2), DeviceID: dev, UserID: "u", Size: 2000, CompletedAt: t0.Add(time.Hour)}
	u3 := server.PhotoUpload{PhotoID: p3, SHA256: sha(3), DeviceID: dev, UserID: "u", Size: 3000, CompletedAt: t0,
		ClaimedAt: t0.Add(time.Minute)}
	u4 := server.PhotoUpload{PhotoID: p4, SHA256: sha(4), DeviceID: other, UserID: "v", Size: 4000, CompletedAt: t0}
	p5 := uuid.NewString() // user u's, from its second device
	u5 := server.PhotoUpload{PhotoID: p5, SHA256: sha(5), DeviceID: uuid.NewString(), UserID: "u", Size: 5000, CompletedAt: t0.Add(time.Hour)}
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		if u, err := tx.PhotoUpload(e.ctx, p1); err != nil || u != nil {
			t.Errorf("upload before any: %+v %v", u, err)
		}
		for _, u := range []server.PhotoUpload{u1, u2, u3, u4, u5} {
			if err := tx.PutPhotoUpload(e.ctx, &u); err != nil {
				return err
			}
		}
		// The transaction sees its own uploads.
		if u, err := tx.PhotoUpload(e.ctx, p3); err != nil || u == nil || !sameUpload(*u, u3) {
			t.Errorf("upload in its transaction: %+v %v", u, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	un, err := e.st.UnclaimedUploads(e.ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if !sameSet(uploadIDs(un), []string{p1, p2}) {
		t.Errorf("unclaimed %v, want p1 p2", uploadIDs(un))
	}
	for _, u := range un {
		if want := map[string]server.PhotoUpload{p1: u1, p2: u2}[u.PhotoID]; !sameUpload(u, want) {
			t.Errorf("unclaimed %+v, want %+v", u, want)
		}
	}
	for user, want := range map[string][]string{"u": {p1, p2, p5}, "v": {p4}, "w": nil} {
		if un, err := e.st.UserUnclaimedUploads(e.ctx, user); err != nil || !sameSet(uploadIDs(un), want) {
			t.Errorf("user %s's unclaimed: %v %v, want %v (of all its devices)", user, uploadIDs(un), err, want)
		}
	}
	err = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		stale, err := tx.StaleUploads(e.ctx, t0.Add(30*time.Minute))
		if err != nil {
			return err
		}
		if !sameSet(uploadIDs(stale), []string{p1, p4}) {
			t.Errorf("stale before t0+30m: %v, want p1 p4 (unclaimed, completed before)", uploadIDs(stale))
		}
		if stale, _ := tx.StaleUploads(e.ctx, t0); len(stale) != 0 {
			t.Errorf("stale before t0: %v, want none (strictly before)", uploadIDs(stale))
		}
		// Replacing an upload: claimed now, another hash.
		u1b := u1
		u1b.SHA256, u1b.ClaimedAt = sha(11), t0.Add(2*time.Minute)
		if err := tx.PutPhotoUpload(e.ctx, &u1b); err != nil {
			return err
		}
		if u, err := tx.PhotoUpload(e.ctx, p1); err != nil || u == nil || !sameUpload(*u, u1b) {
			t.Errorf("replaced upload %+v %v", u, err)
		}
		return tx.DeletePhotoUploads(e.ctx, []string{p2, p4, uuid.NewString()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if un, err := e.st.UnclaimedUploads(e.ctx, dev); err != nil || len(un) != 0 {
		t.Errorf("unclaimed after claim and delete: %v %v", uploadIDs(un), err)
	}
	if un, err := e.st.UnclaimedUploads(e.ctx, other); err != nil || len(un) != 0 {
		t.Errorf("other device's after delete: %v %v", uploadIDs(un), err)
	}
	_ = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		for id, want := range map[string]bool{p1: true, p2: false, p3: true, p4: false} {
			if u, err := tx.PhotoUpload(e.ctx, id); err != nil || (u != nil) != want {
				t.Errorf("upload %s present %v, want %v (%v)", id, u != nil, want, err)
			}
		}
		return nil
	})
}

func testBlobRefs(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	_, insp := d.newInspection(xinfu)
	sum := sha(7)
	// Two photo records declare the hash; one is marked uploaded.
	p1, p2 := uuid.NewString(), uuid.NewString()
	d.pushOK(d.mut(syncproto.EntityPhoto, p1, map[string]any{"inspection_id": insp, "sha256": sum}),
		d.mut(syncproto.EntityPhoto, p2, map[string]any{"inspection_id": insp, "sha256": sum}))
	refs, err := e.st.BlobRefs(e.ctx, sum)
	if err != nil || refs.Records != 0 || len(refs.Uploads) != 0 || !refs.DeletingSince.IsZero() {
		t.Errorf("refs before upload %+v %v", refs, err)
	}
	if err := e.s.SetServerFields(e.ctx, syncproto.EntityPhoto, p1, map[string]any{"uploaded": true}); err != nil {
		t.Fatal(err)
	}
	up := server.PhotoUpload{PhotoID: p1, SHA256: sum, DeviceID: d.p.DeviceID, UserID: d.p.UserID, Size: 10, CompletedAt: t0, ClaimedAt: t0}
	err = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		if err := tx.PutPhotoUpload(e.ctx, &up); err != nil {
			return err
		}
		return tx.SetBlobDeleting(e.ctx, sum, t0.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	refs, err = e.st.BlobRefs(e.ctx, sum)
	if err != nil || refs.Records != 1 || len(refs.Uploads) != 1 || !sameUpload(refs.Uploads[0], up) || !refs.DeletingSince.Equal(t0.Add(time.Hour)) {
		t.Errorf("refs %+v %v", refs, err)
	}
	if refs, err := e.st.BlobRefs(e.ctx, sha(8)); err != nil || refs.Records != 0 || len(refs.Uploads) != 0 || !refs.DeletingSince.IsZero() {
		t.Errorf("refs of an unknown hash %+v %v", refs, err)
	}
	err = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		// The transaction sees its own record writes.
		r, err := tx.Get(e.ctx, server.EntityByName(syncproto.EntityPhoto), p2)
		if err != nil {
			return err
		}
		if err := e.s.Upsert(e.ctx, tx, syncproto.EntityPhoto, p2, r.County, map[string]any{"uploaded": true}); err != nil {
			return err
		}
		refs, err := tx.BlobRefs(e.ctx, sum)
		if err != nil || refs.Records != 2 || len(refs.Uploads) != 1 || !refs.DeletingSince.Equal(t0.Add(time.Hour)) {
			t.Errorf("refs in a transaction %+v %v", refs, err)
		}
		if err := tx.SetBlobDeleting(e.ctx, sha(9), t0.Add(2*time.Hour)); err != nil {
			return err
		}
		for _, tc := range []struct {
			before time.Time
			want   []string
		}{
			{t0.Add(time.Hour), nil},
			{t0.Add(time.Hour + time.Millisecond), []string{sum}},
			{t0.Add(3 * time.Hour), []string{sum, sha(9)}},
		} {
			got, err := tx.BlobsDeleting(e.ctx, tc.before)
			if err != nil || !sameSet(got, tc.want) {
				t.Errorf("deleting before %v: %v %v, want %v", tc.before, got, err, tc.want)
			}
		}
		// Zero removes the mark; marking again moves it.
		if err := tx.SetBlobDeleting(e.ctx, sum, time.Time{}); err != nil {
			return err
		}
		return tx.SetBlobDeleting(e.ctx, sha(9), t0.Add(5*time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	refs, _ = e.st.BlobRefs(e.ctx, sum)
	if refs.Records != 2 || !refs.DeletingSince.IsZero() {
		t.Errorf("refs after unmarking %+v", refs)
	}
	// A tombstoned record keeps its bytes: it still counts.
	deleteRecord(t, e, syncproto.EntityPhoto, p2)
	if refs, _ := e.st.BlobRefs(e.ctx, sum); refs.Records != 2 {
		t.Errorf("refs after deleting a record %+v", refs)
	}
	_ = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		if got, err := tx.BlobsDeleting(e.ctx, t0.Add(4*time.Hour)); err != nil || len(got) != 0 {
			t.Errorf("deleting before t0+4h: %v %v", got, err)
		}
		return nil
	})
}

func testPhotoReads(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site, insp := d.newInspection(xinfu)
	ph := make([]string, 5)
	for i := range ph {
		ph[i] = uuid.NewString()
		d.pushOK(d.mut(syncproto.EntityPhoto, ph[i], map[string]any{"inspection_id": insp, "sha256": sha(100 + i)}))
	}
	set := func(id string, v map[string]any) {
		t.Helper()
		if err := e.s.SetServerFields(e.ctx, syncproto.EntityPhoto, id, v); err != nil {
			t.Fatal(err)
		}
	}
	// 0: uploaded, not processed. 1: processed with a hash and flags.
	// 2: processed, flagged edited. 3: not uploaded. 4: uploaded, then
	// its record deleted.
	set(ph[0], map[string]any{"uploaded": true})
	set(ph[1], map[string]any{"uploaded": true, "processed_at": "2026-11-20T10:00:00Z", "phash": "ff00ff00ff00ff00",
		"site_id": site, "flags": map[string]any{"no_gps": map[string]any{}, "far_from_site": map[string]any{"distance_m": 800}}})
	set(ph[2], map[string]any{"uploaded": true, "processed_at": "2026-11-20T10:00:00Z", "phash": "0f0f0f0f0f0f0f0f",
		"flags": map[string]any{"edited": map[string]any{}}})
	set(ph[4], map[string]any{"uploaded": true, "phash": "1111111111111111", "flags": map[string]any{"no_gps": map[string]any{}}})
	deleteRecord(t, e, syncproto.EntityPhoto, ph[4])

	un, err := e.st.UnprocessedPhotos(e.ctx)
	if err != nil || !sameSet(un, []string{ph[0]}) {
		t.Errorf("unprocessed %v %v, want [%s]", un, err, ph[0])
	}
	// The stored photos' hashes, newest change first: not 3 (no bytes)
	// nor 4 (deleted).
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{10, []string{sha(102), sha(101), sha(100)}},
		{2, []string{sha(102), sha(101)}},
	} {
		if got, err := e.st.StoredPhotoSums(e.ctx, tc.limit); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("stored photo sums (limit %d): %v %v, want %v", tc.limit, got, err, tc.want)
		}
	}

	// The photos of a visit: the inspection's and its findings', and
	// those placed at a site; processed and live only.
	finding, fph := uuid.NewString(), uuid.NewString()
	d.pushOK(d.mut(syncproto.EntityFinding, finding, map[string]any{"inspection_id": insp, "description": "围挡缺失", "status": "open"}),
		d.mut(syncproto.EntityPhoto, fph, map[string]any{"finding_id": finding, "sha256": sha(110)}))
	set(fph, map[string]any{"uploaded": true, "processed_at": "2026-11-20T10:00:00Z"})
	_, otherInsp := d.newInspection(xinfu)
	for _, tc := range []struct {
		inspections, sites, want []string
	}{
		{[]string{insp}, nil, []string{ph[1], ph[2], fph}},
		{nil, []string{site}, []string{ph[1]}},
		{[]string{otherInsp}, []string{uuid.NewString()}, nil},
		{nil, nil, nil},
	} {
		got, err := e.st.VisitPhotos(e.ctx, tc.inspections, tc.sites)
		if err != nil || !sameSet(got, tc.want) {
			t.Errorf("photos of inspections %v and sites %v: %v %v, want %v", tc.inspections, tc.sites, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		flags []string
		want  []string
	}{
		{[]string{"no_gps"}, []string{ph[1]}},
		{[]string{"edited", "far_from_site"}, []string{ph[1], ph[2]}},
		{[]string{"no_gps", "far_from_site"}, []string{ph[1]}}, // each photo once
		{[]string{"reused"}, nil},
		{nil, nil},
	} {
		got, err := e.st.PhotosFlagged(e.ctx, tc.flags...)
		if err != nil || !sameSet(got, tc.want) {
			t.Errorf("flagged %v: %v %v, want %v", tc.flags, got, err, tc.want)
		}
	}
}

// deleteRecord tombstones a record with the server's clock (as an
// office tool would), through WriteTx.Put.
func deleteRecord(t *testing.T, e *env, entity, id string) {
	t.Helper()
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		r, err := tx.Get(e.ctx, server.EntityByName(entity), id)
		if err != nil {
			return err
		}
		syncproto.Merge(&r.State, nil, true, e.s.Clock.Observe(r.State.Highest()))
		r.UpdatedAt = e.Now()
		return tx.Put(e.ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.get(entity, id); r == nil || !r.State.IsDeleted() {
		t.Fatalf("%s %s not deleted: %+v", entity, id, r)
	}
}

package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// testUploadClaims: the photo possession flow over the store (the bytes
// on the filesystem blob store, whose behaviour is not under test). Bytes
// uploaded before their record wait unclaimed and are claimed when the
// record arrives; bytes uploaded after it mark it uploaded at once.
func testUploadClaims(t *testing.T, open Opener) {
	e := seeded(t, open)
	blobs, err := blobfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.s.Blobs = blobs
	var ready []string
	e.s.PhotoReady = func(ids []string) { ready = append(ready, ids...) }
	d := e.inspector(xinfu)
	_, insp := d.newInspection(xinfu)
	upload := func(photoID string, data []byte) []string {
		t.Helper()
		sum := sha256.Sum256(data)
		ids, err := e.s.StoreUpload(e.ctx, d.p, server.PhotoUpload{PhotoID: photoID, SHA256: hex.EncodeToString(sum[:]),
			DeviceID: d.p.DeviceID, UserID: d.p.UserID, Size: int64(len(data))},
			func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatalf("upload %s: %v", photoID, err)
		}
		return ids
	}
	hexSum := func(data []byte) string { s := sha256.Sum256(data); return hex.EncodeToString(s[:]) }

	// Bytes first.
	early, data1 := uuid.NewString(), []byte("early photo bytes")
	if ids := upload(early, data1); len(ids) != 0 {
		t.Errorf("upload before its record: ids %v", ids)
	}
	un, err := e.st.UnclaimedUploads(e.ctx, d.p.DeviceID)
	if err != nil || len(un) != 1 || un[0].PhotoID != early || un[0].SHA256 != hexSum(data1) || !un[0].CompletedAt.Equal(t0) ||
		!un[0].ClaimedAt.IsZero() || un[0].Size != int64(len(data1)) {
		t.Fatalf("unclaimed %+v %v", un, err)
	}
	e.advance(time.Minute)
	d.pushOK(d.mut(syncproto.EntityPhoto, early, map[string]any{"inspection_id": insp, "sha256": hexSum(data1)}))
	if r := e.get(syncproto.EntityPhoto, early); r.Value("uploaded") == nil || string(r.Value("uploaded")) != "true" {
		t.Errorf("early photo not marked uploaded: %s", r.Value("uploaded"))
	}
	if un, _ := e.st.UnclaimedUploads(e.ctx, d.p.DeviceID); len(un) != 0 {
		t.Errorf("unclaimed after the record came: %+v", un)
	}
	refs, err := e.st.BlobRefs(e.ctx, hexSum(data1))
	if err != nil || refs.Records != 1 || len(refs.Uploads) != 1 || !refs.Uploads[0].ClaimedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("refs of the early photo %+v %v", refs, err)
	}
	if !slices.Equal(ready, []string{early}) {
		t.Errorf("ready %v, want the early photo", ready)
	}

	// Record first.
	late, data2 := uuid.NewString(), []byte("late photo bytes")
	d.pushOK(d.mut(syncproto.EntityPhoto, late, map[string]any{"inspection_id": insp, "sha256": hexSum(data2)}))
	if devs, _ := e.st.Devices(e.ctx, server.Scope{All: true}); devs[0].Health.PendingUploads != 1 {
		t.Errorf("pending uploads %d, want 1", devs[0].Health.PendingUploads)
	}
	if ids := upload(late, data2); !slices.Equal(ids, []string{late}) {
		t.Errorf("upload after its record: ids %v", ids)
	}
	if r := e.get(syncproto.EntityPhoto, late); string(r.Value("uploaded")) != "true" {
		t.Errorf("late photo not marked uploaded")
	}
	if un, err := e.st.UnprocessedPhotos(e.ctx); err != nil || !sameSet(un, []string{early, late}) {
		t.Errorf("unprocessed %v %v", un, err)
	}
	if devs, _ := e.st.Devices(e.ctx, server.Scope{All: true}); devs[0].Health.PendingUploads != 0 {
		t.Errorf("pending uploads %d, want 0", devs[0].Health.PendingUploads)
	}
	// Bytes uploaded while the sweeper deletes the same hash are refused.
	data3 := []byte("swept bytes")
	if err := e.st.Update(e.ctx, func(tx server.WriteTx) error { return tx.SetBlobDeleting(e.ctx, hexSum(data3), e.Now()) }); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.StoreUpload(e.ctx, d.p, server.PhotoUpload{PhotoID: uuid.NewString(), SHA256: hexSum(data3), DeviceID: d.p.DeviceID,
		UserID: d.p.UserID, Size: int64(len(data3))}, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data3)), nil })
	wantCode(t, err, syncproto.CodeUnavailable, "upload of bytes being deleted")
}

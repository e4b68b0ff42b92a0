package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// openStores opens a real SQLite database and blob store (in dir/blobs) in
// a temporary directory dir, closed when the test ends.
func openStores(t *testing.T) (db *sqlite.DB, blobs *blobfs.Store, dir string) {
	t.Helper()
	dir = t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if blobs, err = blobfs.New(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	return db, blobs, dir
}

// TestSweepKeepsEvidence: the full sweep of a store holding blobs from
// before uploads were recorded (no upload rows at all) keeps the bytes of
// every photo record marked uploaded — a tombstoned one too, evidence is
// kept — and deletes, with their derivatives, those that only a record
// not marked uploaded declares, and those nothing declares; bytes stored
// within the grace period are kept whatever refers to them.
func TestSweepKeepsEvidence(t *testing.T) {
	ctx := context.Background()
	db, blobs, dir := openStores(t)
	s := server.NewSyncer(db, nil)
	month := time.Now().Add(-30 * 24 * time.Hour)
	blob := func(name string, old bool) string {
		t.Helper()
		data := []byte("photo bytes: " + name)
		sum := sha(data)
		if _, err := blobs.Put(ctx, sum, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := blobs.PutVariant(ctx, sum, server.VariantThumbnail, []byte("thumbnail")); err != nil {
			t.Fatal(err)
		}
		if old {
			path := filepath.Join(dir, "blobs", sum[:2], sum[2:4], sum, server.VariantOriginal)
			if err := os.Chtimes(path, month, month); err != nil {
				t.Fatal(err)
			}
		}
		return sum
	}
	photo := func(id, sum string, uploaded, deleted bool) {
		t.Helper()
		err := s.Store.Update(ctx, func(tx server.WriteTx) error {
			if err := s.Upsert(ctx, tx, syncproto.EntityPhoto, id, "140902", map[string]any{"sha256": sum, "uploaded": uploaded}); err != nil {
				return err
			}
			if !deleted {
				return nil
			}
			r, err := tx.Get(ctx, server.EntityByName(syncproto.EntityPhoto), id)
			if err != nil {
				return err
			}
			syncproto.Merge(&r.State, nil, true, s.Clock.Now())
			return tx.Put(ctx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		return s.Upsert(ctx, tx, syncproto.EntityCounty, "140902", "", map[string]any{"code": "140902", "name": "忻府区"})
	})
	if err != nil {
		t.Fatal(err)
	}
	live, tombstoned, declared, orphan, fresh := blob("live", true), blob("tombstoned", true), blob("declared", true), blob("orphan", true), blob("fresh", false)
	photo("0195f4c3-9d10-7a22-b1c4-000000000001", live, true, false)
	photo("0195f4c3-9d10-7a22-b1c4-000000000002", tombstoned, true, true)
	photo("0195f4c3-9d10-7a22-b1c4-000000000003", declared, false, false)

	sw := &server.Sweeper{Store: db, Blobs: blobs}
	n, err := sw.Sweep(ctx, time.Now(), true)
	if err != nil || n.Blobs != 2 {
		t.Fatalf("sweep: %+v, %v; want 2 blobs deleted", n, err)
	}
	for name, c := range map[string]struct {
		sum  string
		kept bool
	}{"uploaded record": {live, true}, "tombstoned uploaded record": {tombstoned, true}, "stored within the grace period": {fresh, true},
		"declared by a record not uploaded": {declared, false}, "declared by nothing": {orphan, false}} {
		for _, v := range []string{server.VariantOriginal, server.VariantThumbnail} {
			if ok, _ := blobs.Has(ctx, c.sum, v); ok != c.kept {
				t.Errorf("%s: %s kept %v, want %v", name, v, ok, c.kept)
			}
		}
	}
	if err := blobs.Walk(ctx, func(sum string, _ time.Time) error {
		if sum == declared || sum == orphan {
			t.Errorf("Walk still finds deleted %s", sum)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// vanishing is a blob store whose next Put keeps nothing, as when the
// Sweeper deletes bytes right after a Put found them already stored.
type vanishing struct {
	server.BlobStore
	drop bool
}

func (v *vanishing) Put(ctx context.Context, sum string, r io.Reader) (int64, error) {
	n, err := v.BlobStore.Put(ctx, sum, r)
	if v.drop && err == nil {
		v.drop = false
		err = v.BlobStore.Delete(ctx, sum)
	}
	return n, err
}

// TestUploadDuringSweep: an upload completing while the Sweeper deletes
// the same bytes is refused (unavailable, to be uploaded again) rather
// than recorded against bytes about to vanish; and bytes that vanished
// between storing and recording are stored again, so a recorded upload
// always has its bytes.
func TestUploadDuringSweep(t *testing.T) {
	ctx := context.Background()
	db, fs, _ := openStores(t)
	blobs := &vanishing{BlobStore: fs}
	s := server.NewSyncer(db, nil)
	s.Blobs = blobs
	data := []byte("photo bytes")
	u := server.PhotoUpload{PhotoID: "0195f4c3-9d10-7a22-b1c4-000000000001", SHA256: sha(data), DeviceID: "d", UserID: "u", Size: int64(len(data))}
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	mark := func(at time.Time) {
		t.Helper()
		if err := s.Store.Update(ctx, func(tx server.WriteTx) error { return tx.SetBlobDeleting(ctx, u.SHA256, at) }); err != nil {
			t.Fatal(err)
		}
	}

	mark(time.Now())
	if _, err := s.StoreUpload(ctx, nil, u, open); server.ErrorCode(err) != syncproto.CodeUnavailable {
		t.Fatalf("upload of bytes being deleted: %v, want unavailable", err)
	}
	if refs, _ := db.BlobRefs(ctx, u.SHA256); len(refs.Uploads) != 0 {
		t.Fatalf("a refused upload was recorded: %+v", refs.Uploads)
	}
	mark(time.Time{})

	blobs.drop = true
	if _, err := s.StoreUpload(ctx, nil, u, open); err != nil {
		t.Fatal(err)
	}
	if ok, _ := fs.Has(ctx, u.SHA256, server.VariantOriginal); !ok {
		t.Fatal("an upload was recorded without its bytes")
	}
	if refs, _ := db.BlobRefs(ctx, u.SHA256); len(refs.Uploads) != 1 || !refs.Referenced(time.Now().Add(-time.Hour)) {
		t.Fatalf("upload not recorded: %+v", refs)
	}
}

package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSweepKeepsEvidence: the full sweep of a store holding blobs from
// before uploads were recorded (no upload rows at all) keeps the bytes of
// every photo record marked uploaded — a tombstoned one too, evidence is
// kept — and deletes, with their derivatives, those that only a record
// not marked uploaded declares, and those nothing declares; bytes stored
// within the grace period are kept whatever refers to them.
func TestSweepKeepsEvidence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
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
	err = s.Store.Update(ctx, func(tx server.WriteTx) error {
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

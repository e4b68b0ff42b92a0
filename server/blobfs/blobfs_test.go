package blobfs

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
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPutVerifiesStoresOnceAndOpens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("照片原件 original bytes")
	if _, err := s.Put(ctx, sum([]byte("other")), bytes.NewReader(data)); server.ErrorCode(err) != "hash_mismatch" {
		t.Fatalf("wrong hash: %v, want hash_mismatch", err)
	}
	if ok, _ := s.Has(ctx, sum([]byte("other")), server.VariantOriginal); ok {
		t.Fatal("bytes with a wrong hash were kept")
	}
	for i := 0; i < 2; i++ {
		if n, err := s.Put(ctx, sum(data), bytes.NewReader(data)); err != nil || n != int64(len(data)) {
			t.Fatalf("put %d: %d, %v", i, n, err)
		}
	}
	b, err := s.Open(ctx, sum(data), server.VariantOriginal)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(b)
	b.Close()
	if !bytes.Equal(got, data) || b.Size() != int64(len(data)) {
		t.Fatalf("read back %q", got)
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(tmp) != 0 {
		t.Fatalf("temporary files left behind: %v", tmp)
	}
	if _, err := s.Open(ctx, sum(data), server.VariantPreview); server.ErrorCode(err) != "not_found" {
		t.Fatalf("missing variant: %v", err)
	}
	if _, err := s.Open(ctx, "../../etc/passwd", server.VariantOriginal); server.ErrorCode(err) != "bad_request" {
		t.Fatalf("path outside the store: %v", err)
	}
	if err := s.PutVariant(ctx, sum(data), server.VariantThumbnail, []byte("thumb")); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, sum(data), server.VariantThumbnail); !ok {
		t.Fatal("thumbnail not stored")
	}
}

// TestDeleteAndWalk: Delete removes an original with its derivatives and
// the directories it leaves empty (deleting again is no error); Walk
// reports every stored sum once, with the time its original was stored.
func TestDeleteAndWalk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	keep, drop := []byte("kept"), []byte("deleted")
	for _, data := range [][]byte{keep, drop} {
		if _, err := s.Put(ctx, sum(data), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutVariant(ctx, sum(data), server.VariantThumbnail, []byte("thumb")); err != nil {
			t.Fatal(err)
		}
	}
	walked := func() map[string]time.Time {
		got := map[string]time.Time{}
		if err := s.Walk(ctx, func(sum string, stored time.Time) error { got[sum] = stored; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := walked(); len(got) != 2 || got[sum(keep)].IsZero() || got[sum(drop)].IsZero() {
		t.Fatalf("walk before delete: %v", got)
	}
	for i := 0; i < 2; i++ {
		if err := s.Delete(ctx, sum(drop)); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	for _, v := range []string{server.VariantOriginal, server.VariantThumbnail} {
		if ok, _ := s.Has(ctx, sum(drop), v); ok {
			t.Errorf("%s kept after Delete", v)
		}
		if ok, _ := s.Has(ctx, sum(keep), v); !ok {
			t.Errorf("%s of another sum deleted", v)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, sum(drop)[:2], sum(drop)[2:4], sum(drop))); !os.IsNotExist(err) {
		t.Errorf("the deleted sum's directory is left: %v", err)
	}
	if got := walked(); len(got) != 1 || got[sum(keep)].IsZero() {
		t.Fatalf("walk after delete: %v", got)
	}
	if err := s.Delete(ctx, "../../etc"); server.ErrorCode(err) != "bad_request" {
		t.Fatalf("delete outside the store: %v", err)
	}
}

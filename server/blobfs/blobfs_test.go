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

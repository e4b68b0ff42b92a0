package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
)

// TestCopyBlobs: every original and derivative reaches the destination
// byte for byte, what it already had is left alone, a second run copies
// nothing, and a source original whose bytes no longer match its sum is
// refused rather than copied.
func TestCopyBlobs(t *testing.T) {
	ctx := context.Background()
	from, err := blobfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	to, err := blobfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(st server.BlobStore, data string, derivatives bool) string {
		t.Helper()
		h := sha256.Sum256([]byte(data))
		sum := hex.EncodeToString(h[:])
		if _, err := st.Put(ctx, sum, bytes.NewReader([]byte(data))); err != nil {
			t.Fatal(err)
		}
		if derivatives {
			for _, v := range []string{server.VariantPreview, server.VariantThumbnail} {
				if err := st.PutVariant(ctx, sum, v, []byte(v+" of "+data)); err != nil {
					t.Fatal(err)
				}
			}
		}
		return sum
	}
	var sums []string
	for i := range 5 {
		sums = append(sums, put(from, fmt.Sprintf("photo %d", i), i%2 == 0))
	}
	put(to, "photo 1", false) // already there

	n, err := server.CopyBlobs(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	// 5 originals and 3×2 derivatives, of which one original was there.
	if n.Sums != 5 || n.Copied != 10 || n.Present != 1 {
		t.Fatalf("copy: %+v, want 5 sums, 10 copied, 1 present", n)
	}
	for _, sum := range sums {
		for _, v := range server.BlobVariants {
			want := read(t, from, sum, v)
			if got := read(t, to, sum, v); !bytes.Equal(got, want) {
				t.Errorf("%s %s: %q, want %q", sum[:8], v, got, want)
			}
		}
	}
	if n, err := server.CopyBlobs(ctx, from, to); err != nil || n.Copied != 0 || n.Present != 11 {
		t.Fatalf("second copy: %+v %v, want nothing copied", n, err)
	}

	// A damaged original in the source is not copied.
	src := t.TempDir()
	bad, err := blobfs.New(src)
	if err != nil {
		t.Fatal(err)
	}
	sum := put(bad, "evidence", false)
	p := filepath.Join(src, sum[:2], sum[2:4], sum, server.VariantOriginal)
	if err := os.WriteFile(p, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.CopyBlobs(ctx, bad, to); server.ErrorCode(err) != "hash_mismatch" {
		t.Fatalf("copying a damaged original: %v, want hash_mismatch", err)
	}
	if ok, _ := to.Has(ctx, sum, server.VariantOriginal); ok {
		t.Fatal("the damaged original was copied")
	}
}

// read returns a variant's bytes, or nil when it is absent.
func read(t *testing.T, st server.BlobStore, sum, variant string) []byte {
	t.Helper()
	b, err := st.Open(context.Background(), sum, variant)
	if server.ErrorCode(err) == "not_found" {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

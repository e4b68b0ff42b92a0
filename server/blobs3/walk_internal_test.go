package blobs3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server"
)

// TestWalkAcrossPages: a sum whose variants fall on two listing pages is
// reported once, with its original's time.
func TestWalkAcrossPages(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, s3test.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	s.TempDir = t.TempDir()
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		data := []byte(fmt.Sprint("photo ", i))
		h := sha256.Sum256(data)
		sum := hex.EncodeToString(h[:])
		want[sum] = true
		if _, err := s.Put(ctx, sum, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{server.VariantPreview, server.VariantThumbnail}[:i%3] {
			if err := s.PutVariant(ctx, sum, v, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, size := range []int32{1, 2, 3, 1000} {
		s.pageSize = size
		got := map[string]int{}
		if err := s.Walk(ctx, func(sum string, stored time.Time) error {
			got[sum]++
			if stored.IsZero() {
				t.Errorf("%s without a time", sum)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for sum := range want {
			if got[sum] != 1 {
				t.Errorf("page size %d: %s reported %d times", size, sum, got[sum])
			}
		}
		if len(got) != len(want) {
			t.Errorf("page size %d: %d sums reported, want %d", size, len(got), len(want))
		}
	}
}

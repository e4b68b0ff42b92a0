package server

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// BlobVariants are every variant a blob store may hold for one sum.
var BlobVariants = []string{VariantOriginal, VariantPreview, VariantThumbnail}

// BlobCopy counts what CopyBlobs did.
type BlobCopy struct {
	Sums    int // sums with anything stored in the source
	Copied  int // variants copied (originals and derivatives)
	Present int // variants the destination already had
}

// CopyBlobs copies every sum from one blob store to another (moving a
// city's photos to a shared store): originals through Put, so their
// SHA-256 is verified on the way, then their derivatives. What the
// destination already holds is left as it is, so an interrupted copy can
// be run again.
func CopyBlobs(ctx context.Context, from, to BlobStore) (BlobCopy, error) {
	var n BlobCopy
	err := from.Walk(ctx, func(sum string, _ time.Time) error {
		n.Sums++
		for _, v := range BlobVariants {
			if ok, err := to.Has(ctx, sum, v); err != nil {
				return err
			} else if ok {
				n.Present++
				continue
			}
			copied, err := copyVariant(ctx, from, to, sum, v)
			if err != nil {
				return fmt.Errorf("copy %s of %s: %w", v, sum, err)
			}
			if copied {
				n.Copied++
			}
		}
		return nil
	})
	return n, err
}

// copyVariant copies one variant, reporting false when the source has
// none.
func copyVariant(ctx context.Context, from, to BlobStore, sum, variant string) (bool, error) {
	b, err := from.Open(ctx, sum, variant)
	if ErrorCode(err) == syncproto.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer b.Close()
	if variant == VariantOriginal {
		_, err = to.Put(ctx, sum, b)
		return err == nil, err
	}
	data, err := io.ReadAll(b)
	if err != nil {
		return false, err
	}
	return true, to.PutVariant(ctx, sum, variant, data)
}

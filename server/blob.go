package server

import (
	"context"
	"io"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Blob variants: the original bytes a phone uploaded, and the derivatives
// the server makes from them.
const (
	VariantOriginal  = "original"
	VariantPreview   = "preview"   // 1280 px JPEG, orientation applied
	VariantThumbnail = "thumbnail" // 256 px JPEG, orientation applied
)

// Blob is an open stored object.
type Blob interface {
	io.ReadSeekCloser
	io.ReaderAt
	Size() int64
	ModTime() time.Time
}

// BlobStore keeps photo bytes content-addressed by their SHA-256 (lower-case
// hex). Originals are evidence and are stored untouched; derivatives are
// kept beside them. Writes are atomic: a reader sees a whole object or none.
// The filesystem implementation is server/blobfs; an S3-compatible one can
// take its place.
//
// The store knows nothing of photo records: which bytes may be served to
// whom, and which may be deleted, is decided in this package (OpenPhoto,
// Sweeper). Only the Sweeper deletes.
type BlobStore interface {
	// Put stores r's bytes as the original of sum. It reads r to the end and
	// verifies that its SHA-256 is sum (error code hash_mismatch otherwise,
	// and nothing is kept). Storing bytes that are already there is a no-op
	// that still verifies.
	Put(ctx context.Context, sum string, r io.Reader) (int64, error)
	// PutVariant stores a derivative of sum.
	PutVariant(ctx context.Context, sum, variant string, data []byte) error
	// Open opens a variant of sum. Errors: not_found.
	Open(ctx context.Context, sum, variant string) (Blob, error)
	// Has reports whether a variant of sum is stored.
	Has(ctx context.Context, sum, variant string) (bool, error)
	// Delete removes the original of sum and every derivative. Removing
	// what is not there is not an error.
	Delete(ctx context.Context, sum string) error
	// Walk calls fn once for each sum with anything stored, in no
	// particular order, with the time its original was stored (for a sum
	// left with derivatives only, the newest of them). fn may Delete the
	// sum it is given. An error from fn stops the walk and is returned.
	Walk(ctx context.Context, fn func(sum string, stored time.Time) error) error
	// Ping reports whether the store can be reached (the server's
	// readiness).
	Ping(ctx context.Context) error
}

// HashMismatch is the error of bytes whose SHA-256 is got, not the one
// declared for them (a blob store's Put, an upload's end).
func HashMismatch(got string) *Error {
	return Errorf(syncproto.CodeHashMismatch, "文件内容的 SHA-256 (%s) 与声明的不一致", got)
}

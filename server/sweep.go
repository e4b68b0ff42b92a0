package server

import (
	"context"
	"fmt"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// DefaultUploadGrace is how long bytes uploaded for a photo record that
// has not arrived are kept waiting for it.
const DefaultUploadGrace = 7 * 24 * time.Hour

// staleMark is how old a Sweeper's "being deleted" mark must be to be
// taken as left by a sweep that crashed part-way.
const staleMark = time.Hour

// Sweeper deletes what uploads left that nothing refers to (sync.md 10.9):
//
//   - uploads no photo record has claimed within the grace period (a photo
//     id that was never pushed, or whose record declares other bytes or
//     came from another user): their rows are removed, and their bytes go
//     with them unless something else refers to them;
//   - with full, also any stored blob older than the grace period that
//     nothing refers to (bytes stored before uploads were recorded, or
//     left by a crash between storing and recording an upload).
//
// Bytes are referenced (BlobRefs.Referenced) while a photo record marked
// uploaded declares them — evidence, so a tombstoned record keeps them
// too — or an upload of them was claimed or is within the grace period.
// Referenced bytes are never deleted, whatever their age; derivatives go
// with their original.
//
// A blob is marked as being deleted in the same transaction that finds it
// unreferenced, and StoreUpload refuses to record an upload of marked
// bytes and stores its bytes again if they vanished before its
// transaction: an upload completing during a sweep never ends up recorded
// without its bytes, from this process or another one sharing the store.
type Sweeper struct {
	Store SweepStore
	Blobs BlobStore
	// Grace is how long unclaimed uploads are kept (DefaultUploadGrace if 0).
	Grace time.Duration
}

// SweepStore is what the Sweeper needs of a store.
type SweepStore interface {
	// Update runs fn in a write transaction and commits if fn returns nil.
	Update(ctx context.Context, fn func(WriteTx) error) error
	// BlobRefs returns what refers to the bytes of sum (read snapshot).
	BlobRefs(ctx context.Context, sum string) (*BlobRefs, error)
}

// SweepResult counts what a sweep removed.
type SweepResult struct {
	Uploads int // unclaimed uploads past the grace period
	Blobs   int // blobs (original and derivatives) nothing referred to
}

// Sweep sweeps as of now (the caller's clock, so tests choose the time).
func (s *Sweeper) Sweep(ctx context.Context, now time.Time, full bool) (SweepResult, error) {
	var res SweepResult
	if s.Blobs == nil {
		return res, nil
	}
	grace := s.Grace
	if grace <= 0 {
		grace = DefaultUploadGrace
	}
	cutoff := now.Add(-grace)
	var candidates []string
	err := s.Store.Update(ctx, func(tx WriteTx) error {
		candidates, res.Uploads = nil, 0
		// Marks of a sweep that stopped part-way: its blobs are looked at again.
		marked, err := tx.BlobsDeleting(ctx, now.Add(-staleMark))
		if err != nil {
			return err
		}
		for _, sum := range marked {
			if err := tx.SetBlobDeleting(ctx, sum, time.Time{}); err != nil {
				return err
			}
		}
		stale, err := tx.StaleUploads(ctx, cutoff)
		if err != nil {
			return err
		}
		ids := make([]string, len(stale))
		for i, u := range stale {
			ids[i] = u.PhotoID
		}
		if err := tx.DeletePhotoUploads(ctx, ids); err != nil {
			return err
		}
		res.Uploads = len(stale)
		candidates = marked
		for _, u := range stale {
			candidates = append(candidates, u.SHA256)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("remove stale uploads: %w", err)
	}
	seen := map[string]bool{}
	for _, sum := range candidates {
		if seen[sum] {
			continue
		}
		seen[sum] = true
		stored, err := s.storedAt(ctx, sum)
		if err != nil {
			return res, err
		}
		if err := s.collect(ctx, sum, stored, now, cutoff, &res); err != nil {
			return res, err
		}
	}
	if full {
		err := s.Blobs.Walk(ctx, func(sum string, stored time.Time) error {
			if seen[sum] {
				return nil
			}
			return s.collect(ctx, sum, stored, now, cutoff, &res)
		})
		if err != nil {
			return res, fmt.Errorf("walk blobs: %w", err)
		}
	}
	return res, nil
}

// storedAt is when the original of sum was stored (zero if it is gone).
func (s *Sweeper) storedAt(ctx context.Context, sum string) (time.Time, error) {
	b, err := s.Blobs.Open(ctx, sum, VariantOriginal)
	if ErrorCode(err) == syncproto.CodeNotFound {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	defer b.Close()
	return b.ModTime(), nil
}

// collect deletes the blob sum if it was stored before cutoff and nothing
// refers to it. Most blobs of a full sweep are referenced: a read says so
// without taking the writer; the decision to delete is taken again in the
// write transaction that marks the blob.
func (s *Sweeper) collect(ctx context.Context, sum string, stored, now, cutoff time.Time, res *SweepResult) error {
	if !IsSHA256(sum) || stored.After(cutoff) {
		return nil
	}
	if refs, err := s.Store.BlobRefs(ctx, sum); err != nil || refs.Referenced(cutoff) {
		return err
	}
	var doomed bool
	err := s.Store.Update(ctx, func(tx WriteTx) error {
		refs, err := tx.BlobRefs(ctx, sum)
		if err != nil {
			return err
		}
		if doomed = !refs.Referenced(cutoff); doomed {
			return tx.SetBlobDeleting(ctx, sum, now)
		}
		return nil
	})
	if err != nil || !doomed {
		return err
	}
	if err := s.Blobs.Delete(ctx, sum); err != nil {
		return fmt.Errorf("delete blob %s: %w", sum, err) // the mark stays; a later sweep retries
	}
	res.Blobs++
	return s.Store.Update(ctx, func(tx WriteTx) error { return tx.SetBlobDeleting(ctx, sum, time.Time{}) })
}

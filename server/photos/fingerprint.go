package photos

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Near duplicates are found through the store's perceptual hash index, not
// by reading every photo's hash: a processed photo's fingerprint
// (imageproc.Fingerprint: its dHash and DCT hashes of its content, of
// windows of it and of its mirror image) is stored with SetPhotoHashes,
// and a lookup asks for the rows sharing a band with the fingerprint's
// probes, then verifies each with Fingerprint.Match.

// hashRows are the store rows of fingerprint fp.
func hashRows(fp imageproc.Fingerprint) []server.PhotoHashRow {
	mirrors := map[int]uint64{}
	for _, kh := range fp {
		mirrors[kh.Kind] = kh.Hash
	}
	var rows []server.PhotoHashRow
	for _, kh := range fp {
		if !imageproc.Indexed(kh.Kind) {
			continue
		}
		r := server.PhotoHashRow{Kind: kh.Kind, Hash: kh.Hash}
		if mk, ok := imageproc.Mirrors(kh.Kind); ok {
			r.Mirror, r.HasMirror = mirrors[mk]
		}
		rows = append(rows, r)
	}
	return rows
}

// nearPhotos returns the photos other than id whose pictures match
// fingerprint fp (none for a nil fp).
func nearPhotos(ctx context.Context, st server.HashCandidates, id string, fp imageproc.Fingerprint) ([]server.NearMatch, error) {
	if len(fp) == 0 {
		return nil, nil
	}
	return server.NearPhotos(ctx, st, id, server.HashProbes(fp.Probes()), func(kind int, hash uint64) (server.NearMatch, bool) {
		m, ok := fp.Match(kind, hash)
		return server.NearMatch{Distance: m.Distance, Mirrored: m.Mirrored, Cropped: m.Cropped}, ok
	})
}

// NearMatches returns the photos whose pictures match that of stored photo
// rec: by its fingerprint rows, or, for a photo processed before
// fingerprints and not yet indexed, by its phash alone (a dHash, matched
// as before fingerprints). None for a photo without a hash.
func NearMatches(ctx context.Context, st server.PhotoStore, rec *server.StoredRecord) ([]server.NearMatch, error) {
	rows, err := st.PhotoHashRows(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	var fp imageproc.Fingerprint
	for _, r := range rows {
		fp = append(fp, imageproc.KindHash{Kind: r.Kind, Hash: r.Hash})
		if mk, ok := imageproc.Mirrors(r.Kind); ok && r.HasMirror {
			fp = append(fp, imageproc.KindHash{Kind: mk, Hash: r.Mirror})
		}
	}
	if len(fp) == 0 {
		if h, err := strconv.ParseUint(rec.Text("phash"), 16, 64); err == nil {
			fp = imageproc.Fingerprint{{Kind: imageproc.HashDHash, Hash: h}}
		}
	}
	return nearPhotos(ctx, st, rec.ID, fp)
}

// indexLegacy indexes the photos processed before fingerprints existed,
// which have only a phash: each gets the fingerprint of its stored preview
// (the picture it was hashed from), or, without one, its phash alone. Their
// flags are left as they are; photos processed from now on find them.
func (p *Processor) indexLegacy(ctx context.Context) error {
	ids, err := p.store.UnindexedPhotos(ctx)
	if err != nil {
		return fmt.Errorf("find unindexed photos: %w", err)
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil // the next start goes on
		}
		rec, err := p.store.Get(ctx, syncproto.EntityPhoto, id)
		if err != nil {
			return err
		}
		if rec == nil {
			continue
		}
		h, err := strconv.ParseUint(rec.Text("phash"), 16, 64)
		if err != nil {
			continue
		}
		fp := p.previewFingerprint(ctx, rec.Text("sha256"))
		if fp == nil {
			fp = imageproc.Fingerprint{{Kind: imageproc.HashDHash, Hash: h}}
		} else if fp[0].Kind == imageproc.HashDHash {
			fp[0].Hash = h // the phash it has been matched by
		}
		// Under the link lock: another server may be indexing the same
		// photos as it starts (CorrectEarlier).
		unlock, err := p.lockLink(ctx)
		if err != nil {
			return err
		}
		err = p.store.SetPhotoHashes(ctx, id, hashRows(fp))
		unlock()
		if err != nil {
			return fmt.Errorf("index photo %s: %w", id, err)
		}
	}
	if len(ids) > 0 {
		p.log.Info("indexed the perceptual hashes of earlier photos", "photos", len(ids))
	}
	return nil
}

// previewFingerprint returns the fingerprint of the stored preview of
// sum, or nil if there is none or it cannot be read.
func (p *Processor) previewFingerprint(ctx context.Context, sum string) imageproc.Fingerprint {
	blob, err := p.blobs.Open(ctx, sum, server.VariantPreview)
	if err != nil {
		return nil
	}
	defer blob.Close()
	side := int64(p.cfg.Preview)
	release, err := p.budget.Acquire(ctx, 8*side*side)
	if err != nil {
		return nil
	}
	defer release()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(blob); err != nil {
		return nil
	}
	pic, err := imageproc.Decode(&buf, p.cfg.Limits)
	if err != nil {
		return nil
	}
	return pic.Fingerprint()
}

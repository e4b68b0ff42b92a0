package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
)

// The perceptual hash index (server.PhotoStore.SetPhotoHashes and
// PhotoHashCandidates): table photo_hash holds one row per hash of a
// photo's fingerprint, its 64 bits as a signed integer and, for the rows
// that are indexed, its four 16-bit bands b0…b3 (NULL otherwise), each
// with its own index. A lookup asks each band's index for the band values
// it probes, so it reads the rows sharing a band with the query, not the
// table: multi-index hashing (Norouzi, Punjani and Fleet, 2012).

// DeletePhotoHashesSQL deletes a photo's fingerprint rows.
const DeletePhotoHashesSQL = `DELETE FROM photo_hash WHERE photo_id = ?`

// InsertPhotoHashes returns the statement inserting rows for photo id,
// and its arguments.
func InsertPhotoHashes(id string, rows []server.PhotoHashRow) (string, []any) {
	var b strings.Builder
	b.WriteString(`INSERT INTO photo_hash (photo_id, kind, hash, b0, b1, b2, b3) VALUES `)
	args := make([]any, 0, 7*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
		args = append(args, id, r.Kind, int64(r.Hash))
		for _, v := range r.Bands() {
			if r.Indexed {
				args = append(args, int64(v))
			} else {
				args = append(args, nil)
			}
		}
	}
	return b.String(), args
}

// PhotoHashRowsSQL selects a photo's fingerprint rows: kind, hash,
// whether indexed.
const PhotoHashRowsSQL = `SELECT kind, hash, b0 IS NOT NULL FROM photo_hash WHERE photo_id = ? ORDER BY kind`

// ReadPhotoHashRows reads the rows of PhotoHashRowsSQL.
func ReadPhotoHashRows(rows Rows) ([]server.PhotoHashRow, error) {
	var out []server.PhotoHashRow
	for rows.Next() {
		var r server.PhotoHashRow
		var h int64
		if err := rows.Scan(&r.Kind, &h, &r.Indexed); err != nil {
			return nil, err
		}
		r.Hash = uint64(h)
		out = append(out, r)
	}
	return out, rows.Err()
}

// UnindexedPhotosSQL selects the processed live photos with a phash and
// no fingerprint rows, in feed order.
const UnindexedPhotosSQL = `SELECT p.id FROM photo p WHERE p.phash IS NOT NULL AND p.deleted_hlc = ''
	AND NOT EXISTS (SELECT 1 FROM photo_hash h WHERE h.photo_id = p.id) ORDER BY p.seq`

// PhotoHashCandidates returns the indexed rows of processed live photos
// sharing band i with one of probes[i] (server.PhotoStore). The probes are
// numbers below 2¹⁶ this package writes into the statement itself: one
// statement per band, each answered from that band's index.
func PhotoHashCandidates(ctx context.Context, r Reader, probes [4][]uint16) ([]server.HashCandidate, error) {
	var out []server.HashCandidate
	for band, vs := range probes {
		if len(vs) == 0 {
			continue
		}
		var in strings.Builder
		for i, v := range vs {
			if i > 0 {
				in.WriteByte(',')
			}
			in.WriteString(strconv.Itoa(int(v)))
		}
		col := "h.b" + strconv.Itoa(band)
		rows, err := r.Query(ctx, `SELECT h.photo_id, coalesce(p.site_id, ''), h.kind, h.hash FROM photo_hash h
			JOIN photo p ON p.id = h.photo_id
			WHERE `+col+` IN (`+in.String()+`) AND p.deleted_hlc = '' AND p.phash IS NOT NULL`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c server.HashCandidate
			var h int64
			if err := rows.Scan(&c.PhotoID, &c.SiteID, &c.Kind, &h); err != nil {
				rows.Close()
				return nil, err
			}
			c.Hash = uint64(h)
			out = append(out, c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

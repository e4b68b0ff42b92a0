package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
)

// The perceptual hash index (server.PhotoStore.SetPhotoHashes and
// PhotoHashCandidates): table photo_hash holds one row per hash of a
// photo's fingerprint, its 64 bits as a signed integer, its three bands of
// 22, 21 and 21 bits b0…b2 (imageproc.Bands), each with its own index
// (and partial ones for the rows of kind 0, of kind 1 and of the centred
// kinds), and the hash of the same kind of the
// mirror image (mirror, NULL if none), which is not indexed. A lookup asks
// each band's index for the band values it probes, so it reads the rows
// sharing a band with the query, not the table: multi-index hashing
// (Norouzi, Punjani and Fleet, 2012).

// DeletePhotoHashesSQL deletes a photo's fingerprint rows.
const DeletePhotoHashesSQL = `DELETE FROM photo_hash WHERE photo_id = ?`

// InsertPhotoHashes returns the statement inserting rows for photo id,
// and its arguments.
func InsertPhotoHashes(id string, rows []server.PhotoHashRow) (string, []any) {
	var b strings.Builder
	b.WriteString(`INSERT INTO photo_hash (photo_id, kind, hash, mirror, b0, b1, b2) VALUES `)
	args := make([]any, 0, 7*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
		var mirror any
		if r.HasMirror {
			mirror = int64(r.Mirror)
		}
		args = append(args, id, r.Kind, int64(r.Hash), mirror)
		for _, v := range r.Bands() {
			args = append(args, int64(v))
		}
	}
	return b.String(), args
}

// PhotoHashRowsSQL selects a photo's fingerprint rows: kind, hash,
// mirror.
const PhotoHashRowsSQL = `SELECT kind, hash, mirror FROM photo_hash WHERE photo_id = ? ORDER BY kind`

// ReadPhotoHashRows reads the rows of PhotoHashRowsSQL.
func ReadPhotoHashRows(rows Rows) ([]server.PhotoHashRow, error) {
	var out []server.PhotoHashRow
	for rows.Next() {
		var r server.PhotoHashRow
		var h int64
		var m *int64
		if err := rows.Scan(&r.Kind, &h, &m); err != nil {
			return nil, err
		}
		r.Hash = uint64(h)
		if m != nil {
			r.Mirror, r.HasMirror = uint64(*m), true
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UnindexedPhotosSQL selects the processed live photos with a phash and
// no fingerprint rows, in feed order.
const UnindexedPhotosSQL = `SELECT p.id FROM photo p WHERE p.phash IS NOT NULL AND p.deleted_hlc = ''
	AND NOT EXISTS (SELECT 1 FROM photo_hash h WHERE h.photo_id = p.id) ORDER BY p.seq`

// probeSets are the sets of band values of a lookup (server.HashProbes)
// and the kinds of the rows each finds, nil for every kind. The kinds'
// condition is written as the partial indexes' (migrations) are, so that
// each set's statement is answered from them.
var probeSets = [...]struct {
	of    func(*server.HashProbes) *[3][]uint32
	kinds []int
}{
	{func(p *server.HashProbes) *[3][]uint32 { return &p.Any }, nil},
	{func(p *server.HashProbes) *[3][]uint32 { return &p.DHash }, []int{0}},
	{func(p *server.HashProbes) *[3][]uint32 { return &p.Full }, []int{1}},
	{func(p *server.HashProbes) *[3][]uint32 { return &p.Centre }, []int{1, 2, 3, 4}},
}

// kindCondition is the condition on h.kind of a set finding kinds.
func kindCondition(kinds []int) string {
	switch len(kinds) {
	case 0:
		return ""
	case 1:
		return " AND h.kind = " + strconv.Itoa(kinds[0])
	}
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = strconv.Itoa(k)
	}
	return " AND h.kind IN (" + strings.Join(s, ", ") + ")"
}

// PhotoHashCandidates returns the rows sharing band i with one of
// p.Any[i], of kind 0 with one of p.DHash[i], of kind 1 with one of
// p.Full[i], or of a centred kind with one of p.Centre[i]
// (server.PhotoStore): one statement per set and band, each answered from
// that band's index alone (for the kinds' sets, its partial index), with
// the set's values one argument (InBands). Which photos are
// live is asked afterwards, of the few that match (LivePhotoSites).
func (d *Dialect) PhotoHashCandidates(ctx context.Context, r Reader, p server.HashProbes) ([]server.HashCandidate, error) {
	var out []server.HashCandidate
	for _, set := range probeSets {
		for band, vs := range set.of(&p) {
			if len(vs) == 0 {
				continue
			}
			in, args := d.InBands("h.b"+strconv.Itoa(band), vs)
			rows, err := r.Query(ctx, `SELECT h.photo_id, h.kind, h.hash FROM photo_hash h WHERE `+in+kindCondition(set.kinds), args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var c server.HashCandidate
				var h int64
				if err := rows.Scan(&c.PhotoID, &c.Kind, &h); err != nil {
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
	}
	return out, nil
}

// LivePhotoSites returns the site ("" if none) of each photo among ids
// that is processed (has a phash) and live.
func LivePhotoSites(ctx context.Context, r Reader, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rows, err := r.Query(ctx, `SELECT id, coalesce(site_id, '') FROM photo WHERE id IN (?`+strings.Repeat(", ?", n-1)+`)
			AND deleted_hlc = '' AND phash IS NOT NULL`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, site string
			if err := rows.Scan(&id, &site); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = site
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

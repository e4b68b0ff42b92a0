package server

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Photo reuse: the same photo (the same bytes) used as evidence of another
// inspection or vehicle check, or a near-identical picture (a perceptual
// hash within a few bits) taken at another site. Reuses are found
// city-wide, across counties. The rules every part follows:
//
//   - Of two photos, the later is the reuse: the one whose record the
//     server received later (EarlierPhoto). Not the capture time, which the
//     phone claims: re-uploading an old honest photo makes a new record,
//     and that record is the one flagged.
//   - The reuse carries the evidence flag; the earlier photo only an
//     informational note that it was reused.
//   - What a record says about another photo stays within the counties
//     that can see the record: another county's photo is named by its
//     county alone, never by its id or site.

// Kinds of reuse: the names of the evidence flags they raise.
const (
	ReuseDuplicate     = "duplicate"      // the same bytes
	ReuseNearDuplicate = "near_duplicate" // a near-identical picture at another site
	// ReuseOtherItem: the same bytes as the photo of another checklist
	// item of the same inspection — one picture cannot show two items.
	ReuseOtherItem = "duplicate_item"
)

// EarlierPhoto reports whether the server received photo a before photo b:
// by the receipt time of their records, then, received within one
// millisecond (one push batch), by the order they were made in — the HLC
// of their creation (sha256, written once, at creation: for one phone,
// the order of its batch) — and only then by id.
func EarlierPhoto(a, b *StoredRecord) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c < 0
	}
	if c := a.State.Fields["sha256"].HLC.Compare(b.State.Fields["sha256"].HLC); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// PhotoReuse is another photo that one photo shares its bytes or picture
// with.
type PhotoReuse struct {
	Other *StoredRecord
	// Site is the other photo's site ("" for a vehicle check's photo).
	Site string
	// Kind is ReuseDuplicate or ReuseNearDuplicate.
	Kind string
	// Distance is the bits in which the perceptual hashes differ.
	Distance int
	// Earlier says the other photo came first: this one is the reuse.
	Earlier bool
	// Mirrored and Cropped say how a near duplicate matched (NearMatch).
	Mirrored, Cropped bool
}

// NearMatch is another photo whose picture a lookup in the perceptual
// hash index matched (see imageproc.Fingerprint for what matches).
type NearMatch struct {
	PhotoID, SiteID string
	// Distance is the bits in which the closest pair of hashes differ.
	Distance int
	// Mirrored: one picture matched the other's mirror image. Cropped: a
	// part of one matched the whole of the other.
	Mirrored, Cropped bool
}

// HashCandidates finds the candidates of a lookup in the perceptual hash
// index (PhotoStore.PhotoHashCandidates).
type HashCandidates interface {
	PhotoHashCandidates(ctx context.Context, p HashProbes) ([]HashCandidate, error)
	LivePhotoSites(ctx context.Context, ids []string) (map[string]string, error)
}

// NearPhotos looks a fingerprint up in the index: it asks st for the rows
// sharing a band with probes, keeps those match accepts, and returns the
// closest match of each processed live photo other than self, with its
// site, by photo id.
func NearPhotos(ctx context.Context, st HashCandidates, self string, probes HashProbes,
	match func(kind int, hash uint64) (NearMatch, bool)) ([]NearMatch, error) {
	cands, err := st.PhotoHashCandidates(ctx, probes)
	if err != nil {
		return nil, err
	}
	best := map[string]NearMatch{}
	for _, c := range cands {
		if c.PhotoID == self {
			continue
		}
		m, ok := match(c.Kind, c.Hash)
		if !ok {
			continue
		}
		if b, seen := best[c.PhotoID]; seen && b.Distance <= m.Distance {
			continue
		}
		m.PhotoID = c.PhotoID
		best[c.PhotoID] = m
	}
	if len(best) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(best))
	for id := range best {
		ids = append(ids, id)
	}
	live, err := st.LivePhotoSites(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]NearMatch, 0, len(best))
	for id, m := range best {
		if site, ok := live[id]; ok {
			m.SiteID = site
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b NearMatch) int { return strings.Compare(a.PhotoID, b.PhotoID) })
	return out, nil
}

// ReuseSubject is the photo whose reuses are looked for.
type ReuseSubject struct {
	Photo *StoredRecord
	// Inspection is the photo's inspection (through its finding, if it
	// is a finding's photo); Site is that inspection's site.
	Inspection, Site string
	// Hash is the perceptual hash; nil for a photo that has none (HEIC,
	// unreadable), which is only compared by its bytes.
	Hash *uint64
}

// SubjectOf returns the reuse subject of a stored photo, from its server
// fields (site_id and phash are set when it is processed).
func SubjectOf(ctx context.Context, st RecordReader, photo *StoredRecord) (ReuseSubject, error) {
	insp, err := PhotoInspection(ctx, st, photo)
	if err != nil {
		return ReuseSubject{}, err
	}
	s := ReuseSubject{Photo: photo, Inspection: insp, Site: photo.Text("site_id")}
	if h, err := strconv.ParseUint(photo.Text("phash"), 16, 64); err == nil {
		s.Hash = &h
	}
	return s, nil
}

// PhotoInspection returns the inspection a photo is evidence of: its own
// inspection_id, or its finding's. "" for a vehicle check's photo.
func PhotoInspection(ctx context.Context, st RecordReader, photo *StoredRecord) (string, error) {
	if id := photo.Text("inspection_id"); id != "" {
		return id, nil
	}
	fid := photo.Text("finding_id")
	if fid == "" {
		return "", nil
	}
	f, err := st.Get(ctx, syncproto.EntityFinding, fid)
	if err != nil || f == nil {
		return "", err
	}
	return f.Text("inspection_id"), nil
}

// FindReuses returns the live photos, uploaded for themselves, that s
// shares its bytes with as evidence of another inspection or vehicle check
// (the same file attached to an inspection item and to one of its findings
// is not a reuse) or of another checklist item of the same inspection, and
// those with other bytes among near (the photos whose pictures match s's,
// from NearPhotos) taken at another site. They are in the order the server
// received them.
func FindReuses(ctx context.Context, st RecordReader, s ReuseSubject, near []NearMatch) ([]PhotoReuse, error) {
	sum := s.Photo.Text("sha256")
	same, err := st.Find(ctx, syncproto.EntityPhoto, "sha256", sum)
	if err != nil {
		return nil, err
	}
	var out []PhotoReuse
	sameBytes := map[string]bool{}
	// The uses of the bytes (an inspection, a vehicle check) with the
	// first photo of each: which of two uses reused the other is decided
	// by their first photos, not by the two photos compared — a second
	// photo of the bytes in the inspection that had them first is no
	// reuse of a photo another inspection took of them in between.
	type use struct{ inspection, vehicleCheck string }
	ownUse := use{s.Inspection, s.Photo.Text("vehicle_check_id")}
	first := map[use]*StoredRecord{ownUse: s.Photo}
	type other struct {
		rec *StoredRecord
		use use
	}
	var others []other
	for _, o := range same {
		sameBytes[o.ID] = true
		// A record that only declares the hash, without having sent the
		// bytes, is no use of the picture (see possession.go).
		if o.ID == s.Photo.ID || o.State.IsDeleted() || string(o.Value("uploaded")) != "true" {
			continue
		}
		insp, err := PhotoInspection(ctx, st, o)
		if err != nil {
			return nil, err
		}
		u := use{insp, o.Text("vehicle_check_id")}
		if f := first[u]; f == nil || EarlierPhoto(o, f) {
			first[u] = o
		}
		others = append(others, other{o, u})
	}
	for _, x := range others {
		o, insp := x.rec, x.use.inspection
		if x.use == ownUse {
			// The same evidence — unless it stands for two different
			// checklist items of the visit.
			if a, b := o.Text("item_key"), s.Photo.Text("item_key"); insp != "" && a != "" && b != "" && a != b &&
				o.Text("finding_id") == "" && s.Photo.Text("finding_id") == "" {
				out = append(out, PhotoReuse{Other: o, Kind: ReuseOtherItem, Earlier: EarlierPhoto(o, s.Photo)})
			}
			continue
		}
		site, err := photoSite(ctx, st, o, insp)
		if err != nil {
			return nil, err
		}
		// o's use had the bytes first (s's use reused them) or second;
		// an o on the other side of s in time than its use is of s's use
		// (a later photo of the use that had them first, an earlier one of
		// the use that reused them) tells nothing of s: left out.
		earlier := EarlierPhoto(first[x.use], first[ownUse])
		if EarlierPhoto(o, s.Photo) != earlier {
			continue
		}
		out = append(out, PhotoReuse{Other: o, Site: site, Kind: ReuseDuplicate, Earlier: earlier})
	}
	if s.Hash != nil && s.Site != "" {
		for _, h := range near {
			if sameBytes[h.PhotoID] || h.SiteID == "" || h.SiteID == s.Site {
				continue
			}
			o, err := st.Get(ctx, syncproto.EntityPhoto, h.PhotoID)
			if err != nil {
				return nil, err
			}
			if o == nil || o.State.IsDeleted() || o.Text("sha256") == sum {
				continue
			}
			out = append(out, PhotoReuse{Other: o, Site: h.SiteID, Kind: ReuseNearDuplicate, Distance: h.Distance,
				Earlier: EarlierPhoto(o, s.Photo), Mirrored: h.Mirrored, Cropped: h.Cropped})
		}
	}
	slices.SortStableFunc(out, func(a, b PhotoReuse) int {
		switch {
		case a.Other.ID == b.Other.ID:
			return 0
		case EarlierPhoto(a.Other, b.Other):
			return -1
		}
		return 1
	})
	return out, nil
}

// ClosestEarlier returns the near duplicate a photo's near_duplicate flag
// refers to: of the earlier near-identical pictures, the closest, then the
// earliest. nil if there is none.
func ClosestEarlier(reuses []PhotoReuse) *PhotoReuse {
	var best *PhotoReuse
	for i, r := range reuses {
		if r.Earlier && r.Kind == ReuseNearDuplicate && (best == nil || r.Distance < best.Distance) {
			best = &reuses[i]
		}
	}
	return best
}

// photoSite is a photo's site: the one processing found, else its
// inspection's.
func photoSite(ctx context.Context, st RecordReader, photo *StoredRecord, insp string) (string, error) {
	if site := photo.Text("site_id"); site != "" || insp == "" {
		return site, nil
	}
	r, err := st.Get(ctx, syncproto.EntityInspection, insp)
	if err != nil || r == nil {
		return "", err
	}
	return r.Text("site_id"), nil
}

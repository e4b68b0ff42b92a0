package photos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// A reuse (server.FindReuses) raises the duplicate or near_duplicate flag on
// the later photo only, and gives the earlier one a "reused_by" note in its
// notes field: information, not an evidence flag, so the earlier photo is
// not counted as flagged nor listed by the flag filters.
//
// Flags and notes sync to every phone of the photo's county, so what they
// say about the other photo is limited to that county: its id and site
// when it is in the same county, else its county code and a sentence.
//
//	"duplicate":      {"count": 1, "photos": [{"county": "140925", "text": "与其他区县的一张照片重复"}]}
//	"near_duplicate": {"county": "140902", "photo_id": "…", "site_id": "…", "distance": 3, "text": "…"}
//	                  (with "mirrored": true and/or "cropped": true when the
//	                  match was of a mirror image or of a part, see fingerprint.go)
//	notes:            {"reused_by": {"count": 2, "photos": [{"kind": "duplicate", "county": …, "text": …}, …]}}
//
// Whether a photo is flagged depends only on the photos there are, not on
// the order they were processed in: a photo's flags and notes are computed
// from the store under one lock, and each photo processed recomputes those
// of the photos it matches.

// maxRefs bounds the photos a flag or note lists; its count says how many
// there are.
const maxRefs = 20

// reuseTexts are the sentences of a reference: [kind][in a flag, in a
// note][same county, another county].
var reuseTexts = map[string][2][2]string{
	server.ReuseDuplicate: {
		{"与本区县的一张照片重复", "与其他区县的一张照片重复"},
		{"被本区县的另一张照片复用", "被其他区县的一张照片复用"},
	},
	server.ReuseNearDuplicate: {
		{"与本区县另一点位的一张照片近似", "与其他区县的一张照片近似"},
		{"被本区县另一点位的一张近似照片复用", "被其他区县的一张近似照片复用"},
	},
	server.ReuseOtherItem: { // always the same county: one inspection
		{"与本次检查另一检查项的照片相同", "与本次检查另一检查项的照片相同"},
		{"被本次检查的另一检查项复用", "被本次检查的另一检查项复用"},
	},
}

// ref describes r's other photo as self's record may: with its id and site
// only when it is in self's county.
func ref(self *server.StoredRecord, r server.PhotoReuse, note bool) map[string]any {
	i, j := 0, 0
	if note {
		i = 1
	}
	out := map[string]any{"county": r.Other.County}
	if r.Other.County == self.County {
		out["photo_id"] = r.Other.ID
		if r.Site != "" {
			out["site_id"] = r.Site
		}
	} else {
		j = 1
	}
	out["text"] = reuseTexts[r.Kind][i][j]
	switch r.Kind {
	case server.ReuseNearDuplicate:
		out["distance"] = r.Distance
		if r.Mirrored {
			out["mirrored"] = true
		}
		if r.Cropped {
			out["cropped"] = true
		}
	case server.ReuseOtherItem:
		out["item_key"] = r.Other.Text("item_key")
	}
	if note {
		out["kind"] = r.Kind
	}
	return out
}

// reuseFlags sets or clears the duplicate, duplicate_item and
// near_duplicate flags of self in flags from its reuses: all the earlier
// photos with the same bytes (of other inspections; of other items of the
// same one), and the closest (then earliest) earlier near-identical picture.
func reuseFlags(flags map[string]any, self *server.StoredRecord, reuses []server.PhotoReuse) {
	delete(flags, FlagDuplicate)
	delete(flags, FlagNearDuplicate)
	delete(flags, FlagDuplicateItem)
	for kind, flag := range map[string]string{server.ReuseDuplicate: FlagDuplicate, server.ReuseOtherItem: FlagDuplicateItem} {
		var dups []map[string]any
		for _, r := range reuses {
			if r.Earlier && r.Kind == kind {
				dups = append(dups, ref(self, r, false))
			}
		}
		if len(dups) > 0 {
			flags[flag] = map[string]any{"count": len(dups), "photos": dups[:min(len(dups), maxRefs)]}
		}
	}
	if near := server.ClosestEarlier(reuses); near != nil {
		flags[FlagNearDuplicate] = ref(self, *near, false)
	}
}

// reuseNotes returns self's notes: the later photos that reuse it, oldest
// first.
func reuseNotes(self *server.StoredRecord, reuses []server.PhotoReuse) map[string]any {
	var by []map[string]any
	for _, r := range reuses {
		if !r.Earlier {
			by = append(by, ref(self, r, true))
		}
	}
	if len(by) == 0 {
		return map[string]any{}
	}
	return map[string]any{"reused_by": map[string]any{"count": len(by), "photos": by[:min(len(by), maxRefs)]}}
}

// link writes a processed photo's results res with its flags, to which it
// adds the reuse flags, and its notes; then updates the photos it matches,
// which may gain or lose a flag or a note.
//
// The photo's fingerprint fp (nil if it has none) is indexed first, so
// that the photos it matches find it when they are relinked; it is found
// only once the photo's phash is written with its results (see
// PhotoStore.PhotoHashCandidates).
func (p *Processor) link(ctx context.Context, s server.ReuseSubject, fp imageproc.Fingerprint, flags, res map[string]any) error {
	unlock, err := p.lockLink(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	id := s.Photo.ID
	if err := p.store.SetPhotoHashes(ctx, id, hashRows(fp)); err != nil {
		return err
	}
	near, err := nearPhotos(ctx, p.store, id, fp)
	if err != nil {
		return err
	}
	reuses, err := server.FindReuses(ctx, p.store, s, near)
	if err != nil {
		return err
	}
	reuseFlags(flags, s.Photo, reuses)
	res["flags"], res["notes"] = flags, reuseNotes(s.Photo, reuses)
	if err := p.syncer.SetServerFields(ctx, syncproto.EntityPhoto, id, res); err != nil {
		return err
	}
	for _, r := range reuses {
		if err := p.relink(ctx, r.Other.ID); err != nil {
			return fmt.Errorf("relink photo %s: %w", r.Other.ID, err)
		}
	}
	return nil
}

// lockLink takes the process's link lock and, when configured, the one all
// servers share; the function it returns releases both.
func (p *Processor) lockLink(ctx context.Context) (func(), error) {
	p.linkMu.Lock()
	if p.cfg.LinkLock == nil {
		return p.linkMu.Unlock, nil
	}
	unlock, err := p.cfg.LinkLock(ctx)
	if err != nil {
		p.linkMu.Unlock()
		return nil, fmt.Errorf("reuse link lock: %w", err)
	}
	return func() { unlock(); p.linkMu.Unlock() }, nil
}

// relink recomputes the reuse flags and the notes of processed photo id
// (after another photo matching it was processed) and writes them if they
// changed. The link lock is held (lockLink).
func (p *Processor) relink(ctx context.Context, id string) error {
	rec, err := p.store.Get(ctx, syncproto.EntityPhoto, id)
	if err != nil || rec == nil || rec.State.IsDeleted() || rec.Value("processed_at") == nil {
		return err // an unprocessed photo gets its own when it is processed
	}
	s, err := server.SubjectOf(ctx, p.store, rec)
	if err != nil {
		return err
	}
	near, err := NearMatches(ctx, p.store, rec)
	if err != nil {
		return err
	}
	reuses, err := server.FindReuses(ctx, p.store, s, near)
	if err != nil {
		return err
	}
	flags := map[string]any{}
	_ = jsonUnmarshal(rec.Value("flags"), &flags)
	reuseFlags(flags, rec, reuses)
	vals := map[string]any{}
	for name, v := range map[string]any{"flags": flags, "notes": reuseNotes(rec, reuses)} {
		if !sameJSON(rec.Value(name), v) {
			vals[name] = v
		}
	}
	if len(vals) == 0 {
		return nil
	}
	return p.syncer.SetServerFields(ctx, syncproto.EntityPhoto, id, vals)
}

// sameJSON reports whether stored holds v (both read as JSON values).
func sameJSON(stored json.RawMessage, v any) bool {
	b, err := json.Marshal(v)
	if err != nil || len(stored) == 0 {
		return false
	}
	var x, y any
	if json.Unmarshal(stored, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	bx, _ := json.Marshal(x) // maps marshal with sorted keys
	by, _ := json.Marshal(y)
	return bytes.Equal(bx, by)
}

// relinkLegacy corrects the reuse flags an earlier version wrote, which
// flagged both photos and named the other photo whatever its county: the
// processed photos whose duplicate flag lists photo_ids, or whose
// near_duplicate flag names no county, are relinked.
func (p *Processor) relinkLegacy(ctx context.Context) error {
	ids, err := p.store.PhotosFlagged(ctx, FlagDuplicate, FlagNearDuplicate)
	if err != nil {
		return fmt.Errorf("find flagged photos: %w", err)
	}
	var legacy []string
	for _, id := range ids {
		rec, err := p.store.Get(ctx, syncproto.EntityPhoto, id)
		if err != nil {
			return err
		}
		var f map[string]map[string]any
		if rec == nil || jsonUnmarshal(rec.Value("flags"), &f) != nil {
			continue
		}
		_, oldDup := f[FlagDuplicate]["photo_ids"]
		_, county := f[FlagNearDuplicate]["county"]
		if oldDup || (f[FlagNearDuplicate] != nil && !county) {
			legacy = append(legacy, id)
		}
	}
	if len(legacy) == 0 {
		return nil
	}
	unlock, err := p.lockLink(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, id := range legacy {
		if err := p.relink(ctx, id); err != nil {
			return fmt.Errorf("relink photo %s: %w", id, err)
		}
	}
	p.log.Info("corrected the reuse flags of an earlier version", "photos", len(legacy))
	return nil
}

package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Completeness (sync.md 9): a phone's answers are never refused, but
// whether an inspection is complete is a server fact, kept in two
// server-owned fields of the inspection and synced like any other:
//
//   - missing_items: what the inspection lacks, by item, in the order of
//     its checklist (syncproto.MissingItem: a required answer, an answer
//     that does not fit its item, a required photo, or its upload); [] when
//     complete;
//   - unknown_answers: the answered keys its checklist does not have (the
//     answers are kept, and count for nothing);
//   - failed_items: the items whose answer fails them (a check answered
//     fail, a yes/no answered no), in the order of its checklist: what
//     the office's queue counts and the detail page marks.
//
// All are recomputed, in the transaction of the write and through the
// server's own write path (an HLC after every write the record holds),
// whenever something they depend on changes: a push creating an inspection
// or changing its answers; a photo record naming one of its items arriving,
// changing its item, being tombstoned or getting its bytes (in a push, or
// at the end of an upload). Inspections stored before the fields existed
// get them at start-up (BackfillCompleteness).

// CompletenessFields are the inspection's fields the server derives from
// its answers, photos and checklist (refreshCompleteness writes them).
var CompletenessFields = []string{"missing_items", "unknown_answers", "failed_items"}

// checklistCache holds parsed checklist items by template record id, with
// the HLC of the items value they were parsed from: a batch of inspections
// of one checklist parses it once, and a changed template is parsed again.
type checklistCache struct {
	mu sync.Mutex
	m  map[string]parsedChecklist
}

type parsedChecklist struct {
	hlc, kindsHLC syncproto.HLC
	items         []syncproto.ChecklistItem
	ok            bool // the items parsed
	// siteKinds are the kinds of site the checklist applies to (none
	// listed: any).
	siteKinds []string
}

// inspectionTemplateID is the id of the checklist_template record an
// inspection was made with.
func inspectionTemplateID(insp *StoredRecord) string {
	return insp.Text("template_id") + "@" + string(insp.Value("template_version"))
}

// checklist returns template record id parsed; its ok is false if there
// is no such live template or its items do not parse.
func (s *Syncer) checklist(ctx context.Context, tx WriteTx, id string) (parsedChecklist, error) {
	r, err := tx.Get(ctx, EntityByName(syncproto.EntityTemplate), id)
	if err != nil || r == nil || r.State.IsDeleted() {
		return parsedChecklist{}, err
	}
	st, kinds := r.State.Fields["items"], r.State.Fields["site_kinds"]
	c := &s.checklists
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[id]; ok && p.hlc == st.HLC && p.kindsHLC == kinds.HLC {
		return p, nil
	}
	p := parsedChecklist{hlc: st.HLC, kindsHLC: kinds.HLC}
	p.ok = json.Unmarshal(st.Value, &p.items) == nil && len(p.items) > 0
	if json.Unmarshal(kinds.Value, &p.siteKinds) != nil {
		p.siteKinds = nil // not a list: the checklist names no kind, and any goes
	}
	if c.m == nil {
		c.m = map[string]parsedChecklist{}
	}
	c.m[id] = p
	return p, nil
}

// InspectionCompleteness checks an inspection against its checklist
// items (ok false: the checklist is unknown) and its photos.
func InspectionCompleteness(insp *StoredRecord, items []syncproto.ChecklistItem, ok bool, photos []syncproto.ItemPhoto) syncproto.Completeness {
	if !ok {
		return syncproto.Completeness{Missing: []syncproto.MissingItem{{Key: inspectionTemplateID(insp), Reason: syncproto.MissingTemplate}},
			Unknown: []string{}, Failed: []string{}}
	}
	answers := make(map[string]json.RawMessage, len(items))
	for name, st := range insp.State.Fields {
		if key, isAnswer := strings.CutPrefix(name, "answers."); isAnswer {
			answers[key] = st.Value
		}
	}
	return syncproto.CheckCompleteness(items, answers, photos)
}

// siteKindOf returns the kind of site id ("" if there is none), reading
// each site once for the inspections of one refresh.
func siteKindOf(ctx context.Context, tx WriteTx, kinds map[string]string, id string) (string, error) {
	if k, ok := kinds[id]; ok {
		return k, nil
	}
	r, err := tx.Get(ctx, EntityByName(syncproto.EntitySite), id)
	if err != nil {
		return "", err
	}
	if r != nil {
		kinds[id] = r.Text("kind")
	}
	return kinds[id], nil
}

// refreshCompleteness recomputes missing_items, unknown_answers and
// failed_items of the
// inspections ids (those live) and writes them where they changed. The
// checks, independent per inspection, run on every core between reading
// and writing.
func (s *Syncer) refreshCompleteness(ctx context.Context, tx WriteTx, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	photos, err := tx.InspectionPhotos(ctx, ids)
	if err != nil {
		return err
	}
	type check struct {
		insp             *StoredRecord
		checklist        parsedChecklist
		siteKind         string
		missing, unknown json.RawMessage
		failed           json.RawMessage
	}
	checks := make([]check, 0, len(ids))
	e := EntityByName(syncproto.EntityInspection)
	kinds := map[string]string{}
	for _, id := range ids {
		insp, err := tx.Get(ctx, e, id)
		if err != nil {
			return err
		}
		if insp == nil || insp.State.IsDeleted() {
			continue
		}
		cl, err := s.checklist(ctx, tx, inspectionTemplateID(insp))
		if err != nil {
			return err
		}
		kind, err := siteKindOf(ctx, tx, kinds, insp.Text("site_id"))
		if err != nil {
			return err
		}
		checks = append(checks, check{insp: insp, checklist: cl, siteKind: kind})
	}
	par.Do(len(checks), func(i int) {
		c := &checks[i]
		res := InspectionCompleteness(c.insp, c.checklist.items, c.checklist.ok, photos[c.insp.ID])
		if c.checklist.ok && c.siteKind != "" && len(c.checklist.siteKinds) > 0 && !slices.Contains(c.checklist.siteKinds, c.siteKind) {
			// Before the items: nothing else matters while the checklist
			// is not the site's.
			res.Missing = slices.Insert(res.Missing, 0, syncproto.MissingItem{Key: inspectionTemplateID(c.insp),
				Reason: syncproto.MissingSiteKind, Detail: c.siteKind})
		}
		c.missing, c.unknown, c.failed = canonicalMissing(res.Missing), canonicalKeys(res.Unknown), canonicalKeys(res.Failed)
	})
	for _, c := range checks {
		if err := s.writeCanonical(ctx, tx, c.insp, map[string]json.RawMessage{"missing_items": c.missing, "unknown_answers": c.unknown, "failed_items": c.failed}, now); err != nil {
			return fmt.Errorf("completeness of inspection %s: %w", c.insp.ID, err)
		}
	}
	return nil
}

// canonicalMissing is the canonical JSON of missing_items (what
// Field.Canonical makes of it: object keys sorted, no HTML escaping),
// built directly: this runs for every inspection a push changes.
func canonicalMissing(ms []syncproto.MissingItem) json.RawMessage {
	b := make([]byte, 0, 2+len(ms)*48)
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if m.Detail != "" {
			b = append(b, `"detail":`...)
			b = appendJSONString(b, m.Detail)
			b = append(b, ',')
		}
		b = append(b, `"key":`...)
		b = appendJSONString(b, m.Key)
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, m.Reason)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString appends the canonical JSON of s.
func appendJSONString(b []byte, s string) []byte {
	if IsPlain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return append(b, mustJSON(s)...)
}

// canonicalKeys is the canonical JSON of a list of strings.
func canonicalKeys(keys []string) json.RawMessage {
	b := make([]byte, 0, 2+len(keys)*16)
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
	}
	return append(b, ']')
}

// completenessTrigger returns the inspection whose completeness a merged
// mutation may have changed ("" if none): a new inspection or one whose
// answers changed; the inspection of a new photo record, or of one whose
// item changed or that was tombstoned. won are the fields the mutation
// won; created says the record is new.
func completenessTrigger(r *StoredRecord, won []string, created, deleted bool) string {
	switch r.Entity.Name {
	case syncproto.EntityInspection:
		if created {
			return r.ID
		}
		for _, f := range won {
			if strings.HasPrefix(f, "answers.") {
				return r.ID
			}
		}
	case syncproto.EntityPhoto:
		if r.Text("inspection_id") == "" {
			return ""
		}
		if created || deleted {
			return r.Text("inspection_id")
		}
		for _, f := range won {
			if f == "item_key" || f == "uploaded" || f == "flags" {
				return r.Text("inspection_id")
			}
		}
	}
	return ""
}

// recheckAfterWrite refreshes the completeness of the inspection a
// server write of values to r may have changed (Upsert, SetServerFields).
func (s *Syncer) recheckAfterWrite(ctx context.Context, tx WriteTx, r *StoredRecord, values map[string]any, created bool, now time.Time) error {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	if id := completenessTrigger(r, names, created, false); id != "" {
		return s.refreshCompleteness(ctx, tx, []string{id}, now)
	}
	if _, kind := values["kind"]; kind && !created && r.Entity.Name == syncproto.EntitySite {
		// An office reclassified the site: whether its inspections'
		// checklists fit it may have changed.
		insps, err := tx.Find(ctx, EntityByName(syncproto.EntityInspection), "site_id", r.ID)
		if err != nil {
			return err
		}
		ids := make([]string, len(insps))
		for i, insp := range insps {
			ids[i] = insp.ID
		}
		return s.refreshCompleteness(ctx, tx, ids, now)
	}
	return nil
}

// BackfillCompleteness computes the completeness of every live inspection
// that has none (stored before the server kept it), a few hundred per
// transaction, and returns how many it computed. It is idempotent: once
// every inspection has its fields it finds nothing to do.
func (s *Syncer) BackfillCompleteness(ctx context.Context) (int, error) {
	const chunk = 500
	total := 0
	for {
		var n int
		err := s.Store.Update(ctx, func(tx WriteTx) error {
			ids, err := tx.UncheckedInspections(ctx, chunk)
			if err != nil {
				return err
			}
			n = len(ids)
			return s.refreshCompleteness(ctx, tx, ids, s.Now().UTC())
		})
		if err != nil {
			return total, fmt.Errorf("backfill inspection completeness: %w", err)
		}
		total += n
		if n < chunk {
			return total, nil
		}
	}
}

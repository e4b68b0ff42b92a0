package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TemplateRecordID is the record id of a checklist template version.
func TemplateRecordID(id string, version int) string { return fmt.Sprintf("%s@%d", id, version) }

// LoadReference writes the counties, checklist templates and rectification
// tasks of the seed set through the server's write path, in one
// transaction. It is idempotent: unchanged values are not rewritten, so a
// restart adds nothing to the change feed.
//
// A checklist version stored already is published: inspections were
// answered on it, and phones hold it (sync.md 9.1: immutable once
// published). One whose content in the set differs (a build that edited
// it instead of adding a version) is kept as published, not rewritten;
// each is returned as its record id with the fields that differ, for the
// caller to report.
func LoadReference(ctx context.Context, s *Syncer, set *seeds.Set) (kept []string, err error) {
	err = s.Store.Update(ctx, func(tx WriteTx) error {
		kept = nil
		for _, c := range set.Counties {
			if err := s.Upsert(ctx, tx, syncproto.EntityCounty, c.Code, "", map[string]any{
				"code": c.Code, "name": c.Name, "kind": c.Kind, "lon": c.Lon, "lat": c.Lat,
				"confirmed": c.Confirmed, "note": c.Note,
			}); err != nil {
				return fmt.Errorf("county %s: %w", c.Code, err)
			}
		}
		for _, t := range set.Templates {
			items, err := toAny(t.Items)
			if err != nil {
				return err
			}
			id := TemplateRecordID(t.ID, t.Version)
			values := map[string]any{
				"template_id": t.ID, "version": t.Version, "kind": t.Kind, "title": t.Title,
				"description": t.Description, "source": t.Source, "site_kinds": t.SiteKinds, "items": items,
			}
			differ, err := storedDiffers(ctx, tx, syncproto.EntityTemplate, id, values)
			if err != nil {
				return fmt.Errorf("template %s: %w", id, err)
			}
			if len(differ) > 0 {
				kept = append(kept, id+" ("+strings.Join(differ, ", ")+")")
				continue
			}
			if err := s.Upsert(ctx, tx, syncproto.EntityTemplate, id, "", values); err != nil {
				return fmt.Errorf("template %s: %w", t.ID, err)
			}
		}
		for _, t := range set.Tasks {
			values := map[string]any{
				"number": t.Number, "category": t.Category, "problem": t.Problem, "measures": t.Measures,
				"responsible_units": t.ResponsibleUnits, "responsible_person": t.ResponsiblePerson,
				"acceptance_unit": t.AcceptanceUnit, "deadline_text": t.DeadlineText, "deadline": t.Deadline,
				"long_term": t.LongTerm, "counties": nonNil(t.Counties), "templates": nonNil(t.Templates),
			}
			if err := s.Upsert(ctx, tx, syncproto.EntityTask, t.ID, "", values); err != nil {
				return fmt.Errorf("task %s: %w", t.ID, err)
			}
		}
		return nil
	})
	return kept, err
}

// storedDiffers names the fields of the stored record entity/id (not
// deleted) whose values differ from values; none when there is no such
// record.
func storedDiffers(ctx context.Context, tx WriteTx, entity, id string, values map[string]any) ([]string, error) {
	e := EntityByName(entity)
	r, err := tx.Get(ctx, e, id)
	if err != nil || r == nil || r.State.IsDeleted() {
		return nil, err
	}
	vals, err := canonicalValues(e, values)
	if err != nil {
		return nil, err
	}
	var differ []string
	for _, name := range slices.Sorted(maps.Keys(vals)) {
		if st, ok := r.State.Fields[name]; ok && !bytes.Equal(st.Value, vals[name]) {
			differ = append(differ, name)
		}
	}
	return differ, nil
}

// toAny round-trips v through JSON so that the server's canonical encoder
// sees plain maps and slices.
func toAny(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

package console

import (
	"context"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// conflictRow is a value the merge did not keep (DESIGN: nothing silently
// lost), as a page lists it: which record, which field, the value, why.
type conflictRow struct {
	Record, Field, Value, Reason, At string
}

// conflictReasons say why a value is in the conflict log.
var conflictReasons = map[string]string{
	server.ConflictOlder:    "被较新的修改覆盖",
	server.ConflictEqualHLC: "同一时间戳的另一取值（按取值排序保留较大者）",
	server.ConflictDeleted:  "写入时记录已删除（或在删除之后写入）",
}

// recordRef names a record whose conflicts a page lists.
type recordRef struct{ Entity, ID string }

// conflictRows lists the conflict log's entries of recs in the viewer's
// scope, each record's newest first, the first of recs (the page's own
// record) named by its kind alone, the others (its findings, its photos)
// by the end of their id too. items names a checklist's items.
func (c *Console) conflictRows(ctx context.Context, p *server.Principal, items map[string]string, recs ...recordRef) ([]conflictRow, error) {
	var out []conflictRow
	for i, r := range recs {
		cs, err := c.d.Store.Conflicts(ctx, p.Scope(), r.Entity, r.ID, 100)
		if err != nil {
			return nil, err
		}
		record := auditEntityNames[r.Entity]
		if i > 0 {
			record += " " + shortID(r.ID)
		}
		for _, cf := range cs {
			out = append(out, conflictRow{Record: record, Field: fieldLabel(cf.Field, items),
				Value:  auditValue(cf.Field, entityField(r.Entity, cf.Field), cf.Value, items),
				Reason: conflictReasons[cf.Reason], At: cf.At.In(chinaTime).Format("2006-01-02 15:04:05")})
		}
	}
	return out, nil
}

// photoRefs are the records of a page's photos.
func photoRefs(ps []photoRow) []recordRef {
	out := make([]recordRef, 0, len(ps))
	for _, p := range ps {
		out = append(out, recordRef{syncproto.EntityPhoto, p.ID})
	}
	return out
}

package postgres

import (
	"context"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Sites returns a page of the live sites q selects, by county and name,
// and how many it selects in all.
func (db *DB) Sites(ctx context.Context, q server.SiteQuery) ([]*server.StoredRecord, int, error) {
	where, args := scopeWhere(q.Scope)
	w := " WHERE deleted_hlc = ''" + where
	if q.Text != "" {
		w += ` AND (id ILIKE ? ESCAPE '\' OR coalesce(name, '') ILIKE ? ESCAPE '\' OR coalesce(address, '') ILIKE ? ESCAPE '\' OR coalesce(note, '') ILIKE ? ESCAPE '\')`
		p := likePattern(q.Text)
		args = append(args, p, p, p, p)
	}
	if q.Kind != "" {
		w += " AND kind = ?"
		args = append(args, q.Kind)
	}
	if q.County != "" {
		w += " AND county = ?"
		args = append(args, q.County)
	}
	return db.page(ctx, server.EntityByName(syncproto.EntitySite), w, args, "county, name NULLS FIRST, id", q.Limit, q.Offset)
}

package sqlite

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
		w += ` AND (id LIKE ? ESCAPE '\' OR coalesce(name, '') LIKE ? ESCAPE '\' OR coalesce(address, '') LIKE ? ESCAPE '\' OR coalesce(note, '') LIKE ? ESCAPE '\')`
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
	return db.page(ctx, server.EntityByName(syncproto.EntitySite), w, args, "county, name, id", q.Limit, q.Offset)
}

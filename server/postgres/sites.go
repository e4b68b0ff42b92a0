package postgres

import (
	"context"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Sites returns a page of the live sites q selects, by county and name,
// and how many it selects in all.
func (db *DB) Sites(ctx context.Context, q server.SiteQuery) ([]*server.StoredRecord, int, error) {
	w, args, order := dialect.SiteWhere(q)
	return db.page(ctx, server.EntityByName(syncproto.EntitySite), w, args, order, q.Limit, q.Offset)
}

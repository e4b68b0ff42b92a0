package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// Search finds the inspections (under review or reviewed: never drafts),
// findings, roadside checks and sites in q's scope that match q.Text, up to
// q.Limit of each kind, the newest first.
func (db *DB) Search(ctx context.Context, q server.SearchQuery) ([]server.SearchHit, error) {
	pat, limit, ok := sqlstore.SearchArgs(q)
	if !ok {
		return nil, nil
	}
	parts := dialect.SearchParts("$1")
	var out []server.SearchHit
	for _, p := range parts {
		// The pattern is $1, the limit $2, the scope's counties $3.
		where, args := dialect.ScopeOf(q.Scope, p.Alias)
		where = strings.Replace(where, "?", "$3", 1)
		rows, err := db.pool.Query(ctx, p.SQL+where+" ORDER BY "+p.Order+" LIMIT $2", append([]any{pat, limit}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", p.Alias, err)
		}
		out, err = sqlstore.ReadSearchHits(rows, out)
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", p.Alias, err)
		}
	}
	return out, nil
}

package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// Search finds the inspections (under review or reviewed: never drafts),
// findings, roadside checks and sites in q's scope that match q.Text, up to
// q.Limit of each kind, the newest first.
func (db *DB) Search(ctx context.Context, q server.SearchQuery) ([]server.SearchHit, error) {
	pat, plate, limit, ok := sqlstore.SearchArgs(q)
	if !ok {
		return nil, nil
	}
	parts := dialect.SearchParts("$1", "$3")
	var out []server.SearchHit
	for _, p := range parts {
		// The pattern is $1, the limit $2, the plate's pattern $3 (a part
		// that has no $3 binds none: PostgreSQL wants every parameter
		// used), the scope's counties the next.
		bind := []any{pat, limit}
		if strings.Contains(p.SQL, "$3") {
			bind = append(bind, plate)
		}
		where, args := dialect.ScopeOf(q.Scope, p.Alias)
		where = strings.Replace(where, "?", "$"+strconv.Itoa(len(bind)+1), 1)
		rows, err := db.pool.Query(ctx, p.SQL+where+" ORDER BY "+p.Order+" LIMIT $2", append(bind, args...)...)
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

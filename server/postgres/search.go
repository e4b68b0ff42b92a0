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
	text := strings.TrimSpace(q.Text)
	if text == "" {
		return nil, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	pat := sqlstore.LikePattern(text)
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
		for rows.Next() {
			var h server.SearchHit
			if err := rows.Scan(&h.Kind, &h.ID, &h.County, &h.Title, &h.Text, &h.Status, &h.At, &h.Inspector, &h.InspectionID); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

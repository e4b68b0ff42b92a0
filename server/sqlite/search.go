package sqlite

import (
	"context"
	"database/sql"
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
	parts := dialect.SearchParts(":pat")
	var out []server.SearchHit
	for _, p := range parts {
		where, args := dialect.ScopeOf(q.Scope, p.Alias)
		// Named :pat and positional scope arguments cannot mix, so the
		// pattern is bound by name and the counties as numbered names.
		named := []any{}
		for i, a := range args {
			name := fmt.Sprintf("c%d", i)
			where = strings.Replace(where, "?", ":"+name, 1)
			named = append(named, sql.Named(name, a))
		}
		named = append(named, sql.Named("pat", pat), sql.Named("lim", limit))
		rows, err := db.read.QueryContext(ctx, p.SQL+where+" ORDER BY "+p.Order+" LIMIT :lim", named...)
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
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/xinzhou-eco/fieldsync/internal/sqllit"
	"github.com/xinzhou-eco/fieldsync/server"
)

// scopeOf is scopeWhere for a table known by alias in a join.
func scopeOf(s server.Scope, alias string) (string, []any) {
	w, args := scopeWhere(s)
	if w == "" {
		return "", nil
	}
	return strings.Replace(w, " county = ANY", " "+alias+".county = ANY", 1), args
}

// likePattern is a LIKE pattern matching text anywhere, with \ as the
// escape character: the text's own % and _ match only themselves. The
// store matches with ILIKE, case-insensitive for ASCII on the "C"
// collation, as SQLite's LIKE is.
func likePattern(text string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(text) + "%"
}

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
	pat := likePattern(text)
	like := func(cols ...string) string {
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = "coalesce(" + c + ", '') ILIKE $1 ESCAPE '\\'"
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	}
	type part struct {
		sql   string
		alias string
		order string
	}
	parts := []part{
		{`SELECT 'inspection', i.id, i.county, coalesce(s.name, ''), coalesce(i.summary, ''), coalesce(i.status, ''),
			coalesce(i.started_at, ''), coalesce(nullif(u.display_name, ''), u.username, ''), ''
			FROM inspection i LEFT JOIN site s ON s.id = i.site_id LEFT JOIN users u ON u.id = i.created_by
			WHERE i.deleted_hlc = '' AND i.status IN ` + sqllit.List(server.ReviewStatuses) + ` AND ` +
			like("i.id", "s.name", "s.address", "i.summary", "i.answers", "u.username", "u.display_name"), "i", "i.started_at DESC NULLS LAST, i.id"},
		{`SELECT 'finding', f.id, f.county, coalesce(s.name, ''), coalesce(f.description, ''), coalesce(f.status, ''),
			coalesce(i.started_at, ''), coalesce(nullif(u.display_name, ''), u.username, ''), coalesce(f.inspection_id, '')
			FROM finding f LEFT JOIN inspection i ON i.id = f.inspection_id LEFT JOIN site s ON s.id = i.site_id
			LEFT JOIN users u ON u.id = f.created_by
			WHERE f.deleted_hlc = '' AND coalesce(i.status, '') != '` + server.StatusDraft + `' AND ` +
			like("f.id", "f.description", "f.rectification_note", "s.name", "u.username", "u.display_name"), "f", "i.started_at DESC NULLS LAST, f.id"},
		{`SELECT 'vehicle_check', v.id, v.county, coalesce(v.plate, ''), coalesce(v.checkpoint, ''), coalesce(v.action, ''),
			coalesce(v.checked_at, ''), coalesce(nullif(u.display_name, ''), u.username, ''), ''
			FROM vehicle_check v LEFT JOIN users u ON u.id = v.created_by
			WHERE v.deleted_hlc = '' AND ` +
			like("v.id", "replace(replace(v.plate, ' ', ''), '·', '')", "v.vin", "v.checkpoint", "v.note", "v.remote_sensing_id", "u.username", "u.display_name"), "v", "v.checked_at DESC NULLS LAST, v.id"},
		{`SELECT 'site', st.id, st.county, coalesce(st.name, ''), coalesce(st.address, ''), coalesce(st.kind, ''),
			'', '', ''
			FROM site st
			WHERE st.deleted_hlc = '' AND ` + like("st.id", "st.name", "st.address", "st.note"), "st", "st.name NULLS FIRST, st.id"},
	}
	var out []server.SearchHit
	for _, p := range parts {
		// The pattern is $1, the limit $2, the scope's counties $3.
		where, args := scopeOf(q.Scope, p.alias)
		where = strings.Replace(where, "?", "$3", 1)
		rows, err := db.pool.Query(ctx, p.sql+where+" ORDER BY "+p.order+" LIMIT $2", append([]any{pat, limit}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", p.alias, err)
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

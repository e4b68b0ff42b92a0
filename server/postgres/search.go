package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// Search finds the inspections (under review or reviewed: never drafts),
// findings, roadside checks and sites in q's scope that match q.Text, up to
// q.Limit of each kind, the newest first.
func (db *DB) Search(ctx context.Context, q server.SearchQuery) ([]server.SearchHit, error) {
	sb, ok := sqlstore.SearchArgs(q)
	if !ok {
		return nil, nil
	}
	// The patterns are $1…$n (each spelling's, then its loose one), the
	// limit $n+1, the plate's pattern $n+2 (a part that has no plate binds
	// none: PostgreSQL wants every parameter used), the scope's counties
	// the next.
	var texts, loose []string
	fixed := []any{}
	for i, t := range sb.Texts {
		texts = append(texts, "$"+strconv.Itoa(len(fixed)+1))
		loose = append(loose, "$"+strconv.Itoa(len(fixed)+2))
		fixed = append(fixed, t, sb.Loose[i])
	}
	limit, plate := "$"+strconv.Itoa(len(fixed)+1), "$"+strconv.Itoa(len(fixed)+2)
	fixed = append(fixed, sb.Limit)
	parts := dialect.SearchParts(texts, loose, plate)
	var out []server.SearchHit
	for _, p := range parts {
		bind := slices.Clone(fixed)
		if strings.Contains(p.SQL, plate) {
			bind = append(bind, sb.Plate)
		}
		where, args := dialect.ScopeOf(q.Scope, p.Alias)
		where = strings.Replace(where, "?", "$"+strconv.Itoa(len(bind)+1), 1)
		rows, err := db.pool.Query(ctx, p.SQL+where+" ORDER BY "+p.Order+" LIMIT "+limit, append(bind, args...)...)
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

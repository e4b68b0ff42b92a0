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
	bind, ok := sqlstore.SearchArgs(q)
	if !ok {
		return nil, nil
	}
	var texts, loose []string
	for i := range bind.Texts {
		texts = append(texts, fmt.Sprintf(":t%d", i))
		loose = append(loose, fmt.Sprintf(":l%d", i))
	}
	parts := dialect.SearchParts(texts, loose, ":plate")
	var out []server.SearchHit
	for _, p := range parts {
		where, args := dialect.ScopeOf(q.Scope, p.Alias)
		// Named patterns and positional scope arguments cannot mix, so the
		// patterns are bound by name and the counties as numbered names.
		named := []any{}
		if strings.Contains(p.SQL, ":plate") {
			named = append(named, sql.Named("plate", bind.Plate))
		}
		for i, a := range args {
			name := fmt.Sprintf("c%d", i)
			where = strings.Replace(where, "?", ":"+name, 1)
			named = append(named, sql.Named(name, a))
		}
		for i, t := range bind.Texts {
			named = append(named, sql.Named(fmt.Sprintf("t%d", i), t), sql.Named(fmt.Sprintf("l%d", i), bind.Loose[i]))
		}
		named = append(named, sql.Named("lim", bind.Limit))
		rows, err := db.read.QueryContext(ctx, p.SQL+where+" ORDER BY "+p.Order+" LIMIT :lim", named...)
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", p.Alias, err)
		}
		out, err = sqlstore.ReadSearchHits(rows, out)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", p.Alias, err)
		}
	}
	return out, nil
}

package sqlite_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// TestPhotoFilterPlans: the review queue's evidence-flag filter (and the
// overview's count of flagged inspections waiting) reaches an
// inspection's photos through the photo indexes, never through an index
// SQLite builds for the query over every photo — what it did when it
// turned the EXISTS into a join: 0.4 s a count for 2,000 inspections,
// and the queue filtered by flag took 2 s a page (console probe).
func TestPhotoFilterPlans(t *testing.T) {
	raw := migratedRaw(t)
	for _, flag := range []string{server.AnyFlag, "near_duplicate"} {
		q := server.InspectionQuery{Scope: server.Scope{All: true}, Flag: flag}
		for _, withCounty := range []bool{true, false} {
			w, args := sqlite.Dialect.InspectionWhere(q, withCounty)
			for _, s := range []string{"SELECT count(*) FROM inspection" + w,
				"SELECT county, status, count(*) FROM inspection" + w + " GROUP BY county, status"} {
				text := planOf(t, raw, s, args...)
				if strings.Contains(text, "AUTOMATIC") || !strings.Contains(text, "photo_inspection_item") || !strings.Contains(text, "photo_finding") {
					t.Errorf("flag %s: %s\nplanned as\n%s", flag, s, text)
				}
			}
		}
	}
}

// TestAwaitingKeyPlan: the photos waiting for their device's key are found
// through the partial index that holds only them (photo_awaiting_key), so
// a key registration costs nothing where there are none.
func TestAwaitingKeyPlan(t *testing.T) {
	text := planOf(t, migratedRaw(t), sqlstore.PhotosAwaitingKeySQL, "k", "d")
	if !strings.Contains(text, "photo_awaiting_key") {
		t.Errorf("%s\nplanned as\n%s", sqlstore.PhotosAwaitingKeySQL, text)
	}
}

// planOf is SQLite's query plan of q, a line per step.
func planOf(t *testing.T, raw *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := raw.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n")
}

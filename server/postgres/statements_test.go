package postgres

import (
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// TestUpsertTextsBounded: however many column sets devices' records make,
// an entity keeps at most sqlstore.MaxStatementTexts upsert texts, and the
// ones past it are still right.
func TestUpsertTextsBounded(t *testing.T) {
	es := newEntitySQL(server.EntityByName("inspection"))
	for m := uint64(1); m <= 2*sqlstore.MaxStatementTexts; m++ {
		q := es.upsert(m, 2)
		cols, _ := es.UpsertCols(m)
		if !strings.Contains(q, "("+strings.Join(cols, ", ")+") VALUES (") || strings.Count(q, "$") != 2*len(cols) {
			t.Fatalf("mask %b: %q is not an upsert of two rows of %v", m, q, cols)
		}
	}
	if len(es.upserts) > sqlstore.MaxStatementTexts {
		t.Errorf("%d upsert texts kept; want at most %d", len(es.upserts), sqlstore.MaxStatementTexts)
	}
}

package sqlite

import (
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// TestStatementTextsBounded: however many column sets devices' writes
// make, an entity keeps at most sqlstore.MaxStatementTexts statement texts of each
// kind, and the ones past it are still right.
func TestStatementTextsBounded(t *testing.T) {
	es := newEntitySQL(server.EntityByName("inspection"))
	n := len(es.Entity.Fields)
	if n < 11 {
		t.Fatalf("inspection has %d fields; want at least 11 for %d column sets", n, 2*sqlstore.MaxStatementTexts)
	}
	for m := uint64(1); m <= 2*sqlstore.MaxStatementTexts; m++ {
		var set sqlstore.ColSet
		for i := range n {
			if m&(1<<i) != 0 {
				set.Add(sqlstore.NMeta + i)
			}
		}
		upd := es.update(set)
		if want := strings.Join(es.SetCols(set), " = ?, ") + " = ? WHERE id = ?"; !strings.HasSuffix(upd, want) {
			t.Fatalf("set %b: %q, want it to end %q", m, upd, want)
		}
		ups := es.upsert(m)
		if cols, _ := es.UpsertCols(m); !strings.Contains(ups, "("+strings.Join(cols, ", ")+")") {
			t.Fatalf("mask %b: %q lacks its columns %v", m, ups, cols)
		}
	}
	if len(es.updates) > sqlstore.MaxStatementTexts || len(es.upserts) > sqlstore.MaxStatementTexts {
		t.Errorf("%d update and %d upsert texts kept; want at most %d each", len(es.updates), len(es.upserts), sqlstore.MaxStatementTexts)
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigrateFailedBooleans: migration 030 has the failed items of every
// inspection that has any listed again (they are NULL, which the start's
// BackfillCompleteness computes): a yes/no item without finding_on_fail
// answered 否 — 突击或夜间检查 — no longer fails. Those with none stay.
func TestMigrateFailedBooleans(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	raw := openAt(t, path, "030")
	if _, err := raw.ExecContext(ctx, `INSERT INTO county (id, seq, hlcs, created_at, updated_at, code) VALUES ('140902', 1, '{}', 0, 0, '140902')`); err != nil {
		t.Fatal(err)
	}
	seq := 1
	for id, failed := range map[string]any{"a": `["unannounced_check"]`, "b": `["closed_shed","cut_implemented"]`, "c": `[]`, "d": nil} {
		seq++
		if _, err := raw.ExecContext(ctx, `INSERT INTO inspection (id, county, seq, hlcs, created_at, updated_at, failed_items)
			VALUES (?, '140902', ?, '{}', 0, 0, ?)`, id, seq, failed); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path) // applies 030
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, want := range map[string]sql.NullString{"a": {}, "b": {}, "c": {String: "[]", Valid: true}, "d": {}} {
		var got sql.NullString
		if err := db.read.QueryRowContext(ctx, `SELECT failed_items FROM inspection WHERE id = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("inspection %s: failed_items %v, want %v", id, got, want)
		}
	}
}

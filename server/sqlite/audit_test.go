package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
)

// TestAuditTamper checks that the server's connection cannot rewrite the
// audit log, and that a rewrite made in the database file directly (the
// triggers dropped, as anyone holding the file can) is found by
// server.VerifyAudit.
func TestAuditTamper(t *testing.T) {
	var mu sync.Mutex
	paths := map[server.Store]string{}
	open := func(t testing.TB) server.Store {
		path := filepath.Join(t.TempDir(), "fieldsync.db")
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		mu.Lock()
		paths[db] = path
		mu.Unlock()
		return db
	}
	storetest.RunAuditTamper(t, open, storetest.RawSQL{
		Serving: func(tb testing.TB, st server.Store, q string) error {
			_, err := sqlite.Writer(st.(*sqlite.DB)).Exec(q)
			return err
		},
		Owner: func(tb testing.TB, st server.Store, qs ...string) {
			mu.Lock()
			path := paths[st]
			mu.Unlock()
			// A connection of its own on the file, like the sqlite3 shell.
			raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
			if err != nil {
				tb.Fatal(err)
			}
			defer raw.Close()
			for _, q := range qs {
				if _, err := raw.Exec(q); err != nil {
					tb.Fatalf("%s: %v", q, err)
				}
			}
		},
		Unguard: []string{
			`DROP TRIGGER IF EXISTS audit_log_no_update`, `DROP TRIGGER IF EXISTS audit_log_no_delete`,
			`DROP TRIGGER IF EXISTS audit_seals_no_update`, `DROP TRIGGER IF EXISTS audit_seals_no_delete`,
		},
	})
}

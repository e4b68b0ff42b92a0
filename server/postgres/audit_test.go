package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestAuditTamper checks that the server's connections cannot rewrite the
// audit log, and that a rewrite by the tables' owner (triggers disabled)
// is found by server.VerifyAudit.
func TestAuditTamper(t *testing.T) {
	open := func(t testing.TB) server.Store {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	storetest.RunAuditTamper(t, open, storetest.RawSQL{
		Serving: func(tb testing.TB, st server.Store, q string) error {
			_, err := st.(*postgres.DB).Pool().Exec(context.Background(), q)
			return err
		},
		Owner: func(tb testing.TB, st server.Store, qs ...string) {
			for _, q := range qs {
				if _, err := st.(*postgres.DB).Pool().Exec(context.Background(), q); err != nil {
					tb.Fatalf("%s: %v", q, err)
				}
			}
		},
		Unguard: []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `ALTER TABLE audit_seals DISABLE TRIGGER USER`},
	})
}

// TestAuditServingRole checks the deployment README describes: tables
// created by an owner role, the server connected as a role granted only
// what it needs, which can append to the audit log but neither rewrite it
// nor take its trigger away.
func TestAuditServingRole(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	openAt(t, dsn) // migrates as the owner
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	role := "fieldsync_serve_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role,
		"REVOKE UPDATE, DELETE ON audit_log, audit_seals FROM " + role,
		"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO " + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP OWNED BY "+role)
		_, _ = c.Exec(context.Background(), "DROP ROLE "+role)
	})
	u, _ := url.Parse(dsn)
	u.User = url.User(role)
	db, s := openAt(t, u.String())
	for _, q := range []string{
		`UPDATE audit_log SET actor_name = 'x'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`ALTER TABLE audit_log DISABLE TRIGGER USER`,
		`DROP TRIGGER audit_log_append_only ON audit_log`,
		`UPDATE audit_seals SET counts = '{}'`,
	} {
		_, err := db.Pool().Exec(ctx, q)
		if err == nil || !(strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "must be owner")) {
			t.Errorf("%s as the serving role: %v, want refused", q, err)
		}
	}
	// It appends, in the transaction of an audited write, and reads.
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.LoadReference(ctx, s, set); err != nil {
		t.Fatal(err)
	}
	city := &server.Principal{UserID: "u-city", Name: "市督查", Role: server.RoleCityOffice}
	if err := s.ReportProgress(ctx, city, set.Tasks[0].ID, server.ProgressCounties(taskRecord(t, db, set.Tasks[0].ID))[0],
		server.ProgressReport{Status: syncproto.TaskInProgress}); err != nil {
		t.Fatalf("report progress as the serving role: %v", err)
	}
	check, err := server.VerifyAudit(ctx, db, nil)
	if err != nil || check.Entries != 1 || len(check.Problems) > 0 {
		t.Fatalf("verify as the serving role: %+v %v", check, err)
	}
}

func taskRecord(t *testing.T, db *postgres.DB, id string) *server.StoredRecord {
	t.Helper()
	r, err := db.Get(context.Background(), syncproto.EntityTask, id)
	if err != nil || r == nil {
		t.Fatalf("task %s: %v", id, err)
	}
	return r
}

// TestAuditTriggersPutBack: the audit tables' append-only triggers
// dropped or disabled by the database's owner (to edit the log) are found
// when a server opens the database, put back and named (Unguarded, which
// the server logs at ERROR and audit verify fails on), as SQLite's are;
// they went unnoticed, and the log stayed open to rewrites.
func TestAuditTriggersPutBack(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, _ := openAt(t, dsn)
	if got := db.Unguarded(); len(got) != 0 {
		t.Fatalf("a new database's triggers found missing: %v", got)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_append_only ON audit_log`, `ALTER TABLE audit_seals DISABLE TRIGGER audit_seals_no_truncate`} {
		if _, err := db.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	again, _ := openAt(t, dsn)
	if err := server.AuditAccount(ctx, again, server.AccountAction{ActorName: "命令行", Action: "user_added", Entity: "user", RecordID: "wang"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(again.Unguarded(), ","), "audit_log_append_only,audit_seals_no_truncate"; got != want {
		t.Errorf("unguarded %q, want %q", got, want)
	}
	if _, err := again.Pool().Exec(ctx, `UPDATE audit_log SET actor_name = 'x'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("an update of the audit log after the open: %v, want refused as append-only", err)
	}
	if _, err := again.Pool().Exec(ctx, `TRUNCATE audit_seals`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("a truncate of the seals after the open: %v, want refused as append-only", err)
	}
	if third, _ := openAt(t, dsn); len(third.Unguarded()) != 0 {
		t.Errorf("put back, found missing again: %v", third.Unguarded())
	}
}

package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestReadyzAfterANewerServerMigrated: a server running on PostgreSQL
// whose database a server of a newer build has since migrated (a rolling
// upgrade) answers /readyz 503, saying to stop and update it, so that a
// load balancer leaves it; it was ready before (ops probe: the old server
// went on answering 200 and taking pushes, unwarned).
func TestReadyzAfterANewerServerMigrated(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	srv := apptest.Start(t, func(c *app.Config) { c.Database = dsn })
	ready := func() (int, syncproto.ErrorBody) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var eb syncproto.ErrorBody
		_ = json.Unmarshal(b, &eb)
		return resp.StatusCode, eb
	}
	if status, eb := ready(); status != http.StatusOK {
		t.Fatalf("/readyz before the upgrade: %d %+v", status, eb)
	}
	// What a newer build's start does to the database.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO schema_migrations (name) VALUES ('migrations/999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	status, eb := ready()
	if status != http.StatusServiceUnavailable || eb.Code != syncproto.CodeUnavailable || !strings.Contains(eb.Message, "新版本") {
		t.Errorf("/readyz after a newer build migrated the database: %d %+v, want 503 unavailable saying a newer version migrated it", status, eb)
	}
}

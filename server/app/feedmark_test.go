package app_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestFeedBehindRefused: a database whose change feed went back under
// the epoch it had — restored from a dump without the new epoch the
// README asks for, a SQLite file copied back by hand — is refused at the
// start by a server that served it further, saying how to give it a new
// epoch; with one given, it serves (ops probe: phones passed by the
// changes numbered again, and never sent again what they had pushed
// after the backup). On both stores.
func TestFeedBehindRefused(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			cfg := app.DefaultConfig()
			cfg.DataDir, cfg.Addr, cfg.BcryptCost, cfg.HoldPhotoProcessing = t.TempDir(), "127.0.0.1:0", bcrypt.MinCost, true
			if store == "postgres" {
				cfg.Database = pgtest.NewDatabase(t)
			}
			// A server serves and takes a write, then stops.
			a, err := app.Open(ctx, cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			sctx, stop := context.WithCancel(ctx)
			served := make(chan error, 1)
			go func() { served <- a.Serve(sctx) }()
			if err := a.DB.Update(ctx, func(tx server.WriteTx) error {
				return a.Syncer.Upsert(ctx, tx, syncproto.EntitySite, uuid.NewString(), apptest.Xinfu,
					map[string]any{"county": apptest.Xinfu, "kind": "coal_yard", "name": "恢复测试料场", "active": true})
			}); err != nil {
				t.Fatal(err)
			}
			head, err := a.DB.FeedHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			epoch := a.DB.Epoch()
			stop()
			if err := <-served; err != nil {
				t.Fatal(err)
			}
			// The database goes back, as a restore takes it back: its feed
			// numbered one change fewer, its epoch kept.
			setSeq(t, cfg, head-1)
			_, err = app.Open(ctx, cfg, quiet)
			if !errors.Is(err, app.ErrFeedBehind) || !strings.Contains(err.Error(), "fieldsync epoch renew") {
				t.Fatalf("a server started on its database gone back: %v, want it refused with the way out", err)
			}
			// A tool still opens it (to renew it, to check it); renewed, it serves.
			tool, err := app.OpenStore(ctx, cfg, quiet)
			if err != nil {
				t.Fatal(err)
			}
			renewed, err := tool.DB.(interface {
				RenewEpoch(context.Context) (string, error)
			}).RenewEpoch(ctx)
			tool.Close()
			if err != nil || renewed == epoch || len(renewed) != 16 {
				t.Fatalf("renew epoch: %q (was %q) %v", renewed, epoch, err)
			}
			a, err = app.Open(ctx, cfg, quiet)
			if err != nil {
				t.Fatalf("with a new epoch: %v", err)
			}
			if a.DB.Epoch() != renewed {
				t.Errorf("epoch %s, want the renewed %s", a.DB.Epoch(), renewed)
			}
			a.Close()
			// The mark now holds the new epoch: the same head again is fine.
			if b, err := os.ReadFile(filepath.Join(cfg.DataDir, "feed-mark.json")); err != nil || !strings.Contains(string(b), renewed) {
				t.Errorf("the feed mark after the start: %s %v", b, err)
			}
		})
	}
}

// setSeq sets the database's feed head (meta's seq) as a restore of an
// older copy would have it.
func setSeq(t *testing.T, cfg app.Config, seq int64) {
	t.Helper()
	ctx := context.Background()
	if cfg.Database != "" {
		conn, err := pgx.Connect(ctx, cfg.Database)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'seq'`, strconv.FormatInt(seq, 10)); err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := sql.Open("sqlite3", cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE meta SET value = ? WHERE key = 'seq'`, seq); err != nil {
		t.Fatal(err)
	}
}

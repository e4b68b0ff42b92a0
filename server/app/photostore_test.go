package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestServersShareOnePhotoStore: a server joining a shared database with
// another photo store than the one the database's photos are in — no
// --blobs (its own data directory), or another bucket — refuses to start,
// saying which store and what to give it, instead of serving a 500 for
// every photo and failing the photo jobs it takes from the shared queue.
// Before any photo is stored any store passes, and the deployment's own
// store passes after.
func TestServersShareOnePhotoStore(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	store := s3test.Start(t)
	ctx := context.Background()
	open := func(blobs string) (*app.App, error) {
		cfg := app.DefaultConfig()
		cfg.DataDir, cfg.Database, cfg.Blobs, cfg.BcryptCost = t.TempDir(), dsn, blobs, bcrypt.MinCost
		cfg.Demo, cfg.DemoMonth = true, false
		a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			t.Cleanup(func() { a.Close() })
		}
		return a, err
	}
	srv := apptest.Start(t, func(c *app.Config) { c.Database, c.Blobs = dsn, store })
	if a, err := open(""); err != nil {
		t.Fatalf("a server without --blobs before any photo is stored: %v", err)
	} else {
		a.Close()
	}

	uploadPhoto(t, srv)

	for _, tc := range []struct {
		name, blobs string
		says        []string
	}{
		{"no --blobs", "", []string{"holds none of the database's 1 newest photos", "has no --blobs (FIELDSYNC_BLOBS)", "copy the blobs directory kept with the backup into"}},
		{"another bucket", s3test.Start(t), []string{"s3://fieldsync-", "holds none", "same --blobs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := open(tc.blobs)
			if err == nil {
				a.Close()
				t.Fatal("started with a photo store that holds none of the database's photos")
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("refusal %q does not say %q", err, s)
				}
			}
		})
	}
	a, err := open(store)
	if err != nil {
		t.Fatalf("a second server with the deployment's photo store: %v", err)
	}
	a.Close()
}

// TestMissingPhotosSaid: a server on its own directory whose photo files
// are gone (restored without blobs/) starts — it serves the records and
// what photos it has — and says at once, at ERROR, that the photos are
// missing and what to copy, rather than at each photo an office opens
// (admin probe: it started silent and ready).
func TestMissingPhotosSaid(t *testing.T) {
	srv := apptest.Start(t)
	uploadPhoto(t, srv)
	srv.App.Photos.WaitIdle()
	srv.Stop()
	reopen := func() string {
		t.Helper()
		cfg := app.DefaultConfig()
		cfg.Addr, cfg.DataDir, cfg.BcryptCost, cfg.Demo, cfg.DemoMonth = "127.0.0.1:0", srv.Dir, bcrypt.MinCost, true, false
		var logs strings.Builder
		a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("a server whose photos are missing does not start: %v", err)
		}
		a.Close()
		return logs.String()
	}
	if logs := reopen(); strings.Contains(logs, "newest photos") {
		t.Fatalf("a server with its photos says they are missing:\n%s", logs)
	}
	if err := os.RemoveAll(filepath.Join(srv.Dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	if logs := reopen(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "holds none of the database's 1 newest photos") ||
		!strings.Contains(logs, "copy the blobs directory kept with the backup") {
		t.Errorf("a server whose photos are gone does not say so:\n%s", logs)
	}
}

// uploadPhoto has the inspector's phone push a roadside check with one
// photo and upload its bytes.
func uploadPhoto(t *testing.T, srv *apptest.Server) {
	t.Helper()
	c := srv.Login(apptest.Inspector)
	vc, photo := uuid.NewString(), uuid.NewString()
	jpeg := testimg.JPEG(testimg.Options{Width: 64, Height: 48, Seed: 3})
	apptest.PushApplied(t, c,
		apptest.Mut(c, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu, "checkpoint", "豆罗检查站",
			"plate", "晋H30272", "checked_at", "2026-11-28T10:00:00+08:00")),
		apptest.Mut(c, syncproto.EntityPhoto, photo, apptest.Fields("vehicle_check_id", vc, "sha256", apptest.SHA256(jpeg),
			"size_bytes", len(jpeg), "content_type", "image/jpeg")))
	srv.Tus(c).Upload(photo, "image/jpeg", jpeg, http.StatusNoContent)
}

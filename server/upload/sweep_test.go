package upload_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestSweepRemovesAbandonedUploads: an upload left unfinished longer than
// the limit is removed (and its URL answers 404); a recent one stays.
func TestSweepRemovesAbandonedUploads(t *testing.T) {
	srv := apptest.Start(t)
	tus := srv.Tus(srv.Login(apptest.Inspector))
	data := []byte("partial bytes")
	old := tus.Create(newID(), apptest.SHA256(data), "image/jpeg", 1000)
	recent := tus.Create(newID(), apptest.SHA256(data), "image/jpeg", 1000)
	if old.Status != http.StatusCreated || recent.Status != http.StatusCreated {
		t.Fatalf("create: %d %d", old.Status, recent.Status)
	}
	dir := filepath.Join(srv.Dir, "uploads")
	oldID := filepath.Base(old.Header.Get("Location"))
	week := time.Now().Add(-8 * 24 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, oldID), week, week); err != nil {
		t.Fatal(err)
	}
	n, err := srv.App.Uploads.Sweep(7*24*time.Hour, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("sweep removed %d, %v; want 1", n, err)
	}
	if r := tus.Head(old.Header.Get("Location")); r.Status != http.StatusNotFound {
		t.Errorf("abandoned upload still there: HEAD %d", r.Status)
	}
	if r := tus.Head(recent.Header.Get("Location")); r.Status != http.StatusOK {
		t.Errorf("recent upload: HEAD %d, want 200", r.Status)
	}
}

func newID() string { return uuidString() }

func uuidString() string { return uuid.NewString() }

package upload_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/app"
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

	// Half an upload (its .info or its bytes removed by hand, or a crash
	// between the two) is swept as the pair is, once as old: it stayed
	// for good.
	var halves []string
	for _, removed := range []string{"", ".info"} {
		r := tus.Create(newID(), apptest.SHA256(data), "image/jpeg", 1000)
		id := filepath.Base(r.Header.Get("Location"))
		kept := map[string]string{"": ".info", ".info": ""}[removed]
		if err := os.Remove(filepath.Join(dir, id+removed)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(dir, id+kept), week, week); err != nil {
			t.Fatal(err)
		}
		halves = append(halves, filepath.Join(dir, id+kept))
	}
	if n, err := srv.App.Uploads.Sweep(7*24*time.Hour, time.Now()); err != nil || n != 2 {
		t.Fatalf("sweep of two halves removed %d, %v; want 2", n, err)
	}
	for _, f := range halves {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s left by the sweep (%v)", filepath.Base(f), err)
		}
	}
	if r := tus.Head(recent.Header.Get("Location")); r.Status != http.StatusOK {
		t.Errorf("recent upload after the second sweep: HEAD %d, want 200", r.Status)
	}
}

func newID() string { return uuidString() }

func uuidString() string { return uuid.NewString() }

// TestSweepUnreferencedBytes (issue 13): bytes uploaded for a photo id
// whose record never came are kept for the grace period, then deleted —
// original and derivatives, with their upload row and the abandoned
// unfinished uploads; bytes a photo record marked uploaded refers to are
// kept at any age, whichever order record and bytes came in. A record
// declaring the hash without having uploaded it keeps nothing alive.
func TestSweepUnreferencedBytes(t *testing.T) {
	srv := apptest.Start(t)
	ctx := context.Background()
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	other := newPhone(t, srv, apptest.NingwuInsp, apptest.Ningwu)

	never, neverID := evidenceJPEG(61), newID()
	a.tus.Upload(neverID, "image/jpeg", never, http.StatusNoContent) // its record is never pushed
	other.record(t, newID(), never)                                  // declared, never uploaded for it
	late, lateID := evidenceJPEG(62), newID()
	a.tus.Upload(lateID, "image/jpeg", late, http.StatusNoContent)
	a.record(t, lateID, late)
	first := evidenceJPEG(63)
	firstID := a.record(t, newID(), first)
	a.tus.Upload(firstID, "image/jpeg", first, http.StatusNoContent)
	abandoned := a.tus.Create(newID(), apptest.SHA256([]byte("partial")), "image/jpeg", 1000)
	srv.App.Photos.WaitIdle()
	// Derivatives beside the unreferenced original (as records declaring a
	// hash got them before issue 9) go with it.
	if err := srv.App.Blobs.PutVariant(ctx, apptest.SHA256(never), "thumbnail", []byte("old thumbnail")); err != nil {
		t.Fatal(err)
	}
	has := func(data []byte, variant string) bool {
		ok, err := srv.App.Blobs.Has(ctx, apptest.SHA256(data), variant)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	sweep := func(after time.Duration, full bool) app.Swept {
		t.Helper()
		n, err := srv.App.Sweep(ctx, time.Now().Add(after), full)
		if err != nil {
			t.Fatalf("sweep: %v", err)
		}
		return n
	}

	if n := sweep(24*time.Hour, true); n != (app.Swept{}) || !has(never, "original") {
		t.Fatalf("a day later: swept %+v, original kept %v; want nothing swept within the grace period", n, has(never, "original"))
	}
	if n := sweep(8*24*time.Hour, false); n.Unfinished != 1 || n.Uploads != 1 || n.Blobs != 1 {
		t.Fatalf("after the grace period: swept %+v, want 1 unfinished upload, 1 upload row, 1 blob", n)
	}
	if has(never, "original") || has(never, "thumbnail") {
		t.Error("unreferenced bytes (or their thumbnail) kept after the grace period")
	}
	for name, data := range map[string][]byte{"bytes first": late, "record first": first} {
		if !has(data, "original") || !has(data, "thumbnail") {
			t.Errorf("%s: referenced bytes deleted", name)
		}
	}
	if r := a.tus.Head(abandoned.Header.Get("Location")); r.Status != http.StatusNotFound {
		t.Errorf("abandoned upload still there: HEAD %d", r.Status)
	}

	// The upload row went with the bytes: a record pushed now for that id
	// is not uploaded until its bytes are sent again.
	a.record(t, neverID, never)
	srv.App.Photos.WaitIdle()
	a.wantNotServed(t, neverID, "record after its upload was swept")
	a.tus.Upload(neverID, "image/jpeg", never, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	a.wantServed(t, neverID, never, "record after a new upload")

	if n := sweep(10*365*24*time.Hour, true); n.Blobs != 0 {
		t.Errorf("ten years later: swept %+v, want no referenced blob deleted", n)
	}
	a.wantServed(t, lateID, late, "ten years later, bytes first")
	a.wantServed(t, firstID, first, "ten years later, record first")
}

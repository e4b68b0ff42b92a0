package upload_test

import (
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDataDirMovedOrCopied: an unfinished upload goes on in a data
// directory moved to another place (a new disk), and in a copy of it (an
// upgrade rehearsed) only the copy's files are written. tusd's filestore
// kept each upload's absolute path: moved, HEAD answered 404 and the
// phone started over; copied, the copy's PATCH wrote into the original's
// file (upgrade probe).
func TestDataDirMovedOrCopied(t *testing.T) {
	first := apptest.Start(t)
	p := newPhone(t, first, apptest.Inspector, apptest.Xinfu)
	data := testimg.JPEG(testimg.Options{Width: 640, Height: 480, Seed: 21})
	id := p.record(t, newID(), data)
	created := p.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d", created.Status)
	}
	loc, err := url.Parse(created.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	if r := p.tus.Patch(loc.Path, 0, data[:half]); r.Status != http.StatusNoContent {
		t.Fatalf("first half: %d", r.Status)
	}
	first.Stop()

	at := func(dir string) *apptest.Server {
		return apptest.Start(t, func(c *app.Config) { c.DataDir = dir })
	}
	offset := func(srv *apptest.Server) int {
		t.Helper()
		r := srv.Tus(p.c).Head(loc.Path)
		n, err := strconv.Atoi(r.Header.Get("Upload-Offset"))
		if r.Status != http.StatusOK || err != nil {
			t.Fatalf("HEAD: %d %q", r.Status, r.Header.Get("Upload-Offset"))
		}
		return n
	}
	moved := filepath.Join(t.TempDir(), "data")
	if err := os.Rename(first.Dir, moved); err != nil {
		t.Fatal(err)
	}
	srv := at(moved)
	if n := offset(srv); n != half {
		t.Fatalf("moved: offset %d, want %d", n, half)
	}
	srv.Stop()

	copied := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(copied, os.DirFS(moved)); err != nil {
		t.Fatal(err)
	}
	srv = at(copied)
	if r := srv.Tus(p.c).Patch(loc.Path, offset(srv), data[half:]); r.Status != http.StatusNoContent {
		t.Fatalf("the rest, in the copy: %d", r.Status)
	}
	if rec, err := srv.App.DB.Get(t.Context(), syncproto.EntityPhoto, id); err != nil || string(rec.Value("uploaded")) != "true" {
		t.Fatalf("the photo in the copy: %v", err)
	}
	if st, err := os.Stat(filepath.Join(moved, "uploads", path.Base(loc.Path))); err != nil || st.Size() != int64(half) {
		t.Errorf("the original's upload file: %v %v, want %d bytes untouched", st, err, half)
	}
}

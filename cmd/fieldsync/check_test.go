package main

import (
	"context"
	"database/sql"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// checkPhoto is one photo of a photoDir.
type checkPhoto struct {
	id, sum, inspection string
	size                int
}

// photoDir is a data directory a real server left: an inspection with four
// photos uploaded and processed — two JPEGs, a PNG and a HEIC (which
// gets no derivatives) — by name.
type photoDir struct {
	dir    string
	photos map[string]checkPhoto
}

// newPhotoDir runs a server (apptest.Start), has the demo's inspector
// push an inspection and its photos and upload their bytes (tus), waits
// for their processing and stops the server, unless serving is set (the
// caller's to stop then).
func newPhotoDir(t *testing.T, serving bool, opts ...func(*app.Config)) (*photoDir, *apptest.Server) {
	t.Helper()
	srv := apptest.Start(t, opts...)
	phone := srv.Login(apptest.Inspector)
	insp := uuid.NewString()
	started := time.Now().Add(-time.Hour).Truncate(time.Second)
	apptest.PushApplied(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", started.Format(time.RFC3339))))
	taken := started.Add(10 * time.Minute)
	files := map[string]struct {
		ct   string
		data []byte
	}{
		"jpeg":  {"image/jpeg", testimg.JPEG(testimg.Options{Width: 640, Height: 480, Seed: 1, Time: &taken})},
		"jpeg2": {"image/jpeg", testimg.JPEG(testimg.Options{Width: 480, Height: 640, Seed: 2, Time: &taken})},
		"png":   {"image/png", testimg.PNG(testimg.Options{Width: 320, Height: 240, Seed: 3})},
		"heic":  {"image/heic", testimg.HEIC()},
	}
	d := &photoDir{dir: srv.Dir, photos: map[string]checkPhoto{}}
	tus := srv.Tus(phone)
	for name, f := range files {
		p := checkPhoto{id: uuid.NewString(), sum: apptest.SHA256(f.data), inspection: insp, size: len(f.data)}
		apptest.PushApplied(t, phone, apptest.Mut(phone, "photo", p.id, apptest.Fields("inspection_id", insp, "sha256", p.sum,
			"content_type", f.ct, "size_bytes", p.size, "captured_at", taken.Format(time.RFC3339))))
		tus.Upload(p.id, f.ct, f.data, http.StatusNoContent)
		d.photos[name] = p
	}
	// Processed by the server's workers, or on PostgreSQL its job queue.
	for name, p := range d.photos {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rec, err := srv.App.DB.Get(context.Background(), "photo", p.id)
			if err == nil && rec != nil && rec.Uploaded() && isSet(rec.Value("processed_at")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("photo %s not uploaded and processed: %v %v", name, rec, err)
			}
		}
	}
	if !serving {
		srv.Stop()
	}
	return d, srv
}

// blob is the path of a variant of photo name in the directory dir's
// photo store (blobfs's layout).
func (d *photoDir) blob(dir, name, variant string) string {
	sum := d.photos[name].sum
	return filepath.Join(dir, "blobs", sum[:2], sum[2:4], sum, variant)
}

// copyDir copies the data directory src to a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o750)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// damage changes a copy of a photoDir (its directory dir).
type damage func(t *testing.T, d *photoDir, dir string)

// remove deletes a variant of a photo.
func remove(name, variant string) damage {
	return func(t *testing.T, d *photoDir, dir string) {
		if err := os.Remove(d.blob(dir, name, variant)); err != nil {
			t.Fatal(err)
		}
	}
}

// alter overwrites bytes in the middle of a photo's original, keeping
// its size.
func alter(name string) damage {
	return func(t *testing.T, d *photoDir, dir string) {
		f, err := os.OpenFile(d.blob(dir, name, "original"), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte("tampered"), int64(d.photos[name].size/2)); err != nil {
			t.Fatal(err)
		}
	}
}

// cut drops the last bytes of a photo's original.
func cut(name string) damage {
	return func(t *testing.T, d *photoDir, dir string) {
		if err := os.Truncate(d.blob(dir, name, "original"), int64(d.photos[name].size-10)); err != nil {
			t.Fatal(err)
		}
	}
}

// unmounted takes the photo store's directory away (a volume not
// mounted).
func unmounted(t *testing.T, d *photoDir, dir string) {
	if err := os.Rename(filepath.Join(dir, "blobs"), filepath.Join(t.TempDir(), "elsewhere")); err != nil {
		t.Fatal(err)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return apptest.SHA256(b)
}

// TestCheckCommand: check names each photo whose original is missing,
// altered or cut short, or whose derivatives are missing, with its
// inspection and sha256, and fails; --quick does not read originals
// whole; a HEIC (no derivatives) is not reported; without --repair it
// changes nothing.
func TestCheckCommand(t *testing.T) {
	d, _ := newPhotoDir(t, false)
	for _, tc := range []struct {
		name    string
		damage  []damage
		args    []string
		code    int
		bad     map[string]string // photo name → what its line says
		want    []string          // other lines
		missing []string          // files check must not make
	}{
		{name: "all well", code: 0, want: []string{"integrity ok", "4 photos marked uploaded checked", "0 bad"}},
		{name: "all well, quick", args: []string{"--quick"}, code: 0, want: []string{"(--quick)", "0 bad"}},
		{name: "original deleted", damage: []damage{remove("jpeg", "original")}, code: 1,
			bad: map[string]string{"jpeg": "original missing from the photo store"}},
		{name: "original deleted, quick", damage: []damage{remove("heic", "original")}, args: []string{"--quick"}, code: 1,
			bad: map[string]string{"heic": "original missing from the photo store"}},
		{name: "original altered, same size", damage: []damage{alter("jpeg2")}, code: 1,
			bad: map[string]string{"jpeg2": "original's bytes do not match its sha256"}},
		{name: "original altered, same size, quick", damage: []damage{alter("jpeg2")}, args: []string{"--quick"}, code: 0, want: []string{"0 bad"}},
		{name: "original cut short, quick", damage: []damage{cut("png")}, args: []string{"--quick"}, code: 1,
			bad: map[string]string{"png": "the record says"}},
		{name: "thumbnail deleted", damage: []damage{remove("jpeg", "thumbnail")}, code: 1,
			bad: map[string]string{"jpeg": "thumbnail missing"}, missing: []string{"jpeg/thumbnail"}},
		{name: "preview deleted", damage: []damage{remove("png", "preview")}, code: 1,
			bad: map[string]string{"png": "preview missing"}, missing: []string{"png/preview"}},
		{name: "photo store not mounted", damage: []damage{unmounted}, code: 1,
			bad:  map[string]string{"jpeg": "original missing", "jpeg2": "original missing", "png": "original missing", "heic": "original missing"},
			want: []string{"no such directory"}, missing: []string{"blobs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, d.dir)
			for _, f := range tc.damage {
				f(t, d, dir)
			}
			dbBefore := fileSHA256(t, filepath.Join(dir, "fieldsync.db"))
			code, out, errs := run(t, append([]string{"check", "--data", dir}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for name, p := range d.photos {
				line := lineWith(out, p.id)
				what, bad := tc.bad[name]
				switch {
				case !bad && line != "":
					t.Errorf("photo %s reported: %s", name, line)
				case bad && line == "":
					t.Errorf("photo %s (%s) not reported:\n%s", name, what, out)
				case bad:
					for _, w := range []string{"BAD", "inspection " + p.inspection, "sha256 " + p.sum, what} {
						if !strings.Contains(line, w) {
							t.Errorf("photo %s's line lacks %q: %s", name, w, line)
						}
					}
				}
			}
			if tc.code != 0 && !strings.Contains(errs, "bad") {
				t.Errorf("stderr %q, want why it failed", errs)
			}
			// Only read: nothing made again, nothing written.
			for _, m := range tc.missing {
				path := filepath.Join(dir, "blobs")
				if name, variant, ok := strings.Cut(m, "/"); ok {
					path = d.blob(dir, name, variant)
				}
				if _, err := os.Stat(path); err == nil {
					t.Errorf("check made %s", m)
				}
			}
			if fileSHA256(t, filepath.Join(dir, "fieldsync.db")) != dbBefore {
				t.Error("check changed the database")
			}
		})
	}
}

// lineWith returns the line of out that contains s, or "".
func lineWith(out, s string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

// TestCheckRepair: --repair makes missing derivatives again by the photo's
// processing, and a second check passes; it does not make them from an
// original that is not the photo's own bytes, nor without one.
func TestCheckRepair(t *testing.T) {
	d, _ := newPhotoDir(t, false)
	for _, tc := range []struct {
		name   string
		damage []damage
		args   []string
		code   int
		lines  map[string]string // photo name → what its line says
		made   []string          // name/variant made again
		absent []string          // name/variant left missing
	}{
		{name: "thumbnail and preview deleted", damage: []damage{remove("jpeg", "thumbnail"), remove("png", "preview")}, code: 0,
			lines: map[string]string{"jpeg": "FIXED", "png": "FIXED"}, made: []string{"jpeg/thumbnail", "png/preview"}},
		{name: "both derivatives deleted, quick", damage: []damage{remove("jpeg2", "thumbnail"), remove("jpeg2", "preview")}, args: []string{"--quick"}, code: 0,
			lines: map[string]string{"jpeg2": "FIXED"}, made: []string{"jpeg2/thumbnail", "jpeg2/preview"}},
		{name: "original altered", damage: []damage{alter("jpeg"), remove("jpeg", "thumbnail")}, code: 1,
			lines: map[string]string{"jpeg": "not made again"}, absent: []string{"jpeg/thumbnail"}},
		{name: "original altered, quick", damage: []damage{alter("jpeg"), remove("jpeg", "thumbnail")}, args: []string{"--quick"}, code: 1,
			lines: map[string]string{"jpeg": "not made again"}, absent: []string{"jpeg/thumbnail"}},
		{name: "original deleted", damage: []damage{remove("png", "original"), remove("png", "thumbnail")}, code: 1,
			lines: map[string]string{"png": "not made again"}, absent: []string{"png/thumbnail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, d.dir)
			for _, f := range tc.damage {
				f(t, d, dir)
			}
			code, out, errs := run(t, append([]string{"check", "--data", dir, "--repair"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("check --repair: exit %d, want %d\n%s%s", code, tc.code, out, errs)
			}
			for name, p := range d.photos {
				line := lineWith(out, p.id)
				if want, ok := tc.lines[name]; !ok && line != "" || ok && !strings.Contains(line, want) {
					t.Errorf("photo %s: line %q, want %q\n%s", name, line, want, out)
				}
			}
			exists := func(m string) bool {
				name, variant, _ := strings.Cut(m, "/")
				_, err := os.Stat(d.blob(dir, name, variant))
				return err == nil
			}
			for _, m := range tc.made {
				if !exists(m) {
					t.Errorf("%s not made again", m)
				}
			}
			for _, m := range tc.absent {
				if exists(m) {
					t.Errorf("%s made again", m)
				}
			}
			if tc.code != 0 {
				return
			}
			if code, out, errs := run(t, "check", "--data", dir); code != 0 || !strings.Contains(out, "0 bad") {
				t.Fatalf("check after repair: exit %d\n%s%s", code, out, errs)
			}
			// What is made again is what processing made.
			for _, m := range tc.made {
				name, variant, _ := strings.Cut(m, "/")
				if got, want := fileSHA256(t, d.blob(dir, name, variant)), fileSHA256(t, d.blob(d.dir, name, variant)); got != want {
					t.Errorf("%s made again differs from the first", m)
				}
			}
		})
	}
}

// corruptPages overwrites with random bytes the first page of each of
// these tables of the SQLite database at path: pages in the middle of the
// file, of tables that opening the database does not read (so that the
// commands get as far as copying or checking it).
func corruptPages(t *testing.T, path string, tables ...string) {
	t.Helper()
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Fatalf("%s has a write-ahead log: the pages overwritten may be in it", path)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var pageSize, pages int64
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	roots := make([]int64, len(tables))
	for i, name := range tables {
		if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&roots[i]); err != nil {
			t.Fatalf("table %s: %v", name, err)
		}
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range roots {
		if p < 2 || p >= pages {
			t.Fatalf("page %d of %d is not in the middle", p, pages)
		}
		junk := make([]byte, pageSize)
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(junk, (p-1)*pageSize); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckAndBackupRefuseDamagedDatabase: a database with a few pages
// overwritten (a disk's bad sectors) is reported by check, and refused by
// backup, which leaves no file that could be taken for a backup.
func TestCheckAndBackupRefuseDamagedDatabase(t *testing.T) {
	d, _ := newPhotoDir(t, false)
	dir := copyDir(t, d.dir)
	corruptPages(t, filepath.Join(dir, "fieldsync.db"), "conflicts", "login_attempts", "early_delete")

	code, out, errs := run(t, "check", "--data", dir)
	if code != 1 || !strings.Contains(out, "DAMAGED database") || !strings.Contains(errs, "damaged") {
		t.Errorf("check of a damaged database: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out, "integrity ok") {
		t.Errorf("check says the damaged database is sound:\n%s", out)
	}

	backup := filepath.Join(t.TempDir(), "backup.db")
	code, out, errs = run(t, "backup", "--data", dir, backup)
	if code != 1 || !strings.Contains(errs, "damaged") || strings.Contains(out, "backed up") {
		t.Errorf("backup of a damaged database: exit %d\n%s%s", code, out, errs)
	}
	if entries, _ := os.ReadDir(filepath.Dir(backup)); len(entries) != 0 {
		t.Errorf("a refused backup left %v", entries)
	}

	// The same directory undamaged backs up, checked, leaving the one
	// file.
	sound := filepath.Join(t.TempDir(), "sound.db")
	code, out, errs = run(t, "backup", "--data", copyDir(t, d.dir), sound)
	if code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup of the sound copy: exit %d\n%s%s", code, out, errs)
	}
	if entries, _ := os.ReadDir(filepath.Dir(sound)); len(entries) != 1 {
		t.Errorf("backup left %v", entries)
	}
	if problems, err := sqlite.CheckIntegrity(context.Background(), sound, 10); err != nil || len(problems) > 0 {
		t.Errorf("the backup: %v %v", problems, err)
	}
}

// TestCheckBesideServer: check runs while a server serves the directory
// (holding its lock), and --repair there makes a missing thumbnail again,
// which the server then serves.
func TestCheckBesideServer(t *testing.T) {
	d, srv := newPhotoDir(t, true)
	if code, out, errs := run(t, "check", "--data", d.dir); code != 0 || !strings.Contains(out, "0 bad") {
		t.Fatalf("check beside the server: exit %d\n%s%s", code, out, errs)
	}
	if err := os.Remove(d.blob(d.dir, "jpeg", "thumbnail")); err != nil {
		t.Fatal(err)
	}
	access, _ := srv.Login(apptest.Inspector).Tokens()
	thumb := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/photos/"+d.photos["jpeg"].id+"/thumbnail", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := thumb(); code != http.StatusInternalServerError {
		t.Fatalf("thumbnail deleted: %d", code)
	}
	if code, out, errs := run(t, "check", "--data", d.dir); code != 1 || !strings.Contains(lineWith(out, d.photos["jpeg"].id), "thumbnail missing") {
		t.Fatalf("check beside the server: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run(t, "check", "--data", d.dir, "--repair"); code != 0 || !strings.Contains(lineWith(out, d.photos["jpeg"].id), "FIXED") {
		t.Fatalf("check --repair beside the server: exit %d\n%s%s", code, out, errs)
	}
	if code := thumb(); code != http.StatusOK {
		t.Errorf("thumbnail made again: served %d", code)
	}
}

// TestCheckPostgres: on PostgreSQL check says it leaves the database's
// integrity to PostgreSQL's tools, and checks the photos (here in the data
// directory) as on SQLite, --repair included.
func TestCheckPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	d, _ := newPhotoDir(t, false, func(c *app.Config) { c.Database = dsn })
	if err := os.Remove(d.blob(d.dir, "jpeg", "thumbnail")); err != nil {
		t.Fatal(err)
	}
	jpeg := d.photos["jpeg"].id
	code, out, errs := run(t, "check", "--data", d.dir, "--database", dsn)
	if code != 1 || !strings.Contains(out, "PostgreSQL, whose integrity is not checked") ||
		!strings.Contains(lineWith(out, jpeg), "thumbnail missing") || strings.Count(out, "BAD") != 1 {
		t.Fatalf("check: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run(t, "check", "--data", d.dir, "--database", dsn, "--repair"); code != 0 || !strings.Contains(lineWith(out, jpeg), "FIXED") {
		t.Fatalf("check --repair: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run(t, "check", "--data", d.dir, "--database", dsn); code != 0 || !strings.Contains(out, "4 photos marked uploaded checked") {
		t.Fatalf("check after repair: exit %d\n%s%s", code, out, errs)
	}
}

// TestCheckNeedsADatabase: check of a mistyped --data is refused, and
// makes nothing there.
func TestCheckNeedsADatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{{"check", "--data", dir}, {"check", "--data", dir, "--repair"}} {
		if code, _, errs := run(t, args...); code != 1 || !strings.Contains(errs, "no database") {
			t.Errorf("%v: exit %d %q, want refused", args, code, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%v made %s", args, dir)
		}
	}
}

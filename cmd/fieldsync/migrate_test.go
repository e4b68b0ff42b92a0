package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/server/blobs3"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

// TestMigrateToPostgres: a data directory the app made (reference data,
// the demo's users, sites, roadside checks and a few days of field work,
// a console session and a logged conflict) is copied into an empty
// PostgreSQL database: the counts match table by table, the feed reads the
// same records at the same positions with the same bytes, the epoch and
// the HLC high-water mark carry over, new writes continue after the last
// position, and a second copy into the now full database is refused.
func TestMigrateToPostgres(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := app.DefaultConfig()
	cfg.DataDir, cfg.Demo, cfg.DemoMonth, cfg.DemoDays, cfg.BcryptCost = dir, true, true, 2, bcrypt.MinCost
	a, err := app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	users, err := a.DB.Users(ctx)
	if err != nil || len(users) == 0 {
		t.Fatalf("users: %v", err)
	}
	if err := a.DB.CreateConsoleSession(ctx, &server.ConsoleSession{ID: "s1", UserID: users[0].ID, CSRF: "c",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	insps, _, err := a.DB.Inspections(ctx, server.InspectionQuery{Scope: server.Scope{All: true}})
	if err != nil || len(insps) == 0 {
		t.Fatalf("demo inspections: %d %v", len(insps), err)
	}
	hashedPhoto := uuid.NewString()
	hashes := []server.PhotoHashRow{{Kind: 0, Hash: 0xce178303030303ce, Mirror: 0x73e8c0c0c0c0c073, HasMirror: true}, {Kind: 1, Hash: 1<<63 | 42}}
	if err := a.Syncer.Store.Update(ctx, func(tx server.WriteTx) error {
		if err := a.Syncer.Upsert(ctx, tx, syncproto.EntityPhoto, hashedPhoto, insps[0].County, map[string]any{
			"inspection_id": insps[0].ID, "sha256": strings.Repeat("ab", 32), "uploaded": true, "lon": 112.7, "size_bytes": 1234,
			"flags": map[string]any{"no_gps": map[string]any{}, "far_from_site": map[string]any{"distance_m": 900.5}},
			"exif":  map[string]any{"make": "华为", "model": "P60 \"Pro\""}}); err != nil {
			return err
		}
		return tx.AddConflicts(ctx, []server.Conflict{{Entity: syncproto.EntityCounty, RecordID: "140902", County: "", Field: "note",
			Value: json.RawMessage(`"丢失的值"`), HLC: "x", WinnerHLC: "y", Reason: server.ConflictOlder, At: time.Now()}})
	}); err != nil {
		t.Fatal(err)
	}
	// The shared state of migration 013 (a SQLite store from before it
	// has none, and the copy counts it empty).
	key := server.SigningKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32), CreatedAt: time.UnixMilli(1_800_000_000_000)}
	ks, hasKeys := a.DB.(server.KeyStore)
	if hasKeys {
		if err := ks.AddSigningKey(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	// A phone's capture key: photos it signs after the move still verify.
	devs, err := a.DB.Devices(ctx, server.Scope{All: true})
	if err != nil || len(devs) == 0 {
		t.Fatalf("demo devices: %d %v", len(devs), err)
	}
	capKey := &server.DeviceKey{ID: "key-1", DeviceID: devs[0].ID, SPKI: []byte{0x30, 0x59, 1, 2, 3}, CreatedAt: time.UnixMilli(1_800_000_000_000)}
	if _, err := a.DB.PutDeviceKey(ctx, capKey); err != nil {
		t.Fatal(err)
	}
	// Its fingerprint, as processing leaves it.
	if err := a.DB.(server.PhotoStore).SetPhotoHashes(ctx, hashedPhoto, hashes); err != nil {
		t.Fatal(err)
	}
	a.Close()
	// A photo's bytes and thumbnail in the data directory, for --blobs.
	photo := []byte("\xff\xd8 not really a JPEG, but bytes with a SHA-256")
	photoSum := syncproto.SHA256Hex(photo)
	fsBlobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsBlobs.Put(ctx, photoSum, bytes.NewReader(photo)); err != nil {
		t.Fatal(err)
	}
	if err := fsBlobs.PutVariant(ctx, photoSum, server.VariantThumbnail, []byte("thumb")); err != nil {
		t.Fatal(err)
	}
	bucket := s3test.Start(t)
	// An upload a phone began and did not finish (tusd's files).
	if err := os.MkdirAll(filepath.Join(dir, "uploads"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"dev1-a.info", "dev1-a"} {
		if err := os.WriteFile(filepath.Join(dir, "uploads", f), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	dsn := pgtest.NewDatabase(t)
	// Not while a server holds the directory: what it wrote after the
	// copy would be lost.
	lock, _, err := app.LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "migrate", "--from", dir, "--to", dsn); code == 0 || !strings.Contains(errOut, "stop the server first") {
		t.Errorf("migrate beside a server: exit %d %q, want refused", code, errOut)
	}
	lock.Close()
	code, out, errOut := run(t, "migrate", "--from", dir, "--to", dsn, "--blobs", bucket)
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, table := range []string{"inspection", "photo", "users", "devices", "push_batches", "conflicts", "console_sessions", "meta"} {
		if !strings.Contains(out, table) {
			t.Errorf("no count of %s in:\n%s", table, out)
		}
	}
	t.Log(out)
	if !strings.Contains(out, "1 unfinished photo uploads") {
		t.Errorf("the unfinished upload left behind is not said:\n%s", out)
	}
	if !strings.Contains(out, "photos: 1 stored, 2 files copied") {
		t.Errorf("no count of the photos copied in:\n%s", out)
	}
	s3Blobs, err := blobs3.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]string{server.VariantOriginal: string(photo), server.VariantThumbnail: "thumb"} {
		b, err := s3Blobs.Open(ctx, photoSum, v)
		if err != nil {
			t.Fatalf("%s in S3: %v", v, err)
		}
		got, _ := io.ReadAll(b)
		b.Close()
		if string(got) != want {
			t.Errorf("%s in S3: %q, want %q", v, got, want)
		}
	}

	src, err := sqlite.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if src.Epoch() != dst.Epoch() {
		t.Errorf("epoch %s, want the source's %s", dst.Epoch(), src.Epoch())
	}
	sh, _ := src.HighHLC(ctx)
	if dh, err := dst.HighHLC(ctx); err != nil || dh != sh {
		t.Errorf("high HLC %s %v, want %s", dh, err, sh)
	}
	all := server.Scope{All: true}
	want, _, err := src.Changes(ctx, all, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := dst.Changes(ctx, all, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) < 100 {
		t.Fatalf("feed: %d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Entity != w.Entity || g.ID != w.ID || g.Seq != w.Seq || g.County != w.County || g.CreatedBy != w.CreatedBy ||
			g.CreatedDevice != w.CreatedDevice || !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) ||
			g.State.Deleted != w.State.Deleted || len(g.State.Fields) != len(w.State.Fields) {
			t.Fatalf("record %d: %+v, want %+v", i, g, w)
		}
		for name, f := range w.State.Fields {
			if gf := g.State.Fields[name]; gf.HLC != f.HLC || !bytes.Equal(gf.Value, f.Value) {
				t.Fatalf("%s %s field %s: %s %s, want %s %s", w.Entity.Name, w.ID, name, gf.Value, gf.HLC, f.Value, f.HLC)
			}
		}
	}
	// The photos' fingerprints move with them: a photo processed after
	// the move finds them at once (they used to be made again from the
	// previews minutes after the start, coarser).
	if rows, err := dst.PhotoHashRows(ctx, hashedPhoto); err != nil || !slices.EqualFunc(rows, hashes, func(a, b server.PhotoHashRow) bool { return a == b }) {
		t.Errorf("fingerprint after the move: %+v %v, want %+v", rows, err, hashes)
	}
	sd, _ := src.Devices(ctx, all)
	if dd, err := dst.Devices(ctx, all); err != nil || len(dd) != len(sd) || len(sd) == 0 {
		t.Errorf("devices: %d %v, want %d", len(dd), err, len(sd))
	}
	if ks, err := dst.DeviceKeys(ctx, capKey.DeviceID); err != nil || len(ks) != 1 || ks[0].ID != capKey.ID || !bytes.Equal(ks[0].SPKI, capKey.SPKI) {
		t.Errorf("capture keys after the move: %+v %v, want the phone's", ks, err)
	}
	if cs, err := dst.Conflicts(ctx, all, "", "", 10); err != nil || len(cs) == 0 || string(cs[0].Value) != `"丢失的值"` {
		t.Errorf("conflicts: %+v %v", cs, err)
	}

	if hasKeys {
		if keys, err := dst.SigningKeys(ctx); err != nil || len(keys) != 1 || keys[0].ID != key.ID ||
			!bytes.Equal(keys[0].Secret, key.Secret) || !keys[0].CreatedAt.Equal(key.CreatedAt) {
			t.Errorf("signing keys: %+v %v", keys, err)
		}
	}

	s := server.NewSyncer(dst, nil)
	if err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		return s.Upsert(ctx, tx, syncproto.EntityCounty, "140902", "", map[string]any{"note": "迁移之后"})
	}); err != nil {
		t.Fatal(err)
	}
	if r, err := dst.Get(ctx, syncproto.EntityCounty, "140902"); err != nil || r.Seq <= want[len(want)-1].Seq {
		t.Errorf("seq after migration: %+v %v, want after %d", r, err, want[len(want)-1].Seq)
	}

	// Run again (its photos interrupted, say): the database is not copied
	// twice, the photos are copied again where missing.
	code, out, errOut = run(t, "migrate", "--from", dir, "--to", dsn, "--blobs", bucket)
	if code != 0 || !strings.Contains(out, "not copied again") || !strings.Contains(out, "0 files copied, 2 already there") {
		t.Errorf("second migrate: exit %d\n%s\n%s", code, out, errOut)
	}

	// The old directory is refused from now on, by a server and the
	// tools alike: a forgotten server on it would take phones' work that
	// never reaches PostgreSQL, under the same database identity.
	for _, cmd := range [][]string{{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, {"user", "list", "--data", dir}} {
		if code, _, errOut := run(t, cmd...); code != 1 || !strings.Contains(errOut, "was migrated to") || !strings.Contains(errOut, app.MigratedFile) {
			t.Errorf("%v after the migration: exit %d %q, want refused", cmd, code, errOut)
		}
	}
}

// TestMigrateChecksPhotoStoreFirst: a photo store that cannot be opened
// (a wrong port) is said before the database is copied, so that the
// migration can simply be run again with the right one (it copied the
// whole database first, and the second run found it not empty).
func TestMigrateChecksPhotoStoreFirst(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := app.DefaultConfig()
	cfg.DataDir = dir
	a, err := app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	dsn := pgtest.NewDatabase(t)
	code, _, errOut := run(t, "migrate", "--from", dir, "--to", dsn, "--blobs", "s3://photos?endpoint=http://127.0.0.1:1&region=x")
	if code == 0 || !strings.Contains(errOut, "nothing was copied") {
		t.Fatalf("migrate to an unreachable photo store: exit %d %q", code, errOut)
	}
	if code, out, errOut := run(t, "migrate", "--from", dir, "--to", dsn, "--blobs", s3test.Start(t)); code != 0 || !strings.Contains(out, "every table's count matches") {
		t.Fatalf("migrate again, the store right: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestToolsNeedAPostgresDeployment: a tool given a PostgreSQL database
// without fieldsync's tables (a mistyped database or search_path) refuses
// it and makes nothing there, as it refuses a data directory without a
// database; user add may make the first deployment.
func TestToolsNeedAPostgresDeployment(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	for _, cmd := range [][]string{{"user", "list"}, {"device", "list"}, {"keys", "list"}, {"user", "disable", "wang"}} {
		if code, _, errs := run(t, append(cmd, "--database", dsn)...); code != 1 || !strings.Contains(errs, "no fieldsync database") || strings.Contains(errs, "nobody") {
			t.Errorf("%v: exit %d %q, want refused", cmd, code, errs)
		}
	}
	ok, err := postgres.HasSchema(context.Background(), dsn)
	if err != nil || ok {
		t.Fatalf("after the refusals the database has fieldsync's tables: %v %v", ok, err)
	}
	if code, _, errs := run(t, "user", "add", "--database", dsn, "--username", "wang", "--password", "secret-pass-1", "--county", "140902"); code != 0 {
		t.Fatalf("user add on an empty database: exit %d %q", code, errs)
	}
	if code, out, _ := run(t, "user", "list", "--database", dsn); code != 0 || !strings.Contains(out, "wang") {
		t.Errorf("user list after user add: exit %d %q", code, out)
	}
}

// TestToolsOnPostgresMakeNothingHere: the command-line tools take the URL
// a server runs with, pgxpool's parameters included (pool_max_conns made
// them fail: PostgreSQL was sent it as a setting), and on PostgreSQL they
// make nothing in the data directory — no directory, no blobs/, no audit
// key, which audit verify would then have trusted; sweep without the
// deployment's photo store refuses instead of sweeping an empty one.
func TestToolsOnPostgresMakeNothingHere(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	if code, _, errs := run(t, "user", "add", "--database", dsn, "--username", "wang", "--password", "secret-pass-1", "--county", "140902"); code != 0 {
		t.Fatalf("user add: exit %d %q", code, errs)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	pooled := dsn + sep + "pool_max_conns=4"
	dir := filepath.Join(t.TempDir(), "data")
	for _, cmd := range [][]string{{"user", "list"}, {"device", "list"}, {"keys", "list"}, {"user", "disable", "wang"}, {"user", "enable", "wang"},
		{"keys", "rotate"}, {"audit", "verify"}} {
		code, out, errs := run(t, append(cmd, "--database", pooled, "--data", dir)...)
		if code != 0 {
			t.Errorf("%v with pool_max_conns: exit %d %q", cmd, code, errs)
		}
		if strings.Contains(out+errs, "trusted key") {
			t.Errorf("%v trusts a key nobody gave it: %s%s", cmd, out, errs)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("after %v the data directory %s is there (%v)", cmd, dir, err)
		}
	}
	if code, _, errs := run(t, "sweep", "--database", pooled, "--data", dir); code != 1 || !strings.Contains(errs, "--blobs") {
		t.Errorf("sweep with no photo store: exit %d %q, want refused naming --blobs", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after sweep the data directory is there (%v)", err)
	}
	// With the deployment's photo store in the environment, as on a
	// server's host: still nothing here (the tools made ./data/uploads
	// for the S3 uploads' parts), and sweep sweeps the bucket.
	env := map[string]string{"FIELDSYNC_BLOBS": s3test.Start(t), "FIELDSYNC_DATABASE": pooled, "FIELDSYNC_DATA": dir}
	for _, cmd := range [][]string{{"user", "list"}, {"device", "list"}, {"keys", "list"}, {"sweep"}} {
		var out, errs bytes.Buffer
		if code := Main(context.Background(), cmd, &out, &errs, func(k string) string { return env[k] }); code != 0 {
			t.Errorf("%v with FIELDSYNC_BLOBS: exit %d %q", cmd, code, errs.String())
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("after %v with FIELDSYNC_BLOBS the data directory %s is there (%v)", cmd, dir, err)
		}
	}
	// A server on the same database makes its own: its audit key, to seal with.
	cfg := app.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Database = "127.0.0.1:0", dir, pooled
	a, err := app.Open(context.Background(), cfg, app.NewLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := os.Stat(cfg.AuditKeyPath()); err != nil || a.Sealer.Key == nil {
		t.Errorf("a server on PostgreSQL has no audit key: %v", err)
	}
}

// TestStoresSaid: the line serve prints once it listens names where the
// records and photos are — on PostgreSQL and S3 the database and the
// bucket, not only a data directory that holds neither (operator probe)
// — and never a password or a query's keys.
func TestStoresSaid(t *testing.T) {
	for _, tc := range []struct {
		cfg       app.Config
		want, not []string
	}{
		{app.Config{DataDir: "/srv/fs"}, []string{"数据目录 /srv/fs"}, []string{"数据库"}},
		{app.Config{DataDir: "/srv/fs", Database: "postgres://fs:s3cret@db.lan:5432/fieldsync?sslmode=require&sslpassword=k3y",
			Blobs: "s3://fieldsync-photos?endpoint=http://s3.lan:9000&secret_key=abc"},
			[]string{"数据库 postgres://fs:xxxxx@db.lan:5432/fieldsync", "照片 s3://fieldsync-photos"}, []string{"s3cret", "k3y", "abc", "/srv/fs"}},
		{app.Config{DataDir: "/srv/fs", Database: "host=db.lan password=s3cret dbname=fs"},
			[]string{"数据库 PostgreSQL", "照片 数据目录 /srv/fs"}, []string{"s3cret"}},
	} {
		got := storesSaid(tc.cfg)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", tc.cfg, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%+v: %q says %q", tc.cfg, got, n)
			}
		}
	}
}

// TestDescribeAccountEntry: an undone account change is said with what it
// set, and a part it kept as it was is not said changed (a role changed
// read counties: ["140923"] → ["140923"] too: verification probe).
func TestDescribeAccountEntry(t *testing.T) {
	e := audit.Entry{At: time.Date(2026, 12, 7, 3, 1, 0, 0, time.UTC), ActorName: "命令行", Entity: "user", RecordID: "daixian", Action: "account",
		Changes: json.RawMessage(`{"counties":{"old":["140923"],"new":["140923"]},"role":{"old":"inspector","new":"county_office"}}`)}
	got := describeAccountEntry(e)
	if !strings.Contains(got, "role: inspector → county_office") || strings.Contains(got, "counties") {
		t.Errorf("%q, want the role's change alone", got)
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/blobfs"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// TestServeMainOnLoopback runs the real serve command on port 0, reads the
// address it prints, logs in, and stops it with its context.
func TestServeMainOnLoopback(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--demo"}, pw, io.Discard,
			func(k string) string { return map[string]string{"FIELDSYNC_LOG_LEVEL": "error"}[k] })
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var base string
	var printed []string
	for sc.Scan() {
		line := sc.Text()
		printed = append(printed, line)
		if _, rest, ok := strings.Cut(line, "http://"); ok && base == "" {
			base = "http://" + strings.Fields(rest)[0]
		}
		if strings.Contains(line, "inspector123") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatalf("serve printed no address: %q", printed)
	}
	c := syncproto.NewClient(base, "0191f0a0-0000-7000-8000-0000000000aa")
	if _, err := c.Login(ctx, "inspector", "inspector123", "test"); err != nil {
		t.Fatalf("login with the printed demo account: %v", err)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	// The field app's address is printed and answers with the app.
	var appURL string
	for _, line := range printed {
		if _, rest, ok := strings.Cut(line, "巡查应用"); ok {
			if _, u, ok := strings.Cut(rest, "http://"); ok {
				appURL = "http://" + strings.Fields(u)[0]
			}
		}
	}
	if appURL != base+"/app/" {
		t.Fatalf("serve printed the field app at %q, want %s/app/: %q", appURL, base, printed)
	}
	resp, err = http.Get(appURL)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %v %v", appURL, resp, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown", code)
	}
}

func TestUserAndDeviceCommands(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "user", "add", "--data", dir, "--username", "wang", "--password", "secret-pass-1",
		"--role", "inspector", "--county", "140902,140921", "--name", "王巡查")
	if code != 0 || !strings.Contains(out, "added user wang") {
		t.Fatalf("user add: %d %q %q", code, out, errs)
	}
	if code, _, errs = run(t, "user", "add", "--data", dir, "--username", "wang", "--password", "secret-pass-1", "--role", "inspector", "--county", "140902"); code != 1 || !strings.Contains(errs, "已存在") {
		t.Fatalf("duplicate user add: %d %q", code, errs)
	}
	if code, _, errs = run(t, "user", "add", "--data", dir, "--username", "li", "--password", "secret-pass-1", "--role", "boss"); code != 1 || !strings.Contains(errs, "未知角色") {
		t.Fatalf("bad role: %d %q", code, errs)
	}
	if code, _, errs = run(t, "user", "add", "--data", dir, "--username", "li", "--password", "secret-pass-1", "--county", "999999"); code != 1 || !strings.Contains(errs, "未知的区县") {
		t.Fatalf("bad county: %d %q", code, errs)
	}
	for _, county := range [][]string{{}, {"--county", ""}, {"--county", " , "}} {
		args := append([]string{"user", "add", "--data", dir, "--username", "li", "--password", "secret-pass-1", "--role", "county_office"}, county...)
		if code, _, errs = run(t, args...); code != 1 || !strings.Contains(errs, "至少要有一个区县") {
			t.Fatalf("a county office with no county (%v): %d %q", county, code, errs)
		}
	}
	// A password from a file (or /dev/stdin), not the command line that
	// other users of the machine see: its first line, the line end dropped.
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-a-file-1\r\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs = run(t, "user", "add", "--data", dir, "--username", "zhao", "--password-file", pwFile, "--county", "140902"); code != 0 {
		t.Fatalf("user add --password-file: %d %q %q", code, out, errs)
	}
	if code, _, errs = run(t, "user", "add", "--data", dir, "--username", "qian", "--password", "x", "--password-file", pwFile, "--county", "140902"); code != 1 || !strings.Contains(errs, "not both") {
		t.Fatalf("both --password and --password-file: %d %q", code, errs)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, hash, err := db.UserByUsername(context.Background(), "zhao")
	if err != nil || bcrypt.CompareHashAndPassword([]byte(hash), []byte("from-a-file-1")) != nil {
		t.Errorf("the password from the file is not the user's: %v", err)
	}
	db.Close()
	code, out, _ = run(t, "user", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "wang") || !strings.Contains(out, "140902,140921") {
		t.Fatalf("user list: %d %q", code, out)
	}
	if code, _, errs = run(t, "user", "scope", "wang", "--data", dir); code != 1 || !strings.Contains(errs, "--county") {
		t.Fatalf("user scope without counties: %d %q", code, errs)
	}
	if code, out, errs = run(t, "user", "scope", "wang", "--data", dir, "--county", "140925"); code != 0 || !strings.Contains(out, "140925") || !strings.Contains(out, "now works in") {
		t.Fatalf("user scope: %q %q", out, errs)
	}
	// A county typed twice is stored once, and said as stored.
	if code, out, errs = run(t, "user", "scope", "wang", "--data", dir, "--county", "140921, 140921"); code != 0 || !strings.Contains(out, "now works in 140921;") {
		t.Fatalf("user scope with a county twice: %q %q, want it said once", out, errs)
	}
	// An admin sees every county: counties that would limit it are refused
	// (stored, they were shown as if they did).
	if code, _, errs = run(t, "user", "add", "--data", dir, "--username", "boss", "--password", "secret-pass-1", "--role", "admin"); code != 0 {
		t.Fatalf("add admin: %q", errs)
	}
	if code, out, errs = run(t, "user", "scope", "boss", "--data", dir, "--county", "140925"); code != 1 || strings.Contains(out, "now works in") || !strings.Contains(errs, "sees every county") {
		t.Fatalf("user scope of an admin: %q %q", out, errs)
	}
	if code, _, errs = run(t, "user", "add", "--data", dir, "--username", "city2", "--password", "secret-pass-1", "--role", "city_office", "--county", "140902"); code != 1 || !strings.Contains(errs, "不能限定区县") {
		t.Fatalf("a city office added with one county: %d %q, want refused", code, errs)
	}
	if code, out, errs = run(t, "user", "disable", "wang", "--data", dir); code != 0 || !strings.Contains(out, "disabled wang") {
		t.Fatalf("user disable: %q %q", out, errs)
	}
	_, out, _ = run(t, "user", "list", "--data", dir)
	if !strings.Contains(out, "140921") || !strings.Contains(out, "true") {
		t.Fatalf("after scope and disable, user list: %q", out)
	}
	if code, _, _ = run(t, "user", "disable", "nobody", "--data", dir); code != 1 {
		t.Fatalf("disabling an unknown user succeeded")
	}
	// Disabled twice: nothing changes, nor is logged twice; the only
	// enabled admin is not disabled (nobody would be left to enable
	// anyone), as the console refuses an admin disabling themselves
	// (admin probe).
	if code, out, _ = run(t, "user", "disable", "WANG", "--data", dir); code != 0 || !strings.Contains(out, "wang is disabled already: nothing changed") {
		t.Errorf("disabling a disabled user (named in capitals): %d %q", code, out)
	}
	if code, _, errs = run(t, "user", "disable", "nosuch", "--data", dir); code != 1 || !strings.Contains(errs, `no user "nosuch"`) {
		t.Errorf("disabling nobody: %d %q, want the name said", code, errs)
	}
	if code, _, errs = run(t, "user", "disable", "boss", "--data", dir); code != 1 || !strings.Contains(errs, "最后一个可用的管理员") {
		t.Errorf("disabling the only admin: %d %q, want refused", code, errs)
	}
	// A forgotten password is reset here too: a new one printed (or a
	// file's), the old one no longer signs in.
	code, out, errs = run(t, "user", "passwd", "boss", "--data", dir)
	m := regexp.MustCompile(`new password of boss: (\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, "sessions and device tokens have ended") {
		t.Fatalf("user passwd: %d %q %q", code, out, errs)
	}
	check, err := sqlite.Open(t.Context(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, hash, err = check.UserByUsername(t.Context(), "boss")
	check.Close()
	if err != nil || bcrypt.CompareHashAndPassword([]byte(hash), []byte(m[1])) != nil || bcrypt.CompareHashAndPassword([]byte(hash), []byte("secret-pass-1")) == nil {
		t.Errorf("after user passwd the new password is not boss's, or the old one still is (%v)", err)
	}
	if code, _, _ = run(t, "user", "passwd", "nobody", "--data", dir); code != 1 {
		t.Error("resetting an unknown user's password succeeded")
	}
	// Each change made here is in the audit log, by the command line, as
	// the console's are by their administrator (a refused one is not).
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := store.AuditEntries(t.Context(), 0, 100)
	store.Close()
	var ops []string
	for _, e := range entries {
		if e.Action == "account" && e.ActorName == "命令行" {
			ops = append(ops, e.RecordID+":"+string(e.DecodeChanges()["operation"].New))
		}
	}
	if want := []string{`wang:"user_added"`, `zhao:"user_added"`, `wang:"user_counties_set"`, `wang:"user_counties_set"`, `boss:"user_added"`, `wang:"user_disabled"`,
		`boss:"password_reset"`}; err != nil || fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Errorf("account entries %v (%v), want %v", ops, err, want)
	}
	if code, _, _ = run(t, "device", "revoke", "--data", dir, "0191f0a0-0000-7000-8000-000000000001"); code != 1 {
		t.Fatalf("revoking an unknown device succeeded")
	}
	if code, _, errs = run(t, "device", "reinstate", "--data", dir, "0191f0a0-0000-7000-8000-000000000001"); code != 1 || !strings.Contains(errs, "设备不存在") {
		t.Fatalf("reinstating an unknown device: %d %q", code, errs)
	}
	if code, _, errs = run(t, "nonsense"); code != 2 || !strings.Contains(errs, "usage") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	if code, out, _ = run(t, "--help"); code != 0 || !strings.Contains(out, "usage") {
		t.Fatalf("--help: %d %q", code, out)
	}
}

// backedUp makes a data directory with one user, wang, and a backup of
// it, and returns both paths.
func backedUp(t *testing.T) (dir, backup string) {
	t.Helper()
	dir = t.TempDir()
	if code, _, errs := run(t, "user", "add", "--data", dir, "--username", "wang", "--password", "secret-pass-1", "--county", "140902"); code != 0 {
		t.Fatal(errs)
	}
	backup = filepath.Join(t.TempDir(), "copy.db")
	if code, _, errs := run(t, "backup", "--data", dir, backup); code != 0 {
		t.Fatalf("backup: %q", errs)
	}
	return dir, backup
}

func TestBackupCommand(t *testing.T) {
	dir, out := backedUp(t)
	if code, _, errs := run(t, "backup", "--data", dir, out); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("backup over an existing file: %d %q", code, errs)
	}
	// It says what else a restore needs, which the database lacks.
	if code, said, errs := run(t, "backup", "--data", dir, filepath.Join(t.TempDir(), "again.db")); code != 0 ||
		!strings.Contains(said, filepath.Join(dir, "blobs")) || !strings.Contains(said, "audit-key.pem") {
		t.Errorf("backup: %d %q %q, want the photos and the audit key named", code, said, errs)
	} else if strings.Contains(errs, "no audit key") {
		t.Errorf("backup warns of a missing audit key, which is there: %q", errs)
	}
	// Named, but not there: said (verification probe: told to copy it).
	if err := os.Rename(filepath.Join(dir, "audit-key.pem"), filepath.Join(t.TempDir(), "kept.pem")); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "backup", "--data", dir, filepath.Join(t.TempDir(), "keyless.db")); code != 0 || !strings.Contains(errs, "no audit key") {
		t.Errorf("backup of a directory without its audit key: %d %q, want a warning", code, errs)
	}
	db, err := sqlite.Open(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users, err := db.Users(context.Background())
	if err != nil || len(users) != 1 || users[0].Username != "wang" {
		t.Fatalf("backup holds users %v, %v", users, err)
	}
	if ok, _ := db.IntegrityCheck(context.Background()); ok != "ok" {
		t.Fatalf("backup integrity: %s", ok)
	}
	// The database and its copy hold the token signing secrets and the
	// password hashes: only their owner may read them.
	for _, path := range []string{filepath.Join(dir, "fieldsync.db"), out} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want readable by its owner only", path, fi.Mode().Perm())
		}
	}
}

// TestSweepCommand: the sweep command deletes stored bytes nothing refers
// to once older than the grace period, and keeps younger ones.
func TestSweepCommand(t *testing.T) {
	dir := t.TempDir()
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(data string, age time.Duration) string {
		sum := syncproto.SHA256Hex([]byte(data))
		if _, err := blobs.Put(ctx, sum, strings.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(filepath.Join(dir, "blobs", sum[:2], sum[2:4], sum, "original"), at, at); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	old, recent := put("never claimed", 8*24*time.Hour), put("just uploaded", 2*time.Hour)
	// Not on a directory without a database: every blob would be
	// unreferenced (a mistyped --data beside the real blobs).
	if code, _, errs := run(t, "sweep", "--data", dir); code != 1 || !strings.Contains(errs, "no database") {
		t.Fatalf("sweep without a database: %d %q, want refused", code, errs)
	}
	if ok, _ := blobs.Has(ctx, old, "original"); !ok {
		t.Fatal("a refused sweep deleted bytes")
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if code, _, errs := run(t, "sweep", "--data", dir, "--upload-grace", "0s"); code != 1 || !strings.Contains(errs, "at least 1h") {
		t.Errorf("sweep with no grace: %d %q, want refused", code, errs)
	}
	if code, _, errs := run(t, "sweep", "--data", dir, "--upload-grace", "30m"); code != 1 || !strings.Contains(errs, "at least 1h") {
		t.Errorf("sweep with a grace shorter than the server takes: %d %q, want refused", code, errs)
	}
	code, out, errs := run(t, "sweep", "--data", dir)
	if code != 0 || !strings.Contains(out, "1 unreferenced blobs") {
		t.Fatalf("sweep: %d %q %q", code, out, errs)
	}
	if ok, _ := blobs.Has(ctx, old, "original"); ok {
		t.Error("bytes older than the grace period kept")
	}
	if ok, _ := blobs.Has(ctx, recent, "original"); !ok {
		t.Error("bytes within the grace period deleted")
	}
	if code, out, _ := run(t, "sweep", "--data", dir, "--upload-grace", "1h"); code != 0 || !strings.Contains(out, "1 unreferenced blobs") {
		t.Fatalf("sweep with a shorter grace period: %d %q", code, out)
	}
}

// TestStrayArgumentsAndBadEnvironment: a command refuses words it does not
// take ("serve --demo false" would load the demo's accounts into a real
// data directory), and a FIELDSYNC_* value its flag would refuse, naming
// the variable, before it does anything.
func TestStrayArgumentsAndBadEnvironment(t *testing.T) {
	dir := t.TempDir()
	// Each refusal gives the command's usage, and speaks of a bool flag
	// only when a stray word reads as its value (ops probe: every one was
	// told of --demo).
	for _, tc := range []struct {
		args  []string
		usage string
		bool  bool
	}{
		{[]string{"serve", "--data", dir, "--demo", "false"}, "fieldsync serve [", true},
		{[]string{"serve", "--data", dir, "--demo-month", "false"}, "fieldsync serve [", true},
		{[]string{"user", "list", "--data", dir, "extra"}, "fieldsync user list", false},
		{[]string{"backup", "--data", dir}, "fieldsync backup [--data DIR] OUT.db", false},
		{[]string{"backup", "--data", dir, "a.db", "b.db"}, "fieldsync backup [--data DIR] OUT.db", false},
		{[]string{"sweep", "--data", dir, "extra"}, "fieldsync sweep [--data DIR]", false},
		{[]string{"user", "disable", "--data", dir}, "fieldsync user list | user disable U", false},
		// A stray true/false after no bool flag is no bool flag's value.
		{[]string{"backup", "--data", dir, "x.db", "false"}, "fieldsync backup [--data DIR] OUT.db", false},
		{[]string{"user", "disable", "--data", dir, "a", "true"}, "fieldsync user list | user disable U", false},
	} {
		code, _, errs := run(t, tc.args...)
		if code != 2 || !strings.Contains(errs, "argument") || !strings.Contains(errs, "usage: "+tc.usage) {
			t.Errorf("%q: exit %d %q, want 2 naming the arguments and the usage %q", tc.args, code, errs, tc.usage)
		}
		if got := strings.Contains(errs, "takes no value: write --demo"); got != tc.bool {
			t.Errorf("%q: %q speaks of a bool flag: %v, want %v", tc.args, errs, got, tc.bool)
		}
	}
	if code, _, errs := run(t, "serve", "--data", dir, "--shutdown-grace", "-1s"); code != 1 || !strings.Contains(errs, "shutdown-grace") {
		t.Errorf("serve --shutdown-grace -1s: exit %d %q, want refused", code, errs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused commands wrote %d files to the data directory", len(entries))
	}
	for name, v := range map[string]string{"FIELDSYNC_DEMO": "yes", "FIELDSYNC_MAX_SKEW": "10", "FIELDSYNC_UPLOAD_QUOTA": "200MB",
		"FIELDSYNC_PHOTO_WORKERS": "two", "FIELDSYNC_PULL_WAIT": "5"} {
		var out, errb bytes.Buffer
		env := func(k string) string {
			if k == name {
				return v
			}
			return ""
		}
		if code := Main(context.Background(), []string{"serve", "--data", dir}, &out, &errb, env); code != 2 || !strings.Contains(errb.String(), name) {
			t.Errorf("%s=%s: exit %d %q, want 2 naming the variable", name, v, code, errb.String())
		}
	}
}

// TestRestoreCommand: restore puts a backup in place of the database of a
// server that stopped uncleanly — its write-ahead log left beside the
// database, which SQLite would replay onto the backup — refuses while a
// server holds the directory, and refuses a file that is no database.
func TestRestoreCommand(t *testing.T) {
	dir, backup := backedUp(t)
	// Later writes, whose log a killed server leaves beside the database.
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "user", "add", "--data", dir, "--username", "li", "--password", "secret-pass-2", "--county", "140902"); code != 0 {
		t.Fatal(errs)
	}
	wal, err := os.ReadFile(filepath.Join(dir, "fieldsync.db-wal"))
	if err != nil || len(wal) == 0 {
		t.Fatalf("no write-ahead log to leave behind: %v", err)
	}
	db.Close()
	if err := os.WriteFile(filepath.Join(dir, "fieldsync.db-wal"), wal, 0o600); err != nil {
		t.Fatal(err)
	}

	lock, _, err := app.LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "restore", "--data", dir, backup); code != 1 || !strings.Contains(errs, "stop the server first") {
		t.Errorf("restore beside a server: %d %q", code, errs)
	}
	lock.Close()
	// The directory's own database, named as if a backup (by another
	// path too): refused, nothing replaced — "restored" onto itself it
	// got a new epoch, and every phone pulled everything again (ops probe).
	for _, own := range []string{filepath.Join(dir, "fieldsync.db"), filepath.Join(dir, ".", "..", filepath.Base(dir), "fieldsync.db")} {
		if code, _, errs := run(t, "restore", "--data", dir, own); code != 1 || !strings.Contains(errs, "not a backup") {
			t.Errorf("restore of the directory's own database %s: %d %q, want refused", own, code, errs)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "fieldsync.db.replaced-*")); len(m) != 0 {
		t.Errorf("a refused restore replaced the database: %v", m)
	}
	// Files that are no fieldsync backup this version can serve: nothing
	// is replaced (an empty file, or another program's database, would
	// have been made a new, empty fieldsync database).
	junkDir := t.TempDir()
	junk := map[string]func(path string) error{
		"a file that is no database": func(p string) error { return os.WriteFile(p, []byte("not a database"), 0o600) },
		"an empty file":              func(p string) error { return os.WriteFile(p, nil, 0o600) },
		"another program's database": func(p string) error { return sqliteExec(p, `CREATE TABLE t (x)`) },
		"a newer fieldsync's backup": func(p string) error {
			b, err := os.ReadFile(backup)
			if err == nil {
				err = os.WriteFile(p, b, 0o600)
			}
			if err == nil {
				err = sqliteExec(p, `INSERT INTO schema_migrations (name) VALUES ('migrations/999_future.sql')`)
			}
			return err
		},
	}
	for name, make := range junk {
		p := filepath.Join(junkDir, strings.ReplaceAll(name, " ", "_")+".db")
		if err := make(p); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := run(t, "restore", "--data", dir, p); code != 1 || !strings.Contains(errs, "nothing was replaced") {
			t.Errorf("restore of %s: exit %d %q, want refused", name, code, errs)
		}
	}
	// A directory named as the backup: refused, nothing left behind.
	if code, _, errs := run(t, "restore", "--data", dir, junkDir); code != 1 || !strings.Contains(errs, "is not a file") {
		t.Errorf("restore of a directory: exit %d %q, want refused", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "fieldsync.db.restoring")); !os.IsNotExist(err) {
		t.Errorf("a refused restore left its copy behind: %v", err)
	}
	if wal2, err := os.ReadFile(filepath.Join(dir, "fieldsync.db-wal")); err != nil || len(wal2) != len(wal) {
		t.Errorf("a refused restore touched the database: %v", err)
	}
	// The replaced database's clock had run ahead (a phone's clock it
	// followed): the restored one keeps it.
	ahead := syncproto.HLC{Wall: time.Now().Add(4 * time.Minute).UnixMilli(), Node: "~server"}
	live, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := live.RaiseHighHLC(context.Background(), ahead); err != nil {
		t.Fatal(err)
	}
	live.Close()
	code, out, errs := run(t, "restore", "--data", dir, backup)
	if code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	// The account made after the backup is said undone (a revocation, a
	// disable or a password reset would come back as it was, unsaid:
	// admin probe), and the database replaced is kept, with its log:
	// opened there, it has that account.
	if !strings.Contains(errs, "1 account and device changes made after the backup are undone") || !strings.Contains(errs, "user li") {
		t.Errorf("restore does not say the account change it undoes: %q", errs)
	}
	// With what it was: the field's name alone did not say which change
	// to make again (operator probe).
	if !strings.Contains(errs, "role: inspector") || strings.Contains(errs, "no readable database") {
		t.Errorf("restore does not say what the undone change set: %q", errs)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "fieldsync.db.replaced-*"))
	if len(kept) == 0 || !strings.Contains(out, "kept as "+kept[0]) {
		t.Fatalf("the replaced database is not kept (%v), or not said: %q", kept, out)
	}
	replaced, err := sqlite.Open(context.Background(), kept[0])
	if err != nil {
		t.Fatal(err)
	}
	if users, err := replaced.Users(context.Background()); err != nil || len(users) != 2 {
		t.Errorf("the kept database has users %v (%v), want the backup's and li", users, err)
	}
	replaced.Close()
	restored, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if h, err := restored.HighHLC(context.Background()); err != nil || h.Compare(ahead) < 0 {
		t.Errorf("the restored clock mark %v (%v), want at least the replaced one's %v", h, err, ahead)
	}
	if ok, err := restored.IntegrityCheck(context.Background()); ok != "ok" {
		t.Fatalf("restored database: %s %v", ok, err)
	}
	users, err := restored.Users(context.Background())
	if err != nil || len(users) != 1 || users[0].Username != "wang" {
		t.Errorf("restored users %v (%v), want the backup's", users, err)
	}

	// Into a new directory, without the photos and the seal key the
	// backup does not hold: restored, with a warning for each — for the
	// key only if the backup holds seals signed with one (a backup from
	// before the audit log has none: no key to look for).
	fresh := t.TempDir()
	code, out, errs = run(t, "restore", "--data", fresh, backup)
	if code != 0 || !strings.Contains(out, "restored") || !strings.Contains(errs, "has no photos") || strings.Contains(errs, "audit seal key") {
		t.Fatalf("restore of a backup without seals into a new directory: %d %q %q", code, out, errs)
	}
	// Nothing to compare with there: it says the account changes made
	// after the backup cannot be listed (it said nothing: operator probe).
	if !strings.Contains(errs, "no readable database in "+fresh) || !strings.Contains(errs, "cannot be listed") {
		t.Errorf("restore into a new directory does not say it cannot list the changes it may undo: %q", errs)
	}
	// A backup of an older version (its last migration not applied) is
	// upgraded as it is restored, which is said.
	older := filepath.Join(t.TempDir(), "older.db")
	if raw, err := os.ReadFile(backup); err != nil || os.WriteFile(older, raw, 0o600) != nil {
		t.Fatal(err)
	}
	if err := sqliteExec(older, `ALTER TABLE finding DROP COLUMN rectified_at; DELETE FROM schema_migrations WHERE name LIKE '%033_finding_rectified_at%'`); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, "restore", "--data", t.TempDir(), older)
	if code != 0 || !strings.Contains(out, "made by an older fieldsync") || !strings.Contains(out, "033_finding_rectified_at") {
		t.Errorf("restore of an older version's backup: %d %q %q", code, out, errs)
	}
	sealed := filepath.Join(t.TempDir(), "sealed.db")
	if raw, err := os.ReadFile(backup); err != nil || os.WriteFile(sealed, raw, 0o600) != nil {
		t.Fatal(err)
	}
	if err := sqliteExec(sealed, `INSERT INTO audit_seals (month, first_seq, last_seq, counts, base_hash, head_hash, signed_at, key_id, public_key, signature)
		VALUES ('2026-11', 1, 1, '{}', 'x', 'y', 0, 'k', 'p', 's')`); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, "restore", "--data", t.TempDir(), sealed)
	if code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore of a sealed backup into a new directory: %d %q %q", code, out, errs)
	}
	// Into a directory holding another key (a server started there once,
	// for its new database): said, naming both keys (verification probe).
	keyed := t.TempDir()
	if _, err := audit.LoadOrCreateKey(filepath.Join(keyed, "audit-key.pem")); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "restore", "--data", keyed, sealed); code != 0 || !strings.Contains(errs, "not key k,") {
		t.Errorf("restore of a sealed backup over another audit key: %d %q, want a warning naming the backup's key", code, errs)
	}
	for _, want := range []string{"has no photos", "no audit seal key"} {
		if !strings.Contains(errs, want) {
			t.Errorf("restore of a sealed backup into a new directory warns %q, want %q", errs, want)
		}
	}
	if code, _, errs := run(t, "restore", "--data", dir, backup); code != 0 || strings.Contains(errs, "audit seal key") {
		t.Errorf("restore beside its key: %d %q", code, errs)
	}
}

// sqliteExec runs statement on the SQLite file at path (made if absent).
func sqliteExec(path, statement string) error {
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(statement)
	return err
}

// TestCommandsNeedADatabase: an operator's command pointed at a directory
// without a database (a mistyped --data) is refused and makes nothing
// there, rather than answering from a new, empty database; user add may
// make the first one (before the first serve), in a directory that is
// there, and says it did.
func TestCommandsNeedADatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	for _, cmd := range [][]string{{"user", "list", "--data", dir}, {"device", "list", "--data", dir}, {"keys", "list", "--data", dir},
		{"keys", "retire", "--data", dir, "--older-than", "1h"}, {"backup", "--data", dir, filepath.Join(t.TempDir(), "b.db")},
		{"user", "disable", "--data", dir, "wang"}, {"sweep", "--data", dir}} {
		if code, _, errs := run(t, cmd...); code != 1 || !strings.Contains(errs, "no database") {
			t.Errorf("%v: exit %d %q, want refused", cmd, code, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%v made %s", cmd, dir)
		}
	}
	// Not even user add or keys rotate, which may make the first one:
	// only in a directory that is there.
	add := []string{"user", "add", "--data", dir, "--username", "wang", "--password", "secret-pass-1", "--county", "140902"}
	for _, cmd := range [][]string{add, {"keys", "rotate", "--data", dir}} {
		if code, _, errs := run(t, cmd...); code != 1 || !strings.Contains(errs, "no directory") {
			t.Errorf("%v: exit %d %q, want refused", cmd, code, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%v made %s", cmd, dir)
		}
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, add...); code != 0 || !strings.Contains(errs, "made a new one") {
		t.Fatalf("user add makes the first database: %d %q", code, errs)
	}
	if code, out, _ := run(t, "user", "list", "--data", dir); code != 0 || !strings.Contains(out, "wang") {
		t.Errorf("user list after: %d %q", code, out)
	}
}

// TestCommandGroupHelp: a command group asked for help, or given alone,
// lists its commands (it answered "unknown command").
func TestCommandGroupHelp(t *testing.T) {
	for _, group := range []string{"user", "device", "keys", "audit"} {
		code, out, _ := run(t, group, "--help")
		if code != 0 || !strings.Contains(out, "fieldsync "+group+" ") {
			t.Errorf("%s --help: %d %q, want its commands", group, code, out)
		}
		code, _, errs := run(t, group)
		if code != 2 || !strings.Contains(errs, "fieldsync "+group+" ") {
			t.Errorf("%s alone: %d %q, want its commands and exit 2", group, code, errs)
		}
	}
}

// TestUnknownEnvWarned: a FIELDSYNC_ variable nothing reads (a misspelt
// one) is warned about, naming the one meant when it is a few letters
// away; the variables the flags, the S3 store and the tests read are not.
// TestServeJSONLogsEveryLine: with the JSON log format (the Docker
// image's), everything serve writes, on stdout and stderr read as one
// stream as Docker reads them, is a JSON log record: the environment's
// warnings, where it listens, the demo accounts (whose password signs
// in) and, when it cannot start, why.
func TestServeJSONLogsEveryLine(t *testing.T) {
	saved := environ
	t.Cleanup(func() { environ = saved })
	environ = func() []string { return []string{"FIELDSYNC_UPLOAD_QOUTA=1"} }
	env := func(k string) string { return map[string]string{"FIELDSYNC_LOG_FORMAT": "json"}[k] }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--demo-month=false"}, pw, pw, env)
		pw.Close()
	}()
	type record struct {
		Level, Msg, URL, Console, App string
		Accounts                      []struct {
			Username, Password, Role string
			Counties                 []string
		}
	}
	var started, demo record
	var warned bool
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for demo.Msg == "" && sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("serve wrote a line that is no JSON record: %q", sc.Text())
		}
		switch {
		case r.Msg == "started":
			started = r
		case r.Msg == "demo accounts":
			demo = r
		case r.Level == "WARN" && strings.Contains(r.Msg, "FIELDSYNC_UPLOAD_QOUTA"):
			warned = true
		}
	}
	go io.Copy(io.Discard, pr)
	if !warned {
		t.Error("no warning record for the unknown FIELDSYNC_UPLOAD_QOUTA")
	}
	if !strings.HasPrefix(started.URL, "http://127.0.0.1:") || started.Console != started.URL+"/console/" || started.App != started.URL+"/app/" {
		t.Fatalf("started record: %+v", started)
	}
	var pw2 string
	for _, a := range demo.Accounts {
		if a.Username == "inspector" && a.Role == "inspector" && len(a.Counties) > 0 {
			pw2 = a.Password
		}
	}
	if pw2 == "" {
		t.Fatalf("demo accounts record has no inspector with a password: %+v", demo.Accounts)
	}
	c := syncproto.NewClient(started.URL, "0191f0a0-0000-7000-8000-0000000000ab")
	if _, err := c.Login(ctx, "inspector", pw2, "test"); err != nil {
		t.Fatalf("login with the logged demo account: %v", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown", code)
	}

	// A server that cannot start says why as a record, on stderr.
	environ = func() []string { return nil }
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"serve", "--data", t.TempDir(), "--shutdown-grace", "-1s"}, &out, &errb, env); code != 1 {
		t.Fatalf("serve with a negative grace exited %d", code)
	}
	var failed struct{ Level, Msg, Err string }
	if err := json.Unmarshal(errb.Bytes(), &failed); err != nil || failed.Level != "ERROR" || !strings.Contains(failed.Err, "shutdown-grace") || out.Len() != 0 {
		t.Fatalf("a failed start wrote stdout %q, stderr %q (%v)", out.String(), errb.String(), err)
	}
}

func TestUnknownEnvWarned(t *testing.T) {
	saved := environ
	t.Cleanup(func() { environ = saved })
	environ = func() []string {
		return []string{"FIELDSYNC_UPLOAD_QOUTA=200000000", "FIELDSYNC_PUL_CONCURRENCY=4", "FIELDSYNC_SOMETHING_ELSE_ENTIRELY=1",
			"FIELDSYNC_MAX_SKEW=10m", "FIELDSYNC_BIN=/tmp/x", "FIELDSYNC_S3_ACCESS_KEY=k", "PATH=/usr/bin", "NOT_FIELDSYNC_X=1"}
	}
	_, _, errs := run(t, "user", "list", "--data", t.TempDir()) // fails after the warnings: no database there
	for _, want := range []string{
		"warning: unknown environment variable FIELDSYNC_PUL_CONCURRENCY is ignored (did you mean FIELDSYNC_PULL_CONCURRENCY?)",
		"warning: unknown environment variable FIELDSYNC_UPLOAD_QOUTA is ignored (did you mean FIELDSYNC_UPLOAD_QUOTA?)",
		"warning: unknown environment variable FIELDSYNC_SOMETHING_ELSE_ENTIRELY is ignored\n",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	for _, not := range []string{"FIELDSYNC_MAX_SKEW", "FIELDSYNC_BIN", "FIELDSYNC_S3_ACCESS_KEY", "NOT_FIELDSYNC"} {
		if strings.Contains(errs, not) {
			t.Errorf("stderr warns about %s:\n%s", not, errs)
		}
	}
	// A misspelling of a variable that says where the data is kept, with
	// the right one unset, stops the command before it makes anything:
	// it would run on the default store (ops probe: a server answered
	// phones from an empty SQLite database).
	for _, v := range []string{"FIELDSYNC_DATABSE=postgres://x@127.0.0.1/db", "FIELDSYNC_BLOB=s3://b", "FIELDSYNC_AUDIT_KY=/etc/k.pem", "FIELDSYNC_DAT=/srv"} {
		environ = func() []string { return []string{v} }
		dir := filepath.Join(t.TempDir(), "data")
		code, _, errs := run(t, "user", "list", "--data", dir)
		name, _, _ := strings.Cut(v, "=")
		if code != 2 || !strings.Contains(errs, name+" is not a setting (did you mean") {
			t.Errorf("user list with %s: %d %q, want refused", name, code, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("user list with %s made %s", name, dir)
		}
	}
	// The right one set too: the stray one is only warned of.
	environ = func() []string {
		return []string{"FIELDSYNC_DATABSE=x", "FIELDSYNC_DATABASE=postgres://nobody@127.0.0.1:1/none"}
	}
	if _, _, errs := run(t, "user", "list"); !strings.Contains(errs, "warning: unknown environment variable FIELDSYNC_DATABSE is ignored") {
		t.Errorf("a stray variable beside the right one: %q", errs)
	}
}

// TestCommandSettingsChecked: a command refuses settings it cannot use
// before it makes anything — serve an address it could not listen on, user
// add a password cost bcrypt refuses, migrate a directory without a
// database — each with a message naming the setting.
func TestCommandSettingsChecked(t *testing.T) {
	root := t.TempDir()
	// A port another process holds: said before the data directory is
	// made or a database migrated (ops probe: the server migrated, made
	// its keys, then failed to bind).
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := filepath.Join(root, "taken")
	if code, _, errs := run(t, "serve", "--addr", busy.Addr().String(), "--data", taken); code != 1 || !strings.Contains(errs, "address already in use") {
		t.Errorf("serve on a busy port: exit %d %q", code, errs)
	}
	if _, err := os.Stat(taken); err == nil {
		t.Errorf("serve on a busy port made %s", taken)
	}
	// A data directory that is a file is said to be one (ops probe: the
	// error named a MIGRATED file inside it).
	file := filepath.Join(root, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "serve", "--addr", "127.0.0.1:0", "--data", file); code != 1 || !strings.Contains(errs, "is a file, not a directory") || strings.Contains(errs, "MIGRATED") {
		t.Errorf("serve --data on a file: exit %d %q", code, errs)
	}
	for _, addr := range []string{"foo", "1.2.3.4", ":99999", "127.0.0.1:x y", ""} {
		dir := filepath.Join(root, "serve")
		code, _, errs := run(t, "serve", "--addr", addr, "--data", dir)
		if code != 1 || !strings.Contains(errs, "addr") {
			t.Errorf("serve --addr %q: exit %d %q, want refused naming addr", addr, code, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("serve --addr %q made %s", addr, dir)
		}
	}
	for _, cost := range []string{"40", "3", "-1"} {
		code, _, errs := run(t, "user", "add", "--data", root, "--username", "wang", "--password", "secret-pass-1", "--county", "140902", "--bcrypt-cost", cost)
		if code != 1 || !strings.Contains(errs, "bcrypt-cost must be") {
			t.Errorf("user add --bcrypt-cost %s: exit %d %q", cost, code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "fieldsync.db")); err == nil {
		t.Fatal("a refused user add made a database")
	}
	code, _, errs := run(t, "migrate", "--from", filepath.Join(root, "nope"), "--to", "postgres://nobody@127.0.0.1:1/none")
	if code != 1 || !strings.Contains(errs, "no database to copy") || strings.Contains(errs, "stop the server") {
		t.Errorf("migrate from a directory without a database: exit %d %q", code, errs)
	}
}

// TestCommandHelpListsItsFlags: a command's -h gives its usage line and
// the flags it reads — its own, where the data is, and the settings it
// uses — not every serve flag it ignores; serve's lists them all.
func TestCommandHelpListsItsFlags(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		// --county is for inspectors and county offices, not every role.
		{[]string{"user", "add", "-h"}, []string{"fieldsync user add --username", "[--county CODE[,CODE]]", "-username", "-county", "none for a city_office or admin", "-bcrypt-cost", "-data", "-database"}, []string{"-pull-queue", "-addr", "-tile-url"}},
		{[]string{"sweep", "--help"}, []string{"fieldsync sweep", "-upload-grace", "-blobs", "-data"}, []string{"-pull-queue", "-bcrypt-cost", "-demo"}},
		{[]string{"keys", "retire", "-h"}, []string{"fieldsync keys list | keys rotate", "-older-than", "-access-ttl"}, []string{"-demo", "-max-upload"}},
		{[]string{"serve", "-h"}, []string{"-pull-queue", "-addr", "-demo", "-bcrypt-cost"}, nil},
		// SQLite's alone: --database, which they refuse, is not offered
		// (operator probe).
		{[]string{"backup", "-h"}, []string{"fieldsync backup", "-data", "audit-key.pem"}, []string{"-database"}},
		{[]string{"restore", "-h"}, []string{"fieldsync restore", "-data"}, []string{"-database"}},
	} {
		_, _, errs := run(t, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v lacks %q:\n%s", tc.args, w, errs)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(errs, n+" ") {
				t.Errorf("%v lists %q:\n%s", tc.args, n, errs)
			}
		}
	}
}

// TestRestoreRefusesPostgres: restore of a SQLite backup is refused with
// PostgreSQL named, saying what a PostgreSQL restore needs besides
// pg_restore (a new epoch, or phones skip changes).
func TestRestoreRefusesPostgres(t *testing.T) {
	code, _, errs := run(t, "restore", "--data", t.TempDir(), "--database", "postgres://nobody@127.0.0.1:1/none", filepath.Join(t.TempDir(), "b.db"))
	if code != 1 || !strings.Contains(errs, "pg_restore") || !strings.Contains(errs, "epoch") {
		t.Errorf("restore with --database: exit %d %q", code, errs)
	}
}

// TestWritable: backup reads the database as it is only where the data
// directory takes no new file; a directory not made yet is the store's to
// make.
func TestWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{dir: true, filepath.Join(dir, "not-yet"): true, file: false} {
		if got := writable(path); got != want {
			t.Errorf("writable(%s) = %v, want %v", path, got, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the test left files in the directory: %v", entries)
	}
}

// TestDisableSaysWhatPhonesOwe: user disable and user scope taking a
// county away say how many photos the user's phones still have to upload,
// and what becomes of them; nothing when they owe none, nor when a county
// is only added.
func TestDisableSaysWhatPhonesOwe(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector2)
	check := uuid.NewString()
	apptest.PushApplied(t, phone,
		apptest.Mut(phone, syncproto.EntityVehicleCheck, check, apptest.Fields("county", apptest.Xinfu, "checkpoint", "豆罗检查站",
			"checked_at", time.Now().Format(time.RFC3339), "plate", "晋H60002", "emission_stage", "cn6", "aftertreatment", "present")),
		apptest.Mut(phone, syncproto.EntityPhoto, uuid.NewString(), apptest.Fields("vehicle_check_id", check, "sha256", strings.Repeat("cd", 32), "content_type", "image/jpeg")))
	srv.Stop()
	// A county added takes nothing away: nothing is said of the photos.
	if code, out, errs := run(t, "user", "scope", apptest.Inspector2, "--county", "140902,140925", "--data", srv.Dir); code != 0 || strings.Contains(out, "still to upload") {
		t.Errorf("a county added: %d %q %q, want no photo owed said", code, out, errs)
	}
	for _, args := range [][]string{{"user", "scope", apptest.Inspector2, "--county", "140925"}, {"user", "disable", apptest.Inspector2}} {
		code, out, errs := run(t, append(args, "--data", srv.Dir)...)
		if code != 0 || !strings.Contains(out, "1 photo(s) still to upload") {
			t.Errorf("%v: %d %q %q, want the photo owed said", args, code, out, errs)
		}
	}
	if _, out, _ := run(t, "user", "disable", apptest.Inspector, "--data", srv.Dir); strings.Contains(out, "still to upload") {
		t.Errorf("a user whose phones owe nothing: %q", out)
	}
	// Revoking the phone says it too, as the console's confirmation does
	// (admin probe).
	if code, out, errs := run(t, "device", "revoke", phone.DeviceID, "--data", srv.Dir); code != 0 || !strings.Contains(out, "device has 1 photo(s) still to upload") {
		t.Errorf("device revoke: %d %q %q, want the photo owed said", code, out, errs)
	}
}

// TestUserRoleCommand: user role gives a user another role, keeping the
// counties held or taking those given; a role that sees every county
// takes none, one limited to counties needs some; each change is audited
// once, with what it replaced, and a change to what is held changes
// nothing.
func TestUserRoleCommand(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, "user", "add", "--data", dir, "--username", "wang", "--password", "secret-pass-1", "--county", "140902"); code != 0 {
		t.Fatalf("user add: %q", errs)
	}
	held := func() *server.User {
		t.Helper()
		db, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		u, _, err := db.UserByUsername(context.Background(), "wang")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		args      []string
		code      int
		said      string
		role      server.Role
		counties  string
		auditedAs string
	}{
		{[]string{"--role", "county_office"}, 0, "wang now has role county_office (was inspector) and works in 140902; what its devices see is the same, and they are not told to resync", server.RoleCountyOffice, "140902", "user_role_set"},
		{[]string{"--role", "city_office", "--county", "140902"}, 1, "sees every county", server.RoleCountyOffice, "140902", ""},
		{[]string{"--role", "boss"}, 1, "one of inspector, county_office", server.RoleCountyOffice, "140902", ""},
		{[]string{"--role", "county_office"}, 0, "nothing changed", server.RoleCountyOffice, "140902", ""},
		{[]string{"--role", "city_office"}, 0, "now has role city_office (was county_office) and works in every county; its devices are told to resync", server.RoleCityOffice, "", "user_role_set"},
		{[]string{"--role", "inspector"}, 1, "--county is required", server.RoleCityOffice, "", ""},
		{[]string{"--role", "inspector", "--county", "140921,140902,140921"}, 0, "now has role inspector (was city_office) and works in 140902,140921;", server.RoleInspector, "140902,140921", "user_role_set"},
		{[]string{"--role", "inspector", "--county", "999999"}, 1, "未知的区县", server.RoleInspector, "140902,140921", ""},
	} {
		args := append([]string{"user", "role", "wang", "--data", dir}, tc.args...)
		code, out, errs := run(t, args...)
		if code != tc.code || !strings.Contains(out+errs, tc.said) {
			t.Errorf("%v: %d %q %q, want %d saying %q", tc.args, code, out, errs, tc.code, tc.said)
		}
		if u := held(); u.Role != tc.role || strings.Join(u.Counties, ",") != tc.counties {
			t.Errorf("%v: wang is %s in %v, want %s in %q", tc.args, u.Role, u.Counties, tc.role, tc.counties)
		}
	}
	// Counties set to the ones held: nothing written, nothing audited.
	if code, out, errs := run(t, "user", "scope", "wang", "--data", dir, "--county", "140921,140902"); code != 0 || !strings.Contains(out, "nothing changed") {
		t.Errorf("user scope to the counties held: %d %q %q", code, out, errs)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.AccountAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, e := range entries {
		ch := e.DecodeChanges()
		if op := string(ch["operation"].New); op != `"user_role_set"` {
			if op != `"user_added"` {
				t.Errorf("audited %s, want only the additions and role changes", op)
			}
			continue
		}
		roles = append(roles, string(ch["role"].Old)+"→"+string(ch["role"].New)+" "+string(ch["counties"].Old)+"→"+string(ch["counties"].New))
	}
	want := []string{`"inspector"→"county_office" ["140902"]→["140902"]`, `"county_office"→"city_office" ["140902"]→null`, `"city_office"→"inspector" null→["140902","140921"]`}
	if strings.Join(roles, "\n") != strings.Join(want, "\n") {
		t.Errorf("audited role changes:\n%s\nwant\n%s", strings.Join(roles, "\n"), strings.Join(want, "\n"))
	}
}

// TestRestoreSaysSigningKeys: the token signing keys live in the
// database, so a restore undoes a keys rotate or retire made after the
// backup, and says so (ops probe: its list of undone changes named
// accounts and devices only): the key added since is gone, and the one
// removed since (a key that leaked) verifies tokens again.
func TestRestoreSaysSigningKeys(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, "keys", "rotate", "--data", dir); code != 0 {
		t.Fatal(errs)
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if code, _, errs := run(t, "backup", "--data", dir, backup); code != 0 {
		t.Fatalf("backup: %q", errs)
	}
	keys := func(path string) []string {
		t.Helper()
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ks, err := db.SigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range ks {
			ids = append(ids, k.ID)
		}
		return ids
	}
	before := keys(backup)
	if code, _, errs := run(t, "keys", "rotate", "--data", dir); code != 0 {
		t.Fatal(errs)
	}
	// The oldest retired (as keys retire does, once it stopped signing
	// long enough ago: a test cannot wait for that).
	retired := before[len(before)-1]
	if err := sqliteExec(filepath.Join(dir, "fieldsync.db"), `DELETE FROM signing_keys WHERE id = '`+retired+`'`); err != nil {
		t.Fatal(err)
	}
	var added string
	for _, id := range keys(filepath.Join(dir, "fieldsync.db")) {
		if !slices.Contains(before, id) {
			added = id
		}
	}
	if added == "" {
		t.Fatal("keys rotate added no key")
	}
	code, _, errs := run(t, "restore", "--data", dir, backup)
	if code != 0 {
		t.Fatalf("restore: %d %q", code, errs)
	}
	if !strings.Contains(errs, "signing key "+added+", added after the backup") || !strings.Contains(errs, "is gone") {
		t.Errorf("restore does not say the key added since is gone: %q", errs)
	}
	if !strings.Contains(errs, "signing key "+retired+" (") || !strings.Contains(errs, "retired after the backup (keys retire), is back") {
		t.Errorf("restore does not say the key retired since is back: %q", errs)
	}
	if strings.Count(errs, "signing key ") != 2 {
		t.Errorf("restore speaks of keys it did not change: %q", errs)
	}
}

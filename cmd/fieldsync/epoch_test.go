package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// TestEpochRenew: fieldsync epoch renew gives a database a new epoch
// (after pg_restore, or a SQLite file copied back by hand), refused on a
// data directory a server is using (it would keep serving the old one),
// and the group lists it.
func TestEpochRenew(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, "user", "add", "--data", dir, "--username", "zhao", "--password", "abcd1234X", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	epoch := func() string {
		t.Helper()
		db, err := sqlite.Open(context.Background(), dir+"/fieldsync.db")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return db.Epoch()
	}
	before := epoch()
	lock, _, err := app.LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "epoch", "renew", "--data", dir); code != 1 || !strings.Contains(errs, "stop the server first") {
		t.Errorf("epoch renew beside a server: %d %q", code, errs)
	}
	lock.Close()
	if e := epoch(); e != before {
		t.Fatalf("a refused renew changed the epoch: %s → %s", before, e)
	}
	code, out, errs := run(t, "epoch", "renew", "--data", dir)
	after := epoch()
	if code != 0 || after == before || !regexp.MustCompile(before+` → `+after).MatchString(out) {
		t.Fatalf("epoch renew: %d %q %q; epoch %s → %s", code, out, errs, before, after)
	}
	if code, out, _ := run(t, "epoch", "--help"); code != 0 || !strings.Contains(out, "fieldsync epoch renew") {
		t.Errorf("epoch --help: %d %q", code, out)
	}
}

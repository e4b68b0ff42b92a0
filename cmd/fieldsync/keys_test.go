package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
)

// TestKeysCommands: rotating a data directory left by an earlier version
// keeps its jwt.key (imported first) beside the new key, which signs; the
// key list shows both without their bytes; retiring right away keeps the
// old one, which servers may still sign with.
func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	legacy := "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(filepath.Join(dir, "jwt.key"), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "keys", "rotate", "--data", dir)
	if code != 0 || !strings.Contains(out, "added signing key k") {
		t.Fatalf("keys rotate: %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "keys", "list", "--data", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "signs") || !strings.HasPrefix(lines[2], "legacy ") ||
		strings.Contains(out, legacy) || !strings.Contains(lines[1], time.Now().In(server.ChinaTime).Format("2006-01-02")) || !strings.Contains(lines[1], "(UTC+8)") {
		t.Fatalf("keys list: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "keys", "retire", "--data", dir); code == 0 || !strings.Contains(errs, "want --older-than") {
		t.Fatalf("keys retire without --older-than: %d %q", code, errs)
	}
	// Given, but not above 0: said so, not asked for.
	for _, d := range []string{"0s", "-1h"} {
		if code, _, errs := run(t, "keys", "retire", "--older-than", d, "--data", dir); code == 0 || !strings.Contains(errs, "--older-than "+strings.TrimSuffix(d, "s")) || !strings.Contains(errs, "above 0") {
			t.Errorf("keys retire --older-than %s: %d %q", d, code, errs)
		}
	}
	// Right after the rotation servers may still sign with the legacy
	// key: it is kept, and the command says until when (auth's
	// TestRetireSigningKeys moves the clock past it).
	// Shorter than the access token lifetime: refused unless forced (a
	// key that leaked), as valid tokens would end.
	for _, args := range [][]string{{"keys", "retire", "--older-than", "1ns"}, {"keys", "rotate", "--retire-older-than", "1m"}} {
		if code, out, errs := run(t, append(args, "--data", dir)...); code == 0 || !strings.Contains(errs, "shorter than the access token lifetime") ||
			!strings.Contains(errs, "--force") || strings.Contains(out, "added signing key") {
			t.Errorf("%v: %d %q %q, want it refused, nothing done", args, code, out, errs)
		}
	}
	code, out, errs = run(t, "keys", "retire", "--older-than", "1ns", "--force", "--data", dir)
	// Times in China's time, saying so (as the console shows them).
	if code != 0 || !strings.Contains(out, "removed 0 signing keys") || !strings.Contains(out, "the next may be retired after") ||
		!strings.Contains(out, "(UTC+8)") || !strings.Contains(out, "is always kept") {
		t.Fatalf("keys retire right after a rotation: %d %q %q", code, out, errs)
	}
	_, out, _ = run(t, "keys", "list", "--data", dir)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(out, "legacy") {
		t.Fatalf("after retiring right after a rotation: %q", out)
	}
}

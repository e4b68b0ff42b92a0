package main

import (
	"strings"
	"testing"
)

// column is the display column at which the cell want starts in line (-1
// if absent).
func column(line, want string) int {
	i := strings.Index(line, want)
	if i < 0 {
		return -1
	}
	return displayWidth(line[:i])
}

// TestTablesAlignChinese: user list lines its columns up by what a
// terminal shows, with display names in Chinese and in Latin letters
// (text/tabwriter counted a Chinese character as one column, and every
// column after a Chinese name stood two or more columns out of line).
func TestTablesAlignChinese(t *testing.T) {
	dir := t.TempDir()
	for _, u := range [][2]string{{"wang", "王小明"}, {"li", "Li Lei"}, {"zhao", "赵"}} {
		if code, _, errs := run(t, "user", "add", "--data", dir, "--username", u[0], "--password", "secret-pass-1", "--county", "140902", "--name", u[1]); code != 0 {
			t.Fatalf("user add %s: %q", u[0], errs)
		}
	}
	code, out, errs := run(t, "user", "list", "--data", dir)
	if code != 0 {
		t.Fatalf("user list: %d %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	at := column(lines[0], "ROLE")
	if len(lines) != 4 || at < 0 {
		t.Fatalf("user list:\n%s", out)
	}
	for _, l := range lines[1:] {
		if c := column(l, "inspector"); c != at {
			t.Errorf("role at column %d, the heading's at %d:\n%s", c, at, out)
		}
	}
	if w := displayWidth("王小明 Li"); w != 9 {
		t.Errorf("displayWidth(王小明 Li) = %d, want 9", w)
	}
}

package fsprobe

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWritable: a directory that takes a file is writable and keeps no
// trace of the probe; a missing directory, or a path that is a file, is
// not.
func TestWritable(t *testing.T) {
	dir := t.TempDir()
	if err := Writable(dir); err != nil {
		t.Fatalf("a temporary directory: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the probe left %d files", len(left))
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "missing"), file} {
		if err := Writable(d); err == nil {
			t.Errorf("%s: writable, want an error", d)
		}
	}
}

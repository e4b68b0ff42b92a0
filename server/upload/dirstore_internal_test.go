package upload

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tus/tusd/v2/pkg/handler"
)

// TestNewUploadLeavesNothingWhenItFails: an upload whose files cannot all
// be written (a full disk; here its .info path is taken by a directory)
// leaves no file behind: each failed attempt left an empty file and
// .info, kept a week by the sweep (ops probe: 620 files after a phone's
// 310 retries on a full disk). One that succeeds gets an id of 32
// hexadecimal digits, as tusd's own, and files only the server reads.
func TestNewUploadLeavesNothingWhenItFails(t *testing.T) {
	dir := t.TempDir()
	s := newDirStore(dir)
	ctx := context.Background()

	const id = "0123456789abcdef0123456789abcdef"
	if err := os.MkdirAll(filepath.Join(dir, id+".info", "taken"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewUpload(ctx, handler.FileInfo{ID: id, Size: 10}); err == nil {
		t.Fatal("an upload whose .info cannot be written was created")
	}
	if _, err := os.Stat(filepath.Join(dir, id)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed upload's file is left: %v", err)
	}

	u, err := s.NewUpload(ctx, handler.FileInfo{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	info, err := u.GetInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(info.ID) {
		t.Errorf("upload id %q, want 32 hexadecimal digits", info.ID)
	}
	for _, name := range []string{info.ID, info.ID + ".info"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
}

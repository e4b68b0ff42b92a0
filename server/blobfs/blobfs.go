// Package blobfs is the filesystem BlobStore: objects live under
// DIR/ab/cd/<sha256>/<variant>, written to a temporary file, synced and
// renamed into place, so that a crash never leaves half an object visible.
package blobfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/fsprobe"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Store is a BlobStore in a directory.
type Store struct{ dir string }

// New returns a store in dir, creating it.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("create blob directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Existing returns the store kept in dir without making anything there:
// for a tool that only reads or sweeps it, where a missing directory is
// an error to report, not a store to make.
func Existing(dir string) *Store { return &Store{dir: dir} }

// Ping tells that the store's directory is there, is a directory (a
// volume unmounted or removed under the server is not) and takes writes
// (a volume made read-only or filled does not).
func (s *Store) Ping(ctx context.Context) error {
	tmp := filepath.Join(s.dir, "tmp")
	fi, err := os.Stat(tmp)
	if err != nil {
		return fmt.Errorf("blob directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("blob directory: %s is not a directory", tmp)
	}
	if err := fsprobe.Writable(tmp); err != nil {
		return fmt.Errorf("blob directory: %w", err)
	}
	return nil
}

var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

var variants = map[string]bool{server.VariantOriginal: true, server.VariantPreview: true, server.VariantThumbnail: true}

func (s *Store) path(sum, variant string) (string, error) {
	if !sumRE.MatchString(sum) || !variants[variant] {
		return "", server.Errorf(syncproto.CodeBadRequest, "无效的文件标识")
	}
	return filepath.Join(s.dir, sum[:2], sum[2:4], sum, variant), nil
}

// Put stores and verifies an original.
func (s *Store) Put(ctx context.Context, sum string, r io.Reader) (int64, error) {
	dst, err := s.path(sum, server.VariantOriginal)
	if err != nil {
		return 0, err
	}
	h := sha256.New()
	n, err := s.write(dst, io.TeeReader(r, h), func() error {
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return server.HashMismatch(got)
		}
		return nil
	})
	return n, err
}

// PutVariant stores a derivative.
func (s *Store) PutVariant(ctx context.Context, sum, variant string, data []byte) error {
	dst, err := s.path(sum, variant)
	if err != nil {
		return err
	}
	_, err = s.write(dst, bytes.NewReader(data), nil)
	return err
}

// write copies r to a temporary file, runs check, syncs and renames it to
// dst. If dst exists the bytes are still read (and checked) but not kept.
func (s *Store) write(dst string, r io.Reader, check func() error) (int64, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	n, err := io.Copy(f, r)
	if err == nil && check != nil {
		err = check()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if _, err := os.Stat(dst); err == nil {
		return n, nil // the same content is already stored
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return n, err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return n, err
	}
	return n, syncDir(filepath.Dir(dst))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type file struct {
	*os.File
	info fs.FileInfo
}

func (f file) Size() int64 { return f.info.Size() }

func (f file) ModTime() time.Time { return f.info.ModTime() }

// Open opens a stored object.
func (s *Store) Open(ctx context.Context, sum, variant string) (server.Blob, error) {
	p, err := s.path(sum, variant)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, server.Errorf(syncproto.CodeNotFound, "文件不存在")
	}
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return file{File: f, info: info}, nil
}

// Has reports whether an object is stored.
func (s *Store) Has(ctx context.Context, sum, variant string) (bool, error) {
	p, err := s.path(sum, variant)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes every variant of sum, then its directory and the fan-out
// directories it leaves empty. The original goes last, so that a crash
// part-way leaves an object that Walk still finds.
func (s *Store) Delete(ctx context.Context, sum string) error {
	orig, err := s.path(sum, server.VariantOriginal)
	if err != nil {
		return err
	}
	dir := filepath.Dir(orig)
	entries, err := readDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == server.VariantOriginal {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s/%s: %w", sum, e.Name(), err)
		}
	}
	if err := os.Remove(orig); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", sum, err)
	}
	// Empty directories are removed best-effort: a concurrent Put may have
	// just made one of them again, which is then kept. A delete lost in a
	// crash is found again by the next sweep's Walk, so no fsync here.
	for d := dir; d != s.dir; d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// readDir lists dir; a directory that does not exist is empty.
func readDir(dir string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

// Walk visits every stored sum (the layout's DIR/ab/cd/<sum> directories).
func (s *Store) Walk(ctx context.Context, fn func(sum string, stored time.Time) error) error {
	level := func(dir string, want func(string) bool, visit func(string) error) error {
		entries, err := readDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.IsDir() || !want(e.Name()) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := visit(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	hex2 := func(n string) bool { return len(n) == 2 && strings.Trim(n, "0123456789abcdef") == "" }
	return level(s.dir, hex2, func(d1 string) error {
		return level(d1, hex2, func(d2 string) error {
			return level(d2, sumRE.MatchString, func(d3 string) error {
				stored, ok := storedAt(d3)
				if !ok {
					return nil
				}
				return fn(filepath.Base(d3), stored)
			})
		})
	})
}

// storedAt is when the object in dir was stored: its original's time, or
// its newest variant's if the original is gone; false if dir is empty.
func storedAt(dir string) (time.Time, bool) {
	if info, err := os.Stat(filepath.Join(dir, server.VariantOriginal)); err == nil {
		return info.ModTime(), true
	}
	entries, _ := os.ReadDir(dir)
	var newest time.Time
	found := false
	for _, e := range entries {
		if info, err := e.Info(); err == nil && variants[e.Name()] {
			found = true
			if info.ModTime().After(newest) {
				newest = info.ModTime()
			}
		}
	}
	return newest, found
}

// Package fsprobe tells whether a directory takes writes now: a readiness
// check of the directories a server keeps its files in, which may have
// been made read-only, unmounted or filled under it.
package fsprobe

import (
	"errors"
	"fmt"
	"os"
)

// Writable writes one byte to a new file in dir and removes it. Its error
// wraps the system's (ENOSPC for a full disk, EACCES, EROFS).
func Writable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("%s takes no new file: %w", dir, err)
	}
	_, werr := f.Write([]byte{0})
	if werr == nil {
		werr = f.Sync() // a full disk may refuse the byte only here
	}
	err = errors.Join(werr, f.Close(), os.Remove(f.Name()))
	if err != nil {
		return fmt.Errorf("%s takes no write: %w", dir, err)
	}
	return nil
}

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package flock

import "os"

// TryLock takes no lock where flock is missing: one user of a directory
// is then the operator's to keep.
func TryLock(*os.File) error { return nil }

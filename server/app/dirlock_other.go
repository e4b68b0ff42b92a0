//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package app

import "os"

// tryLock takes no lock where flock is missing: one server per data
// directory is then the operator's to keep.
func tryLock(*os.File) error { return nil }

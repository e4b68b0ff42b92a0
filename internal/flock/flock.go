// Package flock takes a file's exclusive advisory lock without waiting,
// for a process that must be a directory's only user (a server on its
// data directory, fieldctl on its device directory). The operating system
// drops the lock with its holder, however it ends.
package flock

import "errors"

// ErrLocked is what TryLock returns when another open file description
// holds the lock.
var ErrLocked = errors.New("locked by another process")

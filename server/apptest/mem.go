package apptest

import (
	"syscall"

	"github.com/xinzhou-eco/fieldsync/internal/procmem"
)

// PeakRSS returns this process's peak resident set size in bytes.
func PeakRSS() int64 { return procmem.PeakRSS(0) }

// ResetPeakRSS starts a new peak measurement, so a benchmark's setup does
// not count.
func ResetPeakRSS() { procmem.ResetPeakRSS() }

// CPUTime returns the CPU time, user and system, this process has used so
// far, in nanoseconds: benchmarks report it per operation, which a shared
// machine disturbs less than the wall time.
func CPUTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

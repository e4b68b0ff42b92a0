package apptest

import "github.com/xinzhou-eco/fieldsync/internal/procmem"

// PeakRSS returns this process's peak resident set size in bytes.
func PeakRSS() int64 { return procmem.PeakRSS(0) }

// ResetPeakRSS starts a new peak measurement, so a benchmark's setup does
// not count.
func ResetPeakRSS() { procmem.ResetPeakRSS() }

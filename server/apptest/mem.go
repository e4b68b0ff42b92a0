package apptest

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// PeakRSS returns this process's peak resident set size (Linux VmHWM) in
// bytes, or 0 where it cannot be read. Benchmarks report it.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// ResetPeakRSS starts a new peak measurement (on Linux, writing 5 to
// clear_refs resets VmHWM), so that a benchmark's setup does not count.
func ResetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

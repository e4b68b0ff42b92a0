package procmem

import (
	"os"
	"testing"
)

func TestPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	self := PeakRSS(0)
	if self <= 0 || PeakRSS(os.Getpid()) < self {
		t.Fatalf("PeakRSS(0) = %d, PeakRSS(pid) = %d", self, PeakRSS(os.Getpid()))
	}
	if PeakRSS(-1) != 0 {
		t.Fatal("an unknown process has a peak")
	}
}

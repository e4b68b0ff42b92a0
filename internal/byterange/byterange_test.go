package byterange

import "testing"

func TestValid(t *testing.T) {
	for h, want := range map[string]bool{
		"": true, "bytes=0-99": true, "bytes=100-": true, "bytes=-500": true, "bytes=0-0,5-9": true, "bytes=0-1, 4-5": true,
		"bytes=5-1": false, "items=0-1": false, "bytes=abc": false, "bytes=-": false, "bytes=1-2-3": false,
		"bytes=+1-2": false, "bytes=": false, "bytes=0-1,": false, "Bytes=0-1": false, "bytes=99999999999999999999-": false,
	} {
		if got := Valid(h); got != want {
			t.Errorf("Valid(%q) = %v, want %v", h, got, want)
		}
	}
}

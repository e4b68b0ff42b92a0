package byterange

import "testing"

func TestValid(t *testing.T) {
	for h, want := range map[string]bool{
		"": true, "bytes=0-99": true, "bytes=100-": true, "bytes=-500": true, "bytes=0-0,5-9": true, "bytes=0-1, 4-5": true,
		"bytes=5-1": false, "items=0-1": false, "bytes=abc": false, "bytes=-": false, "bytes=1-2-3": false,
		"bytes=+1-2": false, "bytes=": false, "bytes=0-1,": false, "Bytes=0-1": false,
		// Numbers too large for any file are numbers still.
		"bytes=99999999999999999999-": true, "bytes=0-18446744073709551615": true,
		"bytes=99999999999999999999-5": false, "bytes=007-10": true,
	} {
		if got := Valid(h); got != want {
			t.Errorf("Valid(%q) = %v, want %v", h, got, want)
		}
	}
}

// TestForServe: what ServeContent is given for a file of 100 bytes.
func TestForServe(t *testing.T) {
	for h, want := range map[string]string{
		"":                                "",
		"items=0-1":                       "",
		"bytes=0-9":                       "bytes=0-9",
		"bytes=-0":                        "bytes=100-",
		"bytes=-0,0-9":                    "bytes=0-9",
		"bytes=99999999999999999999999-":  "bytes=100-",
		"bytes=0-18446744073709551615":    "bytes=0-",
		"bytes=-99999999999999999999":     "bytes=0-",
		"bytes=5-9,99999999999999999999-": "bytes=5-9,100-",
	} {
		if got := ForServe(h, 100); got != want {
			t.Errorf("ForServe(%q, 100) = %q, want %q", h, got, want)
		}
	}
}

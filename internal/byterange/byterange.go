// Package byterange checks the syntax of HTTP Range headers, so that a
// server can ignore one it does not understand (RFC 9110 §14.2) instead of
// answering 416 as net/http's ServeContent does.
package byterange

import (
	"strconv"
	"strings"
)

// Valid reports whether a Range header is absent or a byte range
// set that parses: "bytes=" and comma-separated "first-last", "first-" or
// "-suffix", each first ≤ last.
func Valid(h string) bool {
	if h == "" {
		return true
	}
	set, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return false
	}
	for spec := range strings.SplitSeq(set, ",") {
		first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
		if !ok || (first == "" && last == "") {
			return false
		}
		f, ferr := strconv.ParseUint(first, 10, 63)
		l, lerr := strconv.ParseUint(last, 10, 63)
		switch {
		case first != "" && ferr != nil, last != "" && lerr != nil:
			return false
		case first != "" && last != "" && f > l:
			return false
		}
	}
	return true
}

// Package byterange reads HTTP Range headers for net/http's ServeContent:
// a header it does not understand is ignored (RFC 9110 §14.2) instead of
// answered 416, and the ranges ServeContent misreads are put as the RFC
// reads them.
package byterange

import (
	"net/http"
	"strconv"
	"strings"
)

// Apply gives r the Range header ServeContent should see for a file of
// size bytes (ForServe): none, to serve it whole.
func Apply(r *http.Request, size int64) {
	if rng := ForServe(r.Header.Get("Range"), size); rng != "" {
		r.Header.Set("Range", rng)
	} else {
		r.Header.Del("Range")
	}
}

// Valid reports whether a Range header is absent or a byte range
// set that parses: "bytes=" and comma-separated "first-last", "first-" or
// "-suffix" of digits, each first ≤ last. A number too large for any file
// is still a number.
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
		if !ok || (first == "" && last == "") || !digits(first) || !digits(last) {
			return false
		}
		if first != "" && last != "" && compare(first, last) > 0 {
			return false
		}
	}
	return true
}

// ForServe returns the Range header ServeContent should see for a file of
// size bytes: "" to serve the whole file (no header, or one that is not
// Valid); otherwise the set with a first byte past any file made
// unsatisfiable (first = size), a last byte past any file read as the
// end, and zero-length suffixes ("-0", unsatisfiable) left out — a set
// with nothing left asks for the byte past the end, which ServeContent
// answers 416 with the file's size, as for any range outside the file.
func ForServe(h string, size int64) string {
	if h == "" || !Valid(h) {
		return ""
	}
	set, _ := strings.CutPrefix(h, "bytes=")
	end := strconv.FormatInt(size, 10)
	var kept []string
	for spec := range strings.SplitSeq(set, ",") {
		first, last, _ := strings.Cut(strings.TrimSpace(spec), "-")
		switch {
		case first == "" && strings.Trim(last, "0") == "":
			continue // "-0"
		case first != "" && !fits(first):
			first, last = end, ""
		case last != "" && !fits(last):
			if first == "" {
				first = "0" // a suffix longer than any file: all of it
			}
			last = ""
		}
		kept = append(kept, first+"-"+last)
	}
	if len(kept) == 0 {
		return "bytes=" + end + "-"
	}
	return "bytes=" + strings.Join(kept, ",")
}

func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// fits reports whether the digits s are an int64.
func fits(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// compare compares two strings of digits as numbers.
func compare(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

package server

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Canonical JSON strings, read without a round trip through encoding/json.
//
// marshalCanonical writes a string as encoding/json does without HTML
// escaping: `"` and `\` escaped, \b \f \n \r \t by name, the other control
// characters as \u00xx in lower-case hex, U+2028 and U+2029 as \u2028 and
// \u2029, everything else as itself. A string already written that way is
// its own canonical form, so the hot paths (every text field of every
// pushed mutation, every text column written) check and read it in place,
// and leave anything else — other escapes, invalid UTF-8, NUL — to the
// general path, which decodes and re-encodes it or refuses it.

// canonicalText reports whether raw is a JSON string exactly as
// marshalCanonical would write it and, if so, the number of characters it
// holds once decoded (each escape is one). NUL (\u0000) is never reported
// canonical: the general path refuses it with its own message.
func canonicalText(raw []byte) (runes int, escaped, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return 0, false, false
	}
	body := raw[1 : len(raw)-1]
	for i := 0; i < len(body); runes++ {
		switch c := body[i]; {
		case c == '\\':
			n := escapeLen(body[i:])
			if n == 0 {
				return 0, false, false
			}
			i += n
			escaped = true
		case c < 0x20 || c == '"':
			return 0, false, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return 0, false, false
			}
			i += size
		}
	}
	return runes, escaped, true
}

// escapeLen returns the length of the canonical escape at the start of b,
// or 0 if b does not start with one.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		if r, ok := canonicalU(b[2:6]); ok && r != 0 {
			return 6
		}
	}
	return 0
}

// canonicalU decodes the four hex digits of a \u escape that the canonical
// form uses: a control character without a short name, or U+2028/U+2029.
func canonicalU(h []byte) (rune, bool) {
	switch string(h) {
	case "2028":
		return '\u2028', true
	case "2029":
		return '\u2029', true
	}
	if h[0] != '0' || h[1] != '0' || (h[2] != '0' && h[2] != '1') {
		return 0, false
	}
	lo := hexLower(h[3])
	if lo < 0 {
		return 0, false
	}
	r := rune(h[2]-'0')<<4 | rune(lo)
	switch r {
	case '\b', '\f', '\n', '\r', '\t':
		return 0, false // these have short names
	}
	return r, true
}

func hexLower(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// CanonicalString returns the text of raw when raw is a JSON string in
// its canonical form (see canonicalText), without encoding/json: the
// stores read every text value they write through it.
func CanonicalString(raw []byte) (string, bool) {
	_, escaped, ok := canonicalText(raw)
	switch {
	case !ok:
		return "", false
	case !escaped:
		return string(raw[1 : len(raw)-1]), true
	}
	return string(unescape(nil, raw[1:len(raw)-1])), true
}

// AppendCanonicalString is CanonicalString appending the text to dst, so
// that the texts of a row's columns can share one allocation.
func AppendCanonicalString(dst, raw []byte) ([]byte, bool) {
	_, escaped, ok := canonicalText(raw)
	switch {
	case !ok:
		return dst, false
	case !escaped:
		return append(dst, raw[1:len(raw)-1]...), true
	}
	return unescape(dst, raw[1:len(raw)-1]), true
}

// unescape appends the text of body, the inside of a canonical JSON
// string, to dst.
func unescape(dst, body []byte) []byte {
	out := dst
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch body[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := canonicalU(body[i+2 : i+6])
			out = utf8.AppendRune(out, r)
			i += 6
			continue
		default: // '"' or '\\'
			out = append(out, body[i+1])
		}
		i += 2
	}
	return out
}

var errNotNumber = errors.New("not a JSON number")

// parseNumber reads raw as encoding/json reads a JSON number into a
// float64: exactly the JSON number grammar (no "+1", "01", ".5", hex or
// "Inf"), and an error for one out of a double's range.
func parseNumber(raw []byte) (float64, error) {
	if !isNumber(raw) {
		return 0, errNotNumber
	}
	return strconv.ParseFloat(string(raw), 64)
}

// isNumber reports whether b is one JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(b)
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

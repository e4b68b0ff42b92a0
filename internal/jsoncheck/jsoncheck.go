// Package jsoncheck checks JSON text for what encoding/json lets through but
// fieldsync refuses, so that a value is never stored other than it was
// sent: invalid UTF-8 and unpaired UTF-16 surrogate escapes (which
// encoding/json silently turns into U+FFFD), numbers that a double cannot
// hold exactly (which it rounds), and nesting deeper than a limit (which
// common phone-side parsers cannot read back), and an object that names a
// member twice (which encoding/json reads as its last, other parsers as
// its first). It also rejects malformed JSON, so one pass answers both.
package jsoncheck

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind says what is wrong with the text.
type Kind int

// The kinds of problem Check reports.
const (
	Syntax    Kind = iota + 1 // not well-formed JSON
	Depth                     // objects and arrays nested deeper than the limit
	UTF8                      // invalid UTF-8, or an unpaired surrogate escape
	Number                    // a number no IEEE 754 double holds exactly
	NUL                       // a \u0000 in a string: no SQL text column keeps it (PostgreSQL refuses it)
	Duplicate                 // an object names the same member twice (compared unescaped)
)

// Problem is the first thing Check found wrong, and where.
type Problem struct {
	Kind Kind
	// Path locates it: object keys joined by dots, array indexes in
	// brackets ("mutations[3].fields.answers"); "" is the whole text.
	Path string
	// Offset is the byte offset in the text.
	Offset int
}

// Error describes the problem in English (for logs).
func (p *Problem) Error() string {
	what := map[Kind]string{Syntax: "malformed JSON", Depth: "nested too deep", UTF8: "invalid UTF-8 or unpaired surrogate",
		Number: "number not exactly representable as a double", NUL: "NUL character (\\u0000) in a string",
		Duplicate: "member named twice"}[p.Kind]
	if p.Path == "" {
		return what + " at offset " + strconv.Itoa(p.Offset)
	}
	return what + " at " + p.Path
}

// Check scans one JSON value (surrounding white space allowed) and returns
// the first problem, or nil. maxDepth bounds the nesting of objects and
// arrays: a scalar has depth 0, {"a":1} depth 1, [[1]] depth 2.
func Check(b []byte, maxDepth int) *Problem {
	s := scanner{b: b, maxDepth: maxDepth}
	s.ws()
	if !s.value(0) {
		return s.problem()
	}
	s.ws()
	if s.i != len(s.b) {
		s.fail(Syntax)
		return s.problem()
	}
	return nil
}

type elem struct {
	key   []byte // raw (still escaped) key, for an object member
	index int    // for an array element; -1 in an object
}

type scanner struct {
	b        []byte
	i        int
	maxDepth int
	path     []elem
	kind     Kind
	// names holds the member names of the objects being scanned, those of
	// the innermost last (each object call truncates it back to where it
	// began), unescaped, to find a name given twice.
	names [][]byte
}

func (s *scanner) fail(k Kind) bool {
	if s.kind == 0 {
		s.kind = k
	}
	return false
}

func (s *scanner) problem() *Problem {
	var sb strings.Builder
	for _, e := range s.path {
		if e.index >= 0 {
			sb.WriteString("[" + strconv.Itoa(e.index) + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		if text, ok := unescaped(e.key); ok {
			sb.WriteString(text)
		} else if utf8.Valid(e.key) {
			sb.Write(e.key)
		} else {
			sb.WriteString(strings.ToValidUTF8(string(e.key), "?"))
		}
	}
	return &Problem{Kind: s.kind, Path: sb.String(), Offset: s.i}
}

// unescaped returns a member name as written between its quotes, with
// its escapes undone ("\u0061" is the name a), and ok false if it has
// none, they are not valid, or they stand for what a message should not
// hold (the path then names it as written).
func unescaped(key []byte) (string, bool) {
	if bytes.IndexByte(key, '\\') < 0 {
		return "", false
	}
	var text string
	if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &text) != nil {
		return "", false
	}
	// A control character or an unpaired surrogate (read as U+FFFD) is
	// clearer as written.
	if strings.ContainsFunc(text, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) {
		return "", false
	}
	return text, true
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return s.fail(Syntax)
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail(Syntax)
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail(Syntax)
	}
	s.i += len(word)
	return true
}

func (s *scanner) object(depth int) bool {
	if depth > s.maxDepth {
		return s.fail(Depth)
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	s.path = append(s.path, elem{index: -1})
	first := len(s.names)
	defer func() { s.names = s.names[:first] }()
	var many map[string]bool // the names, once the object has more than fewNames
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail(Syntax)
		}
		start := s.i + 1
		if !s.str() {
			// The name itself is bad: the path names it as written.
			s.path[len(s.path)-1].key = s.b[start:closingQuote(s.b, start)]
			return false
		}
		key := s.b[start : s.i-1]
		s.path[len(s.path)-1].key = key
		if !s.newName(s.b[start-1:s.i], first, &many) {
			return s.fail(Duplicate)
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail(Syntax)
		}
		s.i++
		s.ws()
		if !s.value(depth) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail(Syntax)
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.path = s.path[:len(s.path)-1]
			return true
		default:
			return s.fail(Syntax)
		}
	}
}

// closingQuote returns where the string whose text begins at start ends:
// its closing quote, past escapes, or the end of b.
func closingQuote(b []byte, start int) int {
	for i := start; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b)
}

// fewNames is how many member names an object's are compared with one by
// one; past it they go into a map, so that an object of many members
// costs no more than a map lookup a member.
const fewNames = 16

// newName records the name of an object's next member, quoted as written
// in the text, and reports whether the object (whose names begin at
// s.names[first]) has not named it before. Names are compared unescaped:
// "a" and "\u0061" are the same name.
func (s *scanner) newName(quoted []byte, first int, many *map[string]bool) bool {
	name := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		var text string
		_ = json.Unmarshal(quoted, &text) // str has checked it
		name = []byte(text)
	}
	if *many != nil {
		if (*many)[string(name)] {
			return false
		}
		(*many)[string(name)] = true
		return true
	}
	for _, n := range s.names[first:] {
		if bytes.Equal(n, name) {
			return false
		}
	}
	s.names = append(s.names, name)
	if len(s.names)-first > fewNames {
		*many = make(map[string]bool, 2*fewNames)
		for _, n := range s.names[first:] {
			(*many)[string(n)] = true
		}
	}
	return true
}

func (s *scanner) array(depth int) bool {
	if depth > s.maxDepth {
		return s.fail(Depth)
	}
	s.i++ // [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	s.path = append(s.path, elem{index: 0})
	for {
		if !s.value(depth) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail(Syntax)
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
			s.path[len(s.path)-1].index++
		case ']':
			s.i++
			s.path = s.path[:len(s.path)-1]
			return true
		default:
			return s.fail(Syntax)
		}
	}
}

// plainASCII marks the bytes a string may hold as they are: printable
// ASCII other than '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans a string literal from its opening quote to past its closing
// one. Runs of plain ASCII are skipped a byte at a time from a table; a
// run of other bytes is checked as UTF-8 in one call.
func (s *scanner) str() bool {
	b := s.b
	i := s.i + 1 // past "
	for i < len(b) {
		c := b[i]
		switch {
		case plainASCII[c]:
			i++
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			s.i = i
			if !s.escape() {
				return false
			}
			i = s.i
		case c < 0x20:
			s.i = i
			return s.fail(Syntax)
		default: // c >= 0x80: up to the next ASCII byte
			j := i + 1
			for j < len(b) && b[j] >= utf8.RuneSelf {
				j++
			}
			if !utf8.Valid(b[i:j]) {
				s.i = i
				return s.fail(UTF8)
			}
			i = j
		}
	}
	s.i = i
	return s.fail(Syntax)
}

// escape scans one escape sequence; a \u escape of a UTF-16 high surrogate
// must be followed by one of a low surrogate, and a low one never stands
// alone.
func (s *scanner) escape() bool {
	if s.i+1 >= len(s.b) {
		return s.fail(Syntax)
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return true
	case 'u':
	default:
		return s.fail(Syntax)
	}
	r, ok := s.hex4(s.i + 2)
	if !ok {
		return s.fail(Syntax)
	}
	if r == 0 {
		return s.fail(NUL)
	}
	s.i += 6
	if !utf16.IsSurrogate(r) {
		return true
	}
	if r >= 0xDC00 { // a low surrogate first
		return s.fail(UTF8)
	}
	if s.i+1 >= len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
		return s.fail(UTF8)
	}
	lo, ok := s.hex4(s.i + 2)
	if !ok {
		return s.fail(Syntax)
	}
	if lo < 0xDC00 || lo > 0xDFFF {
		return s.fail(UTF8)
	}
	s.i += 6
	return true
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a number literal and checks that a double holds its value
// exactly as written (see Exact): decimal literals of up to 15 significant
// digits always do; longer ones are checked (0.30000000000000004 passes,
// 9007199254740993 does not); none may overflow or underflow.
func (s *scanner) number() bool {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	digits, leadingZeros, seenNonZero := 0, 0, false
	count := func(c byte) {
		if c == '0' && !seenNonZero {
			leadingZeros++
			return
		}
		seenNonZero = true
		digits++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		count('0')
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			count(s.b[s.i])
			s.i++
		}
	default:
		return s.fail(Syntax)
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || s.b[s.i] < '0' || s.b[s.i] > '9' {
			return s.fail(Syntax)
		}
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			count(s.b[s.i])
			s.i++
		}
	}
	exp := false
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		exp = true
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || s.b[s.i] < '0' || s.b[s.i] > '9' {
			return s.fail(Syntax)
		}
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	}
	// Trailing zeros of a fraction count as digits above; that only sends
	// a few exact literals to the slow path.
	if digits <= 15 && leadingZeros <= 20 && !exp {
		return true
	}
	if !Exact(string(s.b[start:s.i])) {
		s.i = start
		return s.fail(Number)
	}
	return true
}

// Exact reports whether the JSON number literal lit keeps its value when
// read as a double and written back: its value is that of the shortest
// decimal form of its nearest double (0.1, 1.0, 1e16 and 9007199254740994
// do; 9007199254740993, 2^60 written out in full, and 1e400 do not). Such
// a number reads the same in every JSON parser, whether it keeps doubles
// or big integers, and is stored and served with that value.
func Exact(lit string) bool {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil { // out of range
		return false
	}
	want, ok := new(big.Rat).SetString(lit)
	if !ok {
		return false
	}
	shortest, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return ok && want.Cmp(shortest) == 0
}

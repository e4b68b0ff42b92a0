package api

import (
	"encoding/json"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// decodePush reads a push body of the usual shape into req without
// encoding/json, which spent more time on a push of 500 mutations than
// any other part of the server but SQLite (reflection, a copy of every
// value, a map per mutation grown one key at a time).
//
// body must have passed server.CheckJSON: it is valid JSON, valid UTF-8,
// and within the depth limit. decodePush then takes only the shape every
// client sends — the exact member names of PushRequest and Mutation, each
// at most once, strings without escapes, delete as true or false, no null
// but as a field value — and reports false for anything else, leaving req
// as it was. decodeJSON's general path then reads that body and gives the
// same result, or refuses it with its messages (unknown or duplicated
// members, names in other letter case, wrong types, null). Field values
// are slices of body, which the request owns.
func decodePush(body []byte, req *syncproto.PushRequest) bool {
	s := scanner{b: body}
	var out syncproto.PushRequest
	var seen [3]bool
	ok := s.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "device_id":
			out.DeviceID, ok = s.plainString()
			return once(&seen[0]) && ok
		case "batch_id":
			out.BatchID, ok = s.plainString()
			return once(&seen[1]) && ok
		case "mutations":
			out.Mutations, ok = s.mutations()
			return once(&seen[2]) && ok
		}
		return false
	})
	if !ok || s.ws() < len(body) {
		return false
	}
	*req = out
	return true
}

// once marks a member seen and reports whether it was the first time.
func once(seen *bool) bool {
	first := !*seen
	*seen = true
	return first
}

func (s *scanner) mutations() ([]syncproto.Mutation, bool) {
	if !s.next('[') {
		return nil, false
	}
	ms := make([]syncproto.Mutation, 0, 64)
	if s.next(']') {
		return ms, true
	}
	for {
		var m syncproto.Mutation
		if !s.mutation(&m) {
			return nil, false
		}
		ms = append(ms, m)
		if s.next(']') {
			return ms, true
		}
		if !s.next(',') {
			return nil, false
		}
	}
}

func (s *scanner) mutation(m *syncproto.Mutation) bool {
	var seen [6]bool
	return s.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "entity":
			m.Entity, ok = s.name()
			return once(&seen[0]) && ok
		case "id":
			m.ID, ok = s.plainString()
			return once(&seen[1]) && ok
		case "hlc":
			m.HLC, ok = s.plainString()
			return once(&seen[2]) && ok
		case "delete":
			m.Delete, ok = s.boolean()
			return once(&seen[3]) && ok
		case "fields":
			m.Fields, ok = s.fields()
			return once(&seen[4]) && ok
		case "seen":
			m.Seen, ok = s.seen()
			return once(&seen[5]) && ok
		}
		return false
	})
}

// seen reads a mutation's seen object: names and HLCs without escapes
// (anything else, null included, the general path decides).
func (s *scanner) seen() (map[string]string, bool) {
	if s.peek() != '{' {
		return nil, false
	}
	seen := make(map[string]string, 4)
	ok := s.object(func(key []byte) bool {
		if _, dup := seen[string(key)]; dup {
			return false // as encoding/json would take the last: the general path
		}
		v, ok := s.plainString()
		seen[server.InternName(key)] = v
		return ok
	})
	return seen, ok
}

// fields reads the fields object: names without escapes, any value (a
// later duplicate name replaces the earlier value, as encoding/json does).
func (s *scanner) fields() (map[string]json.RawMessage, bool) {
	if s.peek() != '{' {
		return nil, false // null: the general path decides
	}
	fields := make(map[string]json.RawMessage, 16)
	ok := s.object(func(key []byte) bool {
		v, ok := s.value()
		fields[server.InternName(key)] = v
		return ok
	})
	return fields, ok
}

// scanner walks JSON text that CheckJSON has already accepted.
type scanner struct {
	b []byte
	i int
}

// ws skips white space and returns the offset after it.
func (s *scanner) ws() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

func (s *scanner) peek() byte {
	if s.ws() < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// next consumes c if it comes next.
func (s *scanner) next(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// object reads an object, calling member for each member name (without
// escapes) with the scanner at its value, which member must consume.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.plainBytes()
		if !ok || !s.next(':') || !member(key) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// plainBytes reads a string without escapes and returns its body.
func (s *scanner) plainBytes() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return s.b[start : s.i-1], true
		case '\\':
			return nil, false
		}
		s.i++
	}
	return nil, false
}

func (s *scanner) plainString() (string, bool) {
	b, ok := s.plainBytes()
	return string(b), ok
}

// name is plainString for an entity's name.
func (s *scanner) name() (string, bool) {
	b, ok := s.plainBytes()
	return server.InternName(b), ok
}

func (s *scanner) boolean() (bool, bool) {
	s.ws()
	switch rest := s.b[s.i:]; {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// value skips one JSON value and returns its text.
func (s *scanner) value() ([]byte, bool) {
	start := s.ws()
	depth := 0
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch c {
		case '"':
			s.i++
			for s.i < len(s.b) && s.b[s.i] != '"' {
				if s.b[s.i] == '\\' {
					s.i++
				}
				s.i++
			}
			if s.i >= len(s.b) {
				return nil, false
			}
			s.i++
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return s.b[start:s.i], s.i > start
			}
			depth--
			s.i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return s.b[start:s.i], s.i > start
			}
			s.i++
		default:
			s.i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return s.b[start:s.i], true
		}
	}
	return s.b[start:s.i], depth == 0 && s.i > start
}

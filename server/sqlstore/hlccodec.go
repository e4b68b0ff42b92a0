package sqlstore

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file is the codec of the hlcs column: each field's last-write HLC,
// grouped by HLC.

// EncodeHLCs writes the fields' HLCs grouped by HLC, as a JSON object from
// each HLC to the sorted names of the fields it last wrote:
// {"001795875991660-00001-<device>":["checkpoint","county",…],…}. Most
// fields of a record share few HLCs (one mutation writes several), so this
// is several times smaller than a map per field, and each HLC is parsed
// once on reading. Field names ([a-z0-9_.]) and HLC strings (digits, '-',
// a node id without quotes or controls) need no escaping, so it is built
// directly: this runs for every record written.
func EncodeHLCs(fields map[string]syncproto.FieldState) []byte {
	if len(fields) == 0 {
		return []byte("{}")
	}
	var groups map[syncproto.HLC][]string
	var one syncproto.HLC
	names := make([]string, 0, len(fields))
	for name, st := range fields {
		switch {
		case groups != nil:
			groups[st.HLC] = append(groups[st.HLC], name)
		case len(names) == 0 || st.HLC == one: // so far one write set them all
			one = st.HLC
			names = append(names, name)
		default:
			groups = make(map[syncproto.HLC][]string, 4)
			groups[one] = names
			groups[st.HLC] = []string{name}
		}
	}
	if groups == nil {
		groups = map[syncproto.HLC][]string{one: names}
	}
	hs := make([]syncproto.HLC, 0, len(groups))
	for h := range groups {
		hs = append(hs, h)
	}
	slices.SortFunc(hs, syncproto.HLC.Compare)
	b := make([]byte, 0, 16+len(hs)*64+len(fields)*16)
	b = append(b, '{')
	for i, h := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = h.AppendText(b)
		b = append(b, '"', ':', '[')
		names := groups[h]
		slices.Sort(names)
		for j, name := range names {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// DecodeHLCs reads what EncodeHLCs wrote into a field → HLC map. It scans
// the exact form EncodeHLCs writes (it runs for every record read) and
// hands anything else to encoding/json.
func DecodeHLCs(s string) (map[string]syncproto.HLC, error) {
	if out, ok := scanHLCs(s); ok {
		return out, nil
	}
	var groups map[string][]string
	if err := json.Unmarshal([]byte(s), &groups); err != nil {
		return nil, err
	}
	out := make(map[string]syncproto.HLC, len(groups)*4)
	for text, names := range groups {
		h, err := syncproto.ParseHLC(text)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			out[n] = h
		}
	}
	return out, nil
}

// scanHLCs parses {"<hlc>":["name",…],…} in ASCII with no spaces and no
// escapes, as EncodeHLCs writes it; ok is false for anything else.
func scanHLCs(s string) (map[string]syncproto.HLC, bool) {
	// quoted reads "…" at s[i:], returning the text and the index after it.
	quoted := func(i int) (string, int, bool) {
		if i >= len(s) || s[i] != '"' {
			return "", 0, false
		}
		end := strings.IndexByte(s[i+1:], '"')
		if end < 0 {
			return "", 0, false
		}
		text := s[i+1 : i+1+end]
		for j := 0; j < len(text); j++ { // HLCs and field names are plain ASCII
			if c := text[j]; c < 0x20 || c >= 0x80 || c == '\\' {
				return "", 0, false
			}
		}
		return text, i + end + 2, true
	}
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	out := make(map[string]syncproto.HLC, 16)
	i := 1
	for i < len(s)-1 {
		text, next, ok := quoted(i)
		if !ok || next+1 >= len(s) || s[next] != ':' || s[next+1] != '[' {
			return nil, false
		}
		h, err := syncproto.ParseHLC(text)
		if err != nil {
			return nil, false
		}
		i = next + 2
		for s[i] != ']' {
			name, next, ok := quoted(i)
			if !ok || next >= len(s) {
				return nil, false
			}
			out[name] = h
			if i = next; s[i] == ',' {
				i++
			}
		}
		if i++; s[i] == ',' {
			i++
		}
	}
	return out, i == len(s)-1
}

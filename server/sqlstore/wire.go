package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file writes a pull page straight from the rows: each row's columns
// become the JSON of one syncproto.Change without building a record, a
// Change or a map on the way (the pull page was two thirds of a busy
// server's CPU when it went through them and encoding/json). The output is
// what server.ToChange and encoding/json make of the same row, field names
// in sorted order, except that <, > and & are not escaped (JSON does not
// need it); the conformance suite checks the two against each other.

// RawRow is one row read with a codec's Cols, not yet decoded.
type RawRow struct {
	Codec *Codec
	Vals  []any
}

// Seq is the row's feed position.
func (r RawRow) Seq() int64 { return r.Vals[2].(int64) }

// RawRows reads every row selected with s.Cols without decoding it. It does
// not close rows.
func (s *Codec) RawRows(rows Rows) ([]RawRow, error) {
	var out []RawRow
	var v valueScanner
	for rows.Next() {
		vals, err := v.scan(s, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, RawRow{s, vals})
	}
	return out, rows.Err()
}

// SortBySeq puts rows of several tables in feed order.
func SortBySeq(rows []RawRow) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Seq() < rows[j].Seq() })
}

// EncodeChanges writes rows (of any entities) as wire changes, in their
// order, on all cores: HLCs per field, or as hlc_groups if grouped. The
// changes are written in mem's buffers (nil: new memory).
func EncodeChanges(rows []RawRow, grouped bool, mem *server.PageMemory) ([]json.RawMessage, error) {
	return encodeRows(rows, mem, func(b []byte, r RawRow, w *changeWriter) ([]byte, error) {
		return r.Codec.appendChange(b, r.Vals, grouped, w)
	})
}

// encodeRows writes each row with write, in their order, on all cores.
// Each core writes its rows into one buffer of mem's, reusing its scratch
// space.
func encodeRows(rows []RawRow, mem *server.PageMemory, write func([]byte, RawRow, *changeWriter) ([]byte, error)) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(rows))
	var mu sync.Mutex
	var first error
	par.Ranges(len(rows), func(start, end int) {
		var w changeWriter
		buf := mem.Buffer(encodedSize(rows[start:end]))
		ends := make([]int, end-start)
		for i := start; i < end; i++ {
			var err error
			if buf, err = write(buf, rows[i], &w); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
				return
			}
			ends[i-start] = len(buf)
		}
		from := 0
		for i, to := range ends {
			out[start+i] = buf[from:to:to]
			from = to
		}
	})
	return out, first
}

// encodedSize is a little more than the wire form of rows takes: each
// column's text with a name and punctuation, or a number's, a null's
// nothing (absent fields are not written), and a sixteenth for escapes.
func encodedSize(rows []RawRow) int {
	n := 0
	for _, r := range rows {
		for _, v := range r.Vals {
			switch v := v.(type) {
			case nil:
			case string:
				n += len(v) + 20
			case []byte:
				n += len(v) + 20
			default:
				n += 24
			}
		}
	}
	return n + n/16
}

// EncodeCompact writes rows as a page of the compact wire form
// (syncproto.CompactPage, sync.md §8.4): each row as a CompactRecord,
// grouped by entity in order of first appearance, with the page's node
// table. The records expand to exactly what EncodeChanges writes of the
// same rows, but for seq; the conformance suite checks it. They are
// written in mem's buffers (nil: new memory).
func EncodeCompact(rows []RawRow, mem *server.PageMemory) (*server.CompactPage, error) {
	page := &server.CompactPage{Count: len(rows)}
	if len(rows) == 0 {
		return page, nil
	}
	page.LastSeq = rows[len(rows)-1].Seq()
	// The node table: every node whose HLC the page writes, in order of
	// first appearance.
	nodes := map[string]int{}
	addNode := func(n string) {
		if _, ok := nodes[n]; !ok {
			nodes[n] = len(page.Nodes)
			page.Nodes = append(page.Nodes, n)
		}
	}
	var h rowHLCs
	for _, r := range rows {
		if del := str(r.Vals[4]); del != "" {
			hl, err := syncproto.ParseHLC(del)
			if err != nil {
				return nil, fmt.Errorf("%s %s: deleted_hlc: %w", r.Codec.Entity.Name, str(r.Vals[0]), err)
			}
			addNode(hl.Node)
			continue
		}
		if err := h.read(r.Codec, str(r.Vals[3])); err != nil {
			return nil, fmt.Errorf("%s %s: decode hlcs: %w", r.Codec.Entity.Name, str(r.Vals[0]), err)
		}
		for _, ref := range h.names {
			addNode(h.groups[ref.group][hlcNodeAt:])
		}
	}
	recs, err := encodeRows(rows, mem, func(b []byte, r RawRow, w *changeWriter) ([]byte, error) {
		return r.Codec.appendCompact(b, r.Vals, nodes, w)
	})
	if err != nil {
		return nil, err
	}
	byEntity := map[string]int{}
	for i, r := range rows {
		name := r.Codec.Entity.Name
		k, ok := byEntity[name]
		if !ok {
			k = len(page.Entities)
			byEntity[name] = k
			page.Entities = append(page.Entities, server.CompactEntity{Name: name})
		}
		page.Entities[k].Records = append(page.Entities[k].Records, recs[i])
	}
	return page, nil
}

// wireSlot is one name in a change's "fields", in sorted order: an entity
// field (field ≥ 0) or a meta field (field < 0, server.MetaFields).
type wireSlot struct {
	name  string
	field int
}

// wireSlots lists the names a change of e can carry in sorted order. A map
// field sorts as its "name." prefix, which is where its keys fall.
func wireSlots(e *server.Entity) []wireSlot {
	var slots []wireSlot
	taken := map[string]bool{}
	for _, m := range server.MetaFields {
		slots = append(slots, wireSlot{name: m.Name, field: -1})
		taken[m.Name] = true
	}
	for i, f := range e.Fields {
		if taken[f.Name] { // the meta field is what a change carries
			continue
		}
		name := f.Name
		if f.Map {
			name += "."
		}
		slots = append(slots, wireSlot{name: name, field: i})
	}
	slices.SortFunc(slots, func(a, b wireSlot) int { return strings.Compare(a.name, b.name) })
	return slots
}

// hlcRef is one field name of the hlcs column and the group it is in.
type hlcRef struct {
	name  string
	group int
}

// rowHLCs is the hlcs column of one row: its groups' HLC texts, the
// names of the entity's fields in it with their groups (sorted within each
// group), and for each field column the group that last wrote it (-1: the
// field is absent); mapKeys are the names of map fields' keys. It is
// scratch space, reused row after row.
type rowHLCs struct {
	groups  []string
	names   []hlcRef
	mapKeys []hlcRef // name is "field.key"
	byField [64]int16
}

func (h *rowHLCs) reset() {
	h.groups, h.names, h.mapKeys = h.groups[:0], h.names[:0], h.mapKeys[:0]
	for i := range h.byField {
		h.byField[i] = -1
	}
}

// add records a name of the last group, if it names a field of s's
// entity (others are ignored, as decodeRecord ignores them).
func (h *rowHLCs) add(s *Codec, name string) {
	g := len(h.groups) - 1
	if i, ok := s.fieldIndex[name]; ok {
		h.byField[i] = int16(g)
		h.names = append(h.names, hlcRef{name, g})
		return
	}
	if dot := strings.IndexByte(name, '.'); dot > 0 && dot < len(name)-1 {
		if i, ok := s.fieldIndex[name[:dot+1]]; ok && s.Entity.Fields[i].Map {
			h.mapKeys = append(h.mapKeys, hlcRef{name, g})
			h.names = append(h.names, hlcRef{name, g})
		}
	}
}

// read parses the hlcs column. The stored form (EncodeHLCs) is read in
// place; anything else goes through DecodeHLCs.
func (h *rowHLCs) read(s *Codec, col string) error {
	h.reset()
	if h.scan(s, col) {
		return nil
	}
	h.reset()
	m, err := DecodeHLCs(col)
	if err != nil {
		return err
	}
	byHLC := map[string][]string{}
	for name, hl := range m {
		byHLC[hl.String()] = append(byHLC[hl.String()], name)
	}
	for _, text := range slices.Sorted(maps.Keys(byHLC)) {
		h.groups = append(h.groups, text)
		names := byHLC[text]
		slices.Sort(names)
		for _, name := range names {
			h.add(s, name)
		}
	}
	return nil
}

// scan reads the hlcs column in the form EncodeHLCs writes
// ({"<hlc>":["name",…],…}: groups sorted by HLC, names sorted, plain
// ASCII without escapes), without copying it; false for anything else.
func (h *rowHLCs) scan(s *Codec, col string) bool {
	if len(col) < 2 || col[0] != '{' || col[len(col)-1] != '}' {
		return false
	}
	i := 1
	quoted := func() (string, bool) {
		if i >= len(col) || col[i] != '"' {
			return "", false
		}
		end := strings.IndexByte(col[i+1:], '"')
		if end < 0 {
			return "", false
		}
		text := col[i+1 : i+1+end]
		for j := 0; j < len(text); j++ {
			if c := text[j]; c < 0x20 || c >= 0x80 || c == '\\' {
				return "", false
			}
		}
		i += end + 2
		return text, true
	}
	for i < len(col)-1 {
		text, ok := quoted()
		if !ok || i+1 >= len(col) || col[i] != ':' || col[i+1] != '[' {
			return false
		}
		if _, err := syncproto.ParseHLC(text); err != nil || text == "" {
			return false
		}
		if n := len(h.groups); n > 0 && h.groups[n-1] >= text {
			return false
		}
		h.groups = append(h.groups, text)
		i += 2
		prev := ""
		for i < len(col) && col[i] != ']' {
			name, ok := quoted()
			if !ok || i >= len(col) || name <= prev {
				return false
			}
			prev = name
			h.add(s, name)
			if col[i] == ',' {
				i++
			}
		}
		if i >= len(col)-1 {
			return false
		}
		if i++; col[i] == ',' {
			i++
		}
	}
	return i == len(col)-1
}

// AppendChange appends the wire change (syncproto.Change as JSON) of one
// row read with s.Cols.
func (s *Codec) AppendChange(b []byte, vals []any, grouped bool) ([]byte, error) {
	var w changeWriter
	return s.appendChange(b, vals, grouped, &w)
}

// changeWriter is the scratch space of writing changes: the row's HLCs
// and, unless grouped, the per-field HLCs, written alongside the fields in
// a second buffer.
type changeWriter struct {
	h       rowHLCs
	b, hlcs []byte
	grouped bool
	nf, nh  int
}

func (s *Codec) appendChange(b []byte, vals []any, grouped bool, w *changeWriter) ([]byte, error) {
	id := str(vals[0])
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, vals[2].(int64), 10)
	b = append(b, `,"entity":`...)
	b = append(b, s.entityJSON...)
	b = append(b, `,"id":`...)
	b = appendString(b, id)
	b = append(b, `,"county":`...)
	b = appendString(b, str(vals[1]))
	if del := str(vals[4]); del != "" {
		h, err := syncproto.ParseHLC(del)
		if err != nil {
			return nil, fmt.Errorf("%s %s: deleted_hlc: %w", s.Entity.Name, id, err)
		}
		b = append(b, `,"fields":{},"hlcs":{},"deleted":true,"deleted_hlc":"`...)
		b = h.AppendText(b)
		return append(b, `"}`...), nil
	}
	h := &w.h
	if err := h.read(s, str(vals[3])); err != nil {
		return nil, fmt.Errorf("%s %s: decode hlcs: %w", s.Entity.Name, id, err)
	}
	w.b, w.hlcs, w.grouped, w.nf, w.nh = b, w.hlcs[:0], grouped, 0, 0
	if err := s.appendFields(w, vals, id); err != nil {
		return nil, err
	}
	b = append(w.b, `,"hlcs":{`...)
	w.b = nil
	if !grouped {
		b = append(b, w.hlcs...)
		b = append(b, '}')
		return append(b, `,"deleted":false}`...), nil
	}
	b = append(b, '}')
	first := true
	for g, hl := range h.groups {
		n := 0
		for _, ref := range h.names {
			if ref.group != g {
				continue
			}
			switch {
			case n > 0:
				b = append(b, ',')
			case first:
				b = append(b, `,"hlc_groups":{"`...)
				first = false
			default:
				b = append(b, ',', '"')
			}
			if n == 0 {
				b = append(b, hl...)
				b = append(b, `":[`...)
			}
			n++
			b = appendString(b, ref.name)
		}
		if n > 0 {
			b = append(b, ']')
		}
	}
	if !first {
		b = append(b, '}')
	}
	return append(b, `,"deleted":false}`...), nil
}

// appendFields writes a live row's "fields" object to w.b: the meta fields
// and every field with an HLC in w.h (read already), in sorted order, and
// unless w.grouped each name's HLC to w.hlcs.
func (s *Codec) appendFields(w *changeWriter, vals []any, id string) error {
	h := &w.h
	w.b = append(w.b, `,"fields":{`...)
	var err error
	for _, slot := range s.slots {
		switch {
		case slot.name == "created_by":
			w.name(slot.name, -1)
			w.b = appendString(w.b, str(vals[8]))
		case slot.name == "received_at":
			w.name(slot.name, -1)
			w.b = append(w.b, '"')
			w.b = time.UnixMilli(vals[6].(int64)).In(server.ChinaTime).AppendFormat(w.b, time.RFC3339Nano)
			w.b = append(w.b, '"')
		case s.Entity.Fields[slot.field].Map:
			err = w.mapField(slot.name, vals[NMeta+slot.field])
		default:
			if g := h.byField[slot.field]; g >= 0 {
				w.name(slot.name, int(g))
				w.b, err = appendColumn(w.b, &s.Entity.Fields[slot.field], vals[NMeta+slot.field])
			}
		}
		if err != nil {
			return fmt.Errorf("%s %s: field %s: %w", s.Entity.Name, id, strings.TrimSuffix(slot.name, "."), err)
		}
	}
	w.b = append(w.b, '}')
	return nil
}

// hlcNodeAt is where the node id starts in an HLC's canonical text.
const hlcNodeAt = 22

// appendCompact appends the compact wire record (syncproto.CompactRecord)
// of one row read with s.Cols; nodes indexes the page's node table.
func (s *Codec) appendCompact(b []byte, vals []any, nodes map[string]int, w *changeWriter) ([]byte, error) {
	id, county := str(vals[0]), str(vals[1])
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	if del := str(vals[4]); del != "" {
		if _, err := syncproto.ParseHLC(del); err != nil { // only the canonical text parses
			return nil, fmt.Errorf("%s %s: deleted_hlc: %w", s.Entity.Name, id, err)
		}
		b = append(b, `,"county":`...)
		b = appendString(b, county)
		b = append(b, `,"deleted":true,"deleted_hlc":"`...)
		b = appendCompactHLC(b, del, nodes)
		return append(b, `"}`...), nil
	}
	h := &w.h
	if err := h.read(s, str(vals[3])); err != nil {
		return nil, fmt.Errorf("%s %s: decode hlcs: %w", s.Entity.Name, id, err)
	}
	if !s.countyInFields(vals, h, county) {
		b = append(b, `,"county":`...)
		b = appendString(b, county)
	}
	w.b, w.grouped, w.nf = b, true, 0
	if err := s.appendFields(w, vals, id); err != nil {
		return nil, err
	}
	b, w.b = w.b, nil
	// The record's HLC is the one that wrote the most fields (the later
	// one on a tie); the others' fields are named in hlc_fields.
	main, most := -1, 0
	count := make([]int, len(h.groups))
	for _, ref := range h.names {
		if count[ref.group]++; count[ref.group] >= most {
			main, most = ref.group, count[ref.group]
		}
	}
	if main >= 0 {
		b = append(b, `,"hlc":"`...)
		b = appendCompactHLC(b, h.groups[main], nodes)
		b = append(b, '"')
	}
	n := 0
	for _, ref := range h.names {
		if ref.group == main {
			continue
		}
		if n == 0 {
			b = append(b, `,"hlc_fields":{`...)
		} else {
			b = append(b, ',')
		}
		n++
		b = appendString(b, ref.name)
		b = append(b, ':', '"')
		b = appendCompactHLC(b, h.groups[ref.group], nodes)
		b = append(b, '"')
	}
	if n > 0 {
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// countyInFields reports whether a compact record may leave out its
// county: the row's county field is written and holds it, or the county is
// empty and no county field is written.
func (s *Codec) countyInFields(vals []any, h *rowHLCs, county string) bool {
	i, ok := s.fieldIndex["county"]
	if !ok || h.byField[i] < 0 {
		return county == ""
	}
	v := vals[NMeta+i]
	return v != nil && s.Entity.Fields[i].Type == server.TypeText && str(v) == county
}

// appendCompactHLC writes an HLC's canonical text in the compact form:
// wall and counter without leading zeros, and the node's index in the
// page's node table ("1796065820704-499-0").
func appendCompactHLC(b []byte, text string, nodes map[string]int) []byte {
	b = appendTrimmedDigits(b, text[:15])
	b = append(b, '-')
	b = appendTrimmedDigits(b, text[16:21])
	b = append(b, '-')
	return strconv.AppendInt(b, int64(nodes[text[hlcNodeAt:]]), 10)
}

// appendTrimmedDigits writes a run of decimal digits without its leading
// zeros (one 0 if all are).
func appendTrimmedDigits(b []byte, d string) []byte {
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	return append(b, d...)
}

// name starts the field name's value; g is the group of its HLC (-1: none).
func (w *changeWriter) name(name string, g int) {
	if w.nf > 0 {
		w.b = append(w.b, ',')
	}
	w.nf++
	w.b = appendString(w.b, name)
	w.b = append(w.b, ':')
	if w.grouped || g < 0 {
		return
	}
	if w.nh > 0 {
		w.hlcs = append(w.hlcs, ',')
	}
	w.nh++
	w.hlcs = appendString(w.hlcs, name)
	w.hlcs = append(w.hlcs, ':', '"')
	w.hlcs = append(w.hlcs, w.h.groups[g]...)
	w.hlcs = append(w.hlcs, '"')
}

// mapField writes the keys of the map field whose wire names start with
// prefix ("answers.") that have an HLC, sorted, each with its value in the
// column's JSON object (null if it has none).
func (w *changeWriter) mapField(prefix string, col any) error {
	var keys []hlcRef
	for _, k := range w.h.mapKeys {
		if strings.HasPrefix(k.name, prefix) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if col != nil {
		if err := json.Unmarshal([]byte(str(col)), &m); err != nil {
			return err
		}
	}
	slices.SortFunc(keys, func(a, b hlcRef) int { return strings.Compare(a.name, b.name) })
	for _, k := range keys {
		w.name(k.name, k.group)
		v := m[k.name[len(prefix):]]
		if v == nil {
			v = json.RawMessage("null")
		}
		w.b = append(w.b, v...)
	}
	return nil
}

// appendColumn writes a field column's value as the canonical JSON
// decodeField makes of it.
func appendColumn(b []byte, f *server.Field, col any) ([]byte, error) {
	switch x := col.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		if f.Type == server.TypeBool {
			return strconv.AppendBool(b, x != 0), nil
		}
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendFloat(b, x)
	}
	if f.Type == server.TypeJSON {
		return append(b, str(col)...), nil
	}
	return appendString(b, str(col)), nil
}

// appendFloat writes f as encoding/json does.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("unsupported value %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does without
// HTML escaping: control characters, quotes and backslashes escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// FeedPages gives a store both forms of a page of its change feed, from
// the one function that reads the page's rows (each store's own SQL):
// records (Changes) and wire changes (WireChanges). A store embeds it.
type FeedPages struct {
	// Read returns the rows of the records in scope with seq > after, in
	// seq order, at most limit, from one snapshot, and whether more follow.
	Read func(ctx context.Context, scope server.Scope, after int64, limit int) ([]RawRow, bool, error)
}

// Changes returns the records in scope with seq > after, in seq order, at
// most limit, reading every table in one snapshot.
func (f FeedPages) Changes(ctx context.Context, scope server.Scope, after int64, limit int) ([]*server.StoredRecord, bool, error) {
	rows, more, err := f.Read(ctx, scope, after, limit)
	if err != nil {
		return nil, false, err
	}
	recs, err := DecodeRows(rows)
	return recs, more, err
}

// WireChanges is Changes written as wire changes, straight from the rows,
// in mem's buffers.
func (f FeedPages) WireChanges(ctx context.Context, scope server.Scope, after int64, limit int, grouped bool, mem *server.PageMemory) ([]json.RawMessage, bool, error) {
	rows, more, err := f.Read(ctx, scope, after, limit)
	if err != nil {
		return nil, false, err
	}
	out, err := EncodeChanges(rows, grouped, mem)
	return out, more, err
}

// CompactChanges is WireChanges in the compact form (EncodeCompact).
func (f FeedPages) CompactChanges(ctx context.Context, scope server.Scope, after int64, limit int, mem *server.PageMemory) (*server.CompactPage, error) {
	rows, more, err := f.Read(ctx, scope, after, limit)
	if err != nil {
		return nil, err
	}
	page, err := EncodeCompact(rows, mem)
	if page != nil {
		page.More = more
	}
	return page, err
}

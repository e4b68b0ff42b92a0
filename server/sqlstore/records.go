package sqlstore

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file is the row codec: how a record maps to the columns of its
// entity's table and back.

// MetaCols are the leading columns of every entity table.
const MetaCols = "id, county, seq, hlcs, deleted_hlc, created_device, created_at, updated_at, created_by"

// NMeta is the number of MetaCols.
const NMeta = 9

// IsMetaCol reports whether a field is stored in a meta column (only a
// "county" field: the county a device names is the record's county).
func IsMetaCol(field string) bool { return field == "county" }

// Scanner reads one row's columns: *sql.Row, *sql.Rows, pgx.Row and
// pgx.Rows all are.
type Scanner interface{ Scan(dest ...any) error }

// Rows is a result set being read: *sql.Rows and pgx.Rows both are.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Codec converts the records of one entity to and from the rows of its
// table, generated from the entity's field list so that one mechanism
// serves every entity.
type Codec struct {
	Entity *server.Entity
	Cols   string // MetaCols + field columns, the order rows are read in

	// nativeBool: bool columns take and give Go bools (PostgreSQL's
	// boolean) instead of the integers 0 and 1 (SQLite).
	nativeBool bool

	// fieldIndex maps a field's name to its index in Entity.Fields (a map
	// field's as "name."); slots lists what a wire change's fields can
	// hold, in sorted order (AppendChange).
	fieldIndex map[string]int
	hasMap     bool // a field is a map (its keys are fields "name.key")
	slots      []wireSlot
	entityJSON []byte // the entity's name as a JSON string
}

// NewCodec returns the codec of e's table. nativeBool says the dialect has
// a boolean column type (PostgreSQL); otherwise a bool is stored as 0 or 1.
func NewCodec(e *server.Entity, nativeBool bool) *Codec {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Name
	}
	if len(e.Fields) > 56 {
		panic("entity " + e.Name + " has more than 56 fields")
	}
	index := make(map[string]int, len(e.Fields))
	hasMap := false
	for i, f := range e.Fields {
		if f.Map {
			index[f.Name+"."] = i
			hasMap = true
		} else {
			index[f.Name] = i
		}
	}
	return &Codec{Entity: e, Cols: MetaCols + ", " + strings.Join(names, ", "), nativeBool: nativeBool,
		fieldIndex: index, hasMap: hasMap, slots: wireSlots(e), entityJSON: appendString(nil, e.Name)}
}

// UpsertCols returns the columns an upsert writing the field columns in
// mask names (the meta columns, then those fields' columns), and the
// "c = excluded.c" assignments of its ON CONFLICT (id) DO UPDATE clause.
// A record only ever gains fields (a cleared field is kept as null with its
// HLC), so the columns it does not have are NULL in the table already and
// need not be written; binding only the columns a record has makes sparse
// records cheaper.
func (s *Codec) UpsertCols(mask uint64) (cols, sets []string) {
	cols = strings.Split(MetaCols, ", ")
	for i, f := range s.Entity.Fields {
		if mask&(1<<i) != 0 && !IsMetaCol(f.Name) {
			cols = append(cols, f.Name)
		}
	}
	sets = make([]string, 0, len(cols))
	for _, c := range cols[1:] {
		sets = append(sets, c+" = excluded."+c)
	}
	return cols, sets
}

// ScanRecord reads and decodes one row selected with s.Cols.
func (s *Codec) ScanRecord(sc Scanner) (*server.StoredRecord, error) {
	vals, err := s.scanValues(sc)
	if err != nil {
		return nil, err
	}
	return s.decodeRecord(vals, new(rowHLCs))
}

// ReadRows reads every row selected with s.Cols, then decodes them — the
// costly part (HLC groups, canonical JSON of every value) — on all cores.
// It does not close rows.
func (s *Codec) ReadRows(rows Rows) ([]*server.StoredRecord, error) {
	raw, err := s.RawRows(rows)
	if err != nil {
		return nil, err
	}
	return DecodeRows(raw)
}

// readChunk is how many rows ReadDecoded reads before handing them over.
const readChunk = 32

// ReadDecoded reads every row selected with s.Cols and decodes each chunk
// of rows on another core while it reads the next (reading, on one
// connection, cannot be shared out). It returns the rows and their
// records, in order. It does not close rows.
func (s *Codec) ReadDecoded(rows Rows) ([]RawRow, []*server.StoredRecord, error) {
	chunks := make(chan []RawRow, 4)
	var recs []*server.StoredRecord
	var decodeErr error
	decoded := make(chan struct{})
	go func() {
		defer close(decoded)
		var h rowHLCs
		for chunk := range chunks {
			for _, r := range chunk {
				if decodeErr != nil {
					continue // the rest only drained
				}
				rec, err := r.Codec.decodeRecord(r.Vals, &h)
				decodeErr = err
				recs = append(recs, rec)
			}
		}
	}()
	var raw []RawRow
	var readErr error
	handed := 0
	var v valueScanner
	for rows.Next() {
		vals, err := v.scan(s, rows)
		if err != nil {
			readErr = err
			break
		}
		raw = append(raw, RawRow{s, vals})
		if len(raw)-handed == readChunk {
			chunks <- raw[handed:len(raw):len(raw)] // rows the reader no longer touches
			handed = len(raw)
		}
	}
	if handed < len(raw) {
		chunks <- raw[handed:len(raw):len(raw)]
	}
	close(chunks)
	<-decoded
	if err := cmp.Or(readErr, rows.Err(), decodeErr); err != nil {
		return nil, nil, err
	}
	return raw, recs, nil
}

// DecodeRows decodes rows (of any entities) into records, on all cores,
// keeping their order.
func DecodeRows(raw []RawRow) ([]*server.StoredRecord, error) {
	out := make([]*server.StoredRecord, len(raw))
	errs := make([]error, len(raw))
	par.Ranges(len(raw), func(start, end int) {
		var h rowHLCs
		for i := start; i < end; i++ {
			out[i], errs[i] = raw[i].Codec.decodeRecord(raw[i].Vals, &h)
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanValues reads one row's values.
func (s *Codec) scanValues(sc Scanner) ([]any, error) {
	var v valueScanner
	return v.scan(s, sc)
}

// scanBlock is the most rows' values a valueScanner allocates at once.
const scanBlock = 32

// valueScanner scans rows of one codec's columns into values that outlive
// the scan (RawRow.Vals), allocating them for as many rows at a time as it
// has read so far (at most scanBlock; one row's for a lookup of one id),
// and reusing one set of destinations for Scan: a page of 500 rows costs
// a few dozen allocations instead of two per row, and a quarter of a
// megabyte less garbage. The zero value is ready.
type valueScanner struct {
	block []any // values not yet handed out
	ptrs  []any // Scan's destinations, re-pointed for each row
	rows  int   // rows read
}

// scan reads one row's values.
func (v *valueScanner) scan(s *Codec, sc Scanner) ([]any, error) {
	n := NMeta + len(s.Entity.Fields)
	if len(v.block) < n {
		v.block = make([]any, n*min(max(v.rows, 1), scanBlock))
	}
	v.rows++
	vals := v.block[:n:n]
	v.block = v.block[n:]
	if cap(v.ptrs) < n {
		v.ptrs = make([]any, n)
	}
	ptrs := v.ptrs[:n]
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, sc.Scan(ptrs...)
}

// decodeRecord builds a record from the column values of one row. The
// hlcs column is read as the wire writer reads it (rowHLCs, h its scratch
// space, reused row after row), each group's HLC parsed once.
func (s *Codec) decodeRecord(vals []any, h *rowHLCs) (*server.StoredRecord, error) {
	r := &server.StoredRecord{Entity: s.Entity, ID: str(vals[0]), County: str(vals[1]), Seq: vals[2].(int64),
		CreatedDevice: str(vals[5]), CreatedAt: time.UnixMilli(vals[6].(int64)), UpdatedAt: time.UnixMilli(vals[7].(int64)),
		CreatedBy: str(vals[8])}
	if err := h.read(s, str(vals[3])); err != nil {
		return nil, fmt.Errorf("%s %s: decode hlcs: %w", s.Entity.Name, r.ID, err)
	}
	var buf [4]syncproto.HLC
	groups := buf[:0]
	for _, text := range h.groups {
		g, err := syncproto.ParseHLC(text)
		if err != nil {
			return nil, fmt.Errorf("%s %s: decode hlcs: %w", s.Entity.Name, r.ID, err)
		}
		groups = append(groups, g)
	}
	var err error
	if r.State.Deleted, err = syncproto.ParseHLC(str(vals[4])); err != nil {
		return nil, fmt.Errorf("%s %s: deleted_hlc: %w", s.Entity.Name, r.ID, err)
	}
	r.State.Fields = make(map[string]syncproto.FieldState, len(h.names)+len(h.mapKeys))
	arena := make([]byte, 0, valuesSize(vals[NMeta:]))
	for i := range s.Entity.Fields {
		if err := decodeField(r, &s.Entity.Fields[i], vals[NMeta+i], h, i, groups, &arena); err != nil {
			return nil, fmt.Errorf("%s %s: field %s: %w", s.Entity.Name, r.ID, s.Entity.Fields[i].Name, err)
		}
	}
	return r, nil
}

// valuesSize is about the bytes of the canonical JSON of the field
// columns vals (exactly, but for escapes), so that decodeRecord writes
// all of a row's values into one allocation, which they then share.
func valuesSize(vals []any) int {
	n := 0
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			n += len(v) + 2
		case []byte:
			n += len(v) + 2
		case nil:
			n += 4 // null
		default:
			n += 24
		}
	}
	return n
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// decodeField turns the value of column i (field f) back into the
// canonical JSON of each wire field it holds. A field exists if it has an
// HLC in the row's hlcs (h, whose groups' HLCs are groups).
func decodeField(r *server.StoredRecord, f *server.Field, col any, h *rowHLCs, i int, groups []syncproto.HLC, arena *[]byte) error {
	if f.Map {
		var m map[string]json.RawMessage
		if col != nil {
			if err := json.Unmarshal([]byte(str(col)), &m); err != nil {
				return err
			}
		}
		prefix := f.Name + "."
		for _, k := range h.mapKeys {
			if strings.HasPrefix(k.name, prefix) {
				v := m[strings.TrimPrefix(k.name, prefix)]
				if v == nil {
					v = json.RawMessage("null")
				}
				if err := setField(r, k.name, v, groups[k.group]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	g := h.byField[i]
	if g < 0 {
		return nil
	}
	start := len(*arena)
	b, err := appendColumn(*arena, f, col)
	if err != nil {
		return err
	}
	*arena = b
	v := json.RawMessage(b[start:len(b):len(b)])
	return setField(r, f.Name, v, groups[g])
}

func setField(r *server.StoredRecord, name string, v json.RawMessage, h syncproto.HLC) error {
	r.State.Fields[name] = syncproto.FieldState{Value: v, HLC: h}
	return nil
}

// RowArgs encodes a record as the arguments of one row of an upsert of the
// columns UpsertCols(mask) names, returning the mask of field columns it
// writes.
func (s *Codec) RowArgs(r *server.StoredRecord) ([]any, uint64, error) {
	vals, mask, err := s.RowValues(r)
	if err != nil {
		return nil, 0, err
	}
	args := vals[:NMeta:NMeta]
	for i := range s.Entity.Fields {
		if mask&(1<<i) != 0 {
			args = append(args, vals[NMeta+i])
		}
	}
	return args, mask, nil
}

// RowValues encodes a record as the values of every column of its row, in
// Cols order, as they read back (nil for a field it does not have; a
// "county" field is the county meta column, which Cols names twice), and
// returns the mask of the field columns it has (never a "county" field's).
func (s *Codec) RowValues(r *server.StoredRecord) ([]any, uint64, error) {
	return s.rowValues(r, nil)
}

// rowValues is RowValues. Given the row as stored (the values read with
// Cols), it reuses each stored value its column keeps, instead of making
// an equal one: an update of a few fields of a row then costs no
// conversion, and no allocation, for the columns it leaves as they were.
func (s *Codec) rowValues(r *server.StoredRecord, stored []any) ([]any, uint64, error) {
	var maps map[string]map[string]json.RawMessage
	if s.hasMap {
		for name, st := range r.State.Fields {
			if base, key, ok := strings.Cut(name, "."); ok {
				if maps == nil {
					maps = map[string]map[string]json.RawMessage{}
				}
				if maps[base] == nil {
					maps[base] = map[string]json.RawMessage{}
				}
				maps[base][key] = st.Value
			}
		}
	}
	vals := make([]any, NMeta+len(s.Entity.Fields))
	vals[0], vals[1], vals[2] = reuse(stored, 0, r.ID), reuse(stored, 1, r.County), reuse(stored, 2, r.Seq)
	vals[3], vals[4] = string(EncodeHLCs(r.State.Fields)), r.State.Deleted.String()
	vals[5], vals[6] = reuse(stored, 5, r.CreatedDevice), reuse(stored, 6, r.CreatedAt.UnixMilli())
	vals[7], vals[8] = reuse(stored, 7, r.UpdatedAt.UnixMilli()), reuse(stored, 8, r.CreatedBy)
	// The texts of the text columns written go into one string, which the
	// columns' values then share: the bodies are built in a scratch
	// buffer, at the offsets spans keeps.
	scratch := textScratch.Get().(*[]byte)
	defer textScratch.Put(scratch)
	texts := (*scratch)[:0]
	var spans [64]struct{ col, start, end int }
	nspans := 0
	var mask uint64
	for i := range s.Entity.Fields {
		f := &s.Entity.Fields[i]
		if f.Map {
			if m := maps[f.Name]; m != nil {
				b, err := json.Marshal(m)
				if err != nil {
					return nil, 0, err
				}
				vals[NMeta+i] = string(b)
				mask |= 1 << i
			}
			continue
		}
		if IsMetaCol(f.Name) { // a "county" field is the county column, read back as such
			vals[NMeta+i] = vals[1]
			continue
		}
		st, ok := r.State.Fields[f.Name]
		if !ok {
			continue
		}
		mask |= 1 << i
		if stored != nil && sameColumn(f, st.Value, stored[NMeta+i]) {
			vals[NMeta+i] = stored[NMeta+i]
			continue
		}
		if isText(f) {
			start := len(texts)
			var ok bool
			if texts, ok = server.AppendCanonicalString(texts, st.Value); ok {
				spans[nspans] = struct{ col, start, end int }{NMeta + i, start, len(texts)}
				nspans++
				continue
			}
		}
		v, err := columnValue(f, st.Value, s.nativeBool)
		if err != nil {
			return nil, 0, fmt.Errorf("%s %s: field %s: %w", s.Entity.Name, r.ID, f.Name, err)
		}
		vals[NMeta+i] = v
	}
	all := string(texts)
	for _, sp := range spans[:nspans] {
		vals[sp.col] = all[sp.start:sp.end]
	}
	*scratch = texts
	return vals, mask, nil
}

// textScratch holds the buffers rowValues builds a row's texts in.
var textScratch = sync.Pool{New: func() any { return new([]byte) }}

// isText reports whether a field's column holds the text of its JSON
// string (columnValue's last case).
func isText(f *server.Field) bool {
	switch f.Type {
	case server.TypeInt, server.TypeReal, server.TypeBool, server.TypeJSON:
		return false
	}
	return true
}

// reuse returns stored column i when it holds v (the same Go value of the
// same type), else v; stored may be nil.
func reuse[T comparable](stored []any, i int, v T) any {
	if stored != nil {
		if s, ok := stored[i].(T); ok && s == v {
			return stored[i]
		}
	}
	return v
}

// sameColumn reports whether col, a field's column as read back, is what
// columnValue makes of the canonical JSON v, when that can be told
// without converting v; false otherwise (v is then converted and
// compared as any other).
func sameColumn(f *server.Field, v json.RawMessage, col any) bool {
	var buf [32]byte
	switch c := col.(type) {
	case nil:
		return string(v) == "null"
	case string:
		if f.Type == server.TypeJSON {
			return string(v) == c
		}
		// "c" is canonical, and its column c, only when c needs no escape.
		n := len(v)
		return n == len(c)+2 && v[0] == '"' && v[n-1] == '"' && string(v[1:n-1]) == c && server.IsPlain(c)
	case int64:
		switch f.Type {
		case server.TypeInt:
			return string(strconv.AppendInt(buf[:0], c, 10)) == string(v)
		case server.TypeBool:
			return string(v) == "true" && c == 1 || string(v) == "false" && c == 0
		}
	case float64:
		if f.Type == server.TypeReal {
			b, err := appendFloat(buf[:0], c)
			return err == nil && string(b) == string(v)
		}
	case bool:
		return f.Type == server.TypeBool && string(v) == strconv.FormatBool(c)
	}
	return false
}

// MaxStatementTexts bounds the statement texts a store keeps for an
// entity, per kind (upserts by the columns written, updates by those
// changed): the usual column sets are a handful, but devices choose which
// fields a record has and which change, and the combinations are not
// bounded. Texts past it are built each time they are needed.
const MaxStatementTexts = 1024

// ColSet is a set of a table's columns, by their index in Cols (the meta
// columns first, then the entity's fields).
type ColSet [2]uint64

// Add adds column i.
func (c *ColSet) Add(i int) { c[i/64] |= 1 << (i % 64) }

// Has reports whether column i is in the set.
func (c ColSet) Has(i int) bool { return c[i/64]&(1<<(i%64)) != 0 }

// IsEmpty reports whether the set has no column.
func (c ColSet) IsEmpty() bool { return c == ColSet{} }

// Changed returns the columns whose values differ between a row as stored
// (the values read with Cols) and vals (RowValues), and the new values of
// those columns in Cols order. A value is unchanged only when it is the
// same Go value of the same type (floats bit for bit), so whatever the
// comparison cannot tell apart is written.
func (s *Codec) Changed(stored, vals []any) (ColSet, []any) {
	var set ColSet
	var out []any
	for i, v := range vals {
		if i < len(stored) && sameValue(stored[i], v) {
			continue
		}
		if i >= NMeta && IsMetaCol(s.Entity.Fields[i-NMeta].Name) {
			continue // the county column, compared as a meta column
		}
		set.Add(i)
		out = append(out, v)
	}
	return set, out
}

// sameValue reports whether a column value read back (a) is v as
// written: both null, or equal values of the same type.
func sameValue(a, v any) bool {
	switch v := v.(type) {
	case nil:
		return a == nil
	case string:
		switch a := a.(type) {
		case string:
			return a == v
		case []byte:
			return string(a) == v
		}
	case int64:
		a, ok := a.(int64)
		return ok && a == v
	case float64:
		a, ok := a.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(v)
	case bool:
		a, ok := a.(bool)
		return ok && a == v
	}
	return false
}

// SetCols returns the names of the columns in set, in Cols order.
func (s *Codec) SetCols(set ColSet) []string {
	var cols []string
	for i, name := range s.colNames() {
		if set.Has(i) {
			cols = append(cols, name)
		}
	}
	return cols
}

func (s *Codec) colNames() []string {
	return strings.Split(s.Cols, ", ")
}

// columnValue converts a canonical JSON value to what its column stores.
func columnValue(f *server.Field, v json.RawMessage, nativeBool bool) (any, error) {
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	switch f.Type {
	case server.TypeInt:
		if isJSONNumber(v) {
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil { // canonical: plain digits
				return n, nil
			}
		}
		var n int64
		err := json.Unmarshal(v, &n)
		return n, err
	case server.TypeReal:
		if isJSONNumber(v) {
			if n, err := strconv.ParseFloat(string(v), 64); err == nil {
				return n, nil // strconv reads a JSON number as encoding/json does
			}
		}
		var n float64
		err := json.Unmarshal(v, &n)
		return n, err
	case server.TypeBool:
		b := string(v) == "true"
		var err error
		if !b && string(v) != "false" {
			err = json.Unmarshal(v, &b)
		}
		if nativeBool {
			return b, err
		}
		if b {
			return int64(1), err
		}
		return int64(0), err
	case server.TypeJSON:
		return string(v), nil
	}
	if s, ok := server.CanonicalString(v); ok {
		return s, nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

// isJSONNumber reports whether v has only the characters of a JSON number
// and starts as one (so strconv parses it as encoding/json would, and never
// as "inf" or a hexadecimal float).
func isJSONNumber(v []byte) bool {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			return false
		}
	}
	return true
}

package postgres

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file is the row codec: an entity's table statements, and the
// conversion of records to and from rows.

// metaCols are the leading columns of every entity table.
const metaCols = "id, county, seq, hlcs, deleted_hlc, created_device, created_at, updated_at, created_by"

const nMeta = 9

// isMetaCol reports whether a field is stored in a meta column (only a
// "county" field: the county a device names is the record's county).
func isMetaCol(field string) bool { return field == "county" }

// entitySQL holds the statements for one entity table, generated from the
// entity's field list so that one mechanism serves every entity.
type entitySQL struct {
	e    *server.Entity
	cols string // metaCols + field columns
	get  string
	in   string // get by a list of ids, bound as one text[]

	mu      sync.Mutex
	upserts map[upsertKey]string
}

func newEntitySQL(e *server.Entity) *entitySQL {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Name
	}
	if len(e.Fields) > 56 {
		panic("entity " + e.Name + " has more than 56 fields")
	}
	cols := metaCols + ", " + strings.Join(names, ", ")
	return &entitySQL{
		e:       e,
		cols:    cols,
		get:     "SELECT " + cols + " FROM " + e.Name + " WHERE id = ?",
		in:      "SELECT " + cols + " FROM " + e.Name + " WHERE id = ANY(?)",
		upserts: map[upsertKey]string{},
	}
}

// upsert returns the INSERT … ON CONFLICT statement writing n rows of the
// meta columns and the field columns in mask. A record only ever gains
// fields (a cleared field is kept as null with its HLC), so the columns it
// does not have are NULL in the table already and need not be written;
// binding only the columns a record has makes sparse records cheaper. A
// transaction's rows are written several per statement (upsertSizes), the
// statements sent in one pipelined batch (writeTx.flush), each prepared
// once per connection by pgx's statement cache.
func (s *entitySQL) upsert(mask uint64, n int) string {
	key := upsertKey{mask, n}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.upserts[key]; ok {
		return q
	}
	cols := strings.Split(metaCols, ", ")
	for i, f := range s.e.Fields {
		if mask&(1<<i) != 0 && !isMetaCol(f.Name) {
			cols = append(cols, f.Name)
		}
	}
	sets := make([]string, 0, len(cols))
	for _, c := range cols[1:] {
		sets = append(sets, c+" = excluded."+c)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + s.e.Name + " (" + strings.Join(cols, ", ") + ") VALUES ")
	arg := 0
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			arg++
			b.WriteString("$" + strconv.Itoa(arg))
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT (id) DO UPDATE SET " + strings.Join(sets, ", "))
	q := b.String()
	s.upserts[key] = q
	return q
}

// upsertKey names an upsert statement: the field columns it writes and
// its number of rows.
type upsertKey struct {
	mask uint64
	rows int
}

// upsertSizes are the row counts of the upsert statements, largest first:
// a run of rows with the same columns is written in statements of these
// sizes, so that few statements serve every batch.
var upsertSizes = []int{64, 16, 4, 1}

// scanRecord reads and decodes one row selected with s.cols.
func (s *entitySQL) scanRecord(sc interface{ Scan(...any) error }) (*server.StoredRecord, error) {
	vals, err := s.scanValues(sc)
	if err != nil {
		return nil, err
	}
	return s.decodeRecord(vals)
}

// scanRows reads every row selected with s.cols, then decodes them — the
// costly part (HLC groups, canonical JSON of every value) — on all cores.
// It closes rows; err is the error of the query that made them.
func (s *entitySQL) scanRows(rows pgx.Rows, err error) ([]*server.StoredRecord, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var raw [][]any
	for rows.Next() {
		vals, err := s.scanValues(rows)
		if err != nil {
			return nil, err
		}
		raw = append(raw, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*server.StoredRecord, len(raw))
	errs := make([]error, len(raw))
	par.Do(len(raw), func(i int) { out[i], errs[i] = s.decodeRecord(raw[i]) })
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanValues reads the column values of one row selected with s.cols.
func (s *entitySQL) scanValues(sc interface{ Scan(...any) error }) ([]any, error) {
	vals := make([]any, nMeta+len(s.e.Fields))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, sc.Scan(ptrs...)
}

// decodeRecord builds a record from the column values of one row.
func (s *entitySQL) decodeRecord(vals []any) (*server.StoredRecord, error) {
	r := &server.StoredRecord{Entity: s.e, ID: str(vals[0]), County: str(vals[1]), Seq: vals[2].(int64),
		CreatedDevice: str(vals[5]), CreatedAt: time.UnixMilli(vals[6].(int64)), UpdatedAt: time.UnixMilli(vals[7].(int64)),
		CreatedBy: str(vals[8])}
	hlcs, err := decodeHLCs(str(vals[3]))
	if err != nil {
		return nil, fmt.Errorf("%s %s: decode hlcs: %w", s.e.Name, r.ID, err)
	}
	if r.State.Deleted, err = syncproto.ParseHLC(str(vals[4])); err != nil {
		return nil, fmt.Errorf("%s %s: deleted_hlc: %w", s.e.Name, r.ID, err)
	}
	r.State.Fields = make(map[string]syncproto.FieldState, len(hlcs))
	for i := range s.e.Fields {
		if err := decodeField(r, &s.e.Fields[i], vals[nMeta+i], hlcs); err != nil {
			return nil, fmt.Errorf("%s %s: field %s: %w", s.e.Name, r.ID, s.e.Fields[i].Name, err)
		}
	}
	return r, nil
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

// decodeField turns a column value back into the canonical JSON of each
// wire field it holds. A field exists if it has an HLC.
func decodeField(r *server.StoredRecord, f *server.Field, col any, hlcs map[string]syncproto.HLC) error {
	if f.Map {
		var m map[string]json.RawMessage
		if col != nil {
			if err := json.Unmarshal([]byte(str(col)), &m); err != nil {
				return err
			}
		}
		prefix := f.Name + "."
		for name, h := range hlcs {
			if strings.HasPrefix(name, prefix) {
				v := m[strings.TrimPrefix(name, prefix)]
				if v == nil {
					v = json.RawMessage("null")
				}
				if err := setField(r, name, v, h); err != nil {
					return err
				}
			}
		}
		return nil
	}
	h, ok := hlcs[f.Name]
	if !ok {
		return nil
	}
	var v json.RawMessage
	switch x := col.(type) {
	case nil:
		v = json.RawMessage("null")
	case bool:
		v = json.RawMessage(strconv.FormatBool(x))
	case int64:
		if f.Type == server.TypeBool {
			v = json.RawMessage(strconv.FormatBool(x != 0))
		} else {
			v = strconv.AppendInt(nil, x, 10)
		}
	case float64:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		v = b
	default:
		if f.Type == server.TypeJSON {
			v = json.RawMessage(str(x))
		} else {
			b, err := marshalString(str(x))
			if err != nil {
				return err
			}
			v = b
		}
	}
	return setField(r, f.Name, v, h)
}

func setField(r *server.StoredRecord, name string, v json.RawMessage, h syncproto.HLC) error {
	r.State.Fields[name] = syncproto.FieldState{Value: v, HLC: h}
	return nil
}

// marshalString returns the canonical JSON of a text column's value.
func marshalString(s string) ([]byte, error) {
	if server.IsPlain(s) { // the usual case: nothing to escape
		b := make([]byte, 0, len(s)+2)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"'), nil
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// rowArgs encodes a record as the arguments of s.upsert(mask), returning
// the mask of field columns it writes.
func (s *entitySQL) rowArgs(r *server.StoredRecord) ([]any, uint64, error) {
	var maps map[string]map[string]json.RawMessage
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
	args := make([]any, 0, nMeta+len(r.State.Fields))
	args = append(args, r.ID, r.County, r.Seq, string(encodeHLCs(r.State.Fields)), r.State.Deleted.String(), r.CreatedDevice,
		r.CreatedAt.UnixMilli(), r.UpdatedAt.UnixMilli(), r.CreatedBy)
	var mask uint64
	for i := range s.e.Fields {
		f := &s.e.Fields[i]
		if f.Map {
			if m := maps[f.Name]; m != nil {
				b, err := json.Marshal(m)
				if err != nil {
					return nil, 0, err
				}
				args = append(args, string(b))
				mask |= 1 << i
			}
			continue
		}
		st, ok := r.State.Fields[f.Name]
		if !ok || isMetaCol(f.Name) { // a "county" field is the county column
			continue
		}
		v, err := columnValue(f, st.Value)
		if err != nil {
			return nil, 0, fmt.Errorf("%s %s: field %s: %w", s.e.Name, r.ID, f.Name, err)
		}
		args = append(args, v)
		mask |= 1 << i
	}
	return args, mask, nil
}

// columnValue converts a canonical JSON value to what its column stores.
func columnValue(f *server.Field, v json.RawMessage) (any, error) {
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	switch f.Type {
	case server.TypeInt:
		var n int64
		err := json.Unmarshal(v, &n)
		return n, err
	case server.TypeReal:
		var n float64
		err := json.Unmarshal(v, &n)
		return n, err
	case server.TypeBool:
		var b bool
		err := json.Unmarshal(v, &b)
		return b, err
	case server.TypeJSON:
		return string(v), nil
	}
	if s, ok := server.PlainString(v); ok {
		return s, nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

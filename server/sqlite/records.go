package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

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
	in   string // get by a list of ids: ends in "IN (", the caller adds the rest

	mu      sync.Mutex
	upserts map[uint64]string // by the set of field columns written
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
		in:      "SELECT " + cols + " FROM " + e.Name + " WHERE id IN (",
		upserts: map[uint64]string{},
	}
}

// upsert returns the INSERT … ON CONFLICT statement writing one row of the
// meta columns and the field columns in mask. A record only ever gains
// fields (a cleared field is kept as null with its HLC), so the columns it
// does not have are NULL in the table already and need not be written;
// binding only the columns a record has makes sparse records cheaper. One
// row per statement, prepared once on the writer, is faster than many-row
// statements here: SQLite runs a multi-row VALUES upsert through a
// co-routine that costs more per row than it saves in calls (measured:
// flushing 500 records took 7.2–9.5 ms in statements of 64 rows, 4.9–6.8 ms
// row by row).
func (s *entitySQL) upsert(mask uint64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.upserts[mask]; ok {
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
	q := "INSERT INTO " + s.e.Name + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) +
		") ON CONFLICT (id) DO UPDATE SET " + strings.Join(sets, ", ")
	s.upserts[mask] = q
	return q
}

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
// It closes rows.
func (s *entitySQL) scanRows(rows *sql.Rows) ([]*server.StoredRecord, error) {
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

// encodeHLCs writes the fields' HLCs grouped by HLC, as a JSON object from
// each HLC to the sorted names of the fields it last wrote:
// {"001795875991660-00001-<device>":["checkpoint","county",…],…}. Most
// fields of a record share few HLCs (one mutation writes several), so this
// is several times smaller than a map per field, and each HLC is parsed
// once on reading. Field names ([a-z0-9_.]) and HLC strings (digits, '-',
// a node id without quotes or controls) need no escaping, so it is built
// directly: this runs for every record written.
func encodeHLCs(fields map[string]syncproto.FieldState) []byte {
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

// decodeHLCs reads what encodeHLCs wrote into a field → HLC map. It scans
// the exact form encodeHLCs writes (it runs for every record read) and
// hands anything else to encoding/json.
func decodeHLCs(s string) (map[string]syncproto.HLC, error) {
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
// escapes, as encodeHLCs writes it; ok is false for anything else.
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
		if b {
			return int64(1), err
		}
		return int64(0), err
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

// writeTx implements server.WriteTx on the writer connection, preparing
// each statement once per transaction.
type writeTx struct {
	db  *DB
	tx  *sql.Tx
	seq int64
	// high is the greatest HLC of the records this transaction wrote, to
	// raise the stored high-water mark (see DB.HighHLC) at commit.
	high  syncproto.HLC
	stmts map[string]*sql.Stmt
	// cache holds the records this transaction has read or written: as the
	// only writer, it is their current state until commit. It spares a
	// batch from re-reading the same county or parent for every mutation.
	cache map[recordKey]*server.StoredRecord
	// pending are the records Put queued for flush, once each.
	pending []*server.StoredRecord
	queued  map[recordKey]bool
}

type recordKey struct{ entity, id string }

func (t *writeTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s := t.stmts[q]; s != nil {
		return s, nil
	}
	var s *sql.Stmt
	if shared := t.db.prepared[q]; shared != nil {
		s = t.tx.StmtContext(ctx, shared)
	} else {
		var err error
		if s, err = t.tx.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		t.db.wanted = append(t.db.wanted, q)
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = s
	return s, nil
}

func (t *writeTx) closeStmts() {
	for _, s := range t.stmts {
		s.Close()
	}
}

func (t *writeTx) Get(ctx context.Context, e *server.Entity, id string) (*server.StoredRecord, error) {
	if r, ok := t.cache[recordKey{e.Name, id}]; ok {
		return r, nil // nil: known absent (Prefetch)
	}
	es := t.db.stmts[e.Name]
	st, err := t.stmt(ctx, es.get)
	if err != nil {
		return nil, err
	}
	r, err := es.scanRecord(st.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", e.Name, id, err)
	}
	t.remember(r)
	return r, nil
}

// Prefetch reads the records of a batch in a few queries and caches them,
// absent ones included, so that the batch's Gets cost no query each.
func (t *writeTx) Prefetch(ctx context.Context, e *server.Entity, ids []string) error {
	es := t.db.stmts[e.Name]
	if t.cache == nil {
		t.cache = map[recordKey]*server.StoredRecord{}
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		// The list is padded (repeating its last id) to one of a few
		// lengths, so that a few prepared statements serve every batch.
		size := chunk
		for _, n := range []int{1, 4, 16, 64, 256} {
			if len(part) <= n {
				size = n
				break
			}
		}
		args := make([]any, size)
		for i := range args {
			id := part[min(i, len(part)-1)]
			args[i] = id
			if _, ok := t.cache[recordKey{e.Name, id}]; !ok {
				t.cache[recordKey{e.Name, id}] = nil
			}
		}
		st, err := t.stmt(ctx, es.in+placeholders(size)+")")
		if err != nil {
			return fmt.Errorf("prefetch %s: %w", e.Name, err)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("prefetch %s: %w", e.Name, err)
		}
		found, err := es.scanRows(rows)
		if err != nil {
			return fmt.Errorf("prefetch %s: %w", e.Name, err)
		}
		for _, r := range found {
			if t.cache[recordKey{e.Name, r.ID}] == nil { // never replace a newer, unflushed state
				t.remember(r)
			}
		}
	}
	return nil
}

func (t *writeTx) remember(r *server.StoredRecord) {
	if t.cache == nil {
		t.cache = map[recordKey]*server.StoredRecord{}
	}
	t.cache[recordKey{r.Entity.Name, r.ID}] = r
}

// Put gives the record the next sequence number and queues it; queued
// records are written by flush before the transaction commits, many rows
// per statement. Until then Get answers from the cache.
func (t *writeTx) Put(ctx context.Context, r *server.StoredRecord) error {
	t.seq++
	r.Seq = t.seq
	k := recordKey{r.Entity.Name, r.ID}
	if !t.queued[k] {
		if t.queued == nil {
			t.queued = map[recordKey]bool{}
		}
		t.queued[k] = true
		t.pending = append(t.pending, r)
	}
	t.remember(r)
	return nil
}

// flush writes the queued records, entity by entity in catalog order (so
// a record's references are written before it).
func (t *writeTx) flush(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	// Encoding the rows is independent per record: spread it over the cores.
	type encoded struct {
		args []any
		mask uint64
		err  error
	}
	rows := make([]encoded, len(t.pending))
	highs := make([]syncproto.HLC, len(t.pending))
	par.Do(len(rows), func(i int) {
		r := t.pending[i]
		rows[i].args, rows[i].mask, rows[i].err = t.db.stmts[r.Entity.Name].rowArgs(r)
		highs[i] = r.State.Highest()
	})
	for _, h := range highs {
		if h.Compare(t.high) > 0 {
			t.high = h
		}
	}
	for _, e := range server.Entities {
		es := t.db.stmts[e.Name]
		for i, r := range t.pending {
			if r.Entity != e {
				continue
			}
			if rows[i].err != nil {
				return rows[i].err
			}
			st, err := t.stmt(ctx, es.upsert(rows[i].mask))
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, rows[i].args...); err != nil {
				return fmt.Errorf("write %s %s: %w", e.Name, r.ID, err)
			}
		}
	}
	t.pending, t.queued = nil, nil
	return nil
}

// Find returns the records whose field equals value, as this transaction
// sees them (queued writes included).
func (t *writeTx) Find(ctx context.Context, e *server.Entity, field, value string) ([]*server.StoredRecord, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, t.db.findSQL(e, field), value)
	if err != nil {
		return nil, err
	}
	out, err := t.db.scanAll(e, rows)
	for i, r := range out { // prefer the cached (current) state
		if c := t.cache[recordKey{e.Name, r.ID}]; c != nil {
			out[i] = c
		} else {
			t.remember(r)
		}
	}
	return out, err
}

// Find returns the records whose field equals value (read snapshot).
func (db *DB) Find(ctx context.Context, entity, field, value string) ([]*server.StoredRecord, error) {
	e := server.EntityByName(entity)
	if e == nil {
		return nil, fmt.Errorf("unknown entity %q", entity)
	}
	rows, err := db.read.QueryContext(ctx, db.findSQL(e, field), value)
	if err != nil {
		return nil, err
	}
	return db.scanAll(e, rows)
}

func (db *DB) findSQL(e *server.Entity, field string) string {
	if f, _ := e.Field(field); f == nil && field != "county" {
		panic("find by unknown field " + e.Name + "." + field)
	}
	return "SELECT " + db.stmts[e.Name].cols + " FROM " + e.Name + " WHERE " + field + " = ? ORDER BY seq"
}

func (db *DB) scanAll(e *server.Entity, rows *sql.Rows) ([]*server.StoredRecord, error) {
	return db.stmts[e.Name].scanRows(rows)
}

func (t *writeTx) AddConflicts(ctx context.Context, cs []server.Conflict) error {
	st, err := t.stmt(ctx, `INSERT INTO conflicts (entity, record_id, county, field, value, hlc, winner_hlc, reason, device_id, user_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if _, err := st.ExecContext(ctx, c.Entity, c.RecordID, c.County, c.Field, string(c.Value), c.HLC, c.WinnerHLC,
			c.Reason, c.DeviceID, c.UserID, c.At.UnixMilli()); err != nil {
			return fmt.Errorf("add conflict: %w", err)
		}
	}
	return nil
}

func (t *writeTx) GetBatch(ctx context.Context, deviceID, batchID string) (*server.Batch, error) {
	b := &server.Batch{DeviceID: deviceID, BatchID: batchID}
	err := t.tx.QueryRowContext(ctx, `SELECT request_hash, response FROM push_batches WHERE device_id = ? AND batch_id = ?`,
		deviceID, batchID).Scan(&b.RequestHash, &b.Response)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

func (t *writeTx) PutBatch(ctx context.Context, b *server.Batch) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO push_batches (device_id, batch_id, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)`,
		b.DeviceID, b.BatchID, b.RequestHash, string(b.Response), time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store batch: %w", err)
	}
	return nil
}

func (t *writeTx) MarkPushed(ctx context.Context, deviceID, batchID string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE devices SET last_push_at = ?, last_seen_at = ?, last_batch_id = ? WHERE id = ?`,
		at.UnixMilli(), at.UnixMilli(), batchID, deviceID)
	return err
}

// Changes returns the records in scope with seq > after, in seq order, at
// most limit, reading every table in one snapshot. It first finds the
// page's last seq from the covering (seq, county) indexes, then reads only
// the rows of the page. Both queries name the feed index: walking it in seq
// order stops after one page, where an index on county would make SQLite
// sort every later row of the slice for each page.
func (db *DB) Changes(ctx context.Context, scope server.Scope, after int64, limit int) ([]*server.StoredRecord, bool, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	where, args := scopeWhere(scope)
	var seqs []int64
	for _, e := range server.Entities {
		rows, err := tx.QueryContext(ctx, "SELECT seq FROM "+e.Name+" INDEXED BY "+e.Name+"_feed WHERE seq > ?"+where+" ORDER BY seq LIMIT ?",
			append(append([]any{after}, args...), limit+1)...)
		if err != nil {
			return nil, false, fmt.Errorf("scan feed of %s: %w", e.Name, err)
		}
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, false, err
			}
			seqs = append(seqs, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
	}
	if len(seqs) == 0 {
		return nil, false, nil
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	more := len(seqs) > limit
	if more {
		seqs = seqs[:limit]
	}
	upTo := seqs[len(seqs)-1]
	out := make([]*server.StoredRecord, 0, len(seqs))
	for _, e := range server.Entities {
		es := db.stmts[e.Name]
		rows, err := tx.QueryContext(ctx, "SELECT "+es.cols+" FROM "+e.Name+" INDEXED BY "+e.Name+"_feed WHERE seq > ? AND seq <= ?"+where+" ORDER BY seq",
			append([]any{after, upTo}, args...)...)
		if err != nil {
			return nil, false, fmt.Errorf("read feed of %s: %w", e.Name, err)
		}
		recs, err := es.scanRows(rows)
		if err != nil {
			return nil, false, fmt.Errorf("read feed of %s: %w", e.Name, err)
		}
		out = append(out, recs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, more, nil
}

func scopeWhere(s server.Scope) (string, []any) {
	if s.All {
		return "", nil
	}
	args := make([]any, 0, len(s.Counties)+1)
	args = append(args, "")
	for _, c := range s.Counties {
		args = append(args, c)
	}
	return " AND county IN (" + placeholders(len(args)) + ")", args
}

// MarkPulled records a device's pull for sync health.
func (db *DB) MarkPulled(ctx context.Context, deviceID string, ackSeq int64, at time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE devices SET last_pull_at = ?, last_seen_at = ?, last_ack_seq = max(last_ack_seq, ?) WHERE id = ?`,
			at.UnixMilli(), at.UnixMilli(), ackSeq, deviceID)
		return err
	})
}

// Get reads one record outside any write (nil if absent).
func (db *DB) Get(ctx context.Context, entity, id string) (*server.StoredRecord, error) {
	e := server.EntityByName(entity)
	if e == nil {
		return nil, fmt.Errorf("unknown entity %q", entity)
	}
	es := db.stmts[e.Name]
	r, err := es.scanRecord(db.read.QueryRowContext(ctx, es.get, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

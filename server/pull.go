package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Pull page sizes.
const (
	DefaultPullLimit = 500
	MaxPullLimit     = 5000
)

// Cursor is a position in the change feed as seen by one scope of one
// database. Clients treat its encoding as opaque.
type Cursor struct {
	Seq   int64  `json:"s"`
	Scope string `json:"f"`
	Epoch string `json:"e"`
}

// Encode returns the opaque wire form.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses an opaque cursor; "" is the start of the feed. Only
// the exact encoding Encode gives is accepted.
// Errors: bad_request.
func DecodeCursor(s string) (Cursor, error) {
	var c Cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 512 {
		return c, Errorf(syncproto.CodeBadRequest, "cursor 无效").At("cursor")
	}
	// A cursor is one the server made: its exact encoding, so trailing
	// bytes, other spellings of the keys or spaces are refused.
	if err := json.Unmarshal(b, &c); err != nil || c.Seq < 0 || c.Epoch == "" || c.Scope == "" || c.Encode() != s {
		return Cursor{}, Errorf(syncproto.CodeBadRequest, "cursor 无效").At("cursor")
	}
	return c, nil
}

// ScopeFingerprint identifies what a principal may see. A cursor made under
// another scope is refused, so a device whose counties changed resyncs
// instead of silently missing the newly visible records.
func ScopeFingerprint(p *Principal) string {
	if p.Role.AllCounties() {
		return "all"
	}
	sum := sha256.Sum256([]byte(strings.Join(p.Counties, ",")))
	return hex.EncodeToString(sum[:8])
}

// PullForm is the wire form a pull asks for (the hlcs and form
// parameters, sync.md §8).
type PullForm int

// Pull forms.
const (
	// FormFields: changes with an HLC per field.
	FormFields PullForm = iota
	// FormGrouped: changes with their HLCs as hlc_groups.
	FormGrouped
	// FormCompact: a syncproto.CompactPage.
	FormCompact
)

// CompactPage is a page of the change feed in the compact wire form
// (syncproto.CompactPage): records grouped by entity, each record the JSON
// of a syncproto.CompactRecord, with HLCs naming their node by its index
// in Nodes.
type CompactPage struct {
	// Entities are the page's entities in order of first appearance, each
	// with its records in feed order.
	Entities []CompactEntity
	Nodes    []string
	// Count is the number of records; LastSeq the feed position of the
	// last (0 when the page is empty); More whether more follow.
	Count   int
	LastSeq int64
	More    bool
}

// CompactEntity is one entity's records in a CompactPage.
type CompactEntity struct {
	Name    string
	Records []json.RawMessage
}

// PullPage is the answer to a pull with its changes already in wire form
// (each a syncproto.Change as JSON, or the whole page compact, written by
// the store straight from its rows).
type PullPage struct {
	Changes   []json.RawMessage
	Compact   *CompactPage // set instead of Changes for FormCompact
	Cursor    string
	HasMore   bool
	ServerHLC string
	// Encoded, when set, is what Syncer.EncodePage made of the page's
	// JSON up to its server_hlc (AppendHead) in the content encoding
	// Encoding: a page read ahead is encoded in the background, as
	// PullQuery.Encoding asked, and finished with AppendTail, whose
	// server_hlc is the answer's.
	Encoded  any
	Encoding string

	lastSeq int64       // the feed position the cursor holds
	mem     *PageMemory // what the store wrote the changes in (Release)
	// released is the number of records of a page given back by
	// Release, plus one (0: not released).
	released int
}

// Len is the number of records in the page.
func (pg *PullPage) Len() int {
	switch {
	case pg.released > 0:
		return pg.released - 1
	case pg.Compact != nil:
		return pg.Compact.Count
	}
	return len(pg.Changes)
}

// Release gives back the memory the page's changes are written in
// (PageMemory), once they have been sent or encoded (Encoded). After it
// the page has no changes to write: AppendHead and AppendJSON panic, while
// Len, Encoded and AppendTail still serve. Releasing twice does nothing.
func (pg *PullPage) Release() {
	if pg.released > 0 {
		return
	}
	pg.released = pg.Len() + 1
	pg.Changes, pg.Compact = nil, nil
	pg.mem.Release()
	pg.mem = nil
}

// AppendJSON appends the page as the JSON of a syncproto.PullResponse, or
// of a syncproto.CompactPage: AppendHead, then AppendTail.
func (pg *PullPage) AppendJSON(b []byte) []byte {
	return pg.AppendTail(pg.AppendHead(b))
}

// AppendHead appends the page's JSON up to its server_hlc, which comes
// last: everything but the server's clock at the answer.
func (pg *PullPage) AppendHead(b []byte) []byte {
	if pg.released > 0 {
		panic("server: pull page written after Release")
	}
	if cp := pg.Compact; cp != nil {
		b = append(b, `{"records":{`...)
		for i, e := range cp.Entities {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, e.Name) // entity names are plain ASCII
			b = append(b, ':', '[')
			for j, r := range e.Records {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, r...)
			}
			b = append(b, ']')
		}
		b = append(b, `},"nodes":`...)
		nodes, _ := json.Marshal(cp.Nodes)
		if cp.Nodes == nil {
			nodes = []byte("[]")
		}
		b = append(b, nodes...)
		b = append(b, `,"server_fields":`...)
		b = append(b, serverFieldsJSON...)
	} else {
		b = append(b, `{"changes":[`...)
		for i, ch := range pg.Changes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, ch...)
		}
		b = append(b, ']')
	}
	b = append(b, `,"cursor":`...)
	b = strconv.AppendQuote(b, pg.Cursor) // base64url: nothing to escape
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, pg.HasMore)
	return append(b, `,"server_hlc":`...)
}

// AppendTail appends what follows AppendHead: the server_hlc and the end
// of the object.
func (pg *PullPage) AppendTail(b []byte) []byte {
	b = strconv.AppendQuote(b, pg.ServerHLC)
	return append(b, '}')
}

// serverFieldsJSON lists the names of MetaFields as JSON: the fields a
// compact record carries without an HLC.
var serverFieldsJSON = func() []byte {
	names := make([]string, len(MetaFields))
	for i, f := range MetaFields {
		names[i] = f.Name
	}
	b, _ := json.Marshal(names)
	return b
}()

// Size is about how many bytes AppendJSON writes.
func (pg *PullPage) Size() int {
	n := 128 + len(pg.Cursor)
	for _, ch := range pg.Changes {
		n += len(ch) + 1
	}
	if cp := pg.Compact; cp != nil {
		for _, e := range cp.Entities {
			n += len(e.Name) + 4
			for _, r := range e.Records {
				n += len(r) + 1
			}
		}
		for _, node := range cp.Nodes {
			n += len(node) + 3
		}
	}
	return n
}

// PullQuery is what a pull asks for.
type PullQuery struct {
	// Cursor is where the page starts ("" the start of the feed); Limit
	// the most records it holds (0 is DefaultPullLimit); Form its wire
	// form.
	Cursor string
	Limit  int
	Form   PullForm
	// Encoding is the content encoding the caller sends the page in
	// ("gzip", or "" for none). The page read ahead for the caller's next
	// request is encoded ahead in it (Syncer.EncodePage), on the
	// assumption that the next request asks the same.
	Encoding string
}

// PullPage returns the changes visible to p after q.Cursor, at most
// q.Limit of them, in q.Form. Errors: bad_request (malformed cursor or
// limit), resync_required (the cursor is from another database or another
// scope).
func (s *Syncer) PullPage(ctx context.Context, p *Principal, q PullQuery) (*PullPage, error) {
	cursor, limit, form := q.Cursor, q.Limit, q.Form
	c, err := DecodeCursor(cursor)
	if err != nil {
		return nil, err
	}
	scope := ScopeFingerprint(p)
	if cursor != "" && (c.Epoch != s.Store.Epoch() || c.Scope != scope) {
		return nil, Errorf(syncproto.CodeResyncRequired, "数据范围或服务器数据库已变化，请从头同步")
	}
	switch {
	case limit == 0:
		limit = DefaultPullLimit
	case limit < 0 || limit > MaxPullLimit:
		return nil, Errorf(syncproto.CodeBadRequest, "limit 应在 0 到 %d 之间（0 或不填为默认的 %d）", MaxPullLimit, DefaultPullLimit)
	}
	scopeOf := p.Scope()
	read := func(ctx context.Context, after int64) (*pageRows, error) {
		return s.readPage(ctx, scopeOf, after, limit, form)
	}
	key := pageKey{device: p.DeviceID, user: p.UserID, scope: scope, epoch: s.Store.Epoch(), after: c.Seq, limit: limit, form: form, encoding: q.Encoding}
	var pg *PullPage
	if pa := s.ahead.take(key); pa != nil {
		select {
		case <-pa.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// Only a page with more after it is taken: the answer that ends a
		// sequence (has_more false) is read when asked, so that it holds
		// every write committed before the request.
		if pa.page != nil && pa.page.HasMore {
			pg = pa.page
		}
	}
	if pg == nil {
		rows, err := read(ctx, c.Seq)
		if err != nil {
			return nil, err
		}
		if rows.last == c.Seq && c.Seq > 0 {
			if err := s.checkCursorHead(ctx, c.Seq); err != nil {
				return nil, err
			}
		}
		pg = s.newPage(rows, scope)
	}
	if pg.HasMore && p.DeviceID != "" {
		next := key
		next.after = pg.lastSeq
		s.ahead.start(next, func(ctx context.Context) (*PullPage, error) {
			rows, err := read(ctx, next.after)
			if err != nil {
				return nil, err
			}
			pg := s.newPage(rows, scope)
			if next.encoding != "" && s.EncodePage != nil {
				if pg.Encoded = s.EncodePage(pg, next.encoding); pg.Encoded != nil {
					// The request it answers asks for the same encoding
					// (pageKey): the changes are in Encoded now.
					pg.Encoding = next.encoding
					pg.Release()
				}
			}
			return pg, nil
		})
	}
	// The server's clock is read for the answer, read ahead or not, so
	// that it is never behind an answer the device had before.
	pg.ServerHLC = s.ServerHLC()
	if p.DeviceID != "" && s.pullMarkDue(p.DeviceID, pg.HasMore) {
		// A pull only reads: with the storage full the page is still
		// answered (the office's reviews reach the phones), its sync
		// health left unrecorded.
		if err := s.Store.MarkPulled(ctx, p.DeviceID, c.Seq, s.Now()); err != nil && !StorageFull(err) {
			return nil, err
		}
	}
	return pg, nil
}

// checkCursorHead refuses a cursor past the end of the feed: it was made
// by a later state of this database (restored since from a backup or a
// copy that kept its epoch), and the changes numbered again from the
// restored end would pass it by. Checked only when a page comes back
// empty, where such a cursor lands; a legitimate cursor never passes the
// head, which only grows.
func (s *Syncer) checkCursorHead(ctx context.Context, seq int64) error {
	head, err := s.Store.FeedHead(ctx)
	if err != nil {
		return err
	}
	if seq > head {
		return Errorf(syncproto.CodeResyncRequired, "服务器数据库已恢复到较早的状态，请从头同步")
	}
	return nil
}

// newPage makes the answer to a pull of scope from rows, all but its
// ServerHLC.
func (s *Syncer) newPage(rows *pageRows, scope string) *PullPage {
	return &PullPage{Changes: rows.changes, Compact: rows.compact, HasMore: rows.more,
		Cursor: Cursor{Seq: rows.last, Scope: scope, Epoch: s.Store.Epoch()}.Encode(), lastSeq: rows.last, mem: rows.mem}
}

// readPage reads a pull page from the store: the records in scope after
// seq after, at most limit, in form.
func (s *Syncer) readPage(ctx context.Context, scope Scope, after int64, limit int, form PullForm) (*pageRows, error) {
	rows := &pageRows{last: after, mem: new(PageMemory)}
	var err error
	if form == FormCompact {
		if rows.compact, err = s.Store.CompactChanges(ctx, scope, after, limit, rows.mem); err != nil {
			return nil, err
		}
		rows.more = rows.compact.More
		if rows.compact.Count > 0 {
			rows.last = rows.compact.LastSeq
		}
		return rows, nil
	}
	if rows.changes, rows.more, err = s.Store.WireChanges(ctx, scope, after, limit, form == FormGrouped, rows.mem); err != nil {
		return nil, err
	}
	if n := len(rows.changes); n > 0 {
		if rows.last, err = wireSeq(rows.changes[n-1]); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// pullMarkEvery is how often the pages in the middle of a pull sequence
// store the device's pull mark.
const pullMarkEvery = 2 * time.Second

// pullMarkDue reports whether a pull page should store the device's pull
// mark (MarkPulled, a write transaction). The last page of a sequence
// (more false) always does, so sync health is exact once a device has
// caught up; the pages before it do every pullMarkEvery, so a first sync
// of two hundred pages writes a handful of times instead of two hundred,
// and its pages do not queue behind pushes' commits.
func (s *Syncer) pullMarkDue(deviceID string, more bool) bool {
	now := s.Now()
	if more {
		if last, ok := s.pullMarks.Load(deviceID); ok && now.Sub(last.(time.Time)) < pullMarkEvery && now.Sub(last.(time.Time)) >= 0 {
			return false
		}
	}
	s.pullMarks.Store(deviceID, now)
	return true
}

// wireSeq reads the seq a wire change starts with ({"seq":N,…}).
func wireSeq(ch json.RawMessage) (int64, error) {
	const prefix = `{"seq":`
	rest, ok := bytes.CutPrefix(ch, []byte(prefix))
	end := bytes.IndexByte(rest, ',')
	if !ok || end < 0 {
		return 0, fmt.Errorf("wire change without a leading seq: %.40s", ch)
	}
	return strconv.ParseInt(string(rest[:end]), 10, 64)
}

// Pull is PullPage decoded, for callers in the server's own process.
func (s *Syncer) Pull(ctx context.Context, p *Principal, cursor string, limit int, form PullForm) (*syncproto.PullResponse, error) {
	pg, err := s.PullPage(ctx, p, PullQuery{Cursor: cursor, Limit: limit, Form: form})
	if err != nil {
		return nil, err
	}
	body := pg.AppendJSON(make([]byte, 0, pg.Size()))
	pg.Release()
	if form == FormCompact {
		var cp syncproto.CompactPage
		if err := json.Unmarshal(body, &cp); err != nil {
			return nil, fmt.Errorf("decode own pull page: %w", err)
		}
		return cp.Response()
	}
	var resp syncproto.PullResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("decode own pull page: %w", err)
	}
	return &resp, nil
}

// ToChange converts a stored record to its wire form. A deleted record is
// sent as a tombstone without fields.
func ToChange(r *StoredRecord) syncproto.Change {
	ch := changeFields(r)
	if !ch.Deleted {
		ch.HLCs = make(map[string]string, len(r.State.Fields))
		for name, st := range r.State.Fields {
			ch.HLCs[name] = st.HLC.String()
		}
	}
	return ch
}

// changeFields is the wire form of a record without its HLCs.
func changeFields(r *StoredRecord) syncproto.Change {
	ch := syncproto.Change{Seq: r.Seq, Entity: r.Entity.Name, ID: r.ID, County: r.County}
	if r.State.IsDeleted() {
		ch.Deleted, ch.DeletedHLC = true, r.State.Deleted.String()
		ch.Fields, ch.HLCs = map[string]json.RawMessage{}, map[string]string{}
		return ch
	}
	ch.Fields = make(map[string]json.RawMessage, len(r.State.Fields)+2)
	for name, st := range r.State.Fields {
		ch.Fields[name] = st.Value
	}
	ch.Fields["created_by"] = mustJSON(r.CreatedBy)
	ch.Fields["received_at"] = mustJSON(r.CreatedAt.In(ChinaTime).Format(time.RFC3339Nano))
	return ch
}

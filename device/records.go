package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Record is the local copy of a record: every field's value and the HLC of
// its last write, the shape of a pulled syncproto.Change.
type Record struct {
	Entity, ID, County string
	Fields             map[string]json.RawMessage
	HLCs               map[string]string
	Deleted            bool
	DeletedHLC         string
}

// Str returns a string field ("" if absent or not a string).
func (r *Record) Str(field string) string {
	var s string
	_ = json.Unmarshal(r.Fields[field], &s)
	return s
}

// Retired reports whether r is a site its office has retired (active
// false).
func (r *Record) Retired() bool {
	return string(r.Fields["active"]) == "false"
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// errNotFound is what getRecord's error for a record not stored locally
// is (errors.Is).
var errNotFound = errors.New("not found")

// notFoundError is getRecord's error for a record not stored locally: in
// the inspector's words, an inspection id mistyped, or not pulled yet.
type notFoundError struct{ entity, id string }

func (e *notFoundError) Error() string {
	label := e.entity
	if en := server.EntityByName(e.entity); en != nil {
		label = en.Label
	}
	return fmt.Sprintf("本机没有%s %s（请核对 id，或先同步）", label, e.id)
}

func (e *notFoundError) Is(target error) bool { return target == errNotFound }

func getRecord(ctx context.Context, q queryer, entity, id string) (*Record, error) {
	r := &Record{Entity: entity, ID: id}
	var fields, hlcs string
	err := q.QueryRowContext(ctx, `SELECT county, fields, hlcs, deleted, deleted_hlc FROM records WHERE entity = ? AND id = ?`,
		entity, id).Scan(&r.County, &fields, &hlcs, &r.Deleted, &r.DeletedHLC)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &notFoundError{entity, id}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", entity, id, err)
	}
	if err := json.Unmarshal([]byte(fields), &r.Fields); err != nil {
		return nil, err
	}
	return r, json.Unmarshal([]byte(hlcs), &r.HLCs)
}

// Record returns the local copy of a record.
func (d *Device) Record(ctx context.Context, entity, id string) (*Record, error) {
	return getRecord(ctx, d.db, entity, id)
}

func putRecord(ctx context.Context, x execer, r *Record) error {
	fields, err := json.Marshal(r.Fields)
	if err != nil {
		return err
	}
	hlcs, err := json.Marshal(r.HLCs)
	if err != nil {
		return err
	}
	_, err = x.ExecContext(ctx, `INSERT INTO records(entity, id, county, fields, hlcs, deleted, deleted_hlc)
		VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(entity, id) DO UPDATE SET county = excluded.county,
		fields = excluded.fields, hlcs = excluded.hlcs, deleted = excluded.deleted, deleted_hlc = excluded.deleted_hlc`,
		r.Entity, r.ID, r.County, string(fields), string(hlcs), r.Deleted, r.DeletedHLC)
	if err != nil {
		return fmt.Errorf("store %s %s: %w", r.Entity, r.ID, err)
	}
	return nil
}

// mergeChange merges a pulled change into the local copy, field by field
// (sync.md 8.2): a pulled value wins when its HLC is greater than or equal
// to the local one, so unsent local edits that are newer survive. The
// outbox is not touched.
//
// A value of this device's (own) that another's newer value replaces is
// kept in own_values: a server restored from a backup made before both
// holds neither, and the device sends its own again (afterResync) — an
// inspection's submission the office approved after the backup.
func mergeChange(ctx context.Context, tx *sql.Tx, ch *syncproto.Change, own func(hlc string) bool) error {
	local, err := getRecord(ctx, tx, ch.Entity, ch.ID)
	if errors.Is(err, errNotFound) {
		local = &Record{Entity: ch.Entity, ID: ch.ID, Fields: map[string]json.RawMessage{}, HLCs: map[string]string{}}
	} else if err != nil {
		return err
	}
	if local.Fields == nil {
		local.Fields = map[string]json.RawMessage{}
	}
	if local.HLCs == nil {
		local.HLCs = map[string]string{}
	}
	local.County = ch.County
	if ch.Deleted {
		local.Deleted = true
		local.DeletedHLC = max(local.DeletedHLC, ch.DeletedHLC)
		return putRecord(ctx, tx, local)
	}
	for name, v := range ch.Fields {
		h := ch.HLCs[name]
		if _, ok := local.Fields[name]; !ok || h >= local.HLCs[name] {
			if was := local.HLCs[name]; h > was && own(was) {
				if _, err := tx.ExecContext(ctx, `INSERT INTO own_values(entity, id, field, value, hlc) VALUES(?, ?, ?, ?, ?)
					ON CONFLICT(entity, id, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc WHERE excluded.hlc > own_values.hlc`,
					ch.Entity, ch.ID, name, string(local.Fields[name]), was); err != nil {
					return err
				}
			}
			local.Fields[name] = v
			local.HLCs[name] = h
		}
	}
	return putRecord(ctx, tx, local)
}

// change records one user action: the new field values are written to the
// local record and appended to the outbox as one mutation, stamped with
// the clock's now, in tx (the caller's transaction). create makes the
// record if it does not exist.
func (d *Device) change(ctx context.Context, tx *sql.Tx, entity, id, county string, fields map[string]any) error {
	r, err := getRecord(ctx, tx, entity, id)
	if errors.Is(err, errNotFound) {
		r = &Record{Entity: entity, ID: id, County: county, Fields: map[string]json.RawMessage{}, HLCs: map[string]string{}}
	} else if err != nil {
		return err
	}
	h := d.clock.Now().String()
	m := syncproto.Mutation{Entity: entity, ID: id, HLC: h, Fields: map[string]json.RawMessage{}}
	for name, v := range fields {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("字段 %s 的值无法保存：%w", name, err)
		}
		// Refused now what the push would refuse: the record would
		// otherwise wait in the outbox to be rejected, with no way to
		// correct it from here.
		if raw, err = server.CheckDeviceField(entity, name, raw); err != nil {
			return err
		}
		m.Fields[name] = raw
		r.Fields[name] = raw
		r.HLCs[name] = h
	}
	if err := putRecord(ctx, tx, r); err != nil {
		return err
	}
	return d.queue(ctx, tx, m)
}

// queue appends m to the outbox, and keeps the clock that stamped it, in
// tx.
func (d *Device) queue(ctx context.Context, tx *sql.Tx, m syncproto.Mutation) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox(mutation) VALUES(?)`, string(raw)); err != nil {
		return fmt.Errorf("append to outbox: %w", err)
	}
	return d.saveClock(tx)
}

// remove deletes a local record as one user action: its tombstone is
// written and a delete appended to the outbox, stamped with the clock's
// now, in tx.
func (d *Device) remove(ctx context.Context, tx *sql.Tx, r *Record) error {
	h := d.clock.Now().String()
	r.Deleted, r.DeletedHLC = true, max(r.DeletedHLC, h)
	if err := putRecord(ctx, tx, r); err != nil {
		return err
	}
	return d.queue(ctx, tx, syncproto.Mutation{Entity: r.Entity, ID: r.ID, HLC: h, Delete: true})
}

// records lists the live local records of an entity.
func (d *Device) records(ctx context.Context, entity string) ([]*Record, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id FROM records WHERE entity = ? AND deleted = 0 ORDER BY id`, entity)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*Record, 0, len(ids))
	for _, id := range ids {
		r, err := getRecord(ctx, d.db, entity, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Reapply makes the refused changes of the records ids (all refused
// changes when ids is empty) again as new changes of this device — a new
// HLC each, at the end of the outbox, in the order they were first made —
// and takes them off the refused list (sync.md 6: a refused change is
// never sent again by itself). It is for a refusal whose cause went away:
// an inspection the office returned (record_locked), a county given back
// to the user (out_of_scope). A photo's record made again has its bytes
// sent again while the device still has them (the server keeps bytes no
// record claims only for a while). A value changed on the device after
// the refusal stays as it is now (the refused one is not sent over it).
// It returns how many changes it queued; an id with no refused change is
// an error, and nothing is queued.
func (d *Device) Reapply(ctx context.Context, ids []string) (int, error) {
	n := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		type refused struct {
			seq int64
			m   syncproto.Mutation
		}
		var todo []refused
		rows, err := tx.QueryContext(ctx, `SELECT seq, mutation FROM rejected ORDER BY seq`)
		if err != nil {
			return err
		}
		found := map[string]bool{}
		for rows.Next() {
			var r refused
			var raw string
			if err := rows.Scan(&r.seq, &raw); err != nil {
				rows.Close()
				return err
			}
			if err := json.Unmarshal([]byte(raw), &r.m); err != nil {
				rows.Close()
				return fmt.Errorf("被拒绝的修改 %d 无法读取：%w", r.seq, err)
			}
			if len(ids) == 0 || slices.Contains(ids, r.m.ID) {
				todo = append(todo, r)
				found[r.m.ID] = true
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, id := range ids {
			if !found[id] {
				return fmt.Errorf("没有被拒绝的记录 %s（fieldctl status 列出被拒绝的记录）", id)
			}
		}
		// The fields this call made again: a later refused change of the
		// same field, made again after them, is not left out as changed
		// since.
		made := map[string]bool{}
		for _, r := range todo {
			h := d.clock.Now().String()
			m := syncproto.Mutation{Entity: r.m.Entity, ID: r.m.ID, HLC: h, Delete: r.m.Delete}
			// The record on the device shows the refused values (the
			// device keeps them): they are now the new change's. A
			// value changed on the device since (a later answer) is
			// not taken back to the refused one: left out, or, a field
			// the record cannot be made without, sent as it is now.
			local, err := getRecord(ctx, tx, m.Entity, m.ID)
			switch {
			case errors.Is(err, errNotFound):
				m.Fields = r.m.Fields
			case err != nil:
				return err
			default:
				if len(r.m.Fields) > 0 {
					m.Fields = map[string]json.RawMessage{}
				}
				for name, v := range r.m.Fields {
					key := m.Entity + "/" + m.ID + "/" + name
					switch later := local.HLCs[name] > r.m.HLC && !made[key]; {
					case !later:
						m.Fields[name] = v
						local.HLCs[name] = h
						made[key] = true
					case required(m.Entity, name):
						m.Fields[name] = local.Fields[name]
					}
				}
				if m.Delete && local.DeletedHLC == r.m.HLC {
					local.DeletedHLC = h
				}
				if err := putRecord(ctx, tx, local); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM rejected WHERE seq = ?`, r.seq); err != nil {
				return err
			}
			if len(m.Fields) == 0 && !m.Delete {
				continue // every value changed since: nothing left of it to send
			}
			if err := d.queue(ctx, tx, m); err != nil {
				return err
			}
			if m.Entity == syncproto.EntityPhoto && !m.Delete {
				if err := uploadAgain(ctx, tx, m.ID); err != nil {
					return err
				}
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// required reports whether entity's field name is one its records cannot
// be made without.
func required(entity, name string) bool {
	if e := server.EntityByName(entity); e != nil {
		f, _ := e.Field(name)
		return f != nil && f.Required
	}
	return false
}

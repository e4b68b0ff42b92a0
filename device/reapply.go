package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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
// record claims only for a while). It returns how many changes it queued;
// an id with no refused change is an error, and nothing is queued.
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
		for _, r := range todo {
			h := d.clock.Now().String()
			m := syncproto.Mutation{Entity: r.m.Entity, ID: r.m.ID, HLC: h, Fields: r.m.Fields, Delete: r.m.Delete}
			// The record on the device shows the refused values (the
			// device keeps them): they are now the new change's.
			local, err := getRecord(ctx, tx, m.Entity, m.ID)
			switch {
			case errors.Is(err, errNotFound):
			case err != nil:
				return err
			default:
				for name := range m.Fields {
					if local.HLCs[name] == r.m.HLC {
						local.HLCs[name] = h
					}
				}
				if m.Delete && local.DeletedHLC == r.m.HLC {
					local.DeletedHLC = h
				}
				if err := putRecord(ctx, tx, local); err != nil {
					return err
				}
			}
			if err := d.queue(ctx, tx, m); err != nil {
				return err
			}
			if m.Entity == syncproto.EntityPhoto && !m.Delete {
				if err := uploadAgain(ctx, tx, m.ID); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM rejected WHERE seq = ?`, r.seq); err != nil {
				return err
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

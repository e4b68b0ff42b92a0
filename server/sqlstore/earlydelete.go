package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The deletes kept for records a store does not hold (table early_delete,
// server.EarlyDelete), the same SQL for both stores.

const earlyDeleteCols = "entity, id, hlc, user_id, username, user_name, role, counties, device_id, at"

// EarlyDeletes is what a write transaction keeps of the early_delete
// table: the rows it read or wrote, and the ids it knows have none (a
// prefetch), so that the creates of a batch cost one query, not one each.
// The zero value is empty.
type EarlyDeletes struct {
	cache map[recordKey]*server.EarlyDelete // nil: known to have none
}

// Get returns the delete kept for a record, or nil.
func (c *EarlyDeletes) Get(ctx context.Context, r Reader, e *server.Entity, id string) (*server.EarlyDelete, error) {
	if d, ok := c.cache[recordKey{e.Name, id}]; ok {
		return d, nil
	}
	if err := c.Prefetch(ctx, r, e, []string{id}); err != nil {
		return nil, err
	}
	return c.cache[recordKey{e.Name, id}], nil
}

// Prefetch reads the deletes kept for these ids, a few queries for any
// number, and caches them, the ids without one included.
func (c *EarlyDeletes) Prefetch(ctx context.Context, r Reader, e *server.Entity, ids []string) error {
	if c.cache == nil {
		c.cache = map[recordKey]*server.EarlyDelete{}
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		// Padded (repeating the last id) to a few lengths, so that a few
		// prepared statements serve every batch.
		size := chunk
		for _, n := range []int{1, 16, 64, 256} {
			if len(part) <= n {
				size = n
				break
			}
		}
		args := make([]any, 0, size+1)
		args = append(args, e.Name)
		for i := range size {
			id := part[min(i, len(part)-1)]
			args = append(args, id)
			if _, ok := c.cache[recordKey{e.Name, id}]; !ok {
				c.cache[recordKey{e.Name, id}] = nil
			}
		}
		rows, err := r.Query(ctx, `SELECT `+earlyDeleteCols+` FROM early_delete WHERE entity = ? AND id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", size), ",")+`)`, args...)
		if err != nil {
			return fmt.Errorf("read early deletes: %w", err)
		}
		for rows.Next() {
			d, err := scanEarlyDelete(rows)
			if err != nil {
				rows.Close()
				return err
			}
			c.cache[recordKey{d.Entity, d.ID}] = d
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("read early deletes: %w", err)
		}
	}
	return nil
}

func scanEarlyDelete(s Scanner) (*server.EarlyDelete, error) {
	var d server.EarlyDelete
	var hlc, role, counties string
	var at int64
	if err := s.Scan(&d.Entity, &d.ID, &hlc, &d.By.UserID, &d.By.Username, &d.By.Name, &role, &counties, &d.By.DeviceID, &at); err != nil {
		return nil, fmt.Errorf("read early delete: %w", err)
	}
	var err error
	if d.HLC, err = syncproto.ParseHLC(hlc); err != nil {
		return nil, fmt.Errorf("early delete %s %s: %w", d.Entity, d.ID, err)
	}
	if err := json.Unmarshal([]byte(counties), &d.By.Counties); err != nil {
		return nil, fmt.Errorf("early delete %s %s: counties: %w", d.Entity, d.ID, err)
	}
	d.By.Role = server.Role(role)
	d.At = time.UnixMilli(at)
	return &d, nil
}

// Put keeps d, replacing the delete kept for its record.
func (c *EarlyDeletes) Put(ctx context.Context, exec Exec, d *server.EarlyDelete) error {
	counties, err := json.Marshal(d.By.Counties)
	if err != nil {
		return err
	}
	if d.By.Counties == nil {
		counties = []byte("[]")
	}
	if err := exec(ctx, `INSERT INTO early_delete (`+earlyDeleteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (entity, id) DO UPDATE SET hlc = excluded.hlc, user_id = excluded.user_id, username = excluded.username,
		user_name = excluded.user_name, role = excluded.role, counties = excluded.counties, device_id = excluded.device_id, at = excluded.at`,
		d.Entity, d.ID, d.HLC.String(), d.By.UserID, d.By.Username, d.By.Name, string(d.By.Role), string(counties), d.By.DeviceID,
		d.At.UnixMilli()); err != nil {
		return fmt.Errorf("keep early delete: %w", err)
	}
	if c.cache == nil {
		c.cache = map[recordKey]*server.EarlyDelete{}
	}
	c.cache[recordKey{d.Entity, d.ID}] = d
	return nil
}

// Drop forgets the delete kept for a record.
func (c *EarlyDeletes) Drop(ctx context.Context, exec Exec, e *server.Entity, id string) error {
	if err := exec(ctx, `DELETE FROM early_delete WHERE entity = ? AND id = ?`, e.Name, id); err != nil {
		return fmt.Errorf("drop early delete: %w", err)
	}
	if c.cache == nil {
		c.cache = map[recordKey]*server.EarlyDelete{}
	}
	c.cache[recordKey{e.Name, id}] = nil
	return nil
}

package device

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// client returns a syncproto client for the stored server and tokens that
// persists every new token pair.
func (d *Device) client(server string) (*syncproto.Client, error) {
	if server == "" {
		var err error
		if server, err = d.get(keyServer); err != nil {
			return nil, err
		}
		if server == "" {
			return nil, errors.New("尚未登录：先 fieldctl login")
		}
	}
	c := syncproto.NewClient(server, d.id)
	c.HTTP = d.HTTP
	c.Clock = d.clock
	if d.Sleep != nil {
		c.Sleep = d.Sleep
	}
	access, _ := d.get(keyAccess)
	refresh, _ := d.get(keyRefresh)
	c.SetTokens(access, refresh)
	c.OnTokens = func(tr *syncproto.TokenResponse) {
		// Refresh tokens are single-use: persist the new pair before use.
		_ = d.inTx(context.Background(), func(tx *sql.Tx) error {
			if err := d.set(tx, keyAccess, tr.AccessToken); err != nil {
				return err
			}
			return d.set(tx, keyRefresh, tr.RefreshToken)
		})
	}
	return c, nil
}

// Login signs in to server and registers this device; the tokens, the
// server URL and the user's counties are stored.
func (d *Device) Login(ctx context.Context, server, username, password string) (*syncproto.User, error) {
	c, err := d.client(server)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	tr, err := c.Login(ctx, username, password, "fieldctl "+host)
	if err != nil {
		return nil, err
	}
	counties, _ := json.Marshal(tr.User.Counties)
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		for k, v := range map[string]string{keyServer: server, keyUser: username, keyCounties: string(counties)} {
			if err := d.set(tx, k, v); err != nil {
				return err
			}
		}
		return d.saveClock(tx)
	})
	return &tr.User, err
}

// Sync pushes the outbox, pulls until has_more is false, then works the
// upload queue (sync.md 5, 8, 10). Each step is stored as it completes, so
// a sync interrupted anywhere resumes where it stopped. An error with code
// device_revoked or user_disabled stops the sync and leaves every local
// record and the outbox untouched.
func (d *Device) Sync(ctx context.Context) error {
	c, err := d.client("")
	if err != nil {
		return err
	}
	err = d.sync(ctx, c)
	_ = d.set(d.db, keyLastSync, time.Now().In(china).Format(time.DateTime))
	_ = d.saveClock(d.db)
	if err != nil {
		switch code := syncproto.ErrorCodeOf(err); code {
		case syncproto.CodeDeviceRevoked, syncproto.CodeUserDisabled:
			return fmt.Errorf("%s: 本设备已被停用，请联系督查室（本机数据和待上传记录已保留）: %w", code, err)
		case syncproto.CodeTokenInvalid, syncproto.CodeTokenExpired:
			return fmt.Errorf("%s: 登录已失效，请重新 login（待上传记录已保留）: %w", code, err)
		}
		return err
	}
	return d.set(d.db, keyLastSyncOK, time.Now().In(china).Format(time.DateTime))
}

func (d *Device) sync(ctx context.Context, c *syncproto.Client) error {
	if err := d.push(ctx, c); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if err := d.pull(ctx, c); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	return d.upload(ctx, c)
}

func (d *Device) event(e Event) {
	if d.OnEvent != nil {
		d.OnEvent(e)
	}
}

type outboxRow struct {
	seq int64
	m   syncproto.Mutation
}

// pendingBatch returns the batch being sent, making one from the oldest
// unbatched mutations if none is (and persisting it before it is sent).
func (d *Device) pendingBatch(ctx context.Context) (string, []outboxRow, error) {
	var batch string
	var rows []outboxRow
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var b sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT batch_id FROM outbox WHERE batch_id IS NOT NULL ORDER BY seq LIMIT 1`).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			b.String = uuid.Must(uuid.NewV7()).String()
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET batch_id = ? WHERE seq IN
				(SELECT seq FROM outbox WHERE batch_id IS NULL ORDER BY seq LIMIT ?)`, b.String, d.BatchSize)
		}
		if err != nil {
			return err
		}
		batch = b.String
		q, err := tx.QueryContext(ctx, `SELECT seq, mutation FROM outbox WHERE batch_id = ? ORDER BY seq`, batch)
		if err != nil {
			return err
		}
		defer q.Close()
		for q.Next() {
			var r outboxRow
			var raw string
			if err := q.Scan(&r.seq, &raw); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(raw), &r.m); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return q.Err()
	})
	return batch, rows, err
}

// push sends batches until the outbox is empty (or holds only mutations
// that cannot be sent yet).
func (d *Device) push(ctx context.Context, c *syncproto.Client) error {
	for corrections := 0; ; {
		batch, rows, err := d.pendingBatch(ctx)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ms := make([]syncproto.Mutation, len(rows))
		for i, r := range rows {
			ms[i] = r.m
		}
		fmt.Fprintf(d.Out, "上传 %d 条记录（批次 %s）…\n", len(ms), batch)
		resp, err := c.Push(ctx, batch, ms)
		if syncproto.ErrorCodeOf(err) == syncproto.CodeBatchMismatch {
			// Should never happen; the server answers duplicate for what
			// it already has, so a new batch id is safe (sync.md 5.2).
			_, err = d.db.ExecContext(ctx, `UPDATE outbox SET batch_id = NULL WHERE batch_id = ?`, batch)
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if len(resp.Results) != len(rows) {
			return fmt.Errorf("push answered %d results for %d mutations", len(resp.Results), len(rows))
		}
		skew, err := d.storeResults(ctx, c, rows, resp)
		if err != nil {
			return err
		}
		d.event(Event{Kind: EventPushDone, Count: len(rows)})
		if skew {
			if corrections++; corrections > 3 {
				return errors.New("clock_skew persists after correcting the clock")
			}
		}
	}
}

// storeResults acts on each result of a push, in one transaction
// (sync.md 6). It reports whether a clock_skew rejection re-stamped
// mutations.
func (d *Device) storeResults(ctx context.Context, c *syncproto.Client, rows []outboxRow, resp *syncproto.PushResponse) (bool, error) {
	var skewed []outboxRow
	var counts = map[string]int{}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		for i, res := range resp.Results {
			r := rows[i]
			counts[res.Status]++
			switch {
			case res.Status == syncproto.StatusRejected && res.Code == syncproto.CodeClockSkew:
				skewed = append(skewed, r)
				continue
			case res.Status == syncproto.StatusRejected && !(res.Code == syncproto.CodeNotFound && r.m.Delete):
				raw, _ := json.Marshal(r.m)
				if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO rejected(seq, entity, id, code, message, mutation, at)
					VALUES(?, ?, ?, ?, ?, ?, ?)`, r.seq, r.m.Entity, r.m.ID, res.Code, res.Message, string(raw),
					time.Now().In(china).Format(time.DateTime)); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE seq = ?`, r.seq); err != nil {
				return err
			}
		}
		if len(skewed) > 0 {
			if err := c.CorrectClock(resp.ServerHLC); err != nil {
				return err
			}
			later, err := futureRows(ctx, tx, d.clock.Last().String())
			if err != nil {
				return err
			}
			if err := d.restamp(ctx, tx, append(skewed, later...)); err != nil {
				return err
			}
		}
		return d.saveClock(tx)
	})
	fmt.Fprintf(d.Out, "  已应用 %d，重复 %d，过期 %d，被拒绝 %d\n", counts[syncproto.StatusApplied],
		counts[syncproto.StatusDuplicate], counts[syncproto.StatusStale], counts[syncproto.StatusRejected])
	return len(skewed) > 0, err
}

// futureRows returns the unbatched outbox mutations stamped after now, in
// outbox order: after a clock correction they too must be re-stamped.
func futureRows(ctx context.Context, tx *sql.Tx, now string) ([]outboxRow, error) {
	q, err := tx.QueryContext(ctx, `SELECT seq, mutation FROM outbox WHERE batch_id IS NULL ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	var out []outboxRow
	for q.Next() {
		var r outboxRow
		var raw string
		if err := q.Scan(&r.seq, &raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(raw), &r.m); err != nil {
			return nil, err
		}
		if r.m.HLC > now {
			out = append(out, r)
		}
	}
	return out, q.Err()
}

// restamp gives rows new HLCs from the corrected clock and takes them out
// of their batch, so they go in a new batch (sync.md 7). The local fields
// that carried the old HLC are moved to the new one.
func (d *Device) restamp(ctx context.Context, tx *sql.Tx, rows []outboxRow) error {
	for _, r := range rows {
		old := r.m.HLC
		r.m.HLC = d.clock.Now().String()
		raw, _ := json.Marshal(r.m)
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET batch_id = NULL, mutation = ? WHERE seq = ?`, string(raw), r.seq); err != nil {
			return err
		}
		rec, err := getRecord(ctx, tx, r.m.Entity, r.m.ID)
		if err != nil {
			continue
		}
		for name := range r.m.Fields {
			if rec.HLCs[name] == old {
				rec.HLCs[name] = r.m.HLC
			}
		}
		if err := putRecord(ctx, tx, rec); err != nil {
			return err
		}
	}
	return nil
}

// pull pulls from the stored cursor until has_more is false, storing each
// page and its cursor in one transaction. On resync_required it pulls
// again from the empty cursor, keeping the outbox.
func (d *Device) pull(ctx context.Context, c *syncproto.Client) error {
	cursor, err := d.get(keyCursor)
	if err != nil {
		return err
	}
	total := 0
	apply := func(pr *syncproto.PullResponse) error {
		err := d.inTx(ctx, func(tx *sql.Tx) error {
			for i := range pr.Changes {
				if err := mergeChange(ctx, tx, &pr.Changes[i]); err != nil {
					return err
				}
			}
			if err := d.set(tx, keyCursor, pr.Cursor); err != nil {
				return err
			}
			return d.saveClock(tx)
		})
		if err != nil {
			return err
		}
		total += len(pr.Changes)
		fmt.Fprintf(d.Out, "下载 %d 条更新（共 %d）\n", len(pr.Changes), total)
		d.event(Event{Kind: EventPullPage, Count: len(pr.Changes)})
		return nil
	}
	_, err = c.PullAll(ctx, cursor, d.PageLimit, apply)
	if syncproto.ErrorCodeOf(err) == syncproto.CodeResyncRequired {
		fmt.Fprintln(d.Out, "数据范围已变化，从头同步（待上传记录保留）")
		if me, err := c.Me(ctx); err == nil {
			cs, _ := json.Marshal(me.Counties)
			_ = d.set(d.db, keyCounties, string(cs))
		}
		_, err = c.PullAll(ctx, "", d.PageLimit, apply)
	}
	return err
}

// upload works the upload queue: each pending photo is uploaded with tus,
// its state saved after every chunk so that it resumes after an
// interruption. A photo that fails is kept with its error and does not
// stop the others; a cancelled context stops at once.
func (d *Device) upload(ctx context.Context, c *syncproto.Client) error {
	rows, err := d.db.QueryContext(ctx, `SELECT photo_id, path, state FROM uploads WHERE done = 0 ORDER BY photo_id`)
	if err != nil {
		return err
	}
	type job struct {
		path string
		u    syncproto.Upload
	}
	var jobs []job
	for rows.Next() {
		var j job
		var state string
		if err := rows.Scan(&j.u.PhotoID, &j.path, &state); err != nil {
			rows.Close()
			return err
		}
		_ = json.Unmarshal([]byte(state), &j.u)
		jobs = append(jobs, j)
	}
	rows.Close()
	var firstErr error
	for _, j := range jobs {
		data, err := os.ReadFile(j.path)
		if err != nil {
			firstErr = firstOf(firstErr, d.uploadFailed(ctx, j.u.PhotoID, err))
			continue
		}
		fmt.Fprintf(d.Out, "上传照片 %s（%d 字节）\n", j.u.PhotoID, len(data))
		err = c.UploadPhoto(ctx, &j.u, data, d.ChunkSize, func(u *syncproto.Upload) {
			state, _ := json.Marshal(u)
			_, _ = d.db.ExecContext(context.WithoutCancel(ctx), `UPDATE uploads SET state = ? WHERE photo_id = ?`, string(state), u.PhotoID)
			fmt.Fprintf(d.Out, "  %s: %d/%d 字节\n", u.PhotoID, u.Offset, u.Size)
			d.event(Event{Kind: EventUpload, PhotoID: u.PhotoID, Offset: u.Offset})
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			firstErr = firstOf(firstErr, d.uploadFailed(ctx, j.u.PhotoID, err))
			continue
		}
		if _, err := d.db.ExecContext(ctx, `UPDATE uploads SET done = 1, error = '' WHERE photo_id = ?`, j.u.PhotoID); err != nil {
			return err
		}
	}
	return firstErr
}

// uploadFailed records why an upload failed and returns the error.
func (d *Device) uploadFailed(ctx context.Context, photoID string, err error) error {
	_, _ = d.db.ExecContext(ctx, `UPDATE uploads SET error = ? WHERE photo_id = ?`, err.Error(), photoID)
	return fmt.Errorf("upload %s: %w", photoID, err)
}

func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

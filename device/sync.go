package device

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
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
	// A command waits for a busy server a little, saying so, but not a
	// minute at a time for one whose storage is full: the work stays
	// here, and the next sync sends it.
	c.MaxWait = maxRetryWait
	c.OnRetry = func(err error, wait time.Duration, attempt, attempts int) {
		fmt.Fprintf(d.Out, "服务器暂时无法处理（%s），%s后重试（第 %d/%d 次）\n", retryReason(err), waitText(wait), attempt, attempts)
	}
	access, _ := d.get(keyAccess)
	refresh, _ := d.get(keyRefresh)
	c.SetTokens(access, refresh)
	c.KnownClient, _ = d.get(keyKnown)
	c.OnTokens = func(tr *syncproto.TokenResponse) {
		// Refresh tokens are single-use: persist the new pair before use.
		_ = d.inTx(context.Background(), func(tx *sql.Tx) error {
			if err := d.set(tx, keyAccess, tr.AccessToken); err != nil {
				return err
			}
			if tr.KnownClient != "" {
				if err := d.set(tx, keyKnown, tr.KnownClient); err != nil {
					return err
				}
			}
			return d.set(tx, keyRefresh, tr.RefreshToken)
		})
	}
	return c, nil
}

// maxRetryWait is the longest a sync waits before sending a request
// again (syncproto.Client.MaxWait).
const maxRetryWait = 15 * time.Second

// retryReason is a temporary error as a user reads it: the server's
// message, or that the network failed.
func retryReason(err error) string {
	var ae *syncproto.APIError
	if errors.As(err, &ae) && ae.Body.Message != "" {
		return ae.Body.Message
	}
	return "网络错误"
}

// waitText says a wait in seconds (a fraction of one as "1 秒").
func waitText(d time.Duration) string {
	return fmt.Sprintf("%d 秒", max(1, int((d+time.Second-1)/time.Second)))
}

// serverURL is the server's address as typed or pasted — spaces and a
// trailing slash trimmed, as copied from a browser — or an error saying
// what a server's address is: one without its scheme was taken for a
// path and failed as a network error, one with a slash answered 404.
func serverURL(raw string) (string, error) {
	s := strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("服务器地址 %q 无效：应为 http:// 或 https:// 开头的网址，如 https://fieldsync.example.cn", raw)
	}
	return s, nil
}

// Login signs in to server and registers this device; the tokens, the
// server URL and the user's counties are stored.
func (d *Device) Login(ctx context.Context, server, username, password string) (*syncproto.User, error) {
	server, err := serverURL(server)
	if err != nil {
		return nil, err
	}
	c, err := d.client(server)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	tr, err := c.Login(ctx, username, password, "fieldctl "+host)
	if syncproto.ErrorCodeOf(err) == syncproto.CodeConflict {
		// The server binds a device to its first user.
		prev, _ := d.get(keyUser)
		return nil, fmt.Errorf("%w\n此数据目录的设备已绑定用户 %s：以其他用户登录请用新的目录（--dir），本目录的记录和待上传内容仍属于 %s", err, cmp.Or(prev, "（另一用户）"), cmp.Or(prev, "该用户"))
	}
	if err != nil {
		return nil, err
	}
	counties, _ := json.Marshal(tr.User.Counties)
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		for k, v := range map[string]string{keyServer: server, keyUser: username, keyUserID: tr.User.ID, keyCounties: string(counties)} {
			if err := d.set(tx, k, v); err != nil {
				return err
			}
		}
		return d.saveClock(tx)
	})
	return &tr.User, err
}

// Logout ends the device's session at the server (its tokens are refused
// from then on: a shared computer) and forgets its tokens. Everything else
// stays — records, outbox, uploads — for the next login of the same user,
// which goes on where this one stopped; it returns how many changes and
// photos wait to be sent. A session the server ended already, or a server
// out of reach, still forgets the tokens here.
func (d *Device) Logout(ctx context.Context) (waiting int, err error) {
	if d.authenticated() {
		c, err := d.client("")
		if err != nil {
			return 0, err
		}
		err = c.Do(ctx, http.MethodPost, syncproto.PathLogout, nil, nil)
		switch syncproto.ErrorCodeOf(err) {
		case "", syncproto.CodeTokenInvalid, syncproto.CodeTokenExpired, syncproto.CodeDeviceRevoked, syncproto.CodeUserDisabled:
		default:
			var ae *syncproto.APIError
			if errors.As(err, &ae) {
				return 0, err
			}
			fmt.Fprintln(d.Out, "无法连接服务器，已在本机退出登录；服务器上的登录在令牌到期后失效")
		}
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range []string{keyAccess, keyRefresh} {
			if err := d.set(tx, k, ""); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM uploads WHERE done = 0)`).Scan(&waiting)
	})
	return waiting, err
}

// authenticated reports whether the device holds a refresh token.
func (d *Device) authenticated() bool {
	r, _ := d.get(keyRefresh)
	return r != ""
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
	if !d.authenticated() {
		return errors.New("已退出登录：先 fieldctl login（本机的记录和待上传内容都在，登录后继续）")
	}
	err = d.sync(ctx, c)
	_ = d.set(d.db, keyLastSync, time.Now().In(china).Format(time.DateTime))
	_ = d.saveClock(d.db)
	if err != nil {
		switch code := syncproto.ErrorCodeOf(err); code {
		case syncproto.CodeDeviceRevoked:
			return fmt.Errorf("%s: 本设备已被停用，请联系督查室（本机数据和待上传记录已保留）: %w", code, err)
		case syncproto.CodeUserDisabled:
			return fmt.Errorf("%s: 您的账号已被停用，请联系督查室（本机数据和待上传记录已保留）: %w", code, err)
		case syncproto.CodeTokenInvalid, syncproto.CodeTokenExpired:
			return fmt.Errorf("%s: 登录已失效，请重新 login（待上传记录已保留）: %w", code, err)
		}
		return err
	}
	if err := d.purgePhotos(ctx, time.Now().Add(-d.KeepPhotosFor)); err != nil {
		return err
	}
	return d.set(d.db, keyLastSyncOK, time.Now().In(china).Format(time.DateTime))
}

// purgePhotos removes the copies kept in the data directory of the photos
// whose upload ended before cutoff and that the server has (the record
// pulled says uploaded), as the SDK's purgeOriginals does: the directory
// holds about KeepPhotosFor of photos, not every photo ever taken. A file
// outside the directory's photos (kept by an older fieldctl at the path
// it was read from) is never touched; a photo removed so is not sent
// again after a restore (sync.md 8.3: "if the phone still has them").
func (d *Device) purgePhotos(ctx context.Context, cutoff time.Time) error {
	if d.KeepPhotosFor <= 0 {
		return nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT u.photo_id, u.path FROM uploads u JOIN records r ON r.entity = 'photo' AND r.id = u.photo_id
		WHERE u.done != 0 AND u.done < ? AND u.path != '' AND json_extract(r.fields, '$.uploaded') = 1`, cutoff.UnixMilli())
	if err != nil {
		return err
	}
	var ids, paths []string
	for rows.Next() {
		var id, path string
		if err := rows.Scan(&id, &path); err != nil {
			rows.Close()
			return err
		}
		ids, paths = append(ids, id), append(paths, path)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	kept := filepath.Join(d.dir, "photos") + string(filepath.Separator)
	for i, id := range ids {
		if strings.HasPrefix(paths[i], kept) {
			if err := os.Remove(paths[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove the photo kept: %w", err)
			}
		}
		if _, err := d.db.ExecContext(ctx, `UPDATE uploads SET path = '' WHERE photo_id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}

func (d *Device) sync(ctx context.Context, c *syncproto.Client) error {
	if err := d.push(ctx, c); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	requeued, err := d.pull(ctx, c)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	if requeued > 0 {
		// What a restored server lost, sent again in this sync.
		if err := d.push(ctx, c); err != nil {
			return fmt.Errorf("push: %w", err)
		}
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
// again from the empty cursor, keeping the outbox, and then sends again
// what the server no longer holds (afterResync); it returns how many
// changes that put back into the outbox.
func (d *Device) pull(ctx context.Context, c *syncproto.Client) (int, error) {
	cursor, err := d.get(keyCursor)
	if err != nil {
		return 0, err
	}
	flag, err := d.get(keyResync)
	if err != nil {
		return 0, err
	}
	resync := flag != ""
	total := 0
	apply := func(pr *syncproto.PullResponse) error {
		err := d.inTx(ctx, func(tx *sql.Tx) error {
			var waiting map[string]bool
			if resync {
				var err error
				if waiting, err = outboxFields(ctx, tx); err != nil {
					return err
				}
			}
			for i := range pr.Changes {
				if err := mergeChange(ctx, tx, &pr.Changes[i], d.wrote); err != nil {
					return err
				}
				if resync {
					if err := d.takeServers(ctx, tx, &pr.Changes[i], waiting); err != nil {
						return err
					}
					if err := sawOnServer(ctx, tx, &pr.Changes[i]); err != nil {
						return err
					}
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
	var ae *syncproto.APIError
	badCursor := errors.As(err, &ae) && ae.Body.Code == syncproto.CodeBadRequest && ae.Body.Field == "cursor" && cursor != ""
	if badCursor || syncproto.ErrorCodeOf(err) == syncproto.CodeResyncRequired {
		if badCursor {
			// A cursor spoilt here (the data file damaged, edited):
			// pulling from the start is always safe (sync.md 8.3).
			fmt.Fprintln(d.Out, "本机保存的同步位置无效，从头同步，待上传记录保留")
		} else {
			fmt.Fprintln(d.Out, "服务器要求从头同步（数据范围已变化，或服务器从备份恢复），待上传记录保留")
		}
		if me, err := c.Me(ctx); err == nil {
			cs, _ := json.Marshal(me.Counties)
			_ = d.set(d.db, keyCounties, string(cs))
		}
		// Marked before the first page, so that a pull from the start
		// interrupted and resumed still ends with afterResync.
		if err := d.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM resync_seen`); err != nil {
				return err
			}
			if err := d.set(tx, keyCursor, ""); err != nil {
				return err
			}
			return d.set(tx, keyResync, "1")
		}); err != nil {
			return 0, err
		}
		resync = true
		_, err = c.PullAll(ctx, "", d.PageLimit, apply)
	}
	if err != nil || !resync {
		return 0, err
	}
	return d.afterResync(ctx)
}

// takeServers gives the local copy of a record a pull from the start
// brought the server's state of every value this device did not write
// and is not waiting to send (waiting: outboxFields): what others wrote
// (another device, the office's review) that the server no longer has —
// a restored backup — is replaced by what it has, a field it lacks
// removed and a deletion it lacks undone. The merge kept them, their HLCs
// being newer than the restored server's, and the device showed an
// approval the office must give again. Without a restore nothing others
// wrote is newer here than on the server, and nothing changes.
func (d *Device) takeServers(ctx context.Context, tx *sql.Tx, ch *syncproto.Change, waiting map[string]bool) error {
	local, err := getRecord(ctx, tx, ch.Entity, ch.ID)
	if err != nil {
		return err
	}
	key := ch.Entity + "/" + ch.ID + "/"
	changed := false
	for name := range local.Fields {
		h := local.HLCs[name]
		if ch.Deleted || d.wrote(h) || waiting[key+name] {
			continue
		}
		if v, ok := ch.Fields[name]; !ok {
			delete(local.Fields, name)
			delete(local.HLCs, name)
			changed = true
		} else if ch.HLCs[name] != h {
			local.Fields[name], local.HLCs[name] = v, ch.HLCs[name]
			changed = true
		}
	}
	if local.Deleted && !d.wrote(local.DeletedHLC) && !waiting[key] && local.DeletedHLC > ch.DeletedHLC {
		local.Deleted, local.DeletedHLC = ch.Deleted, ch.DeletedHLC
		changed = true
	}
	if !changed {
		return nil
	}
	return putRecord(ctx, tx, local)
}

// wrote reports whether an HLC is one of this device's writes.
func (d *Device) wrote(h string) bool {
	p, err := syncproto.ParseHLC(h)
	return err == nil && p.Node == d.id
}

// sawOnServer records the HLCs of a change a pull from the start brought:
// the server's state of the record, which afterResync compares the local
// copy with.
func sawOnServer(ctx context.Context, tx *sql.Tx, ch *syncproto.Change) error {
	hlcs, err := json.Marshal(ch.HLCs)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO resync_seen(entity, id, hlcs, deleted_hlc) VALUES(?, ?, ?, ?)
		ON CONFLICT(entity, id) DO UPDATE SET hlcs = excluded.hlcs, deleted_hlc = excluded.deleted_hlc`,
		ch.Entity, ch.ID, string(hlcs), ch.DeletedHLC)
	return err
}

// deviceOrder are the entities a device writes, each before those that
// refer to it (a site before its inspections, an inspection before its
// findings and photos).
var deviceOrder = []string{syncproto.EntitySite, syncproto.EntityInspection, syncproto.EntityFinding,
	syncproto.EntityVehicleCheck, syncproto.EntityPhoto}

// afterResync, once a pull from the start that a 410 asked for has ended
// (the user's scope changed, or the server's database was restored from
// a backup: sync.md 8.3), puts back into the outbox every value this
// device wrote that the server does not hold — a restore to a backup made
// before they were pushed loses them, while the device shows them sent —
// at its own HLC, references first, and queues again the upload of every
// photo it puts back, or of its own the server holds without bytes
// (uploaded after the backup), whose file is still here. Pushing them is safe
// whatever the server holds: a later write wins as always. Only records
// in the user's counties and fields not already waiting in the outbox are
// considered. Then the records the pull did not bring that have nothing
// to send are removed. It returns how many changes went back.
func (d *Device) afterResync(ctx context.Context) (int, error) {
	counties, err := d.counties()
	if err != nil {
		return 0, err
	}
	inScope := map[string]bool{}
	for _, c := range counties {
		inScope[c] = true
	}
	type lostChange struct {
		order int
		m     syncproto.Mutation
	}
	var lost []lostChange
	var unsent []string // photos whose bytes the server lacks
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		waiting, err := outboxFields(ctx, tx)
		if err != nil {
			return err
		}
		// A change the server refused (record_locked, an app bug) is not
		// one it lost: the device keeps its value, but never sends it
		// again by itself (sync.md 6).
		// Unless it was the restore's: a change refused, before the 410,
		// for what the restored server lacked (restoreRefusals) is sent
		// again with the rest, off the failed list, when the server holds
		// nothing of its record.
		refused := map[string]bool{}
		restorable := map[string]int64{} // entity/id/hlc → its rejected row
		keep := map[string]bool{}        // records that stay on the device
		rows, err := tx.QueryContext(ctx, `SELECT seq, code, mutation FROM rejected`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var seq int64
			var code, raw string
			var m syncproto.Mutation
			if err := rows.Scan(&seq, &code, &raw); err == nil && json.Unmarshal([]byte(raw), &m) == nil {
				refused[m.Entity+"/"+m.ID+"/"+m.HLC] = true
				keep[m.Entity+"/"+m.ID] = true
				if restoreRefusals[code] && !m.Delete {
					restorable[m.Entity+"/"+m.ID+"/"+m.HLC] = seq
				}
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		var unrefused []int64
		owned, err := ownValues(ctx, tx)
		if err != nil {
			return err
		}
		for order, entity := range deviceOrder {
			recs, err := resyncRows(ctx, tx, entity)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if !inScope[r.County] {
					continue
				}
				if d.ownAgain(&r, owned[r.Entity+"/"+r.ID], waiting, refused) {
					if err := putRecord(ctx, tx, &r.Record); err != nil {
						return err
					}
				}
				if entity == syncproto.EntityPhoto && !r.Deleted && d.wrote(r.HLCs["sha256"]) && string(r.Fields["uploaded"]) != "true" {
					// A photo of this device's that the server holds
					// without its bytes (they came after the backup it
					// was restored from): sent again if still here.
					unsent = append(unsent, r.ID)
				}
				if len(r.server) == 0 && r.serverDeleted == "" {
					for _, h := range r.HLCs {
						k := r.Entity + "/" + r.ID + "/" + h
						if seq, ok := restorable[k]; ok && refused[k] {
							delete(refused, k)
							unrefused = append(unrefused, seq)
						}
					}
				}
				byHLC := map[string]map[string]json.RawMessage{}
				for name, v := range r.Fields {
					h := r.HLCs[name]
					if !d.wrote(h) || waiting[r.Entity+"/"+r.ID+"/"+name] || refused[r.Entity+"/"+r.ID+"/"+h] || h <= r.server[name] {
						continue
					}
					if byHLC[h] == nil {
						byHLC[h] = map[string]json.RawMessage{}
					}
					byHLC[h][name] = v
				}
				if len(r.server) == 0 && r.serverDeleted == "" {
					carryRequired(r.Entity, byHLC)
				}
				for h, fields := range byHLC {
					lost = append(lost, lostChange{order, syncproto.Mutation{Entity: r.Entity, ID: r.ID, HLC: h, Fields: fields}})
				}
				if r.Deleted && d.wrote(r.DeletedHLC) && !waiting[r.Entity+"/"+r.ID+"/"] && !refused[r.Entity+"/"+r.ID+"/"+r.DeletedHLC] && r.DeletedHLC > r.serverDeleted {
					lost = append(lost, lostChange{order, syncproto.Mutation{Entity: r.Entity, ID: r.ID, HLC: r.DeletedHLC, Delete: true}})
				}
			}
		}
		for _, seq := range unrefused {
			if _, err := tx.ExecContext(ctx, `DELETE FROM rejected WHERE seq = ?`, seq); err != nil {
				return err
			}
		}
		// References first, then as they were written.
		slices.SortStableFunc(lost, func(a, b lostChange) int {
			return cmp.Or(cmp.Compare(a.order, b.order), strings.Compare(a.m.HLC, b.m.HLC))
		})
		for _, l := range lost {
			raw, err := json.Marshal(l.m)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox(mutation) VALUES(?)`, string(raw)); err != nil {
				return err
			}
			if l.m.Entity == syncproto.EntityPhoto && !l.m.Delete {
				unsent = append(unsent, l.m.ID)
			}
		}
		for _, id := range unsent {
			if err := uploadAgain(ctx, tx, id); err != nil {
				return err
			}
		}
		// What the pull did not bring and this device has nothing of to
		// send — another's record the restored server lacks (the office's
		// review of an approval it lost), a county no longer the user's —
		// leaves the device; a photo whose bytes are still to be uploaded
		// stays, as the SDK keeps it, and so does a record with a change
		// the server refused (out_of_scope: the user's county taken away
		// while it waited), kept for the user to act on (sync.md 6).
		for _, l := range lost {
			keep[l.m.Entity+"/"+l.m.ID] = true
		}
		for k := range waiting {
			entity, rest, _ := strings.Cut(k, "/")
			id, _, _ := strings.Cut(rest, "/")
			keep[entity+"/"+id] = true
		}
		gone, err := unseenRecords(ctx, tx)
		if err != nil {
			return err
		}
		for _, r := range gone {
			if keep[r[0]+"/"+r[1]] {
				continue
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM records WHERE entity = ? AND id = ?
				AND NOT EXISTS (SELECT 1 FROM uploads WHERE photo_id = records.id AND records.entity = 'photo' AND done = 0)`, r[0], r[1])
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				if _, err := tx.ExecContext(ctx, `DELETE FROM own_values WHERE entity = ? AND id = ?`, r[0], r[1]); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM resync_seen`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM config WHERE key = ?`, keyResync)
		return err
	})
	if err != nil {
		return 0, err
	}
	if len(lost) > 0 {
		fmt.Fprintf(d.Out, "服务器缺少本机已上传的 %d 项修改（可能已从备份恢复），重新上传\n", len(lost))
	}
	return len(lost), nil
}

// restoreRefusals are the refusals a restored server gives a change of a
// record made after its backup, pushed before the device learned of the
// restore: its parent is unknown (a photo of an inspection made after the
// backup), or the record lacks its required fields (an edit of one).
var restoreRefusals = map[string]bool{syncproto.CodeUnknownReference: true, syncproto.CodeMissingField: true}

// serverWrote reports whether an HLC is one of the server's own writes
// (an office's decision).
func serverWrote(h string) bool {
	p, err := syncproto.ParseHLC(h)
	return err == nil && p.Node == syncproto.ServerNode
}

// ownValue is a value of this device's another's newer write replaced
// (own_values).
type ownValue struct {
	value json.RawMessage
	hlc   string
}

// ownValues reads own_values, by "entity/id" and field.
func ownValues(ctx context.Context, tx *sql.Tx) (map[string]map[string]ownValue, error) {
	rows, err := tx.QueryContext(ctx, `SELECT entity, id, field, value, hlc FROM own_values`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]ownValue{}
	for rows.Next() {
		var entity, id, field, value, hlc string
		if err := rows.Scan(&entity, &id, &field, &value, &hlc); err != nil {
			return nil, err
		}
		key := entity + "/" + id
		if out[key] == nil {
			out[key] = map[string]ownValue{}
		}
		out[key][field] = ownValue{json.RawMessage(value), hlc}
	}
	return out, rows.Err()
}

// ownAgain makes local record r, after a pull from the start, what the
// restored server holds of it and this device's own writes the server
// lacks: a value of this device's that another's newer write replaced
// (owned) comes back when the server holds neither — the office's
// approval of a submission made after the backup, lost with it, leaves
// the submission to send again, not the approval on the phone and a
// draft on the server — and of a record the server does not hold at all
// (takeServers saw none of it) the values the server itself wrote (an
// office's review), and its deletion, are removed: they are gone with
// the server's state, where another device's may come back from it.
// Fields waiting in the outbox, and values the server refused, are left
// as they are. It reports whether r changed.
func (d *Device) ownAgain(r *resyncRecord, owned map[string]ownValue, waiting, refused map[string]bool) bool {
	key := r.Entity + "/" + r.ID + "/"
	changed := false
	for name, ov := range owned {
		h := r.HLCs[name]
		if d.wrote(h) && h >= ov.hlc || ov.hlc <= r.server[name] || waiting[key+name] || refused[r.Entity+"/"+r.ID+"/"+ov.hlc] {
			continue
		}
		r.Fields[name], r.HLCs[name] = ov.value, ov.hlc
		changed = true
	}
	if len(r.server) > 0 || r.serverDeleted != "" {
		return changed
	}
	for name, h := range r.HLCs {
		if serverWrote(h) && !waiting[key+name] {
			delete(r.Fields, name)
			delete(r.HLCs, name)
			changed = true
		}
	}
	if r.Deleted && serverWrote(r.DeletedHLC) && !waiting[key] {
		r.Deleted, r.DeletedHLC = false, ""
		changed = true
	}
	return changed
}

// unseenRecords are the local records (entity, id) a pull from the start
// did not bring.
func unseenRecords(ctx context.Context, tx *sql.Tx) ([][2]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.entity, r.id FROM records r
		WHERE NOT EXISTS (SELECT 1 FROM resync_seen s WHERE s.entity = r.entity AND s.id = r.id)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var r [2]string
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// carryRequired puts into the earliest of a record's writes sent again
// (byHLC, by HLC), for a record the server lacks, every required field a
// later write holds: that write is the record's creation, which must
// carry them, and a field written again later (a finding's description
// edited after it was made) is in the later write only. The later write
// follows at its own HLC and wins in the same push. Only required fields
// move: a status sent earlier than it was written (submitted) would lock
// the record against the changes made before it.
func carryRequired(entity string, byHLC map[string]map[string]json.RawMessage) {
	if len(byHLC) < 2 {
		return
	}
	first := slices.Min(slices.Collect(maps.Keys(byHLC)))
	for _, f := range server.EntityByName(entity).Fields {
		if !f.Required {
			continue
		}
		for _, fields := range byHLC {
			if v, ok := fields[f.Name]; ok {
				if _, has := byHLC[first][f.Name]; !has {
					byHLC[first][f.Name] = v
				}
			}
		}
	}
}

// resyncRecord is a local record beside the server's HLCs of it, as the
// pull from the start brought them (none for a record it did not bring).
type resyncRecord struct {
	Record
	server        map[string]string
	serverDeleted string
}

// resyncRows reads the local records of entity with the server's HLCs.
func resyncRows(ctx context.Context, tx *sql.Tx, entity string) ([]resyncRecord, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.county, r.fields, r.hlcs, r.deleted, r.deleted_hlc,
		coalesce(s.hlcs, '{}'), coalesce(s.deleted_hlc, '')
		FROM records r LEFT JOIN resync_seen s ON s.entity = r.entity AND s.id = r.id WHERE r.entity = ? ORDER BY r.id`, entity)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []resyncRecord
	for rows.Next() {
		r := resyncRecord{Record: Record{Entity: entity}}
		var fields, hlcs, server string
		if err := rows.Scan(&r.ID, &r.County, &fields, &hlcs, &r.Deleted, &r.DeletedHLC, &server, &r.serverDeleted); err != nil {
			return nil, err
		}
		if err := errors.Join(json.Unmarshal([]byte(fields), &r.Fields), json.Unmarshal([]byte(hlcs), &r.HLCs),
			json.Unmarshal([]byte(server), &r.server)); err != nil {
			return nil, fmt.Errorf("read %s %s: %w", entity, r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// outboxFields are the fields waiting in the outbox, as
// "entity/id/field" ("entity/id/" for a deletion).
func outboxFields(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT mutation FROM outbox`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var raw string
		var m syncproto.Mutation
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, err
		}
		if m.Delete {
			out[m.Entity+"/"+m.ID+"/"] = true
		}
		for name := range m.Fields {
			out[m.Entity+"/"+m.ID+"/"+name] = true
		}
	}
	return out, rows.Err()
}

// uploadAgain queues again the upload of a photo whose bytes a restored
// server may have lost, from the start (an uploaded photo's bytes are
// checked by its hash: sending them to a server that has them is
// harmless).
func uploadAgain(ctx context.Context, tx *sql.Tx, photoID string) error {
	var state string
	// Only while the device still has the bytes (purgePhotos).
	err := tx.QueryRowContext(ctx, `SELECT state FROM uploads WHERE photo_id = ? AND done != 0 AND path != ''`, photoID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // never queued here, or not sent yet
	}
	if err != nil {
		return err
	}
	var u syncproto.Upload
	if err := json.Unmarshal([]byte(state), &u); err != nil {
		return err
	}
	u.URL, u.Offset = "", 0
	fresh, err := json.Marshal(&u)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE uploads SET done = 0, error = '', state = ? WHERE photo_id = ?`, string(fresh), photoID)
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
		// done holds when (Unix ms; 1 for uploads done before it did).
		if _, err := d.db.ExecContext(ctx, `UPDATE uploads SET done = ?, error = '' WHERE photo_id = ?`, max(time.Now().UnixMilli(), 2), j.u.PhotoID); err != nil {
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

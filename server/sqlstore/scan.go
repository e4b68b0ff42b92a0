package sqlstore

import (
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/sqllit"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file reads the rows of the stores' own tables (users, devices,
// sessions, uploads, the conflict log) into server types, and holds the
// decisions both stores make on them. The Read functions do not close
// rows: the store does, as its driver closes.

// OptTime is the time of a nullable Unix-millisecond column, nil for NULL.
func OptTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64)
	return &t
}

// ReadIDs reads a one-column result of ids.
func ReadIDs(rows Rows) ([]string, error) {
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ScanUser reads a user selected with the store's user columns: id,
// username, display name, role, disabled, scope version, created_at, and
// the user's counties joined by commas; extra are the row's further
// columns.
func ScanUser(sc Scanner, extra ...any) (*server.User, error) {
	u := &server.User{}
	var role, counties string
	var created int64
	if err := sc.Scan(append([]any{&u.ID, &u.Username, &u.DisplayName, &role, &u.Disabled, &u.ScopeVersion, &created, &counties}, extra...)...); err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt = server.Role(role), time.UnixMilli(created)
	if counties != "" {
		u.Counties = strings.Split(counties, ",")
		sort.Strings(u.Counties)
	}
	return u, nil
}

// UserByNameWhere ends a query of a user's columns (ScanUser's, then the
// password hash) by username, with the username as both arguments: the
// user spelled exactly so first, then those whose username differs only
// in ASCII letter case (usernames are ASCII), so that a phone keyboard's
// capital first letter still signs in.
const UserByNameWhere = ` WHERE lower(u.username) = lower(?) ORDER BY u.username = ? DESC, u.username LIMIT 2`

// PickUser reads the rows of a UserByNameWhere query: the user spelled
// exactly as username, or else the only one differing from it in case
// (none when two do: neither is meant more than the other), and their
// password hash. Errors: not_found.
func PickUser(rows Rows, username string) (*server.User, string, error) {
	var found []*server.User
	var hashes []string
	for rows.Next() {
		var hash string
		u, err := ScanUser(rows, &hash)
		if err != nil {
			return nil, "", err
		}
		found, hashes = append(found, u), append(hashes, hash)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(found) == 0 || (len(found) > 1 && found[0].Username != username) {
		return nil, "", server.Errorf(syncproto.CodeNotFound, "用户不存在")
	}
	return found[0], hashes[0], nil
}

// ReadUsers reads the users of rows (ScanUser).
func ReadUsers(rows Rows) ([]*server.User, error) {
	var out []*server.User
	for rows.Next() {
		u, err := ScanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// RefreshCheck is why a device's current refresh token, found, does not
// renew its login: its device is revoked, its user disabled, or it has
// expired (expires, Unix milliseconds, is not after now); nil if it does.
func RefreshCheck(revoked, disabled bool, expires int64, now time.Time) error {
	switch {
	case revoked:
		return server.ErrDeviceRevoked
	case disabled:
		return server.ErrUserDisabled
	case expires <= now.UnixMilli():
		return server.Errorf(syncproto.CodeTokenExpired, "登录已过期，请重新登录")
	}
	return nil
}

// CheckPasswordReplace says whether a user's own password change from
// oldHash may be stored, the user's row read in the change's transaction
// (hash and disabled as stored): an administrator's reset, another change
// or a disable committed since the current password was checked wins.
// Errors: user_disabled, conflict.
func CheckPasswordReplace(hash string, disabled bool, oldHash string) error {
	switch {
	case disabled:
		return server.ErrUserDisabled
	case hash != oldHash:
		return server.Errorf(syncproto.CodeConflict, "密码刚被修改（管理员重置，或在另一台设备上修改），本次修改未生效：请用新密码登录")
	}
	return nil
}

// ErrRefreshInvalid is the error of a refresh token that is neither a
// device's current one nor a reused one.
func ErrRefreshInvalid() error {
	return server.Errorf(syncproto.CodeTokenInvalid, "刷新令牌无效，请重新登录")
}

// ErrRefreshReused is the error of a refresh token spent already in its
// device's current session, which ended that session.
func ErrRefreshReused() error {
	return &server.Error{Code: syncproto.CodeTokenInvalid, Message: "此设备的刷新令牌被重复使用，为安全起见已退出登录，请重新登录",
		Err: server.ErrRefreshReuse}
}

// DevicesSQL is the query of Devices before its order: devices with their
// sync health, limited to users whose counties meet the scope. notUploaded
// is the dialect's condition that photo p's bytes are not uploaded.
func (d *Dialect) DevicesSQL(scope server.Scope, notUploaded string) (string, []any) {
	q := `SELECT d.id, d.user_id, u.username, u.display_name, u.disabled, d.name, d.created_at, d.last_seen_at, d.revoked_at,
		d.last_pull_at, d.last_push_at, d.last_ack_seq, d.last_batch_id, d.last_push_refused_at, d.last_push_refused_code, d.last_push_refused_message,
		(SELECT count(*) FROM photo p WHERE p.created_device = d.id AND ` + notUploaded + ` AND p.deleted_hlc = '')
		FROM devices d JOIN users u ON u.id = d.user_id`
	if scope.All {
		return q, nil
	}
	// Not the phones of the city's and the admins' people, whose lists
	// name every county: they are no county's to watch.
	in, args := d.In("county", append([]string{""}, scope.Counties...))
	return q + ` WHERE d.user_id IN (SELECT user_id FROM user_counties WHERE ` + in + `) AND u.role NOT IN ` +
		sqllit.List([]string{string(server.RoleCityOffice), string(server.RoleAdmin)}), args
}

// MarkPushRefusedSQL records a device's push refused whole: its
// arguments are the time (Unix ms), the code, the message, the time again
// (last seen) and the device's id.
const MarkPushRefusedSQL = `UPDATE devices SET last_push_refused_at = ?, last_push_refused_code = ?, last_push_refused_message = ?, last_seen_at = ? WHERE id = ?`

// DeviceSQL selects one device by id (its argument), as DevicesSQL does.
func (d *Dialect) DeviceSQL(notUploaded string) string {
	q, _ := d.DevicesSQL(server.Scope{All: true}, notUploaded)
	return q + ` WHERE d.id = ?`
}

// ReadDevice reads the row of DeviceSQL. Errors: not_found.
func ReadDevice(rows Rows) (*server.Device, error) {
	devs, err := ReadDevices(rows)
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, server.Errorf(syncproto.CodeNotFound, "设备不存在")
	}
	return devs[0], nil
}

// DeviceIDsSQL selects the ids of a user's devices (DeviceIDs); its
// argument is the user's id.
const DeviceIDsSQL = `SELECT id FROM devices WHERE user_id = ?`

// ReadDevices reads the rows of DevicesSQL.
func ReadDevices(rows Rows) ([]*server.Device, error) {
	var out []*server.Device
	for rows.Next() {
		d := &server.Device{}
		var created, seen int64
		var revoked, pull, push, refused sql.NullInt64
		var refusedCode, refusedMessage string
		if err := rows.Scan(&d.ID, &d.UserID, &d.Username, &d.UserName, &d.UserDisabled, &d.Name, &created, &seen, &revoked, &pull, &push,
			&d.Health.LastAckSeq, &d.Health.LastBatchID, &refused, &refusedCode, &refusedMessage, &d.Health.PendingUploads); err != nil {
			return nil, err
		}
		if at := OptTime(refused); at != nil {
			d.Health.LastRefused = &server.RefusedPush{At: *at, Code: refusedCode, Message: refusedMessage}
		}
		d.CreatedAt, d.LastSeenAt = time.UnixMilli(created), time.UnixMilli(seen)
		d.RevokedAt, d.Health.LastPullAt, d.Health.LastPushAt = OptTime(revoked), OptTime(pull), OptTime(push)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ConflictsSQL is the query of Conflicts: conflict-log entries in scope,
// newest first, optionally for one entity and record, up to limit.
func (d *Dialect) ConflictsSQL(scope server.Scope, entity, recordID string, limit int) (string, []any) {
	where, args := d.ScopeWhere(scope)
	q := `SELECT id, entity, record_id, county, field, value, hlc, winner_hlc, reason, device_id, user_id, created_at FROM conflicts WHERE 1=1` + where
	if entity != "" {
		q += ` AND entity = ?`
		args = append(args, entity)
	}
	if recordID != "" {
		q += ` AND record_id = ?`
		args = append(args, recordID)
	}
	return q + ` ORDER BY id DESC LIMIT ?`, append(args, limit)
}

// ReadConflicts reads the rows of ConflictsSQL (an empty list, not nil,
// when there are none).
func ReadConflicts(rows Rows) ([]server.Conflict, error) {
	out := []server.Conflict{}
	for rows.Next() {
		var c server.Conflict
		var value string
		var at int64
		if err := rows.Scan(&c.ID, &c.Entity, &c.RecordID, &c.County, &c.Field, &value, &c.HLC, &c.WinnerHLC, &c.Reason, &c.DeviceID, &c.UserID, &at); err != nil {
			return nil, err
		}
		c.Value, c.At = []byte(value), time.UnixMilli(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConsoleSessionCols are the columns ScanConsoleSession reads, of
// console_sessions s joined with users u.
const ConsoleSessionCols = `s.id, s.user_id, u.username, s.csrf, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, s.user_agent, s.ip`

// ScanConsoleSession reads a console session selected with
// ConsoleSessionCols.
func ScanConsoleSession(sc Scanner) (*server.ConsoleSession, error) {
	s := &server.ConsoleSession{}
	var created, seen, expires int64
	var revoked sql.NullInt64
	if err := sc.Scan(&s.ID, &s.UserID, &s.Username, &s.CSRF, &created, &seen, &expires, &revoked, &s.UserAgent, &s.IP); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.RevokedAt = time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires), OptTime(revoked)
	return s, nil
}

// ReadConsoleSessions reads the console sessions of rows
// (ScanConsoleSession).
func ReadConsoleSessions(rows Rows) ([]*server.ConsoleSession, error) {
	var out []*server.ConsoleSession
	for rows.Next() {
		s, err := ScanConsoleSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ErrNoConsoleSession is the error of a console session id that is not
// stored.
func ErrNoConsoleSession() error {
	return server.Errorf(syncproto.CodeUnauthorized, "请先登录")
}

// ConsoleTouchEvery is how stale a console session's recorded last use
// may get before a request records it again: a page view is then a read,
// not a write of the database — which a full disk refuses, and with it
// every page of the console.
const ConsoleTouchEvery = time.Minute

// TouchConsoleSession is a store's TouchConsoleSession: read reads the
// session (ErrNoRows-like errors are the caller's to map), which must be
// live at now; record writes now as its last use, only when the one
// recorded is ConsoleTouchEvery old, and a failure of it on a full or
// unreachable store serves the request all the same (the session was
// checked; a later request records its use).
func TouchConsoleSession(read func() (*server.ConsoleSession, error), record func() error, idle time.Duration, now time.Time) (*server.ConsoleSession, error) {
	s, err := read()
	if err != nil {
		return nil, err
	}
	if err := ConsoleSessionCheck(s, idle, now); err != nil {
		return nil, err
	}
	if now.Sub(s.LastSeenAt) < ConsoleTouchEvery {
		return s, nil
	}
	if err := record(); err != nil && !server.StorageFull(err) && !server.StoreUnreachable(err) {
		return nil, err
	}
	s.LastSeenAt = now
	return s, nil
}

// ConsoleSessionCheck is why a stored console session may not be used at
// now: it is revoked, expired, or idle for longer than idle; nil if it may.
func ConsoleSessionCheck(s *server.ConsoleSession, idle time.Duration, now time.Time) error {
	switch {
	case s.RevokedAt != nil:
		return server.Errorf(syncproto.CodeUnauthorized, "已退出登录，请重新登录")
	case !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > idle:
		return server.Errorf(syncproto.CodeUnauthorized, "登录已过期，请重新登录")
	}
	return nil
}

// UploadCols are the columns of photo_upload ReadUploads reads.
const UploadCols = `photo_id, sha256, device_id, user_id, size, completed_at, claimed_at, content_type`

// ReadUploads reads photo uploads selected with UploadCols.
func ReadUploads(rows Rows) ([]server.PhotoUpload, error) {
	var out []server.PhotoUpload
	for rows.Next() {
		var u server.PhotoUpload
		var completed int64
		var claimed sql.NullInt64
		if err := rows.Scan(&u.PhotoID, &u.SHA256, &u.DeviceID, &u.UserID, &u.Size, &completed, &claimed, &u.ContentType); err != nil {
			return nil, err
		}
		u.CompletedAt = time.UnixMilli(completed).UTC()
		if claimed.Valid {
			u.ClaimedAt = time.UnixMilli(claimed.Int64).UTC()
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// MillisOrZero is t in Unix ms, 0 for the zero time.
func MillisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// TimeOfMillis is the time of Unix ms n, the zero time for 0.
func TimeOfMillis(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// MillisOrNull is t in Unix milliseconds, NULL for the zero time.
func MillisOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// ReadVehicleStats reads the rows of VehicleStats: county, checkpoint,
// campaign, and the counts of checks, of China 5 vehicles, of China 6
// vehicles, of those with their aftertreatment removed, and of China 6
// gas vehicles and those of them with it removed.
func ReadVehicleStats(rows Rows) ([]server.VehicleStat, error) {
	var out []server.VehicleStat
	for rows.Next() {
		var v server.VehicleStat
		if err := rows.Scan(&v.County, &v.Checkpoint, &v.Campaign, &v.Trucks, &v.G5, &v.G6, &v.Removed, &v.GasG6, &v.GasRemoved); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ReadMonthTallies reads the rows of MonthTallies: county, checklist,
// version, status, and the counts of inspections, findings, photos and
// flagged photos.
func ReadMonthTallies(rows Rows) ([]server.MonthTally, error) {
	var out []server.MonthTally
	for rows.Next() {
		var t server.MonthTally
		if err := rows.Scan(&t.County, &t.TemplateID, &t.Version, &t.Status, &t.Inspections, &t.Findings, &t.Photos, &t.FlaggedPhotos); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ReadItemTallies reads the rows of MonthItemFailures: county,
// checklist, status, item and the count of inspections.
func ReadItemTallies(rows Rows) ([]server.ItemTally, error) {
	var out []server.ItemTally
	for rows.Next() {
		var t server.ItemTally
		if err := rows.Scan(&t.County, &t.TemplateID, &t.Status, &t.Item, &t.Inspections); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ReadTallies reads counts of inspections by county, checklist and
// status.
func ReadTallies(rows Rows) ([]server.Tally, error) {
	var out []server.Tally
	for rows.Next() {
		var t server.Tally
		if err := rows.Scan(&t.County, &t.TemplateID, &t.Status, &t.N); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ReadSigningKeys reads token signing keys: id, secret, created_at.
func ReadSigningKeys(rows Rows) ([]server.SigningKey, error) {
	var keys []server.SigningKey
	for rows.Next() {
		var k server.SigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Secret, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = time.UnixMilli(created)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// ReadQueueEntries reads the rows of QueueSQL: the inspections' ids, and
// their entries without their records.
func ReadQueueEntries(rows Rows) ([]string, []server.QueueEntry, error) {
	var ids []string
	var out []server.QueueEntry
	for rows.Next() {
		var id string
		var e server.QueueEntry
		if err := rows.Scan(&id, &e.Inspector, &e.Failed, &e.Photos, &e.Flags, &e.Missing, &e.Unchecked); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return ids, out, nil
}

// PrincipalWhere is what a store's Principal query adds to its user
// columns (args: the user id, the device id); ReadPrincipal reads its row.
const PrincipalWhere = `, d.revoked_at, d.session FROM users u JOIN devices d ON d.user_id = u.id
		WHERE u.id = ? AND d.id = ?`

// ReadPrincipal reads the row of a Principal query (the user columns then
// PrincipalWhere's) and checks that the user and device are still
// allowed. noRows is the driver's error for no row. Errors: token_invalid
// (unknown user or device), user_disabled, device_revoked.
func ReadPrincipal(row Scanner, deviceID string, noRows error) (*server.Principal, error) {
	var revoked sql.NullInt64
	var session int64
	u, err := ScanUser(row, &revoked, &session)
	if errors.Is(err, noRows) {
		return nil, server.Errorf(syncproto.CodeTokenInvalid, "令牌无效，请重新登录")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case u.Disabled:
		return nil, server.ErrUserDisabled
	case revoked.Valid:
		return nil, server.ErrDeviceRevoked
	}
	return &server.Principal{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Role: u.Role, Counties: u.Counties,
		DeviceID: deviceID, Session: session}, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// CreateUser adds a user with a password hash. Errors: conflict (username
// taken), invalid_value (unknown county).
func (db *DB) CreateUser(ctx context.Context, u *server.User, passwordHash string) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, username, password_hash, display_name, role, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, u.Username, passwordHash, u.DisplayName, string(u.Role), u.CreatedAt.UnixMilli())
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return server.Errorf(syncproto.CodeConflict, "用户名 %s 已存在", u.Username)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return setCounties(ctx, tx, u.ID, u.Counties)
	})
}

func setCounties(ctx context.Context, tx *sql.Tx, userID string, counties []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_counties WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, c := range counties {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM county WHERE id = ?`, c).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return server.Errorf(syncproto.CodeInvalidValue, "未知的区县代码 %q", c)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_counties (user_id, county) VALUES (?, ?)`, userID, c); err != nil {
			return err
		}
	}
	return nil
}

// SetUserCounties replaces a user's counties and bumps their scope version,
// so devices holding old cursors are told to resync. Errors: not_found,
// invalid_value.
func (db *DB) SetUserCounties(ctx context.Context, username string, counties []string) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE username = ?`, username).Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return server.Errorf(syncproto.CodeNotFound, "用户 %s 不存在", username)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET scope_version = scope_version + 1 WHERE id = ?`, id); err != nil {
			return err
		}
		return setCounties(ctx, tx, id, counties)
	})
}

// SetUserDisabled disables or enables a user; a disabled user's tokens stop
// working at once. Errors: not_found.
func (db *DB) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE username = ?`, disabled, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return server.Errorf(syncproto.CodeNotFound, "用户 %s 不存在", username)
		}
		return nil
	})
}

const userCols = `u.id, u.username, u.display_name, u.role, u.disabled, u.scope_version, u.created_at,
	coalesce((SELECT group_concat(county) FROM (SELECT county FROM user_counties WHERE user_id = u.id ORDER BY county)), '')`

func scanUser(sc interface{ Scan(...any) error }, extra ...any) (*server.User, error) {
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

// UserByUsername returns a user and their password hash. Errors: not_found.
func (db *DB) UserByUsername(ctx context.Context, username string) (*server.User, string, error) {
	var hash string
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userCols+`, u.password_hash FROM users u WHERE u.username = ?`, username), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", server.Errorf(syncproto.CodeNotFound, "用户不存在")
	}
	return u, hash, err
}

// Users lists every user by username.
func (db *DB) Users(ctx context.Context) ([]*server.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userCols+` FROM users u ORDER BY u.username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// RegisterDevice binds a device to a user at login and stores the hash of
// its new refresh token. Errors: device_revoked, conflict (the device
// belongs to another user).
func (db *DB) RegisterDevice(ctx context.Context, d *server.Device, refreshHash string, refreshExpires time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		var owner string
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT user_id, revoked_at FROM devices WHERE id = ?`, d.ID).Scan(&owner, &revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO devices (id, user_id, name, created_at, last_seen_at, refresh_hash, refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				d.ID, d.UserID, d.Name, d.CreatedAt.UnixMilli(), d.CreatedAt.UnixMilli(), refreshHash, refreshExpires.UnixMilli())
			return err
		case err != nil:
			return err
		case revoked.Valid:
			return server.Errorf(syncproto.CodeDeviceRevoked, "此设备已被停用，请联系管理员")
		case owner != d.UserID:
			return server.Errorf(syncproto.CodeConflict, "此设备已绑定其他用户")
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET name = ?, last_seen_at = ?, refresh_hash = ?, refresh_expires_at = ? WHERE id = ?`,
			d.Name, d.CreatedAt.UnixMilli(), refreshHash, refreshExpires.UnixMilli(), d.ID)
		return err
	})
}

// RotateRefresh replaces a device's refresh token: the old hash must match
// and be unexpired, and the device live. It returns the device's user id and
// device id. Errors: token_invalid, token_expired, device_revoked.
func (db *DB) RotateRefresh(ctx context.Context, oldHash, newHash string, newExpires, now time.Time) (userID, deviceID string, err error) {
	err = db.writeSQL(ctx, func(tx *sql.Tx) error {
		var expires int64
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT id, user_id, refresh_expires_at, revoked_at FROM devices WHERE refresh_hash = ?`, oldHash).
			Scan(&deviceID, &userID, &expires, &revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return server.Errorf(syncproto.CodeTokenInvalid, "刷新令牌无效，请重新登录")
		case err != nil:
			return err
		case revoked.Valid:
			return server.Errorf(syncproto.CodeDeviceRevoked, "此设备已被停用，请联系管理员")
		case expires <= now.UnixMilli():
			return server.Errorf(syncproto.CodeTokenExpired, "登录已过期，请重新登录")
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET refresh_hash = ?, refresh_expires_at = ?, last_seen_at = ? WHERE id = ?`,
			newHash, newExpires.UnixMilli(), now.UnixMilli(), deviceID)
		return err
	})
	return userID, deviceID, err
}

// SignOut ends a device's refresh token and voids the access tokens issued
// to it up to at (logout).
func (db *DB) SignOut(ctx context.Context, deviceID string, at time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE devices SET refresh_hash = '', signed_out_at = ? WHERE id = ?`, at.UnixMilli(), deviceID)
		return err
	})
}

// RevokeDevice stops a device for good: its tokens fail at once and it
// cannot log in again. Errors: not_found.
func (db *DB) RevokeDevice(ctx context.Context, deviceID string, at time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, at.UnixMilli(), deviceID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return server.Errorf(syncproto.CodeNotFound, "设备不存在")
		}
		return nil
	})
}

// Principal loads the caller of a request from a token's user and device,
// checking that both are still allowed. Errors: token_invalid (unknown user
// or device), user_disabled, device_revoked.
func (db *DB) Principal(ctx context.Context, userID, deviceID string) (*server.Principal, error) {
	var disabled bool
	var revoked, signedOut sql.NullInt64
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userCols+`, d.revoked_at, d.signed_out_at FROM users u JOIN devices d ON d.user_id = u.id
		WHERE u.id = ? AND d.id = ?`, userID, deviceID), &revoked, &signedOut)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, server.Errorf(syncproto.CodeTokenInvalid, "令牌无效，请重新登录")
	}
	if err != nil {
		return nil, err
	}
	disabled = u.Disabled
	switch {
	case disabled:
		return nil, server.Errorf(syncproto.CodeUserDisabled, "账号已停用")
	case revoked.Valid:
		return nil, server.Errorf(syncproto.CodeDeviceRevoked, "此设备已被停用，请联系管理员")
	}
	p := &server.Principal{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Role: u.Role, Counties: u.Counties, DeviceID: deviceID}
	if signedOut.Valid {
		p.SignedOutAt = time.UnixMilli(signedOut.Int64)
	}
	return p, nil
}

// Devices lists devices with their sync health, limited to users whose
// counties meet the scope (all devices for an unlimited scope).
func (db *DB) Devices(ctx context.Context, scope server.Scope) ([]*server.Device, error) {
	q := `SELECT d.id, d.user_id, u.username, d.name, d.created_at, d.last_seen_at, d.revoked_at,
		d.last_pull_at, d.last_push_at, d.last_ack_seq, d.last_batch_id,
		(SELECT count(*) FROM photo p WHERE p.created_device = d.id AND coalesce(p.uploaded, 0) = 0 AND p.deleted_hlc = '')
		FROM devices d JOIN users u ON u.id = d.user_id`
	var args []any
	if !scope.All {
		q += ` WHERE d.user_id IN (SELECT user_id FROM user_counties WHERE county IN (` + placeholders(len(scope.Counties)+1) + `))`
		args = append(args, "")
		for _, c := range scope.Counties {
			args = append(args, c)
		}
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY u.username, d.created_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.Device
	for rows.Next() {
		d := &server.Device{}
		var created, seen int64
		var revoked, pull, push sql.NullInt64
		if err := rows.Scan(&d.ID, &d.UserID, &d.Username, &d.Name, &created, &seen, &revoked, &pull, &push,
			&d.Health.LastAckSeq, &d.Health.LastBatchID, &d.Health.PendingUploads); err != nil {
			return nil, err
		}
		d.CreatedAt, d.LastSeenAt = time.UnixMilli(created), time.UnixMilli(seen)
		d.RevokedAt, d.Health.LastPullAt, d.Health.LastPushAt = optTime(revoked), optTime(pull), optTime(push)
		out = append(out, d)
	}
	return out, rows.Err()
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64)
	return &t
}

// Conflicts lists conflict-log entries in scope, newest first, optionally
// for one record.
func (db *DB) Conflicts(ctx context.Context, scope server.Scope, entity, recordID string, limit int) ([]server.Conflict, error) {
	where, args := scopeWhere(scope)
	q := `SELECT id, entity, record_id, county, field, value, hlc, winner_hlc, reason, device_id, user_id, created_at FROM conflicts WHERE 1=1` + where
	if entity != "" {
		q += ` AND entity = ?`
		args = append(args, entity)
	}
	if recordID != "" {
		q += ` AND record_id = ?`
		args = append(args, recordID)
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
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

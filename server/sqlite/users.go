package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
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
// invalid_value (a role that sees every county), missing_field (no
// county for a role that needs one), conflict (keepAnAdmin).
func (db *DB) SetUserCounties(ctx context.Context, username string, counties []string) error {
	_, err := db.SetUserAccess(ctx, username, "", counties)
	return err
}

// SetUserAccess gives a user a role (role "": the one held) and counties
// (none for a role that sees every county), bumps their scope version,
// and returns the user as they were. Errors: not_found, invalid_value,
// missing_field, conflict (the last administrator).
func (db *DB) SetUserAccess(ctx context.Context, username string, role server.Role, counties []string) (was *server.User, err error) {
	if role != "" {
		if err := role.Check(); err != nil {
			return nil, err
		}
	}
	err = db.writeSQL(ctx, func(tx *sql.Tx) error {
		id, err := userID(ctx, tx, username)
		if err != nil {
			return err
		}
		was = &server.User{ID: id}
		var held string
		if err := tx.QueryRowContext(ctx, `SELECT username, role FROM users WHERE id = ?`, id).Scan(&was.Username, &held); err != nil {
			return err
		}
		was.Role = server.Role(held)
		if was.Counties, err = userCounties(ctx, tx, id); err != nil {
			return err
		}
		role = cmp.Or(role, was.Role)
		if err := role.CheckCountiesChange(counties); err != nil {
			return server.AtField(err, "counties")
		}
		if was.Role == server.RoleAdmin && role != server.RoleAdmin {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, scope_version = scope_version + 1 WHERE id = ?`, string(role), id); err != nil {
			return err
		}
		return setCounties(ctx, tx, id, counties)
	})
	if err != nil {
		return nil, err
	}
	return was, nil
}

// userCounties lists a user's counties, sorted.
func userCounties(ctx context.Context, tx *sql.Tx, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT county FROM user_counties WHERE user_id = ? ORDER BY county`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// keepAnAdmin refuses to take the administrator id away (another role,
// disabled) when no other enabled administrator is left: no one could
// then manage users in the console. Errors: conflict.
func keepAnAdmin(ctx context.Context, tx *sql.Tx, id string) error {
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> ?`, id).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return server.Errorf(syncproto.CodeConflict, "这是最后一个可用的管理员账号，改了角色或停用后就没有人能管理用户；请先添加或启用另一个管理员")
	}
	return nil
}

// SetUserDisabled disables or enables a user. Disabling also revokes the
// user's console sessions and ends every device session, so their tokens
// stay void after the user is enabled again. Errors: not_found, conflict
// (the last administrator).
func (db *DB) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		id, err := userID(ctx, tx, username)
		if err != nil {
			return err
		}
		var role string
		var was bool
		if err := tx.QueryRowContext(ctx, `SELECT role, disabled FROM users WHERE id = ?`, id).Scan(&role, &was); err != nil {
			return err
		}
		if disabled && !was && server.Role(role) == server.RoleAdmin {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		return endUserSessions(ctx, tx, id, time.Now())
	})
}

const userCols = `u.id, u.username, u.display_name, u.role, u.disabled, u.scope_version, u.created_at,
	coalesce((SELECT group_concat(county) FROM (SELECT county FROM user_counties WHERE user_id = u.id ORDER BY county)), '')`

// UserByUsername returns a user and their password hash: the user
// spelled exactly so, or the only one whose username differs from it in
// letter case. Errors: not_found.
func (db *DB) UserByUsername(ctx context.Context, username string) (*server.User, string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userCols+`, u.password_hash FROM users u`+sqlstore.UserByNameWhere, username, username)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	return sqlstore.PickUser(rows, username)
}

// Users lists every user by username.
func (db *DB) Users(ctx context.Context) ([]*server.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userCols+` FROM users u ORDER BY u.username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadUsers(rows)
}

// RegisterDevice binds a device to a user at login, stores the hash of its
// new refresh token and returns the device's session generation (0 for a
// new device). The login starts a new refresh-token family: the device's
// spent tokens are forgotten, so replaying one of them cannot end the new
// family. Errors: device_revoked, conflict (the device belongs to another
// user).
func (db *DB) RegisterDevice(ctx context.Context, d *server.Device, refreshHash string, refreshExpires time.Time) (session int64, err error) {
	err = db.writeSQL(ctx, func(tx *sql.Tx) error {
		var owner string
		var revoked sql.NullInt64
		var live bool // a session not ended: its refresh token is set
		err := tx.QueryRowContext(ctx, `SELECT user_id, revoked_at, session, refresh_hash != '' FROM devices WHERE id = ?`, d.ID).Scan(&owner, &revoked, &session, &live)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO devices (id, user_id, name, created_at, last_seen_at, refresh_hash, refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				d.ID, d.UserID, d.Name, d.CreatedAt.UnixMilli(), d.CreatedAt.UnixMilli(), refreshHash, refreshExpires.UnixMilli())
			return err
		case err != nil:
			return err
		case revoked.Valid:
			return server.ErrDeviceRevoked
		case owner != d.UserID:
			return server.Errorf(syncproto.CodeConflict, "此设备已绑定其他用户")
		}
		if live {
			// A sign-in over a session not ended ends it (server.AccountStore).
			session++
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET name = ?, last_seen_at = ?, refresh_hash = ?, refresh_expires_at = ?, session = ? WHERE id = ?`,
			d.Name, d.CreatedAt.UnixMilli(), refreshHash, refreshExpires.UnixMilli(), session, d.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM spent_refresh WHERE device_id = ?`, d.ID)
		return err
	})
	return session, err
}

// RotateRefresh replaces a device's refresh token: the old hash must be the
// device's current one and unexpired, the device live and its user enabled.
// The old hash is kept as spent until it would have expired, and the spent
// hashes of every device that have expired are deleted. It returns the
// device's session.
//
// A hash that is not current but spent within the device's current session
// is a reuse: a copy of the token is in other hands. Then RotateRefresh
// ends the session (clears the refresh token and increments the
// generation, so every token of the device stops working), commits that,
// and returns the device (with its new generation) and a token_invalid
// error whose cause is server.ErrRefreshReuse. A hash spent in an earlier
// session, ended already, or expired, is just invalid.
//
// Errors: token_invalid, token_expired, device_revoked, user_disabled.
func (db *DB) RotateRefresh(ctx context.Context, oldHash, newHash string, newExpires, now time.Time) (server.DeviceSession, error) {
	var s server.DeviceSession
	reused := false
	err := db.writeSQL(ctx, func(tx *sql.Tx) error {
		var expires int64
		var revoked sql.NullInt64
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT d.id, d.user_id, d.session, d.refresh_expires_at, d.revoked_at, u.disabled
			FROM devices d JOIN users u ON u.id = d.user_id WHERE d.refresh_hash = ?`, oldHash).
			Scan(&s.DeviceID, &s.UserID, &s.Session, &expires, &revoked, &disabled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			reused, err = endReusedSession(ctx, tx, oldHash, now, &s)
			if err == nil && !reused {
				err = sqlstore.ErrRefreshInvalid()
			}
			return err
		case err != nil:
			return err
		}
		if err := sqlstore.RefreshCheck(revoked.Valid, disabled, expires, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO spent_refresh (hash, device_id, session, spent_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			oldHash, s.DeviceID, s.Session, now.UnixMilli(), expires); err != nil {
			return fmt.Errorf("keep spent refresh token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM spent_refresh WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
			return fmt.Errorf("prune spent refresh tokens: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET refresh_hash = ?, refresh_expires_at = ?, last_seen_at = ? WHERE id = ?`,
			newHash, newExpires.UnixMilli(), now.UnixMilli(), s.DeviceID)
		return err
	})
	switch {
	case err != nil:
		return server.DeviceSession{}, err
	case reused:
		return s, sqlstore.ErrRefreshReused()
	}
	return s, nil
}

// endReusedSession looks hash up among the spent refresh tokens that have
// not expired. If it was spent in its device's current session, it ends
// that session, fills s with the device and its new generation, and
// reports true.
func endReusedSession(ctx context.Context, tx *sql.Tx, hash string, now time.Time, s *server.DeviceSession) (bool, error) {
	var spentIn int64
	err := tx.QueryRowContext(ctx, `SELECT d.id, d.user_id, d.session, sp.session FROM spent_refresh sp JOIN devices d ON d.id = sp.device_id
		WHERE sp.hash = ? AND sp.expires_at > ?`, hash, now.UnixMilli()).Scan(&s.DeviceID, &s.UserID, &s.Session, &spentIn)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	case spentIn != s.Session:
		return false, nil // its family has ended already
	}
	if err := endSession(ctx, tx, s.DeviceID, now); err != nil {
		return false, err
	}
	s.Session++
	return true, nil
}

// endSession clears a device's refresh token and increments its session
// generation, voiding every access token issued to it so far.
func endSession(ctx context.Context, tx *sql.Tx, deviceID string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE devices SET refresh_hash = '', refresh_expires_at = 0, session = session + 1, signed_out_at = ? WHERE id = ?`,
		at.UnixMilli(), deviceID)
	return err
}

// SignOut ends a device's session (logout): its refresh token and every
// access token issued to it so far stop working; signing in again starts a
// new one.
func (db *DB) SignOut(ctx context.Context, deviceID string, at time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		return endSession(ctx, tx, deviceID, at)
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
		// Its capture keys with it (signed-captures.md): signatures on
		// records arriving from now on fail.
		var revoked int64
		if err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM devices WHERE id = ?`, deviceID).Scan(&revoked); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, sqlstore.RevokeDeviceKeys, revoked, deviceID)
		return err
	})
}

// ReinstateDevice undoes a revocation: the device may sign in again, its
// old tokens staying ended, and gets back the keys its revocation
// revoked. Errors: not_found, conflict (not revoked).
func (db *DB) ReinstateDevice(ctx context.Context, deviceID string, at time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM devices WHERE id = ?`, deviceID).Scan(&revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return server.Errorf(syncproto.CodeNotFound, "设备不存在")
		case err != nil:
			return err
		case !revoked.Valid:
			return server.Errorf(syncproto.CodeConflict, "设备没有被停用")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET revoked_at = NULL WHERE id = ?`, deviceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlstore.ReinstateDeviceKeys, deviceID, revoked.Int64); err != nil {
			return err
		}
		return endSession(ctx, tx, deviceID, at)
	})
}

// Principal loads the caller of a request from a token's user and device,
// with the device's session generation, checking that both are still
// allowed. Errors: token_invalid (unknown user or device), user_disabled,
// device_revoked.
func (db *DB) Principal(ctx context.Context, userID, deviceID string) (*server.Principal, error) {
	return sqlstore.ReadPrincipal(db.read.QueryRowContext(ctx, `SELECT `+userCols+sqlstore.PrincipalWhere, userID, deviceID), deviceID, sql.ErrNoRows)
}

// Devices lists devices with their sync health, limited to users whose
// counties meet the scope (all devices for an unlimited scope).
func (db *DB) Devices(ctx context.Context, scope server.Scope) ([]*server.Device, error) {
	q, args := dialect.DevicesSQL(scope, `coalesce(p.uploaded, 0) = 0`)
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY u.username, d.created_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadDevices(rows)
}

// Device returns any user's device by its id, with its sync health.
// Errors: not_found.
func (db *DB) Device(ctx context.Context, id string) (*server.Device, error) {
	rows, err := db.read.QueryContext(ctx, dialect.DeviceSQL(`coalesce(p.uploaded, 0) = 0`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadDevice(rows)
}

// DeviceIDs lists the ids of every device registered to a user.
func (db *DB) DeviceIDs(ctx context.Context, userID string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, sqlstore.DeviceIDsSQL, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadIDs(rows)
}

// Conflicts lists conflict-log entries in scope, newest first, optionally
// for one record.
func (db *DB) Conflicts(ctx context.Context, scope server.Scope, entity, recordID string, limit int) ([]server.Conflict, error) {
	q, args := dialect.ConflictsSQL(scope, entity, recordID, limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadConflicts(rows)
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// consoleSessionKeep is how long ended sessions stay in the table before
// CreateConsoleSession deletes them, for the record.
const consoleSessionKeep = 30 * 24 * time.Hour

// CreateConsoleSession stores a new console session and deletes the
// sessions that ended more than 30 days ago.
func (db *DB) CreateConsoleSession(ctx context.Context, s *server.ConsoleSession) error {
	return db.writeSQL(ctx, func(tx pgx.Tx) error {
		old := s.CreatedAt.Add(-consoleSessionKeep).UnixMilli()
		if _, err := exec(ctx, tx, `DELETE FROM console_sessions WHERE expires_at < ? OR revoked_at < ? OR last_seen_at < ?`, old, old, old); err != nil {
			return fmt.Errorf("prune console sessions: %w", err)
		}
		_, err := exec(ctx, tx, `INSERT INTO console_sessions (id, user_id, csrf, created_at, last_seen_at, expires_at, user_agent, ip)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.UserID, s.CSRF, s.CreatedAt.UnixMilli(), s.CreatedAt.UnixMilli(), s.ExpiresAt.UnixMilli(),
			s.UserAgent, s.IP)
		if err != nil {
			return fmt.Errorf("insert console session: %w", err)
		}
		return nil
	})
}

// TouchConsoleSession returns the live session with this id and records
// now as its last use when the one recorded is ConsoleTouchEvery old.
// Errors: unauthorized (unknown, revoked, expired, or idle for longer than
// idle); not a failure to record the use on a full disk
// (sqlstore.TouchConsoleSession).
func (db *DB) TouchConsoleSession(ctx context.Context, id string, idle time.Duration, now time.Time) (*server.ConsoleSession, error) {
	return sqlstore.TouchConsoleSession(func() (*server.ConsoleSession, error) {
		s, err := sqlstore.ScanConsoleSession(queryRow(ctx, db.pool, `SELECT `+sqlstore.ConsoleSessionCols+` FROM console_sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id = ?`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, sqlstore.ErrNoConsoleSession()
		}
		return s, err
	}, func() error {
		return db.writeSQL(ctx, func(tx pgx.Tx) error {
			_, err := exec(ctx, tx, `UPDATE console_sessions SET last_seen_at = greatest(last_seen_at, ?) WHERE id = ?`, now.UnixMilli(), id)
			return err
		})
	}, idle, now)
}

// RevokeConsoleSession ends one console session; one ended already keeps
// its first revocation time. Errors: not_found.
func (db *DB) RevokeConsoleSession(ctx context.Context, id string, at time.Time) error {
	return db.writeSQL(ctx, func(tx pgx.Tx) error {
		res, err := exec(ctx, tx, `UPDATE console_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, at.UnixMilli(), id)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return server.Errorf(syncproto.CodeNotFound, "会话不存在")
		}
		return nil
	})
}

// ConsoleSessions lists a user's live console sessions, newest first.
func (db *DB) ConsoleSessions(ctx context.Context, username string, idle time.Duration, now time.Time) ([]*server.ConsoleSession, error) {
	rows, err := query(ctx, db.pool, `SELECT `+sqlstore.ConsoleSessionCols+` FROM console_sessions s JOIN users u ON u.id = s.user_id
		WHERE u.username = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND s.last_seen_at >= ? ORDER BY s.created_at DESC`,
		username, now.UnixMilli(), now.Add(-idle).UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadConsoleSessions(rows)
}

// endUserSessions revokes a user's console sessions and ends the session
// of each of their devices, so every credential issued so far stops
// working.
func endUserSessions(ctx context.Context, tx pgx.Tx, userID string, at time.Time) error {
	if _, err := exec(ctx, tx, `UPDATE console_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, at.UnixMilli(), userID); err != nil {
		return fmt.Errorf("revoke console sessions: %w", err)
	}
	if _, err := exec(ctx, tx, `UPDATE devices SET refresh_hash = '', refresh_expires_at = 0, session = session + 1, signed_out_at = ? WHERE user_id = ?`,
		at.UnixMilli(), userID); err != nil {
		return fmt.Errorf("end device sessions: %w", err)
	}
	return nil
}

// userID returns the id of username. Errors: not_found.
func userID(ctx context.Context, tx pgx.Tx, username string) (string, error) {
	// As UserByUsername finds a user: spelled exactly so, or the only one
	// whose username differs from it in letter case.
	rows, err := query(ctx, tx, `SELECT `+userCols+`, u.password_hash FROM users u`+sqlstore.UserByNameWhere, username, username)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	u, _, err := sqlstore.PickUser(rows, username)
	if server.ErrorCode(err) == syncproto.CodeNotFound {
		return "", server.Errorf(syncproto.CodeNotFound, "用户 %s 不存在", username)
	} else if err != nil {
		return "", err
	}
	return u.ID, nil
}

// SetUserPassword replaces a user's password hash and ends their console
// and device sessions. Errors: not_found.
func (db *DB) SetUserPassword(ctx context.Context, username, passwordHash string) error {
	return db.setPassword(ctx, username, "", passwordHash)
}

// ReplaceUserPassword sets a user's own new password in place of the one
// they proved (oldHash) and ends their sessions. Errors: not_found,
// user_disabled, conflict (the password changed since it was checked).
func (db *DB) ReplaceUserPassword(ctx context.Context, username, oldHash, newHash string) error {
	return db.setPassword(ctx, username, oldHash, newHash)
}

// setPassword stores a user's password hash, if oldHash is set only in
// place of it (sqlstore.CheckPasswordReplace), and ends their sessions.
func (db *DB) setPassword(ctx context.Context, username, oldHash, passwordHash string) error {
	return db.writeSQL(ctx, func(tx pgx.Tx) error {
		id, err := userID(ctx, tx, username)
		if err != nil {
			return err
		}
		if oldHash != "" {
			var hash string
			var disabled bool
			if err := tx.QueryRow(ctx, `SELECT password_hash, disabled FROM users WHERE id = $1`, id).Scan(&hash, &disabled); err != nil {
				return err
			}
			if err := sqlstore.CheckPasswordReplace(hash, disabled, oldHash); err != nil {
				return err
			}
		}
		if _, err := exec(ctx, tx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id); err != nil {
			return err
		}
		return endUserSessions(ctx, tx, id, time.Now())
	})
}

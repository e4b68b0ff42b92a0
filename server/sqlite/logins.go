package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
)

// LoginAttempts returns the failed sign-ins known under these keys (keys
// with none are absent).
func (db *DB) LoginAttempts(ctx context.Context, keys []string) (map[string]server.LoginAttempts, error) {
	return loginAttempts(ctx, db.read, keys)
}

// loginAttempts is LoginAttempts read through q (the reader pool, or a
// write transaction).
func loginAttempts(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, keys []string) (map[string]server.LoginAttempts, error) {
	out := make(map[string]server.LoginAttempts, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := q.QueryContext(ctx, `SELECT key, failures, locked_until, last_failure, in_flight, in_flight_until FROM login_attempts
		WHERE key IN (?`+strings.Repeat(", ?", len(keys)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read login attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var a server.LoginAttempts
		var until, last, flightUntil int64
		if err := rows.Scan(&k, &a.Failures, &until, &last, &a.InFlight, &flightUntil); err != nil {
			return nil, err
		}
		a.Until, a.Last, a.InFlightUntil = sqlstore.TimeOfMillis(until), sqlstore.TimeOfMillis(last), sqlstore.TimeOfMillis(flightUntil)
		out[k] = a
	}
	return out, rows.Err()
}

// UpdateLoginAttempts reads and stores the keys' states in one write
// transaction: SQLite's one writer puts concurrent updates in a row.
func (db *DB) UpdateLoginAttempts(ctx context.Context, keys []string, update func(map[string]server.LoginAttempts)) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		states, err := loginAttempts(ctx, tx, keys)
		if err != nil {
			return err
		}
		update(states)
		for _, k := range keys {
			a, ok := states[k]
			if !ok || a.Zero() {
				if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ?`, k); err != nil {
					return fmt.Errorf("drop login attempts: %w", err)
				}
				continue
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO login_attempts (key, failures, locked_until, last_failure, in_flight, in_flight_until)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
				last_failure = excluded.last_failure, in_flight = excluded.in_flight, in_flight_until = excluded.in_flight_until`,
				k, a.Failures, sqlstore.MillisOrZero(a.Until), sqlstore.MillisOrZero(a.Last), a.InFlight, sqlstore.MillisOrZero(a.InFlightUntil))
			if err != nil {
				return fmt.Errorf("store login attempts: %w", err)
			}
		}
		return nil
	})
}

// ClearLoginAttempts forgets key and every key whose last failure, and
// last attempt in flight, are before forgetBefore.
func (db *DB) ClearLoginAttempts(ctx context.Context, key string, forgetBefore time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		t := forgetBefore.UnixMilli()
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ? OR last_failure < ? AND in_flight_until < ?`, key, t, t); err != nil {
			return fmt.Errorf("clear login attempts: %w", err)
		}
		return nil
	})
}

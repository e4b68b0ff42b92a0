package postgres

import (
	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"slices"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The token signing keys (server.KeyStore) and the failed sign-ins
// (server.LoginStore), kept here so that every server shares them. Times
// are Unix ms (the zero time too, as the SQLite store keeps it).

// SigningKeys returns the keys, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]server.SigningKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, secret, created_at FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	defer rows.Close()
	return sqlstore.ReadSigningKeys(rows)
}

// AddSigningKey stores a new key. Errors: conflict (the id exists).
func (db *DB) AddSigningKey(ctx context.Context, k server.SigningKey) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO signing_keys (id, secret, created_at) VALUES ($1, $2, $3)`, k.ID, k.Secret, k.CreatedAt.UnixMilli())
	if isUnique(err) {
		return server.Errorf(syncproto.CodeConflict, "签名密钥 %s 已存在", k.ID)
	}
	if err != nil {
		return fmt.Errorf("add signing key: %w", err)
	}
	return nil
}

// RemoveSigningKeys deletes the keys created before t except the newest
// key, and returns how many it deleted.
func (db *DB) RemoveSigningKeys(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM signing_keys WHERE created_at < $1
		AND id != (SELECT id FROM signing_keys ORDER BY created_at DESC, id DESC LIMIT 1)`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("remove signing keys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// LoginAttempts returns the state of these keys (absent: none).
func (db *DB) LoginAttempts(ctx context.Context, keys []string) (map[string]server.LoginAttempts, error) {
	return loginAttempts(ctx, db.pool, keys, "")
}

// loginAttempts is LoginAttempts read through q, with a locking clause
// (FOR UPDATE) if lock is set. A key's placeholder row (no failure yet,
// made by UpdateLoginAttempts to have a row to lock) reads as absent.
func loginAttempts(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, keys []string, lock string) (map[string]server.LoginAttempts, error) {
	out := map[string]server.LoginAttempts{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT key, failures, locked_until, last_failure, in_flight, in_flight_until FROM login_attempts
		WHERE key = ANY($1) ORDER BY key `+lock, keys)
	if err != nil {
		return nil, fmt.Errorf("read login attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var failures, until, last, flight, flightUntil int64
		if err := rows.Scan(&key, &failures, &until, &last, &flight, &flightUntil); err != nil {
			return nil, err
		}
		a := server.LoginAttempts{Failures: int(failures), Until: sqlstore.TimeOfMillis(until), Last: sqlstore.TimeOfMillis(last),
			InFlight: int(flight), InFlightUntil: sqlstore.TimeOfMillis(flightUntil)}
		if a.Zero() {
			continue // a placeholder
		}
		out[key] = a
	}
	return out, rows.Err()
}

// UpdateLoginAttempts locks the keys' rows (made first when absent, in
// key order so that two updates cannot deadlock), reads them, and stores
// what update makes of them, in one transaction: an update on another
// server waits for this one and reads its result.
func (db *DB) UpdateLoginAttempts(ctx context.Context, keys []string, update func(map[string]server.LoginAttempts)) error {
	if len(keys) == 0 {
		return nil
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_attempts (key, failures, locked_until, last_failure)
			SELECT k, 0, 0, 0 FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`, sorted); err != nil {
			return fmt.Errorf("make login attempt rows: %w", err)
		}
		states, err := loginAttempts(ctx, tx, sorted, "FOR UPDATE")
		if err != nil {
			return err
		}
		update(states)
		for _, k := range sorted {
			a, ok := states[k]
			if !ok || a.Zero() {
				continue // its row is deleted below, placeholder or not
			}
			if _, err := tx.Exec(ctx, `UPDATE login_attempts SET failures = $2, locked_until = $3, last_failure = $4,
				in_flight = $5, in_flight_until = $6 WHERE key = $1`,
				k, a.Failures, sqlstore.MillisOrZero(a.Until), sqlstore.MillisOrZero(a.Last), a.InFlight, sqlstore.MillisOrZero(a.InFlightUntil)); err != nil {
				return fmt.Errorf("store login attempts: %w", err)
			}
		}
		var gone []string
		for _, k := range sorted {
			if a, ok := states[k]; !ok || a.Zero() {
				gone = append(gone, k)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_attempts WHERE key = ANY($1)`, gone); err != nil {
			return fmt.Errorf("drop login attempts: %w", err)
		}
		return nil
	})
}

// ClearLoginAttempts forgets key and every key whose last failure, and
// last attempt in flight, are before forgetBefore.
func (db *DB) ClearLoginAttempts(ctx context.Context, key string, forgetBefore time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM login_attempts WHERE key = $1 OR last_failure < $2 AND in_flight_until < $2`,
		key, forgetBefore.UnixMilli()); err != nil {
		return fmt.Errorf("clear login attempts: %w", err)
	}
	return nil
}

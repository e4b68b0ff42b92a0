package postgres

import (
	"context"
	"fmt"
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
	out := map[string]server.LoginAttempts{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT key, failures, locked_until, last_failure FROM login_attempts WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("read login attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var failures, until, last int64
		if err := rows.Scan(&key, &failures, &until, &last); err != nil {
			return nil, err
		}
		out[key] = server.LoginAttempts{Failures: int(failures), Until: time.UnixMilli(until), Last: time.UnixMilli(last)}
	}
	return out, rows.Err()
}

// PutLoginAttempts stores the new state of keys.
func (db *DB) PutLoginAttempts(ctx context.Context, states map[string]server.LoginAttempts) error {
	for key, s := range states {
		if _, err := db.pool.Exec(ctx, `INSERT INTO login_attempts (key, failures, locked_until, last_failure) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
			last_failure = excluded.last_failure`, key, s.Failures, s.Until.UnixMilli(), s.Last.UnixMilli()); err != nil {
			return fmt.Errorf("store login attempts: %w", err)
		}
	}
	return nil
}

// ClearLoginAttempts forgets key and every key whose last failure is
// before forgetBefore.
func (db *DB) ClearLoginAttempts(ctx context.Context, key string, forgetBefore time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM login_attempts WHERE key = $1 OR last_failure < $2`, key, forgetBefore.UnixMilli()); err != nil {
		return fmt.Errorf("clear login attempts: %w", err)
	}
	return nil
}

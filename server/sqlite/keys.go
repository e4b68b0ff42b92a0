package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// SigningKeys returns the token signing keys, newest first.
func (db *DB) SigningKeys(ctx context.Context) ([]server.SigningKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, secret, created_at FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("read signing keys: %w", err)
	}
	defer rows.Close()
	return sqlstore.ReadSigningKeys(rows)
}

// AddSigningKey stores a new signing key. Errors: conflict (the id exists).
func (db *DB) AddSigningKey(ctx context.Context, k server.SigningKey) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (id, secret, created_at) VALUES (?, ?, ?)`,
			k.ID, k.Secret, k.CreatedAt.UnixMilli())
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return server.Errorf(syncproto.CodeConflict, "签名密钥 %s 已存在", k.ID)
		}
		if err != nil {
			return fmt.Errorf("insert signing key: %w", err)
		}
		return nil
	})
}

// RemoveSigningKeys deletes the keys created before t except the newest
// key, and returns how many it deleted.
func (db *DB) RemoveSigningKeys(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.writeSQL(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE created_at < ? AND id NOT IN
			(SELECT id FROM signing_keys ORDER BY created_at DESC, id DESC LIMIT 1)`, before.UnixMilli())
		if err != nil {
			return fmt.Errorf("delete signing keys: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

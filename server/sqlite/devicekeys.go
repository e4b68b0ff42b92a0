package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// PutDeviceKey registers a device's capture key, or proves it
// (server.DeviceKeyStore). Errors: conflict, device_revoked, not_found.
func (db *DB) PutDeviceKey(ctx context.Context, k *server.DeviceKey) (*server.DeviceKey, error) {
	var out *server.DeviceKey
	err := db.writeSQL(ctx, func(tx *sql.Tx) error {
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM devices WHERE id = ?`, k.DeviceID).Scan(&revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return server.Errorf(syncproto.CodeNotFound, "设备不存在")
		case err != nil:
			return err
		case revoked.Valid:
			return server.ErrDeviceRevoked
		}
		old, err := sqlstore.ScanDeviceKey(tx.QueryRowContext(ctx, `SELECT `+sqlstore.DeviceKeyCols+` FROM device_keys WHERE id = ?`, k.ID))
		if errors.Is(err, sql.ErrNoRows) {
			old, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("read device key: %w", err)
		}
		step, stored, err := server.NextKeyStep(old, k)
		if err != nil {
			return err
		}
		switch step {
		case server.KeyInsert:
			_, err = tx.ExecContext(ctx, sqlstore.InsertDeviceKey, sqlstore.DeviceKeyArgs(k)...)
		case server.KeyProve:
			_, err = tx.ExecContext(ctx, sqlstore.ProveDeviceKey, sqlstore.ProveDeviceKeyArgs(k)...)
		}
		if err != nil {
			return fmt.Errorf("store device key: %w", err)
		}
		out = stored
		return nil
	})
	return out, err
}

// DeviceKeys lists a device's capture keys, oldest first.
func (db *DB) DeviceKeys(ctx context.Context, deviceID string) ([]*server.DeviceKey, error) {
	return sqlstore.DeviceKeys(ctx, reader{db.read}, deviceID)
}

// DeviceKey returns a capture key by id, or nil (server.WriteTx).
func (t *writeTx) DeviceKey(ctx context.Context, keyID string) (*server.DeviceKey, error) {
	st, err := t.stmt(ctx, `SELECT `+sqlstore.DeviceKeyCols+` FROM device_keys WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	k, err := sqlstore.ScanDeviceKey(st.QueryRowContext(ctx, keyID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read device key: %w", err)
	}
	return k, nil
}

// PhotosAwaitingKey returns the live photos of device deviceID signed
// with key keyID that arrived before it was registered
// (server.DeviceKeyStore).
func (db *DB) PhotosAwaitingKey(ctx context.Context, keyID, deviceID string) ([]string, error) {
	return sqlstore.PhotosAwaitingKey(ctx, reader{db.read}, keyID, deviceID)
}

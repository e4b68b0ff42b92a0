package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// PutDeviceKey registers a device's capture key, or proves it
// (server.DeviceKeyStore). Errors: conflict, device_revoked, not_found.
func (db *DB) PutDeviceKey(ctx context.Context, k *server.DeviceKey) (*server.DeviceKey, error) {
	var out *server.DeviceKey
	err := db.writeSQL(ctx, func(tx pgx.Tx) error {
		var revoked *int64
		// FOR UPDATE: a revocation committing meanwhile waits, and then
		// revokes this key too.
		err := queryRow(ctx, tx, `SELECT revoked_at FROM devices WHERE id = ? FOR UPDATE`, k.DeviceID).Scan(&revoked)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return server.Errorf(syncproto.CodeNotFound, "设备不存在")
		case err != nil:
			return err
		case revoked != nil:
			return server.ErrDeviceRevoked
		}
		// Insert first: a registration of the same key committing
		// meanwhile (on another server) makes this insert wait for it and
		// then do nothing, and the key read after is the one that won.
		tag, err := exec(ctx, tx, sqlstore.InsertDeviceKey+` ON CONFLICT (id) DO NOTHING`, sqlstore.DeviceKeyArgs(k)...)
		if err != nil {
			return fmt.Errorf("insert device key: %w", err)
		}
		if tag.RowsAffected() == 1 {
			out = k
			return nil
		}
		// FOR UPDATE: a proof on another server waits for this one.
		old, err := sqlstore.ScanDeviceKey(queryRow(ctx, tx, `SELECT `+sqlstore.DeviceKeyCols+` FROM device_keys WHERE id = ? FOR UPDATE`, k.ID))
		if err != nil {
			return fmt.Errorf("read device key: %w", err)
		}
		step, stored, err := server.NextKeyStep(old, k)
		if err != nil {
			return err
		}
		if step == server.KeyProve {
			if _, err := exec(ctx, tx, sqlstore.ProveDeviceKey, sqlstore.ProveDeviceKeyArgs(k)...); err != nil {
				return fmt.Errorf("prove device key: %w", err)
			}
		}
		out = stored
		return nil
	})
	return out, err
}

// DeviceKeys lists a device's capture keys, oldest first.
func (db *DB) DeviceKeys(ctx context.Context, deviceID string) ([]*server.DeviceKey, error) {
	return sqlstore.DeviceKeys(ctx, reader{db.pool}, deviceID)
}

// DeviceKey returns a capture key by id, or nil (server.WriteTx).
func (t *writeTx) DeviceKey(ctx context.Context, keyID string) (*server.DeviceKey, error) {
	k, err := sqlstore.ScanDeviceKey(queryRow(ctx, t.tx, `SELECT `+sqlstore.DeviceKeyCols+` FROM device_keys WHERE id = ?`, keyID))
	if errors.Is(err, pgx.ErrNoRows) {
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
	return sqlstore.PhotosAwaitingKey(ctx, reader{db.pool}, keyID, deviceID)
}

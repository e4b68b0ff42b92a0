package sqlstore

import (
	"context"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
)

// The device_keys table (server.DeviceKeyStore), the same in both stores.

// DeviceKeyCols are the columns ScanDeviceKey reads, in order.
const DeviceKeyCols = `id, device_id, spki, created_at, revoked_at, proven`

// InsertDeviceKey stores a new key (arguments: DeviceKeyArgs).
const InsertDeviceKey = `INSERT INTO device_keys (` + DeviceKeyCols + `) VALUES (?, ?, ?, ?, ?, ?)`

// RevokeDeviceKeys revokes a device's keys not yet revoked (arguments:
// revoked_at in ms, device id).
const RevokeDeviceKeys = `UPDATE device_keys SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL`

// ReinstateDeviceKeys gives back the keys its device's revocation revoked
// (arguments: device id, the device's revoked_at in ms): those revoked at
// that very time.
const ReinstateDeviceKeys = `UPDATE device_keys SET revoked_at = NULL WHERE device_id = ? AND revoked_at = ?`

// DeviceKeyArgs are k's values for InsertDeviceKey.
func DeviceKeyArgs(k *server.DeviceKey) []any {
	var revoked any
	if k.RevokedAt != nil {
		revoked = k.RevokedAt.UnixMilli()
	}
	return []any{k.ID, k.DeviceID, k.SPKI, k.CreatedAt.UnixMilli(), revoked, k.Proven}
}

// ProveDeviceKey marks a device's key proven, and moves to the device a
// key another device registered without a proof (arguments: device id,
// created_at in ms, key id): a key's owner proves it holds the private
// key (server.KeyRegistration). The move starts the key afresh: the
// other device's revocation was never the owner's.
const ProveDeviceKey = `UPDATE device_keys SET proven = TRUE,
	created_at = CASE WHEN device_id = ? THEN created_at ELSE ? END,
	revoked_at = CASE WHEN device_id = ? THEN revoked_at END,
	device_id = ? WHERE id = ?`

// ProveDeviceKeyArgs are the arguments of ProveDeviceKey for key k, its
// owner proven.
func ProveDeviceKeyArgs(k *server.DeviceKey) []any {
	return []any{k.DeviceID, k.CreatedAt.UnixMilli(), k.DeviceID, k.DeviceID, k.ID}
}

// ScanDeviceKey reads a row of DeviceKeyCols.
func ScanDeviceKey(s Scanner) (*server.DeviceKey, error) {
	var k server.DeviceKey
	var created int64
	var revoked *int64
	if err := s.Scan(&k.ID, &k.DeviceID, &k.SPKI, &created, &revoked, &k.Proven); err != nil {
		return nil, err
	}
	k.CreatedAt = time.UnixMilli(created).UTC()
	if revoked != nil {
		t := time.UnixMilli(*revoked).UTC()
		k.RevokedAt = &t
	}
	return &k, nil
}

// DeviceKeys lists a device's capture keys, oldest first (both stores'
// DeviceKeys).
func DeviceKeys(ctx context.Context, r Reader, deviceID string) ([]*server.DeviceKey, error) {
	rows, err := r.Query(ctx, `SELECT `+DeviceKeyCols+` FROM device_keys WHERE device_id = ? ORDER BY created_at, id`, deviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*server.DeviceKey
	for rows.Next() {
		k, err := ScanDeviceKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// PhotosAwaitingKeySQL selects the live photos a device created whose
// capture check found their key unknown, another device's or revoked, by
// key id and device; its condition is the partial index
// photo_awaiting_key's.
const PhotosAwaitingKeySQL = `SELECT id FROM photo WHERE capture_key_id = ? AND (capture LIKE '%"unknown_key"%' OR capture LIKE '%"other_device"%' OR capture LIKE '%"revoked_key"%') AND created_device = ? AND deleted_hlc = '' ORDER BY seq`

// PhotosAwaitingKey returns the live photos device deviceID created,
// signed with key keyID, whose capture check found the key unknown,
// another device's or revoked (both stores' PhotosAwaitingKey).
func PhotosAwaitingKey(ctx context.Context, r Reader, keyID, deviceID string) ([]string, error) {
	rows, err := r.Query(ctx, PhotosAwaitingKeySQL, keyID, deviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return ReadIDs(rows)
}

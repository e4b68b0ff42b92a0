package photos

import (
	"encoding/json"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// signatureFlag raises signature_invalid for a photo whose capture
// signature the server could not accept when the record arrived
// (server.CaptureResult): a signature that fails is evidence that the
// fields, or the device, are not what the app signed. A photo without a
// signature (not_in_app) is not flagged: its capture field says so.
func signatureFlag(r *server.StoredRecord) map[string]any {
	var c server.CaptureResult
	if json.Unmarshal(r.Value(syncproto.FieldCapture), &c) != nil {
		return nil
	}
	switch c.Status {
	case syncproto.CaptureInvalid, syncproto.CaptureRevokedKey, syncproto.CaptureUnknownKey:
		out := map[string]any{"status": c.Status, "key_id": c.KeyID}
		if c.Reason != "" {
			out["reason"] = c.Reason
		}
		return out
	}
	return nil
}

package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Signed captures (mobile-api-docs/signed-captures.md): a device registers
// an ECDSA P-256 public key after signing in and signs each photo its app
// takes with the camera; the server checks the signature when the photo
// record arrives and keeps the result in the photo's server-owned capture
// field. A photo without a signature is marked not_in_app, never refused.

// DeviceKey is a public key a device signs its captures with.
type DeviceKey struct {
	ID        string // syncproto.CaptureKeyID of SPKI
	DeviceID  string
	SPKI      []byte // DER SubjectPublicKeyInfo, ECDSA P-256
	CreatedAt time.Time
	// RevokedAt is when the key's device was revoked (RevokeDevice); a
	// signature by the key on a record arriving then or later fails.
	RevokedAt *time.Time
	// Proven says whether the device proved that it holds the private
	// key (syncproto.KeyProofMessage).
	Proven bool
	// MovedFrom, set only in PutDeviceKey's answer, is the device that
	// held the key, registered without a proof, until this registration
	// proved it.
	MovedFrom string
}

// KeyStep is what registering a key does to the key stored under its id.
type KeyStep int

// The steps of a key registration (NextKeyStep).
const (
	KeyInsert KeyStep = iota // no such key yet: store it
	KeyKeep                  // the device's own key, already as proven as this registration: nothing to change
	KeyProve                 // mark it proven, moving it from another device that did not prove it (sqlstore.ProveDeviceKey)
)

// NextKeyStep decides what registering k does when old (nil if none) is
// stored under its id, and returns the key as it will stand. A key
// registered without a proof by another device moves to the device that
// proves it: the public half is no secret, and anyone could register it
// first to make the owner's photos read another device's. Errors:
// conflict (the key is another device's and this registration does not
// prove it, or the other device proved it too).
func NextKeyStep(old, k *DeviceKey) (KeyStep, *DeviceKey, error) {
	taken := Errorf(syncproto.CodeConflict, "该公钥已登记在其他设备上")
	switch {
	case old == nil:
		return KeyInsert, k, nil
	case !bytes.Equal(old.SPKI, k.SPKI):
		return 0, nil, taken
	case old.DeviceID == k.DeviceID && (old.Proven || !k.Proven):
		return KeyKeep, old, nil
	case old.DeviceID == k.DeviceID:
		proven := *old
		proven.Proven = true
		return KeyProve, &proven, nil
	case k.Proven && !old.Proven:
		moved := *k
		moved.MovedFrom = old.DeviceID
		return KeyProve, &moved, nil
	}
	return 0, nil, taken
}

// DeviceKeyStore keeps the devices' capture keys. RevokeDevice revokes the
// device's keys with it.
type DeviceKeyStore interface {
	// PutDeviceKey registers k for k.DeviceID and returns the stored key:
	// registering a key the device already has changes nothing (its first
	// CreatedAt is kept) but proves it (k.Proven), and a proven k takes
	// the key from another device that did not prove it (NextKeyStep). A
	// device may hold several keys (rotation): the older ones keep
	// verifying what they signed. Errors: conflict (the key is another
	// device's), device_revoked, not_found (no device).
	PutDeviceKey(ctx context.Context, k *DeviceKey) (*DeviceKey, error)
	// DeviceKeys lists a device's keys, oldest first.
	DeviceKeys(ctx context.Context, deviceID string) ([]*DeviceKey, error)
	// PhotosAwaitingKey returns the live photos device deviceID created,
	// signed with key keyID, whose capture check found it unknown (they
	// arrived before it was registered), another device's (registered by
	// a device that did not prove it) or revoked, in feed order.
	PhotosAwaitingKey(ctx context.Context, keyID, deviceID string) ([]string, error)
}

// maxSPKIBase64 bounds the key a device may send: a P-256 SPKI is 91
// bytes (124 in base64).
const maxSPKIBase64 = 512

// RegisterCaptureKey checks a public key sent by the caller's device
// (base64 or base64url of a DER SubjectPublicKeyInfo holding an ECDSA
// P-256 key) and, if sent, the proof that the device holds its private
// key (syncproto.KeyProofMessage signed with it), and stores it for that
// device. Errors: missing_field (no key), invalid_value (not such a key,
// a proof that does not verify), and those of PutDeviceKey.
func RegisterCaptureKey(ctx context.Context, st DeviceKeyStore, p *Principal, req syncproto.CaptureKeyRequest, now time.Time) (*DeviceKey, error) {
	publicKey := req.PublicKey
	if publicKey == "" {
		return nil, Errorf(syncproto.CodeMissingField, "缺少 public_key（base64 编码的 P-256 公钥，SPKI）").At("public_key")
	}
	bad := Errorf(syncproto.CodeInvalidValue, "public_key 应为 base64 编码的 P-256 公钥（SPKI）").At("public_key")
	if len(publicKey) > maxSPKIBase64 {
		return nil, bad
	}
	spki, err := decodeBase64(publicKey)
	if err != nil {
		return nil, bad
	}
	pub, err := syncproto.ParseCaptureKey(spki)
	if err != nil {
		return nil, bad
	}
	k := &DeviceKey{ID: syncproto.CaptureKeyID(spki), DeviceID: p.DeviceID, SPKI: spki, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	if req.Proof != nil {
		if *req.Proof == "" {
			// Not read as no proof: a phone that meant to prove its key
			// and sent nothing would take a 409 for a key it holds.
			return nil, Errorf(syncproto.CodeInvalidValue, "proof 为空：不证明私钥时不要发送 proof（signed-captures.md §1）").At("proof")
		}
		if !syncproto.VerifyCapture(pub, syncproto.KeyProofMessage(p.DeviceID, k.ID), *req.Proof) {
			return nil, Errorf(syncproto.CodeInvalidValue, "proof 不是该公钥的私钥对本设备登记内容的签名（signed-captures.md §1）").At("proof")
		}
		k.Proven = true
	}
	return st.PutDeviceKey(ctx, k)
}

// KeyRegistered checks again the signatures of the photos that arrived
// before key k was registered for their device: unknown_key (a phone
// pushes its photos before it learns that the server was restored from a
// backup older than the key's registration, and registers the key again
// only then, sync.md §8.3), and invalid other_device (another device had
// registered the phone's public key, which is no secret, without a proof;
// the phone's proof has now taken it back — and revoked_key when that
// device was revoked meanwhile: a device's own revocation never marks its
// own photos, which it cannot send while revoked). Those that now verify,
// or fail for another reason, get their new capture result, and photo
// processing computes their flags again (signature_invalid). Only the
// photos of the device that registers the key: another device's
// registration would otherwise turn the phone's photos invalid
// (other_device) for good (verification probe). Cheap when there are none:
// an index holds only such photos.
func (s *Syncer) KeyRegistered(ctx context.Context, st DeviceKeyStore, k *DeviceKey) error {
	ids, err := st.PhotosAwaitingKey(ctx, k.ID, k.DeviceID)
	if err != nil || len(ids) == 0 {
		return err
	}
	var changed []string
	err = s.Store.Update(ctx, func(tx WriteTx) error {
		changed = changed[:0]
		e := EntityByName(syncproto.EntityPhoto)
		now := s.Now().UTC()
		for _, id := range ids {
			r, err := tx.Get(ctx, e, id)
			if err != nil {
				return err
			}
			if r == nil || r.State.IsDeleted() {
				continue
			}
			res, err := captureResult(ctx, tx, r, now)
			if err != nil {
				return err
			}
			if sameCapture(r, res) {
				continue
			}
			if err := s.writeCanonical(ctx, tx, r, map[string]json.RawMessage{syncproto.FieldCapture: mustJSON(res)}, now); err != nil {
				return err
			}
			changed = append(changed, id)
		}
		return nil
	})
	if err == nil && len(changed) > 0 && s.PhotoReady != nil {
		s.PhotoReady(changed)
	}
	return err
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// CaptureResult is a photo's capture field: the server's check of its
// signature.
type CaptureResult struct {
	Status string `json:"status"` // syncproto.Capture*
	// Reason says why a signature is invalid: bad_signature (the signed
	// fields or the photo's device differ from what was signed),
	// other_device (the key is another device's), malformed (a signature
	// without a key id or the other way round, or not decodable).
	Reason string `json:"reason,omitempty"`
	KeyID  string `json:"key_id,omitempty"`
	// CheckedAt is when a signature was checked (not for not_in_app).
	CheckedAt string `json:"checked_at,omitempty"`
}

// Reasons of an invalid capture signature.
const (
	CaptureBadSignature = "bad_signature"
	CaptureOtherDevice  = "other_device"
	CaptureMalformed    = "malformed"
)

// captureNeedsCheck reports whether a write to a photo (a create, or a
// change of a signed field or of the signature) changes what checkCapture
// computes. Writes of other fields, and retries that change nothing, cost
// nothing.
func captureNeedsCheck(e *Entity, won []string, created bool) bool {
	if e.Name != syncproto.EntityPhoto {
		return false
	}
	if created {
		return true
	}
	for _, f := range won {
		if f == syncproto.FieldCaptureSig || f == syncproto.FieldCaptureKeyID || slices.Contains(syncproto.CaptureFields, f) {
			return true
		}
	}
	return false
}

// checkCapture verifies photo r's signature as the record now stands and
// sets its capture field with a server HLC, unless the result is the one
// it holds.
func (s *Syncer) checkCapture(ctx context.Context, tx WriteTx, r *StoredRecord, now time.Time) error {
	res, err := captureResult(ctx, tx, r, now)
	if err != nil {
		return err
	}
	if sameCapture(r, res) {
		return nil
	}
	v := mustJSON(res)
	syncproto.Merge(&r.State, map[string]json.RawMessage{syncproto.FieldCapture: v}, false, s.Clock.Observe(r.State.Highest()))
	return nil
}

// sameCapture reports whether photo r's capture field holds res already
// (its check time aside).
func sameCapture(r *StoredRecord, res CaptureResult) bool {
	var old CaptureResult
	return json.Unmarshal(r.Value(syncproto.FieldCapture), &old) == nil &&
		old.Status == res.Status && old.Reason == res.Reason && old.KeyID == res.KeyID
}

// captureResult checks photo r's signature against the key it names, the
// device that created the record, and its fields as they stand.
func captureResult(ctx context.Context, tx WriteTx, r *StoredRecord, now time.Time) (CaptureResult, error) {
	sig, keyID := r.Text(syncproto.FieldCaptureSig), r.Text(syncproto.FieldCaptureKeyID)
	res := CaptureResult{KeyID: keyID, CheckedAt: now.In(ChinaTime).Format(time.RFC3339Nano)}
	switch {
	case sig == "" && keyID == "":
		return CaptureResult{Status: syncproto.CaptureNotInApp}, nil
	case sig == "" || keyID == "" || !syncproto.IsCaptureKeyID(keyID):
		// A key id no key can have is never registered: not unknown_key
		// (attack probe), which says the key may yet be; nor is it named
		// as a key's.
		res.Status, res.Reason = syncproto.CaptureInvalid, CaptureMalformed
		if !syncproto.IsCaptureKeyID(keyID) {
			res.KeyID = ""
		}
		return res, nil
	case !syncproto.WellFormedCaptureSig(sig):
		res.Status, res.Reason = syncproto.CaptureInvalid, CaptureBadSignature
		return res, nil
	}
	k, err := tx.DeviceKey(ctx, keyID)
	if err != nil {
		return res, err
	}
	switch {
	case k == nil:
		res.Status = syncproto.CaptureUnknownKey
		return res, nil
	case k.RevokedAt != nil && !now.Before(*k.RevokedAt):
		res.Status = syncproto.CaptureRevokedKey
		return res, nil
	case k.DeviceID != r.CreatedDevice:
		res.Status, res.Reason = syncproto.CaptureInvalid, CaptureOtherDevice
		return res, nil
	}
	pub, err := syncproto.ParseCaptureKey(k.SPKI)
	if err != nil {
		res.Status, res.Reason = syncproto.CaptureInvalid, CaptureMalformed
		return res, nil
	}
	msg, err := syncproto.CaptureMessage(r.CreatedDevice, r.ID, CaptureValues(r))
	if err != nil || !syncproto.VerifyCapture(pub, msg, sig) {
		res.Status, res.Reason = syncproto.CaptureInvalid, CaptureBadSignature
		return res, nil
	}
	res.Status = syncproto.CaptureSigned
	return res, nil
}

// CaptureValues returns the canonical text of photo r's signed fields
// (syncproto.CaptureMessage).
func CaptureValues(r *StoredRecord) map[string]string {
	fields := make(map[string]json.RawMessage, len(syncproto.CaptureFields))
	for _, f := range syncproto.CaptureFields {
		fields[f] = r.Value(f)
	}
	return syncproto.CaptureValues(fields)
}

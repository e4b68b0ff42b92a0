package syncproto

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// Signed captures (mobile-api-docs/signed-captures.md): a phone app signs
// each photo it takes with its camera with a device key (ECDSA P-256),
// over a canonical text of the photo's evidence fields; the server checks
// the signature when the record arrives.

// CaptureVersion is the first line of every signed capture message.
const CaptureVersion = "fieldsync-capture-v1"

// CaptureFields are the photo fields a capture signature covers, in the
// order of the message (after device_id and photo_id).
var CaptureFields = []string{"sha256", "captured_at", "lon", "lat", "accuracy_m", "crs", "inspection_id", "finding_id", "vehicle_check_id", "item_key"}

// Capture field names on the photo record.
const (
	FieldCaptureSig   = "capture_sig"    // the signature, base64url (no padding) of IEEE P1363 r||s
	FieldCaptureKeyID = "capture_key_id" // the signing key's id (CaptureKeyID)
	FieldCapture      = "capture"        // the server's result (server-owned)
)

// The capture statuses the server writes in a photo's capture field.
const (
	CaptureSigned     = "signed"      // captured in the app: a valid signature by a key of the device that sent it
	CaptureNotInApp   = "not_in_app"  // no signature: picked from the gallery, or sent by a device without a key
	CaptureInvalid    = "invalid"     // a signature that does not verify (tampered fields, another device's key, malformed)
	CaptureRevokedKey = "revoked_key" // signed by a key revoked (its device revoked) before the record arrived
	CaptureUnknownKey = "unknown_key" // signed by a key the server does not know
)

// ErrCaptureText is returned by CaptureMessage for a value that holds a
// line break, which the message could not carry unambiguously.
var ErrCaptureText = errors.New("capture field value contains a line break")

// CaptureMessage returns the bytes a capture signature signs:
//
//	fieldsync-capture-v1\n
//	device_id=<device id>\n
//	photo_id=<photo id>\n
//	<field>=<value>\n   (for each of CaptureFields, in order)
//
// Each value is the field's canonical text: a string field's string as
// stored (times exactly as sent), a number as its shortest round-trip
// JSON text (JavaScript's String(n) and JSON.stringify(n) write it), and
// the empty string for an absent or null field. values maps field names
// to that text. A value with "\n" or "\r" cannot be signed
// (ErrCaptureText).
func CaptureMessage(deviceID, photoID string, values map[string]string) ([]byte, error) {
	var b strings.Builder
	b.WriteString(CaptureVersion)
	b.WriteByte('\n')
	line := func(name, v string) error {
		if strings.ContainsAny(v, "\r\n") {
			return ErrCaptureText
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte('\n')
		return nil
	}
	if err := line("device_id", deviceID); err != nil {
		return nil, err
	}
	if err := line("photo_id", photoID); err != nil {
		return nil, err
	}
	for _, f := range CaptureFields {
		if err := line(f, values[f]); err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), nil
}

// CaptureKeyID is a device key's id: the lower-case hex SHA-256 of its
// DER SubjectPublicKeyInfo.
func CaptureKeyID(spki []byte) string {
	sum := sha256.Sum256(spki)
	return hex.EncodeToString(sum[:])
}

// ParseCaptureKey parses a DER SubjectPublicKeyInfo holding an ECDSA
// P-256 public key.
func ParseCaptureKey(spki []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve.Params().Name != "P-256" {
		return nil, errors.New("not an ECDSA P-256 public key")
	}
	return pub, nil
}

// IsCaptureKeyID reports whether id is what CaptureKeyID makes: 64
// lower-case hex digits.
func IsCaptureKeyID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// WellFormedCaptureSig reports whether sig is the base64url (unpadded) of
// 64 bytes, as every capture signature is, whatever it verifies.
func WellFormedCaptureSig(sig string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && len(raw) == 64
}

// VerifyCapture reports whether sig (base64url, unpadded, of the 64-byte
// IEEE P1363 r||s that Web Crypto makes) is pub's ECDSA-SHA-256 signature
// of msg.
func VerifyCapture(pub *ecdsa.PublicKey, msg []byte, sig string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(raw) != 64 {
		return false
	}
	r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	sum := sha256.Sum256(msg)
	return ecdsa.Verify(pub, sum[:], r, s)
}

// SignCapture signs msg with priv as VerifyCapture expects: the Go side
// of what a phone app does with Web Crypto (tests, Go device apps).
func SignCapture(priv *ecdsa.PrivateKey, msg []byte) (string, error) {
	sum := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		return "", err
	}
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// CaptureKeyRequest registers the signed-in device's capture public key
// (POST /api/v1/devices/key).
type CaptureKeyRequest struct {
	// PublicKey is the base64 (or base64url) of the key's DER
	// SubjectPublicKeyInfo: Web Crypto's exportKey("spki").
	PublicKey string `json:"public_key"`
	// Proof, optional, is the key's signature of KeyProofMessage (as a
	// capture signature is made and encoded): it proves that the device
	// holds the private key. A key registered by another device without
	// a proof moves to the device that proves it. Absent (nil, or null)
	// is no proof; an empty one is a bad proof, not none.
	Proof *string `json:"proof,omitempty"`
}

// CaptureKeyResponse is a registered capture key.
type CaptureKeyResponse struct {
	KeyID     string    `json:"key_id"`
	DeviceID  string    `json:"device_id"`
	CreatedAt time.Time `json:"created_at"`
	// Proven says whether the device proved that it holds the private
	// key (CaptureKeyRequest.Proof), now or in an earlier registration.
	Proven bool `json:"proven"`
}

// KeyProofVersion is the first line of a key registration's proof
// message.
const KeyProofVersion = "fieldsync-capture-key-v1"

// KeyProofMessage returns the bytes a key registration's proof signs:
//
//	fieldsync-capture-key-v1\n
//	device_id=<the registering device's id>\n
//	key_id=<the key's id, CaptureKeyID>\n
//
// The device id binds the proof to the device that sends it: another
// device cannot replay it.
func KeyProofMessage(deviceID, keyID string) []byte {
	return []byte(KeyProofVersion + "\ndevice_id=" + deviceID + "\nkey_id=" + keyID + "\n")
}

// CaptureText is a field value's text in a capture message: a JSON
// string's string, a JSON number's canonical text as it is, "" for null or
// absent.
func CaptureText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	return string(raw)
}

// CaptureValues returns the capture message values of a photo's fields
// (wire values in canonical form, as the server stores them).
func CaptureValues(fields map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(CaptureFields))
	for _, f := range CaptureFields {
		out[f] = CaptureText(fields[f])
	}
	return out
}

// RegisterCaptureKey registers this device's capture public key (its DER
// SubjectPublicKeyInfo) with the server: POST /api/v1/devices/key. With
// priv, its private half, the registration carries a proof of it
// (KeyProofMessage, signed for c.DeviceID); nil sends none.
func (c *Client) RegisterCaptureKey(ctx context.Context, spki []byte, priv *ecdsa.PrivateKey) (*CaptureKeyResponse, error) {
	req := CaptureKeyRequest{PublicKey: base64.StdEncoding.EncodeToString(spki)}
	if priv != nil {
		proof, err := SignCapture(priv, KeyProofMessage(c.DeviceID, CaptureKeyID(spki)))
		if err != nil {
			return nil, err
		}
		req.Proof = &proof
	}
	var out CaptureKeyResponse
	if err := c.Do(ctx, http.MethodPost, "/api/v1/devices/key", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

package storetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// deviceKeyCases: the devices' capture keys (signed captures, issue 15).
var deviceKeyCases = []testCase{
	{"PutAndRevoke", testDeviceKeys},
	{"PutOneKeyAtOnce", testDeviceKeyAtOnce},
	{"CheckedOnPush", testCaptureChecked},
	{"CheckedWhenRegistered", testCaptureAwaitingKey},
	{"ProvenTakesBack", testDeviceKeyProven},
}

// captureKey makes an ECDSA P-256 key pair and its server.DeviceKey for
// device.
func captureKey(t testing.TB, device string, at time.Time) (*ecdsa.PrivateKey, *server.DeviceKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return priv, &server.DeviceKey{ID: syncproto.CaptureKeyID(spki), DeviceID: device, SPKI: spki, CreatedAt: at}
}

// testDeviceKeyAtOnce: one key registered at once by two devices (and
// twice by one of them) has one owner, and every answer agrees with it:
// the owner's registrations return the key, the other's conflict.
func testDeviceKeyAtOnce(t *testing.T, open Opener) {
	e := seeded(t, open)
	for round := range 6 {
		d, other := e.inspector(xinfu), e.inspector(xinfu)
		_, k := captureKey(t, d.p.DeviceID, t0)
		devices := []string{d.p.DeviceID, d.p.DeviceID, other.p.DeviceID}
		got := make([]*server.DeviceKey, len(devices))
		errs := make([]error, len(devices))
		var wg sync.WaitGroup
		for i, dev := range devices {
			wg.Go(func() {
				kk := *k
				kk.DeviceID = dev
				got[i], errs[i] = e.st.PutDeviceKey(e.ctx, &kk)
			})
		}
		wg.Wait()
		keys, err := e.st.DeviceKeys(e.ctx, d.p.DeviceID)
		if err != nil {
			t.Fatal(err)
		}
		owner := other.p.DeviceID
		if len(keys) == 1 {
			owner = d.p.DeviceID
		}
		for i, dev := range devices {
			switch {
			case dev == owner && (errs[i] != nil || got[i].DeviceID != owner):
				t.Errorf("round %d: the owner's registration %d: %+v %v", round, i, got[i], errs[i])
			case dev != owner && server.ErrorCode(errs[i]) != syncproto.CodeConflict:
				t.Errorf("round %d: registration %d by the device that lost: %+v %v, want conflict", round, i, got[i], errs[i])
			}
		}
	}
}

func testDeviceKeys(t *testing.T, open Opener) {
	e := seeded(t, open)
	d, other := e.inspector(xinfu), e.inspector(xinfu)
	_, k := captureKey(t, d.p.DeviceID, t0)
	got, err := e.st.PutDeviceKey(e.ctx, k)
	if err != nil || got.ID != k.ID || !got.CreatedAt.Equal(t0) || got.RevokedAt != nil {
		t.Fatalf("put: %+v %v", got, err)
	}
	// Again, later: the first registration stands.
	again := *k
	again.CreatedAt = t0.Add(time.Hour)
	if got, err := e.st.PutDeviceKey(e.ctx, &again); err != nil || !got.CreatedAt.Equal(t0) {
		t.Errorf("put again: %+v %v, want created at %v", got, err, t0)
	}
	// The same key for another device, or for no device.
	taken := *k
	taken.DeviceID = other.p.DeviceID
	_, err = e.st.PutDeviceKey(e.ctx, &taken)
	wantCode(t, err, syncproto.CodeConflict, "another device's key")
	_, nobody := captureKey(t, uuid.NewString(), t0)
	_, err = e.st.PutDeviceKey(e.ctx, nobody)
	wantCode(t, err, syncproto.CodeNotFound, "key of an unknown device")
	// A second key (rotation): both are kept, oldest first.
	_, k2 := captureKey(t, d.p.DeviceID, t0.Add(time.Minute))
	if _, err := e.st.PutDeviceKey(e.ctx, k2); err != nil {
		t.Fatal(err)
	}
	keys, err := e.st.DeviceKeys(e.ctx, d.p.DeviceID)
	if err != nil || len(keys) != 2 || keys[0].ID != k.ID || keys[1].ID != k2.ID || string(keys[0].SPKI) != string(k.SPKI) {
		t.Fatalf("keys %+v %v, want both, oldest first", keys, err)
	}
	if keys, _ := e.st.DeviceKeys(e.ctx, other.p.DeviceID); len(keys) != 0 {
		t.Errorf("other device's keys %+v, want none", keys)
	}
	// The write transaction finds a key by id.
	if err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		if got, err := tx.DeviceKey(e.ctx, k2.ID); err != nil || got == nil || got.DeviceID != d.p.DeviceID {
			t.Errorf("tx key: %+v %v", got, err)
		}
		if got, err := tx.DeviceKey(e.ctx, nobody.ID); err != nil || got != nil {
			t.Errorf("tx unknown key: %+v %v, want nil", got, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Revoking the device revokes its keys, at the revocation's time, once.
	revoked := t0.Add(2 * time.Hour)
	if err := e.st.RevokeDevice(e.ctx, d.p.DeviceID, revoked); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RevokeDevice(e.ctx, d.p.DeviceID, revoked.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err = e.st.DeviceKeys(e.ctx, d.p.DeviceID)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys after revocation: %+v %v", keys, err)
	}
	for _, k := range keys {
		if k.RevokedAt == nil || !k.RevokedAt.Equal(revoked) {
			t.Errorf("key %s revoked at %v, want %v", k.ID, k.RevokedAt, revoked)
		}
	}
	_, k3 := captureKey(t, d.p.DeviceID, revoked.Add(time.Minute))
	_, err = e.st.PutDeviceKey(e.ctx, k3)
	wantCode(t, err, syncproto.CodeDeviceRevoked, "key of a revoked device")

	// Reinstated, the device has back the keys its revocation revoked.
	if err := e.st.ReinstateDevice(e.ctx, d.p.DeviceID, revoked.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err = e.st.DeviceKeys(e.ctx, d.p.DeviceID)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys after reinstatement: %+v %v", keys, err)
	}
	for _, k := range keys {
		if k.RevokedAt != nil {
			t.Errorf("key %s still revoked (at %v) after its device was reinstated", k.ID, k.RevokedAt)
		}
	}
}

// signedPhoto pushes, by device by, a photo of inspection insp signed
// with priv (key k) as d's capture, and returns its id.
func signedPhoto(t *testing.T, d, by *device, priv *ecdsa.PrivateKey, k *server.DeviceKey, insp string) string {
	t.Helper()
	id := uuid.NewString()
	m := by.mut(syncproto.EntityPhoto, id, map[string]any{"inspection_id": insp, "item_key": "cover", "sha256": sha(15),
		"captured_at": "2026-11-20T10:00:00+08:00", "lat": 38.42, "lon": 112.73, "accuracy_m": 12.5})
	msg, err := syncproto.CaptureMessage(d.p.DeviceID, id, syncproto.CaptureValues(m.Fields))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := syncproto.SignCapture(priv, msg)
	if err != nil {
		t.Fatal(err)
	}
	m.Fields[syncproto.FieldCaptureSig], _ = json.Marshal(sig)
	m.Fields[syncproto.FieldCaptureKeyID], _ = json.Marshal(k.ID)
	by.pushOK(m)
	return id
}

// captureStatus is photo id's capture status as stored.
func (e *env) captureStatus(id string) string {
	var c server.CaptureResult
	_ = json.Unmarshal(e.get(syncproto.EntityPhoto, id).Value(syncproto.FieldCapture), &c)
	return c.Status
}

// testCaptureAwaitingKey: a photo signed with a key not yet registered is
// unknown_key and listed by PhotosAwaitingKey; once the key is registered
// (Syncer.KeyRegistered), it is signed and listed no more.
func testCaptureAwaitingKey(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	priv, k := captureKey(t, d.p.DeviceID, e.Now())
	_, other := captureKey(t, d.p.DeviceID, e.Now())
	_, insp := d.newInspection(xinfu)
	id := signedPhoto(t, d, d, priv, k, insp)
	if got := e.captureStatus(id); got != syncproto.CaptureUnknownKey {
		t.Fatalf("before its key: %q, want unknown_key", got)
	}
	for _, c := range []struct {
		key, device string
		want        int
	}{{k.ID, d.p.DeviceID, 1}, {other.ID, d.p.DeviceID, 0}, {k.ID, e.inspector(xinfu).p.DeviceID, 0}} {
		if ids, err := e.st.PhotosAwaitingKey(e.ctx, c.key, c.device); err != nil || len(ids) != c.want || (c.want == 1 && ids[0] != id) {
			t.Errorf("awaiting key %s of device %s: %v %v, want %d", c.key, c.device, ids, err, c.want)
		}
	}
	if _, err := e.st.PutDeviceKey(e.ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := e.s.KeyRegistered(e.ctx, e.st, k); err != nil {
		t.Fatal(err)
	}
	if got := e.captureStatus(id); got != syncproto.CaptureSigned {
		t.Errorf("after its key: %q, want signed", got)
	}
	if ids, err := e.st.PhotosAwaitingKey(e.ctx, k.ID, d.p.DeviceID); err != nil || len(ids) != 0 {
		t.Errorf("awaiting the key once registered: %v %v, want none", ids, err)
	}
}

// testCaptureChecked: the push path reads the key in its transaction: a
// good signature is signed, and the same key after its device is revoked
// is revoked_key.
func testCaptureChecked(t *testing.T, open Opener) {
	e := seeded(t, open)
	d, other := e.inspector(xinfu), e.inspector(xinfu)
	priv, k := captureKey(t, d.p.DeviceID, e.Now())
	if _, err := e.st.PutDeviceKey(e.ctx, k); err != nil {
		t.Fatal(err)
	}
	_, insp := d.newInspection(xinfu)
	photo := func(by *device) string { return signedPhoto(t, d, by, priv, k, insp) }
	status := e.captureStatus
	before := photo(d)
	if got := status(before); got != syncproto.CaptureSigned {
		t.Fatalf("signed photo: %q, want signed", got)
	}
	if err := e.st.RevokeDevice(e.ctx, d.p.DeviceID, e.advance(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	if got := status(photo(other)); got != syncproto.CaptureRevokedKey {
		t.Errorf("signed with the revoked key: %q, want revoked_key", got)
	}
	if got := status(before); got != syncproto.CaptureSigned {
		t.Errorf("received before the revocation: %q, want still signed", got)
	}
}

// testDeviceKeyProven: a key registered without a proof by a device that
// is not its owner (its public half is no secret) moves to the device
// that proves it, revocation and all undone, and the owner's photos that
// arrived meanwhile (other_device) are listed and checked again; a proven
// key stays with its device, and a proof marks the device's own key
// proven without moving its registration's time.
func testDeviceKeyProven(t *testing.T, open Opener) {
	e := seeded(t, open)
	owner, squatter, third := e.inspector(xinfu), e.inspector(xinfu), e.inspector(xinfu)
	priv, k := captureKey(t, owner.p.DeviceID, e.Now())
	squat := *k
	squat.DeviceID = squatter.p.DeviceID
	if _, err := e.st.PutDeviceKey(e.ctx, &squat); err != nil {
		t.Fatal(err)
	}
	_, insp := owner.newInspection(xinfu)
	id := signedPhoto(t, owner, owner, priv, k, insp)
	if got := e.captureStatus(id); got != syncproto.CaptureInvalid {
		t.Fatalf("the owner's photo under the squatted key: %q, want invalid (other_device)", got)
	}
	if ids, err := e.st.PhotosAwaitingKey(e.ctx, k.ID, owner.p.DeviceID); err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("awaiting the squatted key: %v %v, want the owner's photo", ids, err)
	}
	if err := e.st.RevokeDevice(e.ctx, squatter.p.DeviceID, e.advance(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Sent after the squatter's revocation: revoked_key, for a revocation
	// that was never the owner's (verification probe).
	e.advance(time.Second)
	afterRevocation := signedPhoto(t, owner, owner, priv, k, insp)
	if got := e.captureStatus(afterRevocation); got != syncproto.CaptureRevokedKey {
		t.Fatalf("the owner's photo after the squatter's revocation: %q, want revoked_key", got)
	}
	// Unproven, the owner conflicts; proven, the key is the owner's.
	_, err := e.st.PutDeviceKey(e.ctx, k)
	wantCode(t, err, syncproto.CodeConflict, "the owner's key held by another device, unproven")
	proven := *k
	proven.Proven, proven.CreatedAt = true, e.advance(time.Minute)
	got, err := e.st.PutDeviceKey(e.ctx, &proven)
	if err != nil || got.DeviceID != owner.p.DeviceID || !got.Proven || got.MovedFrom != squatter.p.DeviceID || !got.CreatedAt.Equal(proven.CreatedAt) {
		t.Fatalf("proven by its owner: %+v %v, want moved from the squatter", got, err)
	}
	keys, err := e.st.DeviceKeys(e.ctx, owner.p.DeviceID)
	if err != nil || len(keys) != 1 || !keys[0].Proven || keys[0].RevokedAt != nil || !keys[0].CreatedAt.Equal(proven.CreatedAt) {
		t.Fatalf("the owner's keys %+v %v, want the key, proven, not revoked (the squatter's revocation)", keys, err)
	}
	if keys, _ := e.st.DeviceKeys(e.ctx, squatter.p.DeviceID); len(keys) != 0 {
		t.Errorf("the squatter's keys %+v, want none", keys)
	}
	if err := e.s.KeyRegistered(e.ctx, e.st, got); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{id, afterRevocation} {
		if got := e.captureStatus(p); got != syncproto.CaptureSigned {
			t.Errorf("the owner's photo %s once the key is back: %q, want signed", p, got)
		}
	}
	// Proven, the key stays: neither another proof nor none moves it.
	for _, p := range []bool{false, true} {
		again := *k
		again.DeviceID, again.Proven = third.p.DeviceID, p
		_, err := e.st.PutDeviceKey(e.ctx, &again)
		wantCode(t, err, syncproto.CodeConflict, "a proven key registered by another device")
	}
	// A device's own key registered unproven, then proven: the first
	// registration's time stands.
	_, own := captureKey(t, third.p.DeviceID, e.Now())
	if _, err := e.st.PutDeviceKey(e.ctx, own); err != nil {
		t.Fatal(err)
	}
	later := *own
	later.Proven, later.CreatedAt = true, e.advance(time.Hour)
	if got, err := e.st.PutDeviceKey(e.ctx, &later); err != nil || !got.Proven || !got.CreatedAt.Equal(own.CreatedAt) || got.MovedFrom != "" {
		t.Errorf("the device's own key proven later: %+v %v, want proven, created at %v", got, err, own.CreatedAt)
	}
	if keys, err := e.st.DeviceKeys(e.ctx, third.p.DeviceID); err != nil || len(keys) != 1 || !keys[0].Proven || !keys[0].CreatedAt.Equal(own.CreatedAt) {
		t.Errorf("the device's own key as stored: %+v %v", keys, err)
	}
}

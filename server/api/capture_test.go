package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// captureKey is a device's capture key pair, as a phone's Web Crypto
// makes it.
type captureKey struct {
	priv *ecdsa.PrivateKey
	spki []byte
	id   string
}

func newCaptureKey(t *testing.T) *captureKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &captureKey{priv: priv, spki: spki, id: syncproto.CaptureKeyID(spki)}
}

// sign returns f with the capture signature of photo id by device,
// computed over f's own values.
func (k *captureKey) sign(t *testing.T, device, id string, f F) F {
	t.Helper()
	msg, err := syncproto.CaptureMessage(device, id, syncproto.CaptureValues(f.raw(t)))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := syncproto.SignCapture(k.priv, msg)
	if err != nil {
		t.Fatal(err)
	}
	out := F{syncproto.FieldCaptureSig: sig, syncproto.FieldCaptureKeyID: k.id}
	for n, v := range f {
		out[n] = v
	}
	return out
}

// capturePhoto is a camera capture's fields for an item of insp.
func capturePhoto(insp, sum string) F {
	return F{"inspection_id": insp, "item_key": "fence", "sha256": sum, "content_type": "image/jpeg",
		"captured_at": "2026-11-30T10:15:04.250+08:00", "lon": 112.7336, "lat": 38.4161, "accuracy_m": 8.5, "crs": "wgs84"}
}

// captureOf reads a photo's capture field as the server stored it.
func captureOf(t *testing.T, srv *apptest.Server, id string) server.CaptureResult {
	t.Helper()
	r, err := srv.App.DB.Get(t.Context(), syncproto.EntityPhoto, id)
	if err != nil || r == nil {
		t.Fatalf("photo %s: %v %v", id, r, err)
	}
	var c server.CaptureResult
	if err := json.Unmarshal(r.Value(syncproto.FieldCapture), &c); err != nil {
		t.Fatalf("photo %s capture %s: %v", id, r.Value(syncproto.FieldCapture), err)
	}
	return c
}

func registerKey(t *testing.T, c *syncproto.Client, k *captureKey) {
	t.Helper()
	resp, err := c.RegisterCaptureKey(t.Context(), k.spki, k.priv)
	if err != nil {
		t.Fatalf("register key: %v", err)
	}
	if resp.KeyID != k.id || resp.DeviceID != c.DeviceID || !resp.Proven {
		t.Fatalf("registered %+v, want key %s of device %s, proven", resp, k.id, c.DeviceID)
	}
}

// TestSignedCaptures (issue 15): a photo signed by its device's registered
// key is "signed"; any signed field changed after signing, a key of another
// device, a malformed signature and an unknown key fail or are marked; a
// photo without a signature is "not_in_app" — and every one of them is
// accepted. The check is idempotent under retries and follows a later
// change of a signed field.
func TestSignedCaptures(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	other := srv.Login(apptest.Inspector2)
	key, otherKey, unknown := newCaptureKey(t), newCaptureKey(t), newCaptureKey(t)
	registerKey(t, c, key)
	registerKey(t, c, key) // again: the same answer
	registerKey(t, other, otherKey)
	insp, insp2 := newID(), newID()
	apptest.PushApplied(t, c,
		upsert(t, c, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")),
		upsert(t, c, syncproto.EntityInspection, insp2, newInspection(apptest.DemoSite(t, xinfu), "draft")))
	sum := apptest.SHA256([]byte("a photo"))

	// tamper signs the capture, then changes one field before sending.
	tamper := func(name string, v any) func(t *testing.T, id string) F {
		return func(t *testing.T, id string) F {
			f := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[name] = v
			return f
		}
	}
	cases := []struct {
		name   string
		by     *syncproto.Client
		fields func(t *testing.T, id string) F
		status string
		reason string
	}{
		{"valid", c, func(t *testing.T, id string) F { return key.sign(t, c.DeviceID, id, capturePhoto(insp, sum)) }, syncproto.CaptureSigned, ""},
		{"valid without position", c, func(t *testing.T, id string) F {
			f := capturePhoto(insp, sum)
			delete(f, "lon")
			delete(f, "lat")
			delete(f, "accuracy_m")
			delete(f, "crs")
			return key.sign(t, c.DeviceID, id, f)
		}, syncproto.CaptureSigned, ""},
		{"sha256 tampered", c, tamper("sha256", apptest.SHA256([]byte("another photo"))), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"captured_at tampered", c, tamper("captured_at", "2026-11-30T10:15:04.251+08:00"), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"captured_at respelled", c, tamper("captured_at", "2026-11-30T02:15:04.250Z"), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"lat tampered", c, tamper("lat", 38.4162), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"lon tampered", c, tamper("lon", 112.7337), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"accuracy tampered", c, tamper("accuracy_m", 85), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"crs tampered", c, tamper("crs", "gcj02"), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"inspection tampered", c, tamper("inspection_id", insp2), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"item tampered", c, tamper("item_key", "cover"), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"position added", c, tamper("accuracy_m", nil), syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"signature of another photo", c, func(t *testing.T, _ string) F {
			return key.sign(t, c.DeviceID, newID(), capturePhoto(insp, sum))
		}, syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"signed for another device id", c, func(t *testing.T, id string) F {
			return key.sign(t, other.DeviceID, id, capturePhoto(insp, sum))
		}, syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"not a signature", c, func(t *testing.T, id string) F {
			f := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[syncproto.FieldCaptureSig] = "bm90IGEgc2lnbmF0dXJl"
			return f
		}, syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"signature without key id", c, func(t *testing.T, id string) F {
			f := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			delete(f, syncproto.FieldCaptureKeyID)
			return f
		}, syncproto.CaptureInvalid, server.CaptureMalformed},
		{"key of another device", c, func(t *testing.T, id string) F {
			return otherKey.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
		}, syncproto.CaptureInvalid, server.CaptureOtherDevice},
		{"sent by another device", other, func(t *testing.T, id string) F {
			return key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
		}, syncproto.CaptureInvalid, server.CaptureOtherDevice},
		{"unknown key", c, func(t *testing.T, id string) F { return unknown.sign(t, c.DeviceID, id, capturePhoto(insp, sum)) }, syncproto.CaptureUnknownKey, ""},
		// No key can have these ids, and no key verifies a signature that is
		// not 64 bytes: whatever key they name, they are never unknown_key,
		// which says the key may yet be registered (attack probe).
		{"key id not a key's", c, func(t *testing.T, id string) F {
			f := unknown.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[syncproto.FieldCaptureKeyID] = "../../"
			return f
		}, syncproto.CaptureInvalid, server.CaptureMalformed},
		{"key id in upper case", c, func(t *testing.T, id string) F {
			f := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[syncproto.FieldCaptureKeyID] = strings.ToUpper(key.id)
			return f
		}, syncproto.CaptureInvalid, server.CaptureMalformed},
		{"not a signature, unknown key", c, func(t *testing.T, id string) F {
			f := unknown.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[syncproto.FieldCaptureSig] = strings.Repeat("x", 128)
			return f
		}, syncproto.CaptureInvalid, server.CaptureBadSignature},
		// Longer than any key id or signature: still a photo, accepted, and
		// marked (signed-captures.md §3: accepted in every case).
		{"key id longer than a key's", c, func(t *testing.T, id string) F {
			f := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[syncproto.FieldCaptureKeyID] = key.id + "0"
			return f
		}, syncproto.CaptureInvalid, server.CaptureMalformed},
		{"key id of 2000 characters", c, func(t *testing.T, id string) F {
			f := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[syncproto.FieldCaptureKeyID] = strings.Repeat("ab", 1000)
			return f
		}, syncproto.CaptureInvalid, server.CaptureMalformed},
		{"signature of 2000 characters", c, func(t *testing.T, id string) F {
			f := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
			f[syncproto.FieldCaptureSig] = strings.Repeat("A", 2000)
			return f
		}, syncproto.CaptureInvalid, server.CaptureBadSignature},
		{"no signature", c, func(t *testing.T, id string) F { return capturePhoto(insp, sum) }, syncproto.CaptureNotInApp, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := newID()
			m := upsert(t, tc.by, syncproto.EntityPhoto, id, tc.fields(t, id))
			apptest.PushApplied(t, tc.by, m) // never refused
			got := captureOf(t, srv, id)
			if got.Status != tc.status || got.Reason != tc.reason {
				t.Fatalf("capture %+v, want status %s reason %q", got, tc.status, tc.reason)
			}
			if tc.status != syncproto.CaptureNotInApp && tc.reason != server.CaptureMalformed && got.KeyID == "" {
				t.Errorf("capture %+v names no key", got)
			}
			// A key id no key can have is not repeated as one.
			if kid, _ := tc.fields(t, id)[syncproto.FieldCaptureKeyID].(string); !syncproto.IsCaptureKeyID(kid) && got.KeyID != "" {
				t.Errorf("capture names %q, which is no key's id", got.KeyID)
			}
			// A time the server writes is in China Standard Time, as every
			// other (sync.md §5.1a; SDK probe: it came in UTC).
			if tc.status != syncproto.CaptureNotInApp && !strings.HasSuffix(got.CheckedAt, "+08:00") {
				t.Errorf("capture checked_at %q, want +08:00", got.CheckedAt)
			}
			// A retry, as a new batch, changes nothing.
			wantResult(t, apptest.Push(t, tc.by, m).Results[0], syncproto.StatusDuplicate, "")
			if again := captureOf(t, srv, id); again != got {
				t.Errorf("after a retry: %+v, was %+v", again, got)
			}
		})
	}

	t.Run("signed field changed later", func(t *testing.T) {
		id := newID()
		apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityPhoto, id, key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))))
		apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityPhoto, id, F{"caption": "围挡"}))
		if got := captureOf(t, srv, id); got.Status != syncproto.CaptureSigned {
			t.Fatalf("after a caption: %+v, want signed", got)
		}
		apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityPhoto, id, F{"lat": 38.5}))
		if got := captureOf(t, srv, id); got.Status != syncproto.CaptureInvalid || got.Reason != server.CaptureBadSignature {
			t.Fatalf("after moving the photo: %+v, want invalid", got)
		}
	})
	// A photo's capture facts and its file's type and size are its own
	// device's: a colleague, or the same user's second phone, changing
	// one is refused (immutable_field), and the signature stays valid —
	// before, a colleague's push of another lon was applied, and the
	// photo showed 签名无效 and a position 4 km away. Resending the value
	// held changes nothing and passes; a caption anyone may write.
	t.Run("capture facts are its device's", func(t *testing.T) {
		id := newID()
		signed := key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))
		signed["size_bytes"] = 7
		apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityPhoto, id, signed))
		for who, o := range map[string]*syncproto.Client{"a colleague": other, "the user's second phone": srv.Login(apptest.Inspector)} {
			for name, v := range map[string]any{"lon": 112.80, "lat": 38.5, "captured_at": "2026-01-01T00:00:00+08:00", "accuracy_m": 3,
				"crs": "gcj02", "content_type": "image/png", "size_bytes": 99, "lon ": nil} {
				name = strings.TrimSpace(name) // "lon " clears lon
				res := apptest.Push(t, o, upsert(t, o, syncproto.EntityPhoto, id, F{name: v}))
				wantResult(t, res.Results[0], syncproto.StatusRejected, syncproto.CodeImmutableField)
				if res.Results[0].Field != name {
					t.Errorf("%s's %s refused naming %q", who, name, res.Results[0].Field)
				}
			}
			res := apptest.Push(t, o, upsert(t, o, syncproto.EntityPhoto, id, F{"lon": signed["lon"], "crs": signed["crs"]}))
			if r := res.Results[0]; r.Status == syncproto.StatusRejected {
				t.Errorf("%s resending the values held: %s %s", who, r.Code, r.Message)
			}
			apptest.PushApplied(t, o, upsert(t, o, syncproto.EntityPhoto, id, F{"caption": who + "补充说明"}))
		}
		if got := captureOf(t, srv, id); got.Status != syncproto.CaptureSigned {
			t.Errorf("after others' attempts: %+v, want signed", got)
		}
		// Its own device may: a correction it makes is its own.
		apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityPhoto, id, F{"size_bytes": 8}))
	})
	t.Run("signature is immutable", func(t *testing.T) {
		id := newID()
		apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityPhoto, id, key.sign(t, c.DeviceID, id, capturePhoto(insp, sum))))
		f := key.sign(t, c.DeviceID, id, capturePhoto(insp2, sum))
		res := apptest.Push(t, c, upsert(t, c, syncproto.EntityPhoto, id, F{syncproto.FieldCaptureSig: f[syncproto.FieldCaptureSig]}))
		wantResult(t, res.Results[0], syncproto.StatusRejected, syncproto.CodeImmutableField)
	})
	t.Run("pulled as documented", func(t *testing.T) {
		// The spec transport checks every photo's fields against the Photo
		// and PhotoCapture schemas.
		if _, err := c.PullAll(t.Context(), "", 500, func(*syncproto.PullResponse) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("capture is server-owned", func(t *testing.T) {
		res := apptest.Push(t, c, upsert(t, c, syncproto.EntityPhoto, newID(),
			F{"inspection_id": insp, "sha256": sum, syncproto.FieldCapture: map[string]any{"status": "signed"}}))
		wantResult(t, res.Results[0], syncproto.StatusRejected, syncproto.CodeServerOwnedField)
	})
}

// TestCaptureKeyRevoked (issue 15): revoking a device revokes its capture
// keys. A signature by the key on a record arriving after the revocation
// fails (revoked_key, and signature_invalid once processed); photos
// received before keep the result they had when they arrived.
func TestCaptureKeyRevoked(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	admin := srv.Login(apptest.Admin)
	lost := srv.Login(apptest.Inspector) // the phone that will be lost
	next := srv.Login(apptest.Inspector) // the same inspector's new phone
	key := newCaptureKey(t)
	registerKey(t, lost, key)
	insp := newID()
	apptest.PushApplied(t, lost, upsert(t, lost, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")))
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 15})
	sum := apptest.SHA256(data)
	before := newID()
	apptest.PushApplied(t, lost, upsert(t, lost, syncproto.EntityPhoto, before, key.sign(t, lost.DeviceID, before, capturePhoto(insp, sum))))

	if err := admin.Do(t.Context(), http.MethodPost, revokePath(lost.DeviceID), nil, nil); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	keys, err := srv.App.DB.DeviceKeys(t.Context(), lost.DeviceID)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Fatalf("keys after revoking the device: %+v %v", keys, err)
	}
	// The revoked phone can neither push nor register a key.
	_, err = lost.Push(t.Context(), newID(), []syncproto.Mutation{upsert(t, lost, syncproto.EntityPhoto, newID(), capturePhoto(insp, sum))})
	wantAPIError(t, err, 403, syncproto.CodeDeviceRevoked)
	_, err = lost.RegisterCaptureKey(t.Context(), newCaptureKey(t).spki, nil)
	wantAPIError(t, err, 403, syncproto.CodeDeviceRevoked)

	// A capture signed with the revoked key, arriving now by any way.
	after := newID()
	apptest.PushApplied(t, next, upsert(t, next, syncproto.EntityPhoto, after, key.sign(t, lost.DeviceID, after, capturePhoto(insp, sum))))
	if got := captureOf(t, srv, after); got.Status != syncproto.CaptureRevokedKey || got.KeyID != key.id {
		t.Errorf("signed after revocation: %+v, want revoked_key", got)
	}
	if got := captureOf(t, srv, before); got.Status != syncproto.CaptureSigned {
		t.Errorf("received before revocation: %+v, want still signed", got)
	}

	// Processed, the failed signature is an evidence flag; a good one is not.
	tus := srv.Tus(next)
	tus.Upload(after, "image/jpeg", data, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	r, err := srv.App.DB.Get(t.Context(), syncproto.EntityPhoto, after)
	if err != nil {
		t.Fatal(err)
	}
	var flags map[string]map[string]any
	if err := json.Unmarshal(r.Value("flags"), &flags); err != nil {
		t.Fatalf("flags %s: %v", r.Value("flags"), err)
	}
	if f := flags["signature_invalid"]; f == nil || f["status"] != syncproto.CaptureRevokedKey {
		t.Errorf("flags %s, want signature_invalid revoked_key", r.Value("flags"))
	}
}

// TestCaptureKeyRegisteredAfterItsPhotos: photos that arrive signed with a
// key the server does not have (unknown_key, and signature_invalid once
// processed) are checked again when their device registers it — as a
// phone does after a restore from a backup older than its key's
// registration (SDK probe: unknown_key for good) —: signed, the flag gone,
// the change pulled by the phones; a tampered one is now bad_signature; a
// photo of another key keeps unknown_key.
func TestCaptureKeyRegisteredAfterItsPhotos(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	key, never, squatted := newCaptureKey(t), newCaptureKey(t), newCaptureKey(t)
	insp := newID()
	apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")))
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 16})
	sum := apptest.SHA256(data)
	processed, plain, tampered, other, theirs := newID(), newID(), newID(), newID(), newID()
	bad := key.sign(t, c.DeviceID, tampered, capturePhoto(insp, sum))
	bad["lat"] = 38.4162
	apptest.PushApplied(t, c,
		upsert(t, c, syncproto.EntityPhoto, processed, key.sign(t, c.DeviceID, processed, capturePhoto(insp, sum))),
		upsert(t, c, syncproto.EntityPhoto, plain, key.sign(t, c.DeviceID, plain, capturePhoto(insp, sum))),
		upsert(t, c, syncproto.EntityPhoto, tampered, bad),
		upsert(t, c, syncproto.EntityPhoto, other, never.sign(t, c.DeviceID, other, capturePhoto(insp, sum))),
		upsert(t, c, syncproto.EntityPhoto, theirs, squatted.sign(t, c.DeviceID, theirs, capturePhoto(insp, sum))))
	for _, id := range []string{processed, plain, tampered, other, theirs} {
		if got := captureOf(t, srv, id); got.Status != syncproto.CaptureUnknownKey {
			t.Fatalf("before the key: %+v, want unknown_key", got)
		}
	}
	srv.Tus(c).Upload(processed, "image/jpeg", data, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	flags := func() map[string]any {
		r, err := srv.App.DB.Get(t.Context(), syncproto.EntityPhoto, processed)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]any
		if err := json.Unmarshal(r.Value("flags"), &f); err != nil {
			t.Fatalf("flags %s: %v", r.Value("flags"), err)
		}
		return f
	}
	if flags()["signature_invalid"] == nil {
		t.Fatal("processed before its key: no signature_invalid flag")
	}
	cursor, err := c.PullAll(t.Context(), "", 500, func(*syncproto.PullResponse) error { return nil })
	if err != nil {
		t.Fatal(err)
	}

	registerKey(t, c, key)
	// A colleague registering the phone's public key (no secret) checks
	// none of the phone's photos: they would read invalid (other_device)
	// for good (verification probe).
	registerKey(t, srv.Login(apptest.Inspector2), squatted)
	srv.App.Photos.WaitIdle()
	for id, want := range map[string]string{processed: syncproto.CaptureSigned, plain: syncproto.CaptureSigned, tampered: syncproto.CaptureInvalid,
		other: syncproto.CaptureUnknownKey, theirs: syncproto.CaptureUnknownKey} {
		if got := captureOf(t, srv, id); got.Status != want {
			t.Errorf("photo %s after its key: %+v, want %s", id, got, want)
		}
	}
	if got := captureOf(t, srv, tampered); got.Reason != server.CaptureBadSignature {
		t.Errorf("the tampered photo: %+v, want bad_signature", got)
	}
	if f := flags(); f["signature_invalid"] != nil {
		t.Errorf("flags after the key: %v, want no signature_invalid", f)
	}
	pulled := map[string]bool{}
	if _, err := c.PullAll(t.Context(), cursor, 500, func(p *syncproto.PullResponse) error {
		for _, ch := range p.Changes {
			pulled[ch.ID] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !pulled[processed] || !pulled[plain] || pulled[other] || pulled[theirs] {
		t.Errorf("pulled after the key: %v, want the two photos now signed and not the other key's", pulled)
	}
}

// TestCaptureKeyRegistration (issue 15): only ECDSA P-256 public keys are
// registered, each to one device.
func TestCaptureKeyRegistration(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	other := srv.Login(apptest.Inspector2)
	k := newCaptureKey(t)
	registerKey(t, c, k)
	_, err := other.RegisterCaptureKey(t.Context(), k.spki, nil)
	wantAPIError(t, err, 409, syncproto.CodeConflict)

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki384, err := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"P-384":      base64.StdEncoding.EncodeToString(spki384),
		"not base64": "%%%",
		"not a key":  base64.StdEncoding.EncodeToString([]byte("key")),
	} {
		t.Run(name, func(t *testing.T) {
			err := c.Do(t.Context(), http.MethodPost, "/api/v1/devices/key", syncproto.CaptureKeyRequest{PublicKey: body}, nil)
			wantAPIError(t, err, 400, syncproto.CodeInvalidValue)
		})
	}
	// No key at all, or an empty one, is a missing field.
	for name, body := range map[string]any{"empty": syncproto.CaptureKeyRequest{}, "absent": map[string]any{}} {
		t.Run(name, func(t *testing.T) {
			err := c.Do(t.Context(), http.MethodPost, "/api/v1/devices/key", body, nil)
			wantAPIError(t, err, 400, syncproto.CodeMissingField)
		})
	}
	// base64url, as some platforms export it, names the same key.
	var resp syncproto.CaptureKeyResponse
	if err := c.Do(t.Context(), http.MethodPost, "/api/v1/devices/key",
		syncproto.CaptureKeyRequest{PublicKey: base64.RawURLEncoding.EncodeToString(k.spki)}, &resp); err != nil || resp.KeyID != k.id {
		t.Errorf("base64url key: %+v %v", resp, err)
	}
}

// TestCaptureKeyProof: a registration may prove that its device holds the
// private key. A key that another device registered without a proof (a
// phone's public key is no secret) moves to the device that proves it,
// and the owner's photos that arrived while the other device held it
// (invalid, other_device) are signed again. A proof that is not the
// key's signature of this device's registration — another device's,
// another key's, not a signature — is refused at "proof", and changes
// nothing.
func TestCaptureKeyProof(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	owner := srv.Login(apptest.Inspector)
	squatter := srv.Login(apptest.Inspector2)
	k := newCaptureKey(t)
	resp, err := squatter.RegisterCaptureKey(t.Context(), k.spki, nil)
	if err != nil || resp.DeviceID != squatter.DeviceID || resp.Proven {
		t.Fatalf("squatted: %+v %v, want the squatter's, unproven", resp, err)
	}
	insp, photo := newID(), newID()
	apptest.PushApplied(t, owner,
		upsert(t, owner, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")),
		upsert(t, owner, syncproto.EntityPhoto, photo, k.sign(t, owner.DeviceID, photo, capturePhoto(insp, strings.Repeat("ab", 32)))))
	if got := captureOf(t, srv, photo); got.Status != syncproto.CaptureInvalid || got.Reason != server.CaptureOtherDevice {
		t.Fatalf("the owner's photo under the squatted key: %+v, want invalid other_device", got)
	}

	proofOf := func(priv *ecdsa.PrivateKey, device, keyID string) string {
		sig, err := syncproto.SignCapture(priv, syncproto.KeyProofMessage(device, keyID))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	other := newCaptureKey(t)
	for name, proof := range map[string]any{
		"the squatter's device's message": proofOf(k.priv, squatter.DeviceID, k.id),
		"another key's signature":         proofOf(other.priv, owner.DeviceID, k.id),
		"another key id":                  proofOf(k.priv, owner.DeviceID, other.id),
		"not base64url":                   "%%%",
		"too short":                       proofOf(k.priv, owner.DeviceID, k.id)[:40],
		"a number":                        12345,
		"empty":                           "", // not no proof
		"blank":                           " ",
	} {
		t.Run(name, func(t *testing.T) {
			err := owner.Do(t.Context(), http.MethodPost, "/api/v1/devices/key",
				map[string]any{"public_key": base64.StdEncoding.EncodeToString(k.spki), "proof": proof}, nil)
			var ae *syncproto.APIError
			if !errors.As(err, &ae) || ae.Status != 400 || (ae.Body.Code != syncproto.CodeInvalidValue && ae.Body.Code != syncproto.CodeInvalidField) || ae.Body.Field != "proof" {
				t.Fatalf("proof %v: %v, want 400 at proof", proof, err)
			}
			checkChinese(t, ae.Body.Message)
		})
	}
	if keys, _ := srv.App.DB.DeviceKeys(t.Context(), squatter.DeviceID); len(keys) != 1 {
		t.Fatalf("after refused proofs the squatter's keys are %+v, want the key still", keys)
	}
	// Unproven, the owner is refused as before; proven, the key is its own.
	_, err = owner.RegisterCaptureKey(t.Context(), k.spki, nil)
	wantAPIError(t, err, 409, syncproto.CodeConflict)
	registerKey(t, owner, k)
	if got := captureOf(t, srv, photo); got.Status != syncproto.CaptureSigned {
		t.Errorf("the owner's photo once its proof took the key back: %+v, want signed", got)
	}
	// Now proven, the key stays with its owner.
	_, err = squatter.RegisterCaptureKey(t.Context(), k.spki, nil)
	wantAPIError(t, err, 409, syncproto.CodeConflict)
	// The owner's registration again answers the same, still proven.
	registerKey(t, owner, k)
}

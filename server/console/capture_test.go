package console_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestCaptureTexts (issue 15): every capture status, and the
// signature_invalid flag, read as a Chinese sentence saying what was found.
func TestCaptureTexts(t *testing.T) {
	for _, tc := range []struct{ status, reason, want string }{
		{"signed", "", "应用内拍摄，签名有效"},
		{"not_in_app", "", "非应用内拍摄（相册选取或其他设备）"},
		{"invalid", "bad_signature", "签名无效：照片或拍摄时间、位置、检查项与签名不符"},
		{"invalid", "other_device", "签名无效：签名密钥属于其他设备"},
		{"invalid", "malformed", "签名无效：签名格式错误"},
		{"revoked_key", "", "签名无效：签名设备在照片上传前已被停用"},
		{"unknown_key", "", "签名无法验证：签名密钥未在服务器登记"},
	} {
		if got := console.CaptureText(tc.status, tc.reason); !strings.Contains(got, tc.want) {
			t.Errorf("%s/%s → %q, want %q", tc.status, tc.reason, got, tc.want)
		}
	}
	got := console.ExplainFlags(json.RawMessage(`{"signature_invalid":{"status":"revoked_key","key_id":"ab"}}`), nil)
	if len(got) != 1 || !strings.Contains(got[0], "签名设备在照片上传前已被停用") {
		t.Errorf("signature_invalid → %q", got)
	}
}

// TestDetailCapture (issue 15): the inspection page says under each photo
// whether the app took it (a valid capture signature) or not.
func TestDetailCapture(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := phone.RegisterCaptureKey(ctx, spki, nil); err != nil {
		t.Fatal(err)
	}
	signed, unsigned := uuid.NewString(), uuid.NewString()
	fields := apptest.Fields("inspection_id", insp, "item_key", "fence", "sha256", strings.Repeat("cd", 32),
		"captured_at", "2026-11-28T09:10:00+08:00", "lon", 112.73, "lat", 38.42, "accuracy_m", 6)
	msg, err := syncproto.CaptureMessage(phone.DeviceID, signed, syncproto.CaptureValues(fields))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := syncproto.SignCapture(priv, msg)
	if err != nil {
		t.Fatal(err)
	}
	withSig := apptest.Fields(syncproto.FieldCaptureSig, sig, syncproto.FieldCaptureKeyID, syncproto.CaptureKeyID(spki))
	for k, v := range fields {
		withSig[k] = v
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, signed, withSig), apptest.Mut(phone, syncproto.EntityPhoto, unsigned, fields))

	st, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/inspections/" + insp)
	if st != http.StatusOK {
		t.Fatalf("detail: %d", st)
	}
	for id, want := range map[string]string{signed: "拍摄来源：应用内拍摄，签名有效", unsigned: "拍摄来源：非应用内拍摄（相册选取或其他设备）"} {
		i := strings.Index(page, `<figure id="photo-`+id+`">`)
		if i < 0 {
			t.Fatalf("no figure for photo %s", id)
		}
		fig, _, _ := strings.Cut(page[i:], "</figure>")
		if !strings.Contains(fig, want) {
			t.Errorf("photo %s: figure lacks %q:\n%s", id, want, fig)
		}
	}
}

package console_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/console"
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
	got := console.ExplainFlags(json.RawMessage(`{"signature_invalid":{"status":"revoked_key","key_id":"ab"}}`))
	if len(got) != 1 || !strings.Contains(got[0], "签名设备在照片上传前已被停用") {
		t.Errorf("signature_invalid → %q", got)
	}
}

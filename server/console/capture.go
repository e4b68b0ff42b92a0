package console

import (
	"encoding/json"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// CaptureText says in Chinese what the server found of a photo's capture
// signature (server.CaptureResult's status and reason).
func CaptureText(status, reason string) string {
	switch status {
	case syncproto.CaptureSigned:
		return "应用内拍摄，签名有效"
	case syncproto.CaptureNotInApp:
		return "非应用内拍摄（相册选取或其他设备）"
	case syncproto.CaptureRevokedKey:
		return "签名无效：签名设备在照片上传前已被停用"
	case syncproto.CaptureUnknownKey:
		return "签名无法验证：签名密钥未在服务器登记"
	case syncproto.CaptureInvalid:
		switch reason {
		case server.CaptureOtherDevice:
			return "签名无效：签名密钥属于其他设备"
		case server.CaptureMalformed:
			return "签名无效：签名格式错误"
		}
		return "签名无效：照片或拍摄时间、位置、检查项与签名不符（可能被修改）"
	}
	return status
}

// photoCapture is the capture line of a photo's detail ("" for a photo
// received before captures were checked).
func photoCapture(ph *server.StoredRecord) string {
	var c server.CaptureResult
	if json.Unmarshal(ph.Value(syncproto.FieldCapture), &c) != nil || c.Status == "" {
		return ""
	}
	return CaptureText(c.Status, c.Reason)
}

package console_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/console"
)

func TestExplainFlags(t *testing.T) {
	for _, tc := range []struct{ flags, want string }{
		{`{"no_gps":{"device_location":false}}`, "照片不含 GPS 位置信息"},
		{`{"far_from_site":{"distance_m":1234,"radius_m":300,"site_id":"x","source":"exif"}}`, "拍摄位置距点位 1234 米（围栏半径 300 米，位置来自照片 GPS）"},
		{`{"time_mismatch":{"reasons":["outside_visit","after_receipt"]}}`, "拍摄时间存疑：拍摄时间不在本次检查的起止时间内；拍摄时间晚于服务器收到照片的时间"},
		{`{"mock_location":{"source":"device","accuracy_m":0}}`, "可能使用了模拟定位"},
		{`{"edited":{"software":"Adobe Photoshop","editor":"Photoshop"}}`, "图像编辑软件处理（Adobe Photoshop）"},
		{`{"duplicate":{"photo_ids":["a","b"]}}`, "其他检查的证据（2 张）"},
		{`{"near_duplicate":{"photo_id":"a","site_id":"b","distance":3}}`, "几乎相同（差异 3）"},
		{`{"unreadable":{"reason":"truncated"}}`, "无法解析为图像（truncated）"},
	} {
		got := console.ExplainFlags(json.RawMessage(tc.flags))
		if len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("%s → %q, want %q", tc.flags, got, tc.want)
		}
	}
	if got := console.ExplainFlags(nil); len(got) != 0 {
		t.Errorf("no flags → %q", got)
	}
}

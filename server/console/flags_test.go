package console_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func TestExplainFlags(t *testing.T) {
	for _, tc := range []struct{ flags, want string }{
		{`{"no_gps":{"device_location":false}}`, "照片不含 GPS 位置信息"},
		{`{"no_gps":{"device_location":true,"invalid_gps":true}}`, "照片的 GPS 坐标无效（超出范围或格式错误，不是相机定位写入的，可能被改写或损坏）（位置取自手机定位）"},
		{`{"far_from_site":{"distance_m":1234,"radius_m":300,"site_id":"x","source":"exif"}}`, "拍摄位置距点位 1.2 公里（围栏半径 300 米，位置来自照片 GPS）"},
		{`{"far_from_site":{"distance_m":5230,"radius_m":1000,"vehicle_check_id":"x","source":"device"}}`, "拍摄位置距路检记录的检查位置 5.2 公里（允许 1.0 公里，位置来自手机定位）"},
		{`{"time_mismatch":{"reasons":["outside_visit","after_receipt"]}}`, "拍摄时间存疑：拍摄时间不在本次检查的起止时间内；拍摄时间晚于服务器收到照片的时间"},
		{`{"time_mismatch":{"reasons":["exif_vs_device","outside_visit"],"exif_minus_device_s":-266400,"outside_visit_s":-259200}}`,
			"拍摄时间存疑：照片 EXIF 时间与手机记录的拍摄时间不一致（比手机记录的时间早 3 天 2 小时）；拍摄时间不在本次检查的起止时间内（在检查开始前 3 天）"},
		{`{"time_mismatch":{"reasons":["exif_vs_device","after_receipt"],"exif_minus_device_s":5430,"after_receipt_s":2710}}`,
			"（比手机记录的时间晚 1 小时 30 分钟）；拍摄时间晚于服务器收到照片的时间（晚 45 分钟 10 秒）"},
		{`{"time_mismatch":{"reasons":["outside_visit"],"outside_visit_s":3600}}`, "起止时间内（在检查结束后 1 小时）"},
		{`{"position_mismatch":{"distance_m":2600,"allowed_m":105,"device_accuracy_m":5}}`, "照片 EXIF 中的位置与手机拍摄时的定位相距 2.6 公里（两者精度加余量共允许 105 米）"},
		{`{"position_mismatch":{"distance_m":640,"allowed_m":380}}`, "相距 640 米（两者精度加余量共允许 380 米）"},
		// Over what is allowed, not rounded to the same metres.
		{`{"position_mismatch":{"distance_m":121.4,"allowed_m":120.8}}`, "相距 121.4 米（两者精度加余量共允许 120.8 米）"},
		{`{"mock_location":{"source":"device","accuracy_m":0}}`, "可能使用了模拟定位"},
		{`{"edited":{"software":"Adobe Photoshop","editor":"Photoshop"}}`, "图像编辑软件处理（Adobe Photoshop）"},
		{`{"duplicate":{"photo_ids":["a","b"]}}`, "其他检查的证据（2 张）"},
		{`{"duplicate":{"count":1,"photos":[{"county":"140925","text":"与其他区县的一张照片重复"}]}}`, "此前已作为其他检查的证据（1 张，其他区县）"},
		{`{"duplicate":{"count":2,"photos":[{"county":"140902","photo_id":"a","text":"x"},{"county":"140925","text":"y"}]}}`, "（2 张，本区县及其他区县）"},
		{`{"near_duplicate":{"photo_id":"a","site_id":"b","distance":3}}`, "几乎相同（差异 3）"},
		{`{"near_duplicate":{"county":"140902","photo_id":"a","site_id":"b","distance":3,"text":"x"}}`, "此前在另一点位拍摄的照片几乎相同（差异 3，本区县）"},
		{`{"near_duplicate":{"county":"140902","photo_id":"a","distance":6,"mirrored":true,"text":"x"}}`, "几乎相同（差异 6，本区县）（经镜像翻转）"},
		{`{"near_duplicate":{"county":"140925","distance":8,"cropped":true,"text":"x"}}`, "几乎相同（差异 8，其他区县）（经裁剪或局部相同）"},
		{`{"near_duplicate":{"county":"140925","distance":7,"mirrored":true,"cropped":true,"text":"x"}}`, "（差异 7，其他区县）（经镜像翻转和裁剪）"},
		{`{"unreadable":{"reason":"文件不完整，可能拍摄或保存时中断"}}`, "无法解析为图像（文件不完整，可能拍摄或保存时中断）"},
		{`{"unreadable":{"reason":"imageproc: image truncated: jpeg data ends early"}}`, "照片文件无法解析为图像"},
	} {
		got := console.ExplainFlags(json.RawMessage(tc.flags), nil)
		if len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("%s → %q, want %q", tc.flags, got, tc.want)
		}
	}
	if got := console.ExplainFlags(nil, nil); len(got) != 0 {
		t.Errorf("no flags → %q", got)
	}
}

// TestFlagsNameItemsByLabel: a photo used for two items of one
// inspection says which other item by its label on the inspection's page
// (and in its history), as every other place of the page names items,
// not by the checklist's key (the inspector's-day probe read
// "material_cover、vehicle_washing").
func TestFlagsNameItemsByLabel(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	s := srv.App.Syncer
	err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		return s.Upsert(ctx, tx, syncproto.EntityPhoto, uuid.NewString(), apptest.Xinfu, map[string]any{
			"inspection_id": insp, "item_key": "wet_operation", "sha256": strings.Repeat("cd", 32),
			"captured_at": "2026-11-28T09:10:00+08:00", "processed_at": "2026-11-28T09:11:00+08:00",
			"flags": map[string]any{"duplicate_item": map[string]any{"photos": []any{
				map[string]any{"item_key": "fence"}, map[string]any{"item_key": "vehicle_washing"}, map[string]any{"item_key": "no_such_item"}}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	page := mustGet(t, loggedIn(t, srv, apptest.CountyOffice), "/console/inspections/"+insp)
	if want := "另一检查项的证据（工地围挡100%设置、出入车辆100%冲洗、no_such_item）"; !strings.Contains(page, want) {
		t.Errorf("the page lacks %q", want)
	}
	if got := console.ExplainFlags(json.RawMessage(`{"duplicate_item":{"photos":[{"item_key":"fence"}]}}`), map[string]string{"fence": "工地围挡100%设置"}); len(got) != 1 || !strings.Contains(got[0], "（工地围挡100%设置）") {
		t.Errorf("ExplainFlags with the items' labels: %q", got)
	}
}

// TestRefusedFlagSaysWhetherThePhoneSendsAgain: bytes refused for what the
// file is (not an image, other bytes than declared) will not come again;
// refused for what the record declares (a type, a size) they may, once
// the phone corrects the record (sync.md 10.4) — the console used to say
// 手机不会再上传 of both.
func TestRefusedFlagSaysWhetherThePhoneSendsAgain(t *testing.T) {
	for code, again := range map[string]bool{syncproto.CodeBadImage: false, syncproto.CodeHashMismatch: false,
		syncproto.CodeInvalidUpload: true, syncproto.CodeUnsupportedMediaType: true} {
		got := console.ExplainFlags(json.RawMessage(`{"refused":{"code":"`+code+`","reason":"原因"}}`), nil)
		if len(got) != 1 || strings.Contains(got[0], "手机不会再上传") == again || strings.Contains(got[0], "改正照片记录后可重新上传") != again {
			t.Errorf("%s: %q, want the phone sending again %v", code, got, again)
		}
		// What a record declared wrong is said for the office, not in
		// the phone's message (which names the API's fields).
		if len(got) == 1 && again && strings.Contains(got[0], "原因") {
			t.Errorf("%s: %q quotes the phone's message", code, got)
		}
	}
}

// TestEveryFlagHasAnInspectorLabel: every flag the console filters on has
// the label inspectors read (syncproto.EvidenceFlags, which fieldctl shows):
// fieldctl printed duplicate_item as it is (catalogue probe).
func TestEveryFlagHasAnInspectorLabel(t *testing.T) {
	var want []string
	for _, f := range console.FlagNames {
		if f != server.AnyFlag {
			want = append(want, f)
		}
	}
	if got := syncproto.Codes(syncproto.EvidenceFlags); !slices.Equal(got, want) {
		t.Errorf("syncproto.EvidenceFlags %v, want the console's flags %v", got, want)
	}
	for _, c := range syncproto.EvidenceFlags {
		if !strings.ContainsFunc(c.Label, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("flag %s labelled %q", c.Code, c.Label)
		}
	}
}

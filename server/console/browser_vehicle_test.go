package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserVehicleCheck: an office opens a roadside check from the
// records list and sees its facts, its photo (a real JPEG with EXIF,
// processed), the truck's earlier check and another inspector's change
// in 修改历史, at 1366 and at 390 px without
// sideways scrolling; screenshots console-vehicle-*.png.
func TestBrowserVehicleCheck(t *testing.T) {
	srv := apptest.Start(t, apptest.HoldPhotos)
	phone := srv.Login(apptest.Inspector)
	vc, earlier, photo := uuid.NewString(), uuid.NewString(), uuid.NewString()
	shot := time.Date(2026, 11, 28, 10, 2, 0, 0, time.FixedZone("CST", 8*3600))
	jpg := testimg.JPEG(testimg.Options{Width: 800, Height: 600, Seed: 7, Time: &shot, GPS: &geo.Point{Lon: 112.7301, Lat: 38.4201}, Make: "HUAWEI"})
	apptest.PushApplied(t, phone,
		apptest.Mut(phone, syncproto.EntityVehicleCheck, earlier, apptest.Fields("county", apptest.Xinfu, "checkpoint", "豆罗检查站",
			"plate", "晋H30272", "emission_stage", "cn6", "fuel", "diesel", "aftertreatment", "present", "action", "release",
			"checked_at", "2026-11-21T09:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu, "checkpoint", "忻州北收费站",
			"campaign", "冬季柴油货车专项", "plate", "晋H30272", "plate_color", "黄", "vin", "LZZ1BLSE9KD123456", "emission_stage", "cn6",
			"fuel", "diesel", "aftertreatment", "removed", "obd_mil", true, "obd_codes", "P20EE", "urea_level_pct", 12.5,
			"action", "fine", "note", "DPF 载体被掏空，仅剩外壳", "lon", 112.73, "lat", 38.42, "checked_at", "2026-11-28T10:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityPhoto, photo, apptest.Fields("vehicle_check_id", vc, "sha256", apptest.SHA256(jpg),
			"content_type", "image/jpeg", "size_bytes", len(jpg), "caption", "排气管内部", "captured_at", "2026-11-28T10:02:00+08:00",
			"lon", 112.7301, "lat", 38.4201, "accuracy_m", 8)))
	srv.Tus(phone).Upload(photo, "image/jpeg", jpg, http.StatusNoContent)
	if err := srv.App.Photos.Process(ctx, photo); err != nil {
		t.Fatal(err)
	}
	// Another inspector changes it afterwards: 修改历史 has a row.
	other := srv.Login(apptest.Inspector2)
	apptest.PushApplied(t, other, apptest.Mut(other, syncproto.EntityVehicleCheck, vc, apptest.Fields("action", "repair", "note", "复核后改为限期维修")))

	// The earlier check, voided by the city: listed among the truck's
	// other checks, marked.
	city := srv.Login(apptest.CityOffice)
	if err := city.Do(ctx, http.MethodPost, "/api/v1/vehicle-checks/"+earlier+"/void", map[string]any{"decision": "void", "comment": "误录：号牌看错，实为另一辆车"}, nil); err != nil {
		t.Fatal(err)
	}

	b := newChrome(t)
	b.do("desktop size", chromedp.EmulateViewport(1366, 768))
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("records", chromedp.Navigate(srv.URL+"/console/vehicles?plate=%E6%99%8BH30272#records"))
	b.navigate("open the check", chromedp.Click(chromedp.CSS(`tr[data-id="`+vc+`"] a`)))
	b.do("its page", chromedp.WaitVisible(chromedp.CSS(`figure#photo-`+photo+` img`)))
	body := b.text()
	for _, want := range []string{"路检记录 · 晋H30272", "LZZ1BLSE9KD123456", "P20EE", "复核后改为限期维修", "排气管内部", "距检查位置", "该车其他路检记录", "豆罗检查站",
		"修改历史", "事后修改", "李巡查", "DPF 载体被掏空，仅剩外壳 → 复核后改为限期维修", "已作废", "作废此记录"} {
		if !strings.Contains(body, want) {
			t.Errorf("the check's page lacks %q:\n%s", want, body)
		}
	}
	if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const i = document.querySelector('figure img'); return i.complete && i.naturalWidth > 0 })()`)); err != nil || !ok {
		t.Errorf("the photo's thumbnail did not load: %v", err)
	}
	b.noSideways("roadside check at 1366")
	b.shot("console-vehicle-1366.png")
	b.do("phone size", chromedp.EmulateViewport(390, 844))
	b.navigate("at 390", chromedp.Navigate(srv.URL+"/console/vehicles/"+vc))
	b.noSideways("roadside check at 390")
	if n := b.eval("cells off screen", `Array.from(document.querySelectorAll('table [data-label]')).filter(td =>
		td.getBoundingClientRect().right > innerWidth).length`); n > 0 {
		t.Errorf("the check's page at 390 px has %d cells (history, conflicts, other checks) past the screen's edge", n)
	}
	// The facts, labels and values, fit the screen: no sideways scroll
	// inside their table.
	if n := b.eval("facts scroll", `(() => { const t = document.querySelector('#vehicle-facts');
		return t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().right > innerWidth ? 1 : 0; })()`); n != 0 {
		t.Error("the check's facts scroll sideways at 390 px")
	}
	b.shot("console-vehicle-390.png")
	b.navigate("the voided check at 390", chromedp.Navigate(srv.URL+"/console/vehicles/"+earlier))
	if body := b.text(); !strings.Contains(body, "不计入任何统计") || !strings.Contains(body, "误录：号牌看错，实为另一辆车") || !strings.Contains(body, "恢复此记录") {
		t.Errorf("the voided check's page:\n%s", body)
	}
	b.noSideways("voided check at 390")
	b.shot("console-vehicle-voided-390.png")
}

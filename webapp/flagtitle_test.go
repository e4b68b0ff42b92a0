package webapp_test

import (
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserNoGPSWording: a photo without EXIF GPS that the server placed
// by the phone's own position reads 照片无 GPS（已用手机定位） on the phone
// (as the console says), not 无 GPS 位置 — which told the inspector who
// took it on site with location on that the evidence had no position
// (field app probe); one with no position at all still says so.
func TestBrowserNoGPSWording(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	got := eval[[]string](p, `(async () => { const {app} = await import('/app/js/app.js'); const {photoTile} = await import('/app/js/photos.js');
		const tile = (flags, placed) => photoTile(app.client, { id: crypto.randomUUID(), fields: { uploaded: true, flags, ...(placed ? { lon: 112.7, lat: 38.4 } : {}) } }).title;
		return [tile({ no_gps: { device_location: true } }, true), tile({ no_gps: { device_location: false } }), tile({ no_gps: {}, far_from_site: { distance_m: 900 } })]; })()`)
	// The phone's position, when it had none, is said after the flags.
	const none = "；拍摄时未获取到手机位置：督查室无法核对拍摄地点与点位的距离。可打开定位、到开阔处后重拍，或在备注中说明。"
	want := []string{"⚠ 照片无 GPS（已用手机定位）", "⚠ 无 GPS 位置" + none, "⚠ 无 GPS 位置、远离点位" + none}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("tile %d: %q, want %q", i, got, want[i])
		}
	}
}

// TestBrowserTileFlagsReachable: a tile says what fits under the picture
// — one flag by its name, several by their number — and a tap shows the
// whole list, also when the picture is not on the phone (the list was cut
// at 390 px and whole only in a title, which a touch screen never shows).
func TestBrowserTileFlagsReachable(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	got := eval[[]string](p, `(async () => { const {app} = await import('/app/js/app.js'); const {photoTile} = await import('/app/js/photos.js');
		const tile = (flags) => photoTile(app.client, { id: crypto.randomUUID(), fields: { uploaded: true, flags, lon: 112.7, lat: 38.4 } });
		const box = document.createElement('div'); box.id = 'tiles';
		box.append(tile({ far_from_site: { distance_m: 900 } }), tile({ no_gps: {}, far_from_site: {}, edited: {} }));
		document.querySelector('main').prepend(box);
		return [...box.children].map((t) => t.querySelector('span').textContent); })()`)
	want := []string{"⚠ 远离点位", "⚠ 3 项疑点，点按查看"}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("tile %d says %q, want %q", i, got, want[i])
		}
	}
	p.click(`#tiles .thumb:nth-child(2)`)
	p.wait(`#photo-viewer .close`)
	if lines := p.text(`#photo-viewer .lines`); lines != "⚠ 无 GPS 位置、远离点位、经过编辑软件处理" {
		t.Errorf("the viewer says %q", lines)
	}
	if got := p.text(`#photo-viewer .nothumb`); got == "" {
		t.Error("the viewer of a photo not on the phone does not say so")
	}
	p.click(`#photo-viewer .close`)
	p.waitJS("closed", `!document.querySelector('#photo-viewer')`)
}

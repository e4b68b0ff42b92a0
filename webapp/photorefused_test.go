package webapp_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeJPEG writes a file that starts as a JPEG does (what the phone sniffs)
// followed by random bytes: the server refuses it as bad_image.
func fakeJPEG(t *testing.T, name string, seed uint64) string {
	t.Helper()
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}
	r := rand.New(rand.NewPCG(seed, seed))
	for range 3000 {
		b = append(b, byte(r.UintN(256)))
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserRefusedPhoto: a photo whose file the server refused for good
// (bad_image) is shown, on home and on its inspection's item, as refused
// and to be taken again — across later syncs and a reload — and never as
// 待上传, nor counted as waiting; the item is missing its photo until it
// is taken again, which works as usual; 移除 then takes the refused file
// off the phone, and the item still says the photo was refused. (Home
// counted it as 1 张照片 waiting for good, the error said once and then
// gone, and the item showed it 待上传.)
func TestBrowserRefusedPhoto(t *testing.T) {
	srv, site, p, at := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	insp := p.startInspection(site.ID, "construction_dust")
	p.answer("fence", "pass")
	p.photo("fence", fakeJPEG(t, "fence.jpg", 1))
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	// The sync over, its upload refused.
	p.waitJS("the upload refused", `(async () => { const {app} = await import('/app/js/app.js');
		return app.client.status().failedPhotos === 1 && !document.querySelector('#sync-now')?.disabled &&
			document.querySelector('#last-sync')?.dataset.ok === 'false'; })()`)
	refused := func(when string) {
		t.Helper()
		p.waitJS(when+": home drawn", `!!document.querySelector('#sync-card') && !document.querySelector('#sync-now')?.disabled`)
		if n := p.text(`#pending-photos`); n != "0" {
			t.Errorf("%s: home counts %s photos waiting, want 0 (the refused one is not)", when, n)
		}
		if b := p.text(`#pending-bytes`); b != "0 KB" {
			t.Errorf("%s: home counts %s of photos waiting, want 0 KB", when, b)
		}
		p.wait(`#refused-count`)
		p.wait(`#refused-photos li[data-code="bad_image"] a[data-retake]`)
		card := p.text(`#refused-photos`)
		for _, want := range []string{"被拒收的照片（1）", "锦绣华庭", "工地围挡100%设置", "照片被服务器拒收", "JPEG、PNG 或 HEIC", "请重拍"} {
			if !strings.Contains(card, want) {
				t.Errorf("%s: the refused photos' card lacks %q:\n%s", when, want, card)
			}
		}
	}
	refused("after the refusing sync")
	if body := p.text("body"); strings.Contains(body, "JPEG 或 PNG") {
		t.Errorf("the app says the server takes JPEG or PNG only:\n%s", body)
	}

	// The next sync, and a reload: still there.
	p.click(`#sync-now`)
	p.waitSynced()
	refused("after the next sync")
	p.reopen()
	refused("after a reload")

	// The item: refused, to be taken again, not waiting.
	p.click(`#refused-photos a[data-retake]`)
	p.wait(`#item-fence .thumb[data-refused="bad_image"]`)
	if s := p.text(`#item-fence .thumb[data-refused]`); strings.Contains(s, "待上传") || !strings.Contains(s, "重拍") {
		t.Errorf("the refused photo's tile reads %q", s)
	}
	if eval[bool](p, `!!document.querySelector('#photos-waiting')`) {
		t.Errorf("the inspection counts the refused photo as waiting: %s", p.text(`#photos-waiting`))
	}
	p.has("1 张照片被服务器拒收，不会上传，请重拍：工地围挡100%设置", "照片被服务器拒收，请重拍")
	if got := p.text(`#item-fence`); !strings.Contains(got, "JPEG、PNG 或 HEIC") {
		t.Errorf("the item does not say why the photo was refused:\n%s", got)
	}

	// Taken again: uploaded as usual; the refused one stays marked.
	p.photo("fence", jpeg(t, "fence2.jpg", 5, near(at), ""))
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	photos, err := srv.App.DB.Find(ctx, "photo", "inspection_id", insp)
	if err != nil || len(photos) != 2 {
		t.Fatalf("server: %d photos of the inspection (%v), want 2", len(photos), err)
	}
	uploaded := 0
	for _, ph := range photos {
		if ph.Uploaded() {
			uploaded++
		}
	}
	if uploaded != 1 {
		t.Errorf("server: %d photos uploaded, want the one taken again", uploaded)
	}
	p.waitJS("home says it was taken again", `document.querySelector('#refused-photos li')?.textContent.includes('已重拍') === true`)
	p.goHash("#/inspection/"+insp, `#item-fence .thumb[data-uploaded="true"]`)
	p.wait(`#item-fence .thumb[data-refused]`)
	p.has("（已重拍）")

	// 移除: the file leaves the phone, the photo stays marked refused.
	p.goHash("#/", `#refused-photos button[data-discard]`)
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#refused-photos button[data-discard]`)
	p.waitJS("removed", `!document.querySelector('#refused-photos') && !document.querySelector('#refused-count')`)
	p.goHash("#/inspection/"+insp, `#item-fence .thumb[data-refused]`)
	if eval[bool](p, `!!document.querySelector('#photos-waiting')`) {
		t.Errorf("after 移除, the inspection counts a photo waiting: %s", p.text(`#photos-waiting`))
	}
}

// TestBrowserRefusedPhotoSubmitted: a photo refused after its inspection
// was submitted (taken offline, the inspection submitted, the upload
// refused at the next sync) cannot be taken again on the phone — the
// inspection is locked and has no camera —, so home, the item and the
// tile do not ask for it: they say the office must return the inspection
// first, and home offers no 去重拍. (They said 请重拍, and 去重拍 led to a
// locked inspection.)
func TestBrowserRefusedPhotoSubmitted(t *testing.T) {
	srv, p, insp := offlineBoiler(t)
	p.typeIn(`#item-tonnage input[data-input]`, "20", stored(insp, "tonnage")+`.then((s) => s.includes('"value":20'))`)
	p.photo("no_new_boiler", fakeJPEG(t, "boiler.jpg", 7))
	p.click(`#submit`)
	p.waitJS("submitted", `document.querySelector('#status')?.textContent.includes('已提交')`)

	p.setOffline(false)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.wait(`#refused-photos li[data-code="bad_image"]`)
	card := p.text(`#refused-photos li`)
	if !strings.Contains(card, "检查已提交，手机上不能重拍") || strings.Contains(card, "请重拍") {
		t.Errorf("home's refused photo of a submitted inspection reads %q", card)
	}
	if eval[bool](p, `!!document.querySelector('#refused-photos a[data-retake]')`) {
		t.Error("home offers 去重拍 for a photo of a submitted inspection")
	}
	// The card's general line does not send the inspector to the item
	// either (it said 请到对应的检查项重新拍摄).
	if intro := p.text(`#refused-photos > p`); strings.Contains(intro, "请到对应的检查项重新拍摄") || !strings.Contains(intro, "已提交的检查须等督查室退回后才能重拍") {
		t.Errorf("home's refused-photo card opens with %q", intro)
	}

	p.goHash("#/inspection/"+insp, `#item-no_new_boiler .thumb[data-refused]`)
	for sel, want := range map[string]string{`#item-no_new_boiler [data-refused-photo]`: "请督查室退回这次检查后再拍", `#photos-refused`: "需要补拍时请督查室退回这次检查"} {
		if got := p.text(sel); !strings.Contains(got, want) || strings.Contains(got, "请重拍") {
			t.Errorf("%s reads %q, want %q", sel, got, want)
		}
	}
	if s := p.text(`#item-no_new_boiler .thumb[data-refused]`); strings.Contains(s, "重拍") {
		t.Errorf("the refused photo's tile reads %q", s)
	}

	// The session ends: the sign-in screen does not count the refused
	// photo as waiting to be sent (no sign-in sends it), and says it is there.
	p.signedOutElsewhere(srv)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.click(`#sign-in-again`)
	// The sign-in screen may be drawn again as the status settles: read
	// once it says what it holds (ci-local once read it empty).
	p.waitJS("the sign-in screen says what is kept", `(document.querySelector('#login-kept')?.textContent || '').includes('手机上的数据都还在')`)
	if got := p.text(`#login-kept`); strings.Contains(got, "张照片等待上传") || !strings.Contains(got, "1 张照片被服务器拒收") {
		t.Errorf("the sign-in screen says %q", got)
	}
}

package webapp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserRectification: a finding of an approved inspection is put
// right on the phone (整改). The inspector opens it from home, cannot
// report it 已整改 with neither a note nor a photo, types a note that
// survives the page being drawn again by a sync, takes a photo and saves:
// the server has the finding rectified with the note and the photo with
// its finding_id. The office sends it back with a comment, which the phone
// shows on home and on the finding; reported again and verified by the
// office, the finding shows 已核实 with nothing left to edit.
func TestBrowserRectification(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	bctx := browserFor(t)
	p := newPhone(t, bctx, srv.URL, "inspector", near(at))
	violations := cspWatch(p)
	p.signIn(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)

	// An inspection with a failed item: its finding.
	p.goHash("#/site/"+site.ID, `button.start[data-template="construction_dust"]`)
	p.click(`button.start[data-template="construction_dust"]`)
	p.wait(`#inspection`)
	insp := eval[string](p, `document.querySelector('#inspection').dataset.id`)
	p.answer("material_cover", "fail")
	p.typeIn(`#item-material_cover textarea[data-note]`, "东侧料堆裸露",
		`document.querySelector('#item-material_cover [data-finding-for]')?.textContent.includes('期限')`)
	p.photo("material_cover", jpeg(t, "cover.jpg", 2, near(at), ""))
	p.waitJS("the finding has the note", `(async () => { const {app} = await import('/app/js/app.js');
		const [f] = await app.client.list('finding', (r) => r.fields.inspection_id === '`+insp+`');
		return !!f && f.fields.description.includes('东侧料堆裸露'); })()`)
	// The rest of the checklist is not the point here: the inspection is
	// submitted as it stands (the server takes it, listing what is missing).
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const {chinaTime} = await import('/app/js/ui.js');
		await app.client.save('inspection', '`+insp+`', {status: 'submitted', finished_at: chinaTime()}); return true; })()`)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	found, err := srv.App.DB.Find(ctx, "finding", "inspection_id", insp)
	if err != nil || len(found) != 1 {
		t.Fatalf("server: %d findings of the inspection (%v), want 1", len(found), err)
	}
	fid := found[0].ID
	if s := field[string](t, get(t, srv, "inspection", insp), "status"); s != "submitted" {
		t.Fatalf("server: inspection %s, want submitted", s)
	}

	// Under review: the finding is shown read-only, waiting for the review.
	p.click(`#findings a[data-finding="` + fid + `"]`)
	p.wait(`#finding[data-inspection="submitted"] #finding-locked`)
	p.has("待审核", "东侧料堆裸露")
	if n := eval[int](p, `document.querySelectorAll('#finding button, #finding input, #finding textarea').length`); n != 0 {
		t.Errorf("the finding of a submitted inspection offers %d controls", n)
	}

	// The office approves: the rectification is reported on the phone.
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	p.click(`#findings a[data-finding="` + fid + `"]`)
	p.wait(`#rectify-form`)
	p.has("待整改", "期限", "较重", "问题照片")
	p.shot("app-finding-approved.png")

	// 已整改 with neither a note nor a photo is refused.
	p.click(`#rectify-form button[data-value="rectified"]`)
	p.click(`#save-rectification`)
	p.waitJS("refused without a note", `document.querySelector('#finding-error').textContent.includes('请填写整改说明或拍摄至少一张整改照片')`)

	// The note typed and not saved yet survives the minute's sync, and the
	// photo taken after it.
	const note = "已对东侧料堆全部苫盖防尘网"
	p.do("type the note", chromedp.SendKeys(chromedp.CSS(`#rect-note`), note))
	form := `[document.querySelector('#rect-note').value, document.querySelector('#rectify-form button.on')?.dataset.value].join('|')`
	want := note + "|rectified"
	p.drawnAgain(`#rectify-form`, syncNow)
	if got := eval[string](p, form); got != want {
		t.Fatalf("after the minute's sync the form reads %q, want %q", got, want)
	}
	// Taken with the note still focused: the page is not drawn again,
	// the photo is shown in place.
	eval[bool](p, `(document.querySelector('#rect-note').focus(), true)`)
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#fix-photos input[type="file"]`), []string{jpeg(t, "covered.jpg", 7, near(at), "")}))
	p.wait(`#fix-photos .thumb[data-photo] img[src^="blob:"]`)
	if got := eval[string](p, form); got != want {
		t.Fatalf("after the photo the form reads %q, want %q", got, want)
	}
	// Shown in place or drawn again, the photo is counted (it said
	// 整改照片（0） beside it while the note had the focus).
	if got := eval[string](p, `document.querySelector('#fix-photos-label').textContent`); got != "整改照片（1）" {
		t.Errorf("beside the photo the label reads %q, want 整改照片（1）", got)
	}
	p.click(`#save-rectification`)
	p.wait(`#finding[data-status="rectified"] #finding-waiting`)
	p.shot("app-finding-rectified.png")
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	r := get(t, srv, "finding", fid)
	if s, n := field[string](t, r, "status"), field[string](t, r, "rectification_note"); s != "rectified" || n != note {
		t.Errorf("server: finding status %q note %q, want rectified %q", s, n, note)
	}
	photos, err := srv.App.DB.Find(ctx, "photo", "finding_id", fid)
	if err != nil || len(photos) != 1 || field[string](t, photos[0], "finding_id") != fid {
		t.Fatalf("server: %d photos with the finding's finding_id (%v), want 1", len(photos), err)
	}
	p.wait(`#findings-rectified a[data-finding="` + fid + `"]`)
	p.has("已整改，待核实（1）", "待整改问题（0）")

	// The office sends it back with a comment: home and the finding show it.
	const comment = "北侧料堆仍未苫盖，请补拍照片"
	if err := office.Do(ctx, http.MethodPost, "/api/v1/findings/"+fid+"/verify", map[string]string{"decision": "reopen", "comment": comment}, nil); err != nil {
		t.Fatal(err)
	}
	p.click(`#sync-now`)
	p.waitSynced()
	p.wait(`#findings a[data-finding="` + fid + `"][data-sent-back="1"]`)
	if got := p.text(`#findings a[data-finding="` + fid + `"]`); !strings.Contains(got, comment) || !strings.Contains(got, "督查退回") {
		t.Errorf("home shows the sent-back finding as %q, want 督查退回 and the comment", got)
	}
	p.shot("app-home-finding-sent-back.png")
	p.click(`#findings a[data-finding="` + fid + `"]`)
	p.wait(`#verify-comment[data-sent-back="1"]`)
	if got := p.text(`#verify-comment`); !strings.Contains(got, comment) || !strings.Contains(got, "督查意见") {
		t.Errorf("the finding's comment reads %q, want 督查意见 and %q", got, comment)
	}
	p.wait(`#rectify-form button.on[data-value="rectifying"]`)
	p.shot("app-finding-sent-back.png")

	// Put right again and reported; the office verifies.
	p.click(`#rectify-form button[data-value="rectified"]`)
	p.click(`#save-rectification`)
	p.wait(`#finding[data-status="rectified"]`)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	if s := field[string](t, get(t, srv, "finding", fid), "status"); s != "rectified" {
		t.Fatalf("server: finding reported again is %q, want rectified", s)
	}
	if err := office.Do(ctx, http.MethodPost, "/api/v1/findings/"+fid+"/verify", map[string]string{"decision": "verify"}, nil); err != nil {
		t.Fatal(err)
	}
	p.click(`#sync-now`)
	p.waitSynced()
	if n := eval[int](p, `document.querySelectorAll('#view a[data-finding="`+fid+`"]').length`); n != 0 {
		t.Errorf("home still lists the verified finding")
	}
	p.goHash("#/finding/"+fid, `#finding[data-status="verified"] #finding-locked`)
	p.has("已核实", note)
	if n := eval[int](p, `document.querySelectorAll('#finding button, #finding input, #finding textarea, #rectify-form').length`); n != 0 {
		t.Errorf("the verified finding offers %d controls", n)
	}
	p.shot("app-finding-verified.png")
	// The approved inspection's page leads to its findings.
	p.goHash("#/inspection/"+insp, `#insp-findings a[data-finding="`+fid+`"]`)
	if v := violations(); len(v) > 0 {
		t.Errorf("the app reported %d CSP violations, the first: %s", len(v), v[0])
	}
}

// TestBrowserVisitPhotoIsNoRectification: a photo of the visit that names
// the finding as well as its checklist item (as the demo's and sync.md's
// do: inspection_id, item_key, finding_id), taken on the day of the
// visit, is the problem's photo on the finding's page, not the
// rectification's: it does not count as evidence, and 已整改 with neither
// a note nor a photo taken since is refused (the field-app probe reported
// one rectified with no evidence at all).
func TestBrowserVisitPhotoIsNoRectification(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	office := srv.Login(apptest.CountyOffice)
	phone := srv.Login(apptest.Inspector)
	insp, fid, photo := uuid.NewString(), uuid.NewString(), uuid.NewString()
	visit := time.Now().Add(-time.Hour).Format(time.RFC3339)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", site.ID,
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", visit)),
		apptest.Mut(phone, syncproto.EntityFinding, fid, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
			"description", "东侧料堆裸露", "severity", "major", "status", "open")),
		apptest.Mut(phone, syncproto.EntityPhoto, photo, apptest.Fields("inspection_id", insp, "finding_id", fid, "item_key", "material_cover",
			"sha256", strings.Repeat("ab", 32), "content_type", "image/jpeg", "size_bytes", 1000, "captured_at", visit)))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}

	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.goHash("#/finding/"+fid, `#rectify-form`)
	if got := eval[string](p, `[...document.querySelectorAll('#problem-photos [data-photo]')].map((e) => e.dataset.photo).join()`); got != photo {
		t.Errorf("问题照片 lists %q, want the visit's photo %s", got, photo)
	}
	// The photo is named with the finding's item (a11y probe: 问题照片 alone).
	item := strings.TrimPrefix(p.text(`#finding p.mute.small`), "检查项：")
	// (Its bytes are not on the phone: the name is said before that.)
	want := "照片：问题照片（" + item + "），照片在服务器上"
	p.waitJS("the tile drawn", `!!document.querySelector('#problem-photos [data-photo] .nothumb')`)
	if got := eval[string](p, `document.querySelector('#problem-photos [data-photo] .nothumb').textContent`); item == "" || !strings.HasPrefix(got, want) {
		t.Errorf("the problem photo reads %q, want %s…", got, want)
	}
	if got := eval[string](p, `document.querySelector('#fix-photos-label').textContent`); got != "整改照片（0）" {
		t.Errorf("the rectification's photos read %q, want 整改照片（0）", got)
	}
	p.click(`#rectify-form button[data-value="rectified"]`)
	p.click(`#save-rectification`)
	p.waitJS("refused without a note or a photo since", `document.querySelector('#finding-error').textContent.includes('请填写整改说明或拍摄至少一张整改照片')`)
}

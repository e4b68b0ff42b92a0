package console_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// reuse is a photo of 忻府区 reused in 宁武县: the same file, and a
// re-encoded copy, as evidence of a later inspection.
type reuse struct {
	srv                  *apptest.Server
	ours, theirs         string // inspections in 忻府区 and 宁武县
	original, copy, near string // photos
	theirSite            string
}

// uploadPhoto pushes a photo of inspection insp for data from phone c,
// uploads its bytes unless the server has them, and returns its id.
func uploadPhoto(t *testing.T, srv *apptest.Server, c *syncproto.Client, insp string, data []byte) string {
	t.Helper()
	id := uuid.NewString()
	apptest.PushApplied(t, c, apptest.Mut(c, syncproto.EntityPhoto, id, apptest.Fields("inspection_id", insp,
		"sha256", apptest.SHA256(data), "content_type", "image/jpeg", "captured_at", "2026-11-28T09:20:00+08:00")))
	if rec, err := srv.App.DB.Get(ctx, syncproto.EntityPhoto, id); err != nil || rec == nil || string(rec.Value("uploaded")) != "true" {
		srv.Tus(c).Upload(id, "image/jpeg", data, http.StatusNoContent)
	}
	return id
}

func reuseAcrossCounties(t *testing.T) *reuse {
	t.Helper()
	r := &reuse{srv: apptest.Start(t), theirSite: apptest.DemoSite(t, apptest.Ningwu)}
	taken := time.Date(2026, 11, 28, 9, 20, 0, 0, time.FixedZone("", 8*3600))
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 31, Time: &taken})
	again := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 31, Quality: 55, Time: &taken})
	xinfu := r.srv.Login(apptest.Inspector)
	r.ours = submit(t, xinfu, apptest.Xinfu)
	r.original = uploadPhoto(t, r.srv, xinfu, r.ours, data)
	r.srv.App.Photos.WaitIdle()
	ningwu := r.srv.Login(apptest.NingwuInsp)
	r.theirs = submit(t, ningwu, apptest.Ningwu)
	r.copy = uploadPhoto(t, r.srv, ningwu, r.theirs, data)
	r.near = uploadPhoto(t, r.srv, ningwu, r.theirs, again)
	r.srv.App.Photos.WaitIdle()
	return r
}

// TestReuseLinksFollowScope: the reuse in 宁武县 is flagged and listed by
// the flag filter, the original in 忻府区 is not (it has a note); the
// county office of 忻府区 sees that its photo was reused in another county
// but nothing of that county's records; the city office sees the links
// both ways.
func TestReuseLinksFollowScope(t *testing.T) {
	r := reuseAcrossCounties(t)
	county := loggedIn(t, r.srv, apptest.CountyOffice)
	city := loggedIn(t, r.srv, apptest.CityOffice)
	theirs := []string{r.theirs, r.copy, r.near, r.theirSite}

	_, page := county.get("/console/inspections/" + r.ours)
	if !strings.Contains(page, "被复用于其他区县（宁武县）") || strings.Contains(page, "同一张照片") {
		t.Errorf("the county office's page of the original lacks the note, or flags it:\n%s", page)
	}
	for _, id := range theirs {
		if strings.Contains(page, id) {
			t.Errorf("the county office's page of the original names %s of 宁武县", id)
		}
	}

	_, page = city.get("/console/inspections/" + r.ours)
	for _, want := range []string{`href="/console/inspections/` + r.theirs + `#photo-` + r.copy + `"`, `href="/console/inspections/` + r.theirs + `#photo-` + r.near + `"`, "（近似照片）"} {
		if !strings.Contains(page, want) {
			t.Errorf("the city office's page of the original lacks %s", want)
		}
	}
	_, page = city.get("/console/inspections/" + r.theirs)
	for _, want := range []string{"同一张照片此前已作为其他检查的证据（1 张，其他区县）", "与此前在另一点位拍摄的照片几乎相同",
		`href="/console/inspections/` + r.ours + `#photo-` + r.original + `"`, `id="photo-` + r.copy + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the city office's page of the reuse lacks %s", want)
		}
	}

	for _, flag := range []string{"duplicate", "near_duplicate"} {
		_, page = city.get("/console/queue?status=&flag=" + flag)
		if !strings.Contains(page, r.theirs) || strings.Contains(page, r.ours) {
			t.Errorf("the city's queue filtered by %s: want the reuse's inspection only", flag)
		}
		_, page = county.get("/console/queue?status=&flag=" + flag)
		if strings.Contains(page, r.ours) {
			t.Errorf("the county's queue filtered by %s lists the original's inspection", flag)
		}
	}
	var notes map[string]json.RawMessage
	rec, _ := r.srv.App.DB.Get(ctx, syncproto.EntityPhoto, r.original)
	if json.Unmarshal(rec.Value("notes"), &notes) != nil || notes["reused_by"] == nil {
		t.Errorf("the original's notes %s, want reused_by", rec.Value("notes"))
	}
}

// TestReuseLinksInOneCounty: within a county, its office sees the links
// both ways.
func TestReuseLinksInOneCounty(t *testing.T) {
	srv := apptest.Start(t)
	taken := time.Date(2026, 11, 28, 9, 20, 0, 0, time.FixedZone("", 8*3600))
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 32, Time: &taken})
	first := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	original := uploadPhoto(t, srv, srv.Login(apptest.Inspector), first, data)
	srv.App.Photos.WaitIdle()
	other := srv.Login(apptest.Inspector2)
	second := submit(t, other, apptest.Xinfu)
	copied := uploadPhoto(t, srv, other, second, data)
	srv.App.Photos.WaitIdle()

	county := loggedIn(t, srv, apptest.CountyOffice)
	if _, page := county.get("/console/inspections/" + first); !strings.Contains(page, `被复用于<a class="reuse" href="/console/inspections/`+second+`#photo-`+copied+`"`) {
		t.Errorf("the original's page lacks the note linking the reuse:\n%s", page)
	}
	if _, page := county.get("/console/inspections/" + second); !strings.Contains(page, "（1 张，本区县），见<a class=\"reuse\" href=\"/console/inspections/"+first+"#photo-"+original+"\"") {
		t.Errorf("the reuse's page lacks the flag linking the original:\n%s", page)
	}
}

// TestReuseWithinAnInspection: one file given as the photo of two items
// of one inspection: the later is flagged 一照多项, and the earlier's note
// says it was reused by another item of this inspection — not "被复用于"
// another county's inspection, linking back to this very page.
func TestReuseWithinAnInspection(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	taken := time.Date(2026, 11, 28, 9, 20, 0, 0, time.FixedZone("", 8*3600))
	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 37, Time: &taken})
	for _, item := range []string{"fence", "material_cover"} {
		id := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, id, apptest.Fields("inspection_id", insp, "item_key", item,
			"sha256", apptest.SHA256(data), "content_type", "image/jpeg", "captured_at", "2026-11-28T09:20:00+08:00")))
		srv.Tus(phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
		srv.App.Photos.WaitIdle()
	}
	_, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/inspections/" + insp)
	if !strings.Contains(page, "被本次检查的另一检查项复用（") || strings.Contains(page, "被复用于") {
		t.Errorf("the earlier photo's note: want 被本次检查的另一检查项复用, not 被复用于:\n%s", regexp.MustCompile(`(?s)<ul class="notes">.*?</ul>`).FindAllString(page, -1))
	}
}

package console_test

import (
	"bytes"
	"image"
	stdjpeg "image/jpeg"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// figureRE is one photo's figure on the detail page.
var figureRE = regexp.MustCompile(`(?s)<figure id="photo-([0-9a-f-]+)">.*?</figure>`)

// TestDetailPhotoPlaceholders: the detail page shows a photo's thumbnail
// only when there is one to load. A record whose bytes wait on the phone,
// one being processed and one whose picture cannot be previewed (HEIC; a
// picture too uniform to hash has a thumbnail)
// each get a sentence saying so in the thumbnail's place — never an image
// that fails to load — and the original's link only once it is uploaded;
// its position is "missing" only once its bytes were read.
func TestDetailPhotoPlaceholders(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.HoldPhotoProcessing = true })
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	jpeg := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 7})
	other := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 8})
	heic := testimg.HEIC()
	// A picture too uniform to hash (a blank wall): no phash, a thumbnail.
	var flat bytes.Buffer
	wall := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range wall.Pix {
		wall.Pix[i] = 180
	}
	if err := stdjpeg.Encode(&flat, wall, nil); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // state → photo id
	var ms []syncproto.Mutation
	for _, ph := range []struct {
		state, sum, contentType string
	}{
		{"pending", apptest.SHA256([]byte("still on the phone")), "image/jpeg"},
		{"processing", apptest.SHA256(jpeg), "image/jpeg"},
		{"shown", apptest.SHA256(other), "image/jpeg"},
		{"heic", apptest.SHA256(heic), "image/heic"},
		{"flat", apptest.SHA256(flat.Bytes()), "image/jpeg"},
	} {
		ids[ph.state] = uuid.NewString()
		ms = append(ms, apptest.Mut(phone, syncproto.EntityPhoto, ids[ph.state], apptest.Fields("inspection_id", insp,
			"item_key", "fence", "sha256", ph.sum, "content_type", ph.contentType)))
	}
	apptest.PushApplied(t, phone, ms...)
	tus := srv.Tus(phone)
	tus.Upload(ids["processing"], "image/jpeg", jpeg, http.StatusNoContent)
	tus.Upload(ids["shown"], "image/jpeg", other, http.StatusNoContent)
	tus.Upload(ids["heic"], "image/heic", heic, http.StatusNoContent)
	tus.Upload(ids["flat"], "image/jpeg", flat.Bytes(), http.StatusNoContent)
	// Processing is held: process all but one by hand.
	for _, s := range []string{"shown", "heic", "flat"} {
		if err := srv.App.Photos.Process(ctx, ids[s]); err != nil {
			t.Fatal(err)
		}
	}

	if rec, _ := srv.App.DB.Get(ctx, syncproto.EntityPhoto, ids["flat"]); rec.Text("phash") != "" {
		t.Fatalf("the flat picture has a phash (%s): the case tests nothing", rec.Text("phash"))
	}
	b := loggedIn(t, srv, apptest.CountyOffice)
	st, page := b.get("/console/inspections/" + insp)
	if st != http.StatusOK {
		t.Fatalf("detail: %d\n%s", st, page)
	}
	figures := map[string]string{}
	for _, m := range figureRE.FindAllStringSubmatch(page, -1) {
		figures[m[1]] = m[0]
	}
	for state, want := range map[string]struct {
		img, original  bool
		text, location string
	}{
		"pending":    {false, false, "照片文件尚未上传", "位置待照片上传后读取"},
		"processing": {false, true, "正在生成预览图", "位置待照片检查完成后显示"},
		"heic":       {false, true, "无法生成预览图", "无位置信息"},
		"shown":      {true, true, "", "无位置信息"},
		"flat":       {true, true, "", "无位置信息"},
	} {
		fig := figures[ids[state]]
		if fig == "" {
			t.Errorf("%s: no figure for photo %s", state, ids[state])
			continue
		}
		thumb := "/console/photos/" + ids[state] + "/thumbnail"
		if got := strings.Contains(fig, `<img src="`+thumb+`"`); got != want.img {
			t.Errorf("%s: thumbnail image shown %v, want %v:\n%s", state, got, want.img, fig)
		}
		// Each image named apart (its number), not 照片 each (a11y probe).
		if want.img && !regexp.MustCompile(`<img src="`+thumb+`" alt="照片 [0-9]+[：，"]`).MatchString(fig) {
			t.Errorf("%s: the thumbnail's text alternative does not number it:\n%s", state, fig)
		}
		if want.original && !strings.Contains(fig, `aria-label="查看原图：照片 `) {
			t.Errorf("%s: the link to the original does not say which photo", state)
		}
		if got := strings.Contains(fig, "/console/photos/"+ids[state]+"/original"); got != want.original {
			t.Errorf("%s: link to the original %v, want %v", state, got, want.original)
		}
		if want.text != "" && !strings.Contains(fig, want.text) {
			t.Errorf("%s: figure lacks %q:\n%s", state, want.text, fig)
		}
		// A position not read yet is not said to be missing.
		if !strings.Contains(fig, want.location) || want.location != "无位置信息" && strings.Contains(fig, "无位置信息") {
			t.Errorf("%s: figure's position is not %q:\n%s", state, want.location, fig)
		}
		// Whatever the page shows as an image loads.
		if want.img {
			if st, _ := b.get(thumb); st != http.StatusOK {
				t.Errorf("%s: the thumbnail shown answers %d", state, st)
			}
		} else if st, _ := b.get(thumb); st == http.StatusOK {
			t.Errorf("%s: a thumbnail exists (200) but the page shows a placeholder", state)
		}
	}
}

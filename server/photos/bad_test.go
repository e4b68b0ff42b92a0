package photos_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBadUploads: each bad upload gets a clear error, nothing of it is
// stored or marked uploaded, and the server keeps serving.
func TestBadUploads(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	good := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 3, Time: &taken, GPS: &siteAt})
	tus := w.srv.Tus(w.phone)
	finish := func(name string, data []byte, declared string, contentType string, wantStatus int, wantCode string) apptest.Response {
		t.Helper()
		id := newID()
		c := tus.Create(id, declared, contentType, len(data))
		if c.Status != http.StatusCreated {
			t.Fatalf("%s: create %d %+v", name, c.Status, c.Err)
		}
		r := tus.Patch(c.Header.Get("Location"), 0, data)
		if r.Status != wantStatus || r.Err.Code != wantCode || r.Err.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s", name, r.Status, r.Err, wantStatus, wantCode)
		}
		// The message is for the inspector: Chinese, no Go error text.
		if strings.Contains(r.Err.Message, "imageproc") || !strings.ContainsFunc(r.Err.Message, func(c rune) bool { return unicode.Is(unicode.Han, c) }) {
			t.Errorf("%s: message %q is not one for the inspector", name, r.Err.Message)
		}
		if head := tus.Head(c.Header.Get("Location")); head.Status != http.StatusNotFound {
			t.Errorf("%s: the refused upload is still there (HEAD %d)", name, head.Status)
		}
		if ok, _ := w.srv.App.Blobs.Has(ctx, declared, "original"); ok {
			t.Errorf("%s: refused bytes were stored", name)
		}
		return r
	}
	wrong := apptest.SHA256([]byte("something else"))
	finish("wrong hash", good, wrong, "image/jpeg", http.StatusUnprocessableEntity, syncproto.CodeHashMismatch)
	text := []byte("这不是图片，只是一段文字。This is not an image at all.")
	// Bytes neither declared nor a picture (a file corrupted on the
	// phone): the hash is checked first, so the phone hashes again.
	finish("wrong hash, no image", text, wrong, "image/jpeg", http.StatusUnprocessableEntity, syncproto.CodeHashMismatch)
	finish("not an image", text, apptest.SHA256(text), "image/jpeg", http.StatusUnprocessableEntity, syncproto.CodeBadImage)
	empty8 := make([]byte, 64)
	finish("zeros", empty8, apptest.SHA256(empty8), "image/jpeg", http.StatusUnprocessableEntity, syncproto.CodeBadImage)
	gif := append([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00"), make([]byte, 32)...)
	finish("a GIF", gif, apptest.SHA256(gif), "image/jpeg", http.StatusUnprocessableEntity, syncproto.CodeBadImage)
	header := good[:40]
	finish("a JPEG cut in its header", header, apptest.SHA256(header), "image/jpeg", http.StatusUnprocessableEntity, syncproto.CodeBadImage)
	bomb := testimg.Bomb(50000, 40000)
	r := finish("decompression bomb", bomb, apptest.SHA256(bomb), "image/png", http.StatusUnprocessableEntity, syncproto.CodeBadImage)
	if !strings.Contains(r.Err.Message, "50000×40000") {
		t.Errorf("decompression bomb: message %q does not name its size 50000×40000", r.Err.Message)
	}
	// A JPEG in a coding Go does not decode: its frame marker made that of
	// an arithmetic-coded (SOF9), lossless (SOF3) or hierarchical (SOF5)
	// JPEG. The message says the coding, not that JPEG is unsupported.
	for _, sof := range []byte{0xc9, 0xc3, 0xc5} {
		coded := bytes.Clone(good)
		at := bytes.Index(coded, []byte{0xff, 0xc0})
		if at < 0 {
			t.Fatal("no SOF0 marker in the test JPEG")
		}
		coded[at+1] = sof
		r := finish("a JPEG of frame marker "+string("0123456789abcdef"[sof>>4])+string("0123456789abcdef"[sof&15]), coded, apptest.SHA256(coded), "image/jpeg",
			http.StatusUnprocessableEntity, syncproto.CodeBadImage)
		if !strings.Contains(r.Err.Message, "编码方式") || strings.Contains(r.Err.Message, "请上传 JPEG") {
			t.Errorf("a JPEG coded otherwise: message %q, want one naming its coding", r.Err.Message)
		}
	}
	finish("PNG declared as JPEG", testimg.PNG(testimg.Options{Width: 50, Height: 50, Seed: 4}),
		apptest.SHA256(testimg.PNG(testimg.Options{Width: 50, Height: 50, Seed: 4})), "image/jpeg", http.StatusUnprocessableEntity, syncproto.CodeBadImage)

	// Refused at creation: too big, another county's photo, bad metadata.
	// Over the size limit: the message says both sizes, and the record
	// says why its bytes will not arrive (the phone does not send them
	// again: sync.md 10.4).
	bigID := w.photo(t, w.insp, good, map[string]any{"size_bytes": 26 << 20})
	big := tus.Create(bigID, apptest.SHA256(good), "image/jpeg", 26<<20)
	if big.Status != http.StatusRequestEntityTooLarge || big.Err.Code != syncproto.CodeBodyTooLarge ||
		!strings.Contains(big.Err.Message, "26 MB") || !strings.Contains(big.Err.Message, "25 MB") {
		t.Errorf("upload over 25 MB: %d %+v, want 413 %s naming 26 MB and the limit 25 MB", big.Status, big.Err, syncproto.CodeBodyTooLarge)
	}
	if f := w.flags(t, bigID)["refused"]; f["code"] != syncproto.CodeBodyTooLarge || f["reason"] != big.Err.Message {
		t.Errorf("the record of the photo too large to upload: refused %v, want code %s and the phone's message", f, syncproto.CodeBodyTooLarge)
	}
	ningwu := w.srv.Login(apptest.NingwuInsp)
	theirs := newID()
	ningwuSite := apptest.DemoSite(t, "140925")
	theirInsp := newID()
	apptest.PushApplied(t, ningwu, mut(ningwu, "inspection", theirInsp, map[string]any{"site_id": ningwuSite, "template_id": "coal_yard", "template_version": 1}))
	apptest.PushApplied(t, ningwu, mut(ningwu, "photo", theirs, map[string]any{"inspection_id": theirInsp, "sha256": apptest.SHA256(good), "content_type": "image/jpeg"}))
	if r := tus.Create(theirs, apptest.SHA256(good), "image/jpeg", len(good)); r.Status != http.StatusForbidden || r.Err.Code != syncproto.CodeOutOfScope {
		t.Errorf("upload for another county's photo: %d %+v", r.Status, r.Err)
	}
	pngRecord := w.photo(t, w.insp, good, map[string]any{"content_type": "image/png"})
	if r := tus.Create(pngRecord, apptest.SHA256(good), "image/jpeg", len(good)); r.Status != http.StatusBadRequest || r.Err.Code != syncproto.CodeInvalidUpload {
		t.Errorf("upload of another type than the record's: %d %+v", r.Status, r.Err)
	}
	for name, hdr := range map[string]map[string]string{
		"no Tus-Resumable":    {"Tus-Resumable": "", "Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": wrong, "content_type": "image/jpeg"})},
		"no Upload-Length":    {"Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": wrong, "content_type": "image/jpeg"})},
		"photo_id not a UUID": {"Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": "x", "sha256": wrong, "content_type": "image/jpeg"})},
		"bad sha256":          {"Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": "abc", "content_type": "image/jpeg"})},
		"gif":                 {"Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": wrong, "content_type": "image/gif"})},
		"garbage metadata":    {"Upload-Length": "10", "Upload-Metadata": "photo_id !!!"},
		"photo_id twice": {"Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": wrong, "content_type": "image/jpeg"}) +
			",photo_id " + base64.StdEncoding.EncodeToString([]byte(newID()))},
		"an element not base64":     {"Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": wrong, "content_type": "image/jpeg"}) + ",note !!!"},
		"an element of three parts": {"Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": wrong, "content_type": "image/jpeg"}) + ",a b c"},
		"an empty element":          {"Upload-Length": "10", "Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": wrong, "content_type": "image/jpeg"}) + ",,"},
	} {
		r := tus.Do(http.MethodPost, "/api/v1/uploads/", nil, hdr)
		if r.Status < 400 || r.Status >= 500 || r.Err.Code == "" || r.Err.Message == "" {
			t.Errorf("%s: %d %+v, want a 4xx JSON error", name, r.Status, r.Err)
		}
	}
	anon := w.srv.Tus(nil)
	if r := anon.Create(newID(), wrong, "image/jpeg", 10); r.Status != http.StatusUnauthorized || r.Err.Code != syncproto.CodeUnauthorized {
		t.Errorf("upload without a token: %d %+v", r.Status, r.Err)
	}

	// A JPEG cut short after its header is stored as sent (it is what the
	// phone hashed) but flagged unreadable, with no preview; nothing its
	// header says is read (sync.md 10.7): its EXIF time years before the
	// visit and its EXIF position 1,500 km away raise no flag, it is
	// no_gps, and it has no width or height.
	old, far := time.Date(2020, 1, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)), geo.Point{Lon: 100, Lat: 30}
	whole := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 4, Time: &old, GPS: &far})
	cut := whole[:len(whole)/2]
	id := w.photo(t, w.insp, cut, nil)
	tus.Upload(id, "image/jpeg", cut, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	flags := w.flags(t, id)
	if u, ok := flags["unreadable"]; !ok || u["reason"] != "图片文件不完整，可能拍摄或保存时中断" {
		t.Errorf("truncated JPEG: flags %v, want unreadable, the reason in Chinese", flags)
	}
	if _, ok := flags["no_gps"]; !ok {
		t.Errorf("truncated JPEG: flags %v, want no_gps", flags)
	}
	for _, f := range []string{"far_from_site", "position_mismatch", "time_mismatch"} {
		if v, ok := flags[f]; ok {
			t.Errorf("truncated JPEG: %s %v, read from a header whose picture is not there", f, v)
		}
	}
	rec := w.record(t, id)
	for _, f := range []string{"width", "height"} {
		if v, ok := rec[f]; ok {
			t.Errorf("truncated JPEG: %s %s", f, v)
		}
	}
	if e := string(rec["exif"]); strings.Contains(e, "time") || strings.Contains(e, "lat") {
		t.Errorf("truncated JPEG: exif %s", e)
	}
	if ok, _ := w.srv.App.Blobs.Has(ctx, apptest.SHA256(cut), "preview"); ok {
		t.Errorf("a preview was made of a truncated JPEG")
	}
	if _, err := w.phone.Me(ctx); err != nil {
		t.Fatalf("server unhealthy after bad uploads: %v", err)
	}
}

// TestProcessingResumesAfterRestart: a photo uploaded just before the
// server stopped is processed when it starts again.
func TestProcessingResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := app.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Demo, cfg.BcryptCost, cfg.HoldPhotoProcessing = "127.0.0.1:0", dir, true, 4, true
	cfg.DemoMonth = false // only this test's photo waits for the restart
	first := apptest.StartConfig(t, cfg)
	phone := first.Login(apptest.Inspector)
	insp := newID()
	apptest.PushApplied(t, phone, mut(phone, "inspection", insp, map[string]any{"site_id": apptest.DemoSite(t, "140902"), "template_id": "coal_yard", "template_version": 1}))
	taken := time.Now()
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 11, Time: &taken})
	id := newID()
	apptest.PushApplied(t, phone, mut(phone, "photo", id, map[string]any{"inspection_id": insp, "sha256": apptest.SHA256(data), "content_type": "image/jpeg"}))
	first.Tus(phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	first.Stop()
	if _, err := os.Stat(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}

	cfg.HoldPhotoProcessing = false
	second := apptest.StartConfig(t, cfg)
	second.App.Photos.WaitIdle()
	thumb, err := second.App.Blobs.Open(ctx, apptest.SHA256(data), "thumbnail")
	if err != nil {
		t.Fatalf("thumbnail after restart: %v", err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(thumb)
	thumb.Close()
	if buf.Len() == 0 {
		t.Fatal("empty thumbnail")
	}
}

// TestStoreFailureIsNotUnreadable: derivatives the photo store cannot
// write (a full disk; here its directory for new files taken by a file)
// leave the photo unprocessed, to be tried again — it flagged a good photo
// 照片无法读取，需重拍 for good — and once the store takes writes the photo
// is processed with no unreadable flag and its thumbnail stored.
func TestStoreFailureIsNotUnreadable(t *testing.T) {
	w := setupOn(t, apptest.Start(t, apptest.HoldPhotos))
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 5, Time: &taken, GPS: &siteAt})
	id := w.photo(t, w.insp, data, nil)
	w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	sum := apptest.SHA256(data)
	tmp := filepath.Join(w.srv.App.Cfg.DataDir, "blobs", "tmp")
	if err := os.Rename(tmp, tmp+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.App.Photos.Process(ctx, id); err == nil {
		t.Fatal("derivatives not writable: processing answered no error")
	}
	rec := w.record(t, id)
	if _, done := rec["processed_at"]; done || bytes.Contains(rec["flags"], []byte("unreadable")) {
		t.Fatalf("derivatives not writable: the photo was marked processed (flags %s)", rec["flags"])
	}
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp+".away", tmp); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.App.Photos.Process(ctx, id); err != nil {
		t.Fatalf("processing once the store takes writes: %v", err)
	}
	if _, done := w.record(t, id)["processed_at"]; !done {
		t.Fatal("the photo was not processed")
	}
	if _, ok := w.flags(t, id)["unreadable"]; ok {
		t.Errorf("a good photo flagged unreadable: %v", w.flags(t, id))
	}
	thumb, err := w.srv.App.Blobs.Open(ctx, sum, server.VariantThumbnail)
	if err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	thumb.Close()
}

// TestUploadedWithoutBytes: a photo marked uploaded whose bytes the photo
// store lacks (servers sharing a database but not --blobs) is an error to
// try again later, not a photo done with no derivatives and no flags.
func TestUploadedWithoutBytes(t *testing.T) {
	w := setup(t)
	id := w.photo(t, w.insp, []byte("bytes this server never stored"), nil)
	err := w.srv.App.DB.Update(ctx, func(tx server.WriteTx) error {
		r, err := tx.Get(ctx, server.EntityByName(syncproto.EntityPhoto), id)
		if err != nil {
			return err
		}
		return w.srv.App.Syncer.Upsert(ctx, tx, syncproto.EntityPhoto, id, r.County, map[string]any{"uploaded": true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.App.Photos.Process(ctx, id); err == nil || !strings.Contains(err.Error(), "lacks its bytes") {
		t.Errorf("processing an uploaded photo without bytes: %v, want an error", err)
	}
	if _, ok := w.record(t, id)["processed_at"]; ok {
		t.Error("the photo was marked processed")
	}
}

// TestRefusedBytesFlagged: bytes refused for good at the upload (not an
// image, a type other than declared, other bytes than the record's hash)
// leave on the photo's record the flag refused, with the code and the
// message the phone was given — the office used to wait for evidence the
// phone would never send again, shown as 未发现异常. Another device's
// upload for the photo flags nothing; bytes stored later replace the flag
// with the photo's own.
func TestRefusedBytesFlagged(t *testing.T) {
	w := setup(t)
	tus := w.srv.Tus(w.phone)
	refused := func(id string) map[string]any {
		t.Helper()
		raw := w.record(t, id)["flags"]
		if len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		return w.flags(t, id)[server.FlagRefused]
	}
	taken := w.visitStart.Add(20 * time.Minute)
	good := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 5, Time: &taken, GPS: &siteAt})
	text := []byte("这不是图片，只是一段文字。")
	png := testimg.PNG(testimg.Options{Width: 64, Height: 48, Seed: 6})
	for name, c := range map[string]struct {
		record, sent []byte
		contentType  string
		code         string
	}{
		"not an image":        {text, text, "image/jpeg", syncproto.CodeBadImage},
		"a PNG sent as JPEG":  {png, png, "image/jpeg", syncproto.CodeBadImage},
		"other bytes, hashed": {good, text, "image/jpeg", syncproto.CodeHashMismatch},
	} {
		id := w.photo(t, w.insp, c.record, map[string]any{"content_type": c.contentType, "size_bytes": len(c.sent)})
		up := tus.Create(id, apptest.SHA256(c.record), c.contentType, len(c.sent))
		if up.Status != http.StatusCreated {
			t.Fatalf("%s: create %d %+v", name, up.Status, up.Err)
		}
		if r := tus.Patch(up.Header.Get("Location"), 0, c.sent); r.Err.Code != c.code {
			t.Fatalf("%s: %d %+v, want %s", name, r.Status, r.Err, c.code)
		}
		f := refused(id)
		if f == nil || f["code"] != c.code || !strings.ContainsFunc(fmt.Sprint(f["reason"]), func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: the photo's refused flag is %v, want code %s and the phone's message", name, f, c.code)
		}
	}

	// The file refused, then a try that declares a type no photo has:
	// the flag keeps saying the file is not an image (the office read the
	// later refusal's field names, told the phone could send it again).
	id := w.photo(t, w.insp, text, map[string]any{"size_bytes": len(text)})
	if r := tus.Patch(tus.Create(id, apptest.SHA256(text), "image/jpeg", len(text)).Header.Get("Location"), 0, text); r.Err.Code != syncproto.CodeBadImage {
		t.Fatalf("not an image: %+v", r.Err)
	}
	if up := tus.Create(id, apptest.SHA256(text), "image/gif", len(text)); up.Err.Code != syncproto.CodeUnsupportedMediaType {
		t.Fatalf("a GIF declared: %d %+v, want unsupported_media_type", up.Status, up.Err)
	}
	if f := refused(id); f == nil || f["code"] != syncproto.CodeBadImage {
		t.Errorf("a later refusal of the declared type replaced the file's: %v", f)
	}

	// Refused at the upload's creation: the phone's own hash of the file
	// is not the one its record declares.
	other := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 7, Time: &taken, GPS: &siteAt})
	id = w.photo(t, w.insp, good, map[string]any{"size_bytes": len(other)})
	if up := tus.Create(id, apptest.SHA256(other), "image/jpeg", len(other)); up.Err.Code != syncproto.CodeHashMismatch {
		t.Fatalf("an upload declaring other bytes than its record: %d %+v, want hash_mismatch", up.Status, up.Err)
	}
	if f := refused(id); f == nil || f["code"] != syncproto.CodeHashMismatch {
		t.Errorf("refused at creation: the photo's refused flag is %v, want hash_mismatch", f)
	}

	// Another device of the same user: its upload for this photo is not
	// its to refuse.
	id = w.photo(t, w.insp, text, nil)
	otherPhone := w.srv.Login(apptest.Inspector)
	if up := w.srv.Tus(otherPhone).Create(id, apptest.SHA256(text), "image/jpeg", len(text)); up.Status < 400 {
		t.Fatalf("another device's upload of the photo: %d", up.Status)
	}
	if f := refused(id); f != nil {
		t.Errorf("another device's refused upload flagged the photo: %v", f)
	}

	// Refused, then the right bytes: stored and processed, the flag goes.
	id = w.photo(t, w.insp, good, nil)
	up := tus.Create(id, apptest.SHA256(good), "image/png", len(good))
	if up.Status < 400 || refused(id) == nil {
		t.Fatalf("an upload declared PNG for a JPEG record: %d, refused %v", up.Status, refused(id))
	}
	tus.Upload(id, "image/jpeg", good, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	if f := refused(id); f != nil {
		t.Errorf("the photo stored and processed keeps the refused flag: %v", f)
	}
}

// TestLostFilesSaidSo: a photo's original or thumbnail gone from the photo
// store after it was stored (a file removed, a volume not mounted, a
// restore without its photos) is the server's fault, said as such — 500
// internal, logged for the operator — not 照片文件尚未上传 (the phone
// had sent it, and would never send it again) nor 这种格式的照片没有预览图
// (a JPEG has one).
func TestLostFilesSaidSo(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 9, Time: &taken, GPS: &siteAt})
	id := w.photo(t, w.insp, data, nil)
	w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	sum := apptest.SHA256(data)
	access, _ := w.phone.Tokens()
	for _, variant := range []string{server.VariantThumbnail, server.VariantOriginal} {
		url := w.srv.URL + "/api/v1/photos/" + id + "/" + variant
		get := func() (int, syncproto.ErrorBody) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+access)
			resp, err := w.srv.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e syncproto.ErrorBody
			json.NewDecoder(resp.Body).Decode(&e)
			return resp.StatusCode, e
		}
		if st, _ := get(); st != http.StatusOK {
			t.Fatalf("%s before its file was removed: %d", variant, st)
		}
		if err := os.Remove(filepath.Join(w.srv.App.Cfg.DataDir, "blobs", sum[:2], sum[2:4], sum, variant)); err != nil {
			t.Fatal(err)
		}
		st, e := get()
		if st != http.StatusInternalServerError || e.Code != syncproto.CodeInternal || !strings.Contains(e.Message, "联系管理员") ||
			strings.Contains(e.Message, "尚未上传") || strings.Contains(e.Message, "这种格式") {
			t.Errorf("%s removed: %d %s %q, want 500 internal saying the server lacks it", variant, st, e.Code, e.Message)
		}
	}
}

// TestMissingBytesSaidOnce: photos marked uploaded whose bytes the photo
// store lacks (a restore without blobs/) are said once in the log for them
// all, with how many, not once per photo and attempt (a restore logged
// 1,500 ERROR lines a round: verification probe).
func TestMissingBytesSaidOnce(t *testing.T) {
	var logs logtest.Buffer
	w := setupOn(t, apptest.StartLogged(t, &logs))
	var ids []string
	for i := range 3 {
		id := w.photo(t, w.insp, []byte(fmt.Sprintf("bytes this server never stored %d", i)), nil)
		if err := w.srv.App.DB.Update(ctx, func(tx server.WriteTx) error {
			r, err := tx.Get(ctx, server.EntityByName(syncproto.EntityPhoto), id)
			if err != nil {
				return err
			}
			return w.srv.App.Syncer.Upsert(ctx, tx, syncproto.EntityPhoto, id, r.County, map[string]any{"uploaded": true})
		}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	w.srv.App.Photos.Enqueue(ids)
	w.srv.App.Photos.WaitIdle()
	l := logs.String()
	perPhoto := strings.Contains(l, `"level":"ERROR","msg":"process photo"`)
	if n := strings.Count(l, "whose bytes the photo store lacks"); n != 1 || perPhoto {
		t.Errorf("the missing bytes said %d times (want once), per photo at ERROR: %v\n%s", n, perPhoto, l)
	}
}

package apidocs_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSmokePhotos drives every photo route — tus discovery, creation (with
// and without bytes), HEAD, PATCH, termination, and the download of each
// variant with caching and ranges — and their error answers, through the
// validating client; then pulls, so that the processed photos' flags and
// EXIF are checked against the Photo schema.
func TestSmokePhotos(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	tus := srv.Tus(phone)
	site := apptest.DemoSite(t, "140902")
	insp := newID()
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	wantResults(t, push(t, phone, syncproto.Mutation{Entity: "inspection", ID: insp, HLC: phone.Clock.Now().String(),
		Fields: fields(t, map[string]any{"site_id": site, "template_id": "construction_dust", "template_version": 1,
			"started_at": start.Format(time.RFC3339)})}), "applied")
	photo := func(data []byte, contentType string, extra map[string]any) string {
		t.Helper()
		id := newID()
		f := map[string]any{"inspection_id": insp, "sha256": apptest.SHA256(data), "content_type": contentType,
			"size_bytes": len(data), "captured_at": start.Add(10 * time.Minute).Format(time.RFC3339)}
		for k, v := range extra {
			f[k] = v
		}
		wantResults(t, push(t, phone, syncproto.Mutation{Entity: "photo", ID: id, HLC: phone.Clock.Now().String(), Fields: fields(t, f)}), "applied")
		return id
	}
	status := func(what string, r apptest.Response, want int, code string) {
		t.Helper()
		if r.Status != want || r.Err.Code != code {
			t.Errorf("%s: %d %s (%s), want %d %s", what, r.Status, r.Err.Code, r.Err.Message, want, code)
		}
	}
	octet := map[string]string{"Content-Type": "application/offset+octet-stream"}
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}

	// Discovery needs neither a token nor Tus-Resumable.
	opts := srv.Tus(nil).Do(http.MethodOptions, "/api/v1/uploads/", nil, map[string]string{"Tus-Resumable": ""})
	status("OPTIONS", opts, http.StatusOK, "")
	if opts.Header.Get("Tus-Max-Size") != strconv.Itoa(25<<20) {
		t.Errorf("Tus-Max-Size %q", opts.Header.Get("Tus-Max-Size"))
	}

	// A JPEG taken 2 km from the site with an editor's name in EXIF: in
	// chunks, with a stale PATCH, a resume after HEAD, and bad requests.
	taken := start.Add(10 * time.Minute)
	far := geo.Point{Lon: 112.76, Lat: 38.43}
	jpg := testimg.JPEG(testimg.Options{Width: 800, Height: 600, Seed: 5, Time: &taken, GPS: &far, Software: "美图秀秀", Make: "HUAWEI", Model: "ALN-AL00"})
	jpgID := photo(jpg, "image/jpeg", map[string]any{"lon": far.Lon, "lat": far.Lat, "crs": "gcj02", "accuracy_m": 8})
	c := tus.Create(jpgID, apptest.SHA256(jpg), "image/jpeg", len(jpg))
	status("create", c, http.StatusCreated, "")
	loc := c.Header.Get("Location")
	half := len(jpg) / 2
	status("first half", tus.Patch(loc, 0, jpg[:half]), http.StatusNoContent, "")
	status("stale offset", tus.Patch(loc, 0, jpg[:half]), http.StatusConflict, syncproto.CodeUploadOffset)
	status("wrong content type", tus.Do(http.MethodPatch, loc, jpg[half:], map[string]string{"Upload-Offset": strconv.Itoa(half), "Content-Type": "application/octet-stream"}),
		http.StatusUnsupportedMediaType, syncproto.CodeUnsupportedMediaType)
	status("no Upload-Offset", tus.Do(http.MethodPatch, loc, jpg[half:], octet), http.StatusBadRequest, syncproto.CodeInvalidUpload)
	status("no Tus-Resumable", tus.Do(http.MethodPatch, loc, jpg[half:], with(octet, "Upload-Offset", strconv.Itoa(half), "Tus-Resumable", "")),
		http.StatusBadRequest, syncproto.CodeInvalidUpload)
	tooMany := tus.Patch(loc, half, append(append([]byte{}, jpg[half:]...), 0))
	status("too many bytes", tooMany, http.StatusRequestEntityTooLarge, syncproto.CodeBodyTooLarge)
	if !strings.Contains(tooMany.Err.Message, "超出了 Upload-Length") {
		t.Errorf("too many bytes: message %q does not say the bytes overran Upload-Length", tooMany.Err.Message)
	}
	status("HEAD without a token", srv.Tus(nil).Head(loc), http.StatusUnauthorized, "")
	status("PATCH without a token", srv.Tus(nil).Patch(loc, half, jpg[half:]), http.StatusUnauthorized, syncproto.CodeUnauthorized)
	head := tus.Head(loc)
	status("HEAD", head, http.StatusOK, "")
	if head.Header.Get("Upload-Offset") != strconv.Itoa(half) || head.Header.Get("Upload-Length") != strconv.Itoa(len(jpg)) {
		t.Errorf("HEAD: offset %s length %s", head.Header.Get("Upload-Offset"), head.Header.Get("Upload-Length"))
	}
	status("rest", tus.Patch(loc, half, jpg[half:]), http.StatusNoContent, "")
	status("HEAD after the end", tus.Head(loc), http.StatusNotFound, "")
	status("PATCH after the end", tus.Patch(loc, len(jpg), []byte{1}), http.StatusNotFound, syncproto.CodeNotFound)
	status("DELETE after the end", tus.Do(http.MethodDelete, loc, nil, nil), http.StatusNotFound, syncproto.CodeNotFound)

	// Termination.
	other := testimg.JPEG(testimg.Options{Seed: 6})
	c = tus.Create(newID(), apptest.SHA256(other), "image/jpeg", len(other))
	status("create to terminate", c, http.StatusCreated, "")
	status("DELETE without Tus-Resumable", tus.Do(http.MethodDelete, c.Header.Get("Location"), nil, map[string]string{"Tus-Resumable": ""}),
		http.StatusBadRequest, syncproto.CodeInvalidUpload)
	status("DELETE", tus.Do(http.MethodDelete, c.Header.Get("Location"), nil, nil), http.StatusNoContent, "")
	status("HEAD after DELETE", tus.Head(c.Header.Get("Location")), http.StatusNotFound, "")

	// Refusals at creation and at the end.
	status("record declares another hash", tus.Create(jpgID, apptest.SHA256(other), "image/jpeg", len(other)),
		http.StatusUnprocessableEntity, syncproto.CodeHashMismatch)
	status("bad metadata", tus.Create("not-a-uuid", apptest.SHA256(other), "image/jpeg", len(other)), http.StatusBadRequest, syncproto.CodeInvalidUpload)
	status("gif", tus.Create(newID(), apptest.SHA256(other), "image/gif", len(other)), http.StatusUnsupportedMediaType, syncproto.CodeUnsupportedMediaType)
	// The photo id and the hash are checked before the type: metadata
	// that names neither is malformed (400), whatever its content type.
	status("bad metadata, gif", tus.Create("not-a-uuid", apptest.SHA256(other), "image/gif", len(other)), http.StatusBadRequest, syncproto.CodeInvalidUpload)
	status("bad hash, no type", tus.Create(newID(), "abc", "", len(other)), http.StatusBadRequest, syncproto.CodeInvalidUpload)
	status("metadata of one bare key", tus.Do(http.MethodPost, "/api/v1/uploads/", nil, map[string]string{"Upload-Length": strconv.Itoa(len(other)), "Upload-Metadata": "garbage"}),
		http.StatusBadRequest, syncproto.CodeInvalidUpload)
	status("too large", tus.Create(newID(), apptest.SHA256(other), "image/jpeg", 26<<20), http.StatusRequestEntityTooLarge, syncproto.CodeBodyTooLarge)
	c = tus.Create(newID(), apptest.SHA256([]byte("x")), "image/jpeg", len(other))
	status("wrong bytes: create", c, http.StatusCreated, "")
	status("wrong bytes", tus.Patch(c.Header.Get("Location"), 0, other), http.StatusUnprocessableEntity, syncproto.CodeHashMismatch)
	text := []byte("not an image")
	c = tus.Create(newID(), apptest.SHA256(text), "image/png", len(text))
	status("not an image", tus.Patch(c.Header.Get("Location"), 0, text), http.StatusUnprocessableEntity, syncproto.CodeBadImage)
	ningwu := srv.Login(apptest.NingwuInsp)
	theirInsp, theirs := newID(), newID()
	wantResults(t, push(t, ningwu,
		syncproto.Mutation{Entity: "inspection", ID: theirInsp, HLC: ningwu.Clock.Now().String(),
			Fields: fields(t, map[string]any{"site_id": apptest.DemoSite(t, "140925"), "template_id": "coal_yard", "template_version": 1})},
		syncproto.Mutation{Entity: "photo", ID: theirs, HLC: ningwu.Clock.Now().String(),
			Fields: fields(t, map[string]any{"inspection_id": theirInsp, "sha256": apptest.SHA256(other), "content_type": "image/jpeg"})}),
		"applied", "applied")
	status("another county's photo", tus.Create(theirs, apptest.SHA256(other), "image/jpeg", len(other)), http.StatusForbidden, syncproto.CodeOutOfScope)

	// Bytes first, in the creation request (creation with upload), then
	// the record: it is marked uploaded when pushed. A PNG and a HEIC.
	png := testimg.PNG(testimg.Options{Width: 300, Height: 200, Seed: 7})
	pngID := newID()
	c = tus.Do(http.MethodPost, "/api/v1/uploads/", png, with(octet, "Upload-Length", strconv.Itoa(len(png)),
		"Upload-Metadata", apptest.Metadata(map[string]string{"photo_id": pngID, "sha256": apptest.SHA256(png), "content_type": "image/png"})))
	status("creation with upload", c, http.StatusCreated, "")
	if c.Header.Get("Upload-Offset") != strconv.Itoa(len(png)) {
		t.Errorf("creation with upload: Upload-Offset %q", c.Header.Get("Upload-Offset"))
	}
	heic := testimg.HEIC()
	heicID := photo(heic, "image/heic", nil)
	tus.Upload(heicID, "image/heic", heic, http.StatusNoContent)
	wantResults(t, push(t, phone, syncproto.Mutation{Entity: "photo", ID: pngID, HLC: phone.Clock.Now().String(),
		Fields: fields(t, map[string]any{"inspection_id": insp, "sha256": apptest.SHA256(png), "content_type": "image/png"})}), "applied")
	pending := photo(testimg.JPEG(testimg.Options{Seed: 8}), "image/jpeg", nil)
	srv.App.Photos.WaitIdle()

	// Downloads.
	get := func(c *syncproto.Client, id, variant string, hdr map[string]string, want int, code string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/photos/"+id+"/"+variant, nil)
		req.Header.Set("Authorization", "Bearer "+access(c))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var got string
		if resp.StatusCode >= 400 {
			got = string(b)
		}
		if resp.StatusCode != want || !strings.Contains(got, `"code":"`+code+`"`) && code != "" {
			t.Errorf("GET %s/%s %v: %d %s, want %d %s", id, variant, hdr, resp.StatusCode, got, want, code)
		}
		return resp, b
	}
	thumb, _ := get(phone, jpgID, "thumbnail", nil, http.StatusOK, "")
	get(phone, jpgID, "thumbnail", map[string]string{"If-None-Match": thumb.Header.Get("ETag")}, http.StatusNotModified, "")
	get(phone, jpgID, "preview", nil, http.StatusOK, "")
	if _, b := get(phone, jpgID, "original", nil, http.StatusOK, ""); string(b) != string(jpg) {
		t.Error("the original is not the bytes uploaded")
	}
	get(phone, jpgID, "original", map[string]string{"Range": "bytes=0-99"}, http.StatusPartialContent, "")
	get(phone, jpgID, "original", map[string]string{"Range": "bytes=0-9,100-109"}, http.StatusPartialContent, "")
	get(phone, jpgID, "original", map[string]string{"Range": "bytes=0-9", "If-Range": thumb.Header.Get("ETag")}, http.StatusOK, "")
	get(phone, jpgID, "original", map[string]string{"Range": "bytes=99999999-"}, http.StatusRequestedRangeNotSatisfiable, syncproto.CodeBadRequest)
	get(phone, jpgID, "original", map[string]string{"If-Match": `"nope"`}, http.StatusPreconditionFailed, syncproto.CodeBadRequest)
	get(phone, jpgID, "huge", nil, http.StatusNotFound, syncproto.CodeNotFound)
	get(phone, newID(), "original", nil, http.StatusNotFound, syncproto.CodeNotFound)
	get(phone, pending, "original", nil, http.StatusNotFound, syncproto.CodeNotReady)
	get(phone, pngID, "original", nil, http.StatusOK, "")
	get(phone, pngID, "thumbnail", nil, http.StatusOK, "")
	get(phone, heicID, "original", nil, http.StatusOK, "")
	get(phone, heicID, "preview", nil, http.StatusNotFound, syncproto.CodeNotReady)
	get(ningwu, jpgID, "thumbnail", nil, http.StatusForbidden, syncproto.CodeOutOfScope)
	get(srv.Login(apptest.CityOffice), jpgID, "thumbnail", nil, http.StatusOK, "")

	// The pull brings the server-owned fields, checked against the Photo
	// schema by the transport.
	got, _ := pullAll(t, phone, "")
	for _, id := range []string{jpgID, pngID, heicID} {
		if string(got[id].Fields["uploaded"]) != "true" || got[id].Fields["processed_at"] == nil {
			t.Errorf("photo %s after upload: %v", id, got[id].Fields)
		}
	}
	for _, flag := range []string{"far_from_site", "edited"} {
		if !strings.Contains(string(got[jpgID].Fields["flags"]), `"`+flag+`"`) {
			t.Errorf("the far, edited photo's flags %s lack %s", got[jpgID].Fields["flags"], flag)
		}
	}
	if string(got[pending].Fields["uploaded"]) == "true" {
		t.Error("a photo whose bytes never came is marked uploaded")
	}
}

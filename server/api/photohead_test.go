package api_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPhotoHead (issue 14): HEAD of a photo variant answers as GET does —
// same status and the same headers (Content-Length, ETag, Content-Type,
// caching) — without a body; 304 with a matching If-None-Match; and for a
// missing photo, a variant not made or a photo not uploaded, GET's error
// status without a body.
func TestPhotoHead(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	insp, photo, pending := newID(), newID(), newID()
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 41})
	heic := testimg.HEIC()
	heicID := newID()
	photoFields := func(sum, contentType string) F {
		return F{"inspection_id": insp, "sha256": sum, "content_type": contentType}
	}
	apptest.PushApplied(t, c,
		upsert(t, c, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")),
		upsert(t, c, syncproto.EntityPhoto, photo, photoFields(apptest.SHA256(data), "image/jpeg")),
		upsert(t, c, syncproto.EntityPhoto, heicID, photoFields(apptest.SHA256(heic), "image/heic")),
		upsert(t, c, syncproto.EntityPhoto, pending, photoFields(apptest.SHA256([]byte("never sent")), "image/jpeg")))
	tus := srv.Tus(c)
	tus.Upload(photo, "image/jpeg", data, http.StatusNoContent)
	tus.Upload(heicID, "image/heic", heic, http.StatusNoContent)
	srv.App.Photos.WaitIdle()

	access, _ := c.Tokens()
	do := func(method, id, variant string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/api/v1/photos/"+id+"/"+variant, nil)
		req.Header.Set("Authorization", "Bearer "+access)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	same := []string{"Content-Length", "Content-Type", "ETag", "Cache-Control", "Last-Modified", "Accept-Ranges"}
	for _, variant := range []string{"original", "preview", "thumbnail"} {
		get, body := do(http.MethodGet, photo, variant, nil)
		head, headBody := do(http.MethodHead, photo, variant, nil)
		if get.StatusCode != http.StatusOK || head.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET %d, HEAD %d, want 200", variant, get.StatusCode, head.StatusCode)
		}
		if len(headBody) != 0 {
			t.Errorf("%s: HEAD answered a body of %d bytes", variant, len(headBody))
		}
		for _, h := range same {
			if get.Header.Get(h) == "" || head.Header.Get(h) != get.Header.Get(h) {
				t.Errorf("%s: %s is %q on HEAD, %q on GET", variant, h, head.Header.Get(h), get.Header.Get(h))
			}
		}
		if head.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("%s: HEAD Content-Length %s, the body is %d bytes", variant, head.Header.Get("Content-Length"), len(body))
		}
		if r, b := do(http.MethodHead, photo, variant, map[string]string{"If-None-Match": get.Header.Get("ETag")}); r.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Errorf("%s: HEAD with If-None-Match: %d (%d bytes), want 304 without a body", variant, r.StatusCode, len(b))
		}
	}
	// Every refusal: HEAD has GET's status and the headers of GET's JSON
	// error (its Content-Length too), without the body.
	for _, tc := range []struct {
		name, id, variant string
		hdr               map[string]string
		want              int
	}{
		{"no such photo", newID(), "original", nil, http.StatusNotFound},
		{"no such variant", photo, "huge", nil, http.StatusNotFound},
		{"not uploaded", pending, "original", nil, http.StatusNotFound},
		{"not uploaded, thumbnail", pending, "thumbnail", nil, http.StatusNotFound},
		{"HEIC has no preview", heicID, "preview", nil, http.StatusNotFound},
		{"range past the end", photo, "original", map[string]string{"Range": "bytes=99999999-"}, http.StatusRequestedRangeNotSatisfiable},
		{"If-Match of another", photo, "original", map[string]string{"If-Match": `"other"`}, http.StatusPreconditionFailed},
	} {
		get, body := do(http.MethodGet, tc.id, tc.variant, tc.hdr)
		head, b := do(http.MethodHead, tc.id, tc.variant, tc.hdr)
		if get.StatusCode != tc.want || head.StatusCode != get.StatusCode || len(b) != 0 {
			t.Errorf("%s: GET %d, HEAD %d with %d bytes; want %d for both, HEAD without a body", tc.name, get.StatusCode, head.StatusCode, len(b), tc.want)
		}
		for _, h := range []string{"Content-Length", "Content-Type"} {
			if head.Header.Get(h) != get.Header.Get(h) {
				t.Errorf("%s: %s is %q on HEAD, %q on GET", tc.name, h, head.Header.Get(h), get.Header.Get(h))
			}
		}
		// An answer that is no photo's bytes — a refusal — is kept in
		// no cache, as every API answer but a photo's.
		if cc := get.Header.Get("Cache-Control"); get.StatusCode >= 400 && cc != "no-store" {
			t.Errorf("%s: %d with Cache-Control %q, want no-store", tc.name, get.StatusCode, cc)
		}
		if get.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("%s: GET Content-Length %q, its body is %d bytes", tc.name, get.Header.Get("Content-Length"), len(body))
		}
	}
	other := srv.Login(apptest.NingwuInsp)
	otherAccess, _ := other.Tokens()
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/api/v1/photos/"+photo+"/thumbnail", nil)
	req.Header.Set("Authorization", "Bearer "+otherAccess)
	if resp, err := srv.HTTPClient().Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("HEAD of another county's photo: %v %v, want 403", resp.StatusCode, err)
	}
}

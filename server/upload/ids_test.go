package upload_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// impossibleIDs are upload URLs' last segments (as sent, escaped) that no
// upload has: too long for a file name, too long for an S3 key, with a
// NUL or another control character, a backslash, non-ASCII, or well
// formed but never given.
var impossibleIDs = map[string]string{
	"251 letters":         strings.Repeat("a", 251),
	"300 hex digits":      strings.Repeat("f", 300),
	"5000 letters":        strings.Repeat("b", 5000),
	"NUL":                 "%00",
	"NUL inside":          "a%00b",
	"control character":   "%01",
	"DEL":                 "%7F",
	"space":               "a%20b",
	"backslash":           "a%5Cb",
	"Chinese":             url.PathEscape("上传"),
	"dot dot":             "..",
	"32 hex digits":       "0123456789abcdef0123456789abcdef",
	"32 hex in capitals":  "0123456789ABCDEF0123456789ABCDEF",
	"a UUID and a suffix": "0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57+notanupload",
}

// wantNoUpload sends HEAD, PATCH and DELETE for every impossible id to
// base+BasePath through send, and wants 404 not_found each time: never a
// server error (which a client retries forever), never another answer.
func wantNoUpload(t *testing.T, send func(method, path string, body []byte, header map[string]string) (int, string)) {
	t.Helper()
	patch := map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
	for name, id := range impossibleIDs {
		for _, method := range []string{http.MethodHead, http.MethodPatch, http.MethodDelete} {
			var body []byte
			var header map[string]string
			if method == http.MethodPatch {
				body, header = []byte("x"), patch
			}
			status, code := send(method, "/api/v1/uploads/"+id, body, header)
			if status != http.StatusNotFound || method != http.MethodHead && code != syncproto.CodeNotFound {
				t.Errorf("%s %s: %d %q, want 404 %s", method, name, status, code, syncproto.CodeNotFound)
			}
		}
	}
}

// TestUploadIDsNoUploadHas: a request for an upload id of a form no
// upload can have (a name too long for the file system, a NUL) is a
// missing upload, as any other unknown id, with the file store.
func TestUploadIDsNoUploadHas(t *testing.T) {
	srv := apptest.Start(t)
	tus := srv.Tus(srv.Login(apptest.Inspector))
	wantNoUpload(t, func(method, path string, body []byte, header map[string]string) (int, string) {
		r := tus.Do(method, path, body, header)
		return r.Status, r.Err.Code
	})
	// An upload of its own is still found.
	data := evidenceJPEG(41)
	c := tus.Create(newID(), apptest.SHA256(data), "image/jpeg", len(data))
	if h := tus.Head(c.Header.Get("Location")); h.Status != http.StatusOK {
		t.Errorf("HEAD of a real upload: %d %+v", h.Status, h.Err)
	}
}

// TestS3UploadIDsNoUploadHas: the same with partial uploads kept in S3,
// whose ids have another form.
func TestS3UploadIDsNoUploadHas(t *testing.T) {
	_, a, _, _ := twoServers(t)
	wantNoUpload(t, func(method, path string, body []byte, header map[string]string) (int, string) {
		req, err := http.NewRequest(method, a.URL+path, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Tus-Resumable", "1.0.0")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var eb syncproto.ErrorBody
		_ = json.Unmarshal(b, &eb)
		return resp.StatusCode, eb.Code
	})
	resp, loc := createUpload(t, a, 10, apptest.SHA256([]byte("0123456789")))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if r := tusRequest(t, http.MethodHead, a.URL+loc, nil); r.StatusCode != http.StatusOK {
		t.Errorf("HEAD of a real upload %s: %d", loc, r.StatusCode)
	}
}

// TestNoDeferredLength: the server does not offer creation-defer-length
// (a photo's size is known before it is sent), and a creation that
// defers its length anyway is the app bug 400 invalid_upload, in Chinese.
func TestNoDeferredLength(t *testing.T) {
	srv := apptest.Start(t)
	tus := srv.Tus(srv.Login(apptest.Inspector))
	opts := tus.Do(http.MethodOptions, "/api/v1/uploads/", nil, nil)
	if ext := opts.Header.Get("Tus-Extension"); !strings.Contains(ext, "creation") || strings.Contains(ext, "defer") {
		t.Errorf("Tus-Extension %q, want creation without creation-defer-length", ext)
	}
	r := tus.Do(http.MethodPost, "/api/v1/uploads/", nil, map[string]string{"Upload-Defer-Length": "1",
		"Upload-Metadata": apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": apptest.SHA256([]byte("x")), "content_type": "image/jpeg"})})
	if r.Status != http.StatusBadRequest || r.Err.Code != syncproto.CodeInvalidUpload || !strings.Contains(r.Err.Message, "Upload-Length") {
		t.Errorf("creation with Upload-Defer-Length: %d %+v, want 400 invalid_upload", r.Status, r.Err)
	}
}

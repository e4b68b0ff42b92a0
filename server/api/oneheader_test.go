package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestOneOfEachHeader: a header that holds one value, given twice, is
// refused — not read as its first value, which a proxy in front may have
// read otherwise: two Authorization headers (which user is it?) answer
// 401 token_invalid on every authenticated route; two of a tus header
// (Upload-Length 10 and 20, two Tus-Resumable, two Upload-Offset) answer
// 400 invalid_upload, and nothing is created or written.
func TestOneOfEachHeader(t *testing.T) {
	srv := apptest.Start(t)
	insp, city := srv.Login(apptest.Inspector), srv.Login(apptest.CityOffice)
	ai, ac := accessToken(insp), accessToken(city)
	do := func(method, path string, body []byte, h http.Header) reply {
		t.Helper()
		if !strings.HasPrefix(path, "http") {
			path = srv.URL + path
		}
		req, err := http.NewRequestWithContext(t.Context(), method, path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == nil {
			req.Body = http.NoBody
		}
		for k, vs := range h {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		resp, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	for _, tc := range []struct {
		name, method, path string
		tokens             []string
	}{
		{"the same token twice", http.MethodGet, syncproto.PathMe, []string{ai, ai}},
		{"two users' tokens", http.MethodGet, syncproto.PathMe, []string{ai, ac}},
		{"two users' tokens, the city's first", http.MethodGet, syncproto.PathMe, []string{ac, ai}},
		{"a pull", http.MethodGet, syncproto.PathPull, []string{ai, ac}},
		{"a photo", http.MethodGet, "/api/v1/photos/" + newID() + "/thumb", []string{ac, ai}},
	} {
		t.Run("Authorization: "+tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, tok := range tc.tokens {
				h.Add("Authorization", "Bearer "+tok)
			}
			do(tc.method, tc.path, nil, h).wantError(t, http.StatusUnauthorized, syncproto.CodeTokenInvalid)
		})
	}

	tus := srv.Tus(insp)
	data := []byte("0123456789")
	meta := apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": apptest.SHA256(data), "content_type": "image/jpeg"})
	base := func() http.Header {
		return http.Header{"Authorization": {"Bearer " + ai}, "Tus-Resumable": {"1.0.0"}}
	}
	for _, tc := range []struct {
		name  string
		twice map[string][]string
	}{
		{"Upload-Length", map[string][]string{"Upload-Length": {"10", "20"}, "Upload-Metadata": {meta}}},
		{"Upload-Length, the same twice", map[string][]string{"Upload-Length": {"10", "10"}, "Upload-Metadata": {meta}}},
		{"Tus-Resumable", map[string][]string{"Tus-Resumable": {"0.2.2"}, "Upload-Length": {"10"}, "Upload-Metadata": {meta}}},
		{"Upload-Metadata", map[string][]string{"Upload-Length": {"10"}, "Upload-Metadata": {meta, meta}}},
	} {
		t.Run("create with two "+tc.name, func(t *testing.T) {
			h := base()
			for k, vs := range tc.twice {
				h[k] = append(h[k], vs...)
			}
			r := do(http.MethodPost, "/api/v1/uploads/", nil, h)
			r.wantError(t, http.StatusBadRequest, syncproto.CodeInvalidUpload)
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("an upload was created: %s", loc)
			}
		})
	}
	c := tus.Create(newID(), apptest.SHA256(data), "image/jpeg", len(data))
	if c.Status != http.StatusCreated {
		t.Fatalf("create: %d %+v", c.Status, c.Err)
	}
	loc := c.Header.Get("Location")
	h := base()
	h["Upload-Offset"] = []string{"0", "5"}
	h.Set("Content-Type", "application/offset+octet-stream")
	do(http.MethodPatch, loc, data[:5], h).wantError(t, http.StatusBadRequest, syncproto.CodeInvalidUpload)
	if off := tus.Head(loc).Header.Get("Upload-Offset"); off != "0" {
		t.Errorf("after a PATCH with two offsets the upload is at %s, want 0", off)
	}
	if p := tus.Patch(loc, 0, data[:5]); p.Status != http.StatusNoContent || p.Header.Get("Upload-Offset") != "5" {
		t.Errorf("the chunk, sent right: %d %+v, offset %s", p.Status, p.Err, p.Header.Get("Upload-Offset"))
	}
}

// TestTusHeadersAsWritten: a tus request whose headers tusd would read
// otherwise than written, or take in silence, is refused 400
// invalid_upload and changes nothing: a Tus-Resumable other than 1.0.0 on
// any request (a HEAD was answered without one), an Upload-Length or
// Upload-Offset that is not decimal digits (+10 was read as 10), and an
// Upload-Checksum, which the server does not check (the chunk was stored
// and the client believed it verified).
func TestTusHeadersAsWritten(t *testing.T) {
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	tus := srv.Tus(insp)
	data := []byte("0123456789")
	sum := apptest.SHA256(data)
	for name, h := range map[string]map[string]string{
		"Upload-Length +10":      {"Upload-Length": "+10"},
		"Upload-Length 1e1":      {"Upload-Length": "1e1"},
		"Upload-Length 0x0a":     {"Upload-Length": "0x0a"},
		"Upload-Length empty":    {"Upload-Length": " "},
		"Tus-Resumable 0.2.2":    {"Upload-Length": "10", "Tus-Resumable": "0.2.2"},
		"an Upload-Checksum too": {"Upload-Length": "10", "Upload-Checksum": "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
	} {
		h["Upload-Metadata"] = apptest.Metadata(map[string]string{"photo_id": newID(), "sha256": sum, "content_type": "image/jpeg"})
		r := tus.Do(http.MethodPost, "/api/v1/uploads/", nil, h)
		if r.Status != http.StatusBadRequest || r.Err.Code != syncproto.CodeInvalidUpload || r.Header.Get("Location") != "" {
			t.Errorf("create with %s: %d %+v %q, want 400 %s and no upload", name, r.Status, r.Err, r.Header.Get("Location"), syncproto.CodeInvalidUpload)
		}
		namesHeader(t, "create with "+name, r)
	}
	c := tus.Create(newID(), sum, "image/jpeg", len(data))
	if c.Status != http.StatusCreated {
		t.Fatalf("create: %d %+v", c.Status, c.Err)
	}
	loc := c.Header.Get("Location")
	for name, h := range map[string]map[string]string{
		"Upload-Offset +0":           {"Upload-Offset": "+0"},
		"Upload-Offset -0":           {"Upload-Offset": "-0"},
		"no Tus-Resumable":           {"Upload-Offset": "0", "Tus-Resumable": ""},
		"an Upload-Checksum":         {"Upload-Offset": "0", "Upload-Checksum": "sha1 AAAA"},
		"an Upload-Checksum, sha256": {"Upload-Offset": "0", "Upload-Checksum": "sha256 " + sum},
	} {
		h["Content-Type"] = "application/offset+octet-stream"
		r := tus.Do(http.MethodPatch, loc, data[:5], h)
		if r.Status != http.StatusBadRequest || r.Err.Code != syncproto.CodeInvalidUpload {
			t.Errorf("PATCH with %s: %d %+v, want 400 %s", name, r.Status, r.Err, syncproto.CodeInvalidUpload)
		}
		namesHeader(t, "PATCH with "+name, r)
	}
	for _, v := range []string{"", "0.2.0", "1.0.0, 1.0.0"} {
		if r := tus.Do(http.MethodHead, loc, nil, map[string]string{"Tus-Resumable": v}); r.Status != http.StatusBadRequest {
			t.Errorf("HEAD with Tus-Resumable %q: %d, want 400", v, r.Status)
		}
	}
	if off := tus.Head(loc).Header.Get("Upload-Offset"); off != "0" {
		t.Errorf("after the refused requests the upload is at %s, want 0", off)
	}
	if p := tus.Patch(loc, 0, data[:5]); p.Status != http.StatusNoContent || p.Header.Get("Upload-Offset") != "5" {
		t.Errorf("the chunk, sent right: %d %+v, offset %s", p.Status, p.Err, p.Header.Get("Upload-Offset"))
	}
}

// namesHeader checks that a tus request's refusal names the header at
// fault (the name of the case, up to its first space), and says the
// version the server speaks (API probe: a Tus-Resumable of 0.2.2 was
// answered 请求头无效, tusd's refusal coming before fieldsync's).
func namesHeader(t *testing.T, name string, r apptest.Response) {
	t.Helper()
	header := strings.Fields(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(name, "create with "), "PATCH with "), "an "))[0]
	header = strings.TrimSuffix(header, ",")
	if header == "no" {
		header = "Tus-Resumable"
	}
	if !strings.Contains(r.Err.Message, header) {
		t.Errorf("%s: refused %+v, want the message to name %s", name, r.Err, header)
	}
	if v := r.Header.Get("Tus-Resumable"); v != "1.0.0" {
		t.Errorf("%s: answered with Tus-Resumable %q, want 1.0.0", name, v)
	}
}

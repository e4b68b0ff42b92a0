package apptest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what SpecTransport reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

const (
	hlc     = "001772328600000-00000-~server"
	errBody = `{"code":"not_found","message":"上传不存在或已结束","request_id":"r1","server_hlc":"` + hlc + `"}`
	sum     = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	photoID = "0195f4c3-9d10-7a22-b1c4-6e5f4d3c2b1a"
	jpeg    = "\xff\xd8\xff\xe0 a JPEG"
)

// TestSpecTransportChecks sends exchanges to a fake server through
// SpecTransport and checks which ones it reports: binary bodies, HEAD and
// 304 answers, image signatures, tus error bodies and photo fields.
func TestSpecTransportChecks(t *testing.T) {
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	tusHeaders := func(kv ...string) map[string]string {
		h := map[string]string{"Tus-Resumable": "1.0.0"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	photoHeaders := func(kv ...string) map[string]string {
		h := map[string]string{"Content-Type": "image/jpeg", "ETag": `"` + sum + `-thumbnail"`,
			"Cache-Control": "private, max-age=31536000, immutable", "Last-Modified": "Sun, 01 Mar 2026 01:41:07 GMT",
			"Accept-Ranges": "bytes"}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	pull := func(fields string) string {
		return `{"changes":[{"seq":1,"entity":"photo","id":"` + photoID + `","county":"140902","fields":` + fields +
			`,"hlcs":{},"deleted":false}],"cursor":"c","has_more":false,"server_hlc":"` + hlc + `"}`
	}
	for _, tc := range []struct {
		name    string
		method  string
		path    string
		reqHdr  map[string]string
		reqBody string
		answer  answer
		want    string // a fragment of the report; "" for none
	}{
		{"PATCH with bytes", http.MethodPatch, "/api/v1/uploads/abc",
			map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, "\x00\x01\xff bytes",
			answer{204, tusHeaders("Upload-Offset", "9"), ""}, ""},
		{"PATCH answered without Upload-Offset", http.MethodPatch, "/api/v1/uploads/abc",
			map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, "bytes",
			answer{204, tusHeaders(), ""}, `"Upload-Offset"`},
		{"PATCH without Upload-Offset accepted", http.MethodPatch, "/api/v1/uploads/abc",
			map[string]string{"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}, "bytes",
			answer{204, tusHeaders("Upload-Offset", "5"), ""}, "the server accepted it"},
		{"tus error in plain text", http.MethodPatch, "/api/v1/uploads/abc",
			map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, "bytes",
			answer{404, tusHeaders("Content-Type", "text/plain"), "ERR_UPLOAD_NOT_FOUND: upload not found"}, "Content-Type"},
		{"tus error without request_id", http.MethodDelete, "/api/v1/uploads/abc", map[string]string{"Tus-Resumable": "1.0.0"}, "",
			answer{404, tusHeaders("Content-Type", "application/json; charset=utf-8"), `{"code":"not_found","message":"x"}`}, "request_id"},
		{"tus error as JSON", http.MethodDelete, "/api/v1/uploads/abc", map[string]string{"Tus-Resumable": "1.0.0"}, "",
			answer{404, tusHeaders("Content-Type", "application/json; charset=utf-8"), errBody}, ""},
		{"HEAD", http.MethodHead, "/api/v1/uploads/abc", nil, "",
			answer{200, tusHeaders("Upload-Offset", "3", "Upload-Length", "9", "Upload-Metadata", "a YQ==", "Cache-Control", "no-store"), ""}, ""},
		{"HEAD without Upload-Length", http.MethodHead, "/api/v1/uploads/abc", nil, "",
			answer{200, tusHeaders("Upload-Offset", "3", "Upload-Metadata", "a YQ==", "Cache-Control", "no-store"), ""}, `"Upload-Length"`},
		{"HEAD 404", http.MethodHead, "/api/v1/uploads/abc", nil, "",
			answer{404, tusHeaders("Content-Type", "application/json; charset=utf-8"), ""}, ""},
		{"HEAD with an undocumented status", http.MethodHead, "/api/v1/uploads/abc", nil, "",
			answer{418, tusHeaders(), ""}, "status 418 is not documented"},
		{"thumbnail", http.MethodGet, "/api/v1/photos/" + photoID + "/thumbnail", nil, "",
			answer{200, photoHeaders(), jpeg}, ""},
		{"thumbnail that is not a JPEG", http.MethodGet, "/api/v1/photos/" + photoID + "/thumbnail", nil, "",
			answer{200, photoHeaders(), "\x89PNG\r\n\x1a\n…"}, "not image/jpeg"},
		{"thumbnail without ETag", http.MethodGet, "/api/v1/photos/" + photoID + "/thumbnail", nil, "",
			answer{200, photoHeaders("ETag", ""), jpeg}, `"ETag"`},
		{"304", http.MethodGet, "/api/v1/photos/" + photoID + "/thumbnail", map[string]string{"If-None-Match": "x"}, "",
			answer{304, photoHeaders("Content-Type", "", "Last-Modified", ""), ""}, ""},
		{"304 without Cache-Control", http.MethodGet, "/api/v1/photos/" + photoID + "/thumbnail", map[string]string{"If-None-Match": "x"}, "",
			answer{304, photoHeaders("Content-Type", "", "Cache-Control", ""), ""}, `"Cache-Control"`},
		{"ranges", http.MethodGet, "/api/v1/photos/" + photoID + "/original", map[string]string{"Range": "bytes=0-1,3-4"}, "",
			answer{206, photoHeaders("Content-Type", "multipart/byteranges; boundary=xyz"), "--xyz\r\n…"}, ""},
		{"pull with a photo", http.MethodGet, "/api/v1/sync/pull", nil, "",
			answer{200, map[string]string{"Content-Type": "application/json"},
				pull(`{"sha256":"` + sum + `","uploaded":true,"flags":{"no_gps":{"device_location":false}},"exif":{"orientation":1}}`)}, ""},
		{"pull with a malformed flag", http.MethodGet, "/api/v1/sync/pull", nil, "",
			answer{200, map[string]string{"Content-Type": "application/json"},
				pull(`{"sha256":"` + sum + `","flags":{"far_from_site":{"distance_m":"far"}}}`)}, "Photo schema"},
		{"pull with an undocumented flag", http.MethodGet, "/api/v1/sync/pull", nil, "",
			answer{200, map[string]string{"Content-Type": "application/json"},
				pull(`{"sha256":"` + sum + `","flags":{"blurry":{}}}`)}, "Photo schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				h := w.Header()
				h.Set("X-Server-HLC", hlc)
				h.Set("X-Request-Id", "r1")
				for k, v := range tc.answer.header {
					if v != "" {
						h.Set(k, v)
					}
				}
				w.WriteHeader(tc.answer.status)
				io.WriteString(w, tc.answer.body)
			}))
			defer srv.Close()
			rec := &recorder{TB: t}
			var body io.Reader
			if tc.reqBody != "" {
				body = bytes.NewReader([]byte(tc.reqBody))
			}
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, body)
			for k, v := range tc.reqHdr {
				req.Header.Set(k, v)
			}
			resp, err := (&http.Client{Transport: SpecTransport(rec, nil)}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := strings.Join(rec.errs, "\n")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("reported:\n%s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("reported %q, want a report mentioning %s", got, tc.want)
			}
		})
	}
}

package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestCORS: an app served from an allowed origin (a hybrid app's WebView)
// may call the API from a browser — preflights answered, the server's
// clock and tus's headers readable — and no other origin may; the console
// and the field app never answer CORS; credentials are never allowed.
func TestCORS(t *testing.T) {
	const app1 = "capacitor://localhost"
	srv := apptest.Start(t, func(c *app.Config) { c.CORSOrigins = []string{app1, "https://App.Example.cn"} })
	tok := accessToken(srv.Login(apptest.Inspector))
	do := func(method, path, origin string, h map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	preflight := func(path, origin, method, headers string) *http.Response {
		return do(http.MethodOptions, path, origin, map[string]string{"Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})
	}

	for _, tc := range []struct{ path, method, headers string }{
		{"/api/v1/sync/pull", "GET", "authorization"},
		{"/api/v1/sync/push", "POST", "authorization,content-type"},
		{"/api/v1/uploads/", "POST", "authorization,tus-resumable,upload-length,upload-metadata"},
		{"/api/v1/uploads/0195f4c4-0000-7000-8000-000000000000", "PATCH", "authorization,tus-resumable,upload-offset,content-type"},
		{"/api/v1/photos/0195f4c4-0000-7000-8000-000000000000/thumbnail", "GET", "authorization,if-none-match,range"},
	} {
		for _, origin := range []string{app1, "https://app.example.cn"} {
			r := preflight(tc.path, origin, tc.method, tc.headers)
			if r.StatusCode != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("preflight %s %s from %s: %d, allow origin %q", tc.method, tc.path, origin, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
			}
			allowed := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
			for _, h := range strings.Split(tc.headers, ",") {
				if !strings.Contains(allowed, h) {
					t.Errorf("preflight %s %s: header %s not allowed (%q)", tc.method, tc.path, h, allowed)
				}
			}
			if !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), tc.method) {
				t.Errorf("preflight %s %s: method not allowed (%q)", tc.method, tc.path, r.Header.Get("Access-Control-Allow-Methods"))
			}
			if r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("preflight %s %s allows credentials", tc.method, tc.path)
			}
		}
	}

	r := do(http.MethodGet, "/api/v1/me", app1, map[string]string{"Authorization": "Bearer " + tok})
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != app1 {
		t.Errorf("GET /me from %s: %d, allow origin %q", app1, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}
	exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"x-server-hlc", "date", "retry-after", "location", "upload-offset", "etag"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("GET /me: %s not exposed (%q)", h, exposed)
		}
	}

	// Not allowed: another origin, the console, the field app.
	for _, tc := range []struct{ method, path, origin string }{
		{http.MethodOptions, "/api/v1/sync/pull", "https://evil.example"},
		{http.MethodGet, "/api/v1/me", "https://evil.example"},
		{http.MethodGet, "/api/v1/me", "capacitor://localhost.evil.example"},
		{http.MethodOptions, "/console/login", app1},
		{http.MethodGet, "/console/login", app1},
		{http.MethodGet, "/app/", app1},
	} {
		h := map[string]string{"Authorization": "Bearer " + tok}
		if tc.method == http.MethodOptions {
			h["Access-Control-Request-Method"] = "POST"
		}
		if got := do(tc.method, tc.path, tc.origin, h).Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s %s from %s: allow origin %q, want none", tc.method, tc.path, tc.origin, got)
		}
	}

	// tus's own OPTIONS (no preflight) still tells the server's tus
	// version and largest upload, from an allowed origin or none.
	for _, origin := range []string{"", app1} {
		r := do(http.MethodOptions, "/api/v1/uploads/", origin, nil)
		if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusNoContent || r.Header.Get("Tus-Max-Size") == "" || r.Header.Get("Tus-Version") == "" {
			t.Errorf("tus OPTIONS from %q: %d, Tus-Max-Size %q, Tus-Version %q", origin, r.StatusCode, r.Header.Get("Tus-Max-Size"), r.Header.Get("Tus-Version"))
		}
	}

	// Without the option, nothing answers CORS.
	plain := apptest.Start(t)
	req, _ := http.NewRequest(http.MethodGet, plain.URL+"/api/v1/me", nil)
	req.Header.Set("Origin", app1)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("without cors-origins: %v, allow origin %q", err, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestCheckOrigin: serve takes origins as scheme://host[:port] only.
func TestCheckOrigin(t *testing.T) {
	for _, o := range []string{"capacitor://localhost", "https://localhost", "http://192.168.1.5:8100", "https://app.example.cn", "https://xn--0zwm56d.cn", "http://[::1]:8100"} {
		if err := api.CheckOrigin(o); err != nil {
			t.Errorf("%s refused: %v", o, err)
		}
	}
	for _, o := range []string{"*", "https://*.example.cn", "localhost", "https://app.example.cn/", "https://app.example.cn/path", "https://u:p@x.cn", "https://x.cn?a=1", "//x.cn", "",
		"http://a.cn:99999", "http://a.cn:0", "https://a.cn:", "https://a.cn:443", "http://a.cn:80", "https://测试.cn"} {
		if err := api.CheckOrigin(o); err == nil {
			t.Errorf("%q accepted", o)
		}
	}
}

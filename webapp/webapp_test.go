package webapp

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func get(t *testing.T, e *echo.Echo, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestServing(t *testing.T) {
	e := echo.New()
	// As the server answers errors: by their code (server/api).
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		_ = c.NoContent(syncproto.HTTPStatus(server.ErrorCode(err)))
	}
	a, err := Mount(e, Options{SDK: []byte("export const x = 1;\n")})
	if err != nil {
		t.Fatal(err)
	}
	if rec := get(t, e, "/app"); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/app/" {
		t.Errorf("/app: %d %q, want 301 to /app/", rec.Code, rec.Header().Get("Location"))
	}
	for _, c := range []struct{ path, ctype, body string }{
		{"/app/", "text/html; charset=utf-8", "<title>巡查</title>"},
		{"/app/app.css", "text/css; charset=utf-8", "--green"},
		{"/app/js/main.js", "text/javascript; charset=utf-8", "import('./app.js')"},
		{"/app/js/vocab.js", "text/javascript; charset=utf-8", `{"code":"removed","label":"已拆除"}`},
		{"/app/sdk/fieldsync-sdk.js", "text/javascript; charset=utf-8", "export const x"},
		{"/app/manifest.webmanifest", "application/manifest+json; charset=utf-8", `"start_url": "/app/"`},
		{"/app/icons/icon-192.png", "image/png", "\x89PNG"},
		{"/app/sw.js", "text/javascript; charset=utf-8", `const VERSION = "` + a.Version + `"`},
	} {
		rec := get(t, e, c.path)
		h := rec.Header()
		if rec.Code != 200 || h.Get("Content-Type") != c.ctype || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s: %d %q, want 200 %q containing %q", c.path, rec.Code, h.Get("Content-Type"), c.ctype, c.body)
			continue
		}
		if h.Get("Content-Security-Policy") != CSP || h.Get("Cache-Control") != "no-cache" || h.Get("ETag") == "" {
			t.Errorf("%s: headers %v", c.path, h)
		}
		if rec := get(t, e, c.path, "If-None-Match", h.Get("ETag")); rec.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", c.path, rec.Code)
		}
	}
	sw := get(t, e, "/app/sw.js")
	if sw.Header().Get("Service-Worker-Allowed") != "/app/" {
		t.Errorf("sw.js: Service-Worker-Allowed %q", sw.Header().Get("Service-Worker-Allowed"))
	}
	for _, want := range []string{`"/app/"`, `"/app/sdk/fieldsync-sdk.js"`, `"/app/js/vocab.js"`, `"/app/js/views/inspection.js"`, `"/app/icons/icon-512.png"`} {
		if !strings.Contains(sw.Body.String(), want) {
			t.Errorf("sw.js does not precache %s", want)
		}
	}
	if rec := get(t, e, "/app/nothing.js"); rec.Code != http.StatusNotFound {
		t.Errorf("/app/nothing.js: %d, want 404", rec.Code)
	}
	if _, err := Mount(echo.New(), Options{}); err == nil {
		t.Error("Mount without an SDK bundle succeeded")
	}
}

// TestVersionFollowsFiles: a new SDK (or any changed file) is a new
// version, hence a new service worker and cache.
func TestVersionFollowsFiles(t *testing.T) {
	a, err := build(Options{SDK: []byte("one")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := build(Options{SDK: []byte("two")})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := build(Options{SDK: []byte("one")})
	if a.Version == b.Version || a.Version != again.Version || len(a.Version) != 16 {
		t.Errorf("versions %q %q %q: want a stable hash that changes with the files", a.Version, b.Version, again.Version)
	}
}

// TestNoCDN: the app's modules import only files the server embeds, by
// path (no bare module names, no other origin), so it runs offline.
func TestNoCDN(t *testing.T) {
	a, err := build(Options{SDK: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	imp := regexp.MustCompile(`(?m)(?:^import .*? from |^import |import\()['"]([^'"]+)['"]`)
	err = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := static.ReadFile(p)
		if regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//`).Match(b) {
			t.Errorf("%s loads something from another origin", p)
		}
		if !strings.HasSuffix(p, ".js") {
			return nil
		}
		for _, m := range imp.FindAllStringSubmatch(string(b), -1) {
			spec := m[1]
			if !strings.HasPrefix(spec, "/app/") && !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q: not a path under /app/", p, spec)
				continue
			}
			target := spec
			if !strings.HasPrefix(spec, "/") {
				target = "/" + strings.TrimPrefix(p, "static/")
				target = target[:strings.LastIndex(target, "/")+1] + spec
			}
			target = cleanPath(target)
			if _, ok := a.files[strings.TrimPrefix(strings.TrimPrefix(target, "/app"), "/")]; !ok {
				t.Errorf("%s imports %q (%s), which the server does not serve", p, spec, target)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func cleanPath(p string) string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

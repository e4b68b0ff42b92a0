// Package webapp serves the 巡查 field app: the offline web app inspectors
// open on their phones at /app/. Every file is embedded in the binary (no
// CDN, nothing fetched at run time); the JavaScript sync SDK's browser
// bundle is passed in by the caller and served at /app/sdk/fieldsync-sdk.js.
//
// A service worker (sw.js) precaches the app shell so the app opens with
// no network. Its cache is named after Version, a hash over every file
// served, so a new binary with any changed file installs a new cache and
// drops the old one.
package webapp

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

//go:embed static
var static embed.FS

// Prefix is where the app is served.
const Prefix = "/app/"

// SDKPath is the SDK bundle's path under Prefix; the app imports it from
// /app/sdk/fieldsync-sdk.js.
const SDKPath = "sdk/fieldsync-sdk.js"

// CSP is the app's Content-Security-Policy: its own origin only, plus
// blob: and data: images (thumbnails of photos not yet uploaded are shown
// from their local blobs).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; " +
	"form-action 'self'; frame-ancestors 'none'"

// Options configure Mount.
type Options struct {
	// SDK is the SDK's browser bundle (package jssdk's Bundle). Without it
	// the app cannot sync; Mount refuses an empty one.
	SDK []byte
}

// file is one file the app serves.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// App is the mounted field app.
type App struct {
	// Version is the hash over every file served (the service worker's
	// cache name ends with it).
	Version string
	files   map[string]*file // by path under Prefix
}

// Mount registers the app's routes on e: GET / (a start page pointing
// inspectors to the app and offices to the console), /app (a redirect to
// /app/),
// /app/ (index.html), /app/sw.js, /app/sdk/fieldsync-sdk.js and the other
// files under /app/*.
func Mount(e *echo.Echo, opt Options) (*App, error) {
	a, err := build(opt)
	if err != nil {
		return nil, err
	}
	e.GET("/", home)
	e.GET("/app", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, Prefix) })
	e.GET(Prefix, a.serve)
	e.GET(Prefix+"sw.js", a.serve)
	e.GET(Prefix+SDKPath, a.serve)
	e.GET(Prefix+"*", a.serve)
	return a, nil
}

// build reads the embedded files, adds the SDK and the vocabularies, and
// computes the version and the service worker.
func build(opt Options) (*App, error) {
	if len(opt.SDK) == 0 {
		return nil, fmt.Errorf("webapp: no SDK bundle")
	}
	a := &App{files: map[string]*file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		a.add(strings.TrimPrefix(p, "static/"), b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.add(SDKPath, opt.SDK)
	a.add("js/vocab.js", vocabModule())
	sw, ok := a.files["sw.js"]
	if !ok {
		return nil, fmt.Errorf("webapp: no sw.js")
	}
	delete(a.files, "sw.js")

	// The version hashes every file but the service worker, which carries
	// it; the service worker precaches every file.
	names := make([]string, 0, len(a.files))
	for n := range a.files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(a.files[n].body))
		h.Write(a.files[n].body)
	}
	a.Version = hex.EncodeToString(h.Sum(nil))[:16]
	urls := []string{Prefix}
	for _, n := range names {
		if n != "index.html" {
			urls = append(urls, Prefix+n)
		}
	}
	list, _ := json.Marshal(urls)
	body := bytes.Replace(sw.body, []byte(`"__VERSION__"`), []byte(`"`+a.Version+`"`), 1)
	body = bytes.Replace(body, []byte(`["__PRECACHE__"]`), list, 1)
	a.add("sw.js", body)
	return a, nil
}

func (a *App) add(name string, body []byte) {
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".webmanifest":
		ct = "application/manifest+json; charset=utf-8"
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".png":
		ct = "image/png"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	a.files[name] = &file{body: body, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// serve answers a GET of one file. Every answer is revalidated (no-cache
// with an ETag): the service worker, not the HTTP cache, keeps the app for
// offline use, and a new binary must reach it at the next check.
func (a *App) serve(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, Prefix)
	if name == "" {
		name = "index.html"
	}
	f, ok := a.files[name]
	if !ok {
		return server.Errorf(syncproto.CodeNotFound, "文件不存在")
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", CSP)
	h.Set("Referrer-Policy", "same-origin")
	if name == "sw.js" {
		// The worker lives at /app/sw.js and controls /app/ only.
		h.Set("Service-Worker-Allowed", Prefix)
	}
	if match := c.Request().Header.Get("If-None-Match"); match != "" && match == f.etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, f.ctype, f.body)
}

// vocabModule is js/vocab.js: the site kinds and vehicle-check vocabularies of
// syncproto/vocab.go as an ES module, so the app shows the same codes and
// labels as the server and the console.
func vocabModule() []byte {
	var b bytes.Buffer
	b.WriteString("// Generated by the server from syncproto/vocab.go; do not edit.\n")
	for _, v := range []struct {
		name    string
		choices []syncproto.Choice
	}{
		{"emissionStages", syncproto.EmissionStages},
		{"fuels", syncproto.Fuels},
		{"aftertreatments", syncproto.Aftertreatments},
		{"vehicleActions", syncproto.VehicleActions},
		{"siteKindChoices", syncproto.SiteKinds},
	} {
		type choice struct {
			Code  string `json:"code"`
			Label string `json:"label"`
		}
		cs := make([]choice, len(v.choices))
		for i, c := range v.choices {
			cs[i] = choice{c.Code, c.Label}
		}
		j, _ := json.Marshal(cs)
		fmt.Fprintf(&b, "export const %s = %s;\n", v.name, j)
	}
	return b.Bytes()
}

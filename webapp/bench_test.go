package webapp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/internal/chrometest"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// The 3G profile of Chrome DevTools ("3G", formerly "Fast 3G"): 562.5 ms
// of latency, 1.44 Mbit/s down, 675 kbit/s up.
const (
	threeGLatencyMs = 562.5
	threeGDown      = 1.44e6 / 8 // bytes/s
	threeGUp        = 675e3 / 8
)

func throttle3G(p *phone) {
	p.do("3G", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Latency: threeGLatencyMs, DownloadThroughput: threeGDown, UploadThroughput: threeGUp}}})
		return err
	}))
}

// TestAppBenchmark measures, on the 3G profile, the app's first load
// (bytes over the wire, gzip, and time until the sign-in form works) and
// the sync of a day's work: 10 inspections with photos of about 3 MB
// (FIELDSYNC_APP_BENCH_PHOTOS of them, default 40). A measurement for
// docs/benchmarks.md, not a test: it runs only with FIELDSYNC_APP_BENCH=1.
//
//	FIELDSYNC_APP_BENCH=1 go test ./webapp/ -run TestAppBenchmark -v -timeout 70m
func TestAppBenchmark(t *testing.T) {
	if os.Getenv("FIELDSYNC_APP_BENCH") == "" {
		t.Skip("a measurement: set FIELDSYNC_APP_BENCH=1")
	}
	nPhotos := 40
	if n, err := strconv.Atoi(os.Getenv("FIELDSYNC_APP_BENCH_PHOTOS")); err == nil {
		nPhotos = n
	}
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	bctx := browserWithin(t, time.Hour) // 40 photos of 3 MB take about half an hour on 3G

	// First load: a fresh phone, throttled before it opens the app.
	dev, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	p := &phone{t: t, name: "3G phone", url: srv.URL, dev: dev, lon: at.Lon, lat: at.Lat, shots: chrometest.ScreenshotDir(t)}
	ctx, closeTab := chromedp.NewContext(dev)
	defer closeTab()
	p.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{})
		return err
	}), chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	throttle3G(p)
	start := time.Now()
	p.do("open the app", chromedp.Navigate(srv.URL+"/app/"))
	p.waitJS("ready", `document.body.dataset.ready === '1' && !!document.querySelector('#login button')`)
	wall := time.Since(start)
	load := eval[map[string]float64](p, `(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		const res = performance.getEntriesByType('resource').filter((r) => r.name.includes('/app/'));
		return {files: res.length + 1, transfer: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
			encoded: nav.encodedBodySize + res.reduce((n, r) => n + r.encodedBodySize, 0),
			body: nav.decodedBodySize + res.reduce((n, r) => n + r.decodedBodySize, 0),
			ready: performance.getEntriesByName('fieldsync-ready')[0].startTime};
	})()`)
	files0, gz, raw := wireSize(t, srv.URL)
	t.Logf("first load on 3G: %d files, %d bytes of gzip bodies (%d uncompressed); interactive after %.2f s (page clock), %.2f s (wall)",
		files0, gz, raw, load["ready"]/1000, wall.Seconds())

	// A day's work, made through the SDK in the page (as the app does) and
	// synced on 3G.
	dir := t.TempDir()
	var files []string
	var total int64
	for i := range nPhotos {
		b := padJPEG(testimg.JPEG(testimg.Options{Width: 3000, Height: 2250, Seed: uint64(100 + i), Quality: 97, GPS: &at, Make: "HUAWEI", Model: "NOH-AN00"}), 3<<20, uint64(i))
		path := filepath.Join(dir, fmt.Sprintf("day-%02d.jpg", i))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
		total += int64(len(b))
	}
	t.Logf("%d photos, %.1f MB in all (%.2f MB each)", nPhotos, float64(total)/1e6, float64(total)/1e6/float64(nPhotos))
	eval[bool](p, `(() => { const i = document.createElement('input'); i.type = 'file'; i.multiple = true; i.id = 'bench-files'; document.body.append(i); return true; })()`)
	p.do("pick the photos", chromedp.SetUploadFiles(chromedp.CSS(`#bench-files`), files))
	eval[bool](p, `(async () => {
		const sdk = await import('/app/sdk/fieldsync-sdk.js');
		const storage = await sdk.IndexedDBStorage.open('bench');
		const c = await sdk.FieldsyncClient.open({storage, deviceName: 'bench'});
		await c.signIn('inspector', 'inspector123');
		await c.sync();
		const files = [...document.querySelector('#bench-files').files];
		for (let i = 0; i < 10; i++) {
			const id = sdk.uuidv7();
			await c.save('inspection', id, {site_id: '`+site.ID+`', template_id: 'construction_dust', template_version: 1, status: 'draft',
				started_at: new Date().toISOString(), 'answers.fence': {result: 'pass'}, 'answers.pm10_reading': {value: 100 + i}});
			for (const f of files.slice(i * files.length / 10, (i + 1) * files.length / 10)) {
				await c.takePhoto({blob: f, contentType: 'image/jpeg', fields: {inspection_id: id, item_key: 'fence', captured_at: new Date().toISOString()}});
			}
		}
		window.benchClient = c;
		return true;
	})()`)
	start = time.Now()
	res := eval[map[string]any](p, `(async () => { const r = await window.benchClient.sync(); return {ok: r.ok, pushed: r.pushed, uploaded: r.uploaded, error: r.error && r.error.code}; })()`)
	took := time.Since(start)
	t.Logf("sync of 10 inspections and %d photos on 3G: %v in %.1f s (%.0f KB/s of photos)", nPhotos, res, took.Seconds(), float64(total)/1e3/took.Seconds())
	if res["ok"] != true {
		t.Errorf("the sync did not finish: %v", res)
	}
}

// wireSize fetches every file of the app (the service worker's list, what
// a first visit downloads) as Chrome does, with gzip, and sums the bodies
// as sent and as decoded.
func wireSize(t *testing.T, base string) (files int, gz, raw int64) {
	t.Helper()
	cl := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	fetch := func(u string) ([]byte, string) {
		req, _ := http.NewRequest(http.MethodGet, base+u, nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b, resp.Header.Get("Content-Encoding")
	}
	resp, err := http.Get(base + "/app/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	sw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`const PRECACHE = (\[.*?\]);`).FindSubmatch(sw)
	var urls []string
	if m == nil || json.Unmarshal(m[1], &urls) != nil {
		t.Fatalf("no precache list in sw.js")
	}
	for _, u := range append(urls, "/app/sw.js") {
		b, enc := fetch(u)
		gz += int64(len(b))
		if enc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(zr)
		}
		raw += int64(len(b))
		files++
	}
	return files, gz, raw
}

// padJPEG grows a JPEG to size bytes with random bytes after its end
// (as some phones append their own data): the test pattern compresses far
// better than a photo, and neither gzip nor tus gain anything on random
// bytes, as on real JPEG data.
func padJPEG(j []byte, size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := append([]byte{}, j...)
	for len(out) < size {
		out = append(out, byte(r.Uint32()))
	}
	return out
}

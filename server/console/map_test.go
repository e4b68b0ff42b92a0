package console_test

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// mapSite is a site of the test's own. At zoom 16 it lies at about
// (0.42, 0.74) of its tile, so the east and north photos below fall in the
// neighbouring tiles and the far one outside the 3×3 grid.
var mapSite = geo.Point{Lon: 112.7330, Lat: 38.4160}

// mapPhoto is one photo of the map fixture.
type mapPhoto struct {
	name   string
	target *geo.Point // where the photo was taken; nil: no position at all
	how    string     // "exif": GPS in the JPEG; "wgs84"/"gcj02": the phone's position in that system
	inGrid bool       // expected to be drawn on the 3×3 grid
	id     string
}

// mapFixture is an inspection with photos around mapSite, uploaded and
// processed so that the server has worked out each photo's WGS-84 position.
type mapFixture struct {
	srv    *apptest.Server
	insp   string
	photos []*mapPhoto
}

func newMapFixture(t *testing.T, tileURL string) *mapFixture {
	t.Helper()
	f := &mapFixture{srv: apptest.Start(t, func(c *app.Config) { c.TileURL = tileURL }), insp: uuid.NewString()}
	phone := f.srv.Login(apptest.Inspector)
	site := uuid.NewString()
	apptest.PushApplied(t, phone,
		syncproto.Mutation{Entity: syncproto.EntitySite, ID: site, HLC: phone.Clock.Now().String(), Fields: apptest.Fields("county", apptest.Xinfu,
			"kind", "construction_site", "name", "地图测试工地", "lon", mapSite.Lon, "lat", mapSite.Lat, "radius_m", 100)},
		syncproto.Mutation{Entity: syncproto.EntityInspection, ID: f.insp, HLC: phone.Clock.Now().String(), Fields: apptest.Fields("site_id", site,
			"template_id", "construction_dust", "template_version", 1, "status", "submitted", "started_at", "2026-11-28T09:00:00+08:00")})

	// The photos without a marker come first, so that a photo's label (its
	// place on the page) differs from its place among the markers.
	f.photos = []*mapPhoto{
		{name: "far", target: &geo.Point{Lon: 112.7560, Lat: mapSite.Lat}, how: "wgs84", inGrid: false},
		{name: "unlocated", how: "none"},
		{name: "east", target: &geo.Point{Lon: 112.7365, Lat: mapSite.Lat}, how: "exif", inGrid: true},
		{name: "north", target: &geo.Point{Lon: mapSite.Lon, Lat: 38.4195}, how: "wgs84", inGrid: true},
		{name: "south-west", target: &geo.Point{Lon: 112.7320, Lat: 38.4150}, how: "gcj02", inGrid: true},
	}
	taken := time.Date(2026, 11, 28, 9, 10, 0, 0, time.FixedZone("CST", 8*3600))
	tus := f.srv.Tus(phone)
	for i, p := range f.photos {
		p.id = uuid.NewString()
		opt := testimg.Options{Width: 320, Height: 240, Seed: uint64(100 + i), Time: &taken}
		if p.how == "exif" {
			opt.GPS = p.target
		}
		data := testimg.JPEG(opt)
		kv := []any{"inspection_id", f.insp, "item_key", "fence", "sha256", apptest.SHA256(data), "content_type", "image/jpeg",
			"size_bytes", len(data), "captured_at", taken.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "caption", "照片-" + p.name}
		switch p.how {
		case "wgs84":
			kv = append(kv, "lon", p.target.Lon, "lat", p.target.Lat, "crs", geo.WGS84, "accuracy_m", 5)
		case "gcj02":
			g := geo.WGS84ToGCJ02(*p.target)
			kv = append(kv, "lon", g.Lon, "lat", g.Lat, "crs", geo.GCJ02, "accuracy_m", 5)
		}
		apptest.PushApplied(t, phone, syncproto.Mutation{Entity: syncproto.EntityPhoto, ID: p.id, HLC: phone.Clock.Now().String(), Fields: apptest.Fields(kv...)})
		tus.Upload(p.id, "image/jpeg", data, http.StatusNoContent)
		// The position the console draws (lon_wgs84/lat_wgs84) is written
		// by the photo processor once the bytes have arrived.
		f.srv.App.Photos.WaitIdle()
	}
	return f
}

// stored returns the WGS-84 position the server worked out for a photo.
func (f *mapFixture) stored(t *testing.T, p *mapPhoto) (geo.Point, bool) {
	t.Helper()
	rec, err := f.srv.App.DB.Get(ctx, syncproto.EntityPhoto, p.id)
	if err != nil || rec == nil {
		t.Fatalf("photo %s: %v", p.name, err)
	}
	lon, ok1 := rec.Float("lon_wgs84")
	lat, ok2 := rec.Float("lat_wgs84")
	return geo.Point{Lon: lon, Lat: lat}, ok1 && ok2
}

var (
	mapFigureRE = regexp.MustCompile(`(?s)<figure[ >].*?</figure>`)
	mapFigIDRE  = regexp.MustCompile(`<figure id="photo-([0-9a-f-]{36})">`)
	mapFigLocRE = regexp.MustCompile(`照片位置：(经度 [0-9.\-]+，纬度 [0-9.\-]+|[^<，\n]+)(?:，距点位 (\d+) 米(?:（([0-9.]+) 公里）)?)?`)
	mapMarkerRE = regexp.MustCompile(`<circle class="(site-marker|photo-marker)" cx="(-?\d+)" cy="(-?\d+)" r="\d+"></circle><text x="(-?\d+)" y="(-?\d+)" dx="10" dy="-8">([^<]*)</text>`)
	mapTileRE   = regexp.MustCompile(`<img class="tile" src="([^"]*)"`)
)

type photoFigure struct{ id, location, distance, km, fig string }

// photoFigures lists the photos of a detail page in page order.
func photoFigures(t *testing.T, page string) []photoFigure {
	t.Helper()
	var out []photoFigure
	for _, fig := range mapFigureRE.FindAllString(page, -1) {
		id, loc := mapFigIDRE.FindStringSubmatch(fig), mapFigLocRE.FindStringSubmatch(fig)
		if id == nil || loc == nil {
			t.Fatalf("photo without id or location line:\n%s", fig)
		}
		out = append(out, photoFigure{id: id[1], location: loc[1], distance: loc[2], km: loc[3], fig: fig})
	}
	return out
}

type mapMarker struct {
	x, y int
	site bool
}

// mapMarkers reads the SVG overlay's markers by label.
func mapMarkers(t *testing.T, page string) map[string]mapMarker {
	t.Helper()
	out := map[string]mapMarker{}
	for _, m := range mapMarkerRE.FindAllStringSubmatch(page, -1) {
		x, _ := strconv.Atoi(m[2])
		y, _ := strconv.Atoi(m[3])
		if m[4] != m[2] || m[5] != m[3] {
			t.Errorf("marker %s: label at (%s, %s), circle at (%s, %s)", m[6], m[4], m[5], m[2], m[3])
		}
		if _, dup := out[m[6]]; dup {
			t.Errorf("two markers labelled %q", m[6])
		}
		out[m[6]] = mapMarker{x: x, y: y, site: m[1] == "site-marker"}
	}
	return out
}

// gridPixel is where p lies in the 768-pixel grid of the 3×3 tiles centred
// on the site's tile, worked out from global pixel coordinates (rather than
// the per-tile fractions sitemap.go adds up).
func gridPixel(p geo.Point) (float64, float64) {
	sx, sy, _, _ := console.Tile(mapSite.Lon, mapSite.Lat, console.MapZoom)
	world := 256 * math.Exp2(console.MapZoom)
	gx := (p.Lon + 180) / 360 * world
	r := p.Lat * math.Pi / 180
	gy := (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * world
	return gx - float64((sx-1)*256), gy - float64((sy-1)*256)
}

func nearPixel(got int, want float64) bool { return math.Abs(float64(got)-want) <= 1.01 }

// TestDetailMapPhotoMarkers: with a tile URL the detail page draws the 3×3
// tiles around the site (template filled with z/x/y, row by row), a marker
// for the site and one per located photo inside the grid, at the pixel the
// Web Mercator projection gives and labelled with the photo's place on the
// page; a photo beyond the grid is counted, not drawn, and a photo without
// a position gets no marker. Without a tile URL nothing of the map is
// drawn, but every photo's coordinates and distance to the site are shown.
// Both show the server's WGS-84 position, not the phone's GCJ-02 one.
func TestDetailMapPhotoMarkers(t *testing.T) {
	const tiles = "https://tiles.example.cn/maps/{z}/{y}/{x}.png?scale=2&z={z}"
	for _, tc := range []struct {
		name, tileURL string
	}{
		{"tiles", tiles},
		{"coordinates only", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMapFixture(t, tc.tileURL)
			b := loggedIn(t, f.srv, apptest.CountyOffice)
			resp, err := b.c.Get(f.srv.URL + "/console/inspections/" + f.insp)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			csp := resp.Header.Get("Content-Security-Policy")
			st, page := b.get("/console/inspections/" + f.insp)
			if st != http.StatusOK {
				t.Fatalf("detail: %d\n%s", st, page)
			}

			// Every photo is listed with its position in words, in both modes.
			figs := photoFigures(t, page)
			if len(figs) != len(f.photos) {
				t.Fatalf("%d photos on the page, want %d", len(figs), len(f.photos))
			}
			place := map[string]int{} // photo id → 1-based place on the page
			for i, fg := range figs {
				place[fg.id] = i + 1
			}
			for _, p := range f.photos {
				n := place[p.id]
				if n == 0 {
					t.Fatalf("photo %s not on the page", p.name)
				}
				fg := figs[n-1]
				pt, ok := f.stored(t, p)
				if p.target == nil {
					if ok || fg.location != "无位置信息" || fg.distance != "" {
						t.Errorf("%s: stored %v %v, page says %q (distance %q), want 无位置信息 and no distance", p.name, pt, ok, fg.location, fg.distance)
					}
					continue
				}
				if !ok {
					t.Fatalf("%s: the processor stored no WGS-84 position", p.name)
				}
				if d := geo.DistanceM(pt, *p.target); d > 2 {
					t.Fatalf("%s: stored position %v is %.1f m from where it was taken %v", p.name, pt, d, *p.target)
				}
				if want := fmt.Sprintf("经度 %.6f，纬度 %.6f", pt.Lon, pt.Lat); fg.location != want {
					t.Errorf("%s: location %q, want %q", p.name, fg.location, want)
				}
				want := math.Round(geo.DistanceM(pt, mapSite))
				if fg.distance != strconv.Itoa(int(want)) {
					t.Errorf("%s: distance %q m, want %.0f m", p.name, fg.distance, want)
				}
				// Past a kilometre, in kilometres too, as its flags say it.
				if wantKm := map[bool]string{true: strconv.FormatFloat(want/1000, 'f', 1, 64)}[want >= 1000]; fg.km != wantKm {
					t.Errorf("%s: distance in km %q, want %q", p.name, fg.km, wantKm)
				}
				// Where the position came from: the camera's GPS, the phone
				// without a fix said (cycle probe), or the phone's.
				source := map[bool]string{true: "；位置取自照片 GPS，手机未定位", false: "；位置取自手机定位"}[p.how == "exif"]
				if !strings.Contains(fg.fig, source) {
					t.Errorf("%s (%s): the location line does not say %q:\n%s", p.name, p.how, source, fg.fig)
				}
			}
			if !strings.Contains(page, fmt.Sprintf("点位坐标</dt><dd>经度 %.6f，纬度 %.6f", mapSite.Lon, mapSite.Lat)) {
				t.Error("the site's coordinates are not shown")
			}

			tileSrcs := mapTileRE.FindAllStringSubmatch(page, -1)
			ms := mapMarkers(t, page)
			if tc.tileURL == "" {
				if len(tileSrcs) != 0 || len(ms) != 0 || strings.Contains(page, "<svg") || strings.Contains(page, "位置图") ||
					strings.Contains(page, "图幅之外") {
					t.Errorf("a map without a tile URL: %d tiles, %d markers\n%s", len(tileSrcs), len(ms), page)
				}
				if !strings.Contains(csp, "img-src 'self';") {
					t.Errorf("CSP allows images from elsewhere without a tile URL: %s", csp)
				}
				return
			}

			// Tiles: the 3×3 around the site's tile, row by row, with every
			// {z}, {x} and {y} of the template filled in.
			sx, sy, _, _ := console.Tile(mapSite.Lon, mapSite.Lat, console.MapZoom)
			var want, got []string
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					want = append(want, fmt.Sprintf("https://tiles.example.cn/maps/%d/%d/%d.png?scale=2&z=%d", console.MapZoom, sy+dy, sx+dx, console.MapZoom))
				}
			}
			for _, m := range tileSrcs {
				got = append(got, html.UnescapeString(m[1]))
			}
			if !slices.Equal(got, want) {
				t.Errorf("tiles:\n got %q\nwant %q", got, want)
			}
			if !strings.Contains(csp, "img-src 'self' https://tiles.example.cn;") {
				t.Errorf("CSP does not allow the tiles: %s", csp)
			}
			if !strings.Contains(page, `viewBox="0 0 768 768"`) {
				t.Error("the overlay is not the 768×768 grid")
			}

			// Markers: the site, and each located photo inside the grid.
			wantMarkers := 1
			site, ok := ms["点位"]
			if !ok || !site.site {
				t.Fatalf("no site marker: %+v", ms)
			}
			wx, wy := gridPixel(mapSite)
			if !nearPixel(site.x, wx) || !nearPixel(site.y, wy) {
				t.Errorf("site marker at (%d, %d), want (%.1f, %.1f)", site.x, site.y, wx, wy)
			}
			if wx < 256 || wx >= 512 || wy < 256 || wy >= 512 {
				t.Errorf("site marker (%.1f, %.1f) is not on the centre tile", wx, wy)
			}
			at := map[string]mapMarker{}
			for _, p := range f.photos {
				label := "照片" + strconv.Itoa(place[p.id])
				m, drawn := ms[label]
				if !p.inGrid {
					if drawn {
						t.Errorf("%s: drawn as %s at (%d, %d), want no marker", p.name, label, m.x, m.y)
					}
					continue
				}
				wantMarkers++
				if !drawn || m.site {
					t.Errorf("%s: no photo marker %s: %+v", p.name, label, ms)
					continue
				}
				pt, _ := f.stored(t, p)
				wx, wy := gridPixel(pt)
				if !nearPixel(m.x, wx) || !nearPixel(m.y, wy) {
					t.Errorf("%s: marker %s at (%d, %d), want (%.1f, %.1f)", p.name, label, m.x, m.y, wx, wy)
				}
				at[p.name] = m
			}
			if len(ms) != wantMarkers || strings.Count(page, `class="photo-marker"`) != wantMarkers-1 || strings.Count(page, `class="site-marker"`) != 1 {
				t.Errorf("%d markers (%d photo circles), want the site and %d photos: %+v", len(ms), strings.Count(page, `class="photo-marker"`), wantMarkers-1, ms)
			}
			// Relative placement, as an inspector reads the map.
			e, n, sw := at["east"], at["north"], at["south-west"]
			if e.x <= site.x+100 || absInt(e.y-site.y) > 1 {
				t.Errorf("the east photo (%d, %d) is not east of the site (%d, %d)", e.x, e.y, site.x, site.y)
			}
			if n.y >= site.y-100 || absInt(n.x-site.x) > 1 {
				t.Errorf("the north photo (%d, %d) is not north of the site (%d, %d)", n.x, n.y, site.x, site.y)
			}
			if sw.x >= site.x || sw.y <= site.y {
				t.Errorf("the south-west photo (%d, %d) is not south-west of the site (%d, %d)", sw.x, sw.y, site.x, site.y)
			}
			// The east and north photos lie on neighbouring tiles.
			if e.x < 512 || n.y >= 256 {
				t.Errorf("fixture: east (%d) and north (%d) photos should fall on the neighbouring tiles", e.x, n.y)
			}
			if !strings.Contains(page, "另有 1 张照片位于图幅之外") {
				t.Error("the photo beyond the grid is not counted")
			}
		})
	}
}

func absInt(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestDetailPhotoOrder: photos are numbered in the order they were taken,
// and a later write to one (a new caption, a flag from processing) does
// not renumber them.
func TestDetailPhotoOrder(t *testing.T) {
	f := newMapFixture(t, "")
	b := loggedIn(t, f.srv, apptest.CountyOffice)
	order := func() []string {
		var ids []string
		for _, fg := range photoFigures(t, mustGet(t, b, "/console/inspections/"+f.insp)) {
			ids = append(ids, fg.id)
		}
		return ids
	}
	var want []string
	for _, p := range f.photos { // taken one minute apart, in this order
		want = append(want, p.id)
	}
	if got := order(); !slices.Equal(got, want) {
		t.Fatalf("page order %v, want the order taken %v", got, want)
	}
	// The first photo is written again: its feed position moves to the end.
	if err := f.srv.App.Syncer.SetServerFields(ctx, syncproto.EntityPhoto, want[0], map[string]any{"caption": "照片-far（改）"}); err != nil {
		t.Fatal(err)
	}
	if got := order(); !slices.Equal(got, want) {
		t.Errorf("after a write to the first photo the page order is %v, want %v", got, want)
	}
}

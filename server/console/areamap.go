package console

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
)

// areaMap is an SVG map of many places over the counties' extent, drawn
// with the detail page's projection (Tile, web Mercator pixels at a zoom):
// positions alone with no tile server, over the tiles with one.
type areaMap struct {
	ViewBox       string
	R, Font, Halo float64 // marker radius, label size, label halo in map pixels
	Tiles         []areaTile
	Counties      []areaPoint
	Sites         []areaPoint
	Inspections   []areaPoint
}

type areaTile struct {
	URL        string
	X, Y, Size float64
}

type areaPoint struct {
	X, Y         float64
	Label, Class string
	Link         string
	// Path, when set, is the marker's outline (SVG path data) instead of
	// a circle: a failed inspection is a triangle, told from a passed one
	// by its shape too, not by red and green alone.
	Path string
}

// placeLonLat is a WGS-84 position to draw.
type placeLonLat struct {
	Lon, Lat     float64
	Label, Class string
	Link         string
}

// areaMapZoom picks the zoom: 10 without tiles (the projection only), and
// with tiles the greatest from 7 to 13 at which the extent spans at most
// four tiles across.
func areaMapZoom(minLon, maxLon float64, tiles bool) int {
	if !tiles {
		return 10
	}
	z := 13
	for ; z > 7; z-- {
		x0, _, f0, _ := Tile(minLon, 0, z)
		x1, _, f1, _ := Tile(maxLon, 0, z)
		if (float64(x1)+f1-float64(x0)-f0)*tileSize <= 4*tileSize {
			break
		}
	}
	return z
}

// newAreaMap lays out counties, sites and inspections over their extent.
func (c *Console) newAreaMap(counties, sites, inspections []placeLonLat) *areaMap {
	all := append(append(append([]placeLonLat{}, counties...), sites...), inspections...)
	if len(all) == 0 {
		return nil
	}
	minLon, maxLon, minLat, maxLat := all[0].Lon, all[0].Lon, all[0].Lat, all[0].Lat
	for _, p := range all {
		minLon, maxLon = math.Min(minLon, p.Lon), math.Max(maxLon, p.Lon)
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
	}
	padLon, padLat := math.Max((maxLon-minLon)*0.06, 0.02), math.Max((maxLat-minLat)*0.06, 0.02)
	minLon, maxLon, minLat, maxLat = minLon-padLon, maxLon+padLon, minLat-padLat, maxLat+padLat
	z := areaMapZoom(minLon, maxLon, c.d.TileURL != "")
	px := func(lon, lat float64) (float64, float64) {
		x, y, fx, fy := Tile(lon, lat, z)
		return (float64(x) + fx) * tileSize, (float64(y) + fy) * tileSize
	}
	x0, y0 := px(minLon, maxLat)
	x1, y1 := px(maxLon, minLat)
	w, h := x1-x0, y1-y0
	m := &areaMap{ViewBox: fmtViewBox(x0, y0, w, h), R: w / 70, Font: w / 30}
	m.Halo = m.Font / 5
	if c.d.TileURL != "" {
		for ty := int(math.Floor(y0 / tileSize)); float64(ty)*tileSize < y1; ty++ {
			for tx := int(math.Floor(x0 / tileSize)); float64(tx)*tileSize < x1; tx++ {
				m.Tiles = append(m.Tiles, areaTile{URL: TileURL(c.d.TileURL, z, tx, ty), X: float64(tx) * tileSize, Y: float64(ty) * tileSize, Size: tileSize})
			}
		}
	}
	conv := func(ps []placeLonLat) []areaPoint {
		out := make([]areaPoint, 0, len(ps))
		for _, p := range ps {
			x, y := px(p.Lon, p.Lat)
			out = append(out, areaPoint{X: x, Y: y, Label: p.Label, Class: p.Class, Link: p.Link})
		}
		return out
	}
	m.Counties, m.Sites, m.Inspections = conv(counties), conv(sites), conv(inspections)
	for i := range m.Sites { // a square centred on the site
		m.Sites[i].X, m.Sites[i].Y = m.Sites[i].X-m.R/2, m.Sites[i].Y-m.R/2
	}
	// The visits to one site spread on a spiral around it, each visible.
	seen := map[[2]float64]int{}
	for i := range m.Inspections {
		p := &m.Inspections[i]
		k := [2]float64{p.X, p.Y}
		n := seen[k]
		seen[k]++
		if n > 0 {
			a, d := float64(n)*2.4, m.R*1.6*math.Sqrt(float64(n))
			p.X, p.Y = p.X+d*math.Cos(a), p.Y+d*math.Sin(a)
		}
		if strings.HasSuffix(p.Class, "r-fail") {
			p.Path = triangle(p.X, p.Y, m.R*1.3)
		}
	}
	return m
}

// triangle is the path of an upward triangle centred on x, y whose
// corners lie r from its centre.
func triangle(x, y, r float64) string {
	f := trimFloat
	dx, dy := r*math.Sqrt(3)/2, r/2
	return "M" + f(x) + " " + f(y-r) + "L" + f(x+dx) + " " + f(y+dy) + "L" + f(x-dx) + " " + f(y+dy) + "Z"
}

func fmtViewBox(x, y, w, h float64) string {
	f := func(v float64) string { return trimFloat(v) }
	return f(x) + " " + f(y) + " " + f(w) + " " + f(h)
}

func trimFloat(v float64) string {
	b, _ := json.Marshal(math.Round(v*10) / 10)
	return string(b)
}

// inspectionResult is an inspection's result for the map, read as the
// detail page reads its answers: fail when any answer failed, pass when
// some were answered and none failed, else none.
func (c *Console) inspectionResult(r *server.StoredRecord) string {
	t := c.set.LatestTemplate(r.Text("template_id"))
	if t == nil {
		return "none"
	}
	res := "none"
	for _, a := range answers(r, t) {
		switch {
		case a.Failed:
			return "fail"
		case a.Invalid == "" && a.Value != "（未填写）":
			res = "pass"
		}
	}
	return res
}

var resultNames = map[string]string{"fail": "有不合格项", "pass": "全部合格", "none": "未作答"}

// siteMapPage draws the viewer's sites and the month's inspections,
// coloured by result, over the counties.
func (c *Console) siteMapPage(ec echo.Context) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	recs, _, err := c.d.Store.Sites(ctx, server.SiteQuery{Scope: p.Scope(), Limit: 5000})
	if err != nil {
		return err
	}
	var counties, sites, insps []placeLonLat
	for _, ct := range c.counties {
		if p.CanSee(ct.Code) && (p.Role.AllCounties() || len(p.Counties) > 0) && ct.Lon != 0 {
			counties = append(counties, placeLonLat{Lon: ct.Lon, Lat: ct.Lat, Label: ct.Name, Class: "county"})
		}
	}
	where := map[string]placeLonLat{}
	located, outside := 0, 0
	for _, r := range recs {
		pt, ok := server.SiteLocation(r)
		if !ok {
			continue
		}
		if !seeds.InBounds(pt.Lon, pt.Lat) {
			// A phone may send any position; drawn, one at the pole
			// would stretch the map (and its tiles) to the pole.
			outside++
			continue
		}
		located++
		cls := "site"
		if string(r.Value("active")) == "false" {
			cls = "site inactive"
		}
		s := placeLonLat{Lon: pt.Lon, Lat: pt.Lat, Label: r.Text("name") + "（" + siteKindName(r.Text("kind")) + "）", Class: cls,
			Link: "/console/sites?" + url.Values{"q": {r.ID}}.Encode()}
		where[r.ID] = s
		sites = append(sites, s)
	}
	// The month asked for (?month=YYYY-MM; this month by default): an
	// office closing last month looks at its inspections.
	now := c.now().In(chinaTime)
	month, start, err := requestedMonth(ec.QueryParam("month"), now, "检查")
	if err != nil {
		return err
	}
	irecs, nInsp, err := c.d.Store.Inspections(ctx, server.InspectionQuery{Scope: p.Scope(), From: start.Format(time.DateOnly),
		To: start.AddDate(0, 1, -1).Format(time.DateOnly), Limit: 5000})
	if err != nil {
		return err
	}
	counts := map[string]int{}
	// Inspections of sites not drawn (no position, or one outside the
	// city): counted in the month's figure, so listed, not dropped (the
	// search probe: a failed one vanished from the map).
	type undrawn struct{ Link, Label string }
	var missed []undrawn
	for _, r := range irecs {
		res := c.inspectionResult(r)
		s, ok := where[r.Text("site_id")]
		if !ok {
			missed = append(missed, undrawn{Link: "/console/inspections/" + url.PathEscape(r.ID),
				Label: visitStarted(r) + " " + c.siteName(ec, r.Text("site_id")) + " " + resultNames[res]})
			continue
		}
		counts[res]++
		insps = append(insps, placeLonLat{Lon: s.Lon, Lat: s.Lat, Class: "insp r-" + res,
			Label: visitStarted(r) + " " + s.Label + " " + resultNames[res] + "（" + statusNames[r.Text("status")] + "）",
			Link:  "/console/inspections/" + url.PathEscape(r.ID)})
	}
	legend := []map[string]any{}
	for _, k := range []string{"fail", "pass", "none"} {
		legend = append(legend, map[string]any{"Class": "r-" + k, "Name": resultNames[k], "N": counts[k]})
	}
	return c.render(ec, http.StatusOK, "map.html", map[string]any{"Map": c.newAreaMap(counties, sites, insps),
		"Sites": len(recs), "Located": located, "Outside": outside, "Inspections": nInsp, "Legend": legend, "Month": start.Format("2006年1月"),
		"MonthParam": month, "ThisMonth": month == now.Format("2006-01"), "PrevMonth": start.AddDate(0, -1, 0).Format("2006-01"),
		"NextMonth": start.AddDate(0, 1, 0).Format("2006-01"), "Today": now.Format(time.DateOnly), "MonthPath": "/console/map",
		"Undrawn": missed,
		"Tiles":   c.d.TileURL != ""})
}

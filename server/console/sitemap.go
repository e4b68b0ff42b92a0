package console

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// MapZoom is the zoom level of the inspection detail's static map: at
// Xinzhou's latitude a 256-pixel tile is about 470 m across, so the 3×3
// grid shows some 1.4 km around the site.
const MapZoom = 16

const tileSize = 256

// Tile returns the slippy-map tile (x, y) holding a WGS-84 position at
// zoom z, and the position's fraction within that tile (0..1).
func Tile(lon, lat float64, z int) (x, y int, fx, fy float64) {
	n := math.Exp2(float64(z))
	tx := (lon + 180) / 360 * n
	r := lat * math.Pi / 180
	ty := (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n
	x, y = int(math.Floor(tx)), int(math.Floor(ty))
	return x, y, tx - float64(x), ty - float64(y)
}

// TileURL fills a {z}/{x}/{y} template.
func TileURL(template string, z, x, y int) string {
	return strings.NewReplacer("{z}", strconv.Itoa(z), "{x}", strconv.Itoa(x), "{y}", strconv.Itoa(y)).Replace(template)
}

type mapTile struct{ URL string }

type mapMarker struct {
	X, Y  int // pixels in the 768×768 grid
	Label string
	Site  bool
}

type siteMap struct {
	Tiles   []mapTile // row by row, 3×3
	Markers []mapMarker
	Size    int
	Outside int // photos beyond the grid
}

// newSiteMap lays out the 3×3 tiles around the site and the markers of
// the site and of each located photo; nil without a tile template.
func (c *Console) newSiteMap(slon, slat float64, photos []photoRow) *siteMap {
	if c.d.TileURL == "" {
		return nil
	}
	cx, cy, fx, fy := Tile(slon, slat, MapZoom)
	m := &siteMap{Size: 3 * tileSize}
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			m.Tiles = append(m.Tiles, mapTile{URL: TileURL(c.d.TileURL, MapZoom, cx+dx, cy+dy)})
		}
	}
	m.Markers = append(m.Markers, mapMarker{X: int((1 + fx) * tileSize), Y: int((1 + fy) * tileSize), Label: "点位", Site: true})
	for i, p := range photos {
		if !p.located {
			continue
		}
		x, y, px, py := Tile(p.lon, p.lat, MapZoom)
		mx, my := (float64(x-cx+1)+px)*tileSize, (float64(y-cy+1)+py)*tileSize
		if mx < 0 || my < 0 || mx >= float64(m.Size) || my >= float64(m.Size) {
			m.Outside++
			continue
		}
		m.Markers = append(m.Markers, mapMarker{X: int(mx), Y: int(my), Label: "照片" + strconv.Itoa(i+1)})
	}
	return m
}

// CheckTileURL reports whether template can serve the map: an http(s)
// URL with a host and the {z}, {x} and {y} placeholders.
func CheckTileURL(template string) error {
	if tileOrigin(template) == "" {
		return fmt.Errorf("tile URL %q: want an http:// or https:// URL with a host", template)
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(template, p) {
			return fmt.Errorf("tile URL %q lacks %s", template, p)
		}
	}
	return nil
}

// tileOrigin is the scheme and host of the tile template, which the
// pages' Content-Security-Policy must allow images from; "" if none.
func tileOrigin(template string) string {
	u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(template))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

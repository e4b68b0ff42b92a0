package console_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
)

func TestTile(t *testing.T) {
	for _, tc := range []struct {
		lon, lat float64
		z, x, y  int
	}{
		{0, 0, 1, 1, 1},
		{13.4050, 52.5200, 10, 550, 335},   // Berlin
		{-0.1278, 51.5074, 12, 2046, 1362}, // London
	} {
		if x, y, _, _ := console.Tile(tc.lon, tc.lat, tc.z); x != tc.x || y != tc.y {
			t.Errorf("Tile(%v, %v, %d) = %d/%d, want %d/%d", tc.lon, tc.lat, tc.z, x, y, tc.x, tc.y)
		}
	}
	if got := console.TileURL("https://t.example/{z}/{x}/{y}.png", 16, 3, 4); got != "https://t.example/16/3/4.png" {
		t.Errorf("TileURL: %s", got)
	}
}

var siteCoordsRE = regexp.MustCompile(`点位坐标</dt><dd>经度 ([0-9.\-]+)，纬度 ([0-9.\-]+)`)

func TestDetailMap(t *testing.T) {
	const tiles = "https://tiles.example.cn/{z}/{x}/{y}.png"
	for _, tileURL := range []string{"", tiles} {
		t.Run(fmt.Sprintf("tiles=%q", tileURL), func(t *testing.T) {
			srv := apptest.Start(t, func(c *app.Config) { c.TileURL = tileURL })
			id := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
			b := loggedIn(t, srv, apptest.CountyOffice)
			st, page := b.get("/console/inspections/" + id)
			if st != http.StatusOK {
				t.Fatalf("detail: %d\n%s", st, page)
			}
			m := siteCoordsRE.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no site coordinates on the page:\n%s", page)
			}
			if tileURL == "" {
				if strings.Contains(page, `class="tile"`) || strings.Contains(page, "<svg") {
					t.Errorf("a map without a tile URL:\n%s", page)
				}
				return
			}
			lon, _ := strconv.ParseFloat(m[1], 64)
			lat, _ := strconv.ParseFloat(m[2], 64)
			x, y, _, _ := console.Tile(lon, lat, console.MapZoom)
			if n := strings.Count(page, `<img class="tile"`); n != 9 {
				t.Errorf("%d tiles, want 9", n)
			}
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					want := fmt.Sprintf(`src="https://tiles.example.cn/%d/%d/%d.png"`, console.MapZoom, x+dx, y+dy)
					if !strings.Contains(page, want) {
						t.Errorf("no tile %s", want)
					}
				}
			}
			if !strings.Contains(page, `class="site-marker"`) {
				t.Error("no site marker")
			}
			_, hdr := b.getHeader("/console/inspections/"+id, "Content-Security-Policy")
			if !strings.Contains(hdr, "img-src 'self' https://tiles.example.cn;") {
				t.Errorf("CSP does not allow the tiles: %s", hdr)
			}
		})
	}
}

func (b *browser) getHeader(path, name string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get(name)
}

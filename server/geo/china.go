package geo

import (
	"fmt"
	"math"
)

// Names of the coordinate reference systems accepted by ToWGS84, as a phone
// declares them.
const (
	// WGS84 is what raw GNSS (Android LocationManager, iOS CoreLocation
	// outside Apple Maps) reports.
	WGS84 = "wgs84"
	// GCJ02 is the obfuscated datum mandated for published maps in mainland
	// China, used by the Amap (Gaode) and Tencent location SDKs.
	GCJ02 = "gcj02"
	// BD09 is Baidu's further transform of GCJ-02, the default of the Baidu
	// location SDK.
	BD09 = "bd09"
)

// ToWGS84 converts p from the coordinate system named by crs (WGS84, GCJ02 or
// BD09) to WGS-84. An empty crs is not accepted: the caller decides the
// default. Any other name is an error.
func ToWGS84(p Point, crs string) (Point, error) {
	switch crs {
	case WGS84:
		return p, nil
	case GCJ02:
		return GCJ02ToWGS84(p), nil
	case BD09:
		return BD09ToWGS84(p), nil
	}
	return p, fmt.Errorf("geo: unknown coordinate system %q (want %q, %q or %q)", crs, WGS84, GCJ02, BD09)
}

// Krasovsky 1940 ellipsoid, on which the public GCJ-02 formula is built.
const (
	krasovskyA  = 6378245.0
	krasovskyE2 = 0.00669342162296594323
)

// InChina reports whether p lies in the rectangle in which the GCJ-02
// transform is applied: 72.004–137.8347°E, 0.8293–55.8271°N. The rectangle is
// the one the public implementations use; it is coarse (it also covers
// Mongolia, Korea and parts of Central and South-East Asia), and outside it
// GCJ-02 equals WGS-84.
func InChina(p Point) bool {
	return p.Lon >= 72.004 && p.Lon <= 137.8347 && p.Lat >= 0.8293 && p.Lat <= 55.8271
}

// WGS84ToGCJ02 applies the public WGS-84 → GCJ-02 forward transform (as
// reverse-engineered and published, e.g. in eviltransform). Outside InChina it
// returns p unchanged, as the Chinese map SDKs do.
func WGS84ToGCJ02(p Point) Point {
	if !InChina(p) {
		return p
	}
	dLon, dLat := gcjDelta(p)
	return Point{Lon: p.Lon + dLon, Lat: p.Lat + dLat}
}

// gcjDelta returns the GCJ-02 offset in degrees at the WGS-84 point p.
func gcjDelta(p Point) (dLon, dLat float64) {
	x, y := p.Lon-105, p.Lat-35
	dLat = gcjLat(x, y)
	dLon = gcjLon(x, y)
	radLat := p.Lat / 180 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyE2*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = dLat * 180 / (krasovskyA * (1 - krasovskyE2) / (magic * sqrtMagic) * math.Pi)
	dLon = dLon * 180 / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dLon, dLat
}

func gcjLat(x, y float64) float64 {
	r := -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	r += (20*math.Sin(y*math.Pi) + 40*math.Sin(y/3*math.Pi)) * 2 / 3
	r += (160*math.Sin(y/12*math.Pi) + 320*math.Sin(y*math.Pi/30)) * 2 / 3
	return r
}

func gcjLon(x, y float64) float64 {
	r := 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	r += (20*math.Sin(x*math.Pi) + 40*math.Sin(x/3*math.Pi)) * 2 / 3
	r += (150*math.Sin(x/12*math.Pi) + 300*math.Sin(x/30*math.Pi)) * 2 / 3
	return r
}

// GCJ02ToWGS84 inverts WGS84ToGCJ02 by fixed-point iteration: the offset
// varies by well under a metre over the few hundred metres it spans, so each
// step gains several digits and the result is within a millimetre after a
// handful of steps, far below the < 1 m the server needs. Outside InChina it
// returns p unchanged.
func GCJ02ToWGS84(p Point) Point {
	if !InChina(p) {
		return p
	}
	w := p
	for range 20 {
		g := WGS84ToGCJ02(w)
		dLon, dLat := g.Lon-p.Lon, g.Lat-p.Lat
		w.Lon -= dLon
		w.Lat -= dLat
		if math.Abs(dLon) < 1e-10 && math.Abs(dLat) < 1e-10 {
			break
		}
	}
	return w
}

// bdXPi is the constant in Baidu's published BD-09 formulas.
const bdXPi = math.Pi * 3000 / 180

// GCJ02ToBD09 applies Baidu's GCJ-02 → BD-09 transform. Unlike GCJ-02 it has
// no bounding box: Baidu applies it everywhere.
func GCJ02ToBD09(p Point) Point {
	x, y := p.Lon, p.Lat
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*bdXPi)
	return Point{Lon: z*math.Cos(theta) + 0.0065, Lat: z*math.Sin(theta) + 0.006}
}

// BD09ToGCJ02 inverts GCJ02ToBD09. Baidu's published inverse formula is only
// approximate (errors of a few decimetres), so the result is refined by
// fixed-point iteration on the forward transform.
func BD09ToGCJ02(p Point) Point {
	x, y := p.Lon-0.0065, p.Lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	g := Point{Lon: z * math.Cos(theta), Lat: z * math.Sin(theta)}
	for range 10 {
		b := GCJ02ToBD09(g)
		dLon, dLat := b.Lon-p.Lon, b.Lat-p.Lat
		g.Lon -= dLon
		g.Lat -= dLat
		if math.Abs(dLon) < 1e-10 && math.Abs(dLat) < 1e-10 {
			break
		}
	}
	return g
}

// BD09ToWGS84 converts a Baidu BD-09 point to WGS-84 (BD-09 → GCJ-02 →
// WGS-84).
func BD09ToWGS84(p Point) Point {
	return GCJ02ToWGS84(BD09ToGCJ02(p))
}

// WGS84ToBD09 converts a WGS-84 point to Baidu's BD-09 (WGS-84 → GCJ-02 →
// BD-09). It exists for tests and for displaying points on Baidu maps.
func WGS84ToBD09(p Point) Point {
	return GCJ02ToBD09(WGS84ToGCJ02(p))
}

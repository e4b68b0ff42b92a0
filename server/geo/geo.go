// Package geo provides the small amount of geodesy fieldsync needs: points,
// great-circle distances and conversion of the coordinate systems that
// phones in China report (GCJ-02, BD-09) to WGS-84, which is what the server
// stores.
//
// It uses the standard library only.
package geo

import "math"

// EarthRadiusM is the mean radius of the WGS-84 ellipsoid, (2a+b)/3, in
// metres, used as the radius of the sphere in DistanceM.
const EarthRadiusM = 6371008.8

// Point is a position in decimal degrees: Lon east of Greenwich, Lat north of
// the equator. Which datum it is in (WGS-84, GCJ-02 or BD-09) is up to the
// caller; the server stores WGS-84.
type Point struct {
	Lon, Lat float64
}

// Valid reports whether p is a finite position with |Lat| ≤ 90 and
// |Lon| ≤ 180.
func (p Point) Valid() bool {
	return !math.IsNaN(p.Lon) && !math.IsNaN(p.Lat) &&
		math.Abs(p.Lat) <= 90 && math.Abs(p.Lon) <= 180
}

// DistanceM returns the great-circle distance in metres between a and b by
// the haversine formula on a sphere of radius EarthRadiusM. Its error against
// the ellipsoid is below 0.5%, which is ample for geofences of tens to
// hundreds of metres.
func DistanceM(a, b Point) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a.Lat*rad, b.Lat*rad
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	sLat, sLon := math.Sin(dLat/2), math.Sin(dLon/2)
	h := sLat*sLat + math.Cos(lat1)*math.Cos(lat2)*sLon*sLon
	// Rounding can push h a hair above 1 for antipodal points.
	h = math.Min(1, h)
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(h))
}

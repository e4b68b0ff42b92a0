package geo

import (
	"math"
	"testing"
)

// Places used across the tests.
var (
	xinzhouCity = Point{Lon: 112.73, Lat: 38.42}   // Xinfu district, the city seat
	hequ        = Point{Lon: 111.09, Lat: 39.02}   // Hequ county, by the Yellow River, north-west
	wutaiShan   = Point{Lon: 113.59, Lat: 39.02}   // Wutai Shan, north-east
	ningwu      = Point{Lon: 112.30, Lat: 39.00}   // Ningwu county
	beijing     = Point{Lon: 116.404, Lat: 39.915} // Tiananmen, the usual test vector
	paris       = Point{Lon: 2.3522, Lat: 48.8566}
	sydney      = Point{Lon: 151.2093, Lat: -33.8688}
)

func TestDistanceM(t *testing.T) {
	tests := []struct {
		name   string
		a, b   Point
		want   float64
		within float64
	}{
		{"same point", xinzhouCity, xinzhouCity, 0, 1e-9},
		{"one degree of latitude", Point{112, 38}, Point{112, 39}, 111195, 1},
		{"one degree of longitude at the equator", Point{0, 0}, Point{1, 0}, 111195, 1},
		{"one degree of longitude at 38.42N", Point{112, 38.42}, Point{113, 38.42}, 111195 * math.Cos(38.42*math.Pi/180), 1},
		// Flat-earth estimate: 1.495° of latitude and 3.674° of longitude
		// at cos(39.17°) make 166.2 km by 316.6 km.
		{"Xinzhou to Beijing", xinzhouCity, beijing, 357600, 1000},
		// 0.6° by 1.64° at cos(38.72°): 66.7 km by 142.3 km.
		{"Hequ to Xinzhou", hequ, xinzhouCity, 157100, 500},
		{"antipodes", Point{0, 0}, Point{180, 0}, math.Pi * EarthRadiusM, 1e-6},
		{"across the antimeridian", Point{179.5, 0}, Point{-179.5, 0}, 111195, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DistanceM(tt.a, tt.b)
			if back := DistanceM(tt.b, tt.a); math.Abs(got-back) > 1e-6 {
				t.Errorf("DistanceM is not symmetric: %v there, %v back", got, back)
			}
			if math.Abs(got-tt.want) > tt.within {
				t.Errorf("DistanceM(%v, %v) = %.3f m, want %.3f ± %g", tt.a, tt.b, got, tt.want, tt.within)
			}
		})
	}
}

func TestForwardKnownValues(t *testing.T) {
	// Published outputs of the common implementations (wandergis/coordtransform,
	// hutool's CoordinateUtil) for the same input.
	tests := []struct {
		name string
		f    func(Point) Point
		in   Point
		want Point
	}{
		{"WGS84ToGCJ02", WGS84ToGCJ02, beijing, Point{116.41024449916938, 39.91640428150164}},
		{"GCJ02ToBD09", GCJ02ToBD09, beijing, Point{116.41036949371029, 39.92133699351021}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f(tt.in)
			if math.Abs(got.Lon-tt.want.Lon) > 1e-9 || math.Abs(got.Lat-tt.want.Lat) > 1e-9 {
				t.Errorf("%s(%v) = %v, want %v", tt.name, tt.in, got, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	points := []struct {
		name string
		p    Point
	}{
		{"Xinzhou city", xinzhouCity},
		{"Hequ", hequ},
		{"Wutai Shan", wutaiShan},
		{"Ningwu", ningwu},
		{"Beijing", beijing},
		{"Shanghai", Point{121.5272106, 31.1774276}},
		{"Kashgar", Point{75.99, 39.47}},
		{"Harbin", Point{126.63, 45.75}},
		{"Sanya", Point{109.51, 18.25}},
	}
	conversions := []struct {
		name    string
		forward func(Point) Point
		inverse func(Point) Point
		crs     string
	}{
		{"gcj02", WGS84ToGCJ02, GCJ02ToWGS84, GCJ02},
		{"bd09", WGS84ToBD09, BD09ToWGS84, BD09},
	}
	for _, c := range conversions {
		for _, pt := range points {
			t.Run(c.name+"/"+pt.name, func(t *testing.T) {
				there := c.forward(pt.p)
				back := c.inverse(there)
				if d := DistanceM(pt.p, back); d > 0.01 {
					t.Errorf("round trip %v → %v → %v is %.4f m off, want < 1 cm", pt.p, there, back, d)
				}
				viaName, err := ToWGS84(there, c.crs)
				if err != nil {
					t.Fatal(err)
				}
				if viaName != back {
					t.Errorf("ToWGS84(%v, %q) = %v, want %v", there, c.crs, viaName, back)
				}
			})
		}
	}
}

func TestBD09InverseRefinesBaidusFormula(t *testing.T) {
	g := Point{116.404, 39.915}
	if d := DistanceM(BD09ToGCJ02(GCJ02ToBD09(g)), g); d > 0.001 {
		t.Errorf("BD09ToGCJ02 round trip off by %.4f m", d)
	}
}

func TestOffsetMagnitude(t *testing.T) {
	// DOMAIN.md: GCJ-02 is off by ≈350 m on average; in Xinzhou the shift is
	// a few hundred metres. An inverse that does nothing would pass the round
	// trip tests only if the forward did nothing too, so check the size.
	tests := []struct {
		name     string
		p        Point
		min, max float64
	}{
		{"Xinzhou city", xinzhouCity, 300, 600},
		{"Hequ", hequ, 300, 600},
		{"Wutai Shan", wutaiShan, 300, 600},
		{"Ningwu", ningwu, 300, 600},
		{"Beijing", beijing, 300, 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gcj := DistanceM(tt.p, WGS84ToGCJ02(tt.p))
			if gcj < tt.min || gcj > tt.max {
				t.Errorf("GCJ-02 offset at %v is %.0f m, want %g–%g m", tt.p, gcj, tt.min, tt.max)
			}
			// BD-09 adds roughly another 0.0065°/0.006° on top.
			if bd := DistanceM(tt.p, WGS84ToBD09(tt.p)); bd < gcj+300 {
				t.Errorf("BD-09 offset at %v is %.0f m, want well beyond GCJ-02's %.0f m", tt.p, bd, gcj)
			}
		})
	}
}

func TestOutsideChinaIsUnchanged(t *testing.T) {
	for _, p := range []Point{paris, sydney, {Lon: -74.006, Lat: 40.7128}, {Lon: 139.6917, Lat: 35.6895}} {
		if got := WGS84ToGCJ02(p); got != p {
			t.Errorf("WGS84ToGCJ02(%v) = %v, want unchanged", p, got)
		}
		if got := GCJ02ToWGS84(p); got != p {
			t.Errorf("GCJ02ToWGS84(%v) = %v, want unchanged", p, got)
		}
		if got, err := ToWGS84(p, GCJ02); err != nil || got != p {
			t.Errorf("ToWGS84(%v, gcj02) = %v, %v; want unchanged", p, got, err)
		}
	}
}

func TestInChina(t *testing.T) {
	tests := []struct {
		p    Point
		want bool
	}{
		{xinzhouCity, true},
		{beijing, true},
		{paris, false},
		{sydney, false},
		{Point{72.003, 39}, false},
		{Point{137.84, 39}, false},
		{Point{112, 55.83}, false},
	}
	for _, tt := range tests {
		if got := InChina(tt.p); got != tt.want {
			t.Errorf("InChina(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestToWGS84(t *testing.T) {
	tests := []struct {
		crs     string
		wantErr bool
	}{
		{WGS84, false},
		{GCJ02, false},
		{BD09, false},
		{"", true},
		{"WGS84", true},
		{"epsg:4326", true},
		{"gcj-02", true},
	}
	for _, tt := range tests {
		t.Run(tt.crs, func(t *testing.T) {
			got, err := ToWGS84(xinzhouCity, tt.crs)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ToWGS84(_, %q) error = %v, want error %v", tt.crs, err, tt.wantErr)
			}
			if tt.crs == WGS84 && got != xinzhouCity {
				t.Errorf("ToWGS84(p, wgs84) = %v, want p", got)
			}
		})
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		p    Point
		want bool
	}{
		{xinzhouCity, true},
		{Point{180, -90}, true},
		{Point{180.1, 0}, false},
		{Point{0, 90.1}, false},
		{Point{math.NaN(), 0}, false},
		{Point{0, math.Inf(1)}, false},
	}
	for _, tt := range tests {
		if got := tt.p.Valid(); got != tt.want {
			t.Errorf("%v.Valid() = %v, want %v", tt.p, got, tt.want)
		}
	}
}

package imageproc

import (
	"image"
	"math"
	"sort"
)

// Perceptual hashes for reuse detection (see Fingerprint).
//
// Every hash here is a DCT hash (pHash) of a window of the picture's
// content: the window is reduced to 32×32 grey levels, transformed by a 2-D
// DCT, and bit i is set when the i-th of the 64 lowest-frequency
// coefficients (the 8×8 block without the mean, plus one) is above their
// median. The low frequencies survive re-encoding, rescaling, blur and small
// rotations; comparing with the median makes the hash blind to brightness
// and contrast (any increasing affine change of the grey levels leaves the
// order of the coefficients as it was), and grey levels ignore saturation.

// workSide is the longest side of the grey picture windows are cut from.
const workSide = 256

// hashSide is the side of the grey square a window is reduced to before
// its DCT.
const hashSide = 32

// grey is a picture as grey levels, row-major.
type grey struct {
	w, h int
	v    []float64
}

// toGrey reduces img to at most workSide pixels on its longest side, as
// grey levels (luma), each the mean of the block of pixels it covers (see
// blockEdges).
func toGrey(img image.Image) *grey {
	b := img.Bounds()
	w, h := fitSize(b.Dx(), b.Dy(), workSide)
	w, h = max(w, 1), max(h, 1)
	if src, ok := img.(*image.YCbCr); ok && b.Dx() >= w && b.Dy() >= h {
		return lumaGrey(src, w, h)
	}
	small := areaAverage(img, w, h)
	g := &grey{w: w, h: h, v: make([]float64, w*h)}
	for y := range h {
		row := small.Pix[y*small.Stride:]
		for x := range w {
			p := row[4*x:]
			g.v[y*w+x] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		}
	}
	return g
}

// lumaGrey is toGrey for a decoded JPEG: its Y plane is the luma, so the
// blocks are averaged from it alone, without chroma or a conversion to
// RGB and back.
func lumaGrey(src *image.YCbCr, w, h int) *grey {
	b := src.Bounds()
	xEdge, yEdge := blockEdges(b.Dx(), w), blockEdges(b.Dy(), h)
	g := &grey{w: w, h: h, v: make([]float64, w*h)}
	sum := make([]uint32, w)
	for oy := range h {
		clear(sum)
		for y := b.Min.Y + yEdge[oy]; y < b.Min.Y+yEdge[oy+1]; y++ {
			row := src.Y[src.YOffset(b.Min.X, y):][:b.Dx()]
			for ox := range sum {
				var s uint32
				for _, v := range row[xEdge[ox]:xEdge[ox+1]] {
					s += uint32(v)
				}
				sum[ox] += s
			}
		}
		out := g.v[oy*w : (oy+1)*w]
		for ox, s := range sum {
			out[ox] = float64(s) / float64((yEdge[oy+1]-yEdge[oy])*(xEdge[ox+1]-xEdge[ox]))
		}
	}
	return g
}

// orient returns g with EXIF orientation o applied (see orient in
// picture.go): out(x, y) is g at the point the orientation's transform
// takes there.
func (g *grey) orient(o int) *grey {
	if o < 2 || o > 8 {
		return g
	}
	w, h := g.w, g.h
	if o >= 5 {
		w, h = h, w
	}
	out := &grey{w: w, h: h, v: make([]float64, len(g.v))}
	for y := range h {
		for x := range w {
			var sx, sy int
			switch o {
			case 2: // flip left to right
				sx, sy = g.w-1-x, y
			case 3: // rotate 180°
				sx, sy = g.w-1-x, g.h-1-y
			case 4: // flip top to bottom
				sx, sy = x, g.h-1-y
			case 5: // transpose
				sx, sy = y, x
			case 6: // rotate 90° clockwise
				sx, sy = y, g.h-1-x
			case 7: // transverse
				sx, sy = g.w-1-y, g.h-1-x
			case 8: // rotate 90° counter-clockwise
				sx, sy = g.w-1-y, x
			}
			out.v[y*w+x] = g.v[sy*g.w+sx]
		}
	}
	return out
}

// mirror returns g flipped left to right.
func (g *grey) mirror() *grey {
	m := &grey{w: g.w, h: g.h, v: make([]float64, len(g.v))}
	for y := range g.h {
		for x := range g.w {
			m.v[y*g.w+x] = g.v[y*g.w+g.w-1-x]
		}
	}
	return m
}

// turned returns box r of g turned by deg degrees (counter-clockwise)
// about its centre, cut to the largest rectangle of r's proportions inside
// the turned box, as a straighten tool cuts it, at half g's resolution
// (plenty for a 32×32 hash, and a quarter of the work): each pixel the
// bilinear interpolation of g at the point the turn brings there.
func (g *grey) turned(r image.Rectangle, deg float64) *grey {
	const step = 2 // source pixels an output pixel spans
	w, h := float64(r.Dx()), float64(r.Dy())
	a := deg * math.Pi / 180
	c, s := math.Cos(a), math.Sin(a)
	k := min(w/(w*c+h*math.Abs(s)), h/(w*math.Abs(s)+h*c))
	out := &grey{w: max(int(w*k/step), 1), h: max(int(h*k/step), 1)}
	out.v = make([]float64, out.w*out.h)
	cx, cy := float64(r.Min.X)+w/2, float64(r.Min.Y)+h/2
	at := func(x, y int) float64 {
		return g.v[min(max(y, 0), g.h-1)*g.w+min(max(x, 0), g.w-1)]
	}
	for y := range out.h {
		dy := (float64(y) + 0.5 - float64(out.h)/2) * step
		for x := range out.w {
			dx := (float64(x) + 0.5 - float64(out.w)/2) * step
			// The source point, in pixel centres' coordinates.
			sx, sy := cx+c*dx+s*dy-0.5, cy-s*dx+c*dy-0.5
			x0, y0 := math.Floor(sx), math.Floor(sy)
			fx, fy := sx-x0, sy-y0
			i, j := int(x0), int(y0)
			top := at(i, j) + fx*(at(i+1, j)-at(i, j))
			bottom := at(i, j+1) + fx*(at(i+1, j+1)-at(i, j+1))
			out.v[y*out.w+x] = top + fy*(bottom-top)
		}
	}
	return out
}

// frame is a window in fractions of the picture's content box:
// [x0, x1) × [y0, y1).
type frame struct{ x0, y0, x1, y1 float64 }

// content returns the box of g without the flat black or white bands a
// screenshot, a letterbox or a scanner adds around a picture: the longest
// run of rows that are not such a band, then within it the longest run of
// columns. A picture with no bands is its own content.
func (g *grey) content() image.Rectangle {
	flat := func(n int, at func(i int) float64) bool {
		var s, s2 float64
		for i := range n {
			v := at(i)
			s += v
			s2 += v * v
		}
		mean := s / float64(n)
		sd := math.Sqrt(max(0, s2/float64(n)-mean*mean))
		return sd < 4 && (mean < 24 || mean > 235)
	}
	longest := func(n int, isBand func(i int) bool) (int, int) {
		best0, best1, start := 0, 0, -1
		for i := 0; i <= n; i++ {
			if i < n && !isBand(i) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 && i-start > best1-best0 {
				best0, best1 = start, i
			}
			start = -1
		}
		return best0, best1
	}
	y0, y1 := longest(g.h, func(y int) bool {
		return flat(g.w, func(x int) float64 { return g.v[y*g.w+x] })
	})
	x0, x1 := longest(g.w, func(x int) bool {
		return flat(y1-y0, func(i int) float64 { return g.v[(y0+i)*g.w+x] })
	})
	r := image.Rect(x0, y0, x1, y1)
	// Bands that leave too little are the picture's own (a night sky, a
	// white wall): hash the whole.
	if r.Dx() < g.w/3 || r.Dy() < g.h/4 || r.Dx() < 8 || r.Dy() < 8 {
		return image.Rect(0, 0, g.w, g.h)
	}
	return r
}

// table is a grey picture's summed-area table: s[y*(w+1)+x] is the sum
// of the grey levels left of x and above y. Treating each pixel as a
// constant square, the sum over any box with fractional edges is read
// from four bilinear interpolations of the table, exactly: a window costs
// the same whatever its size, where averaging its pixels cost their
// number (100 windows a photo).
type table struct {
	w, h int
	s    []float64
}

// integral returns g's summed-area table.
func (g *grey) integral() *table {
	t := &table{w: g.w, h: g.h, s: make([]float64, (g.w+1)*(g.h+1))}
	stride := g.w + 1
	for y := range g.h {
		var row float64
		for x := range g.w {
			row += g.v[y*g.w+x]
			t.s[(y+1)*stride+x+1] = t.s[y*stride+x+1] + row
		}
	}
	return t
}

// at returns the sum over [0, x) × [0, y), x and y clamped to the picture.
func (t *table) at(x, y float64) float64 {
	x, y = min(max(x, 0), float64(t.w)), min(max(y, 0), float64(t.h))
	i, j := min(int(x), t.w-1), min(int(y), t.h-1)
	fx, fy := x-float64(i), y-float64(j)
	stride := t.w + 1
	s00, s01 := t.s[j*stride+i], t.s[j*stride+i+1]
	s10, s11 := t.s[(j+1)*stride+i], t.s[(j+1)*stride+i+1]
	return s00 + fx*(s01-s00) + fy*(s10-s00) + fx*fy*(s11-s10-s01+s00)
}

// sample reduces the part of the picture in box (pixels, fractional) to a
// hashSide×hashSide square, each cell the mean grey level of its part of
// the box (of what lies inside the picture; a cell outside it, or of no
// width, takes the nearest pixel).
func (t *table) sample(x0, y0, x1, y1 float64) []float64 {
	var xs, ys [hashSide + 1]float64
	var sums [(hashSide + 1) * (hashSide + 1)]float64
	for k := range hashSide + 1 {
		xs[k] = min(max(x0+float64(k)*(x1-x0)/hashSide, 0), float64(t.w))
		ys[k] = min(max(y0+float64(k)*(y1-y0)/hashSide, 0), float64(t.h))
	}
	for j, y := range ys {
		for i, x := range xs {
			sums[j*(hashSide+1)+i] = t.at(x, y)
		}
	}
	out := make([]float64, hashSide*hashSide)
	for j := range hashSide {
		for i := range hashSide {
			area := (xs[i+1] - xs[i]) * (ys[j+1] - ys[j])
			if area <= 1e-9 {
				out[j*hashSide+i] = t.pixel(xs[i], ys[j])
				continue
			}
			n := hashSide + 1
			out[j*hashSide+i] = (sums[(j+1)*n+i+1] - sums[(j+1)*n+i] - sums[j*n+i+1] + sums[j*n+i]) / area
		}
	}
	return out
}

// pixel returns the grey level of the pixel nearest (x, y).
func (t *table) pixel(x, y float64) float64 {
	i, j := min(max(int(x), 0), t.w-1), min(max(int(y), 0), t.h-1)
	return t.at(float64(i+1), float64(j+1)) - t.at(float64(i), float64(j+1)) - t.at(float64(i+1), float64(j)) + t.at(float64(i), float64(j))
}

// dctBasis[u][x] is cos((2x+1)uπ/2N) for the hashSide-point DCT-II.
var dctBasis = func() [][]float64 {
	b := make([][]float64, 9)
	for u := range b {
		b[u] = make([]float64, hashSide)
		for x := range hashSide {
			b[u][x] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / (2 * hashSide))
		}
	}
	return b
}()

// pHashOf returns the DCT hash of a hashSide×hashSide grey square and
// its spread (see spread), in grey levels of amplitude: a coefficient of
// a cosine pattern of amplitude a across the square is about
// a·hashSide²/4.
func pHashOf(sq []float64) (uint64, float64) {
	// Rows first: tmp[y][u] for u < 9, then columns for v < 9.
	var tmp [hashSide][9]float64
	for y := range hashSide {
		row := sq[y*hashSide : (y+1)*hashSide]
		for u := range 9 {
			var s float64
			for x, v := range row {
				s += v * dctBasis[u][x]
			}
			tmp[y][u] = s
		}
	}
	var c [9][9]float64 // c[v][u]
	for v := range 9 {
		for u := range 9 {
			var s float64
			for y := range hashSide {
				s += tmp[y][u] * dctBasis[v][y]
			}
			c[v][u] = s
		}
	}
	coef := make([]float64, 0, 64)
	for v := range 8 {
		for u := range 8 {
			if u+v > 0 {
				coef = append(coef, c[v][u])
			}
		}
	}
	coef = append(coef, c[0][8])
	sorted := append([]float64(nil), coef...)
	sort.Float64s(sorted)
	med := (sorted[31] + sorted[32]) / 2
	var h uint64
	margins := make([]float64, len(coef))
	for i, v := range coef {
		h <<= 1
		if v > med {
			h |= 1
		}
		margins[i] = math.Abs(v-med) / (hashSide * hashSide / 4)
	}
	return h, spread(margins)
}

// hashFrame returns the DCT hash of frame f of content box r of the
// picture t is the table of, and its spread (pHashOf).
func (t *table) hashFrame(r image.Rectangle, f frame) (uint64, float64) {
	w, h := float64(r.Dx()), float64(r.Dy())
	x0, y0 := float64(r.Min.X)+f.x0*w, float64(r.Min.Y)+f.y0*h
	return pHashOf(t.sample(x0, y0, float64(r.Min.X)+f.x1*w, float64(r.Min.Y)+f.y1*h))
}

package imageproc

import (
	"image"
	"image/color"
	"image/draw"
	"runtime"
	"sync"

	"github.com/disintegration/imaging"
)

// resize scales img to exactly w×h. Large reductions of JPEGs are done in
// two steps, as libvips does: first an average over k×k blocks, k the
// largest integer that leaves at least w×h (libvips uses the JPEG decoder's
// DCT scaling, which Go's lacks), then the filter for the remaining factor
// of less than two. The block average is itself an anti-aliasing filter, so
// the result is all but indistinguishable from filtering all the way (a mean
// difference under one level in 255), at a fraction of the cost.
func resize(img image.Image, w, h int, filter imaging.ResampleFilter) *image.NRGBA {
	b := img.Bounds()
	if k := min(b.Dx()/w, b.Dy()/h); k >= 2 {
		if src, ok := img.(*image.YCbCr); ok {
			img = shrinkYCbCr(src, b.Dx()/k, b.Dy()/k)
		}
	}
	return imaging.Resize(img, w, h, filter)
}

// areaAverage reduces img to exactly w×h pixels, each the plain average of
// the block of source pixels it covers (see blockEdges). This is what a
// perceptual hash needs: the same for any image type and decoded size, with
// no resampling chain to make near-equal neighbours flip. An image smaller
// than w×h is scaled up instead.
func areaAverage(img image.Image, w, h int) *image.NRGBA {
	b := img.Bounds()
	if b.Dx() < w || b.Dy() < h {
		return imaging.Resize(img, w, h, imaging.Box)
	}
	if src, ok := img.(*image.YCbCr); ok {
		return shrinkYCbCr(src, w, h)
	}
	return averageRows(img, w, h)
}

// blockEdges divides n pixels into out blocks of ⌊n/out⌋ or ⌈n/out⌉
// pixels that together cover all n: block i is [e[i], e[i+1]). No edge is
// cropped and none is given more weight than its area.
func blockEdges(n, out int) []int {
	e := make([]int, out+1)
	for i := range e {
		e[i] = i * n / out
	}
	return e
}

// averageRows is areaAverage for any image type: it converts one row at a
// time to RGBA with image/draw (which has fast paths for the common types)
// and accumulates the row into its blocks.
func averageRows(img image.Image, w, h int) *image.NRGBA {
	b := img.Bounds()
	xEdge, yEdge := blockEdges(b.Dx(), w), blockEdges(b.Dy(), h)
	row := image.NewRGBA(image.Rect(0, 0, b.Dx(), 1))
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	sum := make([][3]uint64, w)
	for oy := range h {
		clear(sum)
		for y := yEdge[oy]; y < yEdge[oy+1]; y++ {
			draw.Draw(row, row.Rect, img, image.Pt(b.Min.X, b.Min.Y+y), draw.Src)
			for ox := range sum {
				s := &sum[ox]
				for x := xEdge[ox]; x < xEdge[ox+1]; x++ {
					p := row.Pix[4*x:]
					s[0] += uint64(p[0])
					s[1] += uint64(p[1])
					s[2] += uint64(p[2])
				}
			}
		}
		out := dst.Pix[oy*dst.Stride:]
		for ox, s := range sum {
			n := uint64((yEdge[oy+1] - yEdge[oy]) * (xEdge[ox+1] - xEdge[ox]))
			out[4*ox], out[4*ox+1], out[4*ox+2], out[4*ox+3] =
				uint8((s[0]+n/2)/n), uint8((s[1]+n/2)/n), uint8((s[2]+n/2)/n), 255
		}
	}
	return dst
}

// shrinkYCbCr is areaAverage for src (any chroma subsampling), which must
// be at least w×h. Decoded JPEGs are YCbCr, and averaging the planes before
// converting to RGB saves converting every source pixel; the work is spread
// over GOMAXPROCS goroutines by bands of rows.
func shrinkYCbCr(src *image.YCbCr, w, h int) *image.NRGBA {
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	xEdge, yEdge := blockEdges(b.Dx(), w), blockEdges(b.Dy(), h)

	// COffset(x, y) is a row part plus a column part; tabulate the columns.
	base := src.COffset(b.Min.X, b.Min.Y)
	cCol := make([]int, b.Dx())
	for x := range cCol {
		cCol[x] = src.COffset(b.Min.X+x, b.Min.Y) - base
	}

	bands := min(runtime.GOMAXPROCS(0), h)
	var wg sync.WaitGroup
	for band := range bands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum := make([][3]uint32, w)
			for oy := band * h / bands; oy < (band+1)*h/bands; oy++ {
				clear(sum)
				for y := b.Min.Y + yEdge[oy]; y < b.Min.Y+yEdge[oy+1]; y++ {
					yRow := src.Y[src.YOffset(b.Min.X, y):][:b.Dx()]
					cRow := src.COffset(b.Min.X, y)
					cb, cr := src.Cb[cRow:], src.Cr[cRow:]
					for ox := range sum {
						var sy, scb, scr uint32
						for x := xEdge[ox]; x < xEdge[ox+1]; x++ {
							sy += uint32(yRow[x])
							scb += uint32(cb[cCol[x]])
							scr += uint32(cr[cCol[x]])
						}
						s := &sum[ox]
						s[0] += sy
						s[1] += scb
						s[2] += scr
					}
				}
				row := dst.Pix[oy*dst.Stride:]
				for ox, s := range sum {
					n := uint32((yEdge[oy+1] - yEdge[oy]) * (xEdge[ox+1] - xEdge[ox]))
					r, g, bl := color.YCbCrToRGB(uint8((s[0]+n/2)/n), uint8((s[1]+n/2)/n), uint8((s[2]+n/2)/n))
					row[4*ox], row[4*ox+1], row[4*ox+2], row[4*ox+3] = r, g, bl, 255
				}
			}
		}()
	}
	wg.Wait()
	return dst
}

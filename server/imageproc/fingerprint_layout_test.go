package imageproc

import (
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// TestWindowLayout: the windows are the 3 centred ones, the 12 with one
// side whole, then the 34 that cut both sides, each inside the content.
func TestWindowLayout(t *testing.T) {
	if len(windows) != 49 || len(twoSideWindows) != 34 {
		t.Fatalf("%d windows, %d cutting both sides; want 49 and 34", len(windows), len(twoSideWindows))
	}
	for i, f := range windows {
		if f.x0 < 0 || f.y0 < 0 || f.x1 > 1 || f.y1 > 1 || f.x1-f.x0 < 0.7 || f.y1-f.y0 < 0.7 {
			t.Errorf("window %d (kind %d) %+v: not 70–100%% of each side", i, HashFull+1+i, f)
		}
		wholeX, wholeY := f.x0 == 0 && f.x1 == 1, f.y0 == 0 && f.y1 == 1
		switch {
		case i < 3:
			if !slices.Contains(CentredKinds, HashFull+1+i) {
				t.Errorf("window %d %+v is not centred", i, f)
			}
		case i < 15:
			if wholeX == wholeY {
				t.Errorf("window %d %+v should keep exactly one side whole", i, f)
			}
		default:
			if wholeX || wholeY {
				t.Errorf("window %d %+v should cut both sides", i, f)
			}
		}
	}
}

// TestWindowSearch repeats the search that chose twoSideWindows (see
// there) and fails if it does not choose them. It takes about a minute:
// run it with FIELDSYNC_WINDOW_SEARCH=1 after changing the hash or the
// other windows, and replace twoSideWindows with what it logs.
func TestWindowSearch(t *testing.T) {
	if os.Getenv("FIELDSYNC_WINDOW_SEARCH") == "" {
		t.Skip("set FIELDSYNC_WINDOW_SEARCH=1 to run the search (about a minute)")
	}
	const (
		scenes = 150
		limit  = 6 // bits: a margin below WindowDistance
		step   = 0.025
	)
	// A side's spans: start and end cuts on the grid, 7.5–27.5% in all.
	var spans [][2]float64
	for i := 0; i <= 11; i++ {
		for j := 0; j <= 11; j++ {
			if i+j >= 3 && i+j <= 11 {
				spans = append(spans, [2]float64{float64(i) * step, float64(j) * step})
			}
		}
	}
	n := len(spans) * len(spans)
	cand := func(k int) frame {
		x, y := spans[k/len(spans)], spans[k%len(spans)]
		return frame{x[0], y[0], 1 - x[1], 1 - y[1]}
	}
	type crop struct {
		weight float64
		near   []bool // by candidate: within limit of the crop
		found  bool
	}
	var crops []*crop
	rng := rand.New(rand.NewPCG(77, 7))
	for s := range scenes {
		w, h := 800, 600
		if s%4 == 3 {
			w, h = 600, 800
		}
		img := testimg.Scene(uint64(5000+s), w, h)
		g := toGrey(testimg.Reencode(img, 90))
		r, tb := g.content(), g.integral()
		hashes := make([]uint64, n)
		for k := range hashes {
			hashes[k], _ = tb.hashFrame(r, cand(k))
		}
		add := func(weight, l, tp, rt, b float64) {
			q := toGrey(testimg.Reencode(testimg.Crop(img, l, tp, rt, b), 85))
			qh, _ := q.integral().hashFrame(q.content(), frame{0, 0, 1, 1})
			c := &crop{weight: weight, near: make([]bool, n)}
			for _, f := range windows[:15] {
				wh, _ := tb.hashFrame(r, f)
				c.found = c.found || bits.OnesCount64(wh^qh) <= limit
			}
			for k, ch := range hashes {
				c.near[k] = bits.OnesCount64(ch^qh) <= limit
			}
			crops = append(crops, c)
		}
		for range 6 { // uneven: 10–25% of each side, split at random
			cut := func() (float64, float64) { c := 0.10 + 0.15*rng.Float64(); a := c * rng.Float64(); return a, c - a }
			l, rt := cut()
			tp, b := cut()
			add(1, l, tp, rt, b)
		}
		for range 3 { // two adjacent edges, 10–25% each
			var cut [4]float64
			k := rng.IntN(4)
			cut[k], cut[(k+1)%4] = 0.10+0.15*rng.Float64(), 0.10+0.15*rng.Float64()
			add(2, cut[0], cut[1], cut[2], cut[3])
		}
	}
	var chosen []frame
	for len(chosen) < len(twoSideWindows) {
		best, bestGain := -1, 0.0
		for k := range n {
			gain := 0.0
			for _, c := range crops {
				if !c.found && c.near[k] {
					gain += c.weight
				}
			}
			if gain > bestGain {
				best, bestGain = k, gain
			}
		}
		if best < 0 {
			break
		}
		for _, c := range crops {
			c.found = c.found || c.near[best]
		}
		chosen = append(chosen, cand(best))
	}
	found := 0
	for _, c := range crops {
		if c.found {
			found++
		}
	}
	t.Logf("%d of %d crops within %d bits; chosen: %v", found, len(crops), limit, chosen)
	round := func(fs []frame) []frame {
		out := make([]frame, len(fs))
		for i, f := range fs {
			r := func(v float64) float64 { return float64(int(v*10000+0.5)) / 10000 }
			out[i] = frame{r(f.x0), r(f.y0), r(f.x1), r(f.y1)}
		}
		slices.SortFunc(out, func(a, b frame) int {
			return slices.Compare([]float64{a.x0, a.y0, a.x1, a.y1}, []float64{b.x0, b.y0, b.x1, b.y1})
		})
		return out
	}
	if got, want := round(chosen), round(twoSideWindows); !slices.Equal(got, want) {
		t.Errorf("the search chose\n%v\nnot twoSideWindows\n%v", got, want)
	}
}

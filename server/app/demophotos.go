package app

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// The demo's photos: real JPEGs with the EXIF a phone camera
// writes (time with its zone, GPS and its accuracy, make, model,
// firmware), made with testimg. A picture is encoded once per site and
// checklist item (once per truck at checkpoints) and gets each photo's
// own EXIF, so every photo has its own bytes while start-up encodes a
// bounded number of JPEGs (demoScenes). A few photos are planted frauds,
// which the processing pool must flag like any other.

// Photo size and quality. The processing pool's work (three decodes and
// two encodes a photo) grows with the pixels: at 640×480 the month's photos
// kept both cores of the project machine busy for most of a minute, and
// for many minutes under the race detector. 320×240 is a quarter of that,
// still a readable thumbnail.
const (
	demoPhotoW, demoPhotoH = 320, 240
	demoQuality            = 85
)

// The planted frauds and the other planned photo conditions (demoPhoto.fraud).
const (
	demoFar     = "far"     // taken kilometres away: far_from_site
	demoEdited  = "edited"  // passed through a photo editor: edited
	demoStale   = "stale"   // an old photo, EXIF weeks before the visit: time_mismatch
	demoReused  = "reused"  // the bytes of another site's photo: duplicate
	demoNear    = "near"    // another site's picture, re-encoded: near_duplicate
	demoMock    = "mock"    // accuracy exactly 0, a mock location: mock_location
	demoNoGPS   = "no_gps"  // honest, but the camera's location tag was off: no_gps
	demoPending = "pending" // the bytes have not been uploaded yet
)

// demoFraudCounts is how many photos get each condition.
var demoFraudCounts = []struct {
	fraud string
	n     int
}{{demoFar, 4}, {demoEdited, 4}, {demoStale, 3}, {demoReused, 3}, {demoNear, 2}, {demoMock, 2}, {demoNoGPS, 4}}

// demoEditors are the editors planted photos went through.
var demoEditors = []string{"美图秀秀 9.9.5", "Adobe Photoshop Lightroom Classic 12.0 (Windows)", "醒图 8.6.0", "Snapseed 2.19"}

// demoPhoto is one photo: its record and how its bytes are made.
type demoPhoto struct {
	id, item, findingID, vehicleID string
	visit                          *demoVisit
	taken                          time.Time // captured_at, from the phone's clock
	scene                          uint64    // the picture (testimg seed)
	quality                        int
	where                          geo.Point // where it was taken, WGS-84
	gps                            bool      // the EXIF carries where
	exifTime                       time.Time
	software                       string
	accuracy                       float64 // what the phone reports, metres
	fraud                          string
	source                         *demoPhoto // demoReused: whose bytes; demoNear: whose picture
	upload                         bool
	hlc                            string // when its phone made the record
	data                           []byte // made by makeBytes
	sum                            string
}

// planPhotos plans the photos of each visit: one of every photo-required
// item it answered (a failed item's photo is also its finding's
// evidence; a truck's photos are of that truck), as the checklist asks of
// a complete inspection; an incomplete submission misses one of them, and
// a draft has the photos of the items answered so far, some not taken
// yet. Then it plants the frauds.
func (m *demoMonth) planPhotos(rng *rand.Rand) {
	var all []*demoPhoto
	for _, v := range m.visits {
		var items []string
		for _, it := range v.tmpl.Items {
			if _, ok := v.answers[it.Key]; ok && it.PhotoRequired {
				items = append(items, it.Key)
			}
		}
		switch {
		case v.incomplete && len(items) > 0:
			i := rng.IntN(len(items))
			items = append(items[:i], items[i+1:]...)
		case !v.submitted && len(items) > 0:
			items = items[:rng.IntN(len(items)+1)]
		}
		for k, item := range items {
			p := &demoPhoto{id: demoID("photo", v.id, item), item: item, visit: v, quality: demoQuality, upload: true, gps: true,
				taken:    v.start.Add(time.Duration(6+k*3+rng.IntN(3)) * time.Minute),
				accuracy: float64(3 + rng.IntN(13)), scene: demoScene(v.site.id, item)}
			for _, f := range v.findings {
				if f.item == item {
					p.findingID, p.taken = f.id, f.at.Add(time.Minute)
				}
			}
			if v.tmpl.ID == "roadside_truck" {
				p.scene = demoScene(v.id, item) // the truck, not the checkpoint
			}
			if v.vehicle != nil {
				p.vehicleID = v.vehicleID
			}
			p.where = jitter(rng, v.site.at, v.site.radius*0.4)
			p.exifTime = p.taken
			v.photos = append(v.photos, p)
			all = append(all, p)
		}
	}
	m.plantFrauds(rng, all)
}

// demoScene is the picture of an item at a site (or of one truck).
func demoScene(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// jitter returns a point within r metres of p, as GNSS scatters.
func jitter(rng *rand.Rand, p geo.Point, r float64) geo.Point {
	return offset(p, rng.Float64()*2*math.Pi, rng.Float64()*r)
}

// offset returns the point d metres from p in direction a (radians from
// east, anticlockwise).
func offset(p geo.Point, a, d float64) geo.Point {
	const mPerDeg = math.Pi * geo.EarthRadiusM / 180
	return geo.Point{Lon: p.Lon + d*math.Cos(a)/(mPerDeg*math.Cos(p.Lat*math.Pi/180)), Lat: p.Lat + d*math.Sin(a)/mPerDeg}
}

// plantFrauds gives demoFraudCounts photos of submitted visits (at least
// two days old, so reviewers may have seen them) their condition, and the
// last days' photos of one phone stay unuploaded.
func (m *demoMonth) plantFrauds(rng *rand.Rand, all []*demoPhoto) {
	var pool []*demoPhoto
	for _, p := range all {
		if p.visit.submitted && p.visit.day >= 2 {
			pool = append(pool, p)
		}
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	scenes := map[uint64]int{}
	for _, p := range all {
		scenes[p.scene]++
	}
	taken := map[*demoPhoto]bool{} // photos with a condition, or the source of one
	next := 0
	for _, fc := range demoFraudCounts {
		for planted := 0; planted < fc.n && next < len(pool); next++ {
			p := pool[next]
			if taken[p] {
				continue
			}
			if fc.fraud == demoReused || fc.fraud == demoNear {
				if p.source = sourceFor(p, all, taken, scenes); p.source == nil {
					continue
				}
				taken[p.source] = true
			}
			taken[p] = true
			p.fraud = fc.fraud
			planted++
			switch fc.fraud {
			case demoFar:
				p.where = offset(p.visit.site.at, rng.Float64()*2*math.Pi, 4000+rng.Float64()*5000)
			case demoEdited:
				p.software = demoEditors[rng.IntN(len(demoEditors))]
			case demoStale:
				p.exifTime = p.taken.AddDate(0, 0, -20-rng.IntN(40)).Add(time.Duration(rng.IntN(300)) * time.Minute)
			case demoNear:
				p.scene, p.quality = p.source.scene, 60
			case demoMock:
				p.accuracy = 0
			case demoNoGPS:
				p.gps = false
			}
		}
	}
	if len(m.devices) > 5 {
		d := m.devices[5] // its phone has had too weak a signal for photos for the last days
		for _, p := range all {
			if p.visit.dev == d && p.visit.day <= 3 && !taken[p] {
				p.fraud, p.upload = demoPending, false
			}
		}
	}
}

// sourceFor finds the photo whose bytes or picture p reuses: an honest
// photo of an earlier day (so the server receives it first, and p is the
// reuse) at another site of the same county, whose picture no other photo
// shows (photos of one item at one site share a picture, and would all be
// near duplicates of p).
func sourceFor(p *demoPhoto, all []*demoPhoto, taken map[*demoPhoto]bool, scenes map[uint64]int) *demoPhoto {
	for _, q := range all {
		if q.visit.site.county == p.visit.site.county && q.visit.site != p.visit.site && q.visit.day > p.visit.day &&
			q.visit.submitted && !taken[q] && q.fraud == "" && scenes[q.scene] == 1 {
			return q
		}
	}
	return nil
}

// photos returns every planned photo, in visit order.
func (m *demoMonth) photos() []*demoPhoto {
	var out []*demoPhoto
	for _, v := range m.visits {
		out = append(out, v.photos...)
	}
	return out
}

// makeBytes makes the bytes and hash of each of photos (and of the photos
// they reuse): each distinct picture is encoded once, on every core, then
// each photo gets its EXIF.
func makeBytes(photos []*demoPhoto) {
	type key struct {
		scene   uint64
		quality int
	}
	var need []*demoPhoto
	seen := map[*demoPhoto]bool{}
	for _, p := range photos {
		for q := p; q != nil && !seen[q]; q = q.source {
			if q.data == nil {
				need = append(need, q)
			}
			seen[q] = true
			if q.fraud != demoReused {
				break
			}
		}
	}
	var keys []key
	index := map[key]int{}
	for _, p := range need {
		k := key{p.scene, p.quality}
		if _, ok := index[k]; !ok && p.fraud != demoReused {
			index[k] = len(keys)
			keys = append(keys, k)
		}
	}
	bases := make([][]byte, len(keys))
	par.Do(len(keys), func(i int) {
		opt := testimg.Options{Width: demoPhotoW, Height: demoPhotoH, Seed: keys[i].scene, Quality: keys[i].quality}
		bases[i] = testimg.EncodeJPEG(demoPicture(opt), opt)
	})
	// Every photo's own bytes first, then the reused ones (the same bytes
	// as their sources).
	par.Do(len(need), func(i int) {
		if p := need[i]; p.fraud != demoReused {
			p.data = testimg.WithEXIF(bases[index[key{p.scene, p.quality}]], testimg.EXIF(p.exif()))
			sum := sha256.Sum256(p.data)
			p.sum = hex.EncodeToString(sum[:])
		}
	})
	for _, p := range need {
		if p.fraud == demoReused {
			p.data, p.sum = p.source.data, p.source.sum
		}
	}
}

// demoPicture is testimg's picture for opt under a mosaic of brighter and
// darker blocks drawn from the same seed. testimg's smooth gradients are
// alike enough that a few hundred of them include pairs within the
// near-duplicate distance of each other; the mosaic, on the 9×8 grid the
// difference hash samples, makes unrelated scenes differ in about half of
// its bits, so only the planted near duplicates are flagged.
func demoPicture(opt testimg.Options) *image.RGBA {
	img := testimg.Image(opt)
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6d6f73))
	const gx, gy = 9, 8
	var shift [gy][gx]int
	for y := range gy {
		for x := range gx {
			shift[y][x] = rng.IntN(101) - 50
		}
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			s := shift[y*gy/h][x*gx/w]
			for c := range 3 {
				row[4*x+c] = uint8(max(0, min(255, int(row[4*x+c])+s)))
			}
		}
	}
	return img
}

// toCRS converts a WGS-84 point to crs, as a phone's location SDK reports it.
func toCRS(p geo.Point, crs string) geo.Point {
	switch crs {
	case geo.GCJ02:
		return geo.WGS84ToGCJ02(p)
	case geo.BD09:
		return geo.WGS84ToBD09(p)
	}
	return p
}

// exif is what the photo's camera writes.
func (p *demoPhoto) exif() testimg.Options {
	d := p.visit.dev
	t := p.exifTime.In(chinaTime)
	opt := testimg.Options{Width: demoPhotoW, Height: demoPhotoH, Time: &t, Make: d.make, Model: d.model, Software: d.firmware}
	if p.software != "" {
		opt.Software = p.software
	}
	if p.gps {
		where, acc := p.where, p.accuracy
		opt.GPS, opt.GPSAccuracyM = &where, &acc
	}
	return opt
}

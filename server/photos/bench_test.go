package photos_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// twelveMP makes n distinct 4000×3000 JPEGs with EXIF (orientation 6).
func twelveMP(n int) [][]byte {
	out := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			taken := time.Now()
			out[i] = testimg.JPEG(testimg.Options{Width: 4000, Height: 3000, Seed: uint64(1000 + i), Time: &taken,
				GPS: &siteAt, Orientation: 6, Quality: 90})
		}()
	}
	wg.Wait()
	return out
}

// BenchmarkProcess12MP uploads 12-megapixel JPEGs over tus from 4 devices
// at once and measures how fast the server turns them into thumbnails and
// previews (upload, verification and processing, until the pool is idle),
// and the process's peak resident memory.
func BenchmarkProcess12MP(b *testing.B) {
	const perRound = 8
	imgs := twelveMP(perRound)
	b.ResetTimer()
	var peak int64
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		w := setupB(b)
		phones := []*apptestClient{w.client(), w.client(), w.client(), w.client()}
		ids := make([]string, perRound)
		for i, data := range imgs {
			ids[i] = w.photoB(b, phones[i%4].c, data)
		}
		apptest.ResetPeakRSS()
		b.StartTimer()
		var wg sync.WaitGroup
		for d := range phones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := d; i < perRound; i += len(phones) {
					phones[d].tus.Upload(ids[i], "image/jpeg", imgs[i], http.StatusNoContent)
				}
			}()
		}
		wg.Wait()
		w.srv.App.Photos.WaitIdle()
		b.StopTimer()
		peak = max(peak, apptest.PeakRSS())
		w.srv.Stop()
	}
	b.ReportMetric(float64(perRound*b.N)/b.Elapsed().Seconds(), "photos/s")
	b.ReportMetric(float64(peak)/1e6, "MB-peak-rss")
}

// BenchmarkVipsThumbnail is the reference: Debian's vipsthumbnail makes the
// same two sizes (256 and 1280 px, orientation applied) from the same files.
func BenchmarkVipsThumbnail(b *testing.B) {
	if _, err := exec.LookPath("vipsthumbnail"); err != nil {
		b.Skip("vipsthumbnail not installed (apt-get install libvips-tools)")
	}
	const perRound = 8
	dir := b.TempDir()
	var files []string
	for i, data := range twelveMP(perRound) {
		f := filepath.Join(dir, fmt.Sprintf("p%d.jpg", i))
		if err := os.WriteFile(f, data, 0o600); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2) // the same two workers as the pool
		for _, f := range files {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				for _, size := range []string{"1280", "256"} {
					out := strings.TrimSuffix(f, ".jpg") + "-" + size + ".jpg[Q=85]"
					if o, err := exec.Command("vipsthumbnail", f, "--size", size, "-o", out).CombinedOutput(); err != nil {
						b.Errorf("vipsthumbnail: %v %s", err, o)
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(perRound*b.N)/b.Elapsed().Seconds(), "photos/s")
}

// BenchmarkUploadAck measures how long a phone waits for the final PATCH of
// a 2 MB photo to be acknowledged (hash verified, header checked, stored),
// with the processing pool idle and busy with a backlog of 12 MP photos.
func BenchmarkUploadAck(b *testing.B) {
	for _, busy := range []bool{false, true} {
		name := "idle"
		if busy {
			name = "processing"
		}
		b.Run(name, func(b *testing.B) {
			w := setupB(b)
			phone := w.client()
			if busy {
				for _, data := range twelveMP(6) {
					id := w.photoB(b, phone.c, data)
					phone.tus.Upload(id, "image/jpeg", data, http.StatusNoContent)
				}
			}
			taken := time.Now()
			var lat []time.Duration
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				data := testimg.JPEG(testimg.Options{Width: 1600, Height: 1200, Seed: uint64(5000 + n), Time: &taken, Quality: 97})
				id := w.photoB(b, phone.c, data)
				c := phone.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
				b.StartTimer()
				start := time.Now()
				if r := phone.tus.Patch(c.Header.Get("Location"), 0, data); r.Status != http.StatusNoContent {
					b.Fatalf("patch: %d %+v", r.Status, r.Err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
		})
	}
}

type apptestClient struct {
	c   *syncproto.Client
	tus *apptest.Tus
}

type worldB struct {
	srv  *apptest.Server
	insp string
}

func setupB(b *testing.B) *worldB {
	w := &worldB{srv: apptest.Start(b)}
	phone := w.srv.Login(apptest.Inspector)
	w.insp = newID()
	resp, err := phone.Push(ctx, newID(), []syncproto.Mutation{mut(phone, "inspection", w.insp, map[string]any{
		"site_id": apptest.DemoSite(b, "140902"), "template_id": "construction_dust", "template_version": 1,
		"started_at": time.Now().Add(-time.Hour).Format(time.RFC3339)})})
	if err != nil || resp.Results[0].Status != syncproto.StatusApplied {
		b.Fatalf("inspection: %v %+v", err, resp)
	}
	return w
}

func (w *worldB) client() *apptestClient {
	c := w.srv.Login(apptest.Inspector)
	return &apptestClient{c: c, tus: w.srv.Tus(c)}
}

func (w *worldB) photoB(b *testing.B, c *syncproto.Client, data []byte) string {
	id := newID()
	resp, err := c.Push(ctx, newID(), []syncproto.Mutation{mut(c, "photo", id, map[string]any{
		"inspection_id": w.insp, "sha256": apptest.SHA256(data), "content_type": "image/jpeg", "size_bytes": len(data)})})
	if err != nil || resp.Results[0].Status != syncproto.StatusApplied {
		b.Fatalf("photo: %v %+v", err, resp)
	}
	return id
}

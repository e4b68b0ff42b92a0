package photos_test

import (
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

const mib = 1 << 20

// needProc skips a test that measures memory where /proc cannot tell.
func needProc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		t.Skip("no /proc/self/clear_refs: peak memory cannot be measured here")
	}
	if testing.Short() {
		t.Skip("-short: skipping a test that decodes large images")
	}
}

// uploadAll pushes a PNG photo record for each file, creates the uploads,
// then sends all their bytes at once (the last PATCH is where the server
// checks an image), and returns the final answers.
func (w *world) uploadAll(t *testing.T, files [][]byte) ([]string, []apptest.Response) {
	t.Helper()
	tus := w.srv.Tus(w.phone)
	ids := make([]string, len(files))
	locs := make([]string, len(files))
	for i, data := range files {
		ids[i] = w.photo(t, w.insp, data, map[string]any{"content_type": "image/png"})
		c := tus.Create(ids[i], apptest.SHA256(data), "image/png", len(data))
		if c.Status != http.StatusCreated {
			t.Fatalf("create upload: %d %+v", c.Status, c.Err)
		}
		locs[i] = c.Header.Get("Location")
	}
	out := make([]apptest.Response, len(files))
	var wg sync.WaitGroup
	for i := range files {
		wg.Go(func() { out[i] = tus.Patch(locs[i], 0, files[i]) })
	}
	wg.Wait()
	return ids, out
}

// TestSixteenBitPNGMemory: a 10000×10000 PNG with 16 bits per channel is
// about 1 MB, well within the upload limit, and within the pixel limit, but
// Go decodes it into 800 MB. It is refused at upload from its header, with
// its real size in the message, and the server's memory does not grow by
// anything like that, for one such upload or two at once.
func TestSixteenBitPNGMemory(t *testing.T) {
	needProc(t)
	w := setup(t)
	big := testimg.PNG16(10000, 10000)
	files := [][]byte{big, big} // two records, two uploads
	for _, n := range []int{1, 2} {
		apptest.ResetPeakRSS()
		base := apptest.PeakRSS()
		ids, answers := w.uploadAll(t, files[:n])
		w.srv.App.Photos.WaitIdle()
		grew := apptest.PeakRSS() - base
		t.Logf("%d at once: peak RSS grew by %d MiB", n, grew/mib)
		// Decoding it took 800 MB a file before the budget; what is left
		// is the uploads and the rest of the process (the race detector
		// and the package's other tests running beside it make that
		// vary from about 10 to 160 MiB).
		if grew > 300*mib {
			t.Errorf("%d at once: peak RSS grew by %d MiB, want under 300 MiB", n, grew/mib)
		}
		for i, a := range answers {
			if a.Status != http.StatusUnprocessableEntity || a.Err.Code != syncproto.CodeBadImage ||
				!strings.Contains(a.Err.Message, "10000×") || !strings.Contains(a.Err.Message, "MB") {
				t.Errorf("upload %d of %d: %d %+v, want 422 bad_image naming the size and the memory", i, n, a.Status, a.Err)
			}
			if string(w.record(t, ids[i])["uploaded"]) == "true" {
				t.Errorf("upload %d of %d: the refused photo is marked uploaded", i, n)
			}
		}
	}
}

// TestDecodesShareOneBudget: photos that each fit in the decode budget but
// not two together are decoded one after the other, even when two workers
// take them at once: the second waits for the first's memory, and the
// decodes never hold more than the budget between them. What each takes is
// what its header says its decode and preview need (Info.MemoryNeed): a
// photo counted short would run beside the other. (The budget's effect on
// the process's memory is TestSixteenBitPNGMemory's; measured here, with
// photos that fit, the first decode's one-time growth hid it.)
func TestDecodesShareOneBudget(t *testing.T) {
	const budget = 80 * mib
	w := setupOn(t, apptest.Start(t, func(c *app.Config) { c.HoldPhotoProcessing, c.PhotoDecodeMemory = true, budget }))
	// 1600×1600 at 8 bytes a pixel: 19.5 MiB decoded, and the preview's.
	files := [][]byte{testimg.PNG16(1600, 1600), testimg.PNG16(1600, 1599), testimg.PNG16(1599, 1600)}
	ids, answers := w.uploadAll(t, files)
	for i, a := range answers {
		if a.Status != http.StatusNoContent {
			t.Fatalf("upload %d: %d %+v", i, a.Status, a.Err)
		}
	}
	// process is what workers do with these photos at once; it returns
	// the most the decodes took at once and how many waited, so far.
	process := func(ids ...string) (peak, waits int64) {
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { errs[i] = w.srv.App.Photos.Process(ctx, id) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("process %s: %v", ids[i], err)
			}
		}
		size, peak, waits := w.srv.App.Photos.DecodeStats()
		if size != budget {
			t.Fatalf("decode budget %d, want %d", size, budget)
		}
		return peak, waits
	}
	peak, waits := process(ids[0])
	t.Logf("one photo alone took %.1f MiB of the %d MiB budget", float64(peak)/mib, budget/mib)
	if peak <= budget/2 || peak >= budget || waits != 0 {
		t.Fatalf("one photo alone took %d bytes and waited %d times: want more than half the budget, less than all, and no wait", peak, waits)
	}
	one := peak
	peak, waits = process(ids[1], ids[2])
	if waits != 1 || peak != one {
		t.Errorf("two photos at once: %d waited, the decodes took %d bytes at most; want one to wait for the other, and %d (one photo's) at most", waits, peak, one)
	}
	for i, id := range ids {
		// A PNG carries no EXIF: no position, no time.
		if f := w.flags(t, id); len(f) != 2 || f["no_gps"] == nil || f["time_mismatch"] == nil {
			t.Errorf("photo %d: flags %v, want only no_gps and time_mismatch", i, f)
		}
		if ok, _ := w.srv.App.Blobs.Has(ctx, apptest.SHA256(files[i]), "preview"); !ok {
			t.Errorf("photo %d: no preview", i)
		}
	}
}

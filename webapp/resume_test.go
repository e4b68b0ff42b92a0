package webapp_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// binServer is the real fieldsync binary serving a data directory, as a
// process of its own, so that it can be killed.
type binServer struct {
	t        *testing.T
	bin, dir string
	url      string
	cmd      *exec.Cmd
}

// buildFieldsync builds cmd/fieldsync into a temporary directory.
func buildFieldsync(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	bin := filepath.Join(t.TempDir(), "fieldsync")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/fieldsync")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// start runs the binary on addr (127.0.0.1:0 picks a port) and waits for
// the line saying where it serves.
func (s *binServer) start(addr string) {
	s.t.Helper()
	cmd := exec.Command(s.bin, "serve", "--demo", "--demo-month=false", "--data", s.dir, "--addr", addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	s.t.Cleanup(s.kill)
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "fieldsync 已启动: "); ok {
			s.url = strings.Fields(rest)[0]
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return
		}
	}
	s.t.Fatalf("fieldsync exited before serving: %v", lines.Err())
}

// kill ends the process with SIGKILL, as a crash or a pulled plug would.
func (s *binServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// uploadedBytes is how many bytes of the one upload in progress the
// server has written to its upload directory (0 if none yet).
func (s *binServer) uploadedBytes() int64 {
	var n int64
	_ = filepath.WalkDir(filepath.Join(s.dir, "uploads"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == "" {
			if fi, err := d.Info(); err == nil {
				n = max(n, fi.Size())
			}
		}
		return nil
	})
	return n
}

// throttleUpload limits the phone's upload rate (bytes a second).
func throttleUpload(p *phone, rate float64) {
	p.do("throttle uploads", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: rate}}})
		return err
	}))
}

// TestBrowserUploadResumesAfterServerKill: a 5 MB photo is uploading from
// the app on a slow link when the server process is killed (SIGKILL).
// After the server restarts on the same address, the upload resumes from
// the offset the server kept — no PATCH starts from zero again — and the
// server's bytes hash to the photo's SHA-256. The resumption is either the
// app's next sync (HEAD, then PATCH from the server's offset) or Chrome
// sending the PATCH that was cut again by itself to the restarted server
// (it does so for a request whose reused connection failed before any
// answer): the PATCH the restarted server first accepts must start at or
// before the bytes it kept.
func TestBrowserUploadResumesAfterServerKill(t *testing.T) {
	srv := &binServer{t: t, bin: buildFieldsync(t), dir: t.TempDir()}
	srv.start("127.0.0.1:0")
	addr := strings.TrimPrefix(srv.url, "http://")
	at := geo.Point{Lon: 112.7418, Lat: 38.4168}
	bctx := browserFor(t)
	p := newPhone(t, bctx, srv.url, "checkpoint phone", at)
	p.signIn(apptest.Inspector)

	// Every tus PATCH the page sends, with its Upload-Offset, in order; and
	// every one answered, with the offset it was sent at and the one the
	// answer gives.
	type answer struct{ sent, now int64 }
	var mu sync.Mutex
	var patches []int64
	var answers []answer
	sentAt := map[network.RequestID]int64{}
	offset := func(h network.Headers) int64 {
		off, _ := h["Upload-Offset"].(string)
		n, err := strconv.ParseInt(off, 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	if err := chromedp.Listen(p.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if e.Request.Method == http.MethodPatch {
				n := offset(e.Request.Headers)
				patches = append(patches, n)
				sentAt[e.RequestID] = n
			}
		case *network.EventResponseReceived:
			if n, ok := sentAt[e.RequestID]; ok && e.Response.Status == http.StatusNoContent {
				answers = append(answers, answer{sent: n, now: offset(e.Response.Headers)})
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	now := time.Now().In(time.FixedZone("CST", 8*3600))
	photo := padJPEG(testimg.JPEG(testimg.Options{Width: 1600, Height: 1200, Seed: 11, Time: &now, GPS: &at,
		Make: "HUAWEI", Model: "NOH-AN00"}), 5<<20, 11)
	path := filepath.Join(t.TempDir(), "truck.jpg")
	if err := os.WriteFile(path, photo, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(photo)
	want := hex.EncodeToString(sum[:])

	throttleUpload(p, 256<<10) // 5 MB take 20 s: time to kill the server mid-way
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h9k507"))
	for _, c := range [][2]string{{"emission_stage", "cn6"}, {"fuel", "natural_gas"}, {"aftertreatment", "removed"}, {"action", "fine"}} {
		p.click(`[data-field="` + c[0] + `"] button[data-value="` + c[1] + `"]`)
	}
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{path}))
	p.wait(`#vehicle-photos .thumb img`)
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)

	// Kill the server once it holds a fifth of the photo.
	deadline := time.Now().Add(2 * time.Minute)
	for srv.uploadedBytes() < int64(len(photo))/5 {
		if time.Now().After(deadline) {
			t.Fatalf("the upload did not start: the server holds %d bytes", srv.uploadedBytes())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's file, not timing the test
	}
	srv.kill()
	kept := srv.uploadedBytes()
	mu.Lock()
	before := len(patches)
	mu.Unlock()
	if kept >= int64(len(photo)) {
		t.Fatalf("the whole photo (%d bytes) arrived before the kill", kept)
	}
	srv.start(addr)

	// The app's sync fails on the dead connection; the next one resumes.
	p.waitJS("the failed sync ended", `!document.querySelector('#sync-now')?.disabled`)
	throttleUpload(p, -1)
	p.click(`#sync-now`)
	p.waitSynced()

	mu.Lock()
	after := append([]int64(nil), patches[before:]...)
	// The answers that take the upload past what the killed server held
	// came from the restarted one.
	var resumed []answer
	for _, a := range answers {
		if a.now > kept {
			resumed = append(resumed, a)
		}
	}
	mu.Unlock()
	t.Logf("killed with %d of %d bytes on the server; PATCH offsets sent after the kill: %v; accepted by the restarted server (sent at → now): %v",
		kept, len(photo), after, resumed)
	if len(resumed) == 0 {
		t.Fatal("no PATCH accepted after the restart: the upload was not resumed")
	}
	for _, off := range after {
		if off <= 0 {
			t.Errorf("a PATCH after the kill sent from offset %d (all after it: %v): bytes re-sent from zero", off, after)
		}
	}
	if first := resumed[0].sent; first <= 0 || first > kept {
		t.Errorf("the restarted server first accepted a PATCH sent at %d; want one from the %d bytes it kept", first, kept)
	}

	// The server has the photo, whole.
	c := syncproto.NewClient(srv.url, uuid.Must(uuid.NewV7()).String())
	if _, err := c.Login(context.Background(), apptest.Inspector2, apptest.Passwords[apptest.Inspector2], "checker"); err != nil {
		t.Fatal(err)
	}
	var photoID string
	if _, err := c.PullAll(context.Background(), "", 500, func(r *syncproto.PullResponse) error {
		for _, ch := range r.Changes {
			var s string
			if ch.Entity == syncproto.EntityPhoto && json.Unmarshal(ch.Fields["sha256"], &s) == nil && s == want {
				photoID = ch.ID
				if string(ch.Fields["uploaded"]) != "true" {
					t.Errorf("photo %s: uploaded %s", ch.ID, ch.Fields["uploaded"])
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if photoID == "" {
		t.Fatal("no photo record with the file's SHA-256 on the server")
	}
	access, _ := c.Tokens()
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/v1/photos/"+photoID+"/original", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("original: %d %v", resp.StatusCode, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("the server's bytes hash to %s, want %s", got, want)
	}
	p.shot("app-upload-resumed.png")
}

package upload_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// nodeModules installs tus-js-client for the script (from package-lock.json)
// unless it is there already.
func nodeModules(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("testdata", "tusjs"))
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed for the tus-js-client test (.ci/run installs it): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tus-js-client")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return dir
}

// TestTusJSClientResumes: tus-js-client, the JavaScript reference client,
// uploads a photo, is interrupted half-way, resumes from the server's
// offset, and the photo ends up stored, verified and processed.
func TestTusJSClientResumes(t *testing.T) {
	dir := nodeModules(t)
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp, photo := uuid.NewString(), uuid.NewString()
	taken := time.Now()
	data := testimg.JPEG(testimg.Options{Width: 1200, Height: 900, Seed: 21, Time: &taken, Quality: 95})
	sum := apptest.SHA256(data)
	ms := []syncproto.Mutation{
		{Entity: "inspection", ID: insp, HLC: phone.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"site_id": jsonOf(apptest.DemoSite(t, "140902")), "template_id": jsonOf("coal_yard"), "template_version": jsonOf(1)}},
		{Entity: "photo", ID: photo, HLC: phone.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"inspection_id": jsonOf(insp), "sha256": jsonOf(sum), "content_type": jsonOf("image/jpeg")}},
	}
	if _, err := phone.Push(context.Background(), uuid.NewString(), ms); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	access, _ := phone.Tokens()
	cmd := exec.Command("node", filepath.Join(dir, "upload.js"), file)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TUS_ENDPOINT="+srv.URL+"/api/v1/uploads/", "TOKEN="+access, "PHOTO_ID="+photo, "SHA256="+sum)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("tus-js-client: %v\n%s", err, stderr)
	}
	var res struct {
		URL         string `json:"url"`
		AbortedAt   int    `json:"abortedAt"`
		ResumedFrom int    `json:"resumedFrom"`
		Bytes       int    `json:"bytes"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("script output %q: %v", out, err)
	}
	if res.AbortedAt == 0 || res.ResumedFrom < res.AbortedAt || res.ResumedFrom >= res.Bytes {
		t.Fatalf("the upload did not resume from where it stopped: %+v", res)
	}
	srv.App.Photos.WaitIdle()
	rec, _ := srv.App.DB.Get(context.Background(), "photo", photo)
	if rec.Text("processed_at") == "" || string(rec.Value("uploaded")) != "true" {
		t.Fatalf("photo after the tus-js-client upload: uploaded=%s processed_at=%q", rec.Value("uploaded"), rec.Text("processed_at"))
	}
	b, err := srv.App.Blobs.Open(context.Background(), sum, "original")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size() != int64(len(data)) {
		t.Fatalf("stored %d bytes, want %d", b.Size(), len(data))
	}
}

func jsonOf(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

package crashtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// bodySent is a transport that closes sent once the body of a push has
// been handed to the connection in full.
type bodySent struct {
	next http.RoundTripper
	once sync.Once
	sent chan struct{}
}

func (b *bodySent) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == syncproto.PathPush && req.Body != nil {
		req = req.Clone(req.Context())
		req.Body = &watchedBody{ReadCloser: req.Body, left: req.ContentLength, done: func() { b.once.Do(func() { close(b.sent) }) }}
	}
	return b.next.RoundTrip(req)
}

type watchedBody struct {
	io.ReadCloser
	left int64
	done func()
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	w.left -= int64(n)
	if err == io.EOF || w.left <= 0 {
		w.done()
	}
	return n, err
}

func newDevice(t *testing.T, url string, rt http.RoundTripper) *syncproto.Client {
	t.Helper()
	c := syncproto.NewClient(url, uuid.Must(uuid.NewV7()).String())
	c.HTTP = &http.Client{Timeout: time.Minute, Transport: rt}
	c.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	if _, err := c.Login(context.Background(), apptest.Inspector, apptest.Passwords[apptest.Inspector], "crash test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// pullAll returns every change the client sees, by "entity/id", failing
// the test if a record comes twice.
func pullAll(t *testing.T, c *syncproto.Client) map[string]syncproto.Change {
	t.Helper()
	seen := map[string]syncproto.Change{}
	if _, err := c.PullAll(context.Background(), "", 1000, func(p *syncproto.PullResponse) error {
		for _, ch := range p.Changes {
			k := ch.Entity + "/" + ch.ID
			if _, dup := seen[k]; dup {
				return fmt.Errorf("record %s pulled twice", k)
			}
			seen[k] = ch
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return seen
}

// TestKillDuringPush: the server is killed with SIGKILL right after an
// 800-mutation batch has been sent; after a restart on the same data the
// device sends the same batch again until it is answered. Every mutation
// is applied exactly once (a replay of the first delivery, or the first
// application), with its values, and the database is intact.
func TestKillDuringPush(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := startServer(t, dir)
	rt := &bodySent{next: &http.Transport{}, sent: make(chan struct{})}
	c := newDevice(t, srv.URL, rt)

	const n = 800
	batch := uuid.Must(uuid.NewV7()).String()
	muts := make([]syncproto.Mutation, n)
	plates := map[string]string{}
	for i := range muts {
		id := uuid.New().String() // v4, as some phones send
		plates[id] = fmt.Sprintf("晋H%05d", i)
		muts[i] = syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: id, HLC: c.Clock.Now().String(),
			Fields: map[string]json.RawMessage{"county": raw("140902"), "checkpoint": raw("忻府区北出口"), "plate": raw(plates[id]),
				"emission_stage": raw("国六"), "fuel": raw("柴油"), "aftertreatment": raw("present"),
				"checked_at": raw(time.Now().Format(time.RFC3339))}}
	}

	c.Attempts = 1
	first := make(chan error, 1)
	go func() { _, err := c.Push(ctx, batch, muts); first <- err }()
	<-rt.sent
	srv.kill(t)
	if err := <-first; err == nil {
		t.Log("the first delivery was answered before the kill")
	} else {
		t.Logf("first delivery cut off: %v", err)
	}

	srv = startServer(t, dir)
	c.BaseURL = srv.URL
	c.Attempts = 5
	var resp *syncproto.PushResponse
	for attempt := 0; resp == nil && attempt < 5; attempt++ {
		var err error
		if resp, err = c.Push(ctx, batch, muts); err != nil {
			t.Logf("retry %d: %v", attempt, err)
		}
	}
	if resp == nil {
		t.Fatal("the batch was never answered after the restart")
	}
	t.Logf("after restart: replayed=%v", resp.Replayed)
	checkAllApplied(t, resp, muts)
	again, err := c.Push(ctx, batch, muts)
	if err != nil || !again.Replayed {
		t.Fatalf("a further retry is not a replay: %v %+v", err, again)
	}
	checkAllApplied(t, again, muts)

	seen := pullAll(t, c)
	for _, m := range muts {
		ch, ok := seen[m.Entity+"/"+m.ID]
		if !ok {
			t.Fatalf("vehicle check %s lost", m.ID)
		}
		var plate string
		_ = json.Unmarshal(ch.Fields["plate"], &plate)
		if plate != plates[m.ID] || ch.HLCs["plate"] != m.HLC {
			t.Fatalf("vehicle check %s: plate %q hlc %s, want %q %s", m.ID, plate, ch.HLCs["plate"], plates[m.ID], m.HLC)
		}
	}
	srv.stop(t)
	db := integrityCheck(t, dir)
	for _, m := range muts[:20] {
		rec, err := db.Get(ctx, m.Entity, m.ID)
		if err != nil || string(rec.Value("plate")) != string(m.Fields["plate"]) {
			t.Fatalf("stored %s: %v", m.ID, err)
		}
	}
}

func checkAllApplied(t *testing.T, resp *syncproto.PushResponse, muts []syncproto.Mutation) {
	t.Helper()
	if len(resp.Results) != len(muts) {
		t.Fatalf("%d results for %d mutations", len(resp.Results), len(muts))
	}
	for i, r := range resp.Results {
		if r.ID != muts[i].ID || r.Status != syncproto.StatusApplied {
			t.Fatalf("result %d: %+v, want %s applied", i, r, muts[i].ID)
		}
	}
}

// TestKillDuringUpload: the server is killed with SIGKILL after some chunks
// of a photo were acknowledged; after a restart the device resumes its
// saved upload from the server's offset. The photo is stored once, under
// its SHA-256, and its record is marked uploaded; the database is intact.
func TestKillDuringUpload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := startServer(t, dir)
	c := newDevice(t, srv.URL, &http.Transport{})

	now := time.Now()
	data := testimg.JPEG(testimg.Options{Width: 1200, Height: 900, Seed: 42, Time: &now, Make: "HUAWEI", Model: "Mate 60"})
	sum := syncproto.SHA256Hex(data)
	const chunk = 4 << 10
	if len(data) < 6*chunk {
		t.Fatalf("test photo too small: %d bytes", len(data))
	}
	insp, photo := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	if _, err := c.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{
		{Entity: syncproto.EntityInspection, ID: insp, HLC: c.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"site_id": raw(apptest.DemoSite(t, "140902")), "template_id": raw("coal_yard"), "template_version": raw(1)}},
		{Entity: syncproto.EntityPhoto, ID: photo, HLC: c.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"inspection_id": raw(insp), "sha256": raw(sum), "content_type": raw("image/jpeg"), "size_bytes": raw(len(data))}},
	}); err != nil {
		t.Fatal(err)
	}

	// The app persists the Upload after every acknowledged chunk; the
	// server dies after the third.
	var saved syncproto.Upload
	u := &syncproto.Upload{PhotoID: photo, ContentType: "image/jpeg"}
	err := c.UploadPhoto(ctx, u, data, chunk, func(p *syncproto.Upload) {
		saved = *p
		if p.Offset >= 3*chunk {
			srv.kill(t)
		}
	})
	if err == nil || saved.Offset < 3*chunk || saved.URL == "" {
		t.Fatalf("upload not interrupted as arranged: %v %+v", err, saved)
	}
	killedAt := saved.Offset

	old := srv.URL
	srv = startServer(t, dir)
	c.BaseURL = srv.URL
	saved.URL = srv.URL + strings.TrimPrefix(saved.URL, old)
	resumedFrom := int64(-1)
	if err := c.UploadPhoto(ctx, &saved, data, chunk, func(p *syncproto.Upload) {
		if resumedFrom < 0 {
			resumedFrom = p.Offset - chunk
		}
	}); err != nil {
		t.Fatalf("resume: %v\n%s", err, srv.stderr)
	}
	if resumedFrom != killedAt {
		t.Fatalf("resumed from %d, want the %d bytes acknowledged before the kill", resumedFrom, killedAt)
	}

	ch, ok := pullAll(t, c)["photo/"+photo]
	if !ok || string(ch.Fields["uploaded"]) != "true" {
		t.Fatalf("photo record not marked uploaded: %+v", ch)
	}
	// SIGHUP (the terminal that started the server closed) stops it as
	// SIGTERM does: gracefully.
	srv.stopWith(t, syscall.SIGHUP)
	integrityCheck(t, dir)
	if n := blobCopies(t, filepath.Join(dir, "blobs"), sum); n != 1 {
		t.Fatalf("%d stored copies of the photo, want 1", n)
	}
}

// blobCopies counts the files under dir whose bytes hash to sum.
func blobCopies(t *testing.T, dir, sum string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) == sum {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKillKeepsTheClock: a device stamps a write two minutes ahead of the
// server (within the skew allowed); the server is killed with SIGKILL
// right after answering. Restarted, its clock is still after that write.
func TestKillKeepsTheClock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := startServer(t, dir)
	c := newDevice(t, srv.URL, &http.Transport{})
	c.Clock.SetOffset(2 * time.Minute)
	m := syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: uuid.Must(uuid.NewV7()).String(), HLC: c.Clock.Now().String(),
		Fields: map[string]json.RawMessage{"county": raw("140902"), "checkpoint": raw("忻府区北出口"), "plate": raw("晋H00001"),
			"emission_stage": raw("国六"), "fuel": raw("柴油"), "aftertreatment": raw("present"), "checked_at": raw(time.Now().Format(time.RFC3339))}}
	resp, err := c.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{m})
	if err != nil {
		t.Fatal(err)
	}
	checkAllApplied(t, resp, []syncproto.Mutation{m})
	srv.kill(t)

	srv = startServer(t, dir)
	defer srv.stop(t)
	res, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	got, err := syncproto.ParseHLC(res.Header.Get(syncproto.HeaderServerHLC))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := syncproto.ParseHLC(m.HLC); got.Compare(want) <= 0 {
		t.Fatalf("after kill -9 and restart the server's HLC %s is before the stored %s", got, want)
	}
}

package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// startCluster starts two fieldsync processes, A and B, each with its own
// data directory, on one PostgreSQL database and one S3 bucket (a real S3
// server over HTTP in this test process). A starts first and seeds; B
// starts on what A wrote.
func startCluster(t *testing.T) (a, b *server) {
	t.Helper()
	flags := []string{"--database", pgtest.NewDatabase(t), "--blobs", s3test.Start(t)}
	a = startServer(t, t.TempDir(), flags...)
	b = startServer(t, t.TempDir(), flags...)
	return a, b
}

// TestTwoServers: two stateless servers on one PostgreSQL and one S3 act
// as one. A device pushes to A and another pulls it from B; a token A
// issued works on B; a photo upload begun on A is finished on B and
// processed; the office approves on B and the phone on A sees it; A is
// killed with SIGKILL in the middle of a push, the device retries on B,
// and every mutation is applied exactly once.
func TestTwoServers(t *testing.T) {
	ctx := context.Background()
	a, b := startCluster(t)

	d1 := newDevice(t, a.URL, &http.Transport{})
	d2 := newDevice(t, b.URL, &http.Transport{})

	// Pushed to A, pulled from B.
	now := time.Now()
	data := testimg.JPEG(testimg.Options{Width: 1200, Height: 900, Seed: 7, Time: &now, Make: "HUAWEI", Model: "Mate 60"})
	sum := syncproto.SHA256Hex(data)
	insp, photo := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	if _, err := d1.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{
		{Entity: syncproto.EntityInspection, ID: insp, HLC: d1.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"site_id": raw(apptest.DemoSite(t, apptest.Xinfu)), "template_id": raw("coal_yard"), "template_version": raw(1),
			"status": raw("submitted")}},
		{Entity: syncproto.EntityPhoto, ID: photo, HLC: d1.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"inspection_id": raw(insp), "sha256": raw(sum), "content_type": raw("image/jpeg"), "size_bytes": raw(len(data))}},
	}); err != nil {
		t.Fatal(err)
	}
	onB := pullAll(t, d2)
	if ch, ok := onB["inspection/"+insp]; !ok || string(ch.Fields["status"]) != `"submitted"` {
		t.Fatalf("B does not serve the inspection pushed to A: %+v", ch)
	}

	// A phone 4 minutes fast pushes to A, whose clock follows it; B's
	// answers follow within its second of catching up with the database,
	// never staying minutes behind what A answered the phone.
	fast := newDevice(t, a.URL, &http.Transport{})
	fast.Clock.SetOffset(4 * time.Minute)
	pushed, err := fast.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{{Entity: syncproto.EntityInspection,
		ID: uuid.Must(uuid.NewV7()).String(), HLC: fast.Clock.Now().String(), Fields: map[string]json.RawMessage{
			"site_id": raw(apptest.DemoSite(t, apptest.Xinfu)), "template_id": raw("coal_yard"), "template_version": raw(1), "status": raw("draft")}}})
	if err != nil {
		t.Fatal(err)
	}
	onA, err := syncproto.ParseHLC(pushed.ServerHLC)
	if err != nil || onA.Wall < time.Now().Add(3*time.Minute).UnixMilli() {
		t.Fatalf("A's answer %q (%v) does not follow the fast phone", pushed.ServerHLC, err)
	}
	waitFor(t, "B's server HLC past A's", func() bool {
		res, err := http.Get(b.URL + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		h, err := syncproto.ParseHLC(res.Header.Get(syncproto.HeaderServerHLC))
		return err == nil && h.Compare(onA) > 0
	})

	// A's token on B (the signing keys are in the database).
	d1.BaseURL = b.URL
	if _, err := d1.Me(ctx); err != nil {
		t.Fatalf("a token issued by A is refused by B: %v", err)
	}
	d1.BaseURL = a.URL

	// An upload begun on A and finished on B.
	const chunk = 4 << 10
	upCtx, stop := context.WithCancel(ctx)
	var saved syncproto.Upload
	err = d1.UploadPhoto(upCtx, &syncproto.Upload{PhotoID: photo, ContentType: "image/jpeg"}, data, chunk, func(p *syncproto.Upload) {
		saved = *p
		if p.Offset >= 3*chunk {
			stop()
		}
	})
	stop()
	if err == nil || saved.Offset < 3*chunk || saved.URL == "" {
		t.Fatalf("upload on A not interrupted as arranged: %v %+v", err, saved)
	}
	begunOnA := saved.Offset
	saved.URL = b.URL + strings.TrimPrefix(saved.URL, a.URL)
	resumedFrom := int64(-1)
	d1.BaseURL = b.URL
	if err := d1.UploadPhoto(ctx, &saved, data, chunk, func(p *syncproto.Upload) {
		if resumedFrom < 0 {
			resumedFrom = p.Offset - chunk
		}
	}); err != nil {
		t.Fatalf("finish on B: %v\n%s", err, b.stderr)
	}
	if resumedFrom != begunOnA {
		t.Fatalf("B resumed the upload from %d, want the %d bytes A acknowledged", resumedFrom, begunOnA)
	}
	d1.BaseURL = a.URL
	// Either server serves the stored original, byte for byte.
	for _, s := range []*server{a, b} {
		if got := photoBytes(t, s.URL, d2, photo, "original"); string(got) != string(data) {
			t.Fatalf("%s serves %d bytes of the original, want the %d uploaded", s.URL, len(got), len(data))
		}
	}
	// The photo is processed by one of them: its thumbnail is served by both.
	waitFor(t, "the photo's thumbnail", func() bool {
		return len(photoBytes(t, a.URL, d1, photo, "thumbnail")) > 0
	})
	if len(photoBytes(t, b.URL, d2, photo, "thumbnail")) == 0 {
		t.Fatal("B does not serve the thumbnail A can serve")
	}

	// The office approves on B; the phone on A sees it.
	office := syncproto.NewClient(b.URL, uuid.Must(uuid.NewV7()).String())
	office.HTTP = &http.Client{Timeout: time.Minute}
	if _, err := office.Login(ctx, apptest.CountyOffice, apptest.Passwords[apptest.CountyOffice], "office"); err != nil {
		t.Fatal(err)
	}
	var reviewed syncproto.Change
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, &reviewed); err != nil {
		t.Fatalf("approve on B: %v", err)
	}
	if ch := pullAll(t, d1)["inspection/"+insp]; string(ch.Fields["status"]) != `"approved"` {
		t.Fatalf("the phone on A sees status %s, want approved", ch.Fields["status"])
	}

	// The same picture sent as evidence of two inspections, one through
	// each server at once: whichever was received second is flagged as a
	// duplicate of the other, and only it. (The servers share the lock
	// under which reuse is judged, photos.Config.LinkLock; this run does
	// not force the two judgements to overlap, so it checks the outcome,
	// not the lock.)
	dup := testimg.JPEG(testimg.Options{Width: 800, Height: 600, Seed: 11, Time: &now})
	var pair []string
	for _, d := range []*syncproto.Client{d1, d2} {
		in, ph := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
		if _, err := d.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{
			{Entity: syncproto.EntityInspection, ID: in, HLC: d.Clock.Now().String(), Fields: map[string]json.RawMessage{
				"site_id": raw(apptest.DemoSite(t, apptest.Xinfu)), "template_id": raw("coal_yard"), "template_version": raw(1)}},
			{Entity: syncproto.EntityPhoto, ID: ph, HLC: d.Clock.Now().String(), Fields: map[string]json.RawMessage{
				"inspection_id": raw(in), "sha256": raw(syncproto.SHA256Hex(dup)), "content_type": raw("image/jpeg"), "size_bytes": raw(len(dup))}},
		}); err != nil {
			t.Fatal(err)
		}
		pair = append(pair, ph)
	}
	var ups sync.WaitGroup
	upErr := make([]error, 2)
	for i, d := range []*syncproto.Client{d1, d2} {
		ups.Add(1)
		go func() {
			defer ups.Done()
			upErr[i] = d.UploadPhoto(ctx, &syncproto.Upload{PhotoID: pair[i], ContentType: "image/jpeg"}, dup, 0, nil)
		}()
	}
	ups.Wait()
	if upErr[0] != nil || upErr[1] != nil {
		t.Fatalf("uploads of the same picture: %v / %v", upErr[0], upErr[1])
	}
	// Processing gives way to syncing devices (for up to 30 s): wait on
	// the thumbnails, which no device request makes, and only then pull.
	waitFor(t, "both copies' thumbnails", func() bool {
		return len(photoBytes(t, a.URL, d1, pair[0], "thumbnail")) > 0 && len(photoBytes(t, a.URL, d2, pair[1], "thumbnail")) > 0
	})
	var flagged []string
	waitFor(t, "both copies processed", func() bool {
		seen := pullAll(t, d2)
		flagged = flagged[:0]
		for _, id := range pair {
			ch := seen["photo/"+id]
			if ch.Fields["processed_at"] == nil || string(ch.Fields["processed_at"]) == "null" {
				return false
			}
			var flags map[string]json.RawMessage
			_ = json.Unmarshal(ch.Fields["flags"], &flags)
			if _, ok := flags["duplicate"]; ok {
				flagged = append(flagged, id)
			}
		}
		return true
	})
	if len(flagged) != 1 {
		t.Fatalf("%d of the two copies flagged duplicate (%v), want exactly the later one", len(flagged), flagged)
	}

	// A dies in the middle of a push; the device retries on B.
	rt := &bodySent{next: &http.Transport{}, sent: make(chan struct{})}
	d3 := newDevice(t, a.URL, rt)
	muts := vehicleChecks(d3, 800, "A")
	batch := uuid.Must(uuid.NewV7()).String()
	d3.Attempts = 1
	first := make(chan error, 1)
	go func() { _, err := d3.Push(ctx, batch, muts); first <- err }()
	<-rt.sent
	a.kill(t)
	t.Logf("first delivery to A: %v", <-first)
	d3.BaseURL = b.URL
	var resp *syncproto.PushResponse
	for attempt := 0; resp == nil && attempt < 5; attempt++ {
		if resp, err = d3.Push(ctx, batch, muts); err != nil {
			t.Logf("retry %d on B: %v", attempt, err)
		}
	}
	if resp == nil {
		t.Fatal("B never answered the batch sent to A")
	}
	checkAllApplied(t, resp, muts)
	seen := pullAll(t, d2)
	for _, m := range muts {
		if ch, ok := seen[m.Entity+"/"+m.ID]; !ok || string(ch.Fields["plate"]) != string(m.Fields["plate"]) {
			t.Fatalf("vehicle check %s lost or changed: %+v", m.ID, ch)
		}
	}
}

// TestTwoServersFeed: devices push to A and to B as fast as they can while
// a third device pulls from A continuously; every record pushed reaches
// the puller exactly once (the change feed skips nothing another server
// committed, and repeats nothing).
func TestTwoServersFeed(t *testing.T) {
	ctx := context.Background()
	a, b := startCluster(t)
	puller := newDevice(t, a.URL, &http.Transport{})
	// The puller starts at the head of the feed: only what is pushed from
	// now on is counted.
	cursor, err := puller.PullAll(ctx, "", 1000, func(*syncproto.PullResponse) error { return nil })
	if err != nil {
		t.Fatal(err)
	}

	const rounds, perBatch = 15, 40
	want := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := make(chan struct{})
	pushErr := make(chan error, 2)
	for i, s := range []*server{a, b} {
		d := newDevice(t, s.URL, &http.Transport{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				muts := vehicleChecks(d, perBatch, fmt.Sprintf("%d%02d", i, r))
				mu.Lock()
				for _, m := range muts {
					want[m.ID] = true
				}
				mu.Unlock()
				if _, err := d.Push(ctx, uuid.Must(uuid.NewV7()).String(), muts); err != nil {
					pushErr <- err
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	got := map[string]int{}
	pull := func() {
		t.Helper()
		if cursor, err = puller.PullAll(ctx, cursor, 100, func(p *syncproto.PullResponse) error {
			for _, ch := range p.Changes {
				if ch.Entity == syncproto.EntityVehicleCheck {
					got[ch.ID]++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	pulls := 0
	for running := true; running; pulls++ {
		select {
		case <-done:
			running = false
		case err := <-pushErr:
			t.Fatal(err)
		default:
		}
		pull()
	}
	pull() // after the last commit
	t.Logf("%d records pushed through two servers, %d pulls from A", len(want), pulls)
	if len(want) != 2*rounds*perBatch {
		t.Fatalf("%d records pushed, want %d", len(want), 2*rounds*perBatch)
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("record %s pulled %d times, want once", id, got[id])
		}
	}
	for id, n := range got {
		if !want[id] {
			t.Errorf("record %s pulled (%d times) but never pushed", id, n)
		}
	}
}

// vehicleChecks makes n new roadside checks in 忻府区 stamped by c's clock.
func vehicleChecks(c *syncproto.Client, n int, tag string) []syncproto.Mutation {
	muts := make([]syncproto.Mutation, n)
	for i := range muts {
		muts[i] = syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: uuid.New().String(), HLC: c.Clock.Now().String(),
			Fields: map[string]json.RawMessage{"county": raw(apptest.Xinfu), "checkpoint": raw("忻府区北出口"),
				"plate": raw(plateOf(tag, i)), "emission_stage": raw("国六"), "fuel": raw("柴油"),
				"aftertreatment": raw("present"), "checked_at": raw(time.Now().Format(time.RFC3339))}}
	}
	return muts
}

// plateOf is a plate of a plate's form (server.Plate) told apart by tag
// and i: a letter for the tag, five digits for i.
func plateOf(tag string, i int) string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ" // no I or O
	h := 0
	for _, r := range tag {
		h = h*31 + int(r)
	}
	return fmt.Sprintf("晋%c%05d", letters[(h%len(letters)+len(letters))%len(letters)], i%100000)
}

// photoBytes fetches a variant of a photo from a server with c's token (nil
// when the server has none yet).
func photoBytes(t *testing.T, base string, c *syncproto.Client, photo, variant string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/photos/"+photo+"/"+variant, nil)
	if err != nil {
		t.Fatal(err)
	}
	access, _ := c.Tokens()
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return body
}

// waitFor polls cond a bounded number of times (background work on another
// process has no event the test can wait on).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range 600 {
		if cond() {
			return
		}
		<-tick.C
	}
	t.Fatalf("%s never came", what)
}

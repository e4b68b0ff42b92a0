package device_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/device"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// newDevice opens a device in a temporary directory and signs it in as
// user; it has not synced yet.
func newDevice(t *testing.T, srv *apptest.Server, user string) *device.Device {
	t.Helper()
	d, err := device.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	d.HTTP = srv.HTTPClient()
	d.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	if _, err := d.Login(t.Context(), srv.URL, user, apptest.Passwords[user]); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return d
}

func mustSync(t *testing.T, d *device.Device) {
	t.Helper()
	if err := d.Sync(t.Context()); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

func status(t *testing.T, d *device.Device) *device.Status {
	t.Helper()
	s, err := d.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serverCount counts the server's records of entity whose field is value.
func serverCount(t *testing.T, srv *apptest.Server, entity, field, value string) int {
	t.Helper()
	recs, err := srv.App.DB.Find(t.Context(), entity, field, value)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func answerOf(t *testing.T, d *device.Device, insp, item string) string {
	t.Helper()
	r, err := d.Record(t.Context(), syncproto.EntityInspection, insp)
	if err != nil {
		t.Fatal(err)
	}
	return string(r.Fields["answers."+item])
}

// TestOfflineEditsTwoDevices: two inspectors edit one inspection offline;
// after both sync (and sync again) both devices hold the same answers:
// different fields both kept, the same field won by the later HLC.
func TestOfflineEditsTwoDevices(t *testing.T) {
	srv := apptest.Start(t)
	a, b := newDevice(t, srv, apptest.Inspector), newDevice(t, srv, apptest.Inspector2)
	mustSync(t, a)
	site := apptest.DemoSite(t, "140902")
	insp, err := a.StartInspection(t.Context(), site, "")
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	mustSync(t, b)
	if err := b.UseInspection(t.Context(), insp); err != nil {
		t.Fatalf("device b did not pull the inspection: %v", err)
	}
	answer := func(d *device.Device, item, result, note string) {
		t.Helper()
		if _, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: item, Value: result, Note: note}); err != nil {
			t.Fatal(err)
		}
	}
	// Offline: different fields, and one field on both (b later).
	answer(a, "fence", "pass", "甲")
	answer(b, "material_cover", "na", "乙")
	answer(a, "road_paving", "pass", "甲先")
	answer(b, "road_paving", "na", "乙后")
	ra, _ := a.Record(t.Context(), syncproto.EntityInspection, insp)
	rb, _ := b.Record(t.Context(), syncproto.EntityInspection, insp)
	winner := string(ra.Fields["answers.road_paving"])
	if rb.HLCs["answers.road_paving"] > ra.HLCs["answers.road_paving"] {
		winner = string(rb.Fields["answers.road_paving"])
	}
	mustSync(t, a)
	mustSync(t, b)
	mustSync(t, a)
	for _, item := range []string{"fence", "material_cover", "road_paving"} {
		if ga, gb := answerOf(t, a, insp, item), answerOf(t, b, insp, item); ga != gb || ga == "" {
			t.Errorf("answers.%s: device a %s, device b %s", item, ga, gb)
		}
	}
	if got := answerOf(t, a, insp, "road_paving"); got != winner {
		t.Errorf("answers.road_paving = %s, want the later write %s", got, winner)
	}
	rec, err := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(rec.Value("answers.road_paving")); got != winner {
		t.Errorf("server answers.road_paving = %s, want %s", got, winner)
	}
	for _, d := range []*device.Device{a, b} {
		if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 {
			t.Errorf("outbox %d, rejected %+v", s.Outbox, s.Rejected)
		}
	}
}

// TestOfficeReturnUnlocks: a submitted inspection is locked on the device;
// an office's return reaches it on the next sync, shows in status, and
// unlocks it for editing and a new submit.
func TestOfficeReturnUnlocks(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	insp, err := d.StartInspection(t.Context(), apptest.DemoSite(t, "140902"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "fence", Value: "pass"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Submit(t.Context(), insp, true); err != nil { // only the fence answered
		t.Fatal(err)
	}
	mustSync(t, d)
	if _, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "fence", Value: "fail"}); !errors.Is(err, device.ErrLocked) {
		t.Fatalf("editing a submitted inspection: %v, want ErrLocked", err)
	}
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+insp+"/review",
		map[string]string{"decision": "return", "comment": "围挡照片不清晰，请补拍。"}, nil); err != nil {
		t.Fatal(err)
	}
	// Another inspector's inspection of the county, approved: the device
	// pulls it, but its status lists the user's own reviews only.
	other := newDevice(t, srv, apptest.Inspector2)
	mustSync(t, other)
	theirs, err := other.StartInspection(t.Context(), apptest.DemoSite(t, "140902"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Submit(t.Context(), theirs, true); err != nil {
		t.Fatal(err)
	}
	mustSync(t, other)
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+theirs+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if _, err := d.Record(t.Context(), syncproto.EntityInspection, theirs); err != nil {
		t.Fatalf("the county's other inspection was not pulled: %v", err)
	}
	s := status(t, d)
	if len(s.Reviews) != 1 || s.Reviews[0].Status != "returned" || s.Reviews[0].Comment != "围挡照片不清晰，请补拍。" {
		t.Fatalf("review did not come back: %+v", s.Reviews)
	}
	if _, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "fence", Value: "pass", Note: "已补拍"}); err != nil {
		t.Fatalf("returned inspection still locked: %v", err)
	}
	first, _ := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	// Resubmitted later (the phone's clock a minute and a half on): the
	// visit's end stays that of the first submission.
	d.Clock().SetOffset(90 * time.Second)
	if err := d.Submit(t.Context(), insp, true); err != nil { // only the fence answered
		t.Fatal(err)
	}
	mustSync(t, d)
	rec, _ := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	if got := string(rec.Value("status")); got != `"submitted"` {
		t.Fatalf("server status %s after re-submit", got)
	}
	if was, got := first.Text("finished_at"), rec.Text("finished_at"); was == "" || got != was {
		t.Errorf("finished_at %q after the resubmission, want the first submission's %q (the visit's end)", got, was)
	}
	if !strings.Contains(string(rec.Value("answers.fence")), "已补拍") {
		t.Fatalf("edit after return lost: %s", rec.Value("answers.fence"))
	}
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 {
		t.Fatalf("outbox %d rejected %+v", s.Outbox, s.Rejected)
	}
}

// TestRevokedDeviceKeepsOutbox: a revoked device's sync fails with
// device_revoked and its unsent work stays in the outbox.
func TestRevokedDeviceKeepsOutbox(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	if _, err := d.AddVehicle(t.Context(), device.Vehicle{Plate: "晋H12345", Checkpoint: "忻州北收费站", Stage: "国六", Fuel: "天然气", Aftertreatment: "removed", Action: "处罚"}); err != nil {
		t.Fatal(err)
	}
	admin := srv.Login(apptest.Admin)
	if err := admin.Do(t.Context(), http.MethodPost, "/api/v1/devices/"+d.ID()+"/revoke", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := d.Sync(t.Context())
	if syncproto.ErrorCodeOf(err) != syncproto.CodeDeviceRevoked || !strings.Contains(err.Error(), "device_revoked") {
		t.Fatalf("sync of a revoked device: %v", err)
	}
	if s := status(t, d); s.Outbox != 1 {
		t.Fatalf("outbox %d after revocation, want 1 kept", s.Outbox)
	}
	if n := serverCount(t, srv, syncproto.EntityVehicleCheck, "plate", "晋H12345"); n != 0 {
		t.Fatalf("server has %d checks from a revoked device", n)
	}
}

// TestScopeChangeKeepsUnsentWork: a new county in the user's scope makes
// the server ask for a resync; the device pushes its outbox, pulls from the
// start and gets the new county's sites.
func TestScopeChangeKeepsUnsentWork(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	if _, err := d.AddVehicle(t.Context(), device.Vehicle{Plate: "晋H54321", Checkpoint: "忻州北收费站", Stage: "国六", Fuel: "天然气", Aftertreatment: "present"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.App.DB.SetUserCounties(t.Context(), apptest.Inspector, []string{"140902", "140925"}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	d.Out = &out
	mustSync(t, d)
	if !strings.Contains(out.String(), "从头同步") {
		t.Errorf("no resync in the progress lines:\n%s", out.String())
	}
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 {
		t.Fatalf("outbox %d rejected %+v", s.Outbox, s.Rejected)
	}
	if n := serverCount(t, srv, syncproto.EntityVehicleCheck, "plate", "晋H54321"); n != 1 {
		t.Fatalf("server has %d checks, want 1", n)
	}
	sites, err := d.Sites(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range sites {
		seen[s.County] = true
	}
	if !seen["140925"] || !seen["140902"] {
		t.Fatalf("sites after the scope change cover %v", seen)
	}
}

// dropPushResponse sends the push to the server, then loses the answer
// and kills the sync (as if the app died while waiting).
type dropPushResponse struct {
	next   http.RoundTripper
	cancel context.CancelFunc
}

func (t *dropPushResponse) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, syncproto.PathPush) {
		resp.Body.Close()
		t.cancel()
		return nil, context.Canceled
	}
	return resp, err
}

// unavailablePush answers the next n pushes itself, as a server does whose
// storage is full or that is busy: 503 with Retry-After and the server's
// JSON error.
type unavailablePush struct {
	next    http.RoundTripper
	n       int
	retry   string
	code    string
	message string
}

func (t *unavailablePush) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, syncproto.PathPush) || t.n == 0 {
		return t.next.RoundTrip(r)
	}
	t.n--
	body, _ := json.Marshal(syncproto.ErrorBody{Code: t.code, Message: t.message})
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Request: r, Body: io.NopCloser(bytes.NewReader(body)),
		Header: http.Header{"Retry-After": {t.retry}, "Content-Type": {"application/json"}}}, nil
}

// TestBusyOrFullServer: a sync told to wait a little (503 server_busy,
// Retry-After 2) says so on its progress lines and tries again; one told
// to wait a minute (503, the server's storage full) stops at once with the
// server's message, its work kept for the next sync, rather than sit
// silent for the six tries' five minutes.
func TestBusyOrFullServer(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	// A county code the reference data lacks is refused at once; a known
	// one is the server's to judge.
	if _, err := d.AddVehicle(ctx, device.Vehicle{County: "999999", Plate: "晋H66600", Checkpoint: "忻州北收费站"}); err == nil || !strings.Contains(err.Error(), "未知的区县代码") {
		t.Fatalf("a check in county 999999: %v, want it refused", err)
	}
	var waits []time.Duration
	d.Sleep = func(ctx context.Context, w time.Duration) error { waits = append(waits, w); return ctx.Err() }
	var out strings.Builder
	d.Out = &out
	if _, err := d.AddVehicle(ctx, device.Vehicle{Plate: "晋H66601", Checkpoint: "忻州北收费站", Stage: "国六", Fuel: "天然气", Aftertreatment: "present"}); err != nil {
		t.Fatal(err)
	}
	d.HTTP = &http.Client{Transport: &unavailablePush{next: srv.HTTPClient().Transport, n: 100, retry: "60",
		code: syncproto.CodeUnavailable, message: "服务器存储空间已满，本次未保存；数据仍在手机上，稍后会自动重试"}}
	err := d.Sync(ctx)
	if err == nil || !strings.Contains(err.Error(), "存储空间已满") || len(waits) != 0 {
		t.Fatalf("a sync against a full server: %v after waits %v, want its message at once", err, waits)
	}
	if s := status(t, d); s.Outbox != 1 {
		t.Fatalf("the check left the outbox: %d", s.Outbox)
	}
	d.HTTP = &http.Client{Transport: &unavailablePush{next: srv.HTTPClient().Transport, n: 1, retry: "2",
		code: syncproto.CodeServerBusy, message: "服务器繁忙，请稍后重试"}}
	mustSync(t, d)
	if !slices.Contains(waits, 2*time.Second) || !strings.Contains(out.String(), "服务器暂时无法处理（服务器繁忙，请稍后重试），2 秒后重试（第 2/6 次）") {
		t.Fatalf("a busy server's wait (%v) not said:\n%s", waits, out.String())
	}
	if n := serverCount(t, srv, syncproto.EntityVehicleCheck, "plate", "晋H66601"); n != 1 || status(t, d).Outbox != 0 {
		t.Fatalf("after the busy server took it: %d on the server, outbox %d", n, status(t, d).Outbox)
	}
}

// TestKilledMidSync: a sync killed after its push reached the server but
// before the answer was read, and one killed after the first pull page,
// both complete on the next sync with everything applied once.
func TestKilledMidSync(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	d.PageLimit = 10
	mustSync(t, d)
	site := apptest.DemoSite(t, "140902")
	insp, err := d.StartInspection(t.Context(), site, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range []string{"fence", "material_cover", "road_paving"} {
		if _, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: item, Value: "pass"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.AddVehicle(t.Context(), device.Vehicle{Plate: "晋H00001", Checkpoint: "忻州北", Stage: "国六", Fuel: "天然气", Aftertreatment: "removed"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	d.HTTP = &http.Client{Transport: &dropPushResponse{next: srv.HTTPClient().Transport, cancel: cancel}}
	if err := d.Sync(ctx); err == nil {
		t.Fatal("sync with a lost push answer succeeded")
	}
	if s := status(t, d); s.Outbox != 5 {
		t.Fatalf("outbox %d after a lost answer, want all 5 kept", s.Outbox)
	}
	d.HTTP = srv.HTTPClient()

	// Second kill: after the first pull page is stored.
	ctx, cancel = context.WithCancel(t.Context())
	pages := 0
	d.OnEvent = func(e device.Event) {
		if e.Kind == device.EventPullPage {
			if pages++; pages == 1 {
				cancel()
			}
		}
	}
	_ = srv.App.DB.SetUserCounties(t.Context(), apptest.Inspector, []string{"140902", "140925"}) // a full pull of several pages
	if err := d.Sync(ctx); err == nil {
		t.Fatal("sync killed after a pull page succeeded")
	}
	mustSync(t, d) // the hook cancels only the first sync's context
	if pages < 2 {
		t.Fatalf("the pull resumed in %d pages; the test needs several", pages)
	}
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 {
		t.Fatalf("outbox %d rejected %+v", s.Outbox, s.Rejected)
	}
	if n := serverCount(t, srv, syncproto.EntityInspection, "site_id", site); n != 1 {
		t.Fatalf("server has %d inspections, want 1", n)
	}
	if n := serverCount(t, srv, syncproto.EntityVehicleCheck, "plate", "晋H00001"); n != 1 {
		t.Fatalf("server has %d vehicle checks, want 1", n)
	}
	rec, _ := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	for _, item := range []string{"fence", "material_cover", "road_paving"} {
		if rec.Value("answers."+item) == nil {
			t.Errorf("answers.%s missing on the server", item)
		}
	}
	sites, _ := d.Sites(t.Context(), "")
	if len(sites) < 12 {
		t.Fatalf("only %d sites after the interrupted pull resumed", len(sites))
	}
}

// TestPhotoUploadResumes: an answer with a photo makes a photo record and
// an upload; a sync interrupted mid-upload resumes from the server's
// offset on the next sync, and the server stores and verifies the photo —
// the device's own copy of it, whatever became of the file it was taken
// from.
func TestPhotoUploadResumes(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	d.ChunkSize = 4096
	mustSync(t, d)
	insp, err := d.StartInspection(t.Context(), apptest.DemoSite(t, "140902"), "")
	if err != nil {
		t.Fatal(err)
	}
	data := testimg.JPEG(testimg.Options{Width: 800, Height: 600, Seed: 9})
	path := filepath.Join(t.TempDir(), "fence.jpg")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "fence", Value: "pass", Photo: path})
	photo := res.PhotoID
	if err != nil || photo == "" {
		t.Fatalf("answer with photo: %q %v", photo, err)
	}
	// The file the photo was taken from is written over (a camera that
	// reuses its name) and then deleted: the device kept its own copy.
	if err := os.WriteFile(path, testimg.JPEG(testimg.Options{Width: 640, Height: 480, Seed: 10}), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	ctx, cancel := context.WithCancel(t.Context())
	var stoppedAt int64
	d.OnEvent = func(e device.Event) {
		if e.Kind == device.EventUpload && e.Offset >= int64(len(data)/3) && stoppedAt == 0 {
			stoppedAt = e.Offset
			cancel()
		}
	}
	if err := d.Sync(ctx); err == nil {
		t.Fatal("interrupted sync succeeded")
	}
	s := status(t, d)
	if s.Outbox != 0 || len(s.Uploads) != 1 || s.Uploads[0].Offset < stoppedAt {
		t.Fatalf("after interruption: outbox %d uploads %+v (stopped at %d)", s.Outbox, s.Uploads, stoppedAt)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	var first int64 = -1
	d.OnEvent = func(e device.Event) {
		if e.Kind == device.EventUpload && first < 0 {
			first = e.Offset
		}
	}
	mustSync(t, d)
	if first <= stoppedAt-4096 || first <= 0 {
		t.Fatalf("upload restarted at %d, not resumed from %d", first, stoppedAt)
	}
	if s := status(t, d); len(s.Uploads) != 0 {
		t.Fatalf("uploads pending after sync: %+v", s.Uploads)
	}
	srv.App.Photos.WaitIdle()
	rec, err := srv.App.DB.Get(t.Context(), syncproto.EntityPhoto, photo)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.Value("uploaded")) != "true" || string(rec.Value("sha256")) != `"`+syncproto.SHA256Hex(data)+`"` {
		t.Fatalf("photo on server: uploaded %s sha %s", rec.Value("uploaded"), rec.Value("sha256"))
	}
	mustSync(t, d)
	local, _ := d.Record(t.Context(), syncproto.EntityPhoto, photo)
	if string(local.Fields["uploaded"]) != "true" {
		t.Fatalf("device did not learn the photo was uploaded: %s", local.Fields["uploaded"])
	}
}

// TestPhotosPurgedAfterUpload: the copy of a photo kept in the data
// directory is removed once the server has had it for KeepPhotosFor (the
// pull said uploaded), as the SDK's purgeOriginals does; not before, and
// not a photo still to upload (fieldctl probe: the directory held every
// photo ever taken).
func TestPhotosPurgedAfterUpload(t *testing.T) {
	_, d, insp := coalYardVisit(t)
	dir := t.TempDir()
	photo := func(seed uint64) string {
		t.Helper()
		path := filepath.Join(dir, fmt.Sprint(seed, ".jpg"))
		if err := os.WriteFile(path, testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: seed}), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "closed_shed", Value: "pass", Photo: path})
		if err != nil {
			t.Fatal(err)
		}
		return res.PhotoID
	}
	kept := func() int {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(d.Dir(), "photos", "*"))
		if err != nil {
			t.Fatal(err)
		}
		return len(files)
	}
	photo(1)
	mustSync(t, d) // uploaded; the record says so at the next pull
	mustSync(t, d)
	if n := kept(); n != 1 {
		t.Fatalf("within a week of its upload: %d copies kept, want 1", n)
	}
	d.KeepPhotosFor = time.Nanosecond
	photo(2)
	mustSync(t, d) // the first one goes; the second is uploaded now, not known uploaded yet
	if n := kept(); n != 1 {
		t.Fatalf("after the first photo's time: %d copies kept, want the second's", n)
	}
	mustSync(t, d)
	if n := kept(); n != 0 {
		t.Fatalf("both uploaded and known so: %d copies kept", n)
	}
	if s := status(t, d); s.Outbox != 0 || len(s.Uploads) != 0 {
		t.Fatalf("outbox %d uploads %+v", s.Outbox, s.Uploads)
	}
}

// coalYardVisit starts a server and a synced device of the demo
// inspector, with a coal-yard inspection started at a factory of 忻府区.
func coalYardVisit(t *testing.T) (*apptest.Server, *device.Device, string) {
	t.Helper()
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	insp, err := d.StartInspection(t.Context(), apptest.DemoSiteOf(t, "140902", "factory"), "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	return srv, d, insp
}

// TestFailOpensFinding: a fail of an item with finding_on_fail opens one
// finding (not a second on a repeated fail), pushed after its inspection.
func TestFailOpensFinding(t *testing.T) {
	srv, d, insp := coalYardVisit(t)
	tests := []struct {
		item, result string
		wantFinding  bool
	}{
		{"closed_shed", "fail", true},
		{"closed_shed", "fail", false}, // already open
		{"shed_status", "built", false},
	}
	for _, tc := range tests {
		res, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: tc.item, Value: tc.result, Note: "料棚未封闭"})
		f := res.FindingID
		if err != nil || (f != "") != tc.wantFinding {
			t.Fatalf("%s %s: finding %q err %v", tc.item, tc.result, f, err)
		}
	}
	mustSync(t, d)
	if n := serverCount(t, srv, syncproto.EntityFinding, "inspection_id", insp); n != 1 {
		t.Fatalf("server has %d findings, want 1", n)
	}
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 {
		t.Fatalf("outbox %d rejected %+v", s.Outbox, s.Rejected)
	}
}

// TestFindingFollowsAnswer: the finding of a failed item follows the
// answer, as the field app's does: a new note changes its description,
// and an answer that no longer fails (a fail typed by mistake) withdraws
// it — on the server too, where it stayed open to be rectified (fieldctl
// probe). Failed again, a new one is opened.
func TestFindingFollowsAnswer(t *testing.T) {
	srv, d, insp := coalYardVisit(t)
	answer := func(value, note string) device.AnswerResult {
		t.Helper()
		res, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "closed_shed", Value: value, Note: note})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	onServer := func(id string) *server.StoredRecord {
		t.Helper()
		mustSync(t, d)
		r, err := srv.App.DB.Get(t.Context(), syncproto.EntityFinding, id)
		if err != nil || r == nil {
			t.Fatalf("finding %s on the server: %v %v", id, r, err)
		}
		return r
	}
	first := answer("fail", "东侧敞开")
	if first.FindingID == "" {
		t.Fatal("a fail opened no finding")
	}
	if got := answer("fail", "东侧敞开约20米"); got.FindingID != "" || got.FindingChanged != first.FindingID {
		t.Fatalf("a new note: %+v, want the finding %s changed", got, first.FindingID)
	}
	if r := onServer(first.FindingID); !strings.HasSuffix(r.Text("description"), "。东侧敞开约20米") {
		t.Errorf("the finding's description on the server: %q", r.Text("description"))
	}
	if got := answer("pass", "误填，已更正"); got.FindingDropped != first.FindingID {
		t.Fatalf("corrected to pass: %+v, want the finding %s withdrawn", got, first.FindingID)
	}
	if r := onServer(first.FindingID); !r.State.IsDeleted() {
		t.Errorf("the finding of an item corrected to pass stays on the server: %+v", r.State)
	}
	again := answer("fail", "又发现")
	if again.FindingID == "" || again.FindingID == first.FindingID {
		t.Fatalf("failed again: %+v, want a new finding", again)
	}
	mustSync(t, d)
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 {
		t.Fatalf("outbox %d rejected %+v", s.Outbox, s.Rejected)
	}
}

// TestChoiceFailFollowsOption: a choice item whose options describe a
// violation (roadside_truck@2's catalyst: 损坏, 已拆除) opens its finding
// when one of them is chosen, typed as the option's label or value — its
// description names the option —, follows another failing option, and is
// withdrawn by an option that does not fail. The newest version of the
// checklist is the one started; the server lists the item as failed.
func TestChoiceFailFollowsOption(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	insp, err := d.StartInspection(t.Context(), apptest.DemoSiteOf(t, "140902", "checkpoint"), "roadside_truck")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(value string) device.AnswerResult {
		t.Helper()
		res, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "twc", Value: value})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	description := func(id string) string {
		t.Helper()
		r, err := d.Record(t.Context(), syncproto.EntityFinding, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Str("description")
	}
	// What the item takes names the options that fail.
	if _, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "twc", Value: "坏了"}); err == nil ||
		!strings.Contains(err.Error(), "present（完好）、damaged（损坏，不合格）、removed（已拆除，不合格）、unknown（未查明）") {
		t.Errorf("an answer that is no option: %v", err)
	}
	first := answer("已拆除")
	if first.FindingID == "" || description(first.FindingID) != "三元催化器（燃气车）：已拆除" {
		t.Fatalf("已拆除: %+v", first)
	}
	if got := answer("damaged"); got.FindingChanged != first.FindingID || description(first.FindingID) != "三元催化器（燃气车）：损坏" {
		t.Fatalf("损坏: %+v, description %q", got, description(first.FindingID))
	}
	mustSync(t, d)
	r, err := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	if err != nil || r == nil {
		t.Fatal(err)
	}
	if v, failed := string(r.Value("template_version")), string(r.Value("failed_items")); v != "2" || failed != `["twc"]` {
		t.Errorf("on the server: template_version %s, failed_items %s", v, failed)
	}
	if got := answer("完好"); got.FindingDropped != first.FindingID {
		t.Fatalf("完好: %+v, want the finding %s withdrawn", got, first.FindingID)
	}
}

// TestClockSkewRestamps: a device whose clock runs an hour fast has its
// mutations refused with clock_skew; it corrects its clock, re-stamps them
// into a new batch and they are applied, with sane HLCs locally.
func TestClockSkewRestamps(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	d.Clock().SetOffset(time.Hour)
	d.BatchSize = 1 // the answer waits outside the refused batch: re-stamped too
	insp, err := d.StartInspection(t.Context(), apptest.DemoSite(t, "140902"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: "fence", Value: "pass"}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	d.Out = &out
	mustSync(t, d)
	if !strings.Contains(out.String(), "被拒绝 1") {
		t.Errorf("no clock_skew rejection in the progress lines:\n%s", out.String())
	}
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 {
		t.Fatalf("outbox %d rejected %+v", s.Outbox, s.Rejected)
	}
	rec, err := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	if err != nil {
		t.Fatalf("inspection not on the server: %v", err)
	}
	local, _ := d.Record(t.Context(), syncproto.EntityInspection, insp)
	for _, f := range []string{"site_id", "answers.fence"} {
		h, _ := syncproto.ParseHLC(local.HLCs[f])
		if time.Until(h.Time()) > 5*time.Minute || local.HLCs[f] != rec.State.Fields[f].HLC.String() {
			t.Fatalf("%s: local HLC %s, server %s", f, local.HLCs[f], rec.State.Fields[f].HLC)
		}
	}
}

// TestRestoredServerGetsLostWorkAgain: a server restored from a backup
// made before some of a device's pushes (its photos' bytes lost with it)
// answers 410; the device pulls from the start — here interrupted once
// and resumed — and then sends again, in the same sync, every value it
// wrote that the server no longer holds, and the photo's bytes. Another
// device of the county then sees everything; nothing is sent twice.
func TestRestoredServerGetsLostWorkAgain(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	d := newDevice(t, srv, apptest.Inspector)
	d.PageLimit = 20
	mustSync(t, d)
	site := apptest.DemoSiteOf(t, "140902", "factory")
	kept, err := d.StartInspection(ctx, site, "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AnswerItem(ctx, kept, device.Answer{Item: "shed_status", Value: "built"}); err != nil {
		t.Fatal(err)
	}
	// Submitted before the backup; the office approves it after.
	reviewed, err := d.StartInspection(ctx, site, "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Submit(ctx, reviewed, true); err != nil {
		t.Fatal(err)
	}
	// A photo whose record the backup holds but not its bytes: the
	// backup is made between the push of its record and its upload.
	early := filepath.Join(t.TempDir(), "early.jpg")
	if err := os.WriteFile(early, testimg.JPEG(testimg.Options{Width: 640, Height: 480, Seed: 22}), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := d.AnswerItem(ctx, kept, device.Answer{Item: "closed_shed", Value: "pass", Photo: early})
	earlyPhoto := res.PhotoID
	if err != nil || earlyPhoto == "" {
		t.Fatalf("answer with a photo: %q %v", earlyPhoto, err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	d.OnEvent = func(e device.Event) {
		if e.Kind != device.EventPushDone || d.OnEvent == nil {
			return
		}
		d.OnEvent = nil
		if err := srv.App.DB.(interface {
			Backup(context.Context, string) error
		}).Backup(ctx, backup); err != nil {
			t.Error(err)
		}
	}
	mustSync(t, d)
	if d.OnEvent != nil {
		t.Fatal("no backup was made")
	}
	if rec, err := srv.App.DB.Get(ctx, syncproto.EntityPhoto, earlyPhoto); err != nil || string(rec.Value("uploaded")) != "true" {
		t.Fatalf("the early photo's bytes before the restore: %v", err)
	}
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+reviewed+"/review", map[string]string{"decision": "approve", "comment": "备份后通过"}, nil); err != nil {
		t.Fatal(err)
	}

	// After the backup: an edit, a new inspection with a finding and a
	// photo, a roadside check.
	if _, err := d.AnswerItem(ctx, kept, device.Answer{Item: "shed_status", Value: "under_construction", Note: "备份后修改"}); err != nil {
		t.Fatal(err)
	}
	lost, err := d.StartInspection(ctx, site, "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	data := testimg.JPEG(testimg.Options{Width: 640, Height: 480, Seed: 21})
	path := filepath.Join(t.TempDir(), "shed.jpg")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = d.AnswerItem(ctx, lost, device.Answer{Item: "closed_shed", Value: "fail", Note: "备份后发现", Photo: path})
	photo, finding := res.PhotoID, res.FindingID
	if err != nil || photo == "" || finding == "" {
		t.Fatalf("fail with a photo: photo %q finding %q %v", photo, finding, err)
	}
	// Submitted too: sent again, the inspection goes before its finding.
	if err := d.Submit(ctx, lost, true); err != nil {
		t.Fatal(err)
	}
	check, err := d.AddVehicle(ctx, device.Vehicle{Plate: "晋H77777", Checkpoint: "忻州北收费站", Stage: "国六", Fuel: "天然气", Aftertreatment: "present"})
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	srv.App.Photos.WaitIdle()
	if r, _ := d.Record(ctx, syncproto.EntityInspection, reviewed); r.Str("status") != "approved" {
		t.Fatalf("the approval did not reach the device: %s", r.Str("status"))
	}
	reviewRecs, err := srv.App.DB.Find(ctx, syncproto.EntityReview, "inspection_id", reviewed)
	if err != nil || len(reviewRecs) != 1 {
		t.Fatalf("the review record: %v %v", reviewRecs, err)
	}
	reviewID := reviewRecs[0].ID
	if _, err := d.Record(ctx, syncproto.EntityReview, reviewID); err != nil {
		t.Fatalf("the review record did not reach the device: %v", err)
	}
	// Made and submitted after the backup, approved, and the approval
	// pulled: the server restored holds neither the submission nor the
	// approval, which had replaced it on the device (operator probe: the
	// server had a draft and the phone an approval, for good).
	lateReviewed, err := d.StartInspection(ctx, site, "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Submit(ctx, lateReviewed, true); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+lateReviewed+"/review", map[string]string{"decision": "approve", "comment": "备份后提交并通过"}, nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if r, _ := d.Record(ctx, syncproto.EntityInspection, lateReviewed); r.Str("status") != "approved" {
		t.Fatalf("the approval of the inspection made after the backup did not reach the device: %s", r.Str("status"))
	}

	// Restored: the database from the backup, the photos' directory as
	// it was then (empty).
	srv = restored(t, srv, backup)
	if n := serverCount(t, srv, syncproto.EntityVehicleCheck, "plate", "晋H77777"); n != 0 {
		t.Fatalf("the restored server has the check made after its backup (%d)", n)
	}

	// The pull from the start, interrupted after its second page ...
	var out strings.Builder
	d.Out = &out
	interrupted, pages := t.Context(), 0
	interrupted, cancel := context.WithCancel(interrupted)
	d.OnEvent = func(e device.Event) {
		if e.Kind == device.EventPullPage {
			if pages++; pages == 2 {
				cancel()
			}
		}
	}
	if err := d.Sync(interrupted); err == nil {
		t.Fatal("the interrupted sync succeeded")
	}
	d.OnEvent = nil
	// ... and resumed: what the server lost goes back in the same sync.
	mustSync(t, d)
	if !strings.Contains(out.String(), "从头同步") || !strings.Contains(out.String(), "重新上传") {
		t.Errorf("progress lines lack the resync and the sending again:\n%s", out.String())
	}
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 || len(s.Uploads) != 0 {
		t.Fatalf("after the sync: outbox %d, rejected %+v, uploads %+v", s.Outbox, s.Rejected, s.Uploads)
	}
	srv.App.Photos.WaitIdle()
	// The approval the restored server lacks is gone from the device
	// too: the inspection waits for review again, as the office's queue
	// shows it, with the device's own values kept.
	if r, _ := d.Record(ctx, syncproto.EntityInspection, reviewed); r.Str("status") != "submitted" || r.Str("review_comment") != "" || r.Str("site_id") != site {
		t.Errorf("after the restore the device shows the inspection %s, %q (site %s), want submitted as the server has it", r.Str("status"), r.Str("review_comment"), r.Str("site_id"))
	}
	if _, err := d.Record(ctx, syncproto.EntityReview, reviewID); err == nil {
		t.Error("the review record the restored server lacks is still on the device")
	}
	// The submission made after the backup is sent again: submitted on
	// both sides, in the office's queue again; no word of the lost
	// approval on the device.
	if r, _ := d.Record(ctx, syncproto.EntityInspection, lateReviewed); r.Str("status") != "submitted" || r.Str("review_comment") != "" || r.Str("reviewer_id") != "" {
		t.Errorf("after the restore the device shows the inspection submitted after the backup %s, %q, want submitted", r.Str("status"), r.Str("review_comment"))
	}
	if rec, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, lateReviewed); err != nil || rec == nil {
		t.Errorf("after the restore the server lacks the inspection submitted after the backup: %v", err)
	} else if rec.Text("status") != "submitted" {
		t.Errorf("after the restore the server holds the inspection submitted after the backup as %q, want submitted", rec.Text("status"))
	}

	// As another device of the county sees the server now.
	other := newDevice(t, srv, apptest.Inspector2)
	mustSync(t, other)
	if got := answerOf(t, other, kept, "shed_status"); !strings.Contains(got, "备份后修改") {
		t.Errorf("the edit made after the backup: %s", got)
	}
	if got := answerOf(t, other, lost, "closed_shed"); !strings.Contains(got, "备份后发现") {
		t.Errorf("the inspection made after the backup: %s", got)
	}
	for entity, id := range map[string]string{syncproto.EntityFinding: finding, syncproto.EntityVehicleCheck: check, syncproto.EntityPhoto: photo} {
		if _, err := other.Record(ctx, entity, id); err != nil {
			t.Errorf("%s made after the backup: %v", entity, err)
		}
	}
	for _, id := range []string{photo, earlyPhoto} {
		rec, err := srv.App.DB.Get(ctx, syncproto.EntityPhoto, id)
		if err != nil || string(rec.Value("uploaded")) != "true" {
			t.Fatalf("photo %s's bytes on the restored server: %v", id, err)
		}
	}
	if ok, err := srv.App.Blobs.Has(ctx, syncproto.SHA256Hex(data), "original"); err != nil || !ok {
		t.Fatalf("the photo's bytes are not in the store: %v %v", ok, err)
	}

	// Nothing left to send, nothing sent twice.
	out.Reset()
	mustSync(t, d)
	if strings.Contains(out.String(), "上传") {
		t.Errorf("a sync after the recovery sent something:\n%s", out.String())
	}
	if n := serverCount(t, srv, syncproto.EntityVehicleCheck, "plate", "晋H77777"); n != 1 {
		t.Errorf("the server has %d checks, want 1", n)
	}
}

// TestLoginAsAnotherUser: the server binds a device to its first user; a
// sign-in as another on the same data directory says to use a new one.
func TestLoginAsAnotherUser(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	_, err := d.Login(t.Context(), srv.URL, apptest.Inspector2, apptest.Passwords[apptest.Inspector2])
	if syncproto.ErrorCodeOf(err) != syncproto.CodeConflict || !strings.Contains(err.Error(), "--dir") || !strings.Contains(err.Error(), apptest.Inspector) {
		t.Fatalf("signing in as another user on the same directory: %v", err)
	}
}

// TestOneProcessADirectory: a data directory is one device's, used by one
// fieldctl at a time: a second Open is refused while the first holds it,
// and succeeds once it is closed.
func TestOneProcessADirectory(t *testing.T) {
	dir := t.TempDir()
	d, err := device.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := device.Open(dir); err == nil || !strings.Contains(err.Error(), "另一个 fieldctl") {
		t.Fatalf("a second Open of the directory: %v, want it refused", err)
	}
	id := d.ID()
	d.Close()
	again, err := device.Open(dir)
	if err != nil || again.ID() != id {
		t.Fatalf("Open after Close: %v (id %s, was %s)", err, again.ID(), id)
	}
	again.Close()
}

// TestRefusedNotResentAfterResync: a change the server refused
// (record_locked: another device had submitted the inspection) stays
// refused — a pull from the start (the user's scope changed) does not take
// it for work the server lost and send it again.
func TestRefusedNotResentAfterResync(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	a, b := newDevice(t, srv, apptest.Inspector), newDevice(t, srv, apptest.Inspector2)
	mustSync(t, a)
	insp, err := a.StartInspection(ctx, apptest.DemoSite(t, "140902"), "")
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	mustSync(t, b)
	if err := a.Submit(ctx, insp, true); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	// b edits the draft it has; the server has it submitted.
	if _, err := b.AnswerItem(ctx, insp, device.Answer{Item: "fence", Value: "pass", Note: "b 的修改"}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, b)
	if s := status(t, b); len(s.Rejected) != 1 || s.Rejected[0].Code != syncproto.CodeRecordLocked {
		t.Fatalf("b's edit of a submitted inspection: %+v", s.Rejected)
	}
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector2, []string{"140902", "140925"}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	b.Out = &out
	mustSync(t, b)
	if !strings.Contains(out.String(), "从头同步") || strings.Contains(out.String(), "重新上传") {
		t.Errorf("the resync's lines:\n%s", out.String())
	}
	if s := status(t, b); s.Outbox != 0 || len(s.Rejected) != 1 {
		t.Errorf("after the resync: outbox %d, rejected %+v — the refused edit was sent again", s.Outbox, s.Rejected)
	}
}

// TestNarrowedScopeKeepsRefusedWork: work made in a county the user then
// loses is refused out_of_scope at the next sync; the pull from the start
// the scope change asks for does not take the refused records off the
// device with the county's other records: they stay, with their refusals,
// for the user to act on (sync.md 6: keep the data).
func TestNarrowedScopeKeepsRefusedWork(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector2, []string{apptest.Xinfu, apptest.Dingxiang}); err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, srv, apptest.Inspector2)
	mustSync(t, d)
	site := apptest.DemoSiteOf(t, apptest.Dingxiang, "factory")
	insp, err := d.StartInspection(ctx, site, "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AnswerItem(ctx, insp, device.Answer{Item: "shed_status", Value: "built", Note: "定襄县的检查"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector2, []string{apptest.Xinfu}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	s := status(t, d)
	if len(s.Rejected) == 0 || s.Rejected[0].Code != syncproto.CodeOutOfScope {
		t.Fatalf("the work in the county taken away: rejected %+v, want out_of_scope", s.Rejected)
	}
	if got := answerOf(t, d, insp, "shed_status"); !strings.Contains(got, "定襄县的检查") {
		t.Errorf("the refused inspection left the device with the county's records: answer %q", got)
	}
	if _, err := d.Record(ctx, syncproto.EntitySite, site); err == nil {
		t.Error("the county's site, nothing of this device's, stayed on the device")
	}
}

// restored stops srv and starts it again on the same address from the
// database backup (its photos' directory as it was then: empty).
func restored(t *testing.T, srv *apptest.Server, backup string) *apptest.Server {
	t.Helper()
	cfg := srv.App.Cfg
	cfg.Addr = strings.TrimPrefix(srv.URL, "http://")
	srv.Stop()
	for _, f := range []string{"", "-wal", "-shm"} {
		os.Remove(cfg.DBPath() + f)
	}
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.DBPath(), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(cfg.DataDir, "blobs")); err != nil {
		t.Fatal(err)
	}
	return apptest.StartConfig(t, cfg)
}

// TestRestoredServerTakesRefusalsBack: work on an inspection made after
// the backup, done before the device learns of the restore, is pushed
// first and refused for what the restored server lacks (the photo's
// inspection unknown_reference, the answer's record missing_field); the
// pull's 410 then sends the inspection again, and those changes with it,
// off the failed list (SDK probe: the photo stayed refused).
func TestRestoredServerTakesRefusalsBack(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := srv.App.DB.(interface {
		Backup(context.Context, string) error
	}).Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	insp, err := d.StartInspection(ctx, apptest.DemoSiteOf(t, "140902", "factory"), "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	srv = restored(t, srv, backup)

	path := filepath.Join(t.TempDir(), "shed.jpg")
	if err := os.WriteFile(path, testimg.JPEG(testimg.Options{Width: 640, Height: 480, Seed: 23}), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := d.AnswerItem(ctx, insp, device.Answer{Item: "closed_shed", Value: "pass", Note: "恢复后拍照", Photo: path})
	if err != nil || res.PhotoID == "" {
		t.Fatalf("answer with a photo: %+v %v", res, err)
	}
	mustSync(t, d)
	if s := status(t, d); s.Outbox != 0 || len(s.Rejected) != 0 || len(s.Uploads) != 0 {
		t.Fatalf("after the sync: outbox %d, rejected %+v, uploads %+v", s.Outbox, s.Rejected, s.Uploads)
	}
	photo, err := srv.App.DB.Get(ctx, syncproto.EntityPhoto, res.PhotoID)
	if err != nil || photo == nil || string(photo.Value("uploaded")) != "true" {
		t.Fatalf("the photo on the restored server: %v %v", photo, err)
	}
	rec, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp)
	if err != nil || rec == nil || !strings.Contains(string(rec.Value("answers.closed_shed")), "恢复后拍照") {
		t.Fatalf("the inspection on the restored server: %v %v", rec, err)
	}
}

// TestReapplyAfterScopeRestored: work refused out_of_scope while the
// user's county was taken away — an answer, its finding and photo, a
// roadside check — reaches the server, whole and once, when the county is
// given back and the refused changes are made again (fieldctl reapply):
// it stayed refused on the phone for good, the photo's bytes uploaded for
// nothing.
func TestReapplyAfterScopeRestored(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	d := newDevice(t, srv, apptest.Inspector2)
	mustSync(t, d)
	site := apptest.DemoSiteOf(t, apptest.Xinfu, "factory")
	insp, err := d.StartInspection(ctx, site, "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	path := filepath.Join(t.TempDir(), "cover.jpg")
	if err := os.WriteFile(path, testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 21}), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := d.AnswerItem(ctx, insp, device.Answer{Item: "no_open_piles", Value: "fail", Note: "未苫盖", Photo: path})
	if err != nil || res.FindingID == "" || res.PhotoID == "" {
		t.Fatalf("answer: %+v %v", res, err)
	}
	check, err := d.AddVehicle(ctx, device.Vehicle{Plate: "晋H11111", Checkpoint: "豆罗检查站", Stage: "国六", Fuel: "天然气", Aftertreatment: "present"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector2, []string{apptest.Dingxiang}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if s := status(t, d); len(s.Rejected) < 4 {
		t.Fatalf("after the county was taken away: rejected %+v, want the answer, finding, photo and check", s.Rejected)
	}
	if _, err := d.Reapply(ctx, []string{"00000000-0000-4000-8000-000000000000"}); err == nil {
		t.Error("reapply of an id with no refused change: no error")
	}
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector2, []string{apptest.Xinfu, apptest.Dingxiang}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d) // the pull from the start a scope change asks for
	n, err := d.Reapply(ctx, nil)
	if err != nil || n < 4 {
		t.Fatalf("reapply: %d, %v", n, err)
	}
	mustSync(t, d)
	if s := status(t, d); len(s.Rejected) != 0 || s.Outbox != 0 || len(s.Uploads) != 0 {
		t.Fatalf("after reapply and sync: rejected %+v, outbox %d, uploads %+v", s.Rejected, s.Outbox, s.Uploads)
	}
	for entity, id := range map[string]string{syncproto.EntityFinding: res.FindingID, syncproto.EntityVehicleCheck: check, syncproto.EntityPhoto: res.PhotoID} {
		r, err := srv.App.DB.Get(ctx, entity, id)
		if err != nil || r == nil {
			t.Fatalf("%s %s not on the server after reapply: %v", entity, id, err)
		}
		if entity == syncproto.EntityPhoto && !r.Uploaded() {
			t.Errorf("the photo's record arrived without its bytes")
		}
	}
	r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp)
	if err != nil || !strings.Contains(string(r.Value("answers.no_open_piles")), "fail") {
		t.Errorf("the answer is not on the server: %s %v", r.Value("answers.no_open_piles"), err)
	}
	// Once: another sync sends nothing again.
	mustSync(t, d)
	if s := status(t, d); s.Outbox != 0 {
		t.Errorf("outbox %d after a second sync", s.Outbox)
	}
}

// TestReinstatedDeviceSendsItsWork: a phone revoked by mistake keeps the
// work it could not send; reinstated, it signs in again (the tokens it
// held stay ended) and the work reaches the server, once.
func TestReinstatedDeviceSendsItsWork(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	check, err := d.AddVehicle(ctx, device.Vehicle{Plate: "晋H61616", Checkpoint: "忻州北收费站", Stage: "国六", Fuel: "天然气", Aftertreatment: "present"})
	if err != nil {
		t.Fatal(err)
	}
	// A disabled account is said to be the account, not the phone
	// (admin probe).
	if err := srv.App.DB.SetUserDisabled(ctx, apptest.Inspector, true); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx); syncproto.ErrorCodeOf(err) != syncproto.CodeUserDisabled || !strings.Contains(err.Error(), "您的账号已被停用") {
		t.Errorf("sync of a disabled user's phone: %v, want user_disabled saying the account is", err)
	}
	if err := srv.App.DB.SetUserDisabled(ctx, apptest.Inspector, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Login(ctx, srv.URL, apptest.Inspector, apptest.Passwords[apptest.Inspector]); err != nil {
		t.Fatalf("sign in again once enabled: %v", err)
	}
	if err := srv.App.DB.RevokeDevice(ctx, d.ID(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx); syncproto.ErrorCodeOf(err) != syncproto.CodeDeviceRevoked || !strings.Contains(err.Error(), "本设备已被停用") {
		t.Fatalf("sync of a revoked phone: %v, want device_revoked saying the device is", err)
	}
	if err := srv.App.DB.ReinstateDevice(ctx, d.ID(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx); syncproto.ErrorCodeOf(err) != syncproto.CodeTokenInvalid {
		t.Fatalf("sync of a reinstated phone with the tokens it held: %v, want token_invalid (sign in again)", err)
	}
	if _, err := d.Login(ctx, srv.URL, apptest.Inspector, apptest.Passwords[apptest.Inspector]); err != nil {
		t.Fatalf("sign in on the reinstated phone: %v", err)
	}
	mustSync(t, d)
	if n := serverCount(t, srv, syncproto.EntityVehicleCheck, "plate", "晋H61616"); n != 1 {
		t.Errorf("the check the phone kept: %d on the server, want 1", n)
	}
	if _, err := d.Record(ctx, syncproto.EntityVehicleCheck, check); err != nil {
		t.Error(err)
	}
}

// TestReapplyKeepsLaterValues: a change refused out_of_scope, made again
// after the inspector changed the same answer since (and the later one
// reached the server), does not take the answer back to the refused
// value: the later value stays, on the device and on the server.
func TestReapplyKeepsLaterValues(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	d := newDevice(t, srv, apptest.Inspector2)
	mustSync(t, d)
	insp, err := d.StartInspection(ctx, apptest.DemoSiteOf(t, apptest.Xinfu, "factory"), "coal_yard")
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector2, []string{apptest.Dingxiang}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AnswerItem(ctx, insp, device.Answer{Item: "no_open_piles", Value: "fail", Note: "旧的"}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if s := status(t, d); len(s.Rejected) == 0 {
		t.Fatal("the answer made out of scope was not refused")
	}
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector2, []string{apptest.Xinfu}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if _, err := d.AnswerItem(ctx, insp, device.Answer{Item: "no_open_piles", Value: "pass", Note: "新的"}); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if _, err := d.Reapply(ctx, nil); err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp)
	if err != nil || !strings.Contains(string(r.Value("answers.no_open_piles")), "pass") {
		t.Errorf("the answer on the server after reapply: %s (%v), want the later pass", r.Value("answers.no_open_piles"), err)
	}
	if got := answerOf(t, d, insp, "no_open_piles"); !strings.Contains(got, "新的") {
		t.Errorf("the answer on the device after reapply: %q, want the later one", got)
	}
	if s := status(t, d); len(s.Rejected) != 0 || s.Outbox != 0 {
		t.Errorf("after reapply and sync: rejected %+v, outbox %d", s.Rejected, s.Outbox)
	}
}

// TestNewInspectionOnNewestChecklist: once a newer version of a checklist
// is pulled, a new inspection is made on it, whether the checklist is
// named or found by the site's kind (fieldctl took the first, the oldest:
// the retired form, without the items added since — catalogue probe);
// id@version still names an older one. A site the office retired takes no
// new inspection, and is listed as retired.
func TestNewInspectionOnNewestChecklist(t *testing.T) {
	srv := apptest.Start(t)
	ctx := t.Context()
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(set.Templates, func(tp seeds.Template) bool { return tp.ID == "construction_dust" })
	v2 := set.Templates[i]
	v2.Version = 2
	v2.Items = append(slices.Clone(v2.Items), syncproto.ChecklistItem{Key: "fog_cannon", Label: "雾炮开启", Type: "pass_fail", Required: true})
	if _, err := server.LoadReference(ctx, srv.App.Syncer, &seeds.Set{Templates: []seeds.Template{v2}}); err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	site := apptest.DemoSite(t, "140902")
	for _, named := range []string{"", "construction_dust", "construction_dust@1"} {
		insp, err := d.StartInspection(ctx, site, named)
		if err != nil {
			t.Fatalf("start with %q: %v", named, err)
		}
		r, err := d.Record(ctx, syncproto.EntityInspection, insp)
		if err != nil {
			t.Fatal(err)
		}
		want := "2"
		if named == "construction_dust@1" {
			want = "1"
		}
		if got := string(r.Fields["template_version"]); got != want {
			t.Errorf("started with %q on version %s, want %s", named, got, want)
		}
	}

	err = srv.App.DB.Update(ctx, func(tx server.WriteTx) error {
		return srv.App.Syncer.Upsert(ctx, tx, syncproto.EntitySite, site, "140902", map[string]any{"active": false})
	})
	if err != nil {
		t.Fatal(err)
	}
	mustSync(t, d)
	if _, err := d.StartInspection(ctx, site, ""); err == nil || !strings.Contains(err.Error(), "已被督查停用") {
		t.Errorf("an inspection started at a retired site: %v", err)
	}
	sites, err := d.Sites(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(sites, func(s device.Site) bool { return s.ID == site }); i < 0 || !sites[i].Retired {
		t.Errorf("the retired site listed %+v", sites)
	}
}

// TestVerdictContradicted: on loose_coal@3 a stove 仍在使用 with 该户无散煤
// 燃烧 answered 合格 is refused at submit, naming the contradiction; the
// verdict answered 不合格 raises the finding and the contradiction is
// gone, as the server and the field app count it (sync.md 9.2).
func TestVerdictContradicted(t *testing.T) {
	srv := apptest.Start(t)
	d := newDevice(t, srv, apptest.Inspector)
	mustSync(t, d)
	insp, err := d.StartInspection(t.Context(), apptest.DemoSiteOf(t, "140902", "coal_ban_village"), "loose_coal")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(item, value string) device.AnswerResult {
		t.Helper()
		res, err := d.AnswerItem(t.Context(), insp, device.Answer{Item: item, Value: value})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	reasons := func() []string {
		t.Helper()
		var inc *device.IncompleteError
		if err := d.Submit(t.Context(), insp, false); !errors.As(err, &inc) {
			t.Fatalf("submit: %v, want an incomplete inspection", err)
		}
		return inc.Reasons("no_household_coal_burning")
	}
	answer("coal_stove", "in_use")
	if res := answer("no_household_coal_burning", "pass"); res.FindingID != "" {
		t.Errorf("合格 raised finding %s", res.FindingID)
	}
	const contradiction = "与 coal_stove 燃煤炉具 的答案矛盾，应判为不合格"
	if got := reasons(); !slices.Contains(got, contradiction) {
		t.Errorf("reasons %q, want %q among them", got, contradiction)
	}
	if res := answer("no_household_coal_burning", "fail"); res.FindingID == "" {
		t.Error("不合格 raised no finding")
	}
	if got := reasons(); slices.Contains(got, contradiction) {
		t.Errorf("after 不合格, reasons %q", got)
	}
}

package upload_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// phone is a signed-in device with an inspection of its own to attach
// photos to.
type phone struct {
	srv  *apptest.Server
	c    *syncproto.Client
	tus  *apptest.Tus
	insp string
}

func newPhone(t *testing.T, srv *apptest.Server, user, county string) *phone {
	t.Helper()
	p := &phone{srv: srv, c: srv.Login(user), insp: newID()}
	p.tus = srv.Tus(p.c)
	apptest.PushApplied(t, p.c, apptest.Mut(p.c, syncproto.EntityInspection, p.insp, apptest.Fields(
		"site_id", apptest.DemoSite(t, county), "template_id", "coal_yard", "template_version", 1)))
	return p
}

// record pushes a photo record of data under id and returns id.
func (p *phone) record(t *testing.T, id string, data []byte) string {
	t.Helper()
	apptest.PushApplied(t, p.c, apptest.Mut(p.c, syncproto.EntityPhoto, id, apptest.Fields(
		"inspection_id", p.insp, "sha256", apptest.SHA256(data), "content_type", "image/jpeg", "size_bytes", len(data))))
	return id
}

// begun pushes a photo record of data and creates its upload, and
// returns the record's id and the upload's location.
func (p *phone) begun(t *testing.T, data []byte) (id, loc string) {
	t.Helper()
	id = p.record(t, newID(), data)
	c := p.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
	if c.Status != http.StatusCreated {
		t.Fatalf("create: %d %+v", c.Status, c.Err)
	}
	return id, c.Header.Get("Location")
}

// pulled returns the photo's fields as p's pull shows them.
func (p *phone) pulled(t *testing.T, id string) map[string]json.RawMessage {
	t.Helper()
	var fields map[string]json.RawMessage
	_, err := p.c.PullAll(context.Background(), "", 0, func(r *syncproto.PullResponse) error {
		for _, ch := range r.Changes {
			if ch.Entity == syncproto.EntityPhoto && ch.ID == id {
				fields = ch.Fields
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if fields == nil {
		t.Fatalf("photo %s is not in the pull", id)
	}
	return fields
}

// get fetches a variant of a photo as p and returns the status, the error
// code and the body of a success.
func (p *phone) get(t *testing.T, id, variant string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/v1/photos/"+id+"/"+variant, nil)
	access, _ := p.c.Tokens()
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := p.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		var e syncproto.ErrorBody
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e.Code, nil
	}
	return resp.StatusCode, "", b
}

// servedType fetches a photo's original as p: the status and the type it
// is served as.
func (p *phone) servedType(t *testing.T, id string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/api/v1/photos/"+id+"/original", nil)
	access, _ := p.c.Tokens()
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := p.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Content-Type")
}

// wantNotServed checks that p's pull shows photo id not uploaded and not
// processed (nothing read from bytes it never sent), and that no variant
// of it is served.
func (p *phone) wantNotServed(t *testing.T, id, who string) {
	t.Helper()
	f := p.pulled(t, id)
	if string(f["uploaded"]) == "true" {
		t.Errorf("%s: photo %s shows uploaded: true without its own upload", who, id)
	}
	for _, field := range []string{"processed_at", "exif", "width", "lon_wgs84"} {
		if v, ok := f[field]; ok && string(v) != "null" {
			t.Errorf("%s: photo %s shows %s = %s, read from bytes it never sent", who, id, field, v)
		}
	}
	for _, v := range []string{"original", "preview", "thumbnail"} {
		if status, code, _ := p.get(t, id, v); status != http.StatusNotFound || code != syncproto.CodeNotReady {
			t.Errorf("%s: GET %s/%s: %d %s, want 404 not_ready", who, id, v, status, code)
		}
	}
}

// wantServed checks that photo id is uploaded and its original is data.
func (p *phone) wantServed(t *testing.T, id string, data []byte, who string) {
	t.Helper()
	if f := p.pulled(t, id); string(f["uploaded"]) != "true" || f["processed_at"] == nil {
		t.Errorf("%s: photo %s after its own upload: uploaded=%s processed_at=%s", who, id, f["uploaded"], f["processed_at"])
	}
	if status, _, body := p.get(t, id, "original"); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("%s: GET %s/original: %d, %d bytes, want 200 with the uploaded bytes", who, id, status, len(body))
	}
	if status, code, _ := p.get(t, id, "thumbnail"); status != http.StatusOK {
		t.Errorf("%s: GET %s/thumbnail: %d %s, want 200", who, id, status, code)
	}
}

var siteXinfu = geo.Point{Lon: 112.7350, Lat: 38.4150}

func evidenceJPEG(seed uint64) []byte {
	taken := time.Now().Add(-time.Hour)
	return testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: seed, Time: &taken, GPS: &siteXinfu})
}

// TestHashAloneReadsNothing (issue 9): another county's inspector who
// knows a photo's SHA-256 pushes records declaring it — one before the
// owner uploads, one after. Neither counts as uploaded, neither shows
// anything read from the bytes, and no variant is served to them, until
// their own device uploads the bytes; that upload then completes
// normally (the stored blob is reused) and the record is served.
func TestHashAloneReadsNothing(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	other := newPhone(t, srv, apptest.NingwuInsp, apptest.Ningwu)
	data := evidenceJPEG(31)

	before := other.record(t, newID(), data) // declared before the bytes exist
	p1 := owner.record(t, newID(), data)
	owner.tus.Upload(p1, "image/jpeg", data, http.StatusNoContent)
	after := other.record(t, newID(), data) // declared once the bytes are stored
	srv.App.Photos.WaitIdle()

	owner.wantServed(t, p1, data, "owner")
	for _, id := range []string{before, after} {
		other.wantNotServed(t, id, "other county")
	}

	other.tus.Upload(after, "image/jpeg", data, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	other.wantServed(t, after, data, "other county after its upload")
	other.wantNotServed(t, before, "other county, record still without upload")
}

// TestSameCountyReuseNeedsItsOwnUpload: the rule is per record, not per
// county or per user: a colleague's record declaring bytes already stored
// is not uploaded (not even for the owner of the bytes) until the
// colleague's device uploads them.
func TestSameCountyReuseNeedsItsOwnUpload(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	colleague := newPhone(t, srv, apptest.Inspector2, apptest.Xinfu)
	data := evidenceJPEG(32)
	p1 := owner.record(t, newID(), data)
	owner.tus.Upload(p1, "image/jpeg", data, http.StatusNoContent)
	p2 := colleague.record(t, newID(), data)
	srv.App.Photos.WaitIdle()

	colleague.wantNotServed(t, p2, "colleague")
	owner.wantNotServed(t, p2, "owner of the bytes, colleague's record")

	colleague.tus.Upload(p2, "image/jpeg", data, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	colleague.wantServed(t, p2, data, "colleague after its upload")
	owner.wantServed(t, p1, data, "owner")
}

// TestOnlyItsOwnDeviceUploads (DESIGN.md: "a record counts as uploaded
// only once its own device has sent the bytes"): a colleague of the same
// county, and the same inspector on a second phone, holding the very bytes
// of a record they did not create, are refused its upload (403 forbidden,
// at creation, and at the end for an upload begun before the record
// arrived); the record stays not uploaded until its own device sends them.
func TestOnlyItsOwnDeviceUploads(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	others := map[string]*phone{
		"colleague":            newPhone(t, srv, apptest.Inspector2, apptest.Xinfu),
		"owner's second phone": newPhone(t, srv, apptest.Inspector, apptest.Xinfu),
	}
	for who, other := range others {
		data := evidenceJPEG(35)
		id := owner.record(t, newID(), data)
		if r := other.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data)); r.Status != http.StatusForbidden || r.Err.Code != syncproto.CodeForbidden ||
			r.Header.Get("Content-Type") != "application/json" { // as every other endpoint's error
			t.Errorf("%s creates the upload of the owner's record: %d %+v %q, want 403 forbidden in application/json", who, r.Status, r.Err, r.Header.Get("Content-Type"))
		}

		// Begun before the record arrived, finished after.
		late, more := newID(), evidenceJPEG(36)
		c := other.tus.Create(late, apptest.SHA256(more), "image/jpeg", len(more))
		if c.Status != http.StatusCreated {
			t.Fatalf("%s: create upload: %d %+v", who, c.Status, c.Err)
		}
		owner.record(t, late, more)
		if r := other.tus.Patch(c.Header.Get("Location"), 0, more); r.Status != http.StatusForbidden || r.Err.Code != syncproto.CodeForbidden {
			t.Errorf("%s finishes an upload of the owner's record: %d %+v, want 403 forbidden", who, r.Status, r.Err)
		}
		srv.App.Photos.WaitIdle()
		owner.wantNotServed(t, id, who+"'s attempt")
		owner.wantNotServed(t, late, who+"'s late upload")

		// The owner's upload under way is its device's alone: to the
		// other it does not exist, whatever it asks of it.
		mine := owner.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
		if mine.Status != http.StatusCreated {
			t.Fatalf("the owner's upload: %d %+v", mine.Status, mine.Err)
		}
		loc := mine.Header.Get("Location")
		if r := owner.tus.Patch(loc, 0, data[:100]); r.Status != http.StatusNoContent {
			t.Fatalf("the owner's first chunk: %d %+v", r.Status, r.Err)
		}
		for _, r := range []apptest.Response{other.tus.Head(loc), other.tus.Patch(loc, 100, data[100:]),
			other.tus.Do(http.MethodDelete, loc, nil, map[string]string{"Tus-Resumable": "1.0.0"})} {
			if r.Status != http.StatusNotFound {
				t.Errorf("%s on the owner's upload: %d %+v, want 404", who, r.Status, r.Err)
			}
		}
		if r := owner.tus.Head(loc); r.Status != http.StatusOK || r.Header.Get("Upload-Offset") != "100" {
			t.Errorf("the owner's upload after %s's attempts: %d offset %q, want 200 at 100", who, r.Status, r.Header.Get("Upload-Offset"))
		}
		if r := owner.tus.Patch(loc, 100, data[100:]); r.Status != http.StatusNoContent {
			t.Fatalf("the owner finishes its upload: %d %+v", r.Status, r.Err)
		}
		owner.tus.Upload(late, "image/jpeg", more, http.StatusNoContent)
		srv.App.Photos.WaitIdle()
		owner.wantServed(t, id, data, "its own device, after "+who)
		owner.wantServed(t, late, more, "its own device, after "+who+"'s late upload")
	}
}

// TestUploadBeforeRecord: bytes uploaded for a photo id before its record
// is pushed count for that record when the same device pushes it with
// that hash — but not for a record another user, or the same user's other
// phone, pushes under that id, nor for another id declaring the hash.
func TestUploadBeforeRecord(t *testing.T) {
	srv := apptest.Start(t)
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	b := newPhone(t, srv, apptest.Inspector2, apptest.Xinfu)
	a2 := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)

	data := evidenceJPEG(33)
	mine := newID()
	a.tus.Upload(mine, "image/jpeg", data, http.StatusNoContent)
	a.record(t, mine, data)
	otherID := b.record(t, newID(), data)
	srv.App.Photos.WaitIdle()
	a.wantServed(t, mine, data, "same device, bytes first")
	b.wantNotServed(t, otherID, "another id declaring the hash")

	for i, uploader := range []*phone{b, a2} {
		taken := newID() // uploader uploads for an id; a pushes the record of that id
		more := evidenceJPEG(34 + uint64(i)*10)
		uploader.tus.Upload(taken, "image/jpeg", more, http.StatusNoContent)
		a.record(t, taken, more)
		srv.App.Photos.WaitIdle()
		a.wantNotServed(t, taken, []string{"record pushed by another user than the uploader", "record pushed by the uploader's other phone"}[i])
	}
}

// TestUploadQuota (issue 13): a device's bytes uploaded (or being
// uploaded) for photo records that have not arrived are capped; an upload
// that would go over is refused at creation with quota_exceeded, while
// uploads for records already pushed, and other devices, are not limited;
// pushing the records frees the quota.
func TestUploadQuota(t *testing.T) {
	const quota = 1 << 20
	var logs logtest.Buffer
	srv := apptest.StartLogged(t, &logs, func(c *app.Config) { c.MaxUploadBytes, c.UploadQuota = quota, quota })
	defer func() {
		// A device over its quota is no server fault: its request line is a
		// warning, not an error (a phone retrying would fill the log).
		refused := 0
		for _, rec := range logs.Records("request") {
			if rec["status"] == float64(http.StatusInsufficientStorage) {
				refused++
				if rec["level"] != "WARN" {
					t.Errorf("a 507 quota_exceeded logged at %v", rec["level"])
				}
			}
		}
		if refused == 0 {
			t.Error("no request line for the refused uploads")
		}
	}()
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	b := newPhone(t, srv, apptest.Inspector2, apptest.Xinfu)
	sum := apptest.SHA256([]byte("declared only"))

	early := evidenceJPEG(51)
	earlyID := newID()
	a.tus.Upload(earlyID, "image/jpeg", early, http.StatusNoContent) // completed, no record yet
	waitingID := newID()
	if r := a.tus.Create(waitingID, sum, "image/jpeg", quota-len(early)-1000); r.Status != http.StatusCreated {
		t.Fatalf("an upload within the quota: %d %+v", r.Status, r.Err)
	}
	over := a.tus.Create(newID(), sum, "image/jpeg", 2000)
	if over.Status != http.StatusInsufficientStorage || over.Err.Code != syncproto.CodeQuotaExceeded || !strings.Contains(over.Err.Message, "上限") {
		t.Fatalf("an upload over the quota: %d %+v, want 507 quota_exceeded with a Chinese message", over.Status, over.Err)
	}
	if r := a.tus.Create(newID(), sum, "image/jpeg", 2000); r.Status != http.StatusInsufficientStorage {
		t.Fatalf("a refused creation freed the quota: %d", r.Status)
	}

	pushed := evidenceJPEG(52)
	a.tus.Upload(a.record(t, newID(), pushed), "image/jpeg", pushed, http.StatusNoContent)
	if r := b.tus.Create(newID(), sum, "image/jpeg", 2000); r.Status != http.StatusCreated {
		t.Fatalf("another device's upload: %d %+v", r.Status, r.Err)
	}

	a.record(t, earlyID, early) // the early bytes now belong to their record
	if r := a.tus.Create(newID(), sum, "image/jpeg", 2000); r.Status != http.StatusCreated {
		t.Fatalf("after pushing the record: %d %+v, want 201", r.Status, r.Err)
	}
}

// TestUploadQuotaPerUser: the quota holds for a user's devices together,
// so that signing in again as a new device does not give a new quota:
// the bytes uploaded (finished or under way) by one device for records
// not pushed count against its user's other devices, which are refused
// with the same 507 quota_exceeded once the sum would go over; another
// user is not limited; pushing the records frees the quota for all.
func TestUploadQuotaPerUser(t *testing.T) {
	const quota = 1 << 20
	srv := apptest.Start(t, func(c *app.Config) { c.MaxUploadBytes, c.UploadQuota = quota, quota })
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	again := newPhone(t, srv, apptest.Inspector, apptest.Xinfu) // the same password, a new device_id
	third := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	other := newPhone(t, srv, apptest.Inspector2, apptest.Xinfu)
	sum := apptest.SHA256([]byte("declared only"))

	early := evidenceJPEG(53)
	earlyID := newID()
	a.tus.Upload(earlyID, "image/jpeg", early, http.StatusNoContent) // completed, no record yet
	if r := a.tus.Create(newID(), sum, "image/jpeg", quota/2); r.Status != http.StatusCreated {
		t.Fatalf("the first device's upload within the quota: %d %+v", r.Status, r.Err)
	}
	over := again.tus.Create(newID(), sum, "image/jpeg", quota/2)
	if over.Status != http.StatusInsufficientStorage || over.Err.Code != syncproto.CodeQuotaExceeded || !strings.Contains(over.Err.Message, "每个账号") {
		t.Fatalf("a new device of the same user over the user's quota: %d %+v, want 507 quota_exceeded naming the account's limit", over.Status, over.Err)
	}
	if r := again.tus.Create(newID(), sum, "image/jpeg", quota/2-len(early)-1000); r.Status != http.StatusCreated {
		t.Fatalf("a new device within what the user has left: %d %+v", r.Status, r.Err)
	}
	if r := third.tus.Create(newID(), sum, "image/jpeg", 2000); r.Status != http.StatusInsufficientStorage || r.Err.Code != syncproto.CodeQuotaExceeded {
		t.Fatalf("a third device of the same user, the quota used up by the other two: %d %+v, want 507", r.Status, r.Err)
	}
	if r := other.tus.Create(newID(), sum, "image/jpeg", quota/2); r.Status != http.StatusCreated {
		t.Fatalf("another user's upload: %d %+v", r.Status, r.Err)
	}
	// Other bytes for the photo whose bytes arrived, from any of the
	// user's devices, would replace them in the count while their file
	// stays: refused. The same bytes again are taken.
	other2 := evidenceJPEG(54)
	for _, p := range []*phone{a, again} {
		if r := p.tus.Create(earlyID, apptest.SHA256(other2), "image/jpeg", len(other2)); r.Status != http.StatusConflict || r.Err.Code != syncproto.CodeConflict {
			t.Errorf("other bytes for a photo whose bytes arrived: %d %+v, want 409 conflict", r.Status, r.Err)
		}
	}
	if r := a.tus.Create(earlyID, apptest.SHA256(early), "image/jpeg", len(early)); r.Status != http.StatusCreated {
		t.Errorf("the same bytes again: %d %+v", r.Status, r.Err)
	}
	a.record(t, earlyID, early) // the early bytes now belong to their record
	if r := third.tus.Create(newID(), sum, "image/jpeg", 2000); r.Status != http.StatusCreated {
		t.Fatalf("after the first device pushed its record: %d %+v, want 201", r.Status, r.Err)
	}
}

// TestUploadQuotaAtOnce: creations of one device sent at once are counted
// against its quota as if sent one after another: no more succeed than
// fit.
func TestUploadQuotaAtOnce(t *testing.T) {
	const quota, size, tries = 1 << 20, 430 << 10, 6
	srv := apptest.Start(t, func(c *app.Config) { c.MaxUploadBytes, c.UploadQuota = quota, quota })
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	sum := apptest.SHA256([]byte("declared only"))
	for round := range 3 {
		status := make([]int, tries)
		var wg sync.WaitGroup
		for i := range status {
			wg.Go(func() { status[i] = a.tus.Create(newID(), sum, "image/jpeg", size).Status })
		}
		wg.Wait()
		created := countCreated(t, status)
		if want := map[int]int{0: quota / size}[round]; created != want {
			t.Errorf("round %d: %d of %d creations at once succeeded, want %d (statuses %v)", round, created, tries, want, status)
		}
	}
}

// TestUserQuotaAtOnce: the quota of a user's unfinished uploads holds
// when several of their devices create uploads at the same moment (one
// account signed in as many new devices used to get the quota once per
// device: 16 devices stored 20 MB against 3).
func TestUserQuotaAtOnce(t *testing.T) {
	const quota, size, devices = 1 << 20, 430 << 10, 6
	srv := apptest.Start(t, func(c *app.Config) { c.MaxUploadBytes, c.UploadQuota = quota, quota })
	sum := apptest.SHA256([]byte("declared only"))
	phones := make([]*phone, devices)
	for i := range phones {
		phones[i] = newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	}
	status := make([]int, devices)
	var wg sync.WaitGroup
	for i, a := range phones {
		wg.Go(func() { status[i] = a.tus.Create(newID(), sum, "image/jpeg", size).Status })
	}
	wg.Wait()
	if created := countCreated(t, status); created != quota/size {
		t.Errorf("%d of %d devices of one user created an upload at once, want %d (statuses %v)", created, devices, quota/size, status)
	}
}

// countCreated counts the creations answered 201 among status, and fails
// the test on an answer other than 201 or 507 quota_exceeded.
func countCreated(t *testing.T, status []int) int {
	t.Helper()
	created := 0
	for _, st := range status {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusInsufficientStorage:
		default:
			t.Errorf("creation answered %d", st)
		}
	}
	return created
}

// TestNewUploadReplacesEarlier: a device creating another upload of a
// photo ends its earlier unfinished one (whose URL it lost), so uploads of
// one photo id cannot pile up beyond the quota, which counts a photo once;
// another device's upload of the same id is left alone.
func TestNewUploadReplacesEarlier(t *testing.T) {
	const quota = 1 << 20
	srv := apptest.Start(t, func(c *app.Config) { c.MaxUploadBytes, c.UploadQuota = quota, quota })
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	b := newPhone(t, srv, apptest.Inspector2, apptest.Xinfu)
	id, sum := newID(), apptest.SHA256([]byte("declared only"))
	theirs := b.tus.Create(id, sum, "image/jpeg", 1000)
	var earlier []string
	for i := range 20 {
		r := a.tus.Create(id, sum, "image/jpeg", quota)
		if r.Status != http.StatusCreated {
			t.Fatalf("creation %d of one photo: %d %+v", i, r.Status, r.Err)
		}
		if p := a.tus.Patch(r.Header.Get("Location"), 0, make([]byte, 4096)); p.Status != http.StatusNoContent {
			t.Fatalf("write to creation %d: %d %+v", i, p.Status, p.Err)
		}
		for _, loc := range earlier {
			if h := a.tus.Head(loc); h.Status != http.StatusNotFound {
				t.Fatalf("after creation %d an earlier upload answers HEAD %d, want 404 (replaced)", i, h.Status)
			}
		}
		earlier = append(earlier, r.Header.Get("Location"))
	}
	if h := a.tus.Head(earlier[len(earlier)-1]); h.Status != http.StatusOK {
		t.Errorf("the last upload: HEAD %d", h.Status)
	}
	if h := b.tus.Head(theirs.Header.Get("Location")); h.Status != http.StatusOK {
		t.Errorf("another device's upload of the same id: HEAD %d, want 200", h.Status)
	}
	// The quota still counts the one kept: another photo over it is refused.
	if r := a.tus.Create(newID(), sum, "image/jpeg", 2000); r.Status != http.StatusInsufficientStorage {
		t.Errorf("another photo over the quota: %d", r.Status)
	}
}

// TestDeclaredSizeIsTheBytes: a photo record's size_bytes describes its
// bytes. Bytes of another size than the record declares are refused at
// the upload's creation, and the record can then be corrected; once its
// user's bytes are there (uploaded after the record or before it), a
// size_bytes other than theirs is refused — but bytes of another file
// sent under the id first are not the record's.
func TestDeclaredSizeIsTheBytes(t *testing.T) {
	srv := apptest.Start(t)
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	push := func(id string, fields map[string]json.RawMessage) syncproto.PushResult {
		t.Helper()
		return apptest.Push(t, a.c, apptest.Mut(a.c, syncproto.EntityPhoto, id, fields)).Results[0]
	}
	size := func(n int) map[string]json.RawMessage { return apptest.Fields("size_bytes", n) }
	wantRefused := func(r syncproto.PushResult, what string) {
		t.Helper()
		// At the field, for the app to point at (docs probe: no field).
		if r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeInvalidValue || r.Message == "" || r.Field != "size_bytes" {
			t.Errorf("%s: %s %s %q at %q, want rejected %s at size_bytes", what, r.Status, r.Code, r.Message, r.Field, syncproto.CodeInvalidValue)
		}
	}

	// The record first, declaring 5 bytes too many.
	data := evidenceJPEG(51)
	id := newID()
	apptest.PushApplied(t, a.c, apptest.Mut(a.c, syncproto.EntityPhoto, id, apptest.Fields(
		"inspection_id", a.insp, "sha256", apptest.SHA256(data), "content_type", "image/jpeg", "size_bytes", len(data)+5)))
	if c := a.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data)); c.Status != http.StatusBadRequest || c.Err.Code != syncproto.CodeInvalidUpload {
		t.Errorf("upload of another size than the record declares: %d %+v, want 400 %s", c.Status, c.Err, syncproto.CodeInvalidUpload)
	}
	if r := push(id, size(len(data))); r.Status != syncproto.StatusApplied {
		t.Fatalf("correcting size_bytes before the upload: %+v", r)
	}
	a.tus.Upload(id, "image/jpeg", data, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	a.wantServed(t, id, data, "record corrected, then uploaded")
	wantRefused(push(id, size(len(data)+1)), "size_bytes changed after the upload")
	wantRefused(push(id, size(0)), "size_bytes 0 after the upload")
	other := srv.Login(apptest.Inspector2) // of the same county, who never sent the bytes
	if r := apptest.Push(t, other, apptest.Mut(other, syncproto.EntityPhoto, id, size(len(data)+2))).Results[0]; r.Status != syncproto.StatusRejected ||
		r.Code != syncproto.CodeImmutableField || r.Field != "size_bytes" {
		t.Errorf("size_bytes changed after the upload by another inspector: %+v, want rejected %s (the record's own device's field)", r, syncproto.CodeImmutableField)
	}
	if f := a.pulled(t, id); string(f["size_bytes"]) != strconv.Itoa(len(data)) {
		t.Errorf("size_bytes %s after refused changes, want %d", f["size_bytes"], len(data))
	}

	// The bytes first: a record declaring another size is refused, one
	// declaring theirs takes them.
	more := evidenceJPEG(52)
	early := newID()
	a.tus.Upload(early, "image/jpeg", more, http.StatusNoContent)
	wantRefused(push(early, apptest.Fields("inspection_id", a.insp, "sha256", apptest.SHA256(more), "content_type", "image/jpeg", "size_bytes", len(more)-1)),
		"record declaring another size than the bytes uploaded before it")
	a.record(t, early, more)
	srv.App.Photos.WaitIdle()
	a.wantServed(t, early, more, "bytes first, then the record of their size")

	// Bytes of another file under the id first (the phone replaced the
	// photo): the record of the new file, of its own size, is taken, and
	// its own bytes then arrive.
	stray, replaced := evidenceJPEG(53), evidenceJPEG(54)
	if len(stray) == len(replaced) {
		replaced = append(replaced, 0) // bytes after the JPEG's end: another size
	}
	swapped := newID()
	a.tus.Upload(swapped, "image/jpeg", stray, http.StatusNoContent)
	if r := push(swapped, apptest.Fields("inspection_id", a.insp, "sha256", apptest.SHA256(replaced), "content_type", "image/jpeg",
		"size_bytes", len(replaced))); r.Status != syncproto.StatusApplied {
		t.Fatalf("record of another file than the bytes sent under its id: %+v, want applied", r)
	}
	a.tus.Upload(swapped, "image/jpeg", replaced, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	a.wantServed(t, swapped, replaced, "another file's bytes first, then the record and its own bytes")
}

// TestScopeLostMidUpload: the uploader's counties change while an upload
// runs. The request that brings the last byte is refused out_of_scope,
// so that the phone keeps the file (it used to answer 204 and record
// nothing: the phone forgot an upload whose evidence never attached);
// once the county is given back, the upload made again is stored and
// served as any other.
func TestScopeLostMidUpload(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data := evidenceJPEG(41)
	id := owner.record(t, newID(), data)
	c := owner.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
	if c.Status != http.StatusCreated {
		t.Fatalf("create: %d %+v", c.Status, c.Err)
	}
	loc, half := c.Header.Get("Location"), len(data)/2
	if r := owner.tus.Patch(loc, 0, data[:half]); r.Status != http.StatusNoContent {
		t.Fatalf("first half: %d %+v", r.Status, r.Err)
	}
	setCounties := func(counties ...string) {
		t.Helper()
		if err := srv.App.DB.SetUserCounties(context.Background(), apptest.Inspector, counties); err != nil {
			t.Fatal(err)
		}
	}
	setCounties(apptest.Dingxiang)
	if r := owner.tus.Patch(loc, half, data[half:]); r.Status != http.StatusForbidden || r.Err.Code != syncproto.CodeOutOfScope ||
		strings.Contains(r.Err.Message, "忻府") {
		t.Fatalf("last byte after the county was taken away: %d %+v, want 403 out_of_scope not naming the record's county", r.Status, r.Err)
	}
	setCounties(apptest.Xinfu)
	owner.wantNotServed(t, id, "after the refused upload")
	owner.tus.Upload(id, "image/jpeg", data, http.StatusNoContent)
	if err := srv.App.Photos.Process(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	owner.wantServed(t, id, data, "uploaded again")
}

// TestTypeFixedOnceUploaded: once a photo's bytes are stored (checked to
// be an image of its content_type), the record's content_type cannot be
// changed — the original was then served as another type than its bytes
// — as its size_bytes cannot; before, it may be corrected.
func TestTypeFixedOnceUploaded(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data := evidenceJPEG(43)
	id := owner.record(t, newID(), data)
	push := func(ct string) syncproto.PushResult {
		t.Helper()
		return apptest.Push(t, owner.c, apptest.Mut(owner.c, syncproto.EntityPhoto, id, apptest.Fields("content_type", ct))).Results[0]
	}
	if r := push("image/png"); r.Status != syncproto.StatusApplied {
		t.Fatalf("correcting the type before the bytes: %+v", r)
	}
	if r := push("image/jpeg"); r.Status != syncproto.StatusApplied {
		t.Fatalf("correcting it back: %+v", r)
	}
	owner.tus.Upload(id, "image/jpeg", data, http.StatusNoContent)
	for _, ct := range []string{"image/heic", "image/png"} {
		if r := push(ct); r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeInvalidValue || r.Field != "content_type" {
			t.Errorf("content_type %s after the bytes: %+v, want rejected invalid_value at content_type", ct, r)
		}
	}
	if r := push("image/jpeg"); r.Status == syncproto.StatusRejected {
		t.Errorf("the same type again: %+v", r)
	}
	if status, ct := owner.servedType(t, id); status != http.StatusOK || ct != "image/jpeg" {
		t.Errorf("original: %d %s, want image/jpeg", status, ct)
	}
}

// TestMethodOverride: a network that passes only GET and POST still
// uploads: a POST with X-HTTP-Method-Override: PATCH sends bytes (to the
// last, which stores the photo), one with DELETE terminates (tus 1.0);
// a POST naming no such method is 405.
func TestMethodOverride(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data := evidenceJPEG(44)
	id := owner.record(t, newID(), data)
	c := owner.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
	loc, half := c.Header.Get("Location"), len(data)/2
	post := func(override string, offset int, body []byte) apptest.Response {
		h := map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(offset)}
		if override != "" {
			h["X-HTTP-Method-Override"] = override
		}
		return owner.tus.Do(http.MethodPost, loc, body, h)
	}
	if r := post("", 0, data[:half]); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST without an override: %d %+v", r.Status, r.Err)
	}
	if r := post("PATCH", 0, data[:half]); r.Status != http.StatusNoContent || r.Header.Get("Upload-Offset") != strconv.Itoa(half) {
		t.Fatalf("first half as POST/PATCH: %d %+v offset %s", r.Status, r.Err, r.Header.Get("Upload-Offset"))
	}
	if r := post("patch", half, data[half:]); r.Status != http.StatusNoContent {
		t.Fatalf("the rest as POST/patch: %d %+v", r.Status, r.Err)
	}
	if err := srv.App.Photos.Process(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	owner.wantServed(t, id, data, "uploaded through the override")
	other := evidenceJPEG(45)
	c = owner.tus.Create(newID(), apptest.SHA256(other), "image/jpeg", len(other))
	loc = c.Header.Get("Location")
	if r := post("DELETE", 0, nil); r.Status != http.StatusNoContent {
		t.Errorf("POST/DELETE: %d %+v", r.Status, r.Err)
	}
	if r := owner.tus.Head(loc); r.Status != http.StatusNotFound {
		t.Errorf("HEAD after POST/DELETE: %d", r.Status)
	}
}

// TestTypeOfBytesSentFirst: bytes uploaded before their record were
// checked to be an image of the upload's type; the record pushed after
// them must declare that type (another is refused, as it is once the
// bytes are the record's), and a record declaring no type, pushed after
// its bytes or before them, takes theirs: it is pulled and served as what
// it is (a PNG was served as image/jpeg).
func TestTypeOfBytesSentFirst(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	taken := time.Now().Add(-time.Hour)
	png := testimg.PNG(testimg.Options{Width: 320, Height: 240, Seed: 44, Time: &taken, GPS: &siteXinfu})
	push := func(id string, fields ...any) syncproto.PushResult {
		t.Helper()
		f := append([]any{"inspection_id", owner.insp, "sha256", apptest.SHA256(png), "size_bytes", len(png)}, fields...)
		return apptest.Push(t, owner.c, apptest.Mut(owner.c, syncproto.EntityPhoto, id, apptest.Fields(f...))).Results[0]
	}

	first := newID()
	owner.tus.Upload(first, "image/png", png, http.StatusNoContent)
	for _, ct := range []string{"image/jpeg", "image/heic"} {
		if r := push(first, "content_type", ct); r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeInvalidValue ||
			!strings.Contains(r.Message, "image/png") || r.Field != "content_type" {
			t.Errorf("record declaring %s after PNG bytes: %+v, want rejected invalid_value naming image/png", ct, r)
		}
	}
	if r := push(first, "content_type", "image/png"); r.Status != syncproto.StatusApplied {
		t.Fatalf("record declaring the bytes' type: %+v", r)
	}
	srv.App.Photos.WaitIdle()
	owner.wantServed(t, first, png, "bytes first, the same type")

	untyped := newID()
	owner.tus.Upload(untyped, "image/png", png, http.StatusNoContent)
	if r := push(untyped); r.Status != syncproto.StatusApplied {
		t.Fatalf("record with no type after its bytes: %+v", r)
	}
	recordFirst := newID()
	if r := push(recordFirst); r.Status != syncproto.StatusApplied {
		t.Fatalf("record with no type before its bytes: %+v", r)
	}
	owner.tus.Upload(recordFirst, "image/png", png, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	for _, id := range []string{untyped, recordFirst} {
		if ct := string(owner.pulled(t, id)["content_type"]); ct != `"image/png"` {
			t.Errorf("photo %s with no declared type, PNG bytes: pulled content_type %s, want \"image/png\"", id, ct)
		}
		if _, ct := owner.servedType(t, id); ct != "image/png" {
			t.Errorf("photo %s with no declared type, PNG bytes: served as %s", id, ct)
		}
	}
}

// halfSent creates p's upload of photo id's data and sends its first
// half; the function it returns sends the rest.
func (p *phone) halfSent(t *testing.T, id string, data []byte) (rest func()) {
	t.Helper()
	c := p.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
	if c.Status != http.StatusCreated {
		t.Fatalf("create: %d %+v", c.Status, c.Err)
	}
	half := len(data) / 2
	if r := p.tus.Patch(c.Header.Get("Location"), 0, data[:half]); r.Status != http.StatusNoContent {
		t.Fatalf("first half: %d %+v", r.Status, r.Err)
	}
	return func() {
		t.Helper()
		if r := p.tus.Patch(c.Header.Get("Location"), half, data[half:]); r.Status != http.StatusNoContent {
			t.Fatalf("last half: %d %+v", r.Status, r.Err)
		}
	}
}

// TestTypeChangedDuringUpload: the record's content_type changed while
// its bytes were on their way (by its own device: a colleague's change is
// refused, the field is the device's) does not make them be served as
// another type: the record takes the type the bytes were checked to be.
// Once they are its own, its type and size are not cleared.
func TestTypeChangedDuringUpload(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	colleague := newPhone(t, srv, apptest.Inspector2, apptest.Xinfu)
	data := evidenceJPEG(45)
	id := owner.record(t, newID(), data)
	rest := owner.halfSent(t, id, data)
	push := func(by *phone, fields ...any) syncproto.PushResult {
		t.Helper()
		return apptest.Push(t, by.c, apptest.Mut(by.c, syncproto.EntityPhoto, id, apptest.Fields(fields...))).Results[0]
	}
	if r := push(colleague, "content_type", "image/heic"); r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeImmutableField {
		t.Errorf("colleague changes the type before the bytes arrive: %+v, want rejected %s", r, syncproto.CodeImmutableField)
	}
	if r := push(owner, "content_type", "image/heic"); r.Status != syncproto.StatusApplied {
		t.Fatalf("its own device changes the type before the bytes arrive: %+v", r)
	}
	rest()
	srv.App.Photos.WaitIdle()
	if ct := string(owner.pulled(t, id)["content_type"]); ct != `"image/jpeg"` {
		t.Errorf("after JPEG bytes checked as image/jpeg, the record's type is %s", ct)
	}
	owner.wantServed(t, id, data, "owner")
	for _, f := range []string{"content_type", "size_bytes"} {
		if r := push(owner, f, nil); r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeInvalidValue || r.Field != f {
			t.Errorf("%s cleared once the bytes are the record's: %+v, want rejected invalid_value at the field", f, r)
		}
	}
}

// TestSizeChangedDuringUpload: a size_bytes pushed while the record's
// bytes are on their way (accepted: they have not arrived) does not
// outlive their arrival: the record takes the size of the bytes that
// became its own, as it takes their type, and another size is refused
// from then on (sync.md 10.1). A record declaring no size, pushed before
// or after its bytes, takes theirs too.
func TestSizeChangedDuringUpload(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data := evidenceJPEG(47)
	id := owner.record(t, newID(), data)
	rest := owner.halfSent(t, id, data)
	push := func(id string, fields ...any) syncproto.PushResult {
		t.Helper()
		return apptest.Push(t, owner.c, apptest.Mut(owner.c, syncproto.EntityPhoto, id, apptest.Fields(fields...))).Results[0]
	}
	if r := push(id, "size_bytes", len(data)+10); r.Status != syncproto.StatusApplied {
		t.Fatalf("size changed before the bytes arrive: %+v", r)
	}
	rest()
	srv.App.Photos.WaitIdle()
	want := strconv.Itoa(len(data))
	got := owner.pulled(t, id)
	if string(got["uploaded"]) != "true" || string(got["size_bytes"]) != want {
		t.Errorf("after %d bytes arrived: uploaded %s, size_bytes %s, want true and %s", len(data), got["uploaded"], got["size_bytes"], want)
	}
	if r := push(id, "size_bytes", len(data)+10); r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeInvalidValue {
		t.Errorf("another size once the bytes are the record's: %+v, want rejected invalid_value", r)
	}

	fields := []any{"inspection_id", owner.insp, "sha256", apptest.SHA256(data), "content_type", "image/jpeg"}
	unsized := newID()
	owner.tus.Upload(unsized, "image/jpeg", data, http.StatusNoContent)
	if r := push(unsized, fields...); r.Status != syncproto.StatusApplied {
		t.Fatalf("record with no size after its bytes: %+v", r)
	}
	recordFirst := newID()
	if r := push(recordFirst, fields...); r.Status != syncproto.StatusApplied {
		t.Fatalf("record with no size before its bytes: %+v", r)
	}
	owner.tus.Upload(recordFirst, "image/jpeg", data, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	for _, id := range []string{unsized, recordFirst} {
		if got := string(owner.pulled(t, id)["size_bytes"]); got != want {
			t.Errorf("photo %s with no declared size: pulled size_bytes %s, want %s", id, got, want)
		}
	}
}

// TestUploadIsItsCreatorsDevice: an upload is its creating device's: the
// user's other device cannot send its last byte (404, as to anyone else),
// whether it is the record's own device finishing another's upload or
// another finishing the record's device's; nothing is recorded.
func TestUploadIsItsCreatorsDevice(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	second := newPhone(t, srv, apptest.Inspector, apptest.Xinfu) // the same inspector's other phone
	for i, tc := range []struct {
		name            string
		creator, sender *phone
		want            int
	}{
		{"the second phone's upload finished by the owner", second, owner, http.StatusNotFound},
		{"the owner's upload finished by the second phone", owner, second, http.StatusNotFound},
	} {
		data := evidenceJPEG(46 + uint64(i))
		id := newID()
		c := tc.creator.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
		if c.Status != http.StatusCreated {
			t.Fatalf("%s: create: %d %+v", tc.name, c.Status, c.Err)
		}
		owner.record(t, id, data)
		if r := tc.sender.tus.Patch(c.Header.Get("Location"), 0, data); r.Status != tc.want {
			t.Errorf("%s: %d %+v, want %d", tc.name, r.Status, r.Err, tc.want)
		}
		srv.App.Photos.WaitIdle()
		if uploaded := string(owner.pulled(t, id)["uploaded"]) == "true"; uploaded != (tc.want == http.StatusNoContent) {
			t.Errorf("%s: uploaded %v", tc.name, uploaded)
		}
	}
}

// TestRecordOfOtherBytesPushedDuringUpload: a photo record pushed while
// its upload is under way that declares other bytes (another sha256, which
// never changes) makes the upload's last PATCH fail 422 hash_mismatch, as
// creating the upload would then — not 204 with the record never marked
// uploaded.
func TestRecordOfOtherBytesPushedDuringUpload(t *testing.T) {
	srv := apptest.Start(t)
	owner := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data, other := evidenceJPEG(48), evidenceJPEG(49)
	id := newID()
	c := owner.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
	if c.Status != http.StatusCreated {
		t.Fatalf("create: %d %+v", c.Status, c.Err)
	}
	half := len(data) / 2
	if r := owner.tus.Patch(c.Header.Get("Location"), 0, data[:half]); r.Status != http.StatusNoContent {
		t.Fatalf("first half: %d %+v", r.Status, r.Err)
	}
	owner.record(t, id, other)
	r := owner.tus.Patch(c.Header.Get("Location"), half, data[half:])
	if r.Status != http.StatusUnprocessableEntity || r.Err.Code != syncproto.CodeHashMismatch {
		t.Fatalf("last half under a record of other bytes: %d %+v, want 422 hash_mismatch", r.Status, r.Err)
	}
	// The record's own bytes are then taken.
	owner.tus.Upload(id, "image/jpeg", other, http.StatusNoContent)
	srv.App.Photos.WaitIdle()
	owner.wantServed(t, id, other, "owner")
}

// gzipped is b gzipped, as a client or proxy that compresses request
// bodies would send it.
func gzipped(b []byte) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.String()
}

// TestPatchWrongHeaders: a PATCH whose Content-Type is not tus's — none,
// octet-stream, multipart, a form (which was read as a form, answered
// 400 with its body's text in the message) — is 415
// unsupported_media_type, and one declaring Upload-Length late is 400
// invalid_upload (it was 405 method_not_allowed, logged as a server
// error); a body with a Content-Encoding (gzipped by a client or a proxy,
// which was stored as the photo's bytes) is 415 too; none moves the
// upload, which then finishes.
func TestPatchWrongHeaders(t *testing.T) {
	srv := apptest.Start(t)
	p := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data := evidenceJPEG(41)
	_, loc := p.begun(t, data)
	for name, h := range map[string]struct {
		header map[string]string
		body   string
		status int
		code   string
	}{
		"no type":          {map[string]string{"Content-Type": ""}, "bytes", 415, syncproto.CodeUnsupportedMediaType},
		"octet-stream":     {map[string]string{"Content-Type": "application/octet-stream"}, "bytes", 415, syncproto.CodeUnsupportedMediaType},
		"multipart":        {map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, "bytes", 415, syncproto.CodeUnsupportedMediaType},
		"form":             {map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "HELLO_FROM_BODY=1", 415, syncproto.CodeUnsupportedMediaType},
		"form with a NUL":  {map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "HELLO_FROM_BODY<b>x</b>\x00=1", 415, syncproto.CodeUnsupportedMediaType},
		"form, bad escape": {map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "HELLO=%zz", 415, syncproto.CodeUnsupportedMediaType},
		"late length": {map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Length": strconv.Itoa(len(data) + 50)},
			"", 400, syncproto.CodeInvalidUpload},
		"gzipped":                     {map[string]string{"Content-Type": "application/offset+octet-stream", "Content-Encoding": "gzip"}, gzipped(data[:100]), 415, syncproto.CodeUnsupportedMediaType},
		"coded twice, identity first": {map[string]string{"Content-Type": "application/offset+octet-stream", "Content-Encoding": "identity, br"}, "bytes", 415, syncproto.CodeUnsupportedMediaType},
	} {
		h.header["Upload-Offset"] = "0"
		r := p.tus.Do(http.MethodPatch, loc, []byte(h.body), h.header)
		if r.Status != h.status || r.Err.Code != h.code || strings.Contains(r.Err.Message, "HELLO") {
			t.Errorf("%s: %d %+v, want %d %s without the body's text", name, r.Status, r.Err, h.status, h.code)
		}
	}
	if head := p.tus.Head(loc); head.Header.Get("Upload-Offset") != "0" {
		t.Errorf("after the refused PATCHes the upload is at %s, want 0", head.Header.Get("Upload-Offset"))
	}
	if r := p.tus.Patch(loc, 0, data); r.Status != http.StatusNoContent {
		t.Errorf("the right PATCH: %d %+v", r.Status, r.Err)
	}
}

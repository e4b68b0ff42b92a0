package photos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var ctx = context.Background()

// A site of our own with a small geofence, so that a few hundred metres
// (the GCJ-02 offset) decide.
var siteAt = geo.Point{Lon: 112.7350, Lat: 38.4150}

type world struct {
	srv         *apptest.Server
	phone       *syncproto.Client
	site, other string // site ids
	insp        string // an inspection at site, started an hour ago
	visitStart  time.Time
}

func setup(t *testing.T) *world {
	t.Helper()
	return setupOn(t, apptest.Start(t))
}

// setupOn is setup on a server started by the caller.
func setupOn(t *testing.T, srv *apptest.Server) *world {
	t.Helper()
	w := &world{srv: srv}
	w.phone = w.srv.Login(apptest.Inspector)
	w.site, w.other = newID(), newID()
	w.visitStart = time.Now().Add(-time.Hour).Truncate(time.Second)
	w.insp = newID()
	apptest.PushApplied(t, w.phone,
		mut(w.phone, "site", w.site, map[string]any{"county": "140902", "kind": "construction_site", "name": "测试工地甲", "lon": siteAt.Lon, "lat": siteAt.Lat, "radius_m": 100}),
		mut(w.phone, "site", w.other, map[string]any{"county": "140902", "kind": "coal_yard", "name": "测试煤场乙", "lon": 112.80, "lat": 38.45, "radius_m": 100}),
		mut(w.phone, "inspection", w.insp, map[string]any{"site_id": w.site, "template_id": "construction_dust", "template_version": 1,
			"status": "draft", "started_at": w.visitStart.Format(time.RFC3339)}))
	return w
}

func newID() string { return uuid.Must(uuid.NewRandom()).String() }

func mut(c *syncproto.Client, entity, id string, f map[string]any) syncproto.Mutation {
	fields := map[string]json.RawMessage{}
	for k, v := range f {
		b, _ := json.Marshal(v)
		fields[k] = b
	}
	return syncproto.Mutation{Entity: entity, ID: id, Fields: fields, HLC: c.Clock.Now().String()}
}

// photo pushes a photo record for data (with the given extra fields) and
// returns its id.
func (w *world) photo(t *testing.T, inspection string, data []byte, extra map[string]any) string {
	t.Helper()
	id := newID()
	f := map[string]any{"inspection_id": inspection, "sha256": apptest.SHA256(data), "content_type": "image/jpeg",
		"size_bytes": len(data), "captured_at": w.visitStart.Add(20 * time.Minute).Format(time.RFC3339)}
	for k, v := range extra {
		f[k] = v
	}
	apptest.PushApplied(t, w.phone, mut(w.phone, "photo", id, f))
	return id
}

func (w *world) record(t *testing.T, id string) map[string]json.RawMessage {
	t.Helper()
	r, err := w.srv.App.DB.Get(ctx, "photo", id)
	if err != nil || r == nil {
		t.Fatalf("photo %s: %v", id, err)
	}
	out := map[string]json.RawMessage{}
	for k, st := range r.State.Fields {
		out[k] = st.Value
	}
	return out
}

func (w *world) flags(t *testing.T, id string) map[string]map[string]any {
	t.Helper()
	var f map[string]map[string]any
	if err := json.Unmarshal(w.record(t, id)["flags"], &f); err != nil {
		t.Fatalf("photo %s flags %s: %v", id, w.record(t, id)["flags"], err)
	}
	return f
}

// flagNames returns the names of the flags raised, sorted.
func flagNames(f map[string]map[string]any) []string {
	var names []string
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// TestUploadResumesAndServes: a phone that loses signal part-way asks HEAD
// for the offset and continues; the photo is verified, marked uploaded,
// processed, and served with ETag, caching and Range.
func TestUploadResumesAndServes(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 640, Height: 480, Seed: 1, Time: &taken, GPS: &siteAt, Orientation: 6})
	id := w.photo(t, w.insp, data, map[string]any{"lon": siteAt.Lon, "lat": siteAt.Lat, "accuracy_m": 6, "crs": "wgs84"})

	tus := w.srv.Tus(w.phone)
	created := tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %+v", created.Status, created.Err)
	}
	loc := created.Header.Get("Location")
	cut := len(data) * 8 / 10
	if r := tus.Patch(loc, 0, data[:cut]); r.Status != http.StatusNoContent {
		t.Fatalf("first part: %d %+v", r.Status, r.Err)
	}
	head := tus.Head(loc)
	if head.Header.Get("Upload-Offset") != fmt.Sprint(cut) {
		t.Fatalf("HEAD offset %q, want %d", head.Header.Get("Upload-Offset"), cut)
	}
	if r := tus.Patch(loc, 0, data); r.Status != http.StatusConflict || r.Err.Code != syncproto.CodeUploadOffset {
		t.Fatalf("PATCH at a stale offset: %d %+v, want 409 upload_offset_mismatch", r.Status, r.Err)
	}
	if r := tus.Patch(loc, cut, data[cut:]); r.Status != http.StatusNoContent {
		t.Fatalf("rest: %d %+v", r.Status, r.Err)
	}
	w.srv.App.Photos.WaitIdle()
	rec := w.record(t, id)
	if string(rec["uploaded"]) != "true" || rec["processed_at"] == nil {
		t.Fatalf("photo after upload: uploaded=%s processed_at=%s", rec["uploaded"], rec["processed_at"])
	}
	if f := w.flags(t, id); len(f) != 0 {
		t.Errorf("a clean photo got flags %v", f)
	}

	get := func(variant string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/api/v1/photos/"+id+"/"+variant, nil)
		access, _ := w.phone.Tokens()
		req.Header.Set("Authorization", "Bearer "+access)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := w.srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	thumb := get("thumbnail", nil)
	img, err := jpeg.DecodeConfig(thumb.Body)
	thumb.Body.Close()
	if err != nil || thumb.StatusCode != 200 || thumb.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumbnail: %d %s %v", thumb.StatusCode, thumb.Header.Get("Content-Type"), err)
	}
	if img.Width != 192 || img.Height != 256 { // 640×480 turned by orientation 6, fitted in 256
		t.Errorf("thumbnail %d×%d, want 192×256 (rotated)", img.Width, img.Height)
	}
	etag := thumb.Header.Get("ETag")
	if again := get("thumbnail", map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", again.StatusCode)
	}
	part := get("original", map[string]string{"Range": "bytes=100-199"})
	body := make([]byte, 200)
	n, _ := part.Body.Read(body)
	part.Body.Close()
	if part.StatusCode != http.StatusPartialContent || string(body[:n]) != string(data[100:200]) {
		t.Errorf("Range: %d, %d bytes, want 206 with bytes 100–199 of the original", part.StatusCode, n)
	}
	// A Range of another unit or that does not parse is ignored: the
	// whole file. One past the end is 416, with the file's size.
	for _, r := range []string{"bytes=5-1", "items=0-1", "bytes=abc", "bytes=-", "bytes=1-2-3", "bytes=+1-2"} {
		whole := get("original", map[string]string{"Range": r})
		n, _ := io.Copy(io.Discard, whole.Body)
		whole.Body.Close()
		if whole.StatusCode != http.StatusOK || n != int64(len(data)) {
			t.Errorf("Range %q: %d, %d bytes; want 200 with the whole file", r, whole.StatusCode, n)
		}
	}
	// Past the end — by a number too large for any file too — is 416.
	for _, r := range []string{fmt.Sprintf("bytes=%d-", len(data)+10), "bytes=99999999999999999999999-"} {
		past := get("original", map[string]string{"Range": r})
		past.Body.Close()
		if past.StatusCode != http.StatusRequestedRangeNotSatisfiable || past.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(data)) {
			t.Errorf("Range %q past the end: %d, Content-Range %q", r, past.StatusCode, past.Header.Get("Content-Range"))
		}
	}
	// A last byte past any file reads to the end.
	toEnd := get("original", map[string]string{"Range": "bytes=100-18446744073709551615"})
	e, _ := io.Copy(io.Discard, toEnd.Body)
	toEnd.Body.Close()
	if toEnd.StatusCode != http.StatusPartialContent || e != int64(len(data)-100) {
		t.Errorf("Range to a last byte past any file: %d, %d bytes; want 206 with bytes 100 to the end", toEnd.StatusCode, e)
	}
	// A suffix of zero bytes is unsatisfiable too (RFC 9110 §14.1.2): 416
	// when it is all that is asked, left out beside another range.
	for _, r := range []string{"bytes=-0", "bytes=-000", "bytes=-0, -0"} {
		empty := get("original", map[string]string{"Range": r})
		n, _ := io.Copy(io.Discard, empty.Body)
		empty.Body.Close()
		if empty.StatusCode != http.StatusRequestedRangeNotSatisfiable || empty.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(data)) {
			t.Errorf("Range %q: %d (%d bytes), Content-Range %q; want 416 with the file's size", r, empty.StatusCode, n, empty.Header.Get("Content-Range"))
		}
	}
	mixed := get("original", map[string]string{"Range": "bytes=0-1, -0"})
	m, _ := io.Copy(io.Discard, mixed.Body)
	mixed.Body.Close()
	if mixed.StatusCode != http.StatusPartialContent || m != 2 || mixed.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-1/%d", len(data)) {
		t.Errorf("Range bytes=0-1, -0: %d, %d bytes, Content-Range %q; want 206 with bytes 0–1", mixed.StatusCode, m, mixed.Header.Get("Content-Range"))
	}
	// Every variant is served as its type, never to be sniffed.
	for _, variant := range []string{"original", "preview", "thumbnail"} {
		r := get(variant, nil)
		r.Body.Close()
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", variant, r.Header.Get("X-Content-Type-Options"))
		}
	}
}

// TestHEICTerminationAndScope: a HEIC original is stored and listed
// without derivatives; an upload can be terminated; another county's user
// cannot fetch a photo.
func TestHEICTerminationAndScope(t *testing.T) {
	w := setup(t)
	heic := testimg.HEIC()
	id := w.photo(t, w.insp, heic, map[string]any{"content_type": "image/heic"})
	w.srv.Tus(w.phone).Upload(id, "image/heic", heic, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	rec := w.record(t, id)
	if string(rec["uploaded"]) != "true" || rec["processed_at"] == nil {
		t.Fatalf("HEIC photo: uploaded=%s processed_at=%s", rec["uploaded"], rec["processed_at"])
	}
	if _, ok := w.flags(t, id)["unreadable"]; ok {
		t.Errorf("HEIC flagged unreadable: %v", w.flags(t, id))
	}
	if ok, _ := w.srv.App.Blobs.Has(ctx, apptest.SHA256(heic), "thumbnail"); ok {
		t.Errorf("a thumbnail was made for HEIC")
	}
	c := w.phone
	access, _ := c.Tokens()
	var message string
	get := func(token, path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, w.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := w.srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e syncproto.ErrorBody
		json.NewDecoder(resp.Body).Decode(&e)
		message = e.Message
		return resp.StatusCode, e.Code
	}
	// It says there will be none, and where to look instead (it used to
	// point to flags that said nothing).
	if st, code := get(access, "/api/v1/photos/"+id+"/thumbnail"); st != http.StatusNotFound || code != syncproto.CodeNotReady || !strings.Contains(message, "没有预览图，请查看原图") {
		t.Errorf("HEIC thumbnail: %d %s %q, want 404 not_ready saying there is none", st, code, message)
	}
	if st, _ := get(access, "/api/v1/photos/"+id+"/original"); st != http.StatusOK {
		t.Errorf("HEIC original: %d, want 200", st)
	}
	other, _ := w.srv.Login(apptest.NingwuInsp).Tokens()
	if st, code := get(other, "/api/v1/photos/"+id+"/original"); st != http.StatusForbidden || code != syncproto.CodeOutOfScope {
		t.Errorf("another county's inspector: %d %s, want 403 out_of_scope", st, code)
	}
	if st, code := get(access, "/api/v1/photos/"+id+"/poster"); st != http.StatusNotFound || code != syncproto.CodeNotFound {
		t.Errorf("unknown variant: %d %s", st, code)
	}

	tus := w.srv.Tus(w.phone)
	data := []byte("partial")
	cr := tus.Create(newID(), apptest.SHA256(data), "image/jpeg", 1000)
	loc := cr.Header.Get("Location")
	tus.Patch(loc, 0, data)
	stranger := w.srv.Tus(w.srv.Login(apptest.Inspector2))
	if r := stranger.Head(loc); r.Status != http.StatusNotFound {
		t.Errorf("another user's HEAD of an upload: %d, want 404", r.Status)
	}
	if r := stranger.Do(http.MethodDelete, loc, nil, nil); r.Status != http.StatusNotFound || r.Err.Code != syncproto.CodeNotFound {
		t.Errorf("another user's termination: %d %+v, want 404 not_found", r.Status, r.Err)
	}
	if r := tus.Do(http.MethodDelete, loc, nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("terminate: %d %+v", r.Status, r.Err)
	}
	if r := tus.Head(loc); r.Status != http.StatusNotFound {
		t.Fatalf("HEAD after termination: %d", r.Status)
	}
}

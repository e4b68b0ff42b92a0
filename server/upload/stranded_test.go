package upload_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestStrandedUploadsAreFinished: a server killed after an upload's last
// byte was written and before it was verified and stored leaves a
// complete upload tusd would answer as done for ever, its photo never
// stored. The next HEAD or PATCH of its end finishes it and answers as
// the last PATCH would have; the sweep (at start, then hourly) finishes
// the ones no phone asks about; bytes that do not match are refused and
// the upload ended, never stored.
func TestStrandedUploadsAreFinished(t *testing.T) {
	srv := apptest.Start(t)
	ctx := context.Background()
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	store := filestore.New(filepath.Join(srv.Dir, "uploads"))
	// stranded leaves an upload of id as the killed server did: created
	// through the API, every byte written, never finished.
	stranded := func(id string, declared, written []byte) string {
		t.Helper()
		c := a.tus.Create(id, apptest.SHA256(declared), "image/jpeg", len(declared))
		if c.Status != http.StatusCreated {
			t.Fatalf("create: %d %+v", c.Status, c.Err)
		}
		loc := c.Header.Get("Location")
		up, err := store.GetUpload(ctx, filepath.Base(loc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := up.WriteChunk(ctx, 0, bytes.NewReader(written)); err != nil {
			t.Fatal(err)
		}
		return loc
	}
	uploaded := func(id string) bool { return string(a.pulled(t, id)["uploaded"]) == "true" }

	for _, tc := range []struct {
		name string
		ask  func(loc string, size int) apptest.Response
		want int
	}{
		{"HEAD", func(loc string, _ int) apptest.Response { return a.tus.Head(loc) }, http.StatusOK},
		{"empty PATCH at the end", func(loc string, size int) apptest.Response { return a.tus.Patch(loc, size, nil) }, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := evidenceJPEG(uint64(len(tc.name)) + 70)
			id := a.record(t, newID(), data)
			loc := stranded(id, data, data)
			if uploaded(id) {
				t.Fatal("the photo is uploaded before the upload is finished")
			}
			r := tc.ask(loc, len(data))
			if r.Status != tc.want || r.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
				t.Fatalf("%s: %d, offset %q (%+v); want %d at the end", tc.name, r.Status, r.Header.Get("Upload-Offset"), r.Err, tc.want)
			}
			if !uploaded(id) {
				t.Errorf("%s answered the upload complete, and the photo is not uploaded", tc.name)
			}
			if ok, err := srv.App.Syncer.Blobs.Has(ctx, apptest.SHA256(data), "original"); err != nil || !ok {
				t.Errorf("bytes not stored: %v %v", ok, err)
			}
			if r := a.tus.Head(loc); r.Status != http.StatusNotFound {
				t.Errorf("the finished upload still answers: HEAD %d", r.Status)
			}
		})
	}

	t.Run("sweep", func(t *testing.T) {
		data := evidenceJPEG(81)
		id := a.record(t, newID(), data)
		loc := stranded(id, data, data)
		n, err := srv.App.Sweep(ctx, time.Now(), false)
		if err != nil || n.Stranded != 1 {
			t.Fatalf("sweep finished %d stranded uploads, %v; want 1", n.Stranded, err)
		}
		if !uploaded(id) {
			t.Error("the sweep finished the upload, and the photo is not uploaded")
		}
		if r := a.tus.Head(loc); r.Status != http.StatusNotFound {
			t.Errorf("the finished upload still answers: HEAD %d", r.Status)
		}
		if n, err := srv.App.Sweep(ctx, time.Now(), false); err != nil || n.Stranded != 0 {
			t.Errorf("a second sweep finished %d, %v", n.Stranded, err)
		}
	})

	// The server fails to store the bytes the last PATCH brought (its
	// disk): the upload is kept, complete; a HEAD while the fault lasts
	// answers it again, and the first once it is over finishes the
	// upload — the phone does not send the bytes again.
	t.Run("store fails at the end", func(t *testing.T) {
		data := evidenceJPEG(83)
		id := a.record(t, newID(), data)
		c := a.tus.Create(id, apptest.SHA256(data), "image/jpeg", len(data))
		if c.Status != http.StatusCreated {
			t.Fatalf("create: %d %+v", c.Status, c.Err)
		}
		loc := c.Header.Get("Location")
		tmp := filepath.Join(srv.Dir, "blobs", "tmp")
		if err := os.RemoveAll(tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tmp, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if r := a.tus.Patch(loc, 0, data); r.Status < 500 || (r.Err.Code != syncproto.CodeInternal && r.Err.Code != syncproto.CodeUnavailable) {
			t.Fatalf("last PATCH with the store failing: %d %+v, want 500 or 503", r.Status, r.Err)
		}
		if r := a.tus.Head(loc); r.Status < 500 {
			t.Fatalf("HEAD while the store still fails: %d, want 500 or 503 (the upload kept)", r.Status)
		}
		if uploaded(id) {
			t.Fatal("uploaded while the store fails")
		}
		if err := os.Remove(tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(tmp, 0o750); err != nil {
			t.Fatal(err)
		}
		if r := a.tus.Head(loc); r.Status != http.StatusOK || r.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
			t.Fatalf("HEAD once the store works: %d, offset %q (%+v); want 200 at the end", r.Status, r.Header.Get("Upload-Offset"), r.Err)
		}
		if !uploaded(id) {
			t.Error("the kept upload was finished, and the photo is not uploaded")
		}
	})

	t.Run("wrong bytes", func(t *testing.T) {
		data := evidenceJPEG(82)
		wrong := bytes.Clone(data)
		wrong[len(wrong)/2] ^= 0xff
		id := a.record(t, newID(), data)
		loc := stranded(id, data, wrong)
		r := a.tus.Patch(loc, len(data), nil)
		if r.Status < 400 || r.Status == http.StatusNotFound || r.Err.Code == "" {
			t.Errorf("PATCH of wrong bytes: %d %+v, want their error", r.Status, r.Err)
		}
		if uploaded(id) {
			t.Error("wrong bytes marked the photo uploaded")
		}
		loc = stranded(id, data, wrong)
		if r := a.tus.Head(loc); r.Status != http.StatusNotFound {
			t.Errorf("HEAD of wrong bytes: %d, want 404 (the upload ended)", r.Status)
		}
		if r := a.tus.Head(loc); r.Status != http.StatusNotFound {
			t.Errorf("the refused upload still answers: HEAD %d", r.Status)
		}
	})
}

// TestStalledPatchTimesOut: a PATCH whose bytes stop arriving (a phone out
// of signal) is answered 408 request_timeout after the server's body idle
// time, as a push's body is — not a 500 after tusd's minute — and the
// bytes that came are kept: HEAD gives their count.
func TestStalledPatchTimesOut(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.BodyIdle = 300 * time.Millisecond })
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data := evidenceJPEG(84)
	_, loc := a.begun(t, data)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	access, _ := a.c.Tokens()
	sent := 1000
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n", u.Path, access, len(data))
	if _, err := conn.Write(data[:sent]); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled PATCH: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var eb syncproto.ErrorBody
	if resp.StatusCode != http.StatusRequestTimeout || json.Unmarshal(body, &eb) != nil || eb.Code != syncproto.CodeRequestTimeout || !strings.Contains(eb.Message, "HEAD") {
		t.Fatalf("stalled PATCH: %d %s, want 408 request_timeout saying to ask HEAD", resp.StatusCode, body)
	}
	if r := a.tus.Head(loc); r.Status != http.StatusOK || r.Header.Get("Upload-Offset") != strconv.Itoa(sent) {
		t.Errorf("HEAD after the stall: %d offset %q, want the %d bytes that came", r.Status, r.Header.Get("Upload-Offset"), sent)
	}
}

// TestMalformedChunkedPatch: a PATCH whose chunked framing is wrong (a
// bare LF ending a chunk line, a chunk size that is not hex, a chunk
// not ended by CRLF) is the client's fault: 400 bad_request saying to
// ask HEAD, not a 500 internal logged as the server's error (crash
// probe) — and the upload goes on from HEAD's offset when sent right.
func TestMalformedChunkedPatch(t *testing.T) {
	srv := apptest.Start(t)
	a := newPhone(t, srv, apptest.Inspector, apptest.Xinfu)
	data := evidenceJPEG(85)
	id, loc := a.begun(t, data)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	access, _ := a.c.Tokens()
	for name, body := range map[string]string{
		"bare LF":         "10\n" + string(data[:16]) + "\n0\r\n\r\n",
		"size not hex":    "zz\r\n" + string(data[:16]) + "\r\n0\r\n\r\n",
		"chunk not ended": "10\r\n" + string(data[:16]) + "XX0\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %s\r\n"+
			"Content-Type: application/offset+octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n%s", u.Path, access, a.tus.Head(loc).Header.Get("Upload-Offset"), body)
		if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer: %v", name, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		var eb syncproto.ErrorBody
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(got, &eb) != nil || eb.Code != syncproto.CodeBadRequest || !strings.Contains(eb.Message, "HEAD") {
			t.Errorf("%s: %d %s, want 400 bad_request saying to ask HEAD", name, resp.StatusCode, got)
		}
	}
	h := a.tus.Head(loc)
	offset, err := strconv.Atoi(h.Header.Get("Upload-Offset"))
	if h.Status != http.StatusOK || err != nil || offset > len(data) {
		t.Fatalf("HEAD after the malformed PATCHes: %d %q", h.Status, h.Header.Get("Upload-Offset"))
	}
	if r := a.tus.Patch(loc, offset, data[offset:]); r.Status != http.StatusNoContent {
		t.Fatalf("the rest sent right: %d %+v", r.Status, r.Err)
	}
	if r, _ := srv.App.DB.Get(t.Context(), syncproto.EntityPhoto, id); r == nil || string(r.Value("uploaded")) != "true" {
		t.Error("the photo is not uploaded after the rest was sent right")
	}
}

package upload_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/blobs3"
	"github.com/xinzhou-eco/fieldsync/server/pglock"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/upload"
)

// uploadServer starts an upload service as one of several servers: its
// own data directory, the shared database, blob store, S3 bucket for
// partial uploads and PostgreSQL for locks.
func uploadServer(t *testing.T, db server.SyncStore, blobs *blobs3.Store, lockDSN string, p *server.Principal) (*httptest.Server, *upload.Service) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), lockDSN)
	if err != nil {
		t.Fatal(err)
	}
	locker := pglock.New(pool, slog.Default())
	syncer := server.NewSyncer(db, nil)
	syncer.Blobs = blobs
	syncer.UploadQuota = 10 << 20
	svc, err := upload.New(filepath.Join(t.TempDir(), "uploads"), 64<<20, false, syncer, slog.Default(),
		upload.WithS3(blobs.Client(), blobs.Bucket(), blobs.Prefix()+"uploads/"), upload.WithLocker(locker))
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]http.Handler{http.MethodPost: svc.Post(), http.MethodHead: svc.Head(),
		http.MethodPatch: svc.Patch(), http.MethodDelete: svc.Delete(), http.MethodOptions: svc.Options()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[r.Method].ServeHTTP(w, r.WithContext(server.ContextWithPrincipal(r.Context(), p)))
	}))
	t.Cleanup(func() { srv.Close(); locker.Close(); pool.Close() })
	return srv, svc
}

func tusRequest(t *testing.T, method, url string, body []byte, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// twoServers starts two upload servers sharing one database, one S3 and
// one PostgreSQL for locks.
func twoServers(t *testing.T) (*blobs3.Store, *httptest.Server, *httptest.Server, *upload.Service) {
	t.Helper()
	lockDSN := pgtest.NewDatabase(t)
	ctx := context.Background()
	blobs, err := blobs3.Open(ctx, s3test.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	blobs.TempDir = t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &server.Principal{UserID: "u-1", Username: "inspector", DeviceID: "device-1"}
	a, _ := uploadServer(t, db, blobs, lockDSN, p)
	b, bsvc := uploadServer(t, db, blobs, lockDSN, p)
	return blobs, a, b, bsvc
}

// createUpload creates an upload of size bytes declaring sum on srv and
// returns the answer and the upload's path.
func createUpload(t *testing.T, srv *httptest.Server, size int, sum string) (*http.Response, string) {
	t.Helper()
	meta := func(k, v string) string { return k + " " + base64.StdEncoding.EncodeToString([]byte(v)) }
	resp := tusRequest(t, http.MethodPost, srv.URL+upload.BasePath, nil,
		"Upload-Length", strconv.Itoa(size),
		"Upload-Metadata", strings.Join([]string{meta("photo_id", newID()), meta("sha256", sum), meta("content_type", "image/jpeg")}, ","))
	loc := resp.Header.Get("Location")
	if i := strings.Index(loc, upload.BasePath); i >= 0 {
		loc = loc[i:]
	}
	return resp, loc
}

// TestUploadAcrossServers: an upload begun on server A (its first chunk)
// is continued on server B, which reports A's offset and takes the rest;
// the completed bytes land in the shared blob store under their SHA-256,
// and the partial upload's objects are removed. Small first chunks stay
// in the upload's .part object, large ones become multipart parts.
func TestUploadAcrossServers(t *testing.T) {
	ctx := context.Background()
	blobs, a, b, bsvc := twoServers(t)
	create := func(srv *httptest.Server, size int, sum string) (*http.Response, string) {
		return createUpload(t, srv, size, sum)
	}
	partials := func() []string {
		out, err := blobs.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: new(blobs.Bucket()), Prefix: new("uploads/")})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		return keys
	}

	for _, c := range []struct {
		name         string
		first, total int
	}{
		{"part object", 1000, 3000},
		{"multipart parts", 6 << 20, 7<<20 + 123},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := make([]byte, c.total)
			rand.Read(data)
			sum := apptest.SHA256(data)
			resp, path := create(a, c.total, sum)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create on A: %d", resp.StatusCode)
			}
			if !strings.HasPrefix(path, upload.BasePath+"device-1.") {
				t.Errorf("upload %s is not named after its device", path)
			}
			patch := "application/offset+octet-stream"
			resp = tusRequest(t, http.MethodPatch, a.URL+path, data[:c.first], "Upload-Offset", "0", "Content-Type", patch)
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(c.first) {
				t.Fatalf("first chunk on A: %d, offset %s", resp.StatusCode, resp.Header.Get("Upload-Offset"))
			}
			resp = tusRequest(t, http.MethodHead, b.URL+path, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != strconv.Itoa(c.first) {
				t.Fatalf("HEAD on B: %d, offset %q, want %d", resp.StatusCode, resp.Header.Get("Upload-Offset"), c.first)
			}
			resp = tusRequest(t, http.MethodPatch, b.URL+path, data[c.first:], "Upload-Offset", strconv.Itoa(c.first), "Content-Type", patch)
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(c.total) {
				t.Fatalf("rest on B: %d, offset %s", resp.StatusCode, resp.Header.Get("Upload-Offset"))
			}
			blob, err := blobs.Open(ctx, sum, server.VariantOriginal)
			if err != nil {
				t.Fatalf("completed upload not in the blob store: %v", err)
			}
			defer blob.Close()
			if got, _ := io.ReadAll(blob); !bytes.Equal(got, data) {
				t.Fatalf("stored %d bytes, not the %d uploaded", len(got), len(data))
			}
			if resp := tusRequest(t, http.MethodHead, a.URL+path, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("finished upload still answers on A: %d", resp.StatusCode)
			}
			if keys := partials(); len(keys) != 0 {
				t.Errorf("partial upload objects left: %v", keys)
			}
		})
	}

	// The device's quota counts what it is uploading on every server; an
	// abandoned upload is swept by any server.
	t.Run("quota and sweep", func(t *testing.T) {
		data := []byte("abandoned upload")
		resp, path := create(a, 2<<20, apptest.SHA256(data))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create on A: %d", resp.StatusCode)
		}
		resp = tusRequest(t, http.MethodPatch, a.URL+path, data, "Upload-Offset", "0", "Content-Type", "application/offset+octet-stream")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("chunk on A: %d", resp.StatusCode)
		}
		// 7 MiB stored above (their records never came) + 2 MiB being
		// uploaded on A + 2 MiB more is over the device's 10 MiB.
		if resp, _ := create(b, 2<<20, apptest.SHA256([]byte("more"))); resp.StatusCode != http.StatusInsufficientStorage {
			t.Fatalf("B let the device over its quota: %d, want 507", resp.StatusCode)
		}
		if resp, _ := create(b, 512<<10, apptest.SHA256([]byte("less"))); resp.StatusCode != http.StatusCreated {
			t.Fatalf("B refused an upload within the quota: %d", resp.StatusCode)
		}
		if n, err := bsvc.Sweep(time.Hour, time.Now()); err != nil || n != 0 {
			t.Fatalf("sweep of a recent upload: %d, %v", n, err)
		}
		if n, err := bsvc.Sweep(time.Hour, time.Now().Add(2*time.Hour)); err != nil || n != 2 {
			t.Fatalf("sweep two hours later: %d, %v; want 2", n, err)
		}
		if resp := tusRequest(t, http.MethodHead, a.URL+path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("swept upload still answers on A: %d", resp.StatusCode)
		}
		if keys := partials(); len(keys) != 0 {
			t.Errorf("partial upload objects left: %v", keys)
		}
	})
}

// TestResumeOnOtherServerInterrupts: a phone whose PATCH to server A hangs
// (its network changed) resumes on server B: B asks A, through the shared
// lock, to end that PATCH, reports the offset A stored, and takes the rest.
func TestResumeOnOtherServerInterrupts(t *testing.T) {
	ctx := context.Background()
	blobs, a, b, _ := twoServers(t)
	data := make([]byte, 3000)
	rand.Read(data)
	sum := apptest.SHA256(data)
	resp, path := createUpload(t, a, len(data), sum)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create on A: %d", resp.StatusCode)
	}
	body, send := io.Pipe()
	hung := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPatch, a.URL+path, body)
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Upload-Offset", "0")
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			hung <- 0
			return
		}
		resp.Body.Close()
		hung <- resp.StatusCode
	}()
	if _, err := send.Write(data[:1200]); err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	time.Sleep(time.Second) // A has the bytes and holds the lock

	start := time.Now()
	resp = tusRequest(t, http.MethodHead, b.URL+path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD on B while A's PATCH hangs: %d", resp.StatusCode)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("B waited %v for A to let go", d)
	}
	select {
	case code := <-hung:
		// Interrupted, it is told to ask the offset again (409
		// upload_offset_mismatch), not that it was malformed.
		if code != 0 && code != http.StatusConflict {
			t.Errorf("A's PATCH ended with %d, want 409", code)
		}
	case <-time.After(5 * time.Second):
		t.Error("A's PATCH still runs after B took the upload")
	}
	offset, _ := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	if offset > 1200 {
		t.Fatalf("offset %d beyond the bytes sent", offset)
	}
	resp = tusRequest(t, http.MethodPatch, b.URL+path, data[offset:], "Upload-Offset", strconv.Itoa(offset), "Content-Type", "application/offset+octet-stream")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("rest on B from %d: %d", offset, resp.StatusCode)
	}
	blob, err := blobs.Open(ctx, sum, server.VariantOriginal)
	if err != nil {
		t.Fatalf("completed upload not in the blob store: %v", err)
	}
	defer blob.Close()
	if got, _ := io.ReadAll(blob); !bytes.Equal(got, data) {
		t.Fatal("stored bytes differ from the uploaded ones")
	}
	t.Logf("A had stored %d of 1200 bytes when B took over", offset)
}

// TestUploadQuotaAcrossServers: one device's creations sent at once to two
// servers are counted against its quota as if sent one after another
// (the lock of its creations is shared): no more succeed than fit.
func TestUploadQuotaAcrossServers(t *testing.T) {
	_, a, b, _ := twoServers(t) // a quota of 10 MiB
	const size, tries = 4 << 20, 8
	sum := apptest.SHA256([]byte("declared only"))
	status := make([]int, tries)
	var wg sync.WaitGroup
	for i := range status {
		srv := []*httptest.Server{a, b}[i%2]
		wg.Go(func() {
			resp, _ := createUpload(t, srv, size, sum)
			status[i] = resp.StatusCode
		})
	}
	wg.Wait()
	if created := countCreated(t, status); created != 2 {
		t.Errorf("%d of %d creations at once on two servers succeeded, want 2 (statuses %v)", created, tries, status)
	}
}

// TestNewUploadReplacesEarlierAcrossServers: an upload of a photo created
// on B ends the device's unfinished upload of that photo begun on A.
func TestNewUploadReplacesEarlierAcrossServers(t *testing.T) {
	_, a, b, _ := twoServers(t)
	sum := apptest.SHA256([]byte("declared only"))
	photo := newID()
	create := func(srv *httptest.Server) string {
		t.Helper()
		meta := func(k, v string) string { return k + " " + base64.StdEncoding.EncodeToString([]byte(v)) }
		resp := tusRequest(t, http.MethodPost, srv.URL+upload.BasePath, nil, "Upload-Length", "3000",
			"Upload-Metadata", strings.Join([]string{meta("photo_id", photo), meta("sha256", sum), meta("content_type", "image/jpeg")}, ","))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		loc := resp.Header.Get("Location")
		return loc[strings.Index(loc, upload.BasePath):]
	}
	first := create(a)
	second := create(b)
	if st := tusRequest(t, http.MethodHead, a.URL+first, nil).StatusCode; st != http.StatusNotFound {
		t.Errorf("the upload begun on A, after B made another of its photo: HEAD %d, want 404", st)
	}
	if st := tusRequest(t, http.MethodHead, a.URL+second, nil).StatusCode; st != http.StatusOK {
		t.Errorf("the new upload: HEAD %d", st)
	}
}

// TestStalePartsRemovedAtStart: the files tusd's S3 store holds a PATCH's
// bytes in on their way to the bucket, left in a server's directory when
// it died mid-request, are removed when it starts again; one written to
// within the last minute (a request of a process still running) and other
// files are left alone.
func TestStalePartsRemovedAtStart(t *testing.T) {
	ctx := context.Background()
	blobs, err := blobs3.Open(ctx, s3test.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "uploads")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Minute)
	files := map[string]bool{"tusd-s3-tmp-1263905420": false, "tusd-s3-tmp-77": false, "tusd-s3-tmp-fresh": true, "notes.txt": true}
	for name, keep := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
		if !keep || name == "notes.txt" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := upload.New(dir, 64<<20, false, server.NewSyncer(nil, nil), slog.Default(),
		upload.WithS3(blobs.Client(), blobs.Bucket(), blobs.Prefix()+"uploads/")); err != nil {
		t.Fatal(err)
	}
	for name, keep := range files {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != keep {
			t.Errorf("%s: kept %v, want %v", name, err == nil, keep)
		}
	}
}

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
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
func uploadServer(t *testing.T, db server.SyncStore, blobs *blobs3.Store, lockDSN string, p *server.Principal) *httptest.Server {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), lockDSN)
	if err != nil {
		t.Fatal(err)
	}
	locker := pglock.New(pool, slog.Default())
	syncer := server.NewSyncer(db, nil)
	syncer.Blobs = blobs
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
	return srv
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

// TestUploadAcrossServers: an upload begun on server A (its first chunk)
// is continued on server B, which reports A's offset and takes the rest;
// the completed bytes land in the shared blob store under their SHA-256,
// and the partial upload's objects are removed. Small first chunks stay
// in the upload's .part object, large ones become multipart parts.
func TestUploadAcrossServers(t *testing.T) {
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
	defer db.Close()
	p := &server.Principal{UserID: "u-1", Username: "inspector", DeviceID: "device-1"}
	a := uploadServer(t, db, blobs, lockDSN, p)
	b := uploadServer(t, db, blobs, lockDSN, p)

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
			meta := func(k, v string) string { return k + " " + base64.StdEncoding.EncodeToString([]byte(v)) }
			resp := tusRequest(t, http.MethodPost, a.URL+upload.BasePath, nil,
				"Upload-Length", strconv.Itoa(c.total),
				"Upload-Metadata", strings.Join([]string{meta("photo_id", newID()), meta("sha256", sum), meta("content_type", "image/jpeg")}, ","))
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create on A: %d", resp.StatusCode)
			}
			loc := resp.Header.Get("Location")
			path := loc[strings.Index(loc, upload.BasePath):]
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
			out, err := blobs.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: new(blobs.Bucket()), Prefix: new("uploads/")})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				t.Errorf("partial upload object left: %s", *o.Key)
			}
		})
	}
}

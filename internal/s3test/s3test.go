// Package s3test gives a test a real S3-protocol server over HTTP: gofakes3
// (an in-process S3 implementation, in-memory backend) behind an
// httptest.Server on loopback, with a fresh bucket. Clients talk to it with
// the ordinary S3 client over the network, as they would to MinIO or Ceph;
// nothing of ours is mocked.
package s3test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials the test server is given (it does not check signatures).
const (
	AccessKey = "fieldsync-test"
	SecretKey = "fieldsync-test-secret"
)

// Start starts an S3 server for t with an empty bucket and returns its
// fieldsync URL, s3://BUCKET?endpoint=http://127.0.0.1:PORT&region=us-east-1.
// It sets FIELDSYNC_S3_ACCESS_KEY and FIELDSYNC_S3_SECRET_KEY for t (so t
// may not be parallel). The server stops when t ends.
func Start(t testing.TB) string {
	t.Helper()
	storeURL, _ := StartHung(t)
	return storeURL
}

// StartHung is Start, and also returns a switch: on, the server answers
// no request (it holds each one open, as a store cut off behind a network
// partition or wedged would) until it is switched off or t ends.
func StartHung(t testing.TB) (storeURL string, hang func(on bool)) {
	t.Helper()
	backend := s3mem.New()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	bucket := "fieldsync-" + hex.EncodeToString(b)
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	s3 := gofakes3.New(backend).Server()
	var mu sync.Mutex
	release := make(chan struct{}) // closed while the server answers
	close(release)
	hang = func(on bool) {
		mu.Lock()
		defer mu.Unlock()
		select {
		case <-release:
			if on {
				release = make(chan struct{})
			}
		default:
			if !on {
				close(release)
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		wait := release
		mu.Unlock()
		select {
		case <-wait:
		case <-r.Context().Done():
			return
		}
		s3.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { hang(false) }) // before Close, which waits for the requests held
	t.Setenv("FIELDSYNC_S3_ACCESS_KEY", AccessKey)
	t.Setenv("FIELDSYNC_S3_SECRET_KEY", SecretKey)
	q := url.Values{"endpoint": {srv.URL}, "region": {"us-east-1"}}
	return "s3://" + bucket + "?" + q.Encode(), hang
}

package blobs3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/xinzhou-eco/fieldsync/internal/s3test"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/blobs3"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// open starts an S3 server and opens a store on it under a prefix.
func open(t *testing.T) *blobs3.Store {
	t.Helper()
	s, err := blobs3.Open(context.Background(), s3test.Start(t)+"&prefix=city")
	if err != nil {
		t.Fatal(err)
	}
	s.TempDir = t.TempDir()
	return s
}

// keys lists every object in the bucket.
func keys(t *testing.T, s *blobs3.Store) []string {
	t.Helper()
	out, err := s.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: new(s.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, *o.Key)
	}
	return ks
}

func TestOpenURL(t *testing.T) {
	url := s3test.Start(t)
	ctx := context.Background()
	for _, bad := range []string{
		"file:///tmp/blobs",
		"s3://?endpoint=http://127.0.0.1:1",
		url + "&colour=blue",
		url + "&path_style=maybe",
		url + "&timeout=0s",
		url + "&timeout=500ms",
		url + "&timeout=11m",
		url + "&timeout=30",
		url + "&timeout=soon",
		strings.Replace(url, "endpoint=http", "endpoint=ftp", 1),
	} {
		if _, err := blobs3.Open(ctx, bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	// A bucket that does not exist is said as such, with what to do (the
	// client's own error ended in an empty "NotFound:").
	if _, err := blobs3.Open(ctx, strings.Replace(url, "s3://fieldsync-", "s3://missing-", 1)); err == nil ||
		!strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "create it") {
		t.Errorf("Open of a bucket that does not exist: %v", err)
	}
	t.Setenv("FIELDSYNC_S3_ACCESS_KEY", "")
	t.Setenv("FIELDSYNC_S3_SECRET_KEY", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := blobs3.Open(ctx, url); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("Open without credentials: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "id")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	// A store refusing the key: the message names the variables the key
	// came from (multi-server probe: it named FIELDSYNC_S3_* to an
	// operator who had set the README's AWS_*).
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer refusing.Close()
	refused := "s3://fieldsync-photos?endpoint=" + refusing.URL + "&region=us-east-1"
	if _, err := blobs3.Open(ctx, refused); err == nil || !strings.Contains(err.Error(), "access denied: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
		t.Errorf("a key refused, from AWS_*: %v", err)
	}
	t.Setenv("FIELDSYNC_S3_ACCESS_KEY", "id")
	t.Setenv("FIELDSYNC_S3_SECRET_KEY", "secret")
	if _, err := blobs3.Open(ctx, refused); err == nil || !strings.Contains(err.Error(), "access denied: check FIELDSYNC_S3_ACCESS_KEY and FIELDSYNC_S3_SECRET_KEY") {
		t.Errorf("a key refused, from FIELDSYNC_S3_*: %v", err)
	}
	t.Setenv("FIELDSYNC_S3_ACCESS_KEY", "")
	t.Setenv("FIELDSYNC_S3_SECRET_KEY", "")
	s, err := blobs3.Open(ctx, url+"&prefix=/a/b")
	if err != nil {
		t.Fatalf("Open with AWS_ credentials: %v", err)
	}
	if s.Prefix() != "a/b/" {
		t.Errorf("prefix %q, want a/b/", s.Prefix())
	}
}

func TestPutVerifiesStoresOnceAndOpens(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	data := []byte("照片原件 original bytes")
	if _, err := s.Put(ctx, sum([]byte("other")), bytes.NewReader(data)); server.ErrorCode(err) != "hash_mismatch" {
		t.Fatalf("wrong hash: %v, want hash_mismatch", err)
	}
	if ks := keys(t, s); len(ks) != 0 {
		t.Fatalf("bytes with a wrong hash were kept: %v", ks)
	}
	for i := 0; i < 2; i++ {
		if n, err := s.Put(ctx, sum(data), bytes.NewReader(data)); err != nil || n != int64(len(data)) {
			t.Fatalf("put %d: %d, %v", i, n, err)
		}
	}
	want := "city/blobs/" + sum(data)[:2] + "/" + sum(data) + "/original"
	if ks := keys(t, s); len(ks) != 1 || ks[0] != want {
		t.Fatalf("keys %v, want [%s]", ks, want)
	}
	if tmp, _ := os.ReadDir(s.TempDir); len(tmp) != 0 {
		t.Fatalf("temporary files left behind: %v", tmp)
	}
	b, err := s.Open(ctx, sum(data), server.VariantOriginal)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, _ := io.ReadAll(b)
	if !bytes.Equal(got, data) || b.Size() != int64(len(data)) || b.ModTime().IsZero() {
		t.Fatalf("read back %q (size %d, time %v)", got, b.Size(), b.ModTime())
	}
	// Ranged reads, as http.ServeContent and image decoders make them.
	if _, err := b.Seek(3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(b); !bytes.Equal(got, data[3:]) {
		t.Fatalf("read after seek %q", got)
	}
	p := make([]byte, 5)
	if n, err := b.ReadAt(p, 2); n != 5 || err != nil || !bytes.Equal(p, data[2:7]) {
		t.Fatalf("ReadAt: %d %v %q", n, err, p)
	}
	if n, err := b.ReadAt(p, int64(len(data))-2); n != 2 || err != io.EOF {
		t.Fatalf("ReadAt past the end: %d %v", n, err)
	}
	if pos, _ := b.Seek(-4, io.SeekEnd); pos != int64(len(data))-4 {
		t.Fatalf("seek from end: %d", pos)
	}
	if got, _ := io.ReadAll(b); !bytes.Equal(got, data[len(data)-4:]) {
		t.Fatalf("read after seek from end %q", got)
	}

	if _, err := s.Open(ctx, sum(data), server.VariantPreview); server.ErrorCode(err) != "not_found" {
		t.Fatalf("missing variant: %v", err)
	}
	if _, err := s.Open(ctx, "../../etc/passwd", server.VariantOriginal); server.ErrorCode(err) != "bad_request" {
		t.Fatalf("key outside the store: %v", err)
	}
	if err := s.PutVariant(ctx, sum(data), server.VariantThumbnail, []byte("thumb")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Has(ctx, sum(data), server.VariantThumbnail); !ok || err != nil {
		t.Fatalf("thumbnail not stored: %v", err)
	}
	if ok, err := s.Has(ctx, sum(data), server.VariantPreview); ok || err != nil {
		t.Fatalf("Has(preview) = %v, %v", ok, err)
	}
}

// TestOriginalNeverRewritten: a second Put of stored bytes leaves the
// stored object as it was (same time, same ETag).
func TestOriginalNeverRewritten(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	data := []byte("evidence")
	if _, err := s.Put(ctx, sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	key := "city/blobs/" + sum(data)[:2] + "/" + sum(data) + "/original"
	head := func() *s3.HeadObjectOutput {
		out, err := s.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: new(s.Bucket()), Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := head()
	time.Sleep(1100 * time.Millisecond) // S3 times have whole seconds
	if _, err := s.Put(ctx, sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if after := head(); !after.LastModified.Equal(*before.LastModified) || *after.ETag != *before.ETag {
		t.Fatalf("original rewritten: %v %s, was %v %s", after.LastModified, *after.ETag, before.LastModified, *before.ETag)
	}
}

// TestDeleteAndWalk: Delete removes an original with its derivatives
// (deleting again is no error); Walk reports every stored sum once, with
// the time its original was stored, and may delete as it goes.
func TestDeleteAndWalk(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	keep, drop := []byte("kept"), []byte("deleted")
	for _, data := range [][]byte{keep, drop} {
		if _, err := s.Put(ctx, sum(data), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutVariant(ctx, sum(data), server.VariantThumbnail, []byte("thumb")); err != nil {
			t.Fatal(err)
		}
	}
	orphan := sum([]byte("variant only"))
	if err := s.PutVariant(ctx, orphan, server.VariantPreview, []byte("preview")); err != nil {
		t.Fatal(err)
	}
	walked := func() map[string]time.Time {
		got := map[string]time.Time{}
		if err := s.Walk(ctx, func(sum string, stored time.Time) error {
			if _, dup := got[sum]; dup {
				t.Errorf("walk reported %s twice", sum)
			}
			got[sum] = stored
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := walked(); len(got) != 3 || got[sum(keep)].IsZero() || got[sum(drop)].IsZero() || got[orphan].IsZero() {
		t.Fatalf("walk before delete: %v", got)
	}
	for i := 0; i < 2; i++ {
		if err := s.Delete(ctx, sum(drop)); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	for _, v := range []string{server.VariantOriginal, server.VariantThumbnail} {
		if ok, _ := s.Has(ctx, sum(drop), v); ok {
			t.Errorf("%s kept after Delete", v)
		}
		if ok, _ := s.Has(ctx, sum(keep), v); !ok {
			t.Errorf("%s of another sum deleted", v)
		}
	}
	// Deleting from inside the walk, as the sweeper does.
	if err := s.Walk(ctx, func(sum string, _ time.Time) error {
		if sum == orphan {
			return s.Delete(ctx, sum)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := walked(); len(got) != 1 || got[sum(keep)].IsZero() {
		t.Fatalf("walk after delete: %v", got)
	}
	if err := s.Delete(ctx, "../../etc"); server.ErrorCode(err) != "bad_request" {
		t.Fatalf("delete outside the store: %v", err)
	}
}

// TestReadAtLarge: ReadAt answers from its read-ahead window and fetches
// again where the window ends, as an image decoder reading through an
// io.SectionReader needs; concurrent ReadAts are safe.
func TestReadAtLarge(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	data := make([]byte, 700<<10+17)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	if _, err := s.Put(ctx, sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(ctx, sum(data), server.VariantOriginal)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("section read: %d bytes, %v", len(got), err)
	}
	done := make(chan bool)
	for _, off := range []int{0, 256<<10 - 3, 300 << 10, 100, len(data) - 10} {
		go func() {
			p := make([]byte, 4096)
			n, err := b.ReadAt(p, int64(off))
			want := min(len(p), len(data)-off)
			done <- n == want && bytes.Equal(p[:n], data[off:off+n]) && (err == nil) == (want == len(p))
		}()
	}
	for range 5 {
		if !<-done {
			t.Error("a ReadAt read wrong bytes")
		}
	}
}

// TestStoreThatStopsAnswering: a store that holds every request without
// answering (a partition, a wedged server) fails the operations that need
// it within its timeout and the client's retries, instead of holding them
// for ever, and Ping tells; once it answers again, so does the store.
func TestStoreThatStopsAnswering(t *testing.T) {
	url, hang := s3test.StartHung(t)
	s, err := blobs3.Open(context.Background(), url+"&timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	s.TempDir = t.TempDir()
	data := []byte("evidence")
	if _, err := s.Put(context.Background(), sum(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	hang(true)
	ctx := context.Background()
	type result struct {
		name string
		err  error
	}
	done := make(chan result, 6)
	for name, op := range map[string]func() error{
		"Ping": func() error { return s.Ping(ctx) },
		"Has":  func() error { _, err := s.Has(ctx, sum(data), server.VariantOriginal); return err },
		"Open": func() error { _, err := s.Open(ctx, sum(data), server.VariantOriginal); return err },
		"Put": func() error {
			other := []byte("more evidence")
			_, err := s.Put(ctx, sum(other), bytes.NewReader(other))
			return err
		},
		"blobs3.Open": func() error { _, err := blobs3.Open(ctx, url+"&timeout=1s"); return err },
		// Called off by its caller (a request that ended) while the store
		// held it: the store's fault all the same, not an internal error.
		"Has, called off": func() error {
			c, cancel := context.WithCancel(ctx)
			defer cancel()
			time.AfterFunc(300*time.Millisecond, cancel)
			_, err := s.Has(c, sum(data), server.VariantOriginal)
			return err
		},
	} {
		go func() { done <- result{name, op()} }()
	}
	// The client's three tries of 1 s and their pauses take seconds.
	limit := time.After(time.Minute)
	for range 6 {
		select {
		case r := <-done:
			if r.err == nil {
				t.Errorf("%s on a store that does not answer succeeded", r.name)
			} else if code := server.ErrorCode(r.err); code != syncproto.CodeUnavailable || server.RetryAfterSeconds(r.err) == 0 {
				// Answered 503 with Retry-After, not 500 internal.
				t.Errorf("%s on a store that does not answer: %q (%v), want unavailable with a Retry-After", r.name, code, r.err)
			}
		case <-limit:
			t.Fatal("operations on a store that does not answer still wait after a minute")
		}
	}
	hang(false)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping once the store answers again: %v", err)
	}
	if ok, err := s.Has(ctx, sum(data), server.VariantOriginal); !ok || err != nil {
		t.Errorf("Has once the store answers again: %v, %v", ok, err)
	}
}

// TestStoreRefusingConnections: a store whose address refuses connections
// (stopped, a wrong port) is out of reach, not an internal error: the
// request answers 503 unavailable with a Retry-After.
func TestStoreRefusingConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	t.Setenv("FIELDSYNC_S3_ACCESS_KEY", "id")
	t.Setenv("FIELDSYNC_S3_SECRET_KEY", "secret")
	_, err = blobs3.Open(context.Background(), "s3://photos?endpoint=http://"+addr+"&region=us-east-1&timeout=1s")
	if err == nil {
		t.Fatal("opened a store at a closed port")
	}
	if code := server.ErrorCode(err); code != syncproto.CodeUnavailable || server.RetryAfterSeconds(err) == 0 {
		t.Errorf("a store refusing connections: %q (%v), want unavailable with a Retry-After", code, err)
	}
}

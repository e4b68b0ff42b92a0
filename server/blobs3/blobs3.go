// Package blobs3 is the BlobStore on an S3-compatible object store (AWS S3,
// MinIO, Ceph RGW, Alibaba OSS, …), through aws-sdk-go-v2.
//
// Objects are content-addressed: the variant v of the photo bytes with
// SHA-256 sum lives at PREFIX blobs/<sum[:2]>/<sum>/<v>, so that one sorted
// listing of blobs/ gives every sum with all its variants together (Walk
// streams it in constant memory). Put hashes the bytes into a local
// temporary file first and uploads them only when the hash matches, with
// If-None-Match: * so that an original already stored is never rewritten;
// nothing partial is ever visible under a final key (a PUT is atomic in S3).
package blobs3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Store is a BlobStore in an S3 bucket.
type Store struct {
	client *s3.Client
	bucket string
	prefix string
	// credsFrom names the environment variables the key came from.
	credsFrom string
	// TempDir is where Put keeps the bytes while it hashes them; empty is
	// os.TempDir().
	TempDir string

	pageSize int32 // keys per listing page; 0 is the server's (1000)
}

// Open connects to the bucket named by rawURL:
//
//	s3://BUCKET?endpoint=http://HOST:PORT&region=REGION&prefix=PATH/
//
// endpoint is the object store's address (absent: AWS S3 itself); when it
// is given, requests use path-style addressing (http://HOST/BUCKET/KEY),
// which MinIO, Ceph and SeaweedFS understand, unless path_style=false asks
// for virtual-hosted style (http://BUCKET.HOST/KEY, which Alibaba OSS
// requires). region defaults to us-east-1. prefix, if given, is put before
// every key (a trailing "/" is added). timeout (a Go duration, 1s to 10m;
// default 30s) bounds how long a request waits to connect and then for the
// store's answer once it is sent, so that a store that stops answering
// fails the requests that need it (after the client's retries) instead of
// holding them for ever.
//
// The credentials come from the environment: FIELDSYNC_S3_ACCESS_KEY and
// FIELDSYNC_S3_SECRET_KEY if set, else AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Open checks that the bucket
// can be reached.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob store URL: %w", err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("blob store URL %q: want s3://BUCKET?endpoint=…", rawURL)
	}
	q := u.Query()
	for k := range q {
		if k != "endpoint" && k != "region" && k != "prefix" && k != "path_style" && k != "timeout" {
			return nil, fmt.Errorf("blob store URL: unknown parameter %q (endpoint, region, prefix, path_style, timeout)", k)
		}
	}
	timeout := DefaultTimeout
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 10*time.Minute {
			return nil, fmt.Errorf("blob store URL: timeout %q should be a duration from 1s to 10m (30s if absent)", v)
		}
		timeout = d
	}
	pathStyle := true
	switch q.Get("path_style") {
	case "", "true":
	case "false":
		pathStyle = false
	default:
		return nil, fmt.Errorf("blob store URL: path_style should be true or false")
	}
	creds, credsFrom, err := envCredentials()
	if err != nil {
		return nil, err
	}
	region := q.Get("region")
	if region == "" {
		region = "us-east-1"
	}
	endpoint := q.Get("endpoint")
	if endpoint != "" {
		if e, err := url.Parse(endpoint); err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return nil, fmt.Errorf("blob store URL: endpoint %q should be http(s)://HOST[:PORT]", endpoint)
		}
	}
	client := s3.New(s3.Options{
		Region:      region,
		Credentials: creds,
		// Only the checksums S3 requires: the newer defaults (CRC32 on
		// every request, aws-chunked bodies) are not understood by every
		// S3-compatible server. Put sends Content-MD5 instead.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient: awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = timeout }).
			WithTransportOptions(func(t *http.Transport) {
				t.TLSHandshakeTimeout = timeout
				t.ResponseHeaderTimeout = timeout
			}),
	}, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = pathStyle
		}
	})
	prefix := strings.TrimPrefix(q.Get("prefix"), "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	s := &Store{client: client, bucket: u.Host, prefix: prefix, credsFrom: credsFrom}
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// DefaultTimeout is how long a request waits for the store when the URL
// does not say (its timeout parameter).
const DefaultTimeout = 30 * time.Second

// Ping asks the store for the bucket (a HEAD), to tell that it can be
// reached and answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	switch st := status(err); {
	case err == nil:
		return nil
	case st == http.StatusNotFound:
		// Said as what to do: a HEAD's 404 has no body, and the client's
		// error ends in an empty "NotFound:".
		return fmt.Errorf("open bucket %s: the bucket does not exist at this endpoint: create it (fieldsync does not), or correct the bucket's name in the URL", s.bucket)
	case st == http.StatusForbidden:
		return fmt.Errorf("open bucket %s: access denied: check %s and the key's rights on the bucket: %w", s.bucket, s.credsFrom, err)
	}
	return fmt.Errorf("open bucket %s: %w", s.bucket, err)
}

// envCredentials reads the store's key from the environment, and names
// the variables it came from (for a refusal's message).
func envCredentials() (creds aws.CredentialsProvider, from string, err error) {
	if id, secret := os.Getenv("FIELDSYNC_S3_ACCESS_KEY"), os.Getenv("FIELDSYNC_S3_SECRET_KEY"); id != "" || secret != "" {
		if id == "" || secret == "" {
			return nil, "", errors.New("blob store: set both FIELDSYNC_S3_ACCESS_KEY and FIELDSYNC_S3_SECRET_KEY")
		}
		return credentials.NewStaticCredentialsProvider(id, secret, ""), "FIELDSYNC_S3_ACCESS_KEY and FIELDSYNC_S3_SECRET_KEY", nil
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return nil, "", errors.New("blob store: no S3 credentials (set FIELDSYNC_S3_ACCESS_KEY and FIELDSYNC_S3_SECRET_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	from = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	if os.Getenv("AWS_SESSION_TOKEN") != "" {
		from = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
	}
	return credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")), from, nil
}

// Client is the S3 client, for other users of the same bucket (the upload
// service's tusd s3store).
func (s *Store) Client() *s3.Client { return s.client }

// Bucket is the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Prefix is the URL's key prefix ("" or ending in "/"). Blobs are kept
// under Prefix()+"blobs/"; other users of the bucket take another name
// under Prefix() (the upload service: Prefix()+"uploads/").
func (s *Store) Prefix() string { return s.prefix }

var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

var variants = map[string]bool{server.VariantOriginal: true, server.VariantPreview: true, server.VariantThumbnail: true}

// blobsDir is where the blobs live, below the prefix.
const blobsDir = "blobs/"

func (s *Store) key(sum, variant string) (string, error) {
	if !sumRE.MatchString(sum) || !variants[variant] {
		return "", server.Errorf(syncproto.CodeBadRequest, "无效的文件标识")
	}
	return s.prefix + blobsDir + sum[:2] + "/" + sum + "/" + variant, nil
}

// Put stores and verifies an original. The bytes are hashed into a
// temporary file and uploaded only if they match sum; an original already
// stored is not uploaded again.
func (s *Store) Put(ctx context.Context, sum string, r io.Reader) (int64, error) {
	key, err := s.key(sum, server.VariantOriginal)
	if err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(s.TempDir, "fieldsync-put-*")
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", sum, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h, m := sha256.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(f, h, m), r)
	if err != nil {
		return n, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return n, server.HashMismatch(got)
	}
	if ok, err := s.Has(ctx, sum, server.VariantOriginal); err != nil || ok {
		return n, err // the same content is already stored
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return n, err
	}
	return n, s.put(ctx, key, f, n, m.Sum(nil))
}

// put uploads body under key unless an object is already there (the bytes
// are content-addressed, so it is the same).
func (s *Store) put(ctx context.Context, key string, body io.ReadSeeker, size int64, md5sum []byte) error {
	in := &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          body,
		ContentLength: aws.Int64(size),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(md5sum)),
		IfNoneMatch:   aws.String("*"),
	}
	_, err := s.client.PutObject(ctx, in)
	if status(err) == http.StatusNotImplemented {
		// A store without conditional writes: Put checked just before
		// that the key was free, and the bytes are the same anyway.
		if _, err = body.Seek(0, io.SeekStart); err == nil {
			in.IfNoneMatch = nil
			_, err = s.client.PutObject(ctx, in)
		}
	}
	switch status(err) {
	case http.StatusPreconditionFailed, http.StatusConflict:
		return nil // stored meanwhile by another server
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// PutVariant stores a derivative.
func (s *Store) PutVariant(ctx context.Context, sum, variant string, data []byte) error {
	key, err := s.key(sum, variant)
	if err != nil {
		return err
	}
	m := md5.Sum(data)
	return s.put(ctx, key, bytes.NewReader(data), int64(len(data)), m[:])
}

func init() {
	// The store failing on its side (500, 503 SlowDown), or not answering
	// within the bucket URL's timeout: out of reach, not a bug.
	server.RegisterUnreachable(func(err error) bool {
		var te interface{ Timeout() bool }
		return status(err) >= 500 || errors.As(err, &te) && te.Timeout() && isS3Error(err) ||
			// A request to the store still waiting when its caller's time
			// ran out or it was called off: a store that hangs.
			isS3Error(err) && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled))
	})
}

// isS3Error tells an error of this store's client (an operation error
// naming the S3 service) from any other that times out.
func isS3Error(err error) bool {
	var oe *smithy.OperationError
	return errors.As(err, &oe) && oe.ServiceID == "S3"
}

// status is the HTTP status of a failed S3 request, 0 if it has none.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Open opens a stored object. Its reads are ranged GETs made with ctx.
func (s *Store) Open(ctx context.Context, sum, variant string) (server.Blob, error) {
	key, err := s.key(sum, variant)
	if err != nil {
		return nil, err
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if status(err) == http.StatusNotFound {
		return nil, server.Errorf(syncproto.CodeNotFound, "文件不存在")
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return &blob{ctx: ctx, s: s, key: key, size: aws.ToInt64(head.ContentLength),
		mod: aws.ToTime(head.LastModified), etag: aws.ToString(head.ETag)}, nil
}

// Has reports whether an object is stored.
func (s *Store) Has(ctx context.Context, sum, variant string) (bool, error) {
	key, err := s.key(sum, variant)
	if err != nil {
		return false, err
	}
	_, err = s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if status(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("head %s: %w", key, err)
	}
	return true, nil
}

// Delete removes every variant of sum, the original last, so that a crash
// part-way leaves an object that Walk still finds.
func (s *Store) Delete(ctx context.Context, sum string) error {
	if _, err := s.key(sum, server.VariantOriginal); err != nil {
		return err
	}
	for _, v := range []string{server.VariantThumbnail, server.VariantPreview, server.VariantOriginal} {
		key, _ := s.key(sum, v)
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
		if err != nil && status(err) != http.StatusNotFound {
			return fmt.Errorf("delete %s: %w", key, err)
		}
	}
	return nil
}

// Walk visits every stored sum. The listing is sorted by key, so a sum's
// variants come together; each sum is reported when the listing has passed
// it, with its original's time (or its newest variant's).
func (s *Store) Walk(ctx context.Context, fn func(sum string, stored time.Time) error) error {
	root := s.prefix + blobsDir
	var cur string             // the sum being gathered
	var orig, newest time.Time // its original's time, its newest variant's
	flush := func() error {
		if cur == "" {
			return nil
		}
		at := orig
		if at.IsZero() {
			at = newest
		}
		sum := cur
		cur, orig, newest = "", time.Time{}, time.Time{}
		return fn(sum, at)
	}
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &root}
	if s.pageSize > 0 {
		in.MaxKeys = &s.pageSize
	}
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, o := range page.Contents {
			// ab/<sum>/<variant>
			parts := strings.Split(strings.TrimPrefix(aws.ToString(o.Key), root), "/")
			if len(parts) != 3 || !sumRE.MatchString(parts[1]) || parts[0] != parts[1][:2] || !variants[parts[2]] {
				continue
			}
			if parts[1] != cur {
				if err := flush(); err != nil {
					return err
				}
				cur = parts[1]
			}
			at := aws.ToTime(o.LastModified)
			if parts[2] == server.VariantOriginal {
				orig = at
			} else if at.After(newest) {
				newest = at
			}
		}
	}
	return flush()
}

// blob reads an object with ranged GETs: Read streams from the current
// offset (one GET until the next Seek), ReadAt fetches windows of at least
// readAhead bytes and answers from the last one when it can.
// Every GET asks for the ETag Open saw, so a blob never mixes two objects.
type blob struct {
	ctx  context.Context
	s    *Store
	key  string
	size int64
	mod  time.Time
	etag string

	off  int64         // Read's offset
	body io.ReadCloser // a GET's body positioned at off, or nil

	mu     sync.Mutex // ReadAt may be called concurrently
	win    []byte     // the bytes ReadAt fetched last, from winOff
	winOff int64
}

func (b *blob) Size() int64        { return b.size }
func (b *blob) ModTime() time.Time { return b.mod }

func (b *blob) get(from, to int64) (io.ReadCloser, error) {
	out, err := b.s.client.GetObject(b.ctx, &s3.GetObjectInput{
		Bucket:  &b.s.bucket,
		Key:     &b.key,
		Range:   aws.String(fmt.Sprintf("bytes=%d-%d", from, to)),
		IfMatch: aws.String(b.etag),
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", b.key, err)
	}
	return out.Body, nil
}

func (b *blob) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.body == nil {
		body, err := b.get(b.off, b.size-1)
		if err != nil {
			return 0, err
		}
		b.body = body
	}
	n, err := b.body.Read(p)
	b.off += int64(n)
	if err == io.EOF {
		b.body.Close()
		b.body = nil
		if b.off < b.size {
			return n, io.ErrUnexpectedEOF
		}
		err = nil
	}
	return n, err
}

// readAhead is the least a ReadAt fetches: image and EXIF decoders read
// through an io.SectionReader in small pieces, which would otherwise be one
// GET each.
const readAhead = 256 << 10

func (b *blob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blobs3: negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	want := p
	if rest := b.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	if len(want) == 0 {
		return 0, nil
	}
	b.mu.Lock()
	win, winOff := b.win, b.winOff
	b.mu.Unlock()
	if off < winOff || off+int64(len(want)) > winOff+int64(len(win)) {
		n := min(max(int64(len(want)), readAhead), b.size-off)
		body, err := b.get(off, off+n-1)
		if err != nil {
			return 0, err
		}
		win = make([]byte, n)
		_, err = io.ReadFull(body, win)
		body.Close()
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", b.key, err)
		}
		winOff = off
		b.mu.Lock()
		b.win, b.winOff = win, winOff
		b.mu.Unlock()
	}
	n := copy(want, win[off-winOff:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (b *blob) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size
	case io.SeekStart:
	default:
		return 0, errors.New("blobs3: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("blobs3: negative position")
	}
	if offset != b.off && b.body != nil {
		b.body.Close()
		b.body = nil
	}
	b.off = offset
	return offset, nil
}

func (b *blob) Close() error {
	if b.body != nil {
		b.body.Close()
		b.body = nil
	}
	return nil
}

package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"
)

// s3Parts is where partial uploads are kept in S3 (WithS3).
type s3Parts struct {
	client *s3.Client
	bucket string
	prefix string
}

// store is tusd's s3store on the bucket, sending parts from tmp.
func (p *s3Parts) store(tmp string) s3store.S3Store {
	st := s3store.New(p.bucket, p.client)
	st.ObjectPrefix = p.prefix
	st.TemporaryDirectory = tmp
	return st
}

// infoObject is an unfinished upload's .info object.
type infoObject struct {
	key      string
	modified time.Time
}

// list returns the .info objects of the uploads in the bucket whose ids
// begin with idPrefix, and the time each upload's .part object was last
// written.
func (p *s3Parts) list(ctx context.Context, idPrefix string) ([]infoObject, map[string]time.Time, error) {
	var infos []infoObject
	parts := map[string]time.Time{}
	pager := s3.NewListObjectsV2Paginator(p.client, &s3.ListObjectsV2Input{Bucket: &p.bucket, Prefix: aws.String(p.prefix + idPrefix)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list uploads: %w", err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			switch {
			case strings.HasSuffix(key, ".info"):
				infos = append(infos, infoObject{key: key, modified: aws.ToTime(o.LastModified)})
			case strings.HasSuffix(key, ".part"):
				parts[strings.TrimSuffix(key, ".part")] = aws.ToTime(o.LastModified)
			}
		}
	}
	return infos, parts, nil
}

// read reads an .info object; false if it is gone (finished meanwhile).
func (p *s3Parts) read(ctx context.Context, key string) (handler.FileInfo, bool, error) {
	var info handler.FileInfo
	out, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &p.bucket, Key: &key})
	if err != nil {
		var missing *types.NoSuchKey
		if errors.As(err, &missing) {
			return info, false, nil
		}
		return info, false, fmt.Errorf("read %s: %w", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return info, false, fmt.Errorf("read %s: %w", key, err)
	}
	return info, json.Unmarshal(b, &info) == nil, nil
}

// infos returns the unfinished uploads whose ids begin with idPrefix.
func (p *s3Parts) infos(ctx context.Context, idPrefix string) ([]handler.FileInfo, error) {
	objs, _, err := p.list(ctx, idPrefix)
	if err != nil {
		return nil, err
	}
	var out []handler.FileInfo
	for _, o := range objs {
		info, ok, err := p.read(ctx, o.key)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, info)
		}
	}
	return out, nil
}

// sweep terminates the uploads nothing was written to for maxAge: their
// .info and .part objects and every part of their multipart upload are
// older than that.
func (p *s3Parts) sweep(ctx context.Context, store partialStore, maxAge time.Duration, now time.Time) (int, error) {
	objs, parts, err := p.list(ctx, "")
	if err != nil {
		return 0, err
	}
	old := func(t time.Time) bool { return now.Sub(t) >= maxAge }
	n := 0
	for _, o := range objs {
		if !old(o.modified) || !old(parts[strings.TrimSuffix(o.key, ".info")]) {
			continue
		}
		info, ok, err := p.read(ctx, o.key)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		if recent, err := p.partWritten(ctx, info, old); err != nil || recent {
			if err != nil {
				return n, err
			}
			continue
		}
		up, err := store.GetUpload(ctx, info.ID)
		if err == nil {
			err = store.AsTerminatableUpload(up).Terminate(ctx)
		}
		if err != nil {
			return n, fmt.Errorf("remove upload %s: %w", info.ID, err)
		}
		n++
	}
	return n, nil
}

// partWritten reports whether a part of the upload's multipart upload was
// written recently (not old).
func (p *s3Parts) partWritten(ctx context.Context, info handler.FileInfo, old func(time.Time) bool) (bool, error) {
	objectID, uploadID, ok := strings.Cut(info.ID, "+")
	if !ok {
		return false, nil
	}
	pager := s3.NewListPartsPaginator(p.client, &s3.ListPartsInput{Bucket: &p.bucket, Key: aws.String(p.prefix + objectID), UploadId: &uploadID})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			var missing *types.NoSuchUpload
			if errors.As(err, &missing) {
				return false, nil
			}
			return false, fmt.Errorf("list parts of %s: %w", info.ID, err)
		}
		for _, part := range page.Parts {
			if !old(aws.ToTime(part.LastModified)) {
				return true, nil
			}
		}
	}
	return false, nil
}

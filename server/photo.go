package server

import (
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// IsSHA256 reports whether s is a lower-case hex SHA-256.
func IsSHA256(s string) bool { return sha256RE.MatchString(s) }

// photoBytesPresent marks a new photo record uploaded when its bytes were
// stored before the record arrived (a phone may upload first, or the same
// bytes were uploaded for another photo: they are stored once).
func (s *Syncer) photoBytesPresent(ctx context.Context, r *StoredRecord) (bool, error) {
	sum := r.Text("sha256")
	if s.Blobs == nil || !IsSHA256(sum) {
		return false, nil
	}
	ok, err := s.Blobs.Has(ctx, sum, VariantOriginal)
	if err != nil || !ok {
		return false, err
	}
	r.State.Fields["uploaded"] = syncproto.FieldState{Value: json.RawMessage("true"), HLC: s.Clock.Now()}
	return true, nil
}

// CheckUpload decides whether p may upload the bytes of photo photoID
// declared as sum. The photo record may not exist yet (a phone can upload
// before it pushes); if it does, it must be in p's scope and declare the
// same SHA-256 and content type. Errors: invalid_upload, out_of_scope, hash_mismatch,
// forbidden.
func (s *Syncer) CheckUpload(ctx context.Context, p *Principal, photoID, sum, contentType string) error {
	switch {
	case p == nil:
		return Errorf(syncproto.CodeUnauthorized, "请先登录")
	case !IsCanonicalUUID(photoID):
		return Errorf(syncproto.CodeInvalidUpload, "上传元数据 photo_id 应为小写 UUID")
	case !IsSHA256(sum):
		return Errorf(syncproto.CodeInvalidUpload, "上传元数据 sha256 应为 64 位小写十六进制")
	}
	r, err := s.Store.Get(ctx, syncproto.EntityPhoto, photoID)
	switch {
	case err != nil:
		return err
	case r == nil:
		return nil
	case !p.CanSee(r.County):
		return Errorf(syncproto.CodeOutOfScope, "无权为区县 %s 的照片上传文件", r.County)
	case r.Text("sha256") != sum:
		return Errorf(syncproto.CodeHashMismatch, "照片记录声明的 SHA-256 与上传的不一致")
	case contentType != "" && r.Text("content_type") != "" && r.Text("content_type") != contentType:
		return Errorf(syncproto.CodeInvalidUpload, "上传声明的类型 %s 与照片记录的 %s 不一致", contentType, r.Text("content_type"))
	}
	return nil
}

// BlobStored marks every live photo record that declares sum as uploaded,
// and returns the ids of those not yet processed.
func (s *Syncer) BlobStored(ctx context.Context, sum string) ([]string, error) {
	var ids []string
	err := s.Store.Update(ctx, func(tx WriteTx) error {
		recs, err := tx.Find(ctx, EntityByName(syncproto.EntityPhoto), "sha256", sum)
		if err != nil {
			return err
		}
		now := s.Now().UTC()
		for _, r := range recs {
			if r.State.IsDeleted() {
				continue
			}
			if err := s.write(ctx, tx, r, map[string]any{"uploaded": true}, now); err != nil {
				return err
			}
			if r.Value("processed_at") == nil {
				ids = append(ids, r.ID)
			}
		}
		return nil
	})
	return ids, err
}

// SetServerFields writes server-owned fields of an existing record with the
// server's HLC (processing results, evidence flags). Errors: not_found.
func (s *Syncer) SetServerFields(ctx context.Context, entity, id string, values map[string]any) error {
	return s.Store.Update(ctx, func(tx WriteTx) error {
		r, err := tx.Get(ctx, EntityByName(entity), id)
		if err != nil {
			return err
		}
		if r == nil {
			return Errorf(syncproto.CodeNotFound, "记录不存在")
		}
		return s.write(ctx, tx, r, values, s.Now().UTC())
	})
}

// Time returns a time field's value (zero if absent or invalid).
func (r *StoredRecord) Time(field string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, r.Text(field))
	return t
}

// Float returns a number field's value and whether it is set.
func (r *StoredRecord) Float(field string) (float64, bool) {
	var f *float64
	if json.Unmarshal(r.Value(field), &f) != nil || f == nil {
		return 0, false
	}
	return *f, true
}

// PhotoHash is a processed photo's perceptual hash (hex) and site.
type PhotoHash struct {
	PhotoID, SiteID, PHash string
}

// PhotoObject is an open variant of a photo, with the headers it is
// served under.
type PhotoObject struct {
	Blob
	// ETag names the content: objects are content-addressed, so a variant
	// of a hash never changes and may be cached for ever.
	ETag        string
	ContentType string
}

// OpenPhoto opens a variant of photo id for p, checking that the photo
// exists and is in p's scope. The caller closes it. Errors: not_found
// (no such photo or variant, or no blob store), out_of_scope, not_ready
// (bytes not uploaded, or the derivative not made yet).
func OpenPhoto(ctx context.Context, get func(ctx context.Context, entity, id string) (*StoredRecord, error),
	blobs BlobStore, p *Principal, id, variant string) (*PhotoObject, error) {
	switch variant {
	case VariantOriginal, VariantPreview, VariantThumbnail:
	default:
		return nil, Errorf(syncproto.CodeNotFound, "没有 %q 这种图片版本（可选 original、preview、thumbnail）", variant)
	}
	if blobs == nil {
		return nil, Errorf(syncproto.CodeNotFound, "未启用照片存储")
	}
	rec, err := get(ctx, syncproto.EntityPhoto, id)
	switch {
	case err != nil:
		return nil, err
	case rec == nil || rec.State.IsDeleted():
		return nil, Errorf(syncproto.CodeNotFound, "照片不存在")
	case !p.CanSee(rec.County):
		return nil, Errorf(syncproto.CodeOutOfScope, "无权查看区县 %s 的照片", rec.County)
	}
	sum := rec.Text("sha256")
	b, err := blobs.Open(ctx, sum, variant)
	if ErrorCode(err) == syncproto.CodeNotFound {
		if variant == VariantOriginal {
			return nil, Errorf(syncproto.CodeNotReady, "照片文件尚未上传")
		}
		return nil, Errorf(syncproto.CodeNotReady, "预览图尚未生成（正在生成，或无法生成：见照片的 flags）")
	}
	if err != nil {
		return nil, err
	}
	ct := rec.Text("content_type")
	if variant != VariantOriginal || ct == "" {
		ct = "image/jpeg"
	}
	return &PhotoObject{Blob: b, ETag: `"` + sum + "-" + variant + `"`, ContentType: ct}, nil
}

// SetHeaders sets the caching and type headers a photo is served with.
func (o *PhotoObject) SetHeaders(h interface{ Set(k, v string) }) {
	h.Set("ETag", o.ETag)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("Content-Type", o.ContentType)
}

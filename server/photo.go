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

package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// IsSHA256 reports whether s is a lower-case hex SHA-256.
func IsSHA256(s string) bool { return sha256RE.MatchString(s) }

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
		now := s.Now().UTC()
		if err := s.write(ctx, tx, r, values, now); err != nil {
			return err
		}
		return s.recheckAfterWrite(ctx, tx, r, values, false, now)
	})
}

// FlagRefused is the evidence flag of a photo whose bytes the server
// refused for good (bad_image, hash_mismatch, invalid_upload,
// unsupported_media_type, body_too_large): the phone does not send them again (sync.md
// §10.4), so the office must not wait for them as for bytes still on
// their way. It goes when bytes are stored and processed.
const FlagRefused = "refused"

// refusedForGood are the codes of upload refusals a phone does not retry.
var refusedForGood = map[string]bool{syncproto.CodeBadImage: true, syncproto.CodeHashMismatch: true,
	syncproto.CodeInvalidUpload: true, syncproto.CodeUnsupportedMediaType: true, syncproto.CodeBodyTooLarge: true}

// fileRefused says whether an upload refusal's code is about the file's
// bytes (bad_image, hash_mismatch, body_too_large), not what the photo
// record declared.
func fileRefused(code any) bool {
	return code == syncproto.CodeBadImage || code == syncproto.CodeHashMismatch || code == syncproto.CodeBodyTooLarge
}

// PhotoRefused records on a photo's record that the bytes p's device sent
// for it were refused with refusal (flag FlagRefused, with the code and
// the message the phone was given), if the refusal is one a phone does not
// retry. Nothing is written for a photo not there, not p's device's, or
// already uploaded.
func (s *Syncer) PhotoRefused(ctx context.Context, p *Principal, photoID string, refusal error) error {
	code := ErrorCode(refusal)
	if p == nil || !refusedForGood[code] {
		return nil
	}
	return s.Store.Update(ctx, func(tx WriteTx) error {
		r, err := tx.Get(ctx, EntityByName(syncproto.EntityPhoto), photoID)
		if err != nil || r == nil || r.State.IsDeleted() || r.Uploaded() || !p.CanSee(r.County) || !r.OwnDevice(p.DeviceID) {
			return err
		}
		flags := map[string]any{}
		if raw := r.Value("flags"); len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &flags); err != nil {
				return err
			}
		}
		if old, ok := flags[FlagRefused].(map[string]any); ok && fileRefused(old["code"]) && !fileRefused(code) {
			// The file itself was refused (not an image, not the bytes
			// hashed): a later refusal of what a record declares does
			// not hide it.
			return nil
		}
		flags[FlagRefused] = map[string]any{"code": code, "reason": ErrorMessage(refusal)}
		values := map[string]any{"flags": flags}
		now := s.Now().UTC()
		if err := s.write(ctx, tx, r, values, now); err != nil {
			return err
		}
		return s.recheckAfterWrite(ctx, tx, r, values, false, now)
	})
}

// Time returns a time field's value (zero if absent or invalid).
func (r *StoredRecord) Time(field string) time.Time {
	t, _ := ParseTime(r.Text(field))
	return t
}

// Uploaded reports whether a photo record is marked uploaded: bytes that
// hash to its sha256 were sent for this record (possession.go).
func (r *StoredRecord) Uploaded() bool { return string(r.Value("uploaded")) == "true" }

// Unreadable reports whether a photo's flags say its bytes could not be
// read as a picture.
func (r *StoredRecord) Unreadable() bool { return FlagsUnreadable(r.Value("flags")) }

// FlagsUnreadable reports whether a photo's flags (the JSON of its flags
// field) hold the unreadable flag.
func FlagsUnreadable(flags []byte) bool { return FlagsHave(flags, "unreadable") }

// FlagsHave reports whether a photo's flags (the JSON of its flags field)
// hold the flag name.
func FlagsHave(flags []byte, name string) bool {
	if !bytes.Contains(flags, []byte(`"`+name+`"`)) {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(flags, &m) != nil {
		return false
	}
	_, ok := m[name]
	return ok
}

// Float returns a number field's value and whether it is set.
func (r *StoredRecord) Float(field string) (float64, bool) {
	var f *float64
	if json.Unmarshal(r.Value(field), &f) != nil || f == nil {
		return 0, false
	}
	return *f, true
}

// PhotoHashRow is one perceptual hash of a photo's fingerprint: its kind
// (imageproc's Hash* constants) and its 64 bits, found by its bands
// (PhotoStore.PhotoHashCandidates), and the hash of the same kind of the
// photo's mirror image, kept only to look the photo up again.
type PhotoHashRow struct {
	Kind      int
	Hash      uint64
	Mirror    uint64
	HasMirror bool
}

// Bands splits a hash into the three bands of 22, 21 and 21 bits the index
// finds it by, bit p of the hash being bit p/3 of band p%3 (the same split
// as imageproc.Bands).
func (r PhotoHashRow) Bands() [3]uint32 {
	var b [3]uint32
	for p := range 64 {
		b[p%3] |= uint32(r.Hash>>p&1) << (p / 3)
	}
	return b
}

// BandBits is the width in bits of band b of Bands (22, 21, 21): the
// bits p of a hash with p%3 = b.
func BandBits(b int) int { return (64 - b + 2) / 3 }

// HashProbes are the band values a near-duplicate lookup asks the index
// for (imageproc.BandProbes): DHash finds the rows of kind 0
// (imageproc.HashDHash) with band i in DHash[i]; Any finds rows of every
// kind with band i in Any[i]; Full finds only the rows of kind 1
// (imageproc.HashFull, a picture's whole content) with band i in Full[i];
// Centre finds only the rows of the kinds of a whole content and its
// centred windows (imageproc.CentredKinds: 1, 2, 3, 4) with band i in
// Centre[i].
type HashProbes struct {
	DHash, Any, Full, Centre [3][]uint32
}

// HashCandidate is an indexed hash that a near-duplicate lookup found by
// one of its bands.
type HashCandidate struct {
	PhotoID string
	Kind    int
	Hash    uint64
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
// exists and is in p's scope. The caller closes it. Derivatives are keyed
// by the hash like the original, so every variant is served only for a
// record marked uploaded — by bytes sent for that record (possession.go):
// bytes stored for another record with the same hash are never served
// through this one. Errors: not_found (no such photo or variant, or no
// blob store), out_of_scope, not_ready (bytes not uploaded for this
// record, or the derivative not made yet).
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
		return nil, Errorf(syncproto.CodeOutOfScope, "无权查看其他区县的照片")
	}
	if !rec.Uploaded() {
		return nil, Errorf(syncproto.CodeNotReady, "照片文件尚未上传")
	}
	sum := rec.Text("sha256")
	b, err := blobs.Open(ctx, sum, variant)
	if ErrorCode(err) == syncproto.CodeNotFound {
		ct := rec.Text("content_type")
		switch {
		case variant == VariantOriginal:
			// Marked uploaded: its bytes were stored, and are gone (a
			// file removed, a photo store not mounted or not this
			// server's, a restore without its photos). The server's
			// fault, for its operator (fieldsync check), not a photo
			// still to come.
			return nil, &Error{Code: syncproto.CodeInternal, Message: "服务器的照片存储中找不到这张照片的原图（它已上传过），请联系管理员",
				Err: fmt.Errorf("photo %s is marked uploaded but the photo store lacks its original (sha256 %s)", id, sum)}
		case rec.Value("processed_at") == nil:
			return nil, Errorf(syncproto.CodeNotReady, "预览图正在生成，请稍后再试")
		case FlagsHave(rec.Value("flags"), "unreadable"):
			return nil, Errorf(syncproto.CodeNotReady, "照片文件无法解析为图像，没有预览图（见照片的 flags）")
		case HasDerivatives(ct):
			// Made once and gone since: the operator's to repair
			// (fieldsync check --repair).
			return nil, &Error{Code: syncproto.CodeInternal, Message: "服务器上这张照片的预览图文件缺失，请查看原图，并联系管理员",
				Err: fmt.Errorf("photo %s was processed but the photo store lacks its %s (sha256 %s)", id, variant, sum)}
		default:
			// Processed, readable, no derivative: a format the server reads
			// only the header of (HEIC).
			return nil, Errorf(syncproto.CodeNotReady, "这种格式的照片（%s）没有预览图，请查看原图", cmp.Or(ct, "未知格式"))
		}
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

// HasDerivatives reports whether a photo of content type ct gets a
// preview and a thumbnail when processed: the formats the server decodes
// (imageproc's Derivable), not HEIC, whose header alone it reads.
func HasDerivatives(ct string) bool { return ct == "image/jpeg" || ct == "image/png" }

// SetHeaders sets the caching and type headers a photo is served with:
// its type, not to be sniffed into another (an "image" of a record's
// bytes may be anything a phone sent under that type).
func (o *PhotoObject) SetHeaders(h interface{ Set(k, v string) }) {
	h.Set("ETag", o.ETag)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("Content-Type", o.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
}

package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Photo possession (DESIGN.md, "Photo evidence"): bytes are stored once per
// SHA-256, but a hash proves nothing — anyone who has seen a photo record
// knows it. So a photo record counts as uploaded (its server-owned field
// uploaded is true, and OpenPhoto serves it) only once bytes arrived for
// that very record:
//
//   - an upload whose metadata names the record's id completes, with bytes
//     that hash to the record's sha256, from the device that created the
//     record ("its own device"), its user's scope still holding the
//     record — StoreUpload; or
//   - such an upload completed before the record existed (a phone may
//     upload first), and the record then arrives declaring that hash from
//     the device that uploaded — ClaimEarlierUpload, in the push.
//
// Bytes sent for one record never count for another, whatever its hash: a
// second record with the same bytes needs its own upload, which completes
// normally and stores nothing new. Every completed upload is recorded as a
// PhotoUpload; one no record has claimed counts against its device's quota
// (Syncer.UploadQuota) and is removed by the Sweeper after the grace period.

// PhotoUpload is a completed upload: the bytes that arrived for one photo
// id, from one device. There is at most one per photo id (the latest).
type PhotoUpload struct {
	PhotoID     string
	SHA256      string
	DeviceID    string // the device that created the upload
	UserID      string // its user
	Size        int64
	ContentType string // the type the bytes were checked to be ("" if not recorded)
	CompletedAt time.Time
	// ClaimedAt is when the photo record took these bytes as its own and
	// was marked uploaded; zero while none has.
	ClaimedAt time.Time
}

// BlobRefs is what refers to the bytes of one SHA-256.
type BlobRefs struct {
	// Records counts the photo records marked uploaded that declare the
	// hash, tombstoned ones included.
	Records int
	// Uploads are the recorded uploads of the hash, claimed or not.
	Uploads []PhotoUpload
	// DeletingSince is when the Sweeper began deleting the bytes (zero:
	// it is not deleting them).
	DeletingSince time.Time
}

// Referenced reports whether the bytes must be kept at cutoff (the start
// of the grace period): a photo record marked uploaded declares them —
// evidence is kept even when its record is tombstoned — or an upload of
// them was claimed, or completed after cutoff and may still be claimed.
func (r *BlobRefs) Referenced(cutoff time.Time) bool {
	if r.Records > 0 {
		return true
	}
	for _, u := range r.Uploads {
		if !u.ClaimedAt.IsZero() || !u.CompletedAt.Before(cutoff) {
			return true
		}
	}
	return false
}

// UploadRequest is an upload as its creation declares it.
type UploadRequest struct {
	PhotoID, SHA256, ContentType string
	Size                         int64
	// DeviceID is the device that created it (for an unfinished upload
	// listed for the quota).
	DeviceID string
}

// MaxUnclaimedUploads bounds how many uploads without a photo record one
// device, and one user, may have (completed or not), whatever their size:
// the byte quota alone would let a device make millions of tiny ones.
const MaxUnclaimedUploads = 1000

// CheckUploadIDs checks the photo id and the hash an upload declares.
func CheckUploadIDs(photoID, sum string) error {
	switch {
	case !IsCanonicalUUID(photoID):
		return Errorf(syncproto.CodeInvalidUpload, "上传元数据 photo_id 应为小写 UUID")
	case !IsSHA256(sum):
		return Errorf(syncproto.CodeInvalidUpload, "上传元数据 sha256 应为 64 位小写十六进制")
	}
	return nil
}

// uploadOutOfScope is the error of an upload for a photo record of a
// county outside the uploader's. Like every refusal of a record named by
// its id, it does not say which county holds the record.
func uploadOutOfScope() error {
	return Errorf(syncproto.CodeOutOfScope, "无权为其他区县的照片上传文件")
}

// errNotOwnDevice refuses an upload for a photo record another device
// created: only its own device's bytes make it uploaded (DESIGN.md).
var errNotOwnDevice = Errorf(syncproto.CodeForbidden, "这张照片记录是另一台设备创建的：只有拍下它的那台设备能上传它的文件")

// OwnDevice reports whether device created r (a record the server made
// itself, with no creating device, is any in-scope device's).
func (r *StoredRecord) OwnDevice(device string) bool {
	return r.CreatedDevice == "" || r.CreatedDevice == device
}

// CheckUpload decides whether p may start the upload req. The photo record
// may not exist yet (a phone can upload before it pushes); if it does, it
// must be in p's scope, have been created by p's device, and declare the
// same SHA-256 and content type.
// pending are the other unfinished uploads of p's user (of all its
// devices). Bytes for a record that does not exist yet are unreferenced
// until it arrives: they count against the quota (Syncer.UploadQuota) of
// the device, and of its user, with the completed unclaimed uploads and
// the pending uploads whose records do not exist.
// Errors: unauthorized, invalid_upload, out_of_scope, hash_mismatch,
// quota_exceeded, conflict (other bytes for a photo whose bytes arrived,
// with the quota on).
func (s *Syncer) CheckUpload(ctx context.Context, p *Principal, req UploadRequest, pending []UploadRequest) error {
	if p == nil {
		return Errorf(syncproto.CodeUnauthorized, "请先登录")
	}
	if err := CheckUploadIDs(req.PhotoID, req.SHA256); err != nil {
		return err
	}
	r, err := s.Store.Get(ctx, syncproto.EntityPhoto, req.PhotoID)
	switch {
	case err != nil:
		return err
	case r == nil:
		return s.checkQuota(ctx, p, req, pending)
	case !p.CanSee(r.County):
		return uploadOutOfScope()
	case !r.OwnDevice(p.DeviceID):
		return errNotOwnDevice
	case r.Text("sha256") != req.SHA256:
		return Errorf(syncproto.CodeHashMismatch, "照片记录声明的 SHA-256 与上传的不一致")
	case req.ContentType != "" && r.Text("content_type") != "" && r.Text("content_type") != req.ContentType:
		return Errorf(syncproto.CodeInvalidUpload, "上传声明的类型 %s 与照片记录的 %s 不一致", req.ContentType, r.Text("content_type"))
	}
	return sizeMismatch(r.Value("size_bytes"), req.Size, syncproto.CodeInvalidUpload)
}

// sizeMismatch returns the error (with code) for a photo record that
// declares size_bytes other than n, the size of its bytes; nil if it
// declares none, or n.
func sizeMismatch(declared json.RawMessage, n int64, code string) error {
	if declared == nil || string(declared) == "null" {
		return nil
	}
	if d, err := strconv.ParseInt(string(declared), 10, 64); err == nil && d == n {
		return nil
	}
	return Errorf(code, "照片记录的 size_bytes 为 %s，而照片文件有 %d 字节：两者须一致（请更正照片记录的 size_bytes，或上传它所声明的文件）", declared, n)
}

// checkDeclaredFile refuses a photo mutation whose size_bytes or
// content_type is not that of the record's bytes (whoever pushes it), or
// of the bytes p's device uploaded for it before it arrived: they are the
// photo, and its record must not describe them otherwise. Until bytes
// arrive the size and type may change, so that a record declared wrong is
// corrected by pushing it again (CheckUpload refuses bytes of another size
// or type).
func (s *Syncer) checkDeclaredFile(ctx context.Context, tx WriteTx, p *Principal, r *StoredRecord, vals map[string]json.RawMessage) error {
	var ct string
	ctRaw, ctSent := vals["content_type"]
	if ctSent {
		_ = json.Unmarshal(ctRaw, &ct)
	}
	size, sizeSent := vals["size_bytes"]
	if r.Uploaded() {
		// Its type and size, once the bytes are checked to be an image of
		// that type and stored: they are served as that type, and are
		// that size; neither may change, nor be cleared.
		if cur := r.Text("content_type"); ctSent && cur != "" && ct != cur {
			return Errorf(syncproto.CodeInvalidValue, "照片文件已按 %s 上传，content_type 不能再修改（文件是什么类型就应声明什么类型）", cur).At("content_type")
		}
		if cur := r.Value("size_bytes"); sizeSent && string(size) == "null" && cur != nil && string(cur) != "null" {
			return Errorf(syncproto.CodeInvalidValue, "照片文件已上传，size_bytes 不能清空").At("size_bytes")
		}
	}
	if !sizeSent || string(size) == "null" {
		size = nil
	}
	if size == nil && ct == "" {
		return nil
	}
	u, err := tx.PhotoUpload(ctx, r.ID)
	if err != nil || u == nil || u.ClaimedAt.IsZero() && u.DeviceID != p.DeviceID {
		return err
	}
	// Bytes of another file sent under the id (the phone replaced the
	// photo before sending its record) are not the record's: its own
	// have not arrived, and CheckUpload will hold them to its size.
	sha := r.Text("sha256")
	if raw, ok := vals["sha256"]; ok {
		_ = json.Unmarshal(raw, &sha)
	}
	if u.SHA256 != sha {
		return nil
	}
	if ct != "" && u.ContentType != "" && ct != u.ContentType {
		return Errorf(syncproto.CodeInvalidValue, "照片文件已按 %s 上传，照片记录的 content_type 应与之一致（而不是 %s）", u.ContentType, ct).At("content_type")
	}
	if size == nil {
		return nil
	}
	return AtField(sizeMismatch(size, u.Size, syncproto.CodeInvalidValue), "size_bytes")
}

// checkQuota refuses req, an upload for a photo record that does not exist
// yet, if it would take the unreferenced bytes of p's device, or of all
// p's user's devices together, over the quota: a user signing in again
// as a new device does not get a new quota. pending are the user's
// unfinished uploads.
func (s *Syncer) checkQuota(ctx context.Context, p *Principal, req UploadRequest, pending []UploadRequest) error {
	if s.UploadQuota <= 0 {
		return nil
	}
	device, err := s.Store.UnclaimedUploads(ctx, p.DeviceID)
	if err != nil {
		return err
	}
	var devicePending []UploadRequest
	for _, u := range pending {
		if u.DeviceID == p.DeviceID {
			devicePending = append(devicePending, u)
		}
	}
	if err := s.checkQuotaOf(ctx, req, device, devicePending, "本设备", "每台设备"); err != nil {
		return err
	}
	user, err := s.Store.UserUnclaimedUploads(ctx, p.UserID)
	if err != nil {
		return err
	}
	for _, u := range user {
		// Other bytes for a photo whose bytes arrived: the new upload
		// would replace the old one in the count while its file stays
		// until the sweep, so that the quota would hold nothing back.
		// A photo's bytes never change (its sha256 is immutable).
		if u.PhotoID == req.PhotoID && u.SHA256 != req.SHA256 {
			return Errorf(syncproto.CodeConflict, "照片 %s 已上传过另一份文件：一张照片只能上传它自己的文件（同一 SHA-256）", req.PhotoID)
		}
	}
	return s.checkQuotaOf(ctx, req, user, pending, "本账号的各台设备", "每个账号（所有设备合计）")
}

// checkQuotaOf refuses req if, with the completed unclaimed uploads and
// the unfinished ones (pending) of one device or one user (who, in the
// message; limit names the quota's scope), it would go over the quota.
// Each photo id counts once, at its largest size (a new upload of an id
// replaces the earlier one).
func (s *Syncer) checkQuotaOf(ctx context.Context, req UploadRequest, unclaimed []PhotoUpload, pending []UploadRequest, who, limit string) error {
	sizes := make(map[string]int64, len(unclaimed)+len(pending))
	add := func(id string, n int64) { sizes[id] = max(sizes[id], n) }
	for _, u := range unclaimed {
		add(u.PhotoID, u.Size)
	}
	for _, u := range pending {
		if _, seen := sizes[u.PhotoID]; !seen && u.PhotoID != req.PhotoID {
			r, err := s.Store.Get(ctx, syncproto.EntityPhoto, u.PhotoID)
			if err != nil {
				return err
			}
			if r != nil {
				continue // its bytes will belong to its record
			}
		}
		add(u.PhotoID, u.Size)
	}
	var used int64
	for id, n := range sizes {
		if id != req.PhotoID {
			used += n
		}
	}
	count := len(sizes)
	if _, again := sizes[req.PhotoID]; !again {
		count++
	}
	if used+max(req.Size, sizes[req.PhotoID]) > s.UploadQuota || count > MaxUnclaimedUploads {
		return Errorf(syncproto.CodeQuotaExceeded,
			"%s已上传（或正在上传）但照片记录尚未同步的文件有 %d 个、共 %s，加上这次的 %s 将超过%s %s（%d 个）的上限：请先同步（推送）这些照片记录，再继续上传",
			who, count-1, ByteSize(used), ByteSize(req.Size), limit, ByteSize(s.UploadQuota), MaxUnclaimedUploads)
	}
	return nil
}

// ByteSize shows a size for people: KB below a megabyte, else MB, with
// one decimal below 10 (3.3 MB, 11 KB) — in messages and on the console
// alike.
func ByteSize(n int64) string {
	x, unit := float64(n)/1024, "KB"
	if x >= 1024 {
		x, unit = x/1024, "MB"
	}
	if x < 10 {
		return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) + " " + unit
	}
	return strconv.FormatFloat(math.Round(x), 'f', 0, 64) + " " + unit
}

// StoreUpload stores the bytes of a completed upload u and records that
// they arrived for photo u.PhotoID from p's device. If that record exists,
// is in p's scope and declares u.SHA256, it is marked uploaded at once;
// otherwise the upload waits, for the grace period, for its record to be
// pushed (ClaimEarlierUpload). open gives the bytes, already checked to be
// an image; it is called again if they must be stored twice. StoreUpload
// returns the ids of records to process. Errors: hash_mismatch (the bytes
// are not those declared, or the device's own record, pushed meanwhile,
// declares others: nothing is kept), forbidden (another device created the record, since the upload
// began: nothing is recorded), out_of_scope (the record is in a county p's user no longer has:
// nothing is recorded, and the phone keeps the file), unavailable (the
// Sweeper is deleting the same bytes at this very moment: upload again).
func (s *Syncer) StoreUpload(ctx context.Context, p *Principal, u PhotoUpload, open func() (io.ReadCloser, error)) ([]string, error) {
	if s.Blobs == nil {
		return nil, Errorf(syncproto.CodeUnavailable, "未启用照片存储")
	}
	put := func() error {
		r, err := open()
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = s.Blobs.Put(ctx, u.SHA256, r)
		return err
	}
	if err := put(); err != nil {
		return nil, err
	}
	u.CompletedAt, u.ClaimedAt = s.Now().UTC(), time.Time{}
	var ids []string
	err := s.Store.Update(ctx, func(tx WriteTx) error {
		ids = nil
		refs, err := tx.BlobRefs(ctx, u.SHA256)
		if err != nil {
			return err
		}
		if !refs.DeletingSince.IsZero() {
			return Errorf(syncproto.CodeUnavailable, "服务器正在清理同一文件，请稍后重新上传")
		}
		rec, err := tx.Get(ctx, EntityByName(syncproto.EntityPhoto), u.PhotoID)
		if err != nil {
			return err
		}
		if rec != nil && !rec.State.IsDeleted() && rec.Text("sha256") != u.SHA256 && rec.OwnDevice(u.DeviceID) && (p == nil || p.CanSee(rec.County)) {
			// The device's own record, pushed while these bytes were on
			// their way, declares other bytes (its sha256 never changes):
			// they can never be its, as when it is there at the upload's
			// creation (CheckUpload).
			return Errorf(syncproto.CodeHashMismatch, "照片记录声明的 SHA-256 与上传的不一致")
		}
		if rec != nil && !rec.State.IsDeleted() && rec.Text("sha256") == u.SHA256 && p != nil && !p.CanSee(rec.County) {
			// The uploader's counties changed since the upload began:
			// refused, so that the phone keeps the file (the bytes would
			// be remembered for no record).
			return uploadOutOfScope()
		}
		if rec != nil && !rec.State.IsDeleted() && rec.Text("sha256") == u.SHA256 && !rec.OwnDevice(u.DeviceID) {
			// Another device's record, pushed while these bytes were
			// sent for its id: they are not its own device's (the
			// device that made the upload, whichever of the user's
			// devices sends its last byte).
			return errNotOwnDevice
		}
		if rec != nil && !rec.State.IsDeleted() && rec.Text("sha256") == u.SHA256 && p != nil {
			if err := s.write(ctx, tx, rec, uploadedFields(rec, &u), u.CompletedAt); err != nil {
				return err
			}
			if id := completenessTrigger(rec, []string{"uploaded"}, false, false); id != "" {
				if err := s.refreshCompleteness(ctx, tx, []string{id}, u.CompletedAt); err != nil {
					return err
				}
			}
			u.ClaimedAt = u.CompletedAt
			if rec.Value("processed_at") == nil {
				ids = append(ids, rec.ID)
			}
		}
		return tx.PutPhotoUpload(ctx, &u)
	})
	if err != nil {
		return nil, err
	}
	// The Sweeper may have deleted these very bytes between the Put (which
	// found them stored and kept nothing) and the transaction (before which
	// nothing referred to them): store them again.
	if ok, err := s.Blobs.Has(ctx, u.SHA256, VariantOriginal); err != nil || !ok {
		if err == nil {
			err = put()
		}
		if err != nil {
			return nil, fmt.Errorf("store upload again: %w", err)
		}
	}
	return ids, nil
}

// ClaimEarlierUpload marks a new photo record r, pushed by p, uploaded if
// bytes for its id were uploaded before it by the same device (so the same
// user) and hash to its sha256. It reports whether it did (the record then needs
// processing once committed).
func (s *Syncer) ClaimEarlierUpload(ctx context.Context, tx WriteTx, p *Principal, r *StoredRecord, now time.Time) (bool, error) {
	u, err := tx.PhotoUpload(ctx, r.ID)
	if err != nil || u == nil || u.SHA256 != r.Text("sha256") || u.DeviceID != p.DeviceID || u.UserID != p.UserID || !u.ClaimedAt.IsZero() {
		return false, err
	}
	for f, v := range uploadedFields(r, u) {
		raw, _ := json.Marshal(v)
		r.State.Fields[f] = syncproto.FieldState{Value: raw, HLC: s.Clock.Now()}
	}
	u.ClaimedAt = now.UTC()
	return true, tx.PutPhotoUpload(ctx, u)
}

// uploadedFields are the fields the server writes on photo record r as
// the bytes of upload u become its own: uploaded, and what the bytes are
// where the record, declaring nothing or changed while they were on their
// way, says otherwise — the type they were checked to be (so that it is
// served, and pulled, as what it is) and their size (which may not differ
// from then on: checkDeclaredFile).
func uploadedFields(r *StoredRecord, u *PhotoUpload) map[string]any {
	f := map[string]any{"uploaded": true}
	if u.ContentType != "" && r.Text("content_type") != u.ContentType {
		f["content_type"] = u.ContentType
	}
	if d, err := strconv.ParseInt(string(r.Value("size_bytes")), 10, 64); u.Size > 0 && (err != nil || d != u.Size) {
		f["size_bytes"] = u.Size
	}
	return f
}

// Package upload receives photo bytes over the tus 1.0 resumable-upload
// protocol (github.com/tus/tusd/v2 as a library): creation, HEAD for the
// offset, PATCH to continue, termination. An upload is bound at creation to
// one photo id by its metadata (photo_id, sha256, content_type), checked by
// server.Syncer.CheckUpload (scope, hash, the device's quota of bytes
// without a record); when the last byte arrives the bytes are checked to be
// an image and handed to server.Syncer.StoreUpload, which verifies the
// SHA-256, stores them content-addressed, and marks uploaded that photo
// record only — now, or when it is pushed — never the other records that
// declare the same hash. The upload's temporary files are then removed.
//
// Partial uploads are kept in a directory (tusd's filestore) by default, or,
// for several servers behind one address, in an S3 bucket (WithS3, tusd's
// s3store) with a lock all the servers share (WithLocker, server/pglock):
// an upload begun on one server is then continued on any other.
package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"github.com/xinzhou-eco/fieldsync/internal/fsprobe"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	exslog "golang.org/x/exp/slog"
)

// BasePath is where the tus endpoints are mounted.
const BasePath = "/api/v1/uploads/"

// Content types a photo upload may declare.
var contentTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/heic": true}

// Service is the tus endpoint.
type Service struct {
	tus    *handler.UnroutedHandler
	store  partialStore
	dir    string   // the filestore's directory, or where S3 uploads are copied to be checked
	s3     *s3Parts // set when partial uploads are kept in S3
	syncer *server.Syncer
	log    *slog.Logger
	locker handler.Locker // one request at a time per upload (and per device's creations)
	// maxSize is the largest upload, in bytes (notTooLarge).
	maxSize int64
	// Stored is called with the ids of photo records whose bytes have just
	// been stored and verified for them (for processing).
	Stored func(ids []string)
	// Verify, if set, checks a completed upload's bytes before they are
	// stored (that they are an image of the declared type, not a
	// decompression bomb); its error is the client's.
	Verify func(r io.ReaderAt, size int64, contentType string) error
}

// partialStore is what the service needs of a tusd store beyond the
// handler's use (filestore.FileStore and s3store.S3Store both are one).
type partialStore interface {
	handler.DataStore
	AsTerminatableUpload(handler.Upload) handler.TerminatableUpload
	UseIn(*handler.StoreComposer)
}

// Option changes where New keeps partial uploads and how it locks them.
type Option func(*options)

type options struct {
	s3       *s3Parts
	locker   handler.Locker
	bodyIdle time.Duration
}

// WithBodyIdle sets the longest a PATCH's bytes may stop arriving before
// it is answered 408 request_timeout (the bytes that came kept), as a
// push's body is (tusd's own is 60 s, answered 500).
func WithBodyIdle(d time.Duration) Option {
	return func(o *options) { o.bodyIdle = d }
}

// WithS3 keeps partial uploads in bucket under prefix (tusd's s3store:
// each upload is a multipart upload with PREFIX<id>.info and, for bytes
// not yet making a whole part, PREFIX<id>.part), so that every server on
// the bucket can continue an upload any of them began. Give them a shared
// lock too (WithLocker). New's dir then only holds a completed upload's
// bytes while they are checked, and parts being sent.
func WithS3(client *s3.Client, bucket, prefix string) Option {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return func(o *options) { o.s3 = &s3Parts{client: client, bucket: bucket, prefix: prefix} }
}

// WithLocker sets the lock that lets one request at a time write an
// upload. The default, tusd's in-memory locker, works for one server only;
// several servers need one they share (server/pglock).
func WithLocker(l handler.Locker) Option {
	return func(o *options) { o.locker = l }
}

// New returns the service keeping partial uploads in dir (or as the
// options say), with uploads limited to maxSize bytes. With forwarded,
// upload locations are built from the Forwarded / X-Forwarded-Proto /
// X-Forwarded-Host headers (the caller removes them from requests that did
// not come through a trusted proxy).
func New(dir string, maxSize int64, forwarded bool, syncer *server.Syncer, log *slog.Logger, opts ...Option) (*Service, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create upload directory: %w", err)
	}
	s := &Service{dir: dir, syncer: syncer, log: log, maxSize: maxSize}
	if o.s3 != nil {
		s.s3 = o.s3
		s.store = o.s3.store(dir)
		removeStaleParts(dir, time.Now().Add(-time.Minute), log)
	} else {
		s.store = newDirStore(dir)
	}
	composer := handler.NewStoreComposer()
	s.store.UseIn(composer)
	// Every upload declares its length (a photo's size is known before
	// it is sent): the server does not offer creation-defer-length, so
	// that a client choosing by Tus-Extension does not try it
	// (noDeferredLength answers one that does).
	composer.UseLengthDeferrer(nil)
	// One request at a time per upload: a phone that resumes while its
	// previous PATCH still hangs on the server interrupts that PATCH
	// instead of appending beside it (the stores do no locking).
	s.locker = o.locker
	if s.locker == nil {
		s.locker = memorylocker.New()
	}
	composer.UseLocker(s.locker)
	tus, err := handler.NewUnroutedHandler(handler.Config{
		BasePath:                  BasePath,
		StoreComposer:             composer,
		MaxSize:                   maxSize,
		DisableDownload:           true,
		DisableConcatenation:      true,
		RespectForwardedHeaders:   forwarded,
		Cors:                      &handler.CorsConfig{Disable: true},
		PreUploadCreateCallback:   s.beforeCreate,
		PreFinishResponseCallback: s.beforeFinish,
		NetworkTimeout:            o.bodyIdle, // 0: tusd's own
		// tusd logs every request at info level; our request log and hook
		// errors say what matters.
		Logger: exslog.New(exslog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	s.tus = tus
	return s, nil
}

// Handlers for each tus request, with the protocol's header checks and
// errors rewritten as fieldsync's JSON errors.
func (s *Service) Post() http.Handler {
	return s.wrap(noDeferredLength(s.notTooLarge(plainBody(s.oneCreationPerUser(s.tus.PostFile)))))
}
func (s *Service) Head() http.Handler   { return s.wrap(s.ownOnly(s.tus.HeadFile, true)) }
func (s *Service) Patch() http.Handler  { return s.wrap(plainBody(s.ownOnly(s.tus.PatchFile, true))) }
func (s *Service) Delete() http.Handler { return s.wrap(s.ownOnly(s.tus.DelFile, false)) }

// createWait is how long an upload's creation waits for the user's
// other creations (oneCreationPerUser).
const createWait = 20 * time.Second

// oneCreationPerUser makes a user's upload creations one at a time, from
// all their devices and on every server (the uploads' lock, under a name
// of the user's): the check of the quotas counts the uploads the device
// and the user have begun, and two creations at once would each count
// without the other — one account signed in as many devices would get the
// user's quota once per device; and a creation replaces the device's
// earlier unfinished upload of the same photo (beforeCreate).
func (s *Service) oneCreationPerUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := server.PrincipalFrom(r.Context())
		if p == nil {
			h(w, r)
			return
		}
		l, err := s.locker.NewLock("user-creations/" + p.UserID)
		if err == nil {
			ctx, cancel := context.WithTimeout(r.Context(), createWait)
			err = l.Lock(ctx, func() {})
			cancel()
		}
		if err != nil {
			if !errors.Is(err, handler.ErrLockTimeout) {
				s.log.Error("lock upload creations", "user", p.UserID, "err", err)
			}
			http.Error(w, "ERR_LOCK_TIMEOUT: another upload of this user is being created", http.StatusInternalServerError)
			return
		}
		defer func() {
			if err := l.Unlock(); err != nil {
				s.log.Warn("unlock upload creations", "user", p.UserID, "err", err)
			}
		}()
		h(w, r)
	}
}

// ownOnly lets only the device that created an upload see, continue or
// end it; to any other (another user's, or its user's other phones) it
// does not exist. Nor does an id of a form no
// upload of this store can have: the store is not asked for it. With
// finishFirst (HEAD, PATCH), a complete upload the server never finished
// is finished first (finishStranded) and answered as its last PATCH
// would have been.
func (s *Service) ownOnly(h http.HandlerFunc, finishFirst bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		p := server.PrincipalFrom(r.Context())
		gone := server.Errorf(syncproto.CodeNotFound, "上传不存在或已结束")
		var up handler.Upload
		var info handler.FileInfo
		var err error = gone
		if s.possibleID(id) {
			up, err = s.store.GetUpload(r.Context(), id)
		}
		if err == nil {
			// An upload is its device's: another device of the same user
			// may not create one for the photo (forbidden), nor write
			// into, read or end this one.
			if info, err = up.GetInfo(r.Context()); err == nil && (p == nil || info.MetaData["user_id"] != p.UserID || info.MetaData["device_id"] != p.DeviceID) {
				err = gone
			}
		}
		if missing(err) {
			// S3's store finds any id of its form (its objects are read
			// later): a termination would answer 204 for an upload that
			// never was.
			err = gone
		}
		if server.ErrorCode(err) == syncproto.CodeNotFound {
			notFound(w)
			return
		}
		if err == nil && finishFirst && complete(info) &&
			(r.Method == http.MethodHead || r.Header.Get("Upload-Offset") == strconv.FormatInt(info.Size, 10)) {
			s.answerStranded(w, r, p, info)
			return
		}
		h(w, r) // other failures are tusd's to answer
	}
}

// plainBody refuses a body sent with a Content-Encoding (415): tusd
// would store a gzipped chunk as the photo's bytes, its offset the
// compressed length, and the upload fail only at its end, as a hash
// mismatch.
func plainBody(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if syncproto.EncodedBody(r.Header.Values("Content-Encoding")) {
			w.Header().Set("Accept-Encoding", "identity")
			writeTusError(w, server.Errorf(syncproto.CodeUnsupportedMediaType, "照片的字节不能压缩发送（Content-Encoding），请直接发送原始字节"))
			return
		}
		h(w, r)
	}
}

// noDeferredLength refuses a creation that defers its length as the app
// bug it is (400 invalid_upload, as metadata would), before tusd answers
// it 501 for the extension the server does not offer.
func noDeferredLength(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upload-Defer-Length") != "" {
			writeTusError(w, errLengthDeferred)
			return
		}
		h(w, r)
	}
}

// notTooLarge refuses a creation whose Upload-Length is over the size
// limit (413 body_too_large) before tusd would, saying both sizes, and
// notes the refusal on the photo's record: its phone does not send it
// again (sync.md 10.4), and the office is told why the evidence does
// not arrive.
func (s *Service) notTooLarge(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
		if err != nil || s.maxSize <= 0 || n <= s.maxSize {
			h(w, r)
			return
		}
		refusal := server.Errorf(syncproto.CodeBodyTooLarge, "照片文件为 %s，超过服务器的大小上限 %s，不能上传：请保留原图，并告知管理员（可调高上限 --max-upload）",
			server.ByteSize(n), server.ByteSize(s.maxSize))
		if id := handler.ParseMetadataHeader(r.Header.Get("Upload-Metadata"))["photo_id"]; server.IsCanonicalUUID(id) {
			s.noteRefusal(r.Context(), server.PrincipalFrom(r.Context()), id, refusal)
		}
		writeTusError(w, refusal)
	}
}

var errLengthDeferred = server.Errorf(syncproto.CodeInvalidUpload, "须在创建时声明 Upload-Length（不支持 Upload-Defer-Length）")

// writeTusError answers err as the hooks' errors are answered (jsonErrors
// completes the body).
func writeTusError(w http.ResponseWriter, err error) {
	te := tusError(err)
	for k, v := range te.HTTPResponse.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(te.HTTPResponse.StatusCode)
	_, _ = io.WriteString(w, te.HTTPResponse.Body)
}

// notFound answers as tusd answers a missing upload (jsonErrors makes it
// fieldsync's not_found).
func notFound(w http.ResponseWriter) {
	http.Error(w, "ERR_UPLOAD_NOT_FOUND: upload not found", http.StatusNotFound)
}

// answerStranded finishes a complete upload on a HEAD or a PATCH of its
// last offset, and answers as the PATCH that brought its last byte would
// have: stored, the offset at the end (HEAD 200, PATCH 204); refused, the
// error (a HEAD, which has no body, 404: the upload is gone and the phone
// sends the file again in a new one, whose end gives the reason); the
// server failing to store it again, its 500 or 503 (the upload is kept
// for the next try); gone meanwhile (finished by another request), 404.
func (s *Service) answerStranded(w http.ResponseWriter, r *http.Request, p *server.Principal, info handler.FileInfo) {
	found, err := s.finishStranded(context.WithoutCancel(r.Context()), p, info.ID)
	switch {
	case errors.Is(err, handler.ErrLockTimeout):
		http.Error(w, "ERR_LOCK_TIMEOUT: the upload is being finished", http.StatusInternalServerError)
	case !found && err != nil:
		s.log.Error("finish a stranded upload", "upload", info.ID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	case !found, err != nil && r.Method == http.MethodHead && !serverFault(err):
		notFound(w)
	case err != nil:
		writeTusError(w, err)
	default:
		size := strconv.FormatInt(info.Size, 10)
		w.Header().Set("Upload-Offset", size)
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodHead {
			w.Header().Set("Upload-Length", size)
			w.Header().Set("Upload-Metadata", handler.SerializeMetadataHeader(info.MetaData))
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// missing reports whether err is a store's answer for an upload it does
// not have.
func missing(err error) bool {
	var te handler.Error
	return errors.As(err, &te) && te.ErrorCode == handler.ErrNotFound.ErrorCode
}

// fileUploadID is the form of the ids tusd's file store gives uploads:
// 16 random bytes in hex.
var fileUploadID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// maxS3UploadID bounds the id of an upload kept in S3 (a device prefix, a
// UUID, "+" and S3's own id of the multipart upload, whose form is the
// S3 server's): its objects' keys are the id after the prefix, with a
// suffix, and S3 keys are at most 1024 bytes.
const maxS3UploadID = 900

// possibleID reports whether an upload of this service's store could have
// the id: the file store's form, or for S3 visible ASCII without a path
// separator, within its bound. Anything else (a NUL, a name longer than
// the file system takes) would reach the store as a request it cannot
// answer, and the client an internal error for an upload that cannot
// exist.
func (s *Service) possibleID(id string) bool {
	if s.s3 == nil {
		return fileUploadID.MatchString(id)
	}
	if id == "" || len(id)+len(s.s3.prefix) > maxS3UploadID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

// Options answers tus discovery (versions, extensions, maximum size).
func (s *Service) Options() http.Handler {
	return s.wrap(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

func (s *Service) wrap(h http.HandlerFunc) http.Handler {
	// The unrouted handler takes the upload id from the path below BasePath.
	// The headers checked before tusd reads them: its own refusal of a
	// Tus-Resumable (412) named no header.
	inner := http.StripPrefix(strings.TrimSuffix(BasePath, "/"), checked(s.tus.Middleware(h)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jw := &jsonErrors{ResponseWriter: w, head: r.Method == http.MethodHead, serverHLC: s.syncer.ServerHLC, storeDown: s.storeDown}
		if r.Body != nil && r.Body != http.NoBody {
			jw.request = &watchedBody{ReadCloser: r.Body}
			r.Body = jw.request
		}
		inner.ServeHTTP(jw, r)
		// tusd's own words for a server fault (a full disk, a store
		// down): the answer gives the phone fieldsync's code only.
		// (507 is a device's quota_exceeded, and 501 a request using a
		// tus feature the server does not offer, and bytes that stopped
		// arriving: the client's.)
		fault := jw.pending && jw.status >= 500 && jw.status != http.StatusInsufficientStorage && jw.status != http.StatusNotImplemented &&
			!strings.HasPrefix(jw.body.String(), "ERR_READ_TIMEOUT") && !jw.request.malformedBody()
		answered := jw.finish()
		if fault {
			// Logged with the status the phone was answered (a full disk
			// is 503, to be sent again), as the request log has it.
			s.log.Error("upload failed", "method", r.Method, "path", r.URL.Path, "status", answered,
				"err", strings.TrimSpace(jw.body.String()))
		}
	})
}

// tusHeaders are the request headers of the tus protocol that hold one
// value, and the body's type.
var tusHeaders = []string{"Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length",
	"Upload-Concat", "Upload-Checksum", "Content-Type", "X-HTTP-Method-Override"}

// checkHeaders refuses (400 invalid_upload) what tusd would read one way
// and a proxy or another parser another, or take in silence:
//   - one of tusHeaders given twice: tusd reads the first (two
//     Upload-Length headers, 10 and 20, made an upload of 10 bytes);
//   - a Tus-Resumable other than 1.0.0, on every request (tusd let a HEAD
//     through without one);
//   - an Upload-Length or Upload-Offset that is not decimal digits (tusd
//     took +10 for 10);
//   - an Upload-Checksum: the server does not offer the checksum
//     extension, and tusd ignored it, the client believing its chunk
//     checked (the whole file is checked against the metadata's sha256).
func checkHeaders(h http.Header) error {

	for _, name := range tusHeaders {
		if len(h.Values(name)) > 1 {
			return server.Errorf(syncproto.CodeInvalidUpload, "请求头 %s 只能有一个", name)
		}
	}
	if v := h.Get("Tus-Resumable"); v != "1.0.0" {
		return server.Errorf(syncproto.CodeInvalidUpload, "请求头 Tus-Resumable 应为 1.0.0（现为 %q）", v)
	}
	for _, name := range []string{"Upload-Length", "Upload-Offset"} {
		if v, ok := h[name]; ok && (v[0] == "" || strings.Trim(v[0], "0123456789") != "") {
			return server.Errorf(syncproto.CodeInvalidUpload, "请求头 %s 应为十进制整数（现为 %q）", name, v[0])
		}
	}
	if _, ok := h["Upload-Checksum"]; ok {
		return server.Errorf(syncproto.CodeInvalidUpload, "不支持 Upload-Checksum（tus 校验扩展）：整个文件按 Upload-Metadata 中的 sha256 校验")
	}
	return nil
}

// checked is h behind checkHeaders, for every request but OPTIONS (which
// asks what the server offers, and carries no tus header). A refusal
// says the version the server speaks, as tusd's answers do.
func checked(h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			if err := checkHeaders(r.Header); err != nil {
				w.Header().Set("Tus-Resumable", "1.0.0")
				w.Header().Set("Tus-Version", "1.0.0")
				writeTusError(w, err)
				return
			}
		}
		h.ServeHTTP(w, r)
	}
}

// metadata reads and checks an upload's metadata: the photo id and the
// hash first (400 invalid_upload), then the content type (415).
func metadata(info handler.FileInfo) (photoID, sum, contentType string, err error) {
	photoID, sum, contentType = info.MetaData["photo_id"], info.MetaData["sha256"], info.MetaData["content_type"]
	switch {
	case info.SizeIsDeferred:
		err = errLengthDeferred
	default:
		err = server.CheckUploadIDs(photoID, sum)
	}
	if err == nil && !contentTypes[contentType] {
		err = server.Errorf(syncproto.CodeUnsupportedMediaType, "content_type 应为 image/jpeg、image/png 或 image/heic")
	}
	return photoID, sum, contentType, err
}

// checkMetadataHeader refuses an Upload-Metadata that tusd would read
// one way and another parser another: a key given twice (tusd keeps the
// last: the upload would be bound to the second photo_id), or an element
// tusd skips in silence (not "key" or "key base64-value", a value that is
// not base64). The header given twice is refused before (singleHeaders).
func checkMetadataHeader(values []string) error {
	if len(values) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for el := range strings.SplitSeq(values[0], ",") {
		parts := strings.Split(strings.TrimSpace(el), " ")
		key := parts[0]
		switch {
		case key == "" || len(parts) > 2:
			return server.Errorf(syncproto.CodeInvalidUpload, "Upload-Metadata 格式错误：每项应为“键 base64值”，以逗号分隔")
		case seen[key]:
			return server.Errorf(syncproto.CodeInvalidUpload, "Upload-Metadata 中的 %s 出现了两次", key)
		}
		if len(parts) == 2 {
			if _, err := base64.StdEncoding.DecodeString(parts[1]); err != nil {
				return server.Errorf(syncproto.CodeInvalidUpload, "Upload-Metadata 中 %s 的值不是 base64", key)
			}
		}
		seen[key] = true
	}
	return nil
}

// beforeCreate binds a new upload to a photo the uploader may write, within
// the device's quota.
func (s *Service) beforeCreate(hook handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	p := server.PrincipalFrom(hook.Context)
	photoID, sum, contentType, err := metadata(hook.Upload)
	if merr := checkMetadataHeader(hook.HTTPRequest.Header.Values("Upload-Metadata")); merr != nil {
		err = merr
	}
	if err == nil {
		req := server.UploadRequest{PhotoID: photoID, SHA256: sum, ContentType: contentType, Size: hook.Upload.Size}
		// The device's unfinished uploads, listed once: for the quota and
		// to replace an earlier one of this photo.
		var infos []handler.FileInfo
		if p != nil {
			infos, err = s.unfinished(hook.Context, p.DeviceID)
		}
		// The quota counts the user's unfinished uploads, of all its
		// devices, as well as the device's.
		var pending []server.UploadRequest
		if err == nil && p != nil && s.syncer.UploadQuota > 0 {
			var mine []handler.FileInfo
			if mine, err = s.userUnfinished(hook.Context, p.UserID); err == nil {
				pending = requests(mine)
			}
		}
		if err == nil {
			err = s.syncer.CheckUpload(hook.Context, p, req, pending)
		}
		if err == nil && p != nil {
			err = s.replaceEarlier(hook.Context, infos, photoID)
		}
	}
	if err != nil {
		if server.ErrorCode(err) == syncproto.CodeInternal {
			s.log.Error("check upload", "photo", photoID, "err", err)
		}
		s.noteRefusal(hook.Context, p, photoID, err)
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, tusError(err)
	}
	meta := hook.Upload.MetaData
	meta["device_id"], meta["user_id"] = p.DeviceID, p.UserID
	changes := handler.FileInfoChanges{MetaData: meta}
	if s.s3 != nil {
		// In S3 a device's uploads are named after it, so that its quota
		// lists its own uploads rather than every server's.
		changes.ID = devicePrefix(p.DeviceID) + uuid.NewString()
	}
	return handler.HTTPResponse{}, changes, nil
}

var safeDeviceID = regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`)

// devicePrefix is how the S3 uploads of a device are named, "" if its id
// cannot be part of an upload's URL.
func devicePrefix(deviceID string) string {
	if !safeDeviceID.MatchString(deviceID) {
		return ""
	}
	return deviceID + "."
}

// beforeFinish verifies and stores a completed upload, for the photo id
// it was created for. A wrong hash is refused and the bytes discarded;
// nothing half-stored is ever visible.
func (s *Service) beforeFinish(hook handler.HookEvent) (handler.HTTPResponse, error) {
	if err := s.finish(context.WithoutCancel(hook.Context), server.PrincipalFrom(hook.Context), hook.Upload); err != nil {
		return handler.HTTPResponse{}, tusError(err)
	}
	return handler.HTTPResponse{}, nil
}

// finish verifies and stores a completed upload and removes it, whether
// the bytes are good or not — unless the server failed to store them (its
// disk, its database or photo store out of reach: serverFault): then the
// upload stays complete, and the phone's next HEAD or PATCH of its end
// finishes it (answerStranded), as sync.md 10.4 says of a 500 or 503
// (the bytes that arrived are kept), as does the sweep.
func (s *Service) finish(ctx context.Context, p *server.Principal, info handler.FileInfo) error {
	photoID, sum, contentType, err := metadata(info)
	var ids []string
	if err == nil {
		ids, err = s.storeBlob(ctx, p, info, photoID, sum, contentType)
	}
	if serverFault(err) {
		s.log.Error("store upload; kept to finish later", "upload", info.ID, "photo", photoID, "err", err)
		return err
	}
	s.discard(ctx, info.ID)
	if err != nil {
		if server.ErrorCode(err) == syncproto.CodeInternal {
			s.log.Error("store upload", "upload", info.ID, "photo", photoID, "err", err)
		}
		s.noteRefusal(ctx, p, photoID, err)
		return err
	}
	if len(ids) > 0 && s.Stored != nil {
		s.Stored(ids)
	}
	return nil
}

// serverFault reports whether err is the server's failure (internal,
// unavailable) rather than a refusal of the bytes or of the upload.
func serverFault(err error) bool {
	code := server.ErrorCode(err)
	return err != nil && (code == syncproto.CodeInternal || code == syncproto.CodeUnavailable)
}

// noteRefusal records on the photo's record a refusal its phone will not
// retry (Syncer.PhotoRefused), so that the office sees why the evidence
// does not arrive instead of waiting for it.
func (s *Service) noteRefusal(ctx context.Context, p *server.Principal, photoID string, refusal error) {
	if photoID == "" {
		return
	}
	if err := s.syncer.PhotoRefused(context.WithoutCancel(ctx), p, photoID, refusal); err != nil {
		s.log.Warn("note the refusal on the photo's record", "photo", photoID, "refusal", server.ErrorCode(refusal), "err", err)
	}
}

// complete reports whether an upload has all its bytes.
func complete(info handler.FileInfo) bool { return !info.SizeIsDeferred && info.Offset == info.Size }

// finishStranded finishes a complete upload that was never finished: the
// server stopped (a crash, a kill, a lost machine) after the last byte was
// written and before beforeFinish stored it. tusd answers such an upload
// as complete and runs no hook again, so its photo would never be stored
// while the phone counts it sent. Under the upload's lock, so a PATCH
// finishing it now is waited for; found is false if the upload is gone
// (finished, ended) or not complete. p is the uploader (the request's, or
// the one the upload names).
func (s *Service) finishStranded(ctx context.Context, p *server.Principal, id string) (found bool, err error) {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return false, err
	}
	defer unlock()
	up, err := s.store.GetUpload(ctx, id)
	if missing(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	info, err := up.GetInfo(ctx)
	if missing(err) || (err == nil && !complete(info)) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.log.Info("finish an upload the server stopped before finishing", "upload", id, "photo", info.MetaData["photo_id"])
	return true, s.finish(ctx, p, info)
}

// FinishStranded finishes every complete upload that was never finished
// (finishStranded), as the server starts and then with each sweep: the
// phone that sent it may never ask again. principal loads the uploader
// an upload names (AuthStore.Principal). It returns how many it found.
func (s *Service) FinishStranded(ctx context.Context, principal func(ctx context.Context, userID, deviceID string) (*server.Principal, error)) (int, error) {
	infos, err := s.all(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, info := range infos {
		// The listing's offsets are not the uploads' (the file store
		// counts the bytes of the file): ask each. An upload still being
		// written is not locked, which would interrupt its PATCH.
		up, err := s.store.GetUpload(ctx, info.ID)
		if err == nil {
			info, err = up.GetInfo(ctx)
		}
		if err != nil || !complete(info) {
			continue
		}
		p, err := principal(ctx, info.MetaData["user_id"], info.MetaData["device_id"])
		if err != nil {
			// The device was revoked or the user removed: the upload is
			// left for the sweep.
			s.log.Warn("finish a stranded upload: its uploader", "upload", info.ID, "err", err)
			continue
		}
		found, err := s.finishStranded(ctx, p, info.ID)
		if err != nil && server.ErrorCode(err) == syncproto.CodeInternal {
			return n, err
		}
		if found {
			n++
		}
	}
	return n, nil
}

// storeBlob checks that a completed upload is an image and has the domain
// store it and record it for its photo id.
func (s *Service) storeBlob(ctx context.Context, p *server.Principal, info handler.FileInfo, photoID, sum, contentType string) ([]string, error) {
	path, done, err := s.completed(ctx, info)
	if err != nil {
		return nil, err
	}
	defer done()
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	if s.Verify != nil {
		// The hash first (sync.md §10.3): bytes that are not the ones
		// declared are hash_mismatch — the phone computes the hash again —
		// whether or not they are a picture.
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		if got := hex.EncodeToString(h.Sum(nil)); err == nil && got != sum {
			err = server.HashMismatch(got)
		}
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err == nil {
			err = s.Verify(f, info.Size, contentType)
		}
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	u := server.PhotoUpload{PhotoID: photoID, SHA256: sum, DeviceID: info.MetaData["device_id"], UserID: info.MetaData["user_id"],
		Size: info.Size, ContentType: contentType}
	return s.syncer.StoreUpload(ctx, p, u, open)
}

// completed returns the path of a file with a completed upload's bytes
// (the filestore's own, or a copy of the S3 object) and a function to call
// when done with it.
func (s *Service) completed(ctx context.Context, info handler.FileInfo) (string, func(), error) {
	if s.s3 == nil {
		return s.binPath(info), func() {}, nil
	}
	up, err := s.store.GetUpload(ctx, info.ID)
	if err != nil {
		return "", nil, err
	}
	r, err := up.GetReader(ctx)
	if err != nil && !missing(err) {
		// Every part is there but the multipart upload was never
		// completed: the server stopped between the two (finishStranded).
		if ferr := up.FinishUpload(ctx); ferr == nil {
			r, err = up.GetReader(ctx)
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("read completed upload: %w", err)
	}
	defer r.Close()
	f, err := os.CreateTemp(s.dir, "completed-*")
	if err != nil {
		return "", nil, err
	}
	done := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		done()
		return "", nil, fmt.Errorf("copy completed upload: %w", err)
	}
	return f.Name(), done, nil
}

// unfinished returns a device's unfinished uploads.
func (s *Service) unfinished(ctx context.Context, deviceID string) ([]handler.FileInfo, error) {
	infos, err := s.infos(ctx, devicePrefix(deviceID))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(infos, func(info handler.FileInfo) bool { return info.MetaData["device_id"] != deviceID }), nil
}

// userUnfinished returns the unfinished uploads of a user's devices. In
// S3, where uploads are named after their device, that lists every
// device's.
func (s *Service) userUnfinished(ctx context.Context, userID string) ([]handler.FileInfo, error) {
	infos, err := s.infos(ctx, "")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(infos, func(info handler.FileInfo) bool { return info.MetaData["user_id"] != userID }), nil
}

// all returns every unfinished upload of the store.
func (s *Service) all(ctx context.Context) ([]handler.FileInfo, error) { return s.infos(ctx, "") }

// infos lists the store's unfinished uploads, in S3 those whose id begins
// with prefix.
func (s *Service) infos(ctx context.Context, prefix string) ([]handler.FileInfo, error) {
	if s.s3 != nil {
		return s.s3.infos(ctx, prefix)
	}
	return dirInfos(s.dir)
}

// requests are unfinished uploads as their creation declared them (for
// the quota).
func requests(infos []handler.FileInfo) []server.UploadRequest {
	var out []server.UploadRequest
	for _, info := range infos {
		out = append(out, server.UploadRequest{PhotoID: info.MetaData["photo_id"], SHA256: info.MetaData["sha256"],
			ContentType: info.MetaData["content_type"], Size: info.Size, DeviceID: info.MetaData["device_id"]})
	}
	return out
}

// replaceEarlier ends those of the device's unfinished uploads (infos)
// that are of photoID, as an upload of it is created (under the device's
// creation lock): a new upload
// of a photo replaces the earlier one, whose URL the phone has lost or
// given up. So a device has at most one unfinished upload per photo, and
// the quota, which counts a photo once, counts what is kept. Each is ended
// under its lock, which first interrupts a PATCH of it still hanging.
func (s *Service) replaceEarlier(ctx context.Context, infos []handler.FileInfo, photoID string) error {
	for _, info := range infos {
		if info.MetaData["photo_id"] != photoID {
			continue
		}
		if err := s.end(ctx, info.ID); err != nil {
			return fmt.Errorf("end upload %s: %w", info.ID, err)
		}
	}
	return nil
}

// lock takes an upload's lock, waiting at most createWait (a PATCH
// holding it is asked to let go), and returns its release.
func (s *Service) lock(ctx context.Context, id string) (unlock func(), err error) {
	l, err := s.locker.NewLock(id)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, createWait)
	err = l.Lock(lctx, func() {})
	cancel()
	if err != nil {
		return nil, err
	}
	return func() {
		if err := l.Unlock(); err != nil {
			s.log.Warn("unlock upload", "upload", id, "err", err)
		}
	}, nil
}

// end terminates an unfinished upload under its lock.
func (s *Service) end(ctx context.Context, id string) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	up, err := s.store.GetUpload(ctx, id)
	if missing(err) {
		return nil // finished or ended meanwhile
	}
	if err != nil {
		return err
	}
	if err := s.store.AsTerminatableUpload(up).Terminate(ctx); err != nil && !missing(err) {
		return err
	}
	return nil
}

// dirInfos reads the filestore's unfinished uploads in dir.
func dirInfos(dir string) ([]handler.FileInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []handler.FileInfo
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".info") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // finished or removed meanwhile
		}
		var info handler.FileInfo
		if json.Unmarshal(b, &info) == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

// binPath is where the filestore keeps an upload's bytes: in this
// directory, whatever its .info says (dirStore).
func (s *Service) binPath(info handler.FileInfo) string {
	return filepath.Join(s.dir, info.ID)
}

// discard removes an upload's temporary files.
func (s *Service) discard(ctx context.Context, id string) {
	up, err := s.store.GetUpload(ctx, id)
	if err == nil {
		err = s.store.AsTerminatableUpload(up).Terminate(ctx)
	}
	if err != nil {
		s.log.Warn("discard upload", "upload", id, "err", err)
	}
}

// tusError turns a fieldsync error into the error tusd sends, with the JSON
// body every fieldsync error has.
func tusError(err error) handler.Error {
	code := server.ErrorCode(err)
	body, _ := json.Marshal(syncproto.ErrorBody{Code: code, Message: server.ErrorMessage(err), Field: server.ErrorField(err)})
	header := handler.HTTPHeader{"Content-Type": "application/json"}
	if s := server.RetryAfterSeconds(err); s > 0 {
		header["Retry-After"] = strconv.Itoa(s) // a store out of reach, a full disk: when to come back
	}
	return handler.Error{ErrorCode: code, Message: server.ErrorMessage(err), HTTPResponse: handler.HTTPResponse{
		StatusCode: syncproto.HTTPStatus(code), Body: string(body), Header: header,
	}}
}

// tusCodes maps tusd's error codes to fieldsync's.
var tusCodes = map[string]string{
	"ERR_MISMATCHED_OFFSET":    syncproto.CodeUploadOffset,
	"ERR_UPLOAD_NOT_FOUND":     syncproto.CodeNotFound,
	"ERR_MAX_SIZE_EXCEEDED":    syncproto.CodeBodyTooLarge,
	"ERR_UPLOAD_SIZE_EXCEEDED": syncproto.CodeBodyTooLarge,
	"ERR_UPLOAD_LOCKED":        syncproto.CodeConflict,
	// Another request for the upload (a HEAD after lost signal) ended
	// this one: its bytes so far are kept; HEAD tells how many.
	"ERR_UPLOAD_INTERRUPTED": syncproto.CodeUploadOffset,
	// Another request held the upload for the whole wait.
	"ERR_LOCK_TIMEOUT":    syncproto.CodeConflict,
	"ERR_SERVER_SHUTDOWN": syncproto.CodeUnavailable,
	// A tus extension the server does not offer (a PATCH declaring
	// Upload-Length late, Upload-Concat): the request's headers are wrong.
	"ERR_NOT_IMPLEMENTED": syncproto.CodeInvalidUpload,
	// The bytes stopped arriving (a phone out of signal): the client's,
	// like a push's body that stops; those that came are kept.
	"ERR_READ_TIMEOUT":         syncproto.CodeRequestTimeout,
	"ERR_INVALID_CONTENT_TYPE": syncproto.CodeUnsupportedMediaType,
}

var byStatus = map[int]string{
	http.StatusNotFound:              syncproto.CodeNotFound,
	http.StatusConflict:              syncproto.CodeUploadOffset,
	http.StatusRequestEntityTooLarge: syncproto.CodeBodyTooLarge,
	http.StatusLocked:                syncproto.CodeConflict,
	http.StatusServiceUnavailable:    syncproto.CodeUnavailable,
}

// tusErrorMessages say more than tusMessages where one fieldsync code
// stands for several of tusd's errors.
var tusErrorMessages = map[string]string{
	"ERR_READ_TIMEOUT":         "照片数据中途停止到达（信号中断）：已收到的部分已保存，请先用 HEAD 查询已接收的字节数，再续传其余部分",
	"ERR_NOT_IMPLEMENTED":      "请求用到了服务器不支持的 tus 扩展（如在 PATCH 中才声明 Upload-Length，或 Upload-Concat）：Upload-Length 须在创建上传时声明",
	"ERR_UPLOAD_SIZE_EXCEEDED": "发送的字节超出了 Upload-Length 声明的文件长度（应用的错误）：请先用 HEAD 查询已接收的字节数，只发送其余部分",
}

var tusMessages = map[string]string{
	syncproto.CodeUploadOffset:         "上传偏移量不一致，请先用 HEAD 查询已接收的字节数",
	syncproto.CodeNotFound:             "上传不存在或已结束",
	syncproto.CodeBodyTooLarge:         "文件超过大小上限",
	syncproto.CodeConflict:             "该上传正被另一个请求使用，请稍后重试",
	syncproto.CodeUnavailable:          "服务器正在关闭，请稍后续传",
	syncproto.CodeMethodNotAllowed:     "不支持此操作",
	syncproto.CodeUnsupportedMediaType: "PATCH 的 Content-Type 应为 application/offset+octet-stream",
	syncproto.CodeInvalidUpload:        "tus 请求头无效",
}

// jsonErrors rewrites every error answer of the tus handler as fieldsync's
// JSON error with a stable code, the request id and the server's HLC, like
// every other error of the API: tusd's plain-text errors ("ERR_X: text")
// are mapped to codes, and the JSON errors of the hooks (tusError) are
// completed.
type jsonErrors struct {
	http.ResponseWriter
	head      bool
	serverHLC func() string
	// storeDown tells, after tusd answered an internal error, whether the
	// photo store is out of reach (tusd keeps only the error's text).
	storeDown func() bool
	// request is the request's body as tusd read it: a read that failed
	// other than by the connection's deadline (chunked framing a client
	// got wrong) is the client's fault, which tusd answers as its own.
	request *watchedBody
	status  int
	body    bytes.Buffer
	pending bool
}

// watchedBody keeps the first error reading a request's body gave, other
// than its end.
type watchedBody struct {
	io.ReadCloser
	err error
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// malformedBody reports whether the body could not be read for a fault
// of the request's (not the connection's deadline, which tusd answers
// itself, nor the client going away, whose answer no one reads).
func (b *watchedBody) malformedBody() bool {
	return b != nil && b.err != nil && !errors.Is(b.err, os.ErrDeadlineExceeded)
}

func (w *jsonErrors) WriteHeader(status int) {
	if status >= 400 {
		w.status, w.pending = status, true
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *jsonErrors) Write(b []byte) (int, error) {
	if w.pending {
		return w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (tusd sets read
// deadlines through it).
func (w *jsonErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish writes the answer held back (tusd's error, as fieldsync's JSON
// error) and returns the status the client was answered.
func (w *jsonErrors) finish() int {
	if !w.pending {
		return w.status
	}
	var eb syncproto.ErrorBody
	raw := bytes.TrimSpace(w.body.Bytes())
	status := w.status
	h := w.Header()
	if json.Unmarshal(raw, &eb) != nil || eb.Code == "" { // tusd's own error, not a hook's
		eb = syncproto.ErrorBody{Code: w.tusCode(string(raw))}
		status = syncproto.HTTPStatus(eb.Code)
		tusCode, _, _ := strings.Cut(string(raw), ":")
		eb.Message = tusErrorMessages[tusCode]
		if diskFull(string(raw)) {
			// The store's own write (creating an upload's files, or
			// writing its bytes) found the disk full: tusd keeps only
			// the error's text. As every request the storage refuses:
			// unavailable, to be sent again later.
			eb = syncproto.ErrorBody{Code: server.ErrStorageFull.Code, Message: server.ErrStorageFull.Message}
			status = syncproto.HTTPStatus(eb.Code)
			h.Set("Retry-After", strconv.Itoa(int(server.ErrStorageFull.RetryAfter/time.Second)))
		} else if tusCode == "ERR_INTERNAL_SERVER_ERROR" && w.request.malformedBody() {
			// The body could not be read (chunked framing a client got
			// wrong): the request's fault, not the server's, and no
			// permanent refusal of the photo either — sent right, the
			// same bytes are taken.
			eb = syncproto.ErrorBody{Code: syncproto.CodeBadRequest,
				Message: "请求体无法读取（分块传输编码有误，是应用或网络中间设备的错误）：请先用 HEAD 查询已接收的字节数，再续传其余部分"}
			status = syncproto.HTTPStatus(eb.Code)
		} else if eb.Code == syncproto.CodeInternal && w.storeDown != nil && w.storeDown() {
			// The store failed because it is out of reach (S3 stopped or
			// wedged, the database of the upload locks): unavailable, to
			// be sent again later, as every request a store out of reach
			// refuses — a HEAD too, whose tusd answer has no body to say
			// what failed.
			eb = syncproto.ErrorBody{Code: server.ErrStoreUnavailable.Code, Message: server.ErrStoreUnavailable.Message}
			status = syncproto.HTTPStatus(eb.Code)
			h.Set("Retry-After", strconv.Itoa(int(server.ErrStoreUnavailable.RetryAfter/time.Second)))
		}
	}
	if eb.Message == "" {
		eb.Message = tusMessages[eb.Code]
	}
	if eb.Message == "" {
		eb.Message = "上传失败"
	}
	eb.RequestID = h.Get("X-Request-Id")
	eb.ServerHLC = w.serverHLC()
	body, _ := json.Marshal(eb)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.ResponseWriter.WriteHeader(status)
	if !w.head {
		_, _ = w.ResponseWriter.Write(body)
	}
	return status
}

// Ping tells whether the upload directory takes writes: an upload's
// bytes are written there (with S3, its copy to be checked).
func (s *Service) Ping() error { return fsprobe.Writable(s.dir) }

// storeDown reports whether the database or the photo store does not
// answer a ping (server.Down).
func (s *Service) storeDown() bool {
	db, _ := s.syncer.Store.(server.Pinger)
	return server.Down(context.Background(), db, s.syncer.Blobs) != nil
}

// diskFull reports whether a tusd error answer is an internal error of the
// store's that found the disk full (ENOSPC, EDQUOT, as their text: tusd
// keeps no more of the error).
func diskFull(body string) bool {
	tusCode, text, _ := strings.Cut(body, ":")
	return tusCode == "ERR_INTERNAL_SERVER_ERROR" &&
		(strings.Contains(text, syscall.ENOSPC.Error()) || strings.Contains(text, syscall.EDQUOT.Error()))
}

// tusCode maps a tusd error answer to a fieldsync code: by its ERR_ code,
// else (HEAD answers carry no body) by its status.
func (w *jsonErrors) tusCode(body string) string {
	tusCode, _, _ := strings.Cut(body, ":")
	if code, ok := tusCodes[tusCode]; ok {
		return code
	}
	if code, ok := byStatus[w.status]; ok {
		return code
	}
	if w.status >= 500 {
		return syncproto.CodeInternal
	}
	return syncproto.CodeInvalidUpload
}

// Sweep removes uploads that have not been written to for maxAge (a phone
// that never came back), returning how many it removed. Completed uploads
// are removed at once; these are the abandoned ones.
func (s *Service) Sweep(maxAge time.Duration, now time.Time) (int, error) {
	if s.s3 != nil {
		return s.s3.sweep(context.Background(), s.store, maxAge, now)
	}
	return SweepDir(s.dir, maxAge, now)
}

// SweepDir is Sweep for the uploads kept in dir, without a running
// service (the command line's sweep).
func SweepDir(dir string, maxAge time.Duration, now time.Time) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// An upload is its bytes (id) and its .info (id.info); either may be
	// left alone (one removed by hand, a crash between the two), and is
	// swept as the pair is: once not written to for maxAge — the bytes'
	// time when there are bytes, else the .info's.
	halves := map[string]string{} // id → the file whose time counts
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, "tusd-s3-tmp-") {
			continue
		}
		if id, ok := strings.CutSuffix(name, ".info"); ok {
			if _, bytes := halves[id]; !bytes {
				halves[id] = name
			}
			continue
		}
		halves[name] = name
	}
	n := 0
	for id, timed := range halves {
		info, err := os.Stat(filepath.Join(dir, timed))
		if err != nil || now.Sub(info.ModTime()) < maxAge {
			continue
		}
		os.Remove(filepath.Join(dir, id))
		os.Remove(filepath.Join(dir, id+".info"))
		n++
	}
	return n, nil
}

// removeStaleParts removes the files in which tusd's S3 store held the
// bytes of a PATCH on their way to the bucket, left in dir by a server
// that died mid-request (the phone sends those bytes again after HEAD):
// those not written to since before, so that none a running request
// writes is touched.
func removeStaleParts(dir string, before time.Time, log *slog.Logger) {
	names, _ := filepath.Glob(filepath.Join(dir, "tusd-s3-tmp-*"))
	for _, name := range names {
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(before) {
			if err := os.Remove(name); err != nil {
				log.Warn("remove stale upload part", "file", name, "err", err)
			}
		}
	}
}

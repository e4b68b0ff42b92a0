package syncproto

import (
	"net/http"
	"slices"
)

// Stable machine-readable error codes. They appear as ErrorBody.Code for a
// failed request and as PushResult.Code for a rejected mutation. Codes never
// change meaning; new ones may be added.
const (
	CodeBadRequest           = "bad_request"     // malformed JSON or parameters
	CodeInvalidField         = "invalid_field"   // a value of the wrong type or out of range
	CodeUnknownField         = "unknown_field"   // a field the entity or request does not have
	CodeMissingField         = "missing_field"   // a required field is absent
	CodeBodyTooLarge         = "body_too_large"  // request body over the limit
	CodeRequestTimeout       = "request_timeout" // the body stopped arriving (no byte for the server's idle time): send the request again
	CodeUnauthorized         = "unauthorized"    // no credentials
	CodeTokenInvalid         = "token_invalid"   // forged, malformed or wrong-algorithm token
	CodeTokenExpired         = "token_expired"   // access token past its expiry: refresh
	CodeInvalidLogin         = "invalid_credentials"
	CodeTooManyTries         = "too_many_attempts" // login slowed after failures; see Retry-After
	CodeDeviceRevoked        = "device_revoked"    // the device may no longer sync: log in on a new device
	CodeUserDisabled         = "user_disabled"
	CodeDeviceMismatch       = "device_mismatch" // device_id differs from the token's device
	CodeForbidden            = "forbidden"       // the role may not do this
	CodeOutOfScope           = "out_of_scope"    // a county outside the user's scope
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeConflict             = "conflict"        // state does not allow the action
	CodeBatchMismatch        = "batch_mismatch"  // batch_id reused with different content
	CodeResyncRequired       = "resync_required" // cursor no longer valid: pull from empty cursor
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeHashMismatch         = "hash_mismatch"          // uploaded bytes do not match the declared SHA-256
	CodeBadImage             = "bad_image"              // not an image, truncated, or too many pixels
	CodeUploadOffset         = "upload_offset_mismatch" // tus: PATCH at the wrong offset; HEAD for the right one
	CodeInvalidUpload        = "invalid_upload"         // tus: malformed or missing protocol headers or metadata
	CodeNotReady             = "not_ready"              // a photo's bytes are not uploaded for it, or a derivative is still being made
	CodeQuotaExceeded        = "quota_exceeded"         // tus creation: the device's uploads still without a photo record are over its quota; push those records first
	CodeInternal             = "internal"
	CodeUnavailable          = "unavailable"
	// CodeServerBusy: the server has as many pushes or pulls in progress
	// and waiting as it takes; nothing of the request was done. Wait
	// Retry-After seconds and send the same request again (a push with the
	// same batch_id, a pull with the same cursor).
	CodeServerBusy = "server_busy"

	// Per-mutation codes.
	CodeUnknownEntity    = "unknown_entity"
	CodeInvalidID        = "invalid_id"
	CodeInvalidHLC       = "invalid_hlc"
	CodeClockSkew        = "clock_skew"         // HLC too far ahead of the server: correct the clock, re-stamp
	CodeServerOwnedField = "server_owned_field" // only the server or an office writes it
	CodeReadOnlyEntity   = "read_only_entity"   // devices may not write this entity
	CodeRecordLocked     = "record_locked"      // inspection submitted or approved
	CodeImmutableField   = "immutable_field"    // set at creation, cannot change
	CodeUnknownReference = "unknown_reference"  // a referenced record does not exist (yet)
	CodeNotDeletable     = "not_deletable"      // evidence is never deleted by a device
	CodeRecordDeleted    = "record_deleted"     // the record is deleted; the update was kept only in the conflict log
	CodeInvalidValue     = "invalid_value"      // a value outside the allowed set
)

// httpStatus maps every code to the HTTP status it is answered with when it
// fails a whole request. Per-mutation codes normally travel inside a 200
// push response, but a domain call outside a push (an office tool, an
// upload) may return one as its error, so they have a status too. A code
// missing here is a bug: HTTPStatus answers it as 500, and a test checks
// that every Code* constant above is listed.
var httpStatus = map[string]int{
	CodeBadRequest:           http.StatusBadRequest,
	CodeInvalidField:         http.StatusBadRequest,
	CodeUnknownField:         http.StatusBadRequest,
	CodeMissingField:         http.StatusBadRequest,
	CodeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	CodeRequestTimeout:       http.StatusRequestTimeout,
	CodeUnauthorized:         http.StatusUnauthorized,
	CodeTokenInvalid:         http.StatusUnauthorized,
	CodeTokenExpired:         http.StatusUnauthorized,
	CodeInvalidLogin:         http.StatusUnauthorized,
	CodeTooManyTries:         http.StatusTooManyRequests,
	CodeDeviceRevoked:        http.StatusForbidden,
	CodeUserDisabled:         http.StatusForbidden,
	CodeDeviceMismatch:       http.StatusForbidden,
	CodeForbidden:            http.StatusForbidden,
	CodeOutOfScope:           http.StatusForbidden,
	CodeNotFound:             http.StatusNotFound,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeConflict:             http.StatusConflict,
	CodeBatchMismatch:        http.StatusConflict,
	CodeResyncRequired:       http.StatusGone,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodeHashMismatch:         http.StatusUnprocessableEntity,
	CodeBadImage:             http.StatusUnprocessableEntity,
	CodeUploadOffset:         http.StatusConflict,
	CodeInvalidUpload:        http.StatusBadRequest,
	CodeNotReady:             http.StatusNotFound,
	CodeInternal:             http.StatusInternalServerError,
	CodeUnavailable:          http.StatusServiceUnavailable,
	CodeServerBusy:           http.StatusServiceUnavailable,
	CodeQuotaExceeded:        http.StatusInsufficientStorage,

	CodeUnknownEntity:    http.StatusBadRequest,
	CodeInvalidID:        http.StatusBadRequest,
	CodeInvalidHLC:       http.StatusBadRequest,
	CodeClockSkew:        http.StatusBadRequest,
	CodeServerOwnedField: http.StatusForbidden,
	CodeReadOnlyEntity:   http.StatusForbidden,
	CodeRecordLocked:     http.StatusConflict,
	CodeImmutableField:   http.StatusConflict,
	CodeUnknownReference: http.StatusConflict,
	CodeNotDeletable:     http.StatusForbidden,
	CodeRecordDeleted:    http.StatusConflict,
	CodeInvalidValue:     http.StatusBadRequest,
}

// ErrorCodes returns every error code, sorted: what a client needs a
// message for.
func ErrorCodes() []string {
	out := make([]string, 0, len(httpStatus))
	for c := range httpStatus {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// HTTPStatus returns the HTTP status a failed request with this code is
// answered with: one table for the API, the office console and uploads.
// An unknown code is a server fault, 500.
func HTTPStatus(code string) int {
	if s, ok := httpStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

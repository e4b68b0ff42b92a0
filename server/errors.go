// Package server holds fieldsync's domain: the entities that sync, the
// rules that apply a device's mutations (scope, server-owned fields, locks,
// clock skew, per-field HLC merge), users, devices and their roles, and the
// interfaces the storage and HTTP layers meet at. It imports neither SQL nor
// HTTP; subpackages do (sqlite, api, auth).
package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Error is fieldsync's one error type. Code is one of the syncproto.Code*
// constants and survives the wire; Message is shown to users (Chinese). Err,
// when set, is the underlying cause, logged but never sent to clients.
type Error struct {
	Code    string
	Message string
	Err     error
	// RetryAfter, when set, tells the client how long to wait.
	RetryAfter time.Duration
}

// ErrRefreshReuse is the cause in the token_invalid error a store returns
// when a refresh token already spent by rotation is presented again within
// its session: a copy of it is in other hands. The store has ended the
// device's session by then, and auth reports a security event.
var ErrRefreshReuse = errors.New("spent refresh token presented again")

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the Code of an *Error in its chain, or
// syncproto.CodeInternal for anything else (and "" for nil).
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return syncproto.CodeInternal
}

// RetryAfterSeconds is the Retry-After of err in whole seconds, rounded
// up (a client told less would come back too soon and be refused again),
// or 0 when err says nothing of it.
func RetryAfterSeconds(err error) int {
	var e *Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 {
		return 0
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// an *Error are internal, and their text is never shown.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "服务器内部错误，请稍后重试"
}

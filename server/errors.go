// Package server holds fieldsync's domain: the entities that sync, the
// rules that apply a device's mutations (scope, server-owned fields, locks,
// clock skew, per-field HLC merge), users, devices and their roles, and the
// interfaces the storage and HTTP layers meet at. It imports neither SQL nor
// HTTP; subpackages do (sqlite, api, auth).
package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

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
	// Field, when set, is where the fault is, for programs (Message names
	// it for people): a JSON path into the request body
	// (mutations[3].fields.summary), or, in a push result, the field of
	// the record (plate, answers.fence).
	Field string
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
	return &Error{Code: code, Message: Shown(fmt.Sprintf(format, args...))}
}

// Shown returns s as a message or a field of an error may say it: what a
// request sent, quoted back, on one line, with its control characters
// and line and paragraph separators (U+2028, U+2029), its format
// characters (a direction override, which would make the message read in
// another order on a phone, a zero-width space) and its invalid UTF-8
// escaped (\u202e, \xff); s itself when it has none (the attacker probe:
// an unknown field's name came back raw in field).
func Shown(s string) string {
	hidden := func(r rune) bool {
		return r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp) ||
			r >= 0xfdd0 && r <= 0xfdef || r&0xfffe == 0xfffe
	}
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				fmt.Fprintf(&b, "\\x%02x", s[i])
				continue
			}
			b.WriteString("\\ufffd")
		case hidden(r) && r > 0xffff:
			fmt.Fprintf(&b, "\\U%08x", r)
		case hidden(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ErrorCode returns the code of err: the Code of an *Error in its chain, or
// syncproto.CodeInternal for anything else (and "" for nil).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e := asError(err); e != nil {
		return e.Code
	}
	return syncproto.CodeInternal
}

// RetryAfterSeconds is the Retry-After of err in whole seconds, rounded
// up (a client told less would come back too soon and be refused again),
// or 0 when err says nothing of it.
func RetryAfterSeconds(err error) int {
	e := asError(err)
	if e == nil || e.RetryAfter <= 0 {
		return 0
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// ErrorField returns the Field of the *Error in err's chain, or "".
func ErrorField(err error) string {
	if e := asError(err); e != nil {
		return e.Field
	}
	return ""
}

// At returns a copy of e whose Field is field, unless e names one already
// (the deeper location wins).
func (e *Error) At(field string) *Error {
	if e.Field != "" || field == "" {
		return e
	}
	c := *e
	c.Field = Shown(field)
	return &c
}

// AtField returns err located at field when it is an *Error without a
// field (At), and err as it is otherwise: an internal error stays one.
func AtField(err error, field string) error {
	if e := asError(err); e != nil && e.Field == "" {
		return e.At(field)
	}
	return err
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// an *Error are internal, and their text is never shown.
func ErrorMessage(err error) string {
	if e := asError(err); e != nil {
		return e.Message
	}
	return "服务器内部错误，请稍后重试"
}

// asError is the *Error err stands for: the server out of storage
// (StorageFull, whatever wraps it) as ErrStorageFull, else the *Error in
// err's chain, or nil.
func asError(err error) *Error {
	if StorageFull(err) {
		return &Error{Code: ErrStorageFull.Code, Message: ErrStorageFull.Message, RetryAfter: ErrStorageFull.RetryAfter, Err: err}
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if StoreUnreachable(err) {
		return &Error{Code: ErrStoreUnavailable.Code, Message: ErrStoreUnavailable.Message, RetryAfter: ErrStoreUnavailable.RetryAfter, Err: err}
	}
	return nil
}

// ErrUserDisabled refuses a request of a user an administrator disabled;
// its message says whom to ask (the SDK probe: "账号已停用" alone did not).
var ErrUserDisabled = &Error{Code: syncproto.CodeUserDisabled, Message: "此账号已停用，请联系县督查室"}

// ErrDeviceRevoked refuses a request of a device an administrator revoked.
var ErrDeviceRevoked = &Error{Code: syncproto.CodeDeviceRevoked, Message: "此手机已被管理员停用，请联系县督查室"}

// ErrStoreUnavailable is what a request answers when a store it needs
// (the database, the photo store) cannot be reached or fails on its side:
// unavailable, to be sent again after Retry-After, nothing of it done —
// not a 500, which a phone takes for a server bug.
var ErrStoreUnavailable = &Error{Code: syncproto.CodeUnavailable, Message: "服务器暂时无法访问数据存储，本次未处理；数据仍在手机上，稍后会自动重试",
	RetryAfter: 15 * time.Second}

// errorKind is the tests of whether an error is of one kind (the storage
// full, a store out of reach): the server's own, and those each store
// registers for its driver's errors at init.
type errorKind []func(error) bool

// of reports whether err passes one of the tests.
func (k errorKind) of(err error) bool {
	return err != nil && slices.ContainsFunc(k, func(test func(error) bool) bool { return test(err) })
}

// storeUnreachable are the tests of StoreUnreachable: a connection
// refused, reset or timed out, a network or host out of reach, and those
// each store registers (RegisterUnreachable).
var storeUnreachable = errorKind{func(err error) bool {
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}}

// RegisterUnreachable adds a test of whether an error is a store out of
// reach or failing on its side (PostgreSQL's connection errors and
// shutdowns, an S3 store's 5xx or its request timeout); stores call it at
// init.
func RegisterUnreachable(f func(error) bool) { storeUnreachable = append(storeUnreachable, f) }

// StoreUnreachable says whether err is a store the server needs being out
// of reach: a failure that is nobody's bug and passes by itself.
func StoreUnreachable(err error) bool { return storeUnreachable.of(err) }

// ErrNewerSchema is a database that a newer fieldsync has migrated: a
// server of this build cannot serve it (Store.Ping, at start and after).
var ErrNewerSchema = errors.New("the database was migrated by a newer fieldsync")

// Pinger is a store that says whether it answers (the database, the photo
// store).
type Pinger interface {
	Ping(ctx context.Context) error
}

// outageWait bounds Outage's pings, as /readyz's.
const outageWait = 5 * time.Second

// Outage returns an internal error (none of the server's own: a driver's
// words the server cannot read, such as a bare "unexpected EOF" of a
// connection cut mid-query) as ErrStoreUnavailable, wrapping it and the
// ping's answer, when one of stores (nil ones skipped) does not answer
// now: a failure during an outage is the outage's, answered 503 with a
// Retry-After, not a 500 that a phone takes for a bug. Any other error,
// or one while every store answers, is returned as it is.
func Outage(ctx context.Context, err error, stores ...Pinger) error {
	if ErrorCode(err) != syncproto.CodeInternal {
		return err
	}
	if perr := Down(ctx, stores...); perr != nil {
		return &Error{Code: ErrStoreUnavailable.Code, Message: ErrStoreUnavailable.Message, RetryAfter: ErrStoreUnavailable.RetryAfter,
			Err: fmt.Errorf("%w (and the store does not answer: %w)", err, perr)}
	}
	return err
}

// Down returns the error of the first of stores (nil ones skipped) whose
// ping fails or gets no answer within 5 s (as /readyz waits), or nil when
// each answers. A request's end does not cut it short.
func Down(ctx context.Context, stores ...Pinger) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outageWait)
	defer cancel()
	for _, s := range stores {
		if s == nil {
			continue
		}
		if err := s.Ping(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ErrStorageFull is what a request that failed for want of storage on the
// server (its database's disk, or the photos') answers: unavailable, to be
// sent again later, nothing of it kept — not a 500 internal error.
var ErrStorageFull = &Error{Code: syncproto.CodeUnavailable, Message: "服务器存储空间已满，本次未保存；数据仍在手机上，稍后会自动重试",
	RetryAfter: time.Minute}

// storageFull are the tests of StorageFull: the disk's own (ENOSPC,
// EDQUOT) and those each store registers for its driver's (RegisterStorageFull).
var storageFull = errorKind{func(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}}

// RegisterStorageFull adds a test of whether an error is a store's "out of
// space" (SQLite's SQLITE_FULL, PostgreSQL's disk_full); stores call it at
// init.
func RegisterStorageFull(full func(error) bool) { storageFull = append(storageFull, full) }

// StorageFull says whether err is the server running out of storage.
func StorageFull(err error) bool { return storageFull.of(err) }

// FullWatch remembers that the store's writes fail for want of space, for
// readiness probes: a server whose last write found its storage full is
// not ready (a load balancer sends traffic elsewhere) until a write
// succeeds again or FullWatch's hold (a minute, ErrStorageFull's
// Retry-After) has passed — then it is tried again. The zero value is
// ready.
type FullWatch struct {
	mu   sync.Mutex
	at   time.Time // the last write refused for want of space; zero once one succeeds
	err  error
	now  func() time.Time // tests
	hold time.Duration
}

// Wrote records the outcome of a write: a failure for want of space
// (StorageFull) marks the store full, a success clears it, any other
// failure changes nothing.
func (w *FullWatch) Wrote(err error) {
	switch {
	case err == nil:
		w.mu.Lock()
		w.at, w.err = time.Time{}, nil
		w.mu.Unlock()
	case StorageFull(err):
		w.mu.Lock()
		w.at, w.err = w.clock(), err
		w.mu.Unlock()
	}
}

// Err is ErrStorageFull (wrapping the write's own error) while the store's
// last write failed for want of space within the hold, else nil.
func (w *FullWatch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	hold := w.hold
	if hold == 0 {
		hold = ErrStorageFull.RetryAfter
	}
	if w.at.IsZero() || w.clock().Sub(w.at) >= hold {
		return nil
	}
	return fmt.Errorf("the last write found the storage full: %w", w.err)
}

func (w *FullWatch) clock() time.Time {
	if w.now != nil {
		return w.now()
	}
	return time.Now()
}

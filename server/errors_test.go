package server

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestRetryAfterSeconds: a wait is told in whole seconds rounded up; a
// client told less comes back too soon and is refused again.
func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want int
	}{
		{0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1400 * time.Millisecond, 2}, {2 * time.Second, 2}, {15 * time.Minute, 900},
	} {
		e := Errorf(syncproto.CodeTooManyTries, "等")
		e.RetryAfter = tc.wait
		if got := RetryAfterSeconds(fmt.Errorf("wrapped: %w", e)); got != tc.want {
			t.Errorf("RetryAfter %v: %d s, want %d", tc.wait, got, tc.want)
		}
	}
	if got := RetryAfterSeconds(errors.New("plain")); got != 0 {
		t.Errorf("a plain error: %d", got)
	}
}

// TestStorageFull: a request that failed for want of space on the server
// — the disk's ENOSPC, however wrapped, even inside an internal *Error —
// is unavailable with a Retry-After and a Chinese message, not a 500.
func TestStorageFull(t *testing.T) {
	for name, err := range map[string]error{
		"the disk's":             &fs.PathError{Op: "write", Path: "blobs/x", Err: syscall.ENOSPC},
		"wrapped":                fmt.Errorf("store photo: %w", &fs.PathError{Op: "write", Path: "blobs/x", Err: syscall.ENOSPC}),
		"inside an internal one": &Error{Code: syncproto.CodeInternal, Message: "服务器内部错误", Err: syscall.ENOSPC},
		"a quota":                fmt.Errorf("commit: %w", syscall.EDQUOT),
	} {
		if !StorageFull(err) || ErrorCode(err) != syncproto.CodeUnavailable || RetryAfterSeconds(err) != 60 || ErrorMessage(err) != ErrStorageFull.Message {
			t.Errorf("%s: full %v, code %q, retry %d, message %q", name, StorageFull(err), ErrorCode(err), RetryAfterSeconds(err), ErrorMessage(err))
		}
	}
	for _, err := range []error{errors.New("database is locked"), syscall.EIO, Errorf(syncproto.CodeInvalidField, "x"), nil} {
		if StorageFull(err) {
			t.Errorf("%v is not the storage full", err)
		}
	}
	if ErrorCode(syscall.EIO) != syncproto.CodeInternal {
		t.Error("another I/O error is internal")
	}
}

// TestFullWatch: a store whose last write found its storage full is not
// ready until a write succeeds or the hold passes; other failures change
// nothing.
func TestFullWatch(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	w := &FullWatch{now: func() time.Time { return now }}
	if err := w.Err(); err != nil {
		t.Fatalf("a new watch: %v", err)
	}
	w.Wrote(errors.New("database is locked"))
	if err := w.Err(); err != nil {
		t.Fatalf("after another failure: %v", err)
	}
	w.Wrote(fmt.Errorf("commit: %w", syscall.ENOSPC))
	if err := w.Err(); !StorageFull(err) {
		t.Fatalf("after a write found the disk full: %v", err)
	}
	w.Wrote(errors.New("database is locked"))
	now = now.Add(59 * time.Second)
	if err := w.Err(); !StorageFull(err) {
		t.Fatalf("59 s later, after another failure: %v", err)
	}
	w.Wrote(nil)
	if err := w.Err(); err != nil {
		t.Fatalf("after a write succeeded: %v", err)
	}
	w.Wrote(syscall.EDQUOT)
	now = now.Add(ErrStorageFull.RetryAfter)
	if err := w.Err(); err != nil {
		t.Fatalf("a minute after the last full write: %v", err)
	}
}

// TestShown: an error's message and field say what a request sent with
// its hidden characters escaped, and the rest as it is.
func TestShown(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"未知字段 answers.fence", "未知字段 answers.fence"},
		{"两行\n文字\u2028第三行\u2029", `两行\u000a文字\u2028第三行\u2029`},
		{"问题\u202e21-21-6202 限期", `问题\u202e21-21-6202 限期`},
		{"a\u200bb\u0007c\tc", `a\u200bb\u0007c\u0009c`},
		{"bad \xff byte", `bad \xff byte`},
		{"private \U000F0000 noncharacter \uFFFF", `private \U000f0000 noncharacter \uffff`},
	} {
		if got := Shown(c.in); got != c.want {
			t.Errorf("Shown(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Errorf(syncproto.CodeInvalidField, "%s", c.in).At(c.in); got.Message != c.want || got.Field != c.want {
			t.Errorf("Errorf and At of %q: %q at %q, want %q", c.in, got.Message, got.Field, c.want)
		}
	}
}

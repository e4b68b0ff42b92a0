package console

import (
	"strconv"
	"testing"
	"time"
)

// TestSealedNoticeReadOnceInItsTime: a notice sealed to a session is read
// by that session within its two minutes, and by no other session, nor
// after (verification probe: the cookie sent again by hand later said a
// reset password again); a notice left where no one was signed in is
// plain.
func TestSealedNoticeReadOnceInItsTime(t *testing.T) {
	s, other := &session{csrf: "one-secret"}, &session{csrf: "another-secret"}
	seal := func(at time.Time) string {
		t.Helper()
		v, err := sealNotice(s, strconv.FormatInt(at.Unix(), 10)+"\ndone=password&password=Secret123")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	fresh := seal(time.Now())
	if text, ok := openNotice(s, fresh); !ok || text != "done=password&password=Secret123" {
		t.Errorf("its session reads %q %v", text, ok)
	}
	if _, ok := openNotice(other, fresh); ok {
		t.Error("another session reads it")
	}
	if _, ok := openNotice(nil, fresh); ok {
		t.Error("no session reads it")
	}
	if text, ok := openNotice(s, seal(time.Now().Add(-noticeMaxAge-time.Second))); ok {
		t.Errorf("read after its time: %q", text)
	}
	if text, ok := openNotice(nil, "ZG9uZT0x"); !ok || text != "done=1" {
		t.Errorf("a plain notice reads %q %v", text, ok)
	}
}

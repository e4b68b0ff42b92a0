package upload

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestTusErrorsOfAFullDisk: tusd keeps only the text of its store's
// errors; one that found the disk full (creating an upload's files on a
// POST, writing its bytes) answers as every request the storage refuses —
// 503 unavailable with Retry-After — not 500 internal. Other internal
// errors stay internal.
func TestTusErrorsOfAFullDisk(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status int
		code   string
		retry  string
	}{
		{"ERR_INTERNAL_SERVER_ERROR: open /data/uploads/0a1b.info: " + syscall.ENOSPC.Error() + "\n", http.StatusServiceUnavailable, syncproto.CodeUnavailable, "60"},
		{"ERR_INTERNAL_SERVER_ERROR: write /data/uploads/0a1b: " + syscall.EDQUOT.Error() + "\n", http.StatusServiceUnavailable, syncproto.CodeUnavailable, "60"},
		{"ERR_INTERNAL_SERVER_ERROR: open /data/uploads/0a1b.info: permission denied\n", http.StatusInternalServerError, syncproto.CodeInternal, ""},
		// A client's text naming the error is not the store's.
		{"ERR_MISMATCHED_OFFSET: " + syscall.ENOSPC.Error() + "\n", http.StatusConflict, syncproto.CodeUploadOffset, ""},
	} {
		rec := httptest.NewRecorder()
		w := &jsonErrors{ResponseWriter: rec, serverHLC: func() string { return "" }}
		w.WriteHeader(map[bool]int{true: http.StatusConflict, false: http.StatusInternalServerError}[tc.code == syncproto.CodeUploadOffset])
		_, _ = w.Write([]byte(tc.body))
		// The status answered, which the log names (the ops probe read 500
		// in the log of a request answered 503).
		if got := w.finish(); got != tc.status {
			t.Errorf("%q: finish says %d was answered, the answer is %d", tc.body, got, tc.status)
		}
		var eb syncproto.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || rec.Code != tc.status || eb.Code != tc.code || rec.Header().Get("Retry-After") != tc.retry {
			t.Errorf("%q: %d %s (Retry-After %q) %v, want %d %s (Retry-After %q)", tc.body, rec.Code, eb.Code, rec.Header().Get("Retry-After"), err, tc.status, tc.code, tc.retry)
		}
	}
}

package api

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestAbandonedRequestIsNoServerError: when the client has gone away, the
// store's words for the abandoned transaction — whatever its driver says
// — are not logged as an internal error nor answered 500; an internal
// error of a request still waited for is.
func TestAbandonedRequestIsNoServerError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		gone     bool
		wantCode string
		logged   bool // at ERROR
	}{
		{"cancelled context", fmt.Errorf("push: %w", context.Canceled), true, syncproto.CodeUnavailable, false},
		{"transaction done", fmt.Errorf("add conflict: %w", sql.ErrTxDone), true, syncproto.CodeUnavailable, false},
		{"statement closed", fmt.Errorf("write vehicle_check: sql: statement is closed"), true, syncproto.CodeUnavailable, false},
		{"client still there", fmt.Errorf("add conflict: %w", sql.ErrTxDone), false, syncproto.CodeInternal, true},
		{"a refusal, client gone", server.Errorf(syncproto.CodeBadRequest, "坏请求"), true, syncproto.CodeBadRequest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			a := &API{log: slog.New(slog.NewTextHandler(&logs, nil)), syncer: server.NewSyncer(nil, time.Now)}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.gone {
				cancel()
			} else {
				defer cancel()
			}
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/sync/push", nil)
			rec := httptest.NewRecorder()
			a.errorHandler(tc.err, echo.New().NewContext(req, rec))
			if want := syncproto.HTTPStatus(tc.wantCode); rec.Code != want || !strings.Contains(rec.Body.String(), `"code":"`+tc.wantCode+`"`) {
				t.Errorf("answered %d %s, want %d %s", rec.Code, rec.Body, want, tc.wantCode)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tc.logged {
				t.Errorf("logged at ERROR: %v, want %v:\n%s", got, tc.logged, logs.String())
			}
		})
	}
}

// TestStorageFullMessages: a request refused for the full storage is told
// what became of what it carried — a push: nothing kept, the data stays on
// the phone; an upload's bytes: what arrived is kept, the upload goes on
// later (it said 本次未保存); a sign-in: only that the server cannot take
// it now.
func TestStorageFullMessages(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want, not    string
	}{
		{http.MethodPost, syncproto.PathPush, "数据仍在手机上", "已收到的部分"},
		{http.MethodPatch, syncproto.PathUploads + "0a1b2c", "已收到的部分（如有）已保留", "本次未保存"},
		{http.MethodPost, strings.TrimSuffix(syncproto.PathUploads, "/"), "已收到的部分（如有）已保留", "本次未保存"},
		{http.MethodPost, "/api/v1/auth/login", "暂时无法处理", "手机上"},
	} {
		a := &API{log: slog.New(slog.DiscardHandler), syncer: server.NewSyncer(nil, time.Now)}
		req := httptest.NewRequest(tc.method, tc.path, nil)
		rec := httptest.NewRecorder()
		a.errorHandler(fmt.Errorf("store: %w", &fs.PathError{Op: "write", Path: "blobs/x", Err: syscall.ENOSPC}), echo.New().NewContext(req, rec))
		if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, tc.want) || strings.Contains(body, tc.not) {
			t.Errorf("%s %s: %d %s, want 503 saying %q", tc.method, tc.path, rec.Code, body, tc.want)
		}
	}
}

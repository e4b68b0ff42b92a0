package api

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

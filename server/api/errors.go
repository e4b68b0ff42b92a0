package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// StatusOf returns the HTTP status for an error code: syncproto's one
// table, shared with the office console and uploads.
func StatusOf(code string) int { return syncproto.HTTPStatus(code) }

// errorHandler writes every error response: JSON {code, message,
// request_id, server_hlc}. Errors that are not a *server.Error are logged
// with the request id and answered as a generic internal error.
func (a *API) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		err = fromHTTPError(he)
	}
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if c.Request().Context().Err() != nil && server.ErrorCode(err) == syncproto.CodeInternal {
		// The client went away (a phone losing signal) and the work was
		// abandoned: the store answers with whatever its driver says of a
		// cancelled transaction (context.Canceled, "transaction has
		// already been committed or rolled back", "statement is closed"),
		// all rolled back. Not a server fault: no ERROR, no 500.
		a.log.Info("request abandoned by the client", "request_id", rid, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		err = &server.Error{Code: syncproto.CodeUnavailable, Message: "请求已取消", Err: err}
	}
	outage := server.StoreUnreachable(err)
	if o := server.Outage(c.Request().Context(), err, a.store, a.cfg.Blobs); o != err {
		err, outage = o, true
	}
	code := server.ErrorCode(err)
	message := server.ErrorMessage(err)
	if server.StorageFull(err) {
		// Answered 503 for the phone to come back later; the operator must know now.
		a.log.Error("storage full: request refused", "request_id", rid, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		switch p := c.Request().URL.Path; {
		case uploadRoute(p):
			// The bytes that arrived before the disk filled are kept
			// (HEAD says how many): not "nothing saved".
			message = "服务器存储空间已满，照片暂未传完：已收到的部分（如有）已保留，手机上的照片仍在，稍后会从中断处继续上传"
		case !carriesWork(p):
			// A sign-in, a refresh, a sign-out: no data of the phone's
			// was refused, as the sync's message says.
			message = "服务器存储空间已满，暂时无法处理，请稍后重试"
		}
	}
	if outage && code == syncproto.CodeUnavailable {
		// Answered 503 for the phone to come back later; an outage of the
		// database or the photo store all the same.
		a.log.Error("store unreachable: request refused", "request_id", rid, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		if !carriesWork(c.Request().URL.Path) && message == server.ErrStoreUnavailable.Message {
			// A pull, a photo shown to an office: nothing of a phone's
			// was refused.
			message = "服务器暂时无法访问数据存储，请稍后重试"
		}
	}
	if code == syncproto.CodeInternal {
		a.log.Error("internal error", "request_id", rid, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if uploadRoute(c.Request().URL.Path) && c.Request().Method != http.MethodOptions {
		// tus 1.0: every answer but OPTIONS's says the protocol version,
		// a refusal before the tus handler (a token, a query parameter)
		// as the handler's own.
		c.Response().Header().Set("Tus-Resumable", "1.0.0")
	}
	if s := server.RetryAfterSeconds(err); s > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(s))
	}
	if StatusOf(code) == http.StatusUnauthorized && code != syncproto.CodeInvalidLogin {
		// A token refused says which refusal (RFC 6750's invalid_token,
		// the code as its description): a HEAD's answer has no body, and
		// token_expired (refresh) and token_invalid (sign in again) are
		// both 401. A request without a token gets the realm alone.
		auth := `Bearer realm="fieldsync"`
		if code == syncproto.CodeTokenExpired || code == syncproto.CodeTokenInvalid {
			auth += `, error="invalid_token", error_description="` + code + `"`
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, auth)
	}
	body := syncproto.ErrorBody{Code: code, Message: message, Field: server.ErrorField(err), RequestID: rid, ServerHLC: a.syncer.ServerHLC()}
	// To HEAD as to GET: net/http sends the headers and drops the body.
	if werr := c.JSON(StatusOf(code), body); werr != nil {
		a.log.Warn("write error response", "request_id", rid, "err", werr)
	}
}

// carriesWork reports whether a request to path brings the phone's work
// (a push, a photo's bytes), which a refusal leaves on the phone.
func carriesWork(path string) bool {
	return path == syncproto.PathPush || uploadRoute(path)
}

// uploadRoute reports whether path is the tus uploads' (the collection
// or an upload).
func uploadRoute(path string) bool {
	return path+"/" == syncproto.PathUploads || strings.HasPrefix(path, syncproto.PathUploads)
}

func fromHTTPError(he *echo.HTTPError) error {
	switch he.Code {
	case http.StatusNotFound:
		return server.Errorf(syncproto.CodeNotFound, "接口不存在")
	case http.StatusMethodNotAllowed:
		return server.Errorf(syncproto.CodeMethodNotAllowed, "不支持此请求方法")
	case http.StatusRequestEntityTooLarge:
		return server.Errorf(syncproto.CodeBodyTooLarge, "请求体过大")
	case http.StatusUnauthorized:
		return server.Errorf(syncproto.CodeUnauthorized, "请先登录")
	case http.StatusServiceUnavailable:
		return server.Errorf(syncproto.CodeUnavailable, "服务暂不可用")
	}
	if he.Code >= 500 {
		return &server.Error{Code: syncproto.CodeInternal, Message: "服务器内部错误", Err: he}
	}
	return &server.Error{Code: syncproto.CodeBadRequest, Message: "请求无效", Err: he}
}

// logRequests logs one structured line per request.
func (a *API) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		lvl := slog.LevelInfo
		switch st := c.Response().Status; {
		case st == http.StatusServiceUnavailable:
			lvl = slog.LevelWarn // busy or shutting down: the client retries
		case st == http.StatusInsufficientStorage:
			lvl = slog.LevelWarn // a device over its upload quota, not a fault
		case st >= 500:
			lvl = slog.LevelError
		}
		attrs := []any{"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "method", c.Request().Method,
			"route", c.Path(), "status", c.Response().Status, "bytes", c.Response().Size,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "client_ip", c.RealIP()}
		if p := principalOf(c); p != nil {
			attrs = append(attrs, "user", p.Username, "device", p.DeviceID)
		}
		a.log.Log(c.Request().Context(), lvl, "request", attrs...)
		return nil
	}
}

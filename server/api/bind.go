package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// decodeJSON reads a JSON request body into v strictly: the content type
// must be JSON, unknown fields and wrong types are refused with the field
// named, trailing data is refused, and the body limit (set by bodyLimit)
// gives body_too_large.
func decodeJSON(c echo.Context, v any) error {
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationJSON {
		return server.Errorf(syncproto.CodeUnsupportedMediaType, "请求体应为 application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			var mbe *http.MaxBytesError
			if errors.As(terr, &mbe) {
				return server.Errorf(syncproto.CodeBodyTooLarge, "请求体超过 %d 字节", mbe.Limit)
			}
			return server.Errorf(syncproto.CodeBadRequest, "JSON 之后还有多余内容")
		}
		return nil
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return server.Errorf(syncproto.CodeBodyTooLarge, "请求体超过 %d 字节", mbe.Limit)
	case errors.Is(err, io.EOF):
		return server.Errorf(syncproto.CodeBadRequest, "请求体为空")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return server.Errorf(syncproto.CodeBadRequest, "JSON 格式错误")
	case errors.As(err, &typ) && typ.Field == "":
		return server.Errorf(syncproto.CodeInvalidField, "请求体应为 JSON 对象")
	case errors.As(err, &typ):
		return server.Errorf(syncproto.CodeInvalidField, "字段 %s 的类型错误，应为%s", typ.Field, jsonKind(typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return server.Errorf(syncproto.CodeUnknownField, "未知字段 %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return &server.Error{Code: syncproto.CodeBadRequest, Message: "请求体无法解析", Err: err}
}

// jsonKind names the JSON type a Go type decodes from, for messages (Go
// type names mean nothing to a client).
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "字符串"
	case reflect.Bool:
		return " true 或 false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "数字"
	case reflect.Slice, reflect.Array:
		return "数组"
	case reflect.Struct, reflect.Map:
		return "对象"
	}
	return "其他类型"
}

// bodyLimit caps request bodies at n bytes.
func bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > n {
				return server.Errorf(syncproto.CodeBodyTooLarge, "请求体超过 %d 字节", n)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, n)
			return next(c)
		}
	}
}

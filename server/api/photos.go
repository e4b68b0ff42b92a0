package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// photo serves a photo's original, preview or thumbnail to users whose
// scope holds the photo's county. Objects are content-addressed, so they
// are cacheable for ever under an ETag of hash and variant; originals
// answer Range requests.
func (a *API) photo(c echo.Context) error {
	variant := c.Param("variant")
	switch variant {
	case server.VariantOriginal, server.VariantPreview, server.VariantThumbnail:
	default:
		return server.Errorf(syncproto.CodeNotFound, "没有 %q 这种图片版本（可选 original、preview、thumbnail）", variant)
	}
	if a.cfg.Blobs == nil {
		return server.Errorf(syncproto.CodeNotFound, "未启用照片存储")
	}
	ctx := c.Request().Context()
	rec, err := a.store.Get(ctx, syncproto.EntityPhoto, c.Param("id"))
	switch {
	case err != nil:
		return err
	case rec == nil || rec.State.IsDeleted():
		return server.Errorf(syncproto.CodeNotFound, "照片不存在")
	case !principalOf(c).CanSee(rec.County):
		return server.Errorf(syncproto.CodeOutOfScope, "无权查看区县 %s 的照片", rec.County)
	}
	sum := rec.Text("sha256")
	b, err := a.cfg.Blobs.Open(ctx, sum, variant)
	if server.ErrorCode(err) == syncproto.CodeNotFound {
		if variant == server.VariantOriginal {
			return server.Errorf(syncproto.CodeNotReady, "照片文件尚未上传")
		}
		return server.Errorf(syncproto.CodeNotReady, "预览图正在生成或无法生成（见照片的 flags）")
	}
	if err != nil {
		return err
	}
	defer b.Close()
	h := c.Response().Header()
	h.Set("ETag", strconv.Quote(sum+"-"+variant))
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	ct := rec.Text("content_type")
	if variant != server.VariantOriginal || ct == "" {
		ct = "image/jpeg"
	}
	h.Set("Content-Type", ct)
	// ServeContent answers a failed If-Match or If-Unmodified-Since (412)
	// with no body and a Range outside the file (416) in plain text; they
	// get the API's JSON error like every other error.
	pw := &preconditionWriter{ResponseWriter: c.Response()}
	http.ServeContent(pw, c.Request(), "", b.ModTime(), b)
	if pw.status == 0 {
		return nil
	}
	for _, k := range []string{"Content-Type", "ETag", "Cache-Control", "Last-Modified", "Accept-Ranges", "Content-Length", "X-Content-Type-Options"} {
		h.Del(k)
	}
	msg := "If-Match 或 If-Unmodified-Since 条件不成立"
	if pw.status == http.StatusRequestedRangeNotSatisfiable {
		msg = "Range 超出照片文件的范围（文件大小见 Content-Range）"
	}
	return c.JSON(pw.status, syncproto.ErrorBody{Code: syncproto.CodeBadRequest, Message: msg,
		RequestID: h.Get(echo.HeaderXRequestID), ServerHLC: a.syncer.ServerHLC()})
}

// preconditionWriter holds back ServeContent's 412 and 416 answers.
type preconditionWriter struct {
	http.ResponseWriter
	status int
}

func (w *preconditionWriter) WriteHeader(status int) {
	if status == http.StatusPreconditionFailed || status == http.StatusRequestedRangeNotSatisfiable {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *preconditionWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *preconditionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

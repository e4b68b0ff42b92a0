package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/internal/byterange"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// photo serves a photo's original, preview or thumbnail to users whose
// scope holds the photo's county. Objects are content-addressed, so they
// are cacheable for ever under an ETag of hash and variant; originals
// answer Range requests. HEAD answers as GET — status and headers,
// Content-Length included — without a body (ServeContent and the error
// handler both know HEAD).
func (a *API) photo(c echo.Context) error {
	obj, err := server.OpenPhoto(c.Request().Context(), a.store.Get, a.cfg.Blobs, principalOf(c), c.Param("id"), c.Param("variant"))
	if err != nil {
		return err
	}
	defer obj.Close()
	h := c.Response().Header()
	obj.SetHeaders(h)
	b := obj
	// ServeContent answers a failed If-Match or If-Unmodified-Since (412)
	// with no body and a Range outside the file (416) in plain text; they
	// get the API's JSON error like every other error.
	pw := &preconditionWriter{ResponseWriter: c.Response()}
	// A Range of another unit or that does not parse is ignored (RFC 9110
	// §14.2): the whole file, not a 416 that would say the range is
	// outside it; one ServeContent misreads (a zero-length suffix, a
	// number past any file) is put as the RFC reads it.
	byterange.Apply(c.Request(), b.Size())
	http.ServeContent(pw, c.Request(), "", b.ModTime(), b)
	if pw.status == 0 {
		return nil
	}
	for _, k := range []string{"Content-Type", "ETag", "Last-Modified", "Accept-Ranges", "Content-Length"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "no-store") // a refusal, as every API answer but a photo's (noStore)
	// A HEAD gets the same JSON, which net/http counts for the
	// Content-Length and drops, so that its headers are the GET's.
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

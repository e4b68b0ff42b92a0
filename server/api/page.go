package api

import (
	"bytes"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
)

// This file writes pull pages: the hot path of a busy server and of every
// phone's first sync. A page is written into a pooled buffer, then sent
// gzip-compressed (when the client accepts it) at the fastest level of
// klauspost/compress, several times faster than compress/gzip's default
// level for a little less compression; on a phone's link the page is
// still a tenth of its size (docs/benchmarks.md).

// pageBuffers holds the buffers pages are written and compressed into, so
// a busy server reuses a few instead of allocating two per page.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer kept for reuse (a page of the largest
// limit is rare; its buffer goes back to the garbage collector).
const maxPooled = 4 << 20

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// minGzip is the smallest body worth compressing.
const minGzip = 1024

// writePage sends fill's JSON with status 200, compressed if the client
// accepts gzip. The route must be skipped by the general gzip middleware.
func writePage(c echo.Context, fill func([]byte) []byte) error {
	raw := pageBuffers.Get().(*bytes.Buffer)
	defer putBuffer(raw)
	raw.Reset()
	body := fill(raw.AvailableBuffer())
	h := c.Response().Header()
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if len(body) < minGzip || !acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	}
	zbuf := pageBuffers.Get().(*bytes.Buffer)
	defer putBuffer(zbuf)
	zbuf.Reset()
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(zbuf)
	if _, err := zw.Write(body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	h.Set(echo.HeaderContentEncoding, "gzip")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, zbuf.Bytes())
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		pageBuffers.Put(b)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (not
// refused with q=0).
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

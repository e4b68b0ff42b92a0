package api

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
)

// pageBuffers holds the buffers pull pages are written into, so a busy
// server reuses a few instead of allocating one per page.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer kept for reuse (a page of the largest
// limit is rare; its buffer goes back to the garbage collector).
const maxPooled = 4 << 20

// writePage sends the JSON fill appends with status 200, written into a
// pooled buffer (compress gzips it on the way out).
func writePage(c echo.Context, fill func([]byte) []byte) error {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooled {
			pageBuffers.Put(buf)
		}
	}()
	buf.Reset()
	body := fill(buf.AvailableBuffer())
	if cap(body) > buf.Cap() { // grown: keep the larger buffer for the next page
		buf = bytes.NewBuffer(body[:0])
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

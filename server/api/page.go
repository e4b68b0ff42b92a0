package api

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"

	"github.com/xinzhou-eco/fieldsync/server"
)

// pageBuffers holds the buffers pull pages are written into, so a busy
// server reuses a few instead of allocating one per page.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer kept for reuse (a page of the largest
// limit is rare; its buffer goes back to the garbage collector).
const maxPooled = 4 << 20

// withPageBuffer calls use with the JSON fill appends to a pooled buffer,
// which goes back to the pool when use returns.
func withPageBuffer(fill func([]byte) []byte, use func([]byte) error) error {
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
	return use(body)
}

// writePage sends the JSON fill appends with status 200, written into a
// pooled buffer (compress gzips it on the way out).
func writePage(c echo.Context, fill func([]byte) []byte) error {
	return withPageBuffer(fill, func(body []byte) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	})
}

// encodePage is server.Syncer.EncodePage: a pull page's JSON gzipped as
// compress would on the way out, for the pages read ahead; nil for any
// other encoding.
func encodePage(pg *server.PullPage, encoding string) []byte {
	if encoding != "gzip" {
		return nil
	}
	var out bytes.Buffer
	err := withPageBuffer(pg.AppendJSON, func(body []byte) error {
		out.Grow(len(body)/4 + 64)
		zw := gzipWriters.Get().(*gzip.Writer)
		gzipInUse.Add(1)
		defer func() {
			gzipWriters.Put(zw)
			gzipInUse.Add(-1)
		}()
		zw.Reset(&out)
		if _, err := zw.Write(body); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return nil // the request encodes the page itself
	}
	return out.Bytes()
}

package api

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
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

// encodePage is server.Syncer.EncodePage: the head of a pull page's JSON
// (all but its server_hlc) gzipped, for the pages read ahead; nil for any
// encoding but gzip.
func encodePage(pg *server.PullPage, encoding string) any {
	if encoding != "gzip" {
		return nil
	}
	var head *gzipHead
	err := withPageBuffer(pg.AppendHead, func(body []byte) error {
		out := bytes.NewBuffer(gzipOut.Get().(*gzipBuf).b[:0])
		out.Grow(len(body)/4 + 128)
		// Not counted in gzipInUse (the requests' compressors): the pages
		// read ahead are few (four at a time, server/pullahead.go) and
		// hold one only while they are compressed.
		zw := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(zw)
		zw.Reset(out)
		if _, err := zw.Write(body); err != nil {
			return err
		}
		if err := zw.Flush(); err != nil {
			return err
		}
		head = &gzipHead{z: out.Bytes(), crc: crc32.ChecksumIEEE(body), n: len(body)}
		return nil
	})
	if err != nil {
		return nil // the request encodes the page itself
	}
	return head
}

// gzipBuf is a buffer of gzipOut.
type gzipBuf struct{ b []byte }

// gzipOut holds the buffers of the pages gzipped ahead, given back once
// the page is sent (gzipHead.recycle).
var gzipOut = sync.Pool{New: func() any { return new(gzipBuf) }}

// gzipHead is the head of a pull page gzipped ahead: a gzip member's
// header and the head's deflate blocks, ending in a sync flush (so on a
// byte boundary, with no final block), to be finished with the page's
// tail when it is sent.
type gzipHead struct {
	z   []byte
	crc uint32 // CRC-32 of the head
	n   int    // the head's length
}

// finish completes the member with tail, in stored blocks of which the
// last is final, and the gzip trailer (CRC-32 and length of head and
// tail). It appends to the head's bytes: a page read ahead is taken by one
// request.
func (h *gzipHead) finish(tail []byte) []byte {
	b, rest := h.z, tail
	for {
		n := min(len(rest), 0xffff)
		final := byte(0)
		if n == len(rest) {
			final = 1
		}
		b = append(b, final, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8)) // BFINAL, BTYPE=00; LEN, NLEN
		b = append(b, rest[:n]...)
		if rest = rest[n:]; final == 1 {
			break
		}
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Update(h.crc, crc32.IEEETable, tail))
	h.z = binary.LittleEndian.AppendUint32(b, uint32(h.n+len(tail)))
	return h.z
}

// recycle gives the member's memory back once it has been sent.
func (h *gzipHead) recycle() {
	if cap(h.z) <= maxPooled {
		gzipOut.Put(&gzipBuf{b: h.z[:0]})
	}
	h.z = nil
}

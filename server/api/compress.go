package api

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
)

// This file compresses responses. A response is gzipped only once it has
// reached minGzip bytes, and only then takes a compressor from the pool, so
// requests that wait (hundreds of sign-ins checking passwords at once,
// pushes queued at the admission gate) hold none: echo's own middleware
// took one per request at the start, about a megabyte each, and a burst of
// 500 sign-ins took the server from 70 to 330 MiB. The compressor is
// klauspost/compress at its fastest level, several times faster than
// compress/gzip for pull pages (the bulk of what phones download), which
// still shrink to about a seventh (docs/benchmarks.md).

// minGzip is the smallest body worth compressing.
const minGzip = 1024

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// gzipInUse counts the compressors requests took from the pool and have
// not given back (those encodePage takes for pages read ahead are not
// counted).
var gzipInUse atomic.Int64

// compress gzips the responses of requests that accept gzip, except those
// skip names (already compressed, or ranges of stored bytes).
func compress(skip func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			// A HEAD is compressed as its GET would be (net/http drops
			// the body), so that it answers the same Content-Encoding,
			// Vary and Content-Length.
			if skip(c) {
				return next(c)
			}
			res := c.Response()
			res.Header().Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
			if !acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
				return next(c)
			}
			w := &gzipWriter{ResponseWriter: res.Writer}
			res.Writer = w
			// Deferred, so that a handler's panic (answered by Recover,
			// further out) still finds the original writer and nothing
			// held back.
			defer func() {
				if ferr := w.finish(); err == nil {
					err = ferr
				}
				res.Writer = w.ResponseWriter
			}()
			return next(c)
		}
	}
}

// gzipWriter holds back the status and the first bytes of a response
// until it knows whether the body reaches minGzip, then sends it plain or
// through a pooled compressor.
type gzipWriter struct {
	http.ResponseWriter
	status  int
	buf     []byte
	decided bool
	zw      *gzip.Writer
}

func (w *gzipWriter) WriteHeader(code int) {
	if w.decided {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status = code
}

func (w *gzipWriter) Write(p []byte) (int, error) {
	if !w.decided {
		if len(w.buf)+len(p) < minGzip {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		if err := w.decide(true, p); err != nil {
			return 0, err
		}
	}
	if w.zw != nil {
		return w.zw.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// decide sends the header, compressed if compress and the response can
// be (not already encoded, has a body), then what was held back. next is
// the data about to be written (to sniff a missing Content-Type from).
func (w *gzipWriter) decide(compress bool, next []byte) error {
	w.decided = true
	h := w.Header()
	switch {
	case !compress, h.Get(echo.HeaderContentEncoding) != "", w.status == http.StatusNoContent,
		w.status == http.StatusNotModified, w.status == http.StatusPartialContent:
	default:
		if h.Get(echo.HeaderContentType) == "" {
			h.Set(echo.HeaderContentType, http.DetectContentType(append(w.buf, next...)))
		}
		h.Set(echo.HeaderContentEncoding, "gzip")
		h.Del(echo.HeaderContentLength)
		w.zw = gzipWriters.Get().(*gzip.Writer)
		gzipInUse.Add(1)
		w.zw.Reset(w.ResponseWriter)
	}
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	if len(w.buf) == 0 {
		return nil
	}
	var err error
	if w.zw != nil {
		_, err = w.zw.Write(w.buf)
	} else {
		_, err = w.ResponseWriter.Write(w.buf)
	}
	w.buf = nil
	return err
}

// finish sends what is held back (a short body, plain) or ends the
// compressed stream, and returns the compressor to the pool.
func (w *gzipWriter) finish() error {
	if !w.decided {
		return w.decide(false, nil)
	}
	if w.zw == nil {
		return nil
	}
	err := w.zw.Close()
	gzipWriters.Put(w.zw)
	gzipInUse.Add(-1)
	w.zw = nil
	return err
}

// Flush sends what is written so far (compressed, if the body is).
func (w *gzipWriter) Flush() {
	if !w.decided {
		if err := w.decide(len(w.buf) > 0, nil); err != nil {
			return
		}
	}
	if w.zw != nil {
		w.zw.Flush()
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands over the connection (nothing may have been written).
func (w *gzipWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// acceptsGzip reports whether an Accept-Encoding header allows gzip (not
// refused with q=0).
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if name = strings.TrimSpace(name); !strings.EqualFold(name, "gzip") && name != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

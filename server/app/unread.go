package app

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// unreadBodyCloses answers a request whose body the handler did not read
// to its end — one refused before its body (no token, the wrong type, a
// device's third push at once) — with Connection: close. net/http reads
// what is left of a small body before it replies, so as to keep the
// connection, and with no deadline: a client that declared a body and
// never sent it got no answer and held the connection (and a file of the
// server's) for as long as it liked. Closed, the answer goes at once, and
// the connection ends with it.
func unreadBodyCloses(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		b := &watchedBody{ReadCloser: r.Body, declared: r.ContentLength}
		r.Body = b
		h.ServeHTTP(&closeIfUnread{ResponseWriter: w, body: b}, r)
		if !b.whole() {
			// After the answer net/http still reads the rest, to close
			// the body: at once, not whenever the client sends it.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now())
		}
	})
}

// watchedBody is a request body that knows whether it was read whole.
type watchedBody struct {
	io.ReadCloser
	declared int64 // Content-Length, or -1
	read     atomic.Int64
	ended    atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.read.Add(int64(n)) == b.declared || err == io.EOF {
		b.ended.Store(true)
	}
	return n, err
}

func (b *watchedBody) whole() bool { return b.ended.Load() || b.declared == 0 }

// closeIfUnread is the response of a request with a body: its header says
// Connection: close when the reply begins before the body was read whole.
type closeIfUnread struct {
	http.ResponseWriter
	body  *watchedBody
	begun bool
}

func (w *closeIfUnread) begin() {
	if !w.begun {
		w.begun = true
		if !w.body.whole() {
			w.Header().Set("Connection", "close")
		}
	}
}

func (w *closeIfUnread) WriteHeader(status int) {
	if status >= 200 {
		w.begin()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *closeIfUnread) Write(p []byte) (int, error) {
	w.begin()
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines, flushing).
func (w *closeIfUnread) Unwrap() http.ResponseWriter { return w.ResponseWriter }

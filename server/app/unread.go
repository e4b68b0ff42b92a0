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
// the connection ends soon after.
func unreadBodyCloses(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		b := &watchedBody{ReadCloser: r.Body, declared: r.ContentLength}
		r.Body = b
		cw := &closeIfUnread{ResponseWriter: w, body: b}
		h.ServeHTTP(cw, r)
		if !b.whole() && b.small() {
			// The rest of a small body (or one of unknown length) is read
			// after the answer, for a little while, not whenever the
			// client sends it. (A larger one is not waited for: net/http
			// closes the connection gently, so that a client still
			// sending reads the answer.) It is read here, the answer sent
			// first, because net/http does not read it when the client
			// asked to close (Connection: close, as Python's urllib
			// sends): closed with those bytes unread, the socket is reset
			// and the client may lose the end of the answer.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(unreadGrace))
			if cw.begun {
				_ = rc.Flush()
			}
			_, _ = io.CopyN(io.Discard, b, maxDiscard)
		}
	})
}

const (
	// maxDiscard is the most net/http reads of an unread body after the
	// answer (its maxPostHandlerReadBytes).
	maxDiscard = 256 << 10
	// unreadGrace is how long the rest of such a body may take to come.
	unreadGrace = 5 * time.Second
)

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

// small says whether what is left of the body is what net/http would read
// before answering (at most maxDiscard, or of unknown length). A larger
// rest it does not wait for: it closes the connection itself, gently, so
// that a client still sending (a push over the size limit) reads the
// answer; that is left as it is.
func (b *watchedBody) small() bool {
	return b.declared < 0 || b.declared-b.read.Load() <= maxDiscard
}

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
		if !w.body.whole() && w.body.small() {
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

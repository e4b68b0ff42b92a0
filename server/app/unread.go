package app

import (
	"io"
	"net/http"
	"strconv"
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
		// The handler reads the body through b, in a copy of the request:
		// net/http decides by the type of the request's own Body what to
		// do with a body left unread — a large rest is left and the
		// connection closed, a small one read before the answer. Given b
		// there, it read up to 256 KiB of any body before answering, with
		// no deadline: a client that declared a body over the limit and
		// sent none of it had no answer, and held the connection.
		in := r.WithContext(r.Context())
		in.Body = b
		cw := &closeIfUnread{ResponseWriter: w, body: b, head: r.Method == http.MethodHead}
		h.ServeHTTP(cw, in)
		cw.finish()
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
	// maxHeld is the most of such an answer held back to be sent whole,
	// with its length (closeIfUnread): more is sent as it comes.
	maxHeld = 64 << 10
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
// Such an answer (a refusal, a 408 after the body stalled: short) is held
// until the handler is done and sent whole with its Content-Length, so
// that the client has all of it at once: sent as it came, chunked, its
// end would wait for the rest of the body to be read (unreadGrace) after
// the handler. One longer than maxHeld is sent as it comes.
type closeIfUnread struct {
	http.ResponseWriter
	body   *watchedBody
	begun  bool
	head   bool // a HEAD request: its length is not that of what it holds
	hold   bool // the answer is being held (held, status)
	held   []byte
	status int
}

func (w *closeIfUnread) begin() {
	if !w.begun {
		w.begun = true
		if !w.body.whole() && w.body.small() {
			w.Header().Set("Connection", "close")
			w.hold, w.status = true, http.StatusOK
		}
	}
}

func (w *closeIfUnread) WriteHeader(status int) {
	if status < 200 {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	if w.begun {
		return // superfluous, as net/http takes it
	}
	w.begin()
	if w.hold {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *closeIfUnread) Write(p []byte) (int, error) {
	w.begin()
	if !w.hold {
		return w.ResponseWriter.Write(p)
	}
	if len(w.held)+len(p) <= maxHeld {
		w.held = append(w.held, p...)
		return len(p), nil
	}
	w.release(false)
	return w.ResponseWriter.Write(p)
}

// release sends the held answer: its status, and what it holds — with
// its length if whole (the handler is done).
func (w *closeIfUnread) release(whole bool) {
	if !w.hold {
		return
	}
	w.hold = false
	if whole && !w.head && bodyAllowed(w.status) && w.Header().Get("Transfer-Encoding") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(w.held)))
	}
	w.ResponseWriter.WriteHeader(w.status)
	if len(w.held) > 0 {
		_, _ = w.ResponseWriter.Write(w.held)
	}
	w.held = nil
}

// bodyAllowed reports whether an answer of this status has a body (and
// so a length).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// finish sends a held answer whole, once the handler is done.
func (w *closeIfUnread) finish() { w.release(true) }

// FlushError sends what was written, unless the answer is held (it is
// sent whole at the end).
func (w *closeIfUnread) FlushError() error {
	if w.hold {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines, flushing).
func (w *closeIfUnread) Unwrap() http.ResponseWriter { return w.ResponseWriter }

package app_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestRefusedBeforeBodyAnswered: a request refused before its body is
// read — no token, the wrong content type, a route that reads none — is
// answered at once though the client never sends the body it declared,
// and the connection is closed. net/http waited for that body before
// replying, with no deadline: no answer, and the connection (a file of
// the server's) held for as long as the client liked.
func TestRefusedBeforeBodyAnswered(t *testing.T) {
	srv := apptest.Start(t)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, head string
		length     string // the Content-Length declared ("" 100), of which only "{" is sent
		status     int
	}{
		{"push without a token", "POST /api/v1/sync/push HTTP/1.1\r\nContent-Type: application/json\r\n", "", http.StatusUnauthorized},
		{"sign-in as text", "POST /api/v1/auth/login HTTP/1.1\r\nContent-Type: text/plain\r\n", "", http.StatusUnsupportedMediaType},
		{"health with a body", "GET /healthz HTTP/1.1\r\n", "", http.StatusOK},
		// Declared over the limit, then stalled (security probe: no
		// answer, no 408, the connection held as long as the client
		// liked — by anyone, the sign-in needing no token).
		{"sign-in over the limit", "POST /api/v1/auth/login HTTP/1.1\r\nContent-Type: application/json\r\n", "99999999", http.StatusRequestEntityTooLarge},
		{"sign-in far over the limit", "POST /api/v1/auth/login HTTP/1.1\r\nContent-Type: application/json\r\n", "99999999999", http.StatusRequestEntityTooLarge},
		{"push over the limit without a token", "POST /api/v1/sync/push HTTP/1.1\r\nContent-Type: application/json\r\n", "20971520", http.StatusUnauthorized},
		{"console sign-in over the limit", "POST /console/login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n", "99999999", http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A guard against the hang, far above any answer's time.
			if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
				t.Fatal(err)
			}
			length := tc.length
			if length == "" {
				length = "100"
			}
			if _, err := io.WriteString(c, tc.head+"Host: "+u.Host+"\r\nContent-Length: "+length+"\r\n\r\n{"); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("no answer without the body: %v", err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !resp.Close {
				t.Errorf("answered %d (close %v), want %d and the connection closed", resp.StatusCode, resp.Close, tc.status)
			}
			// Whole, with its length: the answer's end does not wait for
			// the body the server reads for a while after answering.
			if resp.ContentLength != n || n == 0 {
				t.Errorf("answered %d bytes with Content-Length %d: the answer's end waits for the unread body", n, resp.ContentLength)
			}
			if _, err := r.ReadByte(); err != io.EOF {
				t.Errorf("the connection stays open after the answer: %v", err)
			}
		})
	}
	// A request whose body is read whole keeps its connection.
	resp, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"x","password":"y","device_id":"0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Close {
		t.Errorf("a request read whole closes its connection (%d)", resp.StatusCode)
	}
}

// TestUnreadBodyOfCloseRequest: a GET that carries a small body the
// handler never reads (Python's urllib sends one with Connection: close)
// gets its whole answer and a closed connection, never a reset: net/http
// does not read such a body when the client asked to close, and a socket
// closed with bytes unread is reset, losing the answer's end.
func TestUnreadBodyOfCloseRequest(t *testing.T) {
	srv := apptest.Start(t)
	access, _ := srv.Login(apptest.Inspector).Tokens()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		// The body after the head, in a write of its own, once the answer
		// has begun: it arrives after the handler is done with the request.
		body := `{"x":1}`
		if _, err := io.WriteString(c, "GET /api/v1/sync/pull?limit=1000 HTTP/1.1\r\nHost: "+u.Host+"\r\nAuthorization: Bearer "+access+
			"\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if _, err := io.WriteString(c, body); err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || (resp.ContentLength >= 0 && n != resp.ContentLength) {
			t.Fatalf("request %d: %d, %d bytes of %d: %v", i, resp.StatusCode, n, resp.ContentLength, err)
		}
		if _, err := r.ReadByte(); err != io.EOF {
			t.Fatalf("request %d: after the answer %v, want the connection closed", i, err)
		}
		c.Close()
	}
}

// TestConsoleFormStalled: a console form whose body stops coming is
// answered 408 once the body has been idle for the server's limit, as a
// JSON body is, and the connection closed — the form's parser read it
// with no deadline, and the error page read it again (security probe).
func TestConsoleFormStalled(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.BodyIdle = 300 * time.Millisecond })
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil { // a guard against the hang
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "POST /console/login HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Type: "+ct+"\r\nContent-Length: 100\r\n\r\nusername="); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: no answer to a stalled form: %v", ct, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
			t.Errorf("%s: a stalled form answered %d (close %v), want 408 and the connection closed", ct, resp.StatusCode, resp.Close)
		}
	}
}

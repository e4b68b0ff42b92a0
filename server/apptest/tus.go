package apptest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Tus is a minimal tus 1.0 client for tests: each call is one protocol
// request, so a test can stop half-way, resume, or send something wrong.
type Tus struct {
	t      testing.TB
	srv    *Server
	Client *syncproto.Client
	// Header is sent with every request (before each call's own headers).
	Header map[string]string
}

// Tus returns a tus client authenticated as c.
func (s *Server) Tus(c *syncproto.Client) *Tus { return &Tus{t: s.t, srv: s, Client: c} }

// Response is a tus answer: status, headers, and the JSON error if any.
type Response struct {
	Status int
	Header http.Header
	Err    syncproto.ErrorBody
}

// SHA256 returns the hex SHA-256 of data.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Metadata encodes an Upload-Metadata header.
func Metadata(kv map[string]string) string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(kv))
	for _, k := range keys {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(kv[k])))
	}
	return strings.Join(parts, ",")
}

// Do sends one request with the tus and auth headers (header values given
// override them; an empty value removes one).
func (u *Tus) Do(method, path string, body []byte, header map[string]string) Response {
	u.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	if !strings.HasPrefix(path, "http") {
		path = u.srv.URL + path
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if u.Client != nil {
		access, _ := u.Client.Tokens()
		req.Header.Set("Authorization", "Bearer "+access)
	}
	for k, v := range u.Header {
		req.Header.Set(k, v)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := u.srv.HTTPClient().Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode, Header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && len(b) > 0 {
		if err := json.Unmarshal(b, &out.Err); err != nil {
			u.t.Errorf("%s %s: error body is not JSON: %q", method, path, b)
		}
	}
	return out
}

// Create starts an upload of size bytes for a photo and returns the
// response (Location on success).
func (u *Tus) Create(photoID, sum, contentType string, size int) Response {
	return u.Do(http.MethodPost, "/api/v1/uploads/", nil, map[string]string{
		"Upload-Length":   strconv.Itoa(size),
		"Upload-Metadata": Metadata(map[string]string{"photo_id": photoID, "sha256": sum, "content_type": contentType}),
	})
}

// Patch sends bytes at offset.
func (u *Tus) Patch(location string, offset int, data []byte) Response {
	return u.Do(http.MethodPatch, location, data, map[string]string{
		"Upload-Offset": strconv.Itoa(offset),
		"Content-Type":  "application/offset+octet-stream",
	})
}

// Head asks for an upload's offset.
func (u *Tus) Head(location string) Response { return u.Do(http.MethodHead, location, nil, nil) }

// Upload sends data whole (create, then one PATCH) and fails the test
// unless the final PATCH answers wantStatus.
func (u *Tus) Upload(photoID, contentType string, data []byte, wantStatus int) Response {
	u.t.Helper()
	c := u.Create(photoID, SHA256(data), contentType, len(data))
	if c.Status != http.StatusCreated {
		u.t.Fatalf("create upload: %d %+v", c.Status, c.Err)
	}
	p := u.Patch(c.Header.Get("Location"), 0, data)
	if p.Status != wantStatus {
		u.t.Fatalf("upload: %d %+v, want %d", p.Status, p.Err, wantStatus)
	}
	return p
}

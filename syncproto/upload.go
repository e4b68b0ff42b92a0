package syncproto

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// PathUploads is where tus uploads are created.
const PathUploads = "/api/v1/uploads/"

// SHA256Hex returns the lower-case hex SHA-256 a photo record declares.
func SHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Upload is a resumable photo upload: its tus URL (empty until created)
// and what is known of its offset. A device stores it with its outbox so
// that an upload interrupted by lost signal or a killed app continues
// where it stopped.
type Upload struct {
	URL         string `json:"url"`
	PhotoID     string `json:"photo_id"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Offset      int64  `json:"offset"`
}

// UploadPhoto sends data as the bytes of photo photoID over tus 1.0,
// resuming u if it has a URL (asking the server for the offset first) and
// sending chunks of chunkSize bytes (0: all at once). progress, if set, is
// called after each chunk with the new offset, so a caller can persist it.
// An upload the server no longer knows (404) is started again. Errors are
// *APIError for server refusals (hash_mismatch, bad_image, …) or transport
// errors (retry later with the same Upload).
func (c *Client) UploadPhoto(ctx context.Context, u *Upload, data []byte, chunkSize int, progress func(*Upload)) error {
	if u.SHA256 == "" {
		u.SHA256 = SHA256Hex(data)
	}
	u.Size = int64(len(data))
	if u.URL != "" {
		// An upload begun at another address of the server (the phone
		// signed in at a new one: a city moved to several servers) is
		// asked for at this one, which shares the uploads or answers 404
		// (started again): the old address may never answer again.
		u.URL = sameOrigin(u.URL, c.BaseURL)
		resp, err := c.tus(ctx, http.MethodHead, u.URL, nil, nil)
		switch {
		case ErrorCodeOf(err) == CodeNotFound:
			u.URL, u.Offset = "", 0
		case err != nil:
			return err
		default:
			if u.Offset, err = strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64); err != nil {
				return fmt.Errorf("tus HEAD: bad Upload-Offset: %w", err)
			}
		}
	}
	if u.URL == "" {
		meta := fmt.Sprintf("photo_id %s,sha256 %s,content_type %s", b64(u.PhotoID), b64(u.SHA256), b64(u.ContentType))
		resp, err := c.tus(ctx, http.MethodPost, c.BaseURL+PathUploads, nil, map[string]string{
			"Upload-Length": strconv.FormatInt(u.Size, 10), "Upload-Metadata": meta})
		if err != nil {
			return err
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			return fmt.Errorf("tus POST: no Location")
		}
		if !strings.HasPrefix(loc, "http") {
			loc = c.BaseURL + loc
		}
		u.URL, u.Offset = loc, 0
		if progress != nil {
			progress(u)
		}
	}
	for u.Offset < u.Size {
		end := u.Size
		if chunkSize > 0 && u.Offset+int64(chunkSize) < end {
			end = u.Offset + int64(chunkSize)
		}
		resp, err := c.tus(ctx, http.MethodPatch, u.URL, data[u.Offset:end], map[string]string{
			"Upload-Offset": strconv.FormatInt(u.Offset, 10), "Content-Type": "application/offset+octet-stream"})
		if err != nil {
			return err
		}
		if u.Offset, err = strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64); err != nil {
			return fmt.Errorf("tus PATCH: bad Upload-Offset: %w", err)
		}
		if progress != nil {
			progress(u)
		}
	}
	return nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// sameOrigin returns upload URL u at base's scheme and host (its path
// kept), or u itself if either does not parse.
func sameOrigin(u, base string) string {
	pu, err1 := url.Parse(u)
	pb, err2 := url.Parse(base)
	if err1 != nil || err2 != nil || pb.Host == "" || pu.Scheme == pb.Scheme && pu.Host == pb.Host {
		return u
	}
	pu.Scheme, pu.Host = pb.Scheme, pb.Host
	return pu.String()
}

// tus sends one tus request, refreshing the access token once if needed.
func (c *Client) tus(ctx context.Context, method, url string, body []byte, header map[string]string) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, r)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Tus-Resumable", "1.0.0")
		access, _ := c.Tokens()
		req.Header.Set("Authorization", "Bearer "+access)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return nil, err
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if h, err := ParseHLC(resp.Header.Get(HeaderServerHLC)); err == nil && !h.IsZero() {
			c.Clock.Observe(h)
		}
		if resp.StatusCode < 300 {
			return resp, nil
		}
		ae := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(raw, &ae.Body) != nil || ae.Body.Code == "" {
			// HEAD answers carry no body: the status says what happened.
			ae.Body = ErrorBody{Code: headCodes[resp.StatusCode], Message: resp.Status}
		}
		if ae.Body.Code == CodeTokenExpired && attempt == 0 {
			if err := c.refreshAfter(ctx, access); err != nil {
				return nil, err
			}
			continue
		}
		return nil, ae
	}
}

var headCodes = map[int]string{
	http.StatusNotFound:     CodeNotFound,
	http.StatusUnauthorized: CodeTokenExpired, // refreshed once; a second 401 is returned
	http.StatusForbidden:    CodeForbidden,
	http.StatusConflict:     CodeConflict,
}

package apptest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// SpecFile is the OpenAPI document's path relative to the module root.
const SpecFile = "mobile-api-docs/openapi.yaml"

var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// Spec returns the OpenAPI document, loaded and validated once, and a router
// over its operations.
func Spec() (*openapi3.T, routers.Router, error) {
	spec.once.Do(func() {
		spec.doc, spec.router, spec.err = loadSpec()
	})
	return spec.doc, spec.router, spec.err
}

func loadSpec() (*openapi3.T, routers.Router, error) {
	path, err := SpecPath()
	if err != nil {
		return nil, nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, nil, fmt.Errorf("validate %s: %w", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("route %s: %w", path, err)
	}
	return doc, router, nil
}

// SpecPath finds the OpenAPI document by walking up from the working
// directory to the module root (the directory holding go.mod).
func SpecPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(SpecFile)), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SpecTransport wraps rt so that every request and response is validated
// against mobile-api-docs/openapi.yaml; a mismatch fails the test with
// t.Errorf naming the method, path, status and the validation error.
//
// The check is that the spec and the server agree:
//   - every response must be one the spec documents for the operation
//     (status, headers, content type and body schema); a request to a path
//     or method the spec does not have must be answered 404 or 405 with an
//     ErrorBody;
//   - a request the spec rejects must be rejected by the server too (any
//     4xx). Tests may send bad requests on purpose; what they must never
//     see is the server accepting a request the spec calls invalid.
//
// Answers kin-openapi leaves alone are checked here: an answer to HEAD and
// a 304 must have a documented status and headers and no body. Binary
// bodies (tus PATCH requests, images) are validated as binary strings; an
// image answered 200 must start with its Content-Type's signature. The
// fields of every photo in a pull page must match the Photo schema (flags,
// EXIF).
//
// Authentication is not validated (the server's own tests cover it).
func SpecTransport(t testing.TB, rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &specTransport{t: t, rt: rt}
}

type specTransport struct {
	t  testing.TB
	rt http.RoundTripper
}

var validationOptions = &openapi3filter.Options{
	AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
	IncludeResponseStatus:             true,
	RejectWhenRequestBodyNotSpecified: true,
	SkipSettingDefaults:               true,
}

// bodilessOptions validate the status and headers only.
var bodilessOptions = func() *openapi3filter.Options {
	o := *validationOptions
	o.ExcludeResponseBody = true
	return &o
}()

// binaryTypes are the media types of raw bytes in the spec: tus PATCH
// bodies, images, several ranges of an image.
var binaryTypes = []string{"application/offset+octet-stream", "image/jpeg", "image/png", "image/heic", "multipart/byteranges"}

func init() {
	// kin-openapi reads a `format: binary` body as bytes already; the
	// decoders make that hold whatever the schema says.
	for _, ct := range binaryTypes {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	// The start page and the field app's files are text.
	for _, ct := range []string{"text/html", "text/javascript"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

func (s *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	doc, router, err := Spec()
	if err != nil {
		s.t.Errorf("openapi spec: %v", err)
		return s.rt.RoundTrip(req)
	}
	ctx := req.Context()

	// Read the body once; the request sent and the one validated each get
	// their own reader over it.
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	out := withBody(req, body)
	check := withBody(req, body)

	route, params, routeErr := router.FindRoute(check)
	if req.Method == http.MethodHead && errors.Is(routeErr, routers.ErrMethodNotAllowed) {
		// Every GET answers HEAD too (openapi.yaml's start page says so):
		// its status and headers, with no body.
		get := check.Clone(ctx)
		get.Method = http.MethodGet
		if r, p, err := router.FindRoute(get); err == nil {
			route, params, routeErr = r, p, nil
			check.Method = http.MethodGet
		}
	}
	var input *openapi3filter.RequestValidationInput
	var reqErr error
	if routeErr == nil {
		input = &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: validationOptions}
		reqErr = openapi3filter.ValidateRequest(ctx, input)
	}

	resp, err := s.rt.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // the caller will see the short body; not a spec matter
	}

	// Asked for explicitly, so not undone by net/http; a HEAD's answer
	// names the GET's encoding and has no body.
	if resp.Header.Get("Content-Encoding") == "gzip" && req.Method != http.MethodHead {
		if respBody, err = gunzip(respBody); err != nil {
			s.t.Errorf("openapi: %s %s: bad gzip body: %v", req.Method, req.URL.Path, err)
			return resp, nil
		}
	}
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode)
	if routeErr != nil {
		s.checkUnrouted(doc, req.Method, where, resp, respBody, routeErr)
		return resp, nil
	}
	if reqErr != nil && resp.StatusCode < 400 {
		s.t.Errorf("openapi: %s: the spec rejects the request but the server accepted it: %v", where, reqErr)
	}
	if req.Method == http.MethodHead || resp.StatusCode == http.StatusNotModified {
		// kin-openapi does not validate these at all.
		if err := validateBodiless(ctx, input, resp.StatusCode, resp.Header, respBody); err != nil {
			s.t.Errorf("openapi: %s: response does not match the spec: %v", where, err)
		}
		return resp, nil
	}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: resp.StatusCode,
		Header: resp.Header, Options: validationOptions}
	rin.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		s.t.Errorf("openapi: %s: response does not match the spec: %v\nbody: %s", where, err, clip(respBody))
		return resp, nil
	}
	if resp.StatusCode == http.StatusOK {
		if err := checkImage(resp.Header.Get("Content-Type"), respBody); err != nil {
			s.t.Errorf("openapi: %s: %v", where, err)
		}
		if route.Operation.OperationID == "pull" {
			if err := checkPhotos(doc, respBody); err != nil {
				s.t.Errorf("openapi: %s: %v", where, err)
			}
		}
	}
	return resp, nil
}

// validateBodiless validates an answer kin-openapi skips (any answer to
// HEAD, and 304): its status must be documented, its headers must match,
// and it must have no body.
func validateBodiless(ctx context.Context, input *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	doc := input.Route.Operation.Responses.Status(status)
	if doc == nil {
		return fmt.Errorf("status %d is not documented", status)
	}
	if len(body) > 0 {
		return fmt.Errorf("a %d-byte body where none is allowed", len(body))
	}
	// Validate as if a GET had answered 200 with this response's headers.
	op := *input.Route.Operation
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(http.StatusOK, doc))
	route := *input.Route
	route.Operation = &op
	req := input.Request.Clone(ctx)
	req.Method = http.MethodGet
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: input.PathParams, Route: &route, Options: bodilessOptions},
		Status:                 http.StatusOK, Header: header, Options: bodilessOptions}
	rin.SetBodyBytes(nil)
	return openapi3filter.ValidateResponse(ctx, rin)
}

// checkImage checks that an image body starts with its type's signature.
func checkImage(contentType string, body []byte) error {
	mt, _, _ := mime.ParseMediaType(contentType)
	var ok bool
	switch mt {
	case "image/jpeg":
		ok = bytes.HasPrefix(body, []byte{0xff, 0xd8, 0xff})
	case "image/png":
		ok = bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n"))
	case "image/heic":
		ok = len(body) >= 12 && string(body[4:8]) == "ftyp"
	default:
		return nil
	}
	if !ok {
		return fmt.Errorf("the body is not %s: it starts % x", mt, body[:min(len(body), 12)])
	}
	return nil
}

// checkPhotos validates the fields of every live photo of a pull page
// against the Photo schema (the server-owned flags and EXIF included).
func checkPhotos(doc *openapi3.T, body []byte) error {
	var page struct {
		Changes []struct {
			Entity  string         `json:"entity"`
			ID      string         `json:"id"`
			Deleted bool           `json:"deleted"`
			Fields  map[string]any `json:"fields"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return err
	}
	schema := doc.Components.Schemas["Photo"]
	if schema == nil {
		return errors.New("no Photo schema")
	}
	for _, ch := range page.Changes {
		if ch.Entity != syncproto.EntityPhoto || ch.Deleted {
			continue
		}
		if err := schema.Value.VisitJSON(map[string]any(ch.Fields)); err != nil {
			return fmt.Errorf("photo %s does not match the Photo schema: %v", ch.ID, err)
		}
	}
	return nil
}

// checkUnrouted validates the answer to a request for a path or method the
// spec does not have: it must be 404 or 405 with an ErrorBody.
func (s *specTransport) checkUnrouted(doc *openapi3.T, method, where string, resp *http.Response, body []byte, routeErr error) {
	want := http.StatusNotFound
	if errors.Is(routeErr, routers.ErrMethodNotAllowed) {
		want = http.StatusMethodNotAllowed
		if method == http.MethodOptions && resp.StatusCode == http.StatusNoContent {
			return // echo answers OPTIONS on every route with its Allow header
		}
	}
	if resp.StatusCode != want {
		s.t.Errorf("openapi: %s: the spec has no such operation (%v) but the server answered %d, want %d", where, routeErr, resp.StatusCode, want)
		return
	}
	if resp.Header.Get(syncproto.HeaderServerHLC) == "" {
		s.t.Errorf("openapi: %s: no %s header", where, syncproto.HeaderServerHLC)
	}
	if method == http.MethodHead {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		s.t.Errorf("openapi: %s: error body is not JSON: %v\nbody: %s", where, err, clip(body))
		return
	}
	if err := doc.Components.Schemas["ErrorBody"].Value.VisitJSON(v); err != nil {
		s.t.Errorf("openapi: %s: error body does not match ErrorBody: %v\nbody: %s", where, err, clip(body))
	}
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// withBody returns a shallow clone of req reading body from the start.
func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	if body == nil {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return r
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return r
}

func clip(b []byte) string {
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

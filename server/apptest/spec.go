package apptest

import (
	"net/http"
	"testing"
)

// SpecTransport wraps rt so that every request and response is validated
// against mobile-api-docs/openapi.yaml; a mismatch fails the test.
// TODO(spec): implemented with kin-openapi once the spec exists.
func SpecTransport(t testing.TB, rt http.RoundTripper) http.RoundTripper {
	return rt
}

// Package apidocs holds fieldsync's contract for mobile developers: the
// OpenAPI 3 document (openapi.yaml), the sync guide (sync.md), and the tests
// that keep both true to the server — every route documented, the document
// valid, the generated entity tables current, and real exchanges with a
// running server validated against the document.
package apidocs

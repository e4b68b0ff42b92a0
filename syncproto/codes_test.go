package syncproto

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// codeConstants reads codes.go and returns every Code* constant's value, so
// that a code added without a status fails TestEveryCodeHasAStatus.
func codeConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name.Name] = v
			}
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d codes in codes.go", len(out))
	}
	return out
}

func TestEveryCodeHasAStatus(t *testing.T) {
	codes := codeConstants(t)
	seen := map[string]bool{}
	for name, code := range codes {
		if seen[code] {
			t.Errorf("%s: code %q defined twice", name, code)
		}
		seen[code] = true
		if _, ok := httpStatus[code]; !ok {
			t.Errorf("%s (%q) has no HTTP status", name, code)
		}
	}
	for code := range httpStatus {
		if !seen[code] {
			t.Errorf("status table lists %q, which is no Code* constant", code)
		}
	}
}

func TestHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		code string
		want int
	}{
		{CodeBadRequest, http.StatusBadRequest},
		{CodeDeviceRevoked, http.StatusForbidden},
		{CodeTokenExpired, http.StatusUnauthorized},
		{CodeNotReady, http.StatusNotFound},
		{CodeResyncRequired, http.StatusGone},
		{CodeRecordLocked, http.StatusConflict},
		{CodeInternal, http.StatusInternalServerError},
		{"no_such_code", http.StatusInternalServerError},
		{"", http.StatusInternalServerError},
	} {
		if got := HTTPStatus(tc.code); got != tc.want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", tc.code, got, tc.want)
		}
	}
}

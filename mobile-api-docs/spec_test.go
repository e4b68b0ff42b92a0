package apidocs_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, _, err := apptest.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSpecValid checks that openapi.yaml is a valid OpenAPI 3.0 document
// (examples included) and that every operation documents the headers the
// server sends on every response.
func TestSpecValid(t *testing.T) {
	path, err := apptest.SpecPath()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi version %q, want 3.0.3", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("spec does not validate: %v", err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s: no operationId or summary", method, path)
			}
			if op.Responses.Status(http.StatusInternalServerError) == nil {
				t.Errorf("%s %s: no 500 response", method, path)
			}
			// Every route checks the query string (api.strictQuery), and
			// every JSON body arrives at a pace (request_timeout).
			if op.Responses.Status(http.StatusBadRequest) == nil {
				t.Errorf("%s %s: no 400 response (a query string that repeats a parameter or does not parse)", method, path)
			}
			if op.RequestBody != nil && op.RequestBody.Value.Content.Get("application/json") != nil &&
				op.Responses.Status(http.StatusRequestTimeout) == nil {
				t.Errorf("%s %s: a JSON body and no 408 response", method, path)
			}
			for code, resp := range op.Responses.Map() {
				h := resp.Value.Headers
				if h[syncproto.HeaderServerHLC] == nil || h["X-Request-Id"] == nil {
					t.Errorf("%s %s → %s: response does not document X-Server-HLC and X-Request-Id", method, path, code)
				}
				if code == "429" && h["Retry-After"] == nil {
					t.Errorf("%s %s → 429: no Retry-After header", method, path)
				}
				if method == http.MethodHead {
					// No answer to HEAD has a body, errors included.
					if len(resp.Value.Content) > 0 {
						t.Errorf("%s %s → %s: a HEAD response documents a body", method, path, code)
					}
					continue
				}
				if n, _ := strconv.Atoi(code); n >= 400 {
					mt := resp.Value.Content.Get("application/json")
					if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/ErrorBody" {
						t.Errorf("%s %s → %s: error response without an application/json ErrorBody", method, path, code)
					}
				}
			}
		}
	}
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestRoutesMatchSpec compares the routes of the real echo server with the
// operations of the spec, in both directions.
func TestRoutesMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	srv := apptest.Start(t)
	standard := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

	routes := map[string]bool{}
	for _, r := range srv.App.Echo.Routes() {
		// echo's own entries (route-not-found handlers, wildcards) are not API.
		if !slices.Contains(standard, r.Method) || strings.Contains(r.Path, "*") {
			continue
		}
		// The office console (/console/...) serves HTML pages to browsers,
		// not the mobile API that openapi.yaml documents.
		if r.Path == "/console" || strings.HasPrefix(r.Path, "/console/") {
			continue
		}
		routes[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	ops := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops[method+" "+path] = true
		}
	}
	if len(routes) == 0 {
		t.Fatal("the server has no routes")
	}
	var missing, extra []string
	for r := range routes {
		if !ops[r] {
			missing = append(missing, r)
		}
	}
	for o := range ops {
		if !routes[o] {
			extra = append(extra, o)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("operations in openapi.yaml that the server does not route:\n  %s", strings.Join(extra, "\n  "))
	}
}

// TestQueryParamsMatchSpec: the query parameters each API operation
// documents are those the server takes (api.QueryParams); it refuses any
// other.
func TestQueryParamsMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	taken := map[string][]string{}
	for path, names := range api.QueryParams {
		taken[echoParam.ReplaceAllString(path, "{$1}")] = slices.Sorted(slices.Values(names))
	}
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		for method, op := range item.Operations() {
			var documented []string
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
					documented = append(documented, p.Value.Name)
				}
			}
			slices.Sort(documented)
			if want := taken[path]; !slices.Equal(documented, want) {
				t.Errorf("%s %s: openapi.yaml documents query parameters %v, the server takes %v", method, path, documented, want)
			}
			seen[path] = true
		}
	}
	for path := range taken {
		if !seen[path] {
			t.Errorf("api.QueryParams names %s, which openapi.yaml does not document", path)
		}
	}
}

// TestEnumsMatchCode checks the spec's enums against the Go sources: every
// error code of syncproto/codes.go, every push status, every entity, every
// role.
func TestEnumsMatchCode(t *testing.T) {
	doc := loadSpec(t)
	schemas := doc.Components.Schemas
	enum := func(schema *openapi3.Schema) []string {
		var out []string
		for _, v := range schema.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	same := func(what string, got, want []string) {
		t.Helper()
		g, w := slices.Clone(got), slices.Clone(want)
		sort.Strings(g)
		sort.Strings(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s enum:\n got %v\nwant %v", what, g, w)
		}
	}

	same("ErrorCode", enum(schemas["ErrorCode"].Value), codesInSource(t, "../syncproto/codes.go"))
	for _, code := range enum(schemas["ErrorCode"].Value) {
		if !strings.Contains(schemas["ErrorCode"].Value.Description, "| `"+code+"` |") {
			t.Errorf("ErrorCode description has no table row for %s", code)
		}
	}
	same("PushResult.status", enum(schemas["PushResult"].Value.Properties["status"].Value),
		[]string{syncproto.StatusApplied, syncproto.StatusDuplicate, syncproto.StatusStale, syncproto.StatusRejected})

	var entities []string
	for _, e := range server.Entities {
		entities = append(entities, e.Name)
	}
	if got := enum(schemas["EntityName"].Value); !slices.Equal(got, entities) {
		t.Errorf("EntityName enum %v, want server.Entities in order %v", got, entities)
	}
	same("User.role", enum(schemas["User"].Value.Properties["role"].Value), []string{string(server.RoleInspector),
		string(server.RoleCountyOffice), string(server.RoleCityOffice), string(server.RoleAdmin)})
}

// TestPhotoSchemas checks the Photo schema against the photo entity's
// fields, and the PhotoFlags schema against the flags of
// server/photos/flags.go and server.FlagRefused.
func TestPhotoSchemas(t *testing.T) {
	schemas := loadSpec(t).Components.Schemas
	var props []string
	for name := range schemas["Photo"].Value.Properties {
		props = append(props, name)
	}
	var fields []string
	for _, f := range append(append([]server.Field(nil), server.EntityByName(syncproto.EntityPhoto).Fields...), server.MetaFields...) {
		fields = append(fields, f.Name)
	}
	sort.Strings(props)
	sort.Strings(fields)
	if !slices.Equal(props, fields) {
		t.Errorf("Photo schema properties:\n got %v\nwant the photo entity's fields %v", props, fields)
	}
	var flags []string
	for name := range schemas["PhotoFlags"].Value.Properties {
		flags = append(flags, name)
	}
	// Processing raises those of server/photos; the upload's refusal
	// raises server.FlagRefused.
	want := append(constantsInSource(t, "../server/photos/flags.go", "Flag"), server.FlagRefused)
	sort.Strings(flags)
	sort.Strings(want)
	if !slices.Equal(flags, want) {
		t.Errorf("PhotoFlags properties:\n got %v\nwant the flags of server/photos/flags.go %v", flags, want)
	}
	for _, f := range want {
		if !strings.Contains(schemas["PhotoFlags"].Value.Description, "| `"+f+"` |") {
			t.Errorf("PhotoFlags description has no table row for %s", f)
		}
	}
}

// codesInSource returns the values of the Code* constants of a Go file.
func codesInSource(t *testing.T, path string) []string {
	t.Helper()
	codes := constantsInSource(t, path, "Code")
	if len(codes) < 20 {
		t.Fatalf("found only %d codes in %s", len(codes), path)
	}
	return codes
}

// constantsInSource returns the values of the string constants of a Go
// file whose names start with prefix.
func constantsInSource(t *testing.T, path, prefix string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, prefix) || i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				codes = append(codes, v)
			}
		}
		return true
	})
	if len(codes) == 0 {
		t.Fatalf("found no %s constants in %s", prefix, path)
	}
	return codes
}

// background is the context of the smoke tests' requests.
var background = context.Background()

package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestAllowNamesHead: every path of the server, asked with OPTIONS or with
// a method it lacks, names in Allow the methods it answers: HEAD wherever
// it names GET (headAsGet serves it), and a HEAD of such a path is never
// 405. Every answer, of any path and method, is marked nosniff, and an
// API's answer is kept in no cache.
func TestAllowNamesHead(t *testing.T) {
	srv := apptest.Start(t)
	param := regexp.MustCompile(`:[A-Za-z0-9_]+`)
	paths := map[string]bool{}
	for _, r := range srv.App.Echo.Routes() {
		if strings.Contains(r.Path, "*") || r.Path == "" {
			continue
		}
		paths[param.ReplaceAllString(r.Path, "0190a0b0-0000-7000-8000-000000000001")] = true
	}
	if len(paths) < 20 {
		t.Fatalf("only %d paths routed", len(paths))
	}
	do := func(method, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: %d, X-Content-Type-Options %q, want nosniff", method, path, res.StatusCode, got)
		}
		if got := res.Header.Get("Cache-Control"); strings.HasPrefix(path, "/api/") && got != "no-store" {
			t.Errorf("%s %s: %d, Cache-Control %q, want no-store", method, path, res.StatusCode, got)
		}
		return res
	}
	allows := func(res *http.Response) []string {
		var ms []string
		for _, m := range strings.Split(res.Header.Get("Allow"), ",") {
			ms = append(ms, strings.TrimSpace(m))
		}
		return ms
	}
	withGet := 0
	for path := range paths {
		opts := do(http.MethodOptions, path)
		ms := allows(opts)
		if slices.Contains(ms, http.MethodGet) && !slices.Contains(ms, http.MethodHead) {
			t.Errorf("OPTIONS %s: Allow %q: HEAD is answered wherever GET is", path, opts.Header.Get("Allow"))
		}
		if !slices.Contains(ms, http.MethodGet) {
			continue
		}
		withGet++
		if res := do(http.MethodHead, path); res.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("HEAD %s: 405, though OPTIONS allows it", path)
		}
		for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodPost} {
			if slices.Contains(ms, m) {
				continue
			}
			res := do(m, path)
			if res.StatusCode != http.StatusMethodNotAllowed {
				continue // the console answers its own 404s and sign-in
			}
			if got := allows(res); !slices.Contains(got, http.MethodHead) {
				t.Errorf("%s %s: 405 with Allow %q, lacking HEAD", m, path, res.Header.Get("Allow"))
			}
			break
		}
	}
	if withGet < 10 {
		t.Fatalf("only %d paths with GET checked", withGet)
	}
}

// TestSignedInAnswersNotCached: a signed-in phone's answers — its user,
// its county's records — are kept in no cache (a shared phone's browser,
// a proxy); a photo's bytes, which never change under their id, may be.
func TestSignedInAnswersNotCached(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	for _, path := range []string{"/api/v1/me", "/api/v1/sync/pull?limit=5"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		access, _ := phone.Tokens()
		req.Header.Set("Authorization", "Bearer "+access)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Cache-Control"); res.StatusCode != http.StatusOK || got != "no-store" {
			t.Errorf("GET %s: %d, Cache-Control %q, want 200 no-store", path, res.StatusCode, got)
		}
	}
}

package console_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestFavicon: the icon browsers ask for on every page — the one the
// console's pages link, /favicon.ico and /console/favicon.ico — is the
// field app's, and may be cached, rather than a 404 each time.
func TestFavicon(t *testing.T) {
	srv := apptest.Start(t)
	_, login := newBrowser(t, srv).get("/console/login")
	link := regexp.MustCompile(`<link rel="icon"[^>]* href="([^"]+)"`).FindStringSubmatch(login)
	if link == nil {
		t.Fatal("the login page links no icon")
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{link[1], "/favicon.ico", "/console/favicon.ico"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(body), "\x89PNG") {
			t.Errorf("%s: %d %s, want the app's PNG icon", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if path == link[1] {
			continue
		}
		resp, err = noFollow.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || resp.Header.Get("Location") != link[1] {
			t.Errorf("%s: %d to %q, Cache-Control %q: want a cached redirect to the linked icon", path, resp.StatusCode, resp.Header.Get("Location"), cc)
		}
	}
}

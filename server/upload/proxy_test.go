package upload_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBehindProxy: behind a TLS-terminating proxy named as trusted, upload
// locations carry the public scheme and host and failed logins are counted
// per real client, and the console's cookies are Secure; from any other
// peer the same headers change nothing.
func TestBehindProxy(t *testing.T) {
	forwarded := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "fieldsync.example.cn"}
	for _, tc := range []struct {
		name    string
		proxies []string
		public  bool // locations use the forwarded scheme and host
	}{
		{"no proxy configured", nil, false},
		{"the peer is a trusted proxy", []string{"127.0.0.1"}, true},
		{"the peer is in a trusted range", []string{"127.0.0.0/8", "10.1.0.0/16"}, true},
		{"another proxy is trusted", []string{"10.1.2.3"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := apptest.Start(t, func(c *app.Config) { c.TrustedProxies = tc.proxies })
			tus := srv.Tus(srv.Login(apptest.Inspector))
			tus.Header = forwarded
			r := tus.Create(newID(), apptest.SHA256([]byte("x")), "image/jpeg", 100)
			if r.Status != http.StatusCreated {
				t.Fatalf("create: %d %+v", r.Status, r.Err)
			}
			loc := r.Header.Get("Location")
			want := srv.URL + "/api/v1/uploads/"
			if tc.public {
				want = "https://fieldsync.example.cn/api/v1/uploads/"
			}
			if !strings.HasPrefix(loc, want) {
				t.Errorf("Location %q, want it under %q", loc, want)
			}

			// The client address the server uses (failed logins are slowed
			// per address): the forwarded one only from a trusted peer.
			req := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", nil)
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			got, want2 := srv.App.Echo.IPExtractor(req), "127.0.0.1"
			if tc.public {
				want2 = "203.0.113.9"
			}
			if got != want2 {
				t.Errorf("client address %q, want %q", got, want2)
			}

			// The console's cookies are Secure when the browser came over
			// HTTPS, which only a trusted proxy can say.
			creq, _ := http.NewRequest(http.MethodGet, srv.URL+"/console/login", nil)
			for k, v := range forwarded {
				creq.Header.Set(k, v)
			}
			creq.Header.Set("X-Url-Scheme", "https")
			resp, err := http.DefaultClient.Do(creq)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(resp.Cookies()) == 0 {
				t.Fatal("the console's login page sets no cookie")
			}
			for _, c := range resp.Cookies() {
				if c.Secure != tc.public {
					t.Errorf("cookie %s: Secure %v, want %v", c.Name, c.Secure, tc.public)
				}
			}
		})
	}
}

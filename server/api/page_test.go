package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPullPageEncoding: a pull page is gzip-compressed exactly when the
// client accepts gzip, says so (Content-Encoding, Vary), and unzips to the
// same page the uncompressed answer carries.
func TestPullPageEncoding(t *testing.T) {
	srv := apptest.Start(t)
	access, _ := srv.Login(apptest.Inspector).Tokens()
	path := syncproto.PathPull + "?limit=100&hlcs=grouped"
	plain := send(t, srv, request{method: http.MethodGet, path: path, token: access, header: map[string]string{"Accept-Encoding": "identity"}})
	plain.wantStatus(t, 200)
	var want syncproto.PullResponse
	if err := json.Unmarshal(plain.Body, &want); err != nil || len(want.Changes) != 100 {
		t.Fatalf("plain page: %d changes, %v", len(want.Changes), err)
	}
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"*", true},
		{"identity", false},
		{"deflate", false},
		{"gzip;q=0", false},
		{"gzip; q=0.000, deflate", false},
	} {
		r := send(t, srv, request{method: http.MethodGet, path: path, token: access, header: map[string]string{"Accept-Encoding": tc.accept}})
		r.wantStatus(t, 200)
		if got := r.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want gzip %v", tc.accept, r.Header.Get("Content-Encoding"), tc.gzip)
			continue
		}
		if r.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, r.Header.Get("Vary"))
		}
		body := r.Body
		if tc.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
			if len(r.Body)*3 > len(body) {
				t.Errorf("gzip page %d bytes for %d: not compressed", len(r.Body), len(body))
			}
		}
		var got syncproto.PullResponse
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("Accept-Encoding %q: %v", tc.accept, err)
		}
		if len(got.Changes) != len(want.Changes) || got.Cursor != want.Cursor || got.HasMore != want.HasMore {
			t.Errorf("Accept-Encoding %q: %d changes, cursor %q, more %v; want %d, %q, %v", tc.accept,
				len(got.Changes), got.Cursor, got.HasMore, len(want.Changes), want.Cursor, want.HasMore)
		}
	}
}

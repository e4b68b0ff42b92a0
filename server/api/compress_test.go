package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestCompressHoldsNothingWhileWaiting: a request waiting inside a gate
// (as hundreds may, under load) holds no compressor; its answer, once
// served, is compressed and the compressor goes back. Short answers are
// sent plain.
func TestCompressHoldsNothingWhileWaiting(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	w := watchGates(t)
	release := w.hold()
	ans := goReq(context.Background(), srv, c, "pull", nil) // the Go client asks for gzip
	w.expect(t, "pull admitted")
	if n := api.GzipWritersInUse(); n != 0 {
		t.Errorf("%d compressors held by a request that has written nothing", n)
	}
	release()
	a := <-ans
	a.wantOK(t)
	if n := api.GzipWritersInUse(); n != 0 {
		t.Errorf("%d compressors not returned after the answer", n)
	}

	// The same page, asked for by hand: gzip, since it is over a kilobyte;
	// /me is shorter and goes plain.
	access, _ := c.Tokens()
	page := send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?limit=10", token: access,
		header: map[string]string{"Accept-Encoding": "gzip"}})
	if page.Header.Get("Content-Encoding") != "gzip" || len(page.Body) >= len(a.body) {
		t.Errorf("pull page: Content-Encoding %q, %d bytes for %d plain", page.Header.Get("Content-Encoding"), len(page.Body), len(a.body))
	}
	me := send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: access, header: map[string]string{"Accept-Encoding": "gzip"}})
	me.wantStatus(t, 200)
	if me.Header.Get("Content-Encoding") != "" || me.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/me: Content-Encoding %q, Content-Type %q; want plain JSON", me.Header.Get("Content-Encoding"), me.Header.Get("Content-Type"))
	}
}

package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
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

// TestPullPagesGzippedAhead: the pages a device pulls one after the other
// (read ahead, and gzipped ahead for a device that accepts gzip) come as
// each request asks: gzip with Content-Encoding when it accepts gzip,
// plain JSON when it does not, whatever the request before asked; both
// hold the same records as a sequence pulled plain.
func TestPullPagesGzippedAhead(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	access, _ := c.Tokens()
	type page struct {
		ids     []string
		cursor  string
		hasMore bool
	}
	get := func(cursor string, gzipped bool) page {
		t.Helper()
		h := map[string]string{"Accept-Encoding": "identity"}
		if gzipped {
			h["Accept-Encoding"] = "gzip"
		}
		r := send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?limit=40&form=compact&cursor=" + cursor, token: access, header: h})
		r.wantStatus(t, 200)
		body := r.Body
		if enc := r.Header.Get("Content-Encoding"); (enc == "gzip") != gzipped || (enc != "" && enc != "gzip") {
			t.Fatalf("asked gzip %v, got Content-Encoding %q", gzipped, enc)
		}
		if gzipped {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		var cp syncproto.CompactPage
		if err := json.Unmarshal(body, &cp); err != nil {
			t.Fatalf("page after %q: %v", cursor, err)
		}
		pr, err := cp.Response()
		if err != nil {
			t.Fatal(err)
		}
		pg := page{cursor: pr.Cursor, hasMore: pr.HasMore}
		for _, ch := range pr.Changes {
			pg.ids = append(pg.ids, ch.Entity+"/"+ch.ID)
		}
		return pg
	}
	sequence := func(gzipped func(i int) bool) []page {
		var out []page
		cursor := ""
		for i := 0; ; i++ {
			pg := get(cursor, gzipped(i))
			out = append(out, pg)
			if !pg.hasMore {
				return out
			}
			cursor = pg.cursor
		}
	}
	plain := sequence(func(int) bool { return false })
	if len(plain) < 4 {
		t.Fatalf("the demo slice is %d pages of 40; want at least 4", len(plain))
	}
	for name, gz := range map[string]func(int) bool{
		"gzip":                        func(int) bool { return true },
		"alternating":                 func(i int) bool { return i%2 == 0 },
		"gzip, then plain, then gzip": func(i int) bool { return i < 2 || i > 3 },
	} {
		got := sequence(gz)
		if len(got) != len(plain) {
			t.Fatalf("%s: %d pages, plain %d", name, len(got), len(plain))
		}
		for i := range got {
			if !slices.Equal(got[i].ids, plain[i].ids) || got[i].cursor != plain[i].cursor {
				t.Fatalf("%s: page %d holds %d records (cursor %s), plain %d (cursor %s)", name, i+1, len(got[i].ids), got[i].cursor, len(plain[i].ids), plain[i].cursor)
			}
		}
	}
}

// TestConcurrentPullsKeepTheirOwnPages: devices of different scopes
// pulling at the same time, gzip and plain, each page read and gzipped
// ahead in memory that goes back to a pool once sent
// (server.PageMemory), get exactly the pages a lone plain pull gets:
// every record's every byte, the cursor and has_more (server_hlc aside).
func TestConcurrentPullsKeepTheirOwnPages(t *testing.T) {
	srv := apptest.Start(t)
	users := []string{apptest.Inspector, apptest.NingwuInsp, apptest.CityOffice}
	tokens := make([]string, len(users))
	for i, u := range users {
		tokens[i], _ = srv.Login(u).Tokens()
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	// page fetches the page after cursor and returns it with its
	// server_hlc blanked, re-encoded (records sorted by entity).
	page := func(access, cursor string, gzipped bool) ([]byte, syncproto.CompactPage, error) {
		var cp syncproto.CompactPage
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+syncproto.PathPull+"?limit=10&form=compact&cursor="+cursor, nil)
		if err != nil {
			return nil, cp, err
		}
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Accept-Encoding", "identity")
		if gzipped {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, cp, err
		}
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				return nil, cp, err
			}
		}
		raw, err := io.ReadAll(body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, cp, fmt.Errorf("status %d, %v: %.200s", resp.StatusCode, err, raw)
		}
		if err := json.Unmarshal(raw, &cp); err != nil {
			return nil, cp, fmt.Errorf("page after %q: %v", cursor, err)
		}
		cp.ServerHLC = ""
		b, err := json.Marshal(cp)
		return b, cp, err
	}
	sequence := func(access string, gzipped func(i int) bool) ([][]byte, error) {
		var out [][]byte
		cursor := ""
		for i := 0; ; i++ {
			b, cp, err := page(access, cursor, gzipped(i))
			if err != nil {
				return nil, err
			}
			out = append(out, b)
			if !cp.HasMore {
				return out, nil
			}
			cursor = cp.Cursor
		}
	}
	want := make([][][]byte, len(users))
	for i := range users {
		var err error
		if want[i], err = sequence(tokens[i], func(int) bool { return false }); err != nil {
			t.Fatalf("%s alone: %v", users[i], err)
		}
		if len(want[i]) < 3 {
			t.Fatalf("%s: %d pages of 10; want at least 3", users[i], len(want[i]))
		}
	}
	if bytes.Equal(want[0][0], want[1][0]) {
		t.Fatal("two scopes' first pages are the same: the test cannot tell them apart")
	}
	type result struct {
		user, how string
		pages     [][]byte
		err       error
	}
	results := make(chan result)
	hows := map[string]func(int) bool{"gzip": func(int) bool { return true }, "alternating": func(i int) bool { return i%2 == 1 }}
	for i, u := range users {
		for how, gz := range hows {
			access, _ := srv.Login(u).Tokens() // a device of its own
			go func() {
				pages, err := sequence(access, gz)
				results <- result{users[i], how, pages, err}
			}()
		}
	}
	for range len(users) * len(hows) {
		r := <-results
		if r.err != nil {
			t.Errorf("%s, %s: %v", r.user, r.how, r.err)
			continue
		}
		ref := want[slices.Index(users, r.user)]
		if len(r.pages) != len(ref) {
			t.Errorf("%s, %s: %d pages, alone %d", r.user, r.how, len(r.pages), len(ref))
			continue
		}
		for k := range ref {
			if !bytes.Equal(r.pages[k], ref[k]) {
				t.Errorf("%s, %s: page %d differs from the page pulled alone\n got %.300s\nwant %.300s", r.user, r.how, k+1, r.pages[k], ref[k])
				break
			}
		}
	}
}

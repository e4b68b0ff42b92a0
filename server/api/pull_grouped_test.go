package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPullGroupedHLCs: hlcs=grouped carries the same HLCs as the per-field
// form, each HLC once with the fields it last wrote, in a smaller page; the
// Go client asks for it and expands it.
func TestPullGroupedHLCs(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	access, _ := c.Tokens()
	page := func(form string) (syncproto.PullResponse, int) {
		t.Helper()
		r := send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?limit=200&hlcs=" + form, token: access})
		r.wantStatus(t, 200)
		var pr syncproto.PullResponse
		if err := json.Unmarshal(r.Body, &pr); err != nil {
			t.Fatal(err)
		}
		return pr, len(r.Body)
	}
	fields, fieldsSize := page("fields")
	grouped, groupedSize := page("grouped")
	if len(fields.Changes) != 200 || len(grouped.Changes) != 200 {
		t.Fatalf("pages of %d and %d changes", len(fields.Changes), len(grouped.Changes))
	}
	for i, g := range grouped.Changes {
		f := fields.Changes[i]
		if g.ID != f.ID || len(g.HLCs) != 0 || (f.HLCGroups != nil) {
			t.Fatalf("change %d: %s/%s, grouped hlcs %v, per-field groups %v", i, g.ID, f.ID, g.HLCs, f.HLCGroups)
		}
		expanded := map[string]string{}
		for h, names := range g.HLCGroups {
			for _, n := range names {
				if _, dup := expanded[n]; dup {
					t.Fatalf("%s %s: field %s in two groups", g.Entity, g.ID, n)
				}
				expanded[n] = h
			}
		}
		if !maps.Equal(expanded, f.HLCs) {
			t.Fatalf("%s %s: groups %v expand to %v, per field %v", g.Entity, g.ID, g.HLCGroups, expanded, f.HLCs)
		}
	}
	if groupedSize*10 > fieldsSize*8 {
		t.Errorf("grouped page %d bytes, per-field %d: want at least a fifth smaller", groupedSize, fieldsSize)
	}
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?hlcs=sorted", token: access}).wantError(t, 400, syncproto.CodeBadRequest)

	// A client set to the grouped form pulls grouped and hands out
	// per-field HLCs.
	asked := queries(c)
	c.PullForm = syncproto.HLCsGrouped
	pr, err := c.Pull(t.Context(), "", 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(*asked) != 1 || (*asked)[0].Get("hlcs") != syncproto.HLCsGrouped {
		t.Fatalf("the client asked %v, want hlcs=%s", *asked, syncproto.HLCsGrouped)
	}
	for i, ch := range pr.Changes {
		if ch.HLCGroups != nil || !maps.Equal(ch.HLCs, fields.Changes[i].HLCs) {
			t.Fatalf("client change %d: hlcs %v, groups %v; want %v", i, ch.HLCs, ch.HLCGroups, fields.Changes[i].HLCs)
		}
	}
}

// TestPullCompact: form=compact carries, page after page, the same records
// as the per-field form (fields, HLCs, county, tombstones) at the same
// cursors, in at most 80% of the grouped form's bytes; the Go client asks
// for it by default and hands out the per-field changes.
func TestPullCompact(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	// A record written by two HLCs, and a tombstone.
	site := newID()
	apptest.PushApplied(t, c, apptest.Mut(c, "site", site, apptest.Fields("county", apptest.Xinfu, "kind", "coal_yard", "name", "两次写的料场")))
	apptest.PushApplied(t, c, apptest.Mut(c, "site", site, apptest.Fields("name", "改过名的料场")))
	gone := newID()
	apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityInspection, gone, newInspection(site, "draft")))
	apptest.PushApplied(t, c, remove(c, syncproto.EntityInspection, gone))
	access, _ := c.Tokens()
	get := func(query string) []byte {
		t.Helper()
		r := send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?" + query, token: access})
		r.wantStatus(t, 200)
		return r.Body
	}
	var cursor string
	var compactBytes, groupedBytes, records int
	sawMulti, sawTombstone := false, false
	for {
		var fields syncproto.PullResponse
		if err := json.Unmarshal(get("limit=150&cursor="+cursor), &fields); err != nil {
			t.Fatal(err)
		}
		groupedBytes += len(get("limit=150&hlcs=grouped&cursor=" + cursor))
		body := get("limit=150&form=compact&cursor=" + cursor)
		compactBytes += len(body)
		var cp syncproto.CompactPage
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cp); err != nil {
			t.Fatalf("compact page: %v", err)
		}
		for _, recs := range cp.Records {
			for _, r := range recs {
				sawMulti = sawMulti || len(r.HLCFields) > 0
				sawTombstone = sawTombstone || r.Deleted
			}
		}
		got, err := cp.Response()
		if err != nil {
			t.Fatal(err)
		}
		if got.Cursor != fields.Cursor || got.HasMore != fields.HasMore || len(got.Changes) != len(fields.Changes) {
			t.Fatalf("compact page: cursor %q more %v, %d changes; per field: %q %v %d", got.Cursor, got.HasMore, len(got.Changes), fields.Cursor, fields.HasMore, len(fields.Changes))
		}
		want := map[string]syncproto.Change{}
		for _, ch := range fields.Changes {
			ch.Seq = 0
			want[ch.Entity+"/"+ch.ID] = ch
		}
		for _, ch := range got.Changes {
			gb, _ := json.Marshal(ch)
			wb, _ := json.Marshal(want[ch.Entity+"/"+ch.ID])
			if !bytes.Equal(gb, wb) {
				t.Fatalf("compact change\n%s\nper field\n%s", gb, wb)
			}
		}
		records += len(got.Changes)
		cursor = fields.Cursor
		if !fields.HasMore {
			break
		}
	}
	if !sawMulti || !sawTombstone || records < 300 {
		t.Fatalf("the pull had %d records, one with hlc_fields %v, a tombstone %v: the test data is too thin", records, sawMulti, sawTombstone)
	}
	if compactBytes*10 > groupedBytes*8 {
		t.Errorf("compact pages %d bytes, grouped %d: want at most 80%%", compactBytes, groupedBytes)
	}
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?form=compact&hlcs=grouped", token: access}).wantError(t, 400, syncproto.CodeBadRequest)

	// The client asks for form=compact unless told otherwise, and its
	// changes are the per-field ones.
	c.PullForm = ""
	asked := queries(c)
	pr, err := c.Pull(t.Context(), "", 150)
	if err != nil {
		t.Fatal(err)
	}
	if len(*asked) != 1 || (*asked)[0].Get("form") != syncproto.FormCompact || (*asked)[0].Has("hlcs") {
		t.Fatalf("the client asked %v, want form=compact", *asked)
	}
	var first syncproto.PullResponse
	if err := json.Unmarshal(get("limit=150"), &first); err != nil {
		t.Fatal(err)
	}
	if len(pr.Changes) != len(first.Changes) || pr.Cursor != first.Cursor {
		t.Fatalf("client: %d changes, cursor %q; want %d, %q", len(pr.Changes), pr.Cursor, len(first.Changes), first.Cursor)
	}
}

// queries records the query of every request c sends from now on.
func queries(c *syncproto.Client) *[]url.Values {
	var asked []url.Values
	next := c.HTTP.Transport
	c.HTTP.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		asked = append(asked, r.URL.Query())
		return next.RoundTrip(r)
	})
	return &asked
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPullFallsBackToGrouped: a client of the compact form talking to a
// server that predates it (which answers form=compact 400 bad_request, as
// it answers any unknown parameter) pulls the same page with
// hlcs=grouped, and keeps that form for the pages after.
func TestPullFallsBackToGrouped(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	var asked []url.Values
	next := c.HTTP.Transport
	c.HTTP.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		asked = append(asked, r.URL.Query())
		if r.URL.Query().Has("form") { // the older server
			body := `{"code":"bad_request","message":"未知的查询参数 form"}`
			return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		}
		return next.RoundTrip(r)
	})
	var got int
	if _, err := c.PullAll(t.Context(), "", 100, func(p *syncproto.PullResponse) error { got += len(p.Changes); return nil }); err != nil {
		t.Fatal(err)
	}
	if got < 200 || len(asked) < 3 || !asked[0].Has("form") || asked[1].Get("hlcs") != syncproto.HLCsGrouped || asked[2].Has("form") {
		t.Fatalf("pulled %d changes asking %v: want form=compact once, then hlcs=grouped", got, asked)
	}
	// A request refused for its own sake (a bad cursor) is not taken for
	// an older server: the form stays compact.
	c2 := srv.Login(apptest.Inspector)
	if _, err := c2.Pull(t.Context(), "not-a-cursor", 10); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
	if c2.OlderServer() {
		t.Fatal("after a bad cursor the client takes the server for an older one")
	}
	if !c.OlderServer() {
		t.Fatal("the client that fell back does not say so")
	}
}

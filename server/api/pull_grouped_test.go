package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
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

	// The client pulls grouped and hands out per-field HLCs.
	var asked []string
	next := c.HTTP.Transport
	c.HTTP.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		asked = append(asked, r.URL.Query().Get("hlcs"))
		return next.RoundTrip(r)
	})
	pr, err := c.Pull(t.Context(), "", 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != syncproto.HLCsGrouped {
		t.Fatalf("the client asked for hlcs=%q, want %q", asked, syncproto.HLCsGrouped)
	}
	for i, ch := range pr.Changes {
		if ch.HLCGroups != nil || !maps.Equal(ch.HLCs, fields.Changes[i].HLCs) {
			t.Fatalf("client change %d: hlcs %v, groups %v; want %v", i, ch.HLCs, ch.HLCGroups, fields.Changes[i].HLCs)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

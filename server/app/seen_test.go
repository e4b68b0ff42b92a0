package app_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSeenValueReplacedIsNoConflict: a write that names, in seen, the
// HLC of the stored value it replaces (the writer had it, as a phone
// has an office's return or a colleague's report after a pull) is a
// later edit, not a conflict, and the conflict log gains nothing — the
// office's return answered by a resubmission, a colleague's report
// followed by another (county and city probes: every resubmission was
// listed under 冲突记录, and offices learnt to overlook it). A write
// that names another HLC (the writer had an older value), or none,
// still logs the value it replaced; so does an older write, whatever
// it names.
func TestSeenValueReplacedIsNoConflict(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	office := srv.Login(apptest.CountyOffice)
	insp := newInspection(t, a, apptest.Xinfu)
	finding := newID()
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "fence",
		"description", "围挡破损", "severity", "major", "status", "open"))), "applied")
	// hlcOf is the HLC of a field as stored, as a pull gives it.
	hlcOf := func(entity, id, field string) string {
		t.Helper()
		r, err := srv.App.DB.Get(ctx, entity, id)
		if err != nil || r == nil {
			t.Fatalf("get %s %s: %v", entity, id, err)
		}
		h := r.State.Fields[field].HLC
		b.Clock.Observe(h)
		a.Clock.Observe(h)
		return h.String()
	}
	seen := func(m syncproto.Mutation, kv ...string) syncproto.Mutation {
		m.Seen = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m.Seen[kv[i]] = kv[i+1]
		}
		return m
	}
	openHLC, descHLC := hlcOf(syncproto.EntityFinding, finding, "status"), hlcOf(syncproto.EntityFinding, finding, "description")

	// The colleague, having pulled the finding, reports it rectified: no
	// conflict. And writes the description it had, after the creator
	// changed it (seen names the older value): a conflict.
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("description", "围挡破损约 20 米"))), "applied")
	hlcOf(syncproto.EntityFinding, finding, "description")
	wantStatus(t, apptest.Push(t, b, seen(apptest.Mut(b, syncproto.EntityFinding, finding,
		apptest.Fields("status", "rectifying", "description", "围挡破损，已联系施工方")), "status", openHLC, "description", descHLC)), "applied")
	// An older write naming the value it lost to changes nothing, and is
	// logged as the loser it is.
	stale := seen(apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("severity", "minor")), "severity", openHLC)
	severity := hlcOf(syncproto.EntityFinding, finding, "severity")
	wantStatus(t, apptest.Push(t, b, seen(apptest.Mut(b, syncproto.EntityFinding, finding, apptest.Fields("severity", "critical")),
		"severity", severity)), "applied")
	wantStatus(t, apptest.Push(t, a, stale), "stale")

	// The office returns the inspection; the inspector, having pulled the
	// return, submits again: no conflict. The colleague's phone, which
	// had not (it names the submitted status), submits too: a conflict.
	wantStatus(t, apptest.Push(t, a, apptest.Mut(a, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted"))), "applied")
	submitted := hlcOf(syncproto.EntityInspection, insp, "status")
	review := func() {
		t.Helper()
		if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review",
			map[string]string{"decision": "return", "comment": "请补拍围挡"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	review()
	returned := hlcOf(syncproto.EntityInspection, insp, "status")
	wantStatus(t, apptest.Push(t, a, seen(apptest.Mut(a, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")),
		"status", returned)), "applied")
	review()
	hlcOf(syncproto.EntityInspection, insp, "status")
	wantStatus(t, apptest.Push(t, b, seen(apptest.Mut(b, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")),
		"status", submitted)), "applied")

	var got []string
	for _, e := range []struct{ entity, id string }{{syncproto.EntityFinding, finding}, {syncproto.EntityInspection, insp}} {
		cs, err := srv.App.DB.Conflicts(ctx, srvScopeAll, e.entity, e.id, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got = append(got, c.Entity+"."+c.Field+"="+string(c.Value))
		}
	}
	slices.Sort(got)
	want := []string{`finding.description="围挡破损约 20 米"`, `finding.severity="minor"`, `inspection.status="returned"`}
	if !slices.Equal(got, want) {
		t.Errorf("conflict log %v, want %v", got, want)
	}
}

// TestSeenRefused: a seen that names a field the mutation does not
// write, or whose value is no HLC, refuses that mutation, naming it; a
// delete carries none; a seen of the wrong shape refuses the request.
// The same batch sent again with another seen is another batch.
func TestSeenRefused(t *testing.T) {
	srv := apptest.Start(t)
	a := srv.Login(apptest.Inspector)
	insp := newInspection(t, a, apptest.Xinfu)
	h := apptest.Mut(a, syncproto.EntityInspection, insp, apptest.Fields("summary", "x")).HLC
	for _, tc := range []struct {
		name  string
		seen  map[string]string
		del   bool
		code  string
		field string
	}{
		{"a field not written", map[string]string{"notes": h}, false, syncproto.CodeInvalidField, "seen.notes"},
		{"not an HLC", map[string]string{"summary": "yesterday"}, false, syncproto.CodeInvalidValue, "seen.summary"},
		{"an empty HLC", map[string]string{"summary": ""}, false, syncproto.CodeInvalidValue, "seen.summary"},
		// No stored value has such an HLC: a node no device or server has
		// (verification probe: taken).
		{"a node that is no id", map[string]string{"summary": h[:22] + "NOTAUUID"}, false, syncproto.CodeInvalidValue, "seen.summary"},
		{"the server's node in capitals", map[string]string{"summary": h[:22] + "~SERVER"}, false, syncproto.CodeInvalidValue, "seen.summary"},
		{"a device id in capitals", map[string]string{"summary": h[:22] + strings.ToUpper(a.DeviceID)}, false, syncproto.CodeInvalidValue, "seen.summary"},
		{"the server's node", map[string]string{"summary": h[:22] + "~server"}, false, "", ""},
		{"on a delete", map[string]string{"summary": h}, true, syncproto.CodeBadRequest, "seen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := apptest.Mut(a, syncproto.EntityInspection, insp, apptest.Fields("summary", "小结"))
			if tc.del {
				m = apptest.Mut(a, syncproto.EntityInspection, insp, nil)
				m.Delete = true
			}
			m.Seen = tc.seen
			r := apptest.Push(t, a, m).Results[0]
			if tc.code == "" {
				if r.Status != syncproto.StatusApplied {
					t.Errorf("%+v, want applied", r)
				}
				return
			}
			if r.Status != syncproto.StatusRejected || r.Code != tc.code || r.Field != tc.field {
				t.Errorf("%+v, want rejected %s at %s", r, tc.code, tc.field)
			}
		})
	}
	// A member of the wrong type is named; seen not an object is seen.
	for body, at := range map[string]string{
		`{"summary": 5}`: "mutations[0].seen.summary", `["summary"]`: "mutations[0].seen", `"summary"`: "mutations[0].seen",
	} {
		raw := `{"device_id":"` + a.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"inspection","id":"` + insp +
			`","hlc":"` + a.Clock.Now().String() + `","fields":{"summary":"小结"},"seen":` + body + `}]}`
		err := a.Do(ctx, http.MethodPost, syncproto.PathPush, json.RawMessage(raw), nil)
		var ae *syncproto.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Body.Code != syncproto.CodeInvalidField || ae.Body.Field != at {
			t.Errorf("seen %s: %v, want 400 invalid_field at %s", body, err, at)
		}
	}
	// One batch id, two contents.
	m := apptest.Mut(a, syncproto.EntityInspection, insp, apptest.Fields("summary", "再次"))
	batch := newID()
	if _, err := a.Push(ctx, batch, []syncproto.Mutation{m}); err != nil {
		t.Fatal(err)
	}
	m.Seen = map[string]string{"summary": h}
	var ae *syncproto.APIError
	if _, err := a.Push(ctx, batch, []syncproto.Mutation{m}); !errors.As(err, &ae) || ae.Body.Code != syncproto.CodeBatchMismatch {
		t.Errorf("the batch sent again with a seen: %v, want %s", err, syncproto.CodeBatchMismatch)
	}
}

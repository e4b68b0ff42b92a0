package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSameTruckSavedTwice: the same truck saved twice on one day at one
// checkpoint (two phones of a crew, each asking only about its own
// saves) is marked on the list and on each check's page as a likely
// duplicate — counted twice in every statistic until an office voids one
// (clock probe) — and no longer once one is voided. Its checks on
// another day, or at another checkpoint, are not.
func TestSameTruckSavedTwice(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	check := func(checkpoint, plate, at string) map[string]json.RawMessage {
		return apptest.Fields("county", apptest.Xinfu, "checkpoint", checkpoint, "plate", plate, "emission_stage", "cn6",
			"fuel", "natural_gas", "aftertreatment", "present", "checked_at", at)
	}
	first, second, otherDay, otherPlace := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, a,
		apptest.Mut(a, syncproto.EntityVehicleCheck, first, check("豆罗检查站", "晋H30272", "2026-11-28T12:20:00+08:00")),
		apptest.Mut(a, syncproto.EntityVehicleCheck, otherDay, check("豆罗检查站", "晋H30272", "2026-11-27T12:20:00+08:00")),
		apptest.Mut(a, syncproto.EntityVehicleCheck, otherPlace, check("忻州北收费站", "晋H30272", "2026-11-28T15:00:00+08:00")))
	// The second phone types it as painted, with the checkpoint's spacing.
	apptest.PushApplied(t, b, apptest.Mut(b, syncproto.EntityVehicleCheck, second, check("豆罗 检查站", "晋h·30272", "2026-11-28T12:22:00+08:00")))

	// Another truck, twice where the first was once (its checks are not
	// the first's twins, nor the first's theirs), listed on the same page.
	third, fourth := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, a,
		apptest.Mut(a, syncproto.EntityVehicleCheck, third, check("忻州北收费站", "晋H30273", "2026-11-28T15:01:00+08:00")),
		apptest.Mut(a, syncproto.EntityVehicleCheck, fourth, check("忻州北收费站", "晋H30273", "2026-11-28T15:05:00+08:00")))

	office := loggedIn(t, srv, apptest.CountyOffice)
	for _, filter := range []string{"plate=" + url.QueryEscape("晋H30272") + "&exact=1", "plate=" + url.QueryEscape("晋H3027")} {
		_, list := office.get("/console/vehicles?" + filter)
		row := func(id string) string {
			return regexp.MustCompile(`<tr data-id="` + id + `"[^>]*>.*?</tr>`).FindString(list)
		}
		want := map[string]bool{first: true, second: true, otherDay: false, otherPlace: false}
		if !strings.Contains(filter, "exact") {
			want[third], want[fourth] = true, true
		}
		for id, twin := range want {
			if row(id) == "" {
				t.Fatalf("%s: check %s not listed", filter, id)
			}
			if got := strings.Contains(row(id), "疑似重复（同日同站另有 1 条）"); got != twin {
				t.Errorf("%s: check %s marked a likely duplicate: %v, want %v\n%s", filter, id, got, twin, row(id))
			}
		}
	}
	if _, page := office.get("/console/vehicles/" + first); !strings.Contains(page, `id="twins"`) || !strings.Contains(page, "同一天在同一检查站另有 1 条该车的路检记录") {
		t.Errorf("the check's page does not say it has a likely duplicate\n%s", page)
	}
	if _, page := office.get("/console/vehicles/" + otherDay); strings.Contains(page, `id="twins"`) {
		t.Error("a check of another day is said to have a duplicate")
	}
	// The office voids the second: neither is marked any more.
	_, page := office.get("/console/vehicles/" + second)
	form := url.Values{"csrf": {csrf(t, page)}, "decision": {"void"}, "comment": {"两台手机重复录入"}}
	if st, _ := office.post("/console/vehicles/"+second+"/void", withSeqs(form, page)); st != http.StatusOK {
		t.Fatalf("void: %d", st)
	}
	if _, page := office.get("/console/vehicles/" + first); strings.Contains(page, `id="twins"`) {
		t.Error("a check whose twin was voided is still said to have one")
	}
	if _, page := office.get("/console/vehicles/" + second); strings.Contains(page, `id="twins"`) {
		t.Error("the voided check is said to have a twin")
	}
}

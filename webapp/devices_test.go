package webapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserTwoDevices: two phones (two browser contexts) edit one
// inspection offline. Different items: both edits survive. The same item:
// the later edit wins on both, and the phone whose edit lost shows it as
// superseded.
func TestBrowserTwoDevices(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	bctx := browserFor(t)
	a := newPhone(t, bctx, srv.URL, "phone A", near(at))
	a.signIn(apptest.Inspector)
	b := newPhone(t, bctx, srv.URL, "phone B", near(at))
	b.signIn(apptest.Inspector2)

	// A starts the inspection online and sends it.
	a.goHash("#/site/"+site.ID, `button.start[data-template="staggered_production"]`)
	a.click(`button.start[data-template="staggered_production"]`)
	a.wait(`#inspection`)
	insp := eval[string](a, `document.querySelector('#inspection').dataset.id`)
	a.answer("alert_level", "orange")
	a.goHash("#/", `#sync-now`)
	a.click(`#sync-now`)
	a.waitSynced()
	b.click(`#sync-now`)
	b.waitSynced()

	// Offline, each edits its own item, and both the same one: A first,
	// then B.
	a.setOffline(true)
	b.setOffline(true)
	a.goHash("#/inspection/"+insp, `#item-emergency_plan_on_site`)
	a.answer("emergency_plan_on_site", "pass")
	a.answer("unannounced_check", "true")
	a.answer("vehicle_gate_log", "pass")
	b.goHash("#/site/"+site.ID, `a[href="#/inspection/`+insp+`"]`)
	b.click(`a[href="#/inspection/` + insp + `"]`)
	b.wait(`#item-alert_level button.on[data-value="orange"]`)
	b.answer("material_records", "pass")
	b.answer("vehicle_gate_log", "na")
	b.shot("app-device-b-offline.png")

	// B comes back first, then A: A's edit of the shared item is older.
	b.setOffline(false)
	b.goHash("#/", `#sync-now`)
	b.click(`#sync-now`)
	b.waitSynced()
	a.setOffline(false)
	a.goHash("#/", `#sync-now`)
	a.click(`#sync-now`)
	a.waitSynced()
	a.wait(`#superseded`)
	if got := a.text(`#superseded`); !strings.Contains(got, "门禁车辆进出台账及视频") || strings.Contains(got, "vehicle_gate_log") {
		t.Errorf("phone A's home names the superseded item %q, want its checklist label", got)
	}
	a.shot("app-home-superseded.png")
	b.click(`#sync-now`)
	b.waitSynced()

	r := get(t, srv, "inspection", insp)
	for k, want := range map[string]string{
		"alert_level": `{"value":"orange"}`, "emergency_plan_on_site": `{"result":"pass"}`, "unannounced_check": `{"value":true}`,
		"material_records": `{"result":"pass"}`, "vehicle_gate_log": `{"result":"na"}`,
	} {
		if got := string(r.Value("answers." + k)); got != want {
			t.Errorf("server: answers.%s = %s, want %s", k, got, want)
		}
	}
	// Both phones show every edit, the later one for the shared item.
	for _, p := range []*phone{a, b} {
		p.goHash("#/inspection/"+insp, `#item-vehicle_gate_log button.on[data-value="na"]`)
		for _, sel := range []string{`#item-emergency_plan_on_site button.on[data-value="pass"]`, `#item-unannounced_check button.on[data-value="true"]`,
			`#item-material_records button.on[data-value="pass"]`, `#item-alert_level button.on[data-value="orange"]`} {
			if eval[int](p, `document.querySelectorAll('`+sel+`').length`) != 1 {
				t.Errorf("%s does not show %s", p.name, sel)
			}
		}
	}
	note := a.text(`#item-vehicle_gate_log .superseded-note`)
	if !strings.Contains(note, "您填的“合格”已被更晚的修改（其他手机或督查室）覆盖，现为“不适用”") {
		t.Errorf("phone A's superseded note: %q", note)
	}
	if n := eval[int](b, `document.querySelectorAll('.superseded-note').length`); n != 0 {
		t.Errorf("phone B shows %d superseded notes, want none (its edit won)", n)
	}
	a.do("scroll to the superseded item", chromedp.Evaluate[chromedp.Void](`document.querySelector('#item-vehicle_gate_log').scrollIntoView()`))
	a.shot("app-inspection-superseded.png")
}

// TestBrowserEditLostToDiscard: A gives up a draft offline; B, offline
// too, answers an item of it later and syncs first; A's discard then
// reaches the server, and B's next sync says on its home screen that its
// answer went with the deleted record (记录已被删除), naming the item by
// its label — it used to vanish without a word (SDK probe).
func TestBrowserEditLostToDiscard(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	bctx := browserFor(t)
	a := newPhone(t, bctx, srv.URL, "phone A", near(at))
	a.signIn(apptest.Inspector)
	b := newPhone(t, bctx, srv.URL, "phone B", near(at))
	b.signIn(apptest.Inspector2)
	insp := a.startInspection(site.ID, "staggered_production")
	a.answer("alert_level", "orange")
	a.goHash("#/", `#sync-now`)
	a.click(`#sync-now`)
	a.waitSynced()
	b.click(`#sync-now`)
	b.waitSynced()

	a.setOffline(true)
	b.setOffline(true)
	a.goHash("#/inspection/"+insp, `#discard`)
	eval[bool](a, `(window.confirm = () => true, true)`)
	a.click(`#discard`)
	a.waitJS("back home", `location.hash === '#/' || location.hash === ''`)
	b.goHash("#/inspection/"+insp, `#item-vehicle_gate_log`)
	b.answer("vehicle_gate_log", "pass")

	b.setOffline(false)
	b.goHash("#/", `#sync-now`)
	b.click(`#sync-now`)
	b.waitSynced()
	a.setOffline(false)
	a.click(`#sync-now`)
	a.waitSynced()
	b.click(`#sync-now`)
	b.waitSynced()
	b.wait(`#superseded`)
	if got := b.text(`#superseded`); !strings.Contains(got, "记录已被删除") || !strings.Contains(got, "合格") ||
		!strings.Contains(got, "门禁车辆进出台账及视频") || strings.Contains(got, "vehicle_gate_log") {
		t.Errorf("phone B's home after A's discard: %q, want its answer said gone with the record", got)
	}
	b.shot("app-home-superseded-deleted.png")
}

package webapp_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server"
)

// The inputs of the roadside form's 更多检测项 (vehicle.js), by their
// data-more (the field each is for), and
// the words their accessible names must hold.
var moreInputs = [][2]string{
	{"vin", "车辆识别代号"},
	{"plate_type", "号牌种类"},
	{"ringelmann", "林格曼黑度"},
	{"opacity", "不透光烟度"},
	{"remote_sensing_id", "遥感检测编号"},
}

// openMore opens the roadside form's folded 更多检测项 as a finger does,
// and waits until its inputs show.
func (p *phone) openMore() {
	p.t.Helper()
	if !eval[bool](p, `document.querySelector('#vehicle-more').open`) {
		p.click(`#vehicle-more > summary`)
	}
	p.wait(`#vehicle-more input[data-more="vin"]`)
}

// retype empties the input sel (as a finger does, with the events the
// draft records) and types text into it.
func (p *phone) retype(sel, text string) {
	p.t.Helper()
	eval[bool](p, `(() => { const el = document.querySelector('`+sel+`'); el.value = '';
		el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	if text != "" {
		p.do("type "+text+" into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
	}
}

// axName returns the accessible name Chromium computes for the element sel
// (what a screen reader says), from its accessibility tree.
func (p *phone) axName(sel string) string {
	p.t.Helper()
	var name string
	p.do("accessible name of "+sel, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		nodes, err := chromedp.Nodes(chromedp.CSS(sel))(ctx, t)
		if err != nil {
			return err
		}
		no := false
		res, err := cdp.Call(ctx, t, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{
			BackendNodeID: nodes[0].BackendNodeID, FetchRelatives: &no})
		if err != nil {
			return err
		}
		for _, n := range res.Nodes {
			if n.BackendDOMNodeID == nodes[0].BackendNodeID && n.Name != nil {
				return json.Unmarshal(n.Name.Value, &name)
			}
		}
		return nil
	}))
	return name
}

// serverValues returns the raw JSON of fields of the server's record r
// ("" for a field it does not hold, or holds cleared).
func serverValues(r *server.StoredRecord, fields ...string) map[string]string {
	m := map[string]string{}
	for _, k := range fields {
		if v := string(r.Value(k)); v != "" && v != "null" {
			m[k] = v
		}
	}
	return m
}

// TestBrowserVehicleMoreFields: the fields of a roadside check a crew
// records only now and then — the VIN, 号牌种类, 林格曼黑度, 不透光烟度 (the
// light absorption coefficient k, m⁻¹) and 遥感检测编号 — are typed in the
// form's folded 更多检测项, kept through a reload, saved and synced: the
// server holds them exactly (the VIN in a plate's spelling, the numbers as
// numbers). A vehicle saved without them sends none of them. The check
// corrected shows them again; one emptied is cleared on the server.
func TestBrowserVehicleMoreFields(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	if eval[bool](p, `document.querySelector('#vehicle-more').open`) {
		t.Error("更多检测项 is open on a new vehicle's form, want it folded")
	}
	if eval[bool](p, `document.querySelector('#vehicle-more input[data-more="vin"]').checkVisibility()`) {
		t.Error("the VIN input shows with 更多检测项 folded")
	}
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e124"))
	p.openMore()
	p.do("fill 更多检测项",
		// A Chinese keyboard's full-width letters, lower case, the spaces,
		// dashes and dots people type between its groups.
		chromedp.SendKeys(chromedp.CSS(`input[data-more="vin"]`), "ｌｆｖ2a21k-5a4 123.456"),
		chromedp.SendKeys(chromedp.CSS(`input[data-more="plate_type"]`), "重型半挂牵引车"),
		chromedp.SendKeys(chromedp.CSS(`input[data-more="ringelmann"]`), "2"),
		chromedp.SendKeys(chromedp.CSS(`input[data-more="opacity"]`), "1.35"),
		chromedp.SendKeys(chromedp.CSS(`input[data-more="remote_sensing_id"]`), "YG-140902-20250501-0007"))
	if v := eval[string](p, `document.querySelector('input[data-more="vin"]').value`); v != "LFV2A21K5A4123456" {
		t.Errorf("the VIN typed reads %q, want LFV2A21K5A4123456", v)
	}
	p.has("已填 5 项")

	// The page killed (the camera app in front) and opened again: the
	// section and what was typed in it are back.
	values := `JSON.stringify(['vin', 'plate_type', 'ringelmann', 'opacity', 'remote_sensing_id'].map((n) => document.querySelector('#vehicle-more [data-more="' + n + '"]').value))`
	want := `["LFV2A21K5A4123456","重型半挂牵引车","2","1.35","YG-140902-20250501-0007"]`
	p.reopen()
	p.goHash("#/vehicle", `#vehicle-form`)
	p.wait(`#vehicle-more input[data-more="vin"]`) // open again
	if got := eval[string](p, values); got != want {
		t.Errorf("after a reload 更多检测项 reads %s, want %s", got, want)
	}

	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆') || !!document.querySelector('#vehicle-error').textContent`)
	if e := p.text(`#vehicle-error`); e != "" {
		t.Fatalf("refused: %s", e)
	}
	if eval[bool](p, `document.querySelector('#vehicle-more').open`) {
		t.Error("the next vehicle's form has 更多检测项 open, want it folded")
	}
	if got := eval[string](p, values); got != `["","","","",""]` {
		t.Errorf("the next vehicle's 更多检测项 reads %s, want empty", got)
	}
	// The next vehicle, without them.
	p.do("second vehicle", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e125"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 2 辆')`)

	sync := func() {
		t.Helper()
		p.setOffline(false)
		p.click(`#tabs a[data-tab="home"]`)
		p.click(`#sync-now`)
		p.waitSynced()
		if n := eval[int](p, `(async () => { const {app} = await import('/app/js/app.js'); return (await app.client.rejected()).length; })()`); n != 0 {
			t.Fatalf("the server refused %d changes: %s", n, p.text(`#rejected`))
		}
	}
	sync()
	one := func(plate string) *server.StoredRecord {
		t.Helper()
		recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", plate)
		if err != nil || len(recs) != 1 {
			t.Fatalf("server: %d vehicle checks of %s (%v), want 1", len(recs), plate, err)
		}
		return get(t, srv, "vehicle_check", recs[0].ID)
	}
	more := []string{"vin", "plate_type", "ringelmann", "opacity", "remote_sensing_id"}
	v := one("晋H7E124")
	for k, want := range map[string]string{"vin": `"LFV2A21K5A4123456"`, "plate_type": `"重型半挂牵引车"`,
		"ringelmann": `2`, "opacity": `1.35`, "remote_sensing_id": `"YG-140902-20250501-0007"`} {
		if got := string(v.Value(k)); got != want {
			t.Errorf("server: vehicle_check.%s = %s, want %s", k, got, want)
		}
	}
	if k, ok := v.Float("opacity"); !ok || k != 1.35 {
		t.Errorf("server: opacity is not the number 1.35: %s", v.Value("opacity"))
	}
	if got := serverValues(one("晋H7E125"), more...); len(got) != 0 {
		t.Errorf("server: the check saved without 更多检测项 holds %v, want none of them", got)
	}

	// Corrected: the form shows them again (the section open); 不透光烟度
	// emptied and 林格曼黑度 changed.
	p.setOffline(true)
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.click(`#vehicle-today li[data-id="` + v.ID + `"] button[data-edit]`)
	p.waitJS("the check in the form", `!!document.querySelector('#vehicle-editing') && document.querySelector('input[name="plate"]').value === 'H7E124'`)
	p.wait(`#vehicle-more input[data-more="vin"]`)
	if got := eval[string](p, values); got != want {
		t.Errorf("correcting, 更多检测项 reads %s, want %s", got, want)
	}
	p.retype(`input[data-more="opacity"]`, "")
	p.retype(`input[data-more="ringelmann"]`, "1")
	p.click(`#save-vehicle`)
	p.waitJS("corrected", `!document.querySelector('#vehicle-editing') && !!document.querySelector('#vehicle-today li[data-id="`+v.ID+`"]')`)
	sync()
	got := serverValues(get(t, srv, "vehicle_check", v.ID), more...)
	if w := map[string]string{"vin": `"LFV2A21K5A4123456"`, "plate_type": `"重型半挂牵引车"`, "ringelmann": `1`,
		"remote_sensing_id": `"YG-140902-20250501-0007"`}; !maps.Equal(got, w) {
		t.Errorf("server: the corrected check holds %v, want %v (opacity cleared)", got, w)
	}
}

// vehicleRefused taps 保存 on the roadside form and waits for the form's
// own message want, the vehicle not saved (none checked today).
func (p *phone) vehicleRefused(want string) {
	p.t.Helper()
	eval[bool](p, `(document.querySelector('#vehicle-error').textContent = '', true)`)
	p.click(`#save-vehicle`)
	p.waitJS("refused: "+want, `document.querySelector('#vehicle-error').textContent.includes('`+want+`')`)
	if got := p.text(`#vehicle-today h2`); !strings.Contains(got, "今天已检 0 辆") {
		p.t.Errorf("refused (%s), yet saved: %s", want, got)
	}
}

// TestBrowserVehicleMoreFieldsRefused: 更多检测项's inputs each have a
// visible Chinese label (their accessible name), the numbers their unit
// and range; a 不透光烟度 or 林格曼黑度 out of its range is refused on saving
// with the app's own message naming the field — the section folded away
// is opened on it — and nothing is saved; at the ends of the ranges the
// check is saved and the server takes it.
func TestBrowserVehicleMoreFieldsRefused(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	p.openMore()
	for _, in := range moreInputs {
		sel := `#vehicle-more input[data-more="` + in[0] + `"]`
		if name := p.axName(sel); !strings.Contains(name, in[1]) {
			t.Errorf("%s: accessible name %q, want one with %q", in[0], name, in[1])
		}
		// Its label shows, not only a placeholder.
		if l := eval[string](p, `[...document.querySelector('`+sel+`').labels].filter((l) => l.checkVisibility()).map((l) => l.textContent).join(' ')`); !strings.Contains(l, in[1]) {
			t.Errorf("%s: visible label %q, want one with %q", in[0], l, in[1])
		}
	}
	section := p.text(`#vehicle-more`)
	for _, w := range []string{"级", "0–5", "m⁻¹", "0–20", "1.2", "0.7"} {
		if !strings.Contains(section, w) {
			t.Errorf("更多检测项 does not show %q:\n%s", w, section)
		}
	}

	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e126"))
	refused := func(want, field string) {
		t.Helper()
		p.vehicleRefused(want)
		if n := p.count("vehicle_check", "plate", "晋H7E126"); n != 0 {
			t.Errorf("refused (%s), yet %d checks on the phone", want, n)
		}
		if f := eval[string](p, `document.activeElement?.dataset.more || ''`); f != field {
			t.Errorf("refused (%s): the focus is on %q, want %q", want, f, field)
		}
	}
	// An opacity in percent typed as k.
	p.do("opacity 45", chromedp.SendKeys(chromedp.CSS(`input[data-more="opacity"]`), "45"))
	refused("“不透光烟度”应在 0 到 20 之间", "opacity")
	p.retype(`input[data-more="opacity"]`, "1.2")
	p.do("ringelmann 6", chromedp.SendKeys(chromedp.CSS(`input[data-more="ringelmann"]`), "6"))
	// Folded away: the save opens it on the field.
	p.click(`#vehicle-more > summary`)
	p.waitJS("folded", `!document.querySelector('#vehicle-more').open`)
	refused("“林格曼黑度”应在 0 到 5 之间", "ringelmann")
	if !eval[bool](p, `document.querySelector('#vehicle-more').open`) {
		t.Error("refused for 林格曼黑度, 更多检测项 stays folded")
	}
	p.retype(`input[data-more="ringelmann"]`, "-1")
	refused("“林格曼黑度”应在 0 到 5 之间", "ringelmann")
	p.retype(`input[data-more="ringelmann"]`, "1")
	// A VIN short, or with I, O or Q, or a Chinese character (roadside
	// probe: stored as typed).
	for _, bad := range []string{"LFWSRXSJ9K", "LFWIOQSJ9K1A12345", "晋FWSRXSJ9K1A1234"} {
		p.retype(`input[data-more="vin"]`, bad)
		refused("车辆识别代号应为 17 位英文字母和数字，不含 I、O、Q", "vin")
	}
	p.retype(`input[data-more="vin"]`, "")

	// At the ends of the ranges.
	p.retype(`input[data-more="ringelmann"]`, "5")
	p.retype(`input[data-more="opacity"]`, "20")
	p.click(`#save-vehicle`)
	p.waitJS("saved at the limits", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitSynced()
	recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H7E126")
	if err != nil || len(recs) != 1 {
		t.Fatalf("server: %d checks of 晋H7E126 (%v), want 1", len(recs), err)
	}
	if got := serverValues(recs[0], "ringelmann", "opacity"); !maps.Equal(got, map[string]string{"ringelmann": "5", "opacity": "20"}) {
		t.Errorf("server: the check at the limits holds %v", got)
	}
}

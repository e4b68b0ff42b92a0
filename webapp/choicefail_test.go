package webapp_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserChoiceFails: on a checklist whose choice item has options
// that describe a violation (roadside_truck@2: a catalyst 损坏 or 已拆除),
// the field app offers the newest version, shows those options as failing
// ones, opens the item's finding when one is chosen — described by the
// option, due in the item's deadline_days — has it follow another failing
// option, and withdraws it when a passing one is chosen. The server lists
// the item in failed_items. The buttons are a group named by the item,
// each saying whether it is chosen (aria-pressed).
func TestBrowserChoiceFails(t *testing.T) {
	srv, site, p, _ := inspectorAt(t, "豆罗检查站")
	insp := p.startInspection(site.ID, "roadside_truck")
	if v := eval[int](p, `import('/app/js/app.js').then(async ({app}) => (await app.client.get('inspection', '`+insp+`')).fields.template_version)`); v != 2 {
		t.Errorf("the inspection was started on roadside_truck version %d, want the newest, 2", v)
	}
	for _, v := range []string{"damaged", "removed"} {
		if !eval[bool](p, `document.querySelector('#item-twc button[data-value="`+v+`"]').classList.contains('fail')`) {
			t.Errorf("the option %s is not shown as a failing one", v)
		}
	}
	if eval[bool](p, `document.querySelector('#item-twc button[data-value="present"]').classList.contains('fail')`) {
		t.Error("完好 is shown as a failing option")
	}

	finding := func() string {
		return eval[string](p, `import('/app/js/app.js').then(async ({app}) => JSON.stringify((await app.client.list('finding',
			(r) => r.fields.inspection_id === '`+insp+`' && r.fields.item_key === 'twc' && !r.deleted)).map((r) => r.fields.description)))`)
	}
	p.answer("twc", "removed")
	p.wait(`[data-finding-for="twc"]`)
	// A screen reader hears the item's name over its buttons, and which
	// one is chosen (a11y probe: only a colour said so).
	if got := eval[string](p, `[...document.querySelectorAll('#item-twc [role="group"][aria-label="三元催化器（燃气车）"] button')]
		.map((b) => b.dataset.value + '=' + b.getAttribute('aria-pressed')).join(' ')`); got != "present=false damaged=false removed=true unknown=false na=false" {
		t.Errorf("the item's buttons as a screen reader reads them: %q", got)
	}
	if got := finding(); got != `["三元催化器（燃气车）：已拆除"]` {
		t.Errorf("已拆除: findings %s", got)
	}
	p.answer("twc", "damaged")
	p.waitJS("damaged pressed, removed not", `document.querySelector('#item-twc button[data-value="damaged"]').getAttribute('aria-pressed') === 'true' &&
		document.querySelector('#item-twc button[data-value="removed"]').getAttribute('aria-pressed') === 'false'`)
	p.waitJS("the finding follows 损坏", `import('/app/js/app.js').then(async ({app}) => (await app.client.list('finding',
		(r) => r.fields.inspection_id === '`+insp+`' && r.fields.item_key === 'twc' && !r.deleted)).map((r) => r.fields.description).join() === '三元催化器（燃气车）：损坏')`)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	if got := field[[]string](t, get(t, srv, "inspection", insp), "failed_items"); !slices.Equal(got, []string{"twc"}) {
		t.Errorf("the server's failed_items %v, want [twc]", got)
	}
	fs, err := srv.App.DB.Find(ctx, "finding", "inspection_id", insp)
	if err != nil || len(fs) != 1 || field[string](t, fs[0], "deadline") == "" || field[string](t, fs[0], "description") != "三元催化器（燃气车）：损坏" {
		t.Fatalf("the server's findings of the inspection: %d %v", len(fs), err)
	}

	p.goHash("#/inspection/"+insp, `#item-twc button.on[data-value="damaged"]`)
	p.answer("twc", "present")
	p.waitJS("the finding withdrawn", `!document.querySelector('[data-finding-for="twc"]')`)
	if got := finding(); got != `[]` {
		t.Errorf("完好: findings %s", got)
	}
}

// TestBrowserFailedAgrees: the field app's failed and findingDescription
// (checklist.js) say what syncproto's Answer.Failed and FindingDescription
// say, for every answer of every item of every checklist version the
// server carries, with and without a note.
func TestBrowserFailedAgrees(t *testing.T) {
	srv := apptest.Start(t)
	p := newPhone(t, browserFor(t), srv.URL, "phone", geo.Point{Lon: 112.73, Lat: 38.42})
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		Item   syncproto.ChecklistItem `json:"item"`
		Answer json.RawMessage         `json:"answer"`
	}
	type verdict struct {
		Failed bool   `json:"failed"`
		Desc   string `json:"desc"`
	}
	var cases []tc
	var want []verdict
	choiceFails := 0
	for _, tp := range set.Templates {
		for _, it := range tp.Items {
			var answers []string
			switch it.Type {
			case syncproto.ItemCheck:
				answers = []string{`"pass"`, `"fail"`, `{"result":"fail"}`, `{"result":"pass"}`}
			case syncproto.ItemBoolean:
				answers = []string{`true`, `{"value":false}`}
			case syncproto.ItemChoice:
				for _, o := range it.Options {
					s, _ := json.Marshal(o.Value)
					answers = append(answers, `{"value":`+string(s)+`}`)
				}
			case syncproto.ItemNumber:
				answers = []string{`{"value":0}`}
			default:
				answers = []string{`{"value":"不合格"}`}
			}
			answers = append(answers, `{"result":"na"}`)
			for _, a := range answers {
				for _, note := range []string{"", "东侧"} {
					raw := json.RawMessage(a)
					if note != "" && a[0] == '{' {
						raw = json.RawMessage(a[:len(a)-1] + `,"note":"` + note + `"}`)
					}
					ans, err := syncproto.ParseAnswer(&it, raw)
					if err != nil {
						t.Fatalf("%s@%d %s: %s: %v", tp.ID, tp.Version, it.Key, raw, err)
					}
					cases = append(cases, tc{it, raw})
					want = append(want, verdict{ans.Failed(&it), ans.FindingDescription(&it)})
					if it.Type == syncproto.ItemChoice && ans.Failed(&it) {
						choiceFails++
					}
				}
			}
		}
	}
	if choiceFails == 0 {
		t.Fatal("no checklist has a choice option that fails")
	}
	list, _ := json.Marshal(cases)
	got := eval[[]verdict](p, `import('/app/js/checklist.js').then(({failed, findingDescription}) =>
		`+string(list)+`.map(({item, answer}) => ({failed: failed(item, answer), desc: findingDescription(item, answer)})))`)
	if len(got) != len(want) {
		t.Fatalf("%d verdicts for %d answers", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s %s: the field app says %+v, the server %+v", cases[i].Item.Key, cases[i].Answer, got[i], want[i])
		}
	}
	t.Logf("%d answers compared, %d failing choices", len(want), choiceFails)
}

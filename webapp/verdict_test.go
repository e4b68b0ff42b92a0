package webapp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserVerdictAgrees: the field app's completeness() finds the same
// contradicted verdicts as syncproto.CheckCompleteness — key, reason and
// the item contradicted, in the same order — for every item that has a
// verdict in every checklist version, each of its options (or results)
// against each answer of its verdict, unanswered included.
func TestBrowserVerdictAgrees(t *testing.T) {
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		Items   []syncproto.ChecklistItem  `json:"items"`
		Answers map[string]json.RawMessage `json:"answers"`
	}
	var cases []tc
	var want [][]syncproto.MissingItem
	for _, tp := range set.Templates {
		for _, it := range tp.Items {
			if it.Verdict == "" {
				continue
			}
			var answers []string
			for _, o := range it.Options {
				answers = append(answers, `{"value":"`+o.Value+`"}`)
			}
			switch it.Type {
			case syncproto.ItemCheck:
				answers = []string{`"fail"`, `{"result":"pass"}`}
			case syncproto.ItemNumber: // below, at and above its limit (fails_above)
				l := *it.FailsAbove
				for _, v := range []float64{max(l-1, 0), l, l + 0.5, l + 100} {
					b, _ := json.Marshal(map[string]float64{"value": v})
					answers = append(answers, string(b))
				}
				answers = append(answers, `{"result":"na"}`)
			}
			for _, a := range answers {
				for _, v := range []string{"", `"pass"`, `{"result":"na"}`, `{"result":"fail"}`} {
					c := tc{tp.Items, map[string]json.RawMessage{it.Key: json.RawMessage(a)}}
					if v != "" {
						c.Answers[it.Verdict] = json.RawMessage(v)
					}
					cases = append(cases, c)
					want = append(want, syncproto.CheckCompleteness(tp.Items, c.Answers, nil).Missing)
				}
			}
		}
	}
	if len(cases) == 0 {
		t.Fatal("no checklist has an item with a verdict")
	}
	contradicted := 0
	for _, w := range want {
		for _, m := range w {
			if m.Reason == syncproto.MissingContradicted {
				contradicted++
			}
		}
	}
	p := newPhone(t, browserFor(t), apptest.Start(t).URL, "phone", geo.Point{Lon: 112.73, Lat: 38.42})
	list, _ := json.Marshal(cases)
	got := eval[[][]syncproto.MissingItem](p, `import('/app/js/checklist.js').then(({completeness}) =>
		`+string(list)+`.map(({items, answers}) => completeness(items, answers, []).map(({key, reason, detail}) => ({key, reason, detail}))))`)
	if len(got) != len(want) {
		t.Fatalf("%d results for %d cases", len(got), len(want))
	}
	for i := range want {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("%s: the field app lacks %s, the server %s", cases[i].Answers, g, w)
		}
	}
	if contradicted == 0 {
		t.Fatal("no case contradicts its verdict")
	}
	t.Logf("%d cases compared, %d contradicted verdicts", len(want), contradicted)
}

// TestBrowserVerdictContradicted: on loose_coal@3, a stove 仍在使用 with 该户
// 无散煤燃烧 answered 合格 — a contradiction — is marked on the verdict's
// card and refuses the submit, naming it; answered 不合格, the verdict
// opens the finding and the contradiction is gone.
func TestBrowserVerdictContradicted(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区城乡结合部禁煤区·北关片")
	p.startInspection(site.ID, "loose_coal")
	p.answer("coal_stove", "in_use")
	p.answer("no_household_coal_burning", "pass")
	const said = `与“燃煤炉具：仍在使用”矛盾，应判为不合格`
	p.waitJS("the verdict's card says the contradiction", `[...document.querySelectorAll('#item-no_household_coal_burning p.warn')].some((e) => e.textContent.includes('`+said+`'))`)
	p.click(`#submit`)
	p.waitJS("the submit is refused", `document.querySelector('#insp-error')?.textContent.includes('该户无散煤燃烧（`+said+`）')`)
	// The keyboard goes to the first item to finish, not left on 提交检查.
	p.waitJS("focus on the first item to finish", `(() => { const card = document.activeElement?.closest('[data-item]');
		return !!card && card === document.querySelector('.itemcard.missing') && document.activeElement.id !== 'submit'; })()`)
	if status := eval[string](p, `document.querySelector('#inspection').dataset.status`); status != "draft" {
		t.Errorf("status %q after a refused submit", status)
	}
	p.answer("no_household_coal_burning", "fail")
	p.wait(`[data-finding-for="no_household_coal_burning"]`)
	if strings.Contains(eval[string](p, `document.querySelector('#item-no_household_coal_burning').textContent`), "矛盾") {
		t.Error("the verdict answered 不合格 still speaks of a contradiction")
	}
}

// TestBrowserNumberOverLimit: a number item with a limit (fails_above)
// says it beside the field, says a value over it is 不合格, and its
// verdict answered 合格 is then a contradiction, as a failing option's is
// (mine_restoration@1: a fire still burning while 火点已熄灭 is 合格).
func TestBrowserNumberOverLimit(t *testing.T) {
	srv := apptest.Start(t)
	mine, at := demoSite(t, srv, "宁武县东寨煤田火区治理区")
	p := newPhone(t, browserFor(t), srv.URL, "ningwu", near(at))
	p.signIn(apptest.NingwuInsp)
	insp := p.startInspection(mine.ID, "mine_restoration")
	if hint := eval[string](p, `document.querySelector('#item-fire_points_burning').textContent`); !strings.Contains(hint, "限值 0 处，超过即不合格") {
		t.Errorf("the limit is not said beside the field: %q", hint)
	}
	p.answer("fire_extinguished", "pass")
	num := `#item-fire_points_burning input[data-input]`
	p.typeIn(num, "0", `(async () => JSON.parse(await `+stored(insp, "fire_points_burning")+`).answer?.value === 0)()`)
	if eval[bool](p, `!!document.querySelector('[data-over-limit]')`) || strings.Contains(eval[string](p, `document.querySelector('#item-fire_extinguished').textContent`), "矛盾") {
		t.Error("no fire burning is said to be over the limit")
	}
	eval[bool](p, `(() => { const i = document.querySelector('`+num+`'); i.value = '2'; i.dispatchEvent(new Event('change')); return true; })()`)
	p.wait(`[data-over-limit="fire_points_burning"]`)
	p.waitJS("the verdict's card says the contradiction", `document.querySelector('#item-fire_extinguished').textContent.includes('与“现场仍在燃烧的火点数：2 处”矛盾，应判为不合格')`)
}

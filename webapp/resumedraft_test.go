package webapp_test

import (
	"strings"
	"testing"
)

// TestBrowserResumeDraft: at a site where the inspector's own draft of a
// checklist was started today, the site offers 继续填写 that draft first
// (tapping the checklist again made a second draft of the same visit);
// another may still be started (另开一次), and the site's 检查记录 name
// each inspection's checklist (a factory has six).
func TestBrowserResumeDraft(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	insp := p.startInspection(site.ID, "coal_boiler")
	p.goHash("#/site/"+site.ID, `a.resume[data-template="coal_boiler"]`)
	resume := p.text(`a.resume[data-template="coal_boiler"]`)
	if !strings.HasPrefix(resume, "继续填写：") || !strings.Contains(resume, "锅炉") || !strings.Contains(resume, "今天") || !strings.Contains(resume, "开始的草稿") {
		t.Errorf("the draft is offered as %q", resume)
	}
	if n := eval[int](p, `document.querySelectorAll('a.resume').length`); n != 1 {
		t.Errorf("%d drafts offered, want the one", n)
	}
	// First of the site's start card.
	if first := eval[string](p, `document.querySelector('#start-error').parentElement.querySelector('a, button').className`); !strings.Contains(first, "resume") {
		t.Errorf("the first control of 开始检查 is %q, want the draft", first)
	}
	if got := p.text(`button.start[data-template="coal_boiler"]`); !strings.HasPrefix(got, "另开一次：") {
		t.Errorf("the checklist's own button says %q", got)
	}
	// The inspection list names the checklist.
	if got := p.text(`a.item[href="#/inspection/` + insp + `"]`); !strings.Contains(got, "草稿") || !strings.Contains(got, "锅炉") {
		t.Errorf("the site's 检查记录 shows the draft as %q", got)
	}
	p.click(`a.resume[data-template="coal_boiler"]`)
	p.wait(`#inspection`)
	if got := eval[string](p, `document.querySelector('#inspection').dataset.id`); got != insp {
		t.Errorf("继续填写 opened %s, want the draft %s", got, insp)
	}
	// Another inspection of the same checklist may still be started.
	p.goHash("#/site/"+site.ID, `button.start[data-template="coal_boiler"]`)
	p.click(`button.start[data-template="coal_boiler"]`)
	p.wait(`#inspection`)
	if got := eval[string](p, `document.querySelector('#inspection').dataset.id`); got == insp {
		t.Error("另开一次 opened the draft instead of a new inspection")
	}
}

// TestBrowserTabOfAnInspection: an inspection is under the tab it was
// opened from — 点位 from its site, 首页 from the home screen's list —
// not always 点位 (field app probe).
func TestBrowserTabOfAnInspection(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	on := func() string { return eval[string](p, `document.querySelector('#tabs a.on')?.dataset.tab || ''`) }
	insp := p.startInspection(site.ID, "coal_boiler")
	if got := on(); got != "sites" {
		t.Errorf("an inspection started at its site is under %q, want sites", got)
	}
	p.goHash("#/", `a.item[href="#/inspection/`+insp+`"]`)
	p.click(`a.item[href="#/inspection/` + insp + `"]`)
	p.wait(`#inspection`)
	if got := on(); got != "home" {
		t.Errorf("an inspection opened from the home screen is under %q, want home", got)
	}
}

package webapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserNoteShownWhole: a text area grows to show all its text — an
// item's note of several lines, typed or drawn again from the record (a
// returned inspection's, opened later) — and back when the text is
// deleted; before, a note of six lines was read through a slot of two.
func TestBrowserNoteShownWhole(t *testing.T) {
	p, insp := startedInspection(t)
	p.answer("emergency_plan_on_site", "pass")
	note := `#item-emergency_plan_on_site textarea[data-note]`
	whole := `(() => { const t = document.querySelector('` + note + `'); return t.scrollHeight <= t.clientHeight + 1 && t.clientHeight > 100; })()`
	lines := "第一行：监控探头\n第二行\n第三行\n第四行\n第五行\n第六行：已现场核实"
	p.do("type a long note", chromedp.SendKeys(chromedp.CSS(note), lines))
	if !eval[bool](p, whole) {
		t.Errorf("while typed, the six-line note is shown in a box of %v px for %v px of text",
			eval[float64](p, `document.querySelector('`+note+`').clientHeight`), eval[float64](p, `document.querySelector('`+note+`').scrollHeight`))
	}
	eval[bool](p, `(document.querySelector('`+note+`').blur(), true)`)
	p.waitJS("the note saved", `(async () => (JSON.parse(await `+stored(insp, "emergency_plan_on_site")+`).answer?.note || '').includes('第六行'))()`)
	p.reopen()
	p.goHash("#/inspection/"+insp, note)
	if got := eval[string](p, `document.querySelector('`+note+`').value`); !strings.Contains(got, "第六行") {
		t.Fatalf("the note drawn again reads %q", got)
	}
	if !eval[bool](p, whole) {
		t.Errorf("drawn again, the six-line note is shown in a box of %v px for %v px of text",
			eval[float64](p, `document.querySelector('`+note+`').clientHeight`), eval[float64](p, `document.querySelector('`+note+`').scrollHeight`))
	}
	// Emptied, it is back to its own size.
	p.do("empty the note", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+note+`').select()`, chromedp.EvalIgnoreExceptions),
		chromedp.SendKeys(chromedp.CSS(note), "\b"))
	if h := eval[float64](p, `document.querySelector('`+note+`').offsetHeight`); h > 80 {
		t.Errorf("the emptied note's box is %v px high, want its own size", h)
	}
}

package webapp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// insertText puts text into the focused field as the phone's keyboard
// or a paste does (Input.insertText: held to maxlength, as a finger's
// paste is, where setting the value is not).
func (p *phone) insertText(sel, text string) {
	p.t.Helper()
	p.do("insert into "+sel, chromedp.Focus(chromedp.CSS(sel)), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

// TestBrowserLongPasteKept (field app probe): a note pasted past its
// limit is kept whole — the browser's maxlength cut it to the limit
// without a word, the end of the sentence lost — and leaving it says by
// how much it is too long, with nothing saved, until it is shortened;
// no field of the app is held by maxlength (which also counts a rare
// character as two, where the server counts one).
func TestBrowserLongPasteKept(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	insp := p.startInspection(site.ID, "construction_dust")
	p.answer("material_cover", "fail")
	note := `#item-material_cover textarea[data-note]`
	pasted := strings.Repeat("东侧料堆未苫盖，", 287) + "已要求施工单位整改" // 2,305 characters
	p.insertText(note, pasted)
	if got := eval[int](p, `[...document.querySelector('`+note+`').value].length`); got != len([]rune(pasted)) {
		t.Fatalf("the pasted note holds %d characters, want all %d", got, len([]rune(pasted)))
	}
	p.do("leave the note", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+note+`').dispatchEvent(new Event('change', {bubbles: true}))`))
	p.waitJS("said too long", `document.querySelector('#item-material_cover .err[data-note-err]')?.textContent.includes('“备注”最多 2000 个字，现在有 2305 个字')`)
	stored := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js'); const i = await app.client.get('inspection', '`+insp+`');
		return i.fields['answers.material_cover']?.note ?? ''; })()`)
	if stored != "" {
		t.Errorf("a note past its limit was saved (%d characters)", len([]rune(stored)))
	}
	for _, page := range []struct{ hash, sel string }{{"#/inspection/" + insp, `#summary`}, {"#/vehicle", `#vehicle-form`}, {"#/sites/new", `#site-form`}} {
		p.goHash(page.hash, page.sel)
		if n := eval[int](p, `document.querySelectorAll('#view [maxlength]').length`); n != 0 {
			t.Errorf("%s: %d fields have a maxlength", page.hash, n)
		}
	}
}

package webapp_test

import (
	"encoding/json"
	"testing"
	"unicode/utf16"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// paste puts text into the field sel at its caret, as a paste or the
// keyboard does (an input event), and returns the field's value and
// caret after it.
func (p *phone) paste(sel, text string) (string, int) {
	p.t.Helper()
	quoted, _ := json.Marshal(text)
	got := eval[struct {
		Value string `json:"value"`
		At    int    `json:"at"`
	}](p, `(() => { const el = document.querySelector('`+sel+`'); el.focus();
		document.execCommand('insertText', false, `+string(quoted)+`);
		return {value: el.value, at: el.selectionStart}; })()`)
	return got.Value, got.At
}

// TestBrowserPastedHiddenCharacters: text pasted with characters no one
// sees — a direction override, a zero-width space, a control character,
// as chats and web pages carry — loses them as it arrives, a note by the
// server's rule for notes (line breaks and tabs stay) and without the
// spacers no search sees through (a zero-width space inside a phone
// number; an emoji's joiner stays), a one-line field by the rule for
// names; the caret stays after what was pasted; the
// record reaches the server as shown, not refused. (A pasted U+202E was
// saved, and the server refused the whole roadside check.)
func TestBrowserPastedHiddenCharacters(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	for _, c := range []struct{ sel, paste, want string }{
		{`input[name="checkpoint"]`, "豆罗\u200b检查站\u202e", "豆罗检查站"},
		{`input[name="campaign"]`, "冬季\t专项\u0007", "冬季专项"},
		{`textarea[name="note"]`, "驾驶员\u202e称\u2066刚\u2069维修\x00过\n\t尾气处理\ufffe装置，电话138\u200b0000\u20601234\ufeff 👨\u200d🔧", "驾驶员称刚维修过\n\t尾气处理装置，电话13800001234 👨\u200d🔧"},
	} {
		value, at := p.paste(c.sel, c.paste)
		if value != c.want {
			t.Errorf("%s after pasting %q reads %q, want %q", c.sel, c.paste, value, c.want)
		}
		if n := len(utf16.Encode([]rune(c.want))); at != n { // a browser counts UTF-16 units
			t.Errorf("%s: the caret at %d after the paste, want at the end (%d characters)", c.sel, at, n)
		}
	}
	// Pasted in the middle, the caret stays after what was pasted.
	p.paste(`input[name="plate"]`, "H30272")
	eval[bool](p, `(() => { const el = document.querySelector('input[name="campaign"]'); el.setSelectionRange(2, 2); return true; })()`)
	if value, at := p.paste(`input[name="campaign"]`, "\u202d柴油\u200b货车"); value != "冬季柴油货车专项" || at != 6 {
		t.Errorf("campaign after a paste in the middle: %q, caret at %d; want 冬季柴油货车专项, caret at 6", value, at)
	}
	p.click(`[data-field="fuel"] button[data-value="diesel"]`)
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)

	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitSynced()
	recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H30272")
	if err != nil || len(recs) != 1 {
		t.Fatalf("server: %d vehicle checks for 晋H30272 (%v)", len(recs), err)
	}
	for k, want := range map[string]string{"checkpoint": "豆罗检查站", "campaign": "冬季柴油货车专项", "note": "驾驶员称刚维修过\n\t尾气处理装置，电话13800001234 👨\u200d🔧"} {
		if got := recs[0].Text(k); got != want || !syncproto.FreeText(got) {
			t.Errorf("server: vehicle_check.%s = %q, want %q", k, got, want)
		}
	}
	if got := eval[int](p, `(async () => { const {app} = await import('/app/js/app.js'); return (await app.client.rejected()).length; })()`); got != 0 {
		t.Errorf("%d records refused", got)
	}
}

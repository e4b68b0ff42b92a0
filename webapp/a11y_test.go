package webapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserKeyboardInspection: an inspector answering with the keyboard
// (or a screen reader) keeps the focus on the answer given when the page
// is drawn again by its save — it went to the page's top at each item
// (a11y probe); a screen says what it is in the title and takes the focus
// on its heading when opened; the current tab says so (aria-current); the
// camera button names its item; an item's error is an alert.
func TestBrowserKeyboardInspection(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.startInspection(site.ID, "coal_boiler")
	if got := eval[string](p, `document.title`); !strings.HasSuffix(got, " · 巡查") || got == " · 巡查" {
		t.Errorf("the inspection's title %q, want its heading · 巡查", got)
	}
	if got := eval[string](p, `document.activeElement.tagName`); got != "H1" {
		t.Errorf("an inspection opened: the focus is on %s, want its heading", got)
	}
	if got := eval[string](p, `document.querySelector('#tabs a.on')?.getAttribute('aria-current') || ''`); got != "page" {
		t.Errorf("the current tab's aria-current is %q", got)
	}
	key := eval[string](p, `document.querySelector('.itemcard button[data-value="fail"]').closest('[id^="item-"]').id.slice(5)`)
	btn := `#item-` + key + ` button[data-value="fail"]`
	p.do("focus 不合格", chromedp.Focus(chromedp.CSS(btn)))
	p.do("press Space", chromedp.KeyEvent(" "))
	p.wait(btn + `.on`)
	p.waitJS("the focus back on the answer given", `document.activeElement === document.querySelector('`+btn+`')`)
	p.do("press Tab", chromedp.KeyEvent(kb.Tab))
	if got := eval[string](p, `document.activeElement.closest('[id^="item-"]')?.id || document.activeElement.tagName`); got != "item-"+key {
		t.Errorf("Tab after answering went to %s, want on within item-%s", got, key)
	}
	if got := eval[string](p, `document.querySelector('#item-`+key+` .camera input[type=file]')?.getAttribute('aria-label') || ''`); !strings.HasPrefix(got, "拍照：") || got == "拍照：" {
		t.Errorf("the item's camera button is named %q, want 拍照 and the item", got)
	}
	if got := eval[string](p, `document.querySelector('#item-`+key+` p.err')?.getAttribute('role') || ''`); got != "alert" {
		t.Errorf("the item's error has role %q, want alert", got)
	}
	if got := eval[string](p, `document.querySelector('.itemcard .req + .sr-only')?.textContent || ''`); got != "（必填）" {
		t.Errorf("a required item's star is read as %q, want （必填）", got)
	}
}

// TestBrowserSyncNowKeepsFocus: 立即同步 pressed from the keyboard has the
// focus again once its sync ends (the card drawn again had left the
// focus on the page's body: a11y probe).
func TestBrowserSyncNowKeepsFocus(t *testing.T) {
	_, _, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.goHash("#/", `#sync-now:not([disabled])`)
	p.do("focus 立即同步", chromedp.Focus(chromedp.CSS(`#sync-now`)))
	p.do("press Enter", chromedp.KeyEvent(kb.Enter))
	p.waitJS("the focus back on 立即同步 after the sync", `document.activeElement?.id === 'sync-now' && !document.activeElement.disabled && document.activeElement.textContent === '立即同步'`)
}

package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserKeysAfterZoom: once a photo is zoomed (its hidden checkbox
// toggled, and focused), → and Esc still move and close the lightbox.
func TestBrowserKeysAfterZoom(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	first, second := addPhoto(t, srv, insp, apptest.Xinfu), addPhoto(t, srv, insp, apptest.Xinfu)
	b := newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	shown := func(id string) bool {
		return b.eval("lightbox", `getComputedStyle(document.getElementById('lb-`+id+`')).display !== 'none' ? 1 : 0`) == 1
	}
	// Two photos: the next of either is the other.
	at, other := first, second
	b.do("open", chromedp.Click(chromedp.CSS(`a.lb-open[href="#lb-`+at+`"]`)))
	if !shown(at) {
		t.Fatal("the lightbox did not open")
	}
	b.do("zoom", chromedp.Click(chromedp.CSS(`#lb-`+at+` label.lb-zoom`)))
	if b.eval("zoomed and focused", `(() => { const z = document.getElementById('zoom-`+at+`'); z.focus(); return z.checked && document.activeElement === z ? 1 : 0; })()`) != 1 {
		t.Fatal("the zoom checkbox is not checked and focused")
	}
	b.do("→", chromedp.KeyEvent(kb.ArrowRight))
	if !shown(other) || shown(at) {
		t.Errorf("→ after zooming did not move to the other photo")
	}
	b.do("Esc", chromedp.KeyEvent(kb.Escape))
	if shown(other) {
		t.Errorf("Esc did not close the lightbox")
	}
}

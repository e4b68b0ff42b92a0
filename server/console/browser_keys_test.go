package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// twoPhotoPage opens, as the county office, the page of an inspection
// with two photos, and returns their ids.
func twoPhotoPage(t *testing.T) (b *chrome, first, second string) {
	t.Helper()
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	first, second = addPhoto(t, srv, insp, apptest.Xinfu), addPhoto(t, srv, insp, apptest.Xinfu)
	b = newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	return b, first, second
}

// TestBrowserKeysAfterZoom: once a photo is zoomed (its hidden checkbox
// toggled, and focused), → and Esc still move and close the lightbox.
func TestBrowserKeysAfterZoom(t *testing.T) {
	b, first, second := twoPhotoPage(t)
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

// TestBrowserLightboxHistory: opening the lightbox is one history entry;
// its steps (keys or links, previous, next, close) are not, so Back from
// a lightbox paged through leaves it for the page, and Back from the page
// leaves the page.
func TestBrowserLightboxHistory(t *testing.T) {
	b, first, second := twoPhotoPage(t)
	entries := func() int { return b.eval("history", `history.length`) }
	base := entries()
	b.do("open", chromedp.Click(chromedp.CSS(`a.lb-open[href="#lb-`+first+`"]`)))
	b.do("→", chromedp.KeyEvent(kb.ArrowRight))
	b.do("next link", chromedp.Click(chromedp.CSS(`#lb-`+second+` a.lb-next`)))
	b.do("previous link", chromedp.Click(chromedp.CSS(`#lb-`+first+` a.lb-prev`)))
	if n := entries(); n != base+1 {
		t.Errorf("%d history entries after opening the lightbox and three steps, want %d (the opening alone)", n, base+1)
	}
	if b.eval("at", `location.hash === '#lb-`+second+`' ? 1 : 0`) != 1 {
		t.Fatal("the steps did not move the lightbox")
	}
	b.do("back", chromedp.NavigateBack())
	if b.eval("closed", `location.hash === '' && location.pathname.startsWith('/console/inspections/') ? 1 : 0`) != 1 {
		t.Errorf("Back from the lightbox did not return to the page")
	}
}

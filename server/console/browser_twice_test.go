package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserFormSentOnce: a double click on 审核通过 of a complete
// inspection without flags sends the form once, without asking (forms.js
// disables its buttons once it is on its way). The page counts the
// submissions that would leave it, and keeps it, to look.
func TestBrowserFormSentOnce(t *testing.T) {
	srv := apptest.Start(t)
	insp := pushIn(t, srv.Login(apptest.Inspector), apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	b := newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	b.do("approve button", chromedp.WaitVisible(chromedp.CSS(`form.approve button`)))
	// A listener on window runs after forms.js's on the document. A
	// question asked is answered yes, and kept, to fail on.
	b.eval("count submissions", `window.sent = 0; window.asked = ''; window.confirm = (q) => { window.asked = q; return true; };
		window.addEventListener('submit', (e) => { if (!e.defaultPrevented) window.sent++; e.preventDefault(); }); 0`)
	b.do("double click", chromedp.DoubleClick(chromedp.CSS(`form.approve button`)))
	b.do("second click", chromedp.Click(chromedp.CSS(`form.approve button`)))
	if n := b.eval("submissions", `window.sent`); n != 1 {
		t.Errorf("the approval was sent %d times", n)
	}
	if asked := b.eval("asked", `window.asked.length`); asked != 0 {
		t.Errorf("the approval of a clean inspection asked a question")
	}
	// forms.js disables it just after the submission (so that the
	// submission carries the button): waited for, not read at once (under
	// a full suite's load the read came first).
	b.do("the approve button disabled once sent", chromedp.Poll[chromedp.Void](`document.querySelector('form.approve button').disabled`))
}

// TestBrowserApproveFlaggedAsks: 审核通过 of an inspection whose photos
// carry evidence flags (and items are missing) asks first (the inspector's-day probe approved six
// flagged photos with one tap); declined, nothing is sent; one without
// flags is sent at once (TestBrowserFormSentOnce).
func TestBrowserApproveFlaggedAsks(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	addPhoto(t, srv, insp, apptest.Xinfu)
	b := newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	b.do("approve button", chromedp.WaitVisible(chromedp.CSS(`form.approve button`)))
	b.eval("count submissions and questions", `window.sent = 0; window.asked = ''; window.answer = false;
		window.confirm = (q) => { window.asked = q; return window.answer; };
		window.addEventListener('submit', (e) => { if (!e.defaultPrevented) window.sent++; e.preventDefault(); }); 0`)
	b.do("approve, declined", chromedp.Click(chromedp.CSS(`form.approve button`)))
	if n := b.eval("sent", `window.sent`); n != 0 {
		t.Errorf("a declined approval was sent")
	}
	if ok := b.eval("asked", `window.asked.includes('1 张照片带证据标记') && window.asked.includes('项缺项') ? 1 : 0`); ok != 1 {
		t.Errorf("the approval did not ask about the flagged photo and the missing items")
	}
	b.eval("answer yes", `window.answer = true; 0`)
	b.do("approve, confirmed", chromedp.Click(chromedp.CSS(`form.approve button`)))
	if n := b.eval("sent", `window.sent`); n != 1 {
		t.Errorf("the confirmed approval was sent %d times", n)
	}
}

package webapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSaveDuringSyncSentByTheNext: a roadside check saved while a
// sync runs, past its push, is sent by a sync that starts as that one
// ends, not the minute's next: the save's ask for a sync got the running
// one, and a refused change reapplied, a submission, a vehicle saved
// waited on the phone up to a minute (a field-app test took 64 s for
// it, where it takes 10).
func TestBrowserSaveDuringSyncSentByTheNext(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	p.setOffline(false)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); await app.sync(false); return true; })()`)
	// The next sync stops at its pull (its push done) until released; the
	// syncs the app asks for are kept, to see what each did.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		window.__hold = new Promise((r) => { window.__release = r; });
		const f = window.fetch;
		window.fetch = async (input, init) => {
			if (window.__hold && String(input.url ?? input).includes('/api/v1/sync/pull')) {
				const h = window.__hold; window.__hold = null; window.__atPull = true; await h;
			}
			return f(input, init);
		};
		const sync = app.sync;
		window.__asked = [];
		app.sync = (manual) => { const s = sync(manual); window.__asked.push(s); return s; };
		window.__running = app.sync(true);
		return true; })()`)
	p.waitJS("the sync at its pull", `window.__atPull === true`)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H24680"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `window.__asked.length === 2`)
	got := eval[string](p, `(async () => { window.__release();
		const [first, next] = await Promise.all([window.__running, window.__asked[1]]);
		return [first.pushed, next.pushed, next.error?.code ?? '', window.__asked[1] === window.__running].join(' '); })()`)
	if got != "0 1  false" {
		t.Errorf("pushed by the running sync, by the one the save asked for, its error, the same promise: %q, want \"0 1  false\" (the next pushes the save)", got)
	}
	checks, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H24680")
	if err != nil || len(checks) != 1 {
		t.Errorf("on the server once the save's sync ends: %d checks of 晋H24680 (%v), want 1", len(checks), err)
	}
}

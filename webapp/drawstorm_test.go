package webapp_test

import "testing"

// TestBrowserDrawsWhileAskedAgain: a page asked to draw again while each
// draw is under way (a tap saving, a sync ending, as 知道了 tapped again
// and again did) still changes. Each draw used to be dropped when a newer
// one had begun, so a page drawn more slowly than the requests came never
// changed until they stopped. Here every draw, as it begins, asks for
// another (its tab marked current asks, through a mutation observer,
// after the current task): the inspector goes to 点位 and then 路检路查,
// and each page shows while the requests go on.
func TestBrowserDrawsWhileAskedAgain(t *testing.T) {
	_, _, p, _ := inspectorAt(t, "豆罗检查站")
	p.wait(`#sync-card`)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		window.askedAgain = 0;
		window.storm = new MutationObserver(() => setTimeout(() => { window.askedAgain++; app.render(); }, 0));
		window.storm.observe(document.getElementById('tabs'), { subtree: true, attributeFilter: ['aria-current'] });
		app.render();
		return true; })()`)
	for _, step := range []struct{ hash, sel string }{
		{"#/sites", `#site-list`},
		{"#/vehicle", `#vehicle-form`},
		{"#/", `#sync-card`},
	} {
		before := eval[int](p, `window.askedAgain`)
		p.goHash(step.hash, step.sel)
		// The page came while draws were asked for: at least the one its
		// own draw asked (the draw before, of the last page, asked one too).
		if asked := eval[int](p, `window.askedAgain`) - before; asked < 1 {
			t.Fatalf("%s drawn with no draw asked meanwhile (%d): the test did not overtake any draw", step.hash, asked)
		}
	}
	eval[bool](p, `(window.storm.disconnect(), true)`)
}

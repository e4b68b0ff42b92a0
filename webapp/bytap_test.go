package webapp_test

import "testing"

// TestBrowserTapDuringAutoSync: 立即同步 asked while an automatic sync
// runs is answered by that sync — its toast, and the look for a new
// version of the app — instead of being dropped as a sync already
// running (TestBrowserOpenAppLearnsOfUpgrade waited for an upgrade a tap
// at that moment never looked for).
func TestBrowserTapDuringAutoSync(t *testing.T) {
	_, _, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const c = app.client; const orig = c.sync.bind(c);
		window.__toasts = [];
		new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) window.__toasts.push(n.textContent); })
			.observe(document.getElementById('toast'), { childList: true });
		const gate = new Promise((r) => { window.__release = r; });
		c.sync = async (o) => { window.__held = true; await gate; return orig(o); };
		return true; })()`)
	// An automatic sync starts (the app comes back to the screen) and is
	// held; the inspector asks for one meanwhile.
	eval[bool](p, `(document.dispatchEvent(new Event('visibilitychange')), true)`)
	p.waitJS("the automatic sync held", `window.__held === true`)
	eval[bool](p, `import('/app/js/app.js').then(({app}) => { app.sync(true); return true; })`)
	eval[bool](p, `(window.__release(), true)`)
	p.waitJS("the tap answered", `window.__toasts.includes('同步完成')`)
}

package webapp_test

import (
	"strings"
	"testing"
)

// TestBrowserRecordsAheadOfNow: records the inspector saved while the
// phone's clock ran fast (set a day ahead, offline) are named on the home
// screen once the app's clock is right, with how far ahead they are and
// what to do: a roadside check dated tomorrow was in no list of the app
// (clock probe), counted on a later day unknown to the crew. A record a
// few minutes ahead (clocks differ a little) is not.
func TestBrowserRecordsAheadOfNow(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.setOffline(false)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		const { now, chinaTime } = await import('/app/js/ui.js');
		const site = (await app.client.list('site', (s) => s.fields.name === '豆罗检查站'))[0];
		await app.client.save('vehicle_check', crypto.randomUUID(), { county: '140902', plate: '晋H77889', checkpoint: '豆罗检查站',
			emission_stage: 'cn6', fuel: 'natural_gas', aftertreatment: 'present', checked_at: chinaTime(now() + 20 * 3600e3) });
		await app.client.save('vehicle_check', crypto.randomUUID(), { county: '140902', plate: '晋H77890', checkpoint: '豆罗检查站',
			emission_stage: 'cn6', fuel: 'natural_gas', aftertreatment: 'present', checked_at: chinaTime(now() + 3 * 60e3) });
		await app.client.save('inspection', crypto.randomUUID(), { site_id: site.id, template_id: 'coal_yard', template_version: 1,
			status: 'draft', started_at: chinaTime(now() + 5 * 3600e3) });
		return true; })()`)
	p.click(`#tabs a[data-tab="home"]`)
	// The card as the last save leaves it (a draw behind for a second
	// shows the saves so far: ci-local, under load).
	p.waitJS("the card with both", `(document.querySelector('#ahead')?.textContent || '').includes('时间晚于现在的记录（2）')`)
	card := p.text(`#ahead`)
	for _, want := range []string{"时间晚于现在的记录（2）", "晋H77889", "比现在晚约 20 小时", "比现在晚约 5 小时", "自动设置日期和时间", "告诉督查室"} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "晋H77890") {
		t.Errorf("a check 3 minutes ahead is listed:\n%s", card)
	}
	p.shot("app-home-ahead.png")
}

package webapp_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserStartOrder: a site's checklists begin with those it was
// inspected with, the latest used first and marked 上次检查所用 (a factory
// has six to choose from); the others keep their order. Another
// inspector's draft, which may never be sent, does not count; a checklist
// used here that does not fit the site (not offered) does not take the
// mark from the one that does.
func TestBrowserStartOrder(t *testing.T) {
	srv, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	const shown = `[...document.querySelectorAll('button.start')].map((b) => b.dataset.template)`
	const marked = `[...document.querySelectorAll('button.start .last-used')].map((m) => m.closest('button').dataset.template + m.textContent)`
	p.goHash("#/site/"+site.ID, `button.start`)
	before := eval[[]string](p, shown)
	if len(before) < 6 {
		t.Fatalf("a factory offers %v, want its six checklists", before)
	}
	// Another inspector: a draft with the last checklist offered, then a
	// submitted inspection with the one before it, then a later one with
	// a checklist for roads (flagged site_kind on the server).
	other := srv.Login(apptest.Inspector2)
	at := func(ago time.Duration) string { return time.Now().Add(-ago).Format(time.RFC3339) }
	visit := func(template, status string, ago time.Duration) syncproto.Mutation {
		return apptest.Mut(other, syncproto.EntityInspection, uuid.NewString(), apptest.Fields("site_id", site.ID, "template_id", template,
			"template_version", set.LatestTemplate(template).Version, "status", status, "started_at", at(ago)))
	}
	last, second := before[len(before)-1], before[len(before)-2]
	apptest.PushApplied(t, other, visit(last, "draft", time.Hour), visit(second, "submitted", 3*time.Hour), visit("road_dust", "submitted", 2*time.Hour))
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	p.goHash("#/site/"+site.ID, `button.start .last-used`)
	after := eval[[]string](p, shown)
	if rest := slices.DeleteFunc(slices.Clone(before), func(id string) bool { return id == second }); after[0] != second || !slices.Equal(after[1:], rest) {
		t.Errorf("after another inspector's inspection with %s (and a draft with %s) the site offers %v, want %s first, then %v", second, last, after, second, rest)
	}
	if m := eval[[]string](p, marked); !slices.Equal(m, []string{second + "（上次检查所用）"}) {
		t.Errorf("marked %v, want %s (a road's checklist used here is not offered)", m, second)
	}
	// Another inspector's draft is not offered to go on with.
	if n := eval[int](p, `document.querySelectorAll('a.resume').length`); n != 0 {
		t.Errorf("another inspector's draft is offered to go on with (%d)", n)
	}

	// This phone's own inspection, submitted, comes first and is marked.
	p.startInspection(site.ID, last)
	eval[bool](p, `import('/app/js/app.js').then(({app}) => app.client.save('inspection', document.querySelector('#inspection').dataset.id, {status: 'submitted'})).then(() => true)`)
	p.goHash("#/site/"+site.ID, `button.start[data-template="`+last+`"] .last-used`)
	if got := eval[[]string](p, shown); got[0] != last || got[1] != second {
		t.Errorf("after an inspection with %s the site offers %v, want it first, then %s", last, got, second)
	}
	if m := eval[[]string](p, marked); !slices.Equal(m, []string{last + "（上次检查所用）"}) {
		t.Errorf("marked %v, want only %s", m, last)
	}
}

package webapp_test

import (
	"slices"
	"testing"
)

// TestBrowserStartOrder: a site's checklists begin with those it was
// inspected with, the latest used first and marked 上次使用 (a factory
// has six to choose from); the others keep their order.
func TestBrowserStartOrder(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	const shown = `[...document.querySelectorAll('button.start')].map((b) => b.dataset.template)`
	p.goHash("#/site/"+site.ID, `button.start`)
	before := eval[[]string](p, shown)
	if len(before) < 6 {
		t.Fatalf("a factory offers %v, want its six checklists", before)
	}
	last := before[len(before)-1] // never used here, or used the longest ago
	p.startInspection(site.ID, last)
	p.goHash("#/site/"+site.ID, `button.start .last-used`)
	after := eval[[]string](p, shown)
	if after[0] != last {
		t.Errorf("after an inspection with %s the site offers %v, want it first", last, after)
	}
	if rest := slices.DeleteFunc(slices.Clone(before), func(id string) bool { return id == last }); !slices.Equal(after[1:], rest) {
		t.Errorf("the other checklists are offered as %v, want %v as before", after[1:], rest)
	}
	marks := eval[[]string](p, `[...document.querySelectorAll('button.start .last-used')].map((m) => m.closest('button').dataset.template + m.textContent)`)
	if !slices.Equal(marks, []string{last + "（上次使用）"}) {
		t.Errorf("marked %v, want only %s as 上次使用", marks, last)
	}
}

package webapp_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"unicode"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserBlankAgrees: the field app's check of a text answer (blank in
// checklist.js) calls blank every character the server's syncproto.Blank
// does — an answer the phone took as given is not one the server counts
// missing — and no printing character (a letter, digit, punctuation or
// symbol of the Unicode the server knows) blank.
func TestBrowserBlankAgrees(t *testing.T) {
	srv := apptest.Start(t)
	p := newPhone(t, browserFor(t), srv.URL, "phone", geo.Point{Lon: 112.73, Lat: 38.42})
	var blank, printing []int
	for r := rune(0); r <= 0x3FFFF; r++ {
		switch {
		case r >= 0xD800 && r <= 0xDFFF:
		case r > 0xFFFF && unicode.In(r, unicode.Mn, unicode.Me):
			// Marks of historic scripts, some of which later Unicode
			// versions than Go's (or the browser's) call spacing marks.
		case syncproto.Blank(string(r)):
			blank = append(blank, int(r))
		case unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S):
			printing = append(printing, int(r))
		}
	}
	if len(blank) < 100 || !slices.Contains(blank, 0x200b) || !slices.Contains(blank, 0x301) {
		t.Fatalf("the server's blank characters: %d, missing U+200B or U+0301", len(blank))
	}
	// Each character alone, and in a text with spaces around it.
	js := func(cps []int) string {
		list, _ := json.Marshal(cps)
		return fmt.Sprintf(`(async () => { const {blank} = await import('/app/js/checklist.js');
			return %s.filter((c) => { const s = String.fromCodePoint(c); return blank(s) && blank(' ' + s + '\u3000'); }); })()`, list)
	}
	if got := eval[[]int](p, js(blank)); len(got) != len(blank) {
		var not []string
		for _, c := range blank {
			if !slices.Contains(got, c) {
				not = append(not, fmt.Sprintf("U+%04X", c))
			}
		}
		t.Errorf("the field app takes as text %d characters the server calls blank: %v", len(not), not)
	}
	if got := eval[[]int](p, js(printing)); len(got) != 0 {
		t.Errorf("the field app calls blank %d printing characters, e.g. U+%04X", len(got), got[0])
	}
	if !eval[bool](p, `import('/app/js/checklist.js').then(({blank}) => !blank('e\u0301') && blank('') && !blank('中'))`) {
		t.Error("blank('e\\u0301'), blank(''), blank('中') wrong")
	}
}

// TestBrowserSpellingsAgree: the field app spells a plate and a checkpoint
// as the server stores them (normPlate and labelKey in vehicle.js against
// server.CanonicalPlate and server.CanonicalLabel), so that the check it
// keeps and the one asked about again are the server's.
func TestBrowserSpellingsAgree(t *testing.T) {
	srv := apptest.Start(t)
	p := newPhone(t, browserFor(t), srv.URL, "phone", geo.Point{Lon: 112.73, Lat: 38.42})
	plates := []string{"晋H30272", "晋h 30272", "晋Ｈ·３０２７２", "晋H−12345", "晋H‒12345", "晋H﹣12345", "晋H－12345", "晋H･12345",
		"晋H∙12345", "晋H.1234挂", "lfv2a21k-5831", "晋H\u300030272", "晋H\u00a030272"}
	labels := []string{"g108检查站", "ｇ１０８检查站 s45", " G108检查站\u2006", "忻州北  （东）\u3000收费站", "Café检查站", "Cafe\u0301检查站",
		"ＣＡＦÉ检查站", "\uF900检查站", "ωmega 站", "2026年秋冬季 obd 专项"}
	type pair struct{ Plates, Labels []string }
	list, _ := json.Marshal(pair{plates, labels})
	got := eval[pair](p, `(async () => { const {normPlate, labelKey} = await import('/app/js/views/vehicle.js');
		const in_ = `+string(list)+`; return {Plates: in_.Plates.map(normPlate), Labels: in_.Labels.map(labelKey)}; })()`)
	if len(got.Plates) != len(plates) || len(got.Labels) != len(labels) {
		t.Fatalf("the field app spelt %d plates and %d checkpoints of %d and %d", len(got.Plates), len(got.Labels), len(plates), len(labels))
	}
	for i, in := range plates {
		if want := server.CanonicalPlate(in); got.Plates[i] != want {
			t.Errorf("plate %+q: the field app spells it %+q, the server %+q", in, got.Plates[i], want)
		}
	}
	for i, in := range labels {
		if want := server.CanonicalLabel(in); got.Labels[i] != want {
			t.Errorf("checkpoint %+q: the field app spells it %+q, the server %+q", in, got.Labels[i], want)
		}
	}
}

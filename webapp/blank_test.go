package webapp_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"unicode"

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

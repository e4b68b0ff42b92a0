package server

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSearchSpellings(t *testing.T) {
	for in, want := range map[string][]string{
		"晋H30272":    {"晋H30272", "晋Ｈ３０２７２", "晋ｈ３０２７２"},
		" 晋h 30272 ": {"晋h 30272", "晋Ｈ ３０２７２", "晋ｈ ３０２７２", "晋H30272", "晋Ｈ３０２７２", "晋ｈ３０２７２"},
		"晋H·D1234":   {"晋H·D1234", "晋Ｈ·Ｄ１２３４", "晋ｈ·ｄ１２３４", "晋HD1234", "晋ＨＤ１２３４", "晋ｈｄ１２３４"},
		"晋H-3027挂":   {"晋H-3027挂", "晋Ｈ-３０２７挂", "晋ｈ-３０２７挂", "晋H3027挂", "晋Ｈ３０２７挂", "晋ｈ３０２７挂"},
		"晋Ｈ３０２７２":    {"晋Ｈ３０２７２", "晋H30272", "晋ｈ３０２７２"},
		"忻府区 秦城":     {"忻府区 秦城"}, // not a plate: spaces kept
		"东侧料堆裸露":     {"东侧料堆裸露"},
		" ":          nil,
	} {
		if got := SearchSpellings(in); !slices.Equal(got, want) {
			t.Errorf("SearchSpellings(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalLabel(t *testing.T) {
	for in, want := range map[string]string{
		"G108检查站":            "G108检查站",
		"g108检查站":            "G108检查站",
		"ｇ１０８检查站 s45":        "G108检查站 S45",
		"Ｇ１０８检查站":            "G108检查站",
		" G108检查站\u2006":     "G108检查站",
		"\u3000五台山检查站\u00a0": "五台山检查站",
		"忻州北  （东）\u3000收费站":  "忻州北 （东） 收费站",
		"2026年秋冬季 OBD 专项":    "2026年秋冬季 OBD 专项",
		"":                   "",
		"\u2009":             "",
	} {
		if got := CanonicalLabel(in); got != want {
			t.Errorf("CanonicalLabel(%q) = %q, want %q", in, got, want)
		}
		if got := CanonicalLabel(want); got != want {
			t.Errorf("CanonicalLabel(%q) = %q: the canonical spelling changed", want, got)
		}
	}
}

func TestCanonicalPlate(t *testing.T) {
	for in, want := range map[string]string{
		"晋H30272":       "晋H30272",
		"晋h30272":       "晋H30272",
		"晋Ｈ３０２７２":       "晋H30272",
		"晋H\u300030272": "晋H30272",
		"晋H.30272":      "晋H30272",
		"晋H1234挂":       "晋H1234挂",
		"lfv2a21k 5831": "LFV2A21K5831",
		"·-":            "",
	} {
		if got := CanonicalPlate(in); got != want {
			t.Errorf("CanonicalPlate(%q) = %q, want %q", in, got, want)
		}
		if got := CanonicalPlate(want); got != want {
			t.Errorf("CanonicalPlate(%q) = %q: the canonical spelling changed", want, got)
		}
	}
}

// TestLabelSpacesAreZs: the spaces SQL trims from a stored label are the
// spaces CanonicalLabel removes, Unicode's space separators.
func TestLabelSpacesAreZs(t *testing.T) {
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.Is(unicode.Zs, r) {
			n++
			if !strings.ContainsRune(LabelSpaces, r) {
				t.Errorf("LabelSpaces lacks %U", r)
			}
		}
	}
	if got := utf8.RuneCountInString(LabelSpaces); got != n {
		t.Errorf("LabelSpaces has %d characters, Zs %d", got, n)
	}
}

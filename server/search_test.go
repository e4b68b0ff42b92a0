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
		"晋H-3027挂":   {"晋H-3027挂", "晋Ｈ－３０２７挂", "晋ｈ－３０２７挂", "晋H3027挂", "晋Ｈ３０２７挂", "晋ｈ３０２７挂"},
		"晋Ｈ３０２７２":    {"晋Ｈ３０２７２", "晋H30272", "晋ｈ３０２７２"},
		"忻府区 秦城":     {"忻府区 秦城"}, // not a plate: spaces kept
		"东侧料堆裸露":     {"东侧料堆裸露"},
		" ":          nil,
		// Full-width punctuation and the ideographic space as ASCII, and
		// back; what prints nothing, and runs of spaces, left out (the
		// search probe: each found nothing).
		"１００％":                     {"１００％", "100%"},
		"100%":                     {"100%", "１００％"},
		"改名工地\u3000RENAMED":        {"改名工地 RENAMED", "改名工地 ＲＥＮＡＭＥＤ", "改名工地 ｒｅｎａｍｅｄ"},
		"\u200fPRO\u200bBEX\u200e": {"PROBEX", "ＰＲＯＢＥＸ", "ｐｒｏｂｅｘ"},
		"忻府区\u3000 探针路":            {"忻府区 探针路"},
		"\u200b":                   nil,
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
		"ｇ１０８检查站 s45":        "G108检查站S45",
		"Ｇ１０８检查站":            "G108检查站",
		" G108检查站\u2006":     "G108检查站",
		"\u3000五台山检查站\u00a0": "五台山检查站",
		"忻州北  （东）\u3000收费站":  "忻州北（东）收费站",
		"2026年秋冬季 OBD 专项":    "2026年秋冬季OBD专项",
		// A space next to a Chinese character, as an IME types it, is
		// none; between two other words it is one.
		"秦城 检查站":      "秦城检查站",
		"秦城\u3000检查站": "秦城检查站",
		"G108 检查站":    "G108检查站",
		"S316  K12":   "S316 K12",
		"国道 G5 检查站":   "国道G5检查站",
		"忻州北 · 收费站":   "忻州北·收费站",
		"忻州北 ，收费站":    "忻州北，收费站",
		"":            "",
		"\u2009":      "",
		// One place however its letters were typed: any letter's case,
		// an accent composed or not, a compatibility ideograph.
		"Café检查站":       "CAFÉ检查站",
		"Cafe\u0301检查站": "CAFÉ检查站",
		"ＣＡＦÉ检查站":       "CAFÉ检查站",
		"\uF900检查站":     "\u8C48检查站",
		"Ωmega 站":       "ΩMEGA站",
		"Ωmega  x":      "ΩMEGA X",
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
		// Every dash and dot a keyboard offers between a plate's parts.
		"晋H−12345": "晋H12345", "晋H‒12345": "晋H12345", "晋H―12345": "晋H12345", "晋H﹣12345": "晋H12345",
		"晋H－12345": "晋H12345", "晋H⸺12345": "晋H12345", "晋H･12345": "晋H12345", "晋H∙12345": "晋H12345", "晋H⋅12345": "晋H12345",
	} {
		if got := CanonicalPlate(in); got != want {
			t.Errorf("CanonicalPlate(%q) = %q, want %q", in, got, want)
		}
		if got := CanonicalPlate(want); got != want {
			t.Errorf("CanonicalPlate(%q) = %q: the canonical spelling changed", want, got)
		}
	}
}

// TestCanonicalIdempotent: a canonical spelling is its own, for every
// character alone and between letters (Format.Canon's contract).
func TestCanonicalIdempotent(t *testing.T) {
	for r := rune(1); r <= 0x3FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		for _, in := range []string{string(r), "a" + string(r) + "b", "晋H" + string(r) + "1"} {
			for name, canon := range map[string]func(string) string{"CanonicalLabel": CanonicalLabel, "CanonicalPlate": CanonicalPlate} {
				if c := canon(in); canon(c) != c {
					t.Fatalf("%s(%+q) = %+q, whose own is %+q", name, in, c, canon(c))
				}
			}
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

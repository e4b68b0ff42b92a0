package server

import "testing"

func TestNormalizeSearch(t *testing.T) {
	for in, want := range map[string]string{
		"晋H30272":    "晋H30272",
		" 晋h 30272 ": "晋H30272",
		"晋H·30272":   "晋H30272",
		"晋H-3027挂":   "晋H3027挂",
		"忻府区 秦城":     "忻府区 秦城", // not a plate: spaces kept
		"inspector":  "inspector",
		"东侧料堆裸露":     "东侧料堆裸露",
		"":           "",
	} {
		if got := NormalizeSearch(in); got != want {
			t.Errorf("NormalizeSearch(%q) = %q, want %q", in, got, want)
		}
	}
}

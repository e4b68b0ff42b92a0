package server

import "testing"

// TestBlank: a text of white space and characters that print nothing is
// blank; one visible character, of any script, is not.
func TestBlank(t *testing.T) {
	for _, s := range []string{"", " ", "\u3000\n\t", "\u200b\u200b", "\ufeff", "\u2060\u00ad", "\u2800", "\u3164\u115f\u1160\uffa0", "\u180e\u034f", "\ufe0f"} {
		if !Blank(s) {
			t.Errorf("Blank(%q) = false", s)
		}
	}
	for _, s := range []string{"a", "照片不清晰", " 。", "\u200b补拍\u200b", "—", "0", "😀"} {
		if Blank(s) {
			t.Errorf("Blank(%q) = true", s)
		}
	}
}

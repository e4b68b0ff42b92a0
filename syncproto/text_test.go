package syncproto

import "testing"

// BlankCases are texts and whether each shows nothing; the field app's
// own check is held to the same list (webapp TestBrowserBlankAgrees).
var BlankCases = []struct {
	In    string
	Blank bool
}{
	{"", true}, {" ", true}, {"\t\n", true}, {"\u3000", true}, {"\u00a0", true},
	{"\u200b", true}, {"\u200d\u200c\u2060\ufeff", true}, {"\u202e", true}, {"\u00ad", true},
	{"\u3164", true}, {"\uffa0", true}, {"\u115f\u1160", true}, {"\u2800", true}, {"\u034f", true}, {"\ufe0f", true},
	{"\u0301", true}, {"\u20dd", true}, {" \u0301\u200b ", true},
	{"a", false}, {"中", false}, {"e\u0301", false}, {"\u200b中", false}, {"0", false}, {"·", false}, {"😀", false},
	{"\u3164a", false}, {"。", false},
}

func TestBlank(t *testing.T) {
	for _, tc := range BlankCases {
		if got := Blank(tc.In); got != tc.Blank {
			t.Errorf("Blank(%+q) = %v, want %v", tc.In, got, tc.Blank)
		}
	}
}

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

// TestOneLineText: what NoControls refuses is taken out of text passed on
// (a photo's EXIF make and model): controls and separators as a space,
// format characters and noncharacters dropped, the ends trimmed; the
// result always passes NoControls, and text that passes is kept as is.
func TestOneLineText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"HUAWEI", "HUAWEI"},
		{" Xiaomi 14 ", "Xiaomi 14"},
		{"华为 Mate 60", "华为 Mate 60"},
		{"Evil\u202eCorp\u0001\u0002", "EvilCorp"},
		{"\u200b\u2066x\u2069\u007f", "x"},
		{"Canon\tEOS\nR5", "Canon EOS R5"}, {"Canon \r\n\tR5", "Canon R5"},
		{"a\u2028b\u2029c", "a b c"},
		{"a\u0085b\u009fc", "a b c"},
		{"\ufeffNikon\u00ad", "Nikon"},
		{"x\ufdd0y\U0010fffe", "xy"},
		{"\u0001\u200b", ""},
	} {
		got := OneLineText(c.in)
		if got != c.want {
			t.Errorf("OneLineText(%q) = %q, want %q", c.in, got, c.want)
		}
		if !NoControls(got) {
			t.Errorf("OneLineText(%q) = %q, which NoControls refuses", c.in, got)
		}
	}
}

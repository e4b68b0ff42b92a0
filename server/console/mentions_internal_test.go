package console

import "testing"

// TestMentions: whether a device's name already names its owner, so
// that the owner's name is not added again.
func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		name, who string
		want      bool
	}{
		{"华为 Mate 40 Pro（张巡查）", "张巡查", true},
		{"张巡查的手机", "张巡查", true},
		{"华为 Mate 40 Pro", "张巡查", false},
		{"Redmi (li)", "li", true},
		{"LI's phone", "li", true},
		{"Xiaomi 14", "mi", false},
		{"Xiaomi 14 mi", "mi", true},
		{"mini", "mi", false},
		{"wang2", "wang", false},
		{"anything", "", false},
	} {
		if got := mentions(tc.name, tc.who); got != tc.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", tc.name, tc.who, got, tc.want)
		}
	}
}

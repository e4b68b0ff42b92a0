package sqllit

import "testing"

func TestList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "(NULL)"},
		{[]string{"submitted"}, "('submitted')"},
		{[]string{"", "open", "rectifying"}, "('', 'open', 'rectifying')"},
		{[]string{"it's"}, "('it''s')"},
	} {
		if got := List(tc.in); got != tc.want {
			t.Errorf("List(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

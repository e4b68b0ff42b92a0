// Package sqllit writes lists of the server package's constant values (the
// statuses a rule names) as SQL string literals, so the SQL of both stores
// applies a rule the server package states once instead of restating it.
// It is for constants only: values from requests go in as parameters.
package sqllit

import "strings"

// List returns vs as a parenthesized list of SQL string literals, for
// "x IN List(vs)": ('a', 'b'). An empty list is (NULL), which matches
// nothing.
func List(vs []string) string {
	if len(vs) == 0 {
		return "(NULL)"
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

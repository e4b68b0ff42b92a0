package console

import (
	"strconv"
	"testing"
)

// TestPercentCellsExact: a percentage of the report ("46.3%") is stored as
// the number nearest its fraction (0.463), for every percentage to one
// decimal: what a spreadsheet shows when the cell is widened or copied,
// not 0.46299999999999997.
func TestPercentCellsExact(t *testing.T) {
	table := reportTable{Header: []string{"区县", "平均进度"}, Kinds: []cellKind{kindText, kindPercent}}
	for tenths := 0; tenths <= 1000; tenths++ {
		shown := strconv.FormatFloat(float64(tenths)/10, 'f', 1, 64)
		cell, ok := typedRow(table, []string{"忻府区", shown + "%"})[1].(percent)
		want := "1" // 100.0%
		if tenths < 1000 {
			want = trimZeros("0." + strconv.Itoa(1000 + tenths)[1:]) // 0.463 for 46.3%
		}
		if got := strconv.FormatFloat(float64(cell), 'f', -1, 64); !ok || got != want {
			t.Fatalf("%s%%: stored %s, want %s", shown, got, want)
		}
	}
}

// trimZeros drops a decimal's trailing zeros (and a bare point).
func trimZeros(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

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

// TestPercentHalvesUp: every percentage the pages show is rounded as
// server.RoundPct rounds, halves away from zero, whatever computed it:
// 1 item failed of 16 is 6.3%, not the 6.2% that formatting 6.25 gives.
func TestPercentHalvesUp(t *testing.T) {
	for _, tc := range []struct {
		n, d int
		want string
	}{{1, 16, "6.3%"}, {3, 16, "18.8%"}, {5, 16, "31.3%"}, {1, 3, "33.3%"}, {2, 3, "66.7%"}, {1, 8, "12.5%"}, {0, 5, "0.0%"}, {0, 0, noRate}} {
		if got := pctText(100*float64(tc.n)/float64(max(tc.d, 1)), tc.d); got != tc.want {
			t.Errorf("%d of %d: pctText %s, want %s", tc.n, tc.d, got, tc.want)
		}
		if got := rateText(tc.n, tc.d); got != tc.want {
			t.Errorf("%d of %d: rateText %s, want %s", tc.n, tc.d, got, tc.want)
		}
	}
}

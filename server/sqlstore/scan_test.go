package sqlstore

import (
	"fmt"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
)

// tableRows is a result set held in memory, scanned as database/sql
// scans into *any destinations.
type tableRows struct {
	rows [][]any
	at   int
}

func (r *tableRows) Next() bool { r.at++; return r.at <= len(r.rows) }
func (r *tableRows) Err() error { return nil }
func (r *tableRows) Scan(dest ...any) error {
	row := r.rows[r.at-1]
	if len(dest) != len(row) {
		return fmt.Errorf("%d destinations for %d columns", len(dest), len(row))
	}
	for i, d := range dest {
		*d.(*any) = row[i]
	}
	return nil
}

// TestRawRowsKeepEachRow: rows read by RawRows, whose values share blocks
// of memory, each keep their own values, whatever the number of rows
// (below, at and past a block), and a row's values cannot be grown into
// the next row's.
func TestRawRowsKeepEachRow(t *testing.T) {
	c := NewCodec(server.EntityByName("site"), false)
	n := NMeta + len(c.Entity.Fields)
	for _, count := range []int{0, 1, 2, 3, scanBlock - 1, scanBlock, scanBlock + 1, 100, 500} {
		want := make([][]any, count)
		for i := range want {
			want[i] = make([]any, n)
			for j := range want[i] {
				want[i][j] = fmt.Sprintf("r%d c%d", i, j)
			}
			want[i][2] = int64(i + 1) // seq
		}
		got, err := c.RawRows(&tableRows{rows: want})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != count {
			t.Fatalf("%d rows: read %d", count, len(got))
		}
		for i, r := range got {
			if !slices.Equal(r.Vals, want[i]) || cap(r.Vals) != n || r.Seq() != int64(i+1) {
				t.Fatalf("%d rows: row %d reads %v (capacity %d), want %v", count, i, r.Vals, cap(r.Vals), want[i])
			}
		}
	}
}

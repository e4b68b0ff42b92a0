package par

import (
	"sync/atomic"
	"testing"
)

func TestDoCallsEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 129, 1000} {
		calls := make([]atomic.Int32, n)
		Do(n, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d called %d times", n, i, c)
			}
		}
	}
}

func TestRangesCoverEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 129, 1000} {
		calls := make([]atomic.Int32, n)
		Ranges(n, func(start, end int) {
			if start >= end {
				t.Errorf("n=%d: empty range [%d, %d)", n, start, end)
			}
			for i := start; i < end; i++ {
				calls[i].Add(1)
			}
		})
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d covered %d times", n, i, c)
			}
		}
	}
}

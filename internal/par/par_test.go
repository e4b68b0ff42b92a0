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

// TestAheadRunsInOrderAndWaits checks that Ahead calls every step once, in
// order, and that Wait(i) returns only after step i has: the caller reads
// each result right after its Wait, as a store reads an encoded row.
func TestAheadRunsInOrderAndWaits(t *testing.T) {
	for _, n := range []int{0, 1, aheadChunk, aheadChunk + 1, 1000} {
		results := make([]int, n)
		var calls atomic.Int32
		var last atomic.Int32
		last.Store(-1)
		p := Ahead(n, func(i int) {
			if prev := last.Swap(int32(i)); prev != int32(i-1) {
				t.Errorf("n=%d: step %d ran after step %d", n, i, prev)
			}
			calls.Add(1)
			results[i] = i*i + 1
		})
		for i := range n {
			p.Wait(i)
			if results[i] != i*i+1 {
				t.Fatalf("n=%d: Wait(%d) returned before its step (result %d)", n, i, results[i])
			}
		}
		p.Done()
		if c := calls.Load(); int(c) != n {
			t.Fatalf("n=%d: %d steps ran", n, c)
		}
	}
}

// TestAheadDoneWaitsForEveryStep checks that Done waits for the steps a
// caller did not wait for (one that gave up after the first row).
func TestAheadDoneWaitsForEveryStep(t *testing.T) {
	const n = 10 * aheadChunk
	var calls atomic.Int32
	p := Ahead(n, func(int) { calls.Add(1) })
	p.Wait(0)
	p.Done()
	if c := calls.Load(); c != n {
		t.Fatalf("Done returned after %d of %d steps", c, n)
	}
}

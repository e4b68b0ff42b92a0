// Package par runs the independent steps of a loop on the available cores.
package par

import (
	"runtime"
	"sync"
)

// minPerWorker is the fewest steps worth a goroutine: below it the
// hand-over costs more than the work it spreads.
const minPerWorker = 64

// Do calls fn(i) for every i in [0, n), spread over up to GOMAXPROCS
// goroutines in contiguous ranges, and returns when all calls have
// returned. Small loops run on the calling goroutine. fn must be safe to
// call concurrently for different i.
func Do(n int, fn func(i int)) {
	Ranges(n, func(start, end int) {
		for i := start; i < end; i++ {
			fn(i)
		}
	})
}

// Ranges splits [0, n) into contiguous ranges, one per goroutine (up to
// GOMAXPROCS), and calls fn(start, end) for each, returning when all have
// returned. A loop too small to share runs as one range on the calling
// goroutine; n == 0 calls nothing. It suits work that keeps state (a
// buffer, scratch space) across the steps of a range.
func Ranges(n int, fn func(start, end int)) {
	if n <= 0 {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), n/minPerWorker)
	if workers < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(start, end)
		}()
	}
	wg.Wait()
}

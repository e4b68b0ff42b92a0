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
	workers := min(runtime.GOMAXPROCS(0), n/minPerWorker)
	if workers < 2 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := start; i < end; i++ {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

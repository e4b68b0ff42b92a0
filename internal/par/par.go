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

// aheadChunk is how many steps Ahead runs between two signals to its
// caller: few enough that the caller's first wait is short, enough that
// the signals cost little beside the steps.
const aheadChunk = 16

// Pipe is the progress of the steps Ahead runs.
type Pipe struct {
	ready []chan struct{} // ready[k] closes once chunk k's steps returned
}

// Ahead calls fn(i) for every i in [0, n), in order, on a goroutine of its
// own, and returns at once: the caller uses each step's result as soon as
// Wait says it is there, while the next steps run beside it. It suits a
// loop whose results are consumed in order by work that cannot be shared
// out (writing rows on one database connection). A loop of one chunk or
// less runs on the calling goroutine before Ahead returns. The caller
// must call Done before it returns, whatever it did with the results, so
// that no step runs on after it.
func Ahead(n int, fn func(i int)) *Pipe {
	chunks := (n + aheadChunk - 1) / aheadChunk
	p := &Pipe{ready: make([]chan struct{}, chunks)}
	for k := range p.ready {
		p.ready[k] = make(chan struct{})
	}
	run := func() {
		for k, ch := range p.ready {
			for i := k * aheadChunk; i < min((k+1)*aheadChunk, n); i++ {
				fn(i)
			}
			close(ch)
		}
	}
	if chunks <= 1 {
		run()
	} else {
		go run()
	}
	return p
}

// Wait returns once step i has returned.
func (p *Pipe) Wait(i int) { <-p.ready[i/aheadChunk] }

// Done returns once every step has returned.
func (p *Pipe) Done() {
	if len(p.ready) > 0 {
		<-p.ready[len(p.ready)-1]
	}
}

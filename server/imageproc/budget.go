package imageproc

import (
	"context"
	"sync"
)

// Budget shares a number of bytes of decode memory among concurrent
// decodes: a weighted semaphore, first come first served, so that a large
// image waiting for the memory is not passed over for ever by small ones.
// One Budget serves the whole process; every decode takes its need (see
// Info.MemoryNeed) before it starts and gives it back when its pixels are
// no longer needed.
type Budget struct {
	size int64

	mu      sync.Mutex
	used    int64
	waiting []*budgetWaiter
	peak    int64 // the most ever taken at once
	waits   int64 // Acquire calls that had to wait
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

// NewBudget returns a budget of size bytes (at least 1).
func NewBudget(size int64) *Budget { return &Budget{size: max(size, 1)} }

// Size returns the budget's size in bytes.
func (b *Budget) Size() int64 { return b.size }

// InUse returns the bytes taken now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Stats returns the most bytes ever taken at once and how many Acquire
// calls had to wait for memory: what decodes running at once asked of the
// budget.
func (b *Budget) Stats() (peak, waits int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak, b.waits
}

// Acquire waits until n bytes are free and takes them, and returns the
// function that gives them back (call it exactly once). A request for more
// than the whole budget takes the whole budget: it runs alone. It returns
// ctx's error, taking nothing, if ctx ends first.
func (b *Budget) Acquire(ctx context.Context, n int64) (release func(), err error) {
	n = min(max(n, 0), b.size)
	b.mu.Lock()
	if len(b.waiting) == 0 && b.used+n <= b.size {
		b.take(n)
		b.mu.Unlock()
		return b.releaser(n), nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiting = append(b.waiting, w)
	b.waits++
	b.mu.Unlock()
	select {
	case <-w.ready:
		return b.releaser(n), nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.used -= n
			b.grant()
		default:
			for i, o := range b.waiting {
				if o == w {
					b.waiting = append(b.waiting[:i], b.waiting[i+1:]...)
					break
				}
			}
			b.grant() // the head may have changed
		}
		return nil, ctx.Err()
	}
}

func (b *Budget) releaser(n int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.used -= n
			b.grant()
		})
	}
}

// grant wakes the waiters at the head of the queue that now fit. b.mu is
// held.
func (b *Budget) grant() {
	for len(b.waiting) > 0 && b.used+b.waiting[0].n <= b.size {
		w := b.waiting[0]
		b.waiting = b.waiting[1:]
		b.take(w.n)
		close(w.ready)
	}
}

// take counts n bytes taken. b.mu is held.
func (b *Budget) take(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

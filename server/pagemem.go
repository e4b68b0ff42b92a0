package server

import "sync"

// PageMemory is the memory a pull page's changes are written in by the
// store (SyncStore.WireChanges, SyncStore.CompactChanges): buffers taken
// from a pool, given back once the page has been sent (PullPage.Release).
// A page of 500 records is about half a megabyte of JSON, and a device's
// first sync hundreds of pages: with its buffers reused, a pull makes half
// the garbage, and the server collects less than half as often
// (docs/benchmarks.md, issue 14's fifteenth pass). A nil *PageMemory
// allocates as usual and gives nothing back. It is safe for concurrent use:
// the store writes a page's rows on all cores.
type PageMemory struct {
	mu   sync.Mutex
	bufs []*[]byte
}

// maxPooledPage is the largest buffer given back to the pool: a page of
// the largest limit is rare, and its memory goes back to the collector.
const maxPooledPage = 4 << 20

var pageBufs = sync.Pool{New: func() any { return new([]byte) }}

// Buffer returns an empty buffer of at least size bytes' capacity, which
// belongs to the page until Release. What is appended beyond its capacity
// goes to new memory, as append does, which is not given back.
func (m *PageMemory) Buffer(size int) []byte {
	if m == nil {
		return make([]byte, 0, size)
	}
	p := pageBufs.Get().(*[]byte)
	if cap(*p) < size {
		*p = make([]byte, 0, size)
	}
	m.mu.Lock()
	m.bufs = append(m.bufs, p)
	m.mu.Unlock()
	return (*p)[:0]
}

// Release gives the page's buffers back to the pool. Nothing written in
// them may be read after it.
func (m *PageMemory) Release() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.bufs {
		if cap(*p) <= maxPooledPage {
			pageBufs.Put(p)
		}
	}
	m.bufs = nil
}

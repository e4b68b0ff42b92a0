package server

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// This file reads the next page of a device's pull sequence while the
// device reads the page before it.
//
// A device that gets a page with has_more asks for the next one as soon
// as it has read this one (sync.md: it pulls until has_more is false), and
// asks with the cursor this page ends at. So the server reads that page
// meanwhile, and answers the request from it: the device's parsing (and
// the link) and the server's reading of the rows overlap instead of
// following each other. The page read ahead is a snapshot taken after the
// page before it, as the device's own request would have been had it come
// a little earlier: a record written in between is in it or, with its new
// sequence number, in a later page, and the per-field HLC merge makes the
// order in which a device sees two states of a record irrelevant.
//
// A page read ahead answers a request only if more pages follow it: the
// page that ends a sequence (has_more false) is read when it is asked
// for, so that a device that pulled to the end has every change committed
// before its last request, as without read-ahead.
//
// The page read ahead is also encoded ahead (Syncer.EncodePage) in the
// content encoding of the request before it (gzip, for the phones), all
// but its server_hlc, which is the server's clock at the answer: answering
// it is a write of bytes already compressed.
//
// A page read ahead is kept only for the device, user, scope, cursor,
// limit, form and encoding of the request it answers, and only until it is asked
// for or pullAheadKeep has passed; at most pullAheadSlots are read or kept
// at a time, so that under load the server does no more than the devices
// ask.

const (
	pullAheadSlots = 4
	pullAheadKeep  = 30 * time.Second
)

// pageKey is what a request must match to be answered by a page read
// ahead.
type pageKey struct {
	device, user, scope, epoch string
	after                      int64
	limit                      int
	form                       PullForm
	encoding                   string
}

// pageRows is a pull page as the store answered it.
type pageRows struct {
	changes []json.RawMessage
	compact *CompactPage
	mem     *PageMemory // what changes or compact are written in
	more    bool
	last    int64 // the seq of its last record (after, if empty)
}

// pageAhead is a page being read, or read, ahead.
type pageAhead struct {
	key   pageKey
	done  chan struct{} // closed once page and err are set
	page  *PullPage
	err   error
	taken chan struct{} // closed when a request takes it or another replaces it
}

// pullAhead holds the pages read ahead, by device. The zero value is
// ready.
type pullAhead struct {
	mu    sync.Mutex
	pages map[string]*pageAhead
	slots chan struct{}
}

// take returns the page read ahead for key, if there is one, removing it.
func (a *pullAhead) take(key pageKey) *pageAhead {
	a.mu.Lock()
	defer a.mu.Unlock()
	pa := a.pages[key.device]
	if pa == nil || pa.key != key {
		return nil
	}
	delete(a.pages, key.device)
	close(pa.taken)
	return pa
}

// start reads the page of key ahead with read, unless every slot is taken.
// A slot is held until the page is taken, replaced, or pullAheadKeep old.
func (a *pullAhead) start(key pageKey, read func(context.Context) (*PullPage, error)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.slots == nil {
		a.slots = make(chan struct{}, pullAheadSlots)
		a.pages = map[string]*pageAhead{}
	}
	select {
	case a.slots <- struct{}{}:
	default:
		return // busy: the request will read its page itself
	}
	pa := &pageAhead{key: key, done: make(chan struct{}), taken: make(chan struct{})}
	if old := a.pages[key.device]; old != nil {
		close(old.taken)
	}
	a.pages[key.device] = pa
	go func() {
		defer func() { <-a.slots }()
		ctx, cancel := context.WithTimeout(context.Background(), pullAheadKeep)
		defer cancel()
		pa.page, pa.err = read(ctx)
		close(pa.done)
		select {
		case <-pa.taken:
		case <-ctx.Done():
			a.mu.Lock()
			if a.pages[key.device] == pa {
				delete(a.pages, key.device)
			}
			a.mu.Unlock()
		}
	}()
}

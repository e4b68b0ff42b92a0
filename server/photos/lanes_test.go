package photos

import (
	"slices"
	"sync"
	"testing"
)

// TestLaterLane: photos someone waits for (Enqueue: a phone's upload)
// are processed before those no one waits for (EnqueueLater: the demo's,
// the scan at start), each lane in order; a photo waiting in the later
// lane that is asked for now moves to the first, once (ops probe: a
// phone's photos waited minutes behind the demo's backlog).
func TestLaterLane(t *testing.T) {
	p := &Processor{queued: map[string]bool{}}
	p.cond = sync.NewCond(&p.mu)
	p.EnqueueLater([]string{"demo1", "demo2", "demo3"})
	p.Enqueue([]string{"phone1", "demo2"})
	p.EnqueueLater([]string{"phone1", "demo4"})
	p.Enqueue([]string{"phone2"})
	var got []string
	for {
		id, ok := p.take()
		if !ok {
			break
		}
		got = append(got, id)
	}
	if want := []string{"phone1", "demo2", "phone2", "demo1", "demo3", "demo4"}; !slices.Equal(got, want) {
		t.Errorf("processed in the order %v, want %v", got, want)
	}
	if p.waiting() != 0 || len(p.queued) != 0 {
		t.Errorf("after all were taken: %d waiting, queued %v", p.waiting(), p.queued)
	}
}

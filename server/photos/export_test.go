package photos

import "time"

// SetGiveWay sets Config.Quiet and Config.GiveWay of a processor that has
// no photo in hand.
func (p *Processor) SetGiveWay(quiet, most time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Quiet, p.cfg.GiveWay = quiet, most
}

// OnGiveWay has f called as each photo begins (waiting true) and ends
// (false) giving way to devices, until restore is called.
func OnGiveWay(f func(id string, waiting bool)) (restore func()) {
	gaveWay = f
	return func() { gaveWay = nil }
}

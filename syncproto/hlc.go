// Package syncproto is fieldsync's wire protocol: the types a device and the
// server exchange, the hybrid logical clock, the per-field merge rule, the
// stable error codes and a Go client. It depends on the standard library only
// and never on the server, so a device app or a test can import it alone.
package syncproto

import (
	"cmp"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxCounter is the largest logical counter an HLC carries. When a clock
// would pass it, the wall component is advanced by one millisecond instead,
// which keeps the clock monotonic without widening the encoding.
const MaxCounter = 99999

// ServerNode is the node id the server stamps its own writes with (office
// decisions, evidence flags). It sorts after every lower-case hex UUID, so a
// server write wins a tie against any device at the same wall and counter.
const ServerNode = "~server"

// HLC is a hybrid logical clock timestamp: wall time in Unix milliseconds, a
// logical counter for events within one millisecond, and the id of the node
// (device UUID) that made it. HLCs are totally ordered by (Wall, Counter,
// Node).
type HLC struct {
	Wall    int64
	Counter uint32
	Node    string
}

// IsZero reports whether h is the zero HLC, which sorts before every other.
func (h HLC) IsZero() bool { return h.Wall == 0 && h.Counter == 0 && h.Node == "" }

// String encodes h as "WWWWWWWWWWWWWWW-CCCCC-node": fixed-width decimal
// fields, so that comparing two encodings as strings orders them exactly as
// Compare does. The zero HLC encodes as "".
func (h HLC) String() string {
	if h.IsZero() {
		return ""
	}
	return string(h.AppendText(make([]byte, 0, 22+len(h.Node))))
}

// AppendText appends the encoding of String to b (without allocating
// when b has room).
func (h HLC) AppendText(b []byte) []byte {
	b = appendPadded(b, h.Wall, 15)
	b = append(b, '-')
	b = appendPadded(b, int64(h.Counter), 5)
	b = append(b, '-')
	return append(b, h.Node...)
}

func appendPadded(b []byte, n int64, width int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// MarshalText implements encoding.TextMarshaler.
func (h HLC) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HLC) UnmarshalText(b []byte) error {
	p, err := ParseHLC(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// Time returns the wall component as a time.Time.
func (h HLC) Time() time.Time { return time.UnixMilli(h.Wall) }

// Compare returns -1, 0 or +1 as h sorts before, equal to or after o.
func (h HLC) Compare(o HLC) int {
	if c := cmp.Compare(h.Wall, o.Wall); c != 0 {
		return c
	}
	if c := cmp.Compare(h.Counter, o.Counter); c != 0 {
		return c
	}
	return cmp.Compare(h.Node, o.Node)
}

// ErrBadHLC is returned by ParseHLC for a malformed timestamp.
var ErrBadHLC = errors.New("malformed hlc")

// ParseHLC decodes the form written by HLC.String. It accepts only the
// canonical encoding, so equal HLCs always have equal strings.
func ParseHLC(s string) (HLC, error) {
	if s == "" {
		return HLC{}, nil
	}
	if len(s) < 23 || s[15] != '-' || s[21] != '-' {
		return HLC{}, ErrBadHLC
	}
	wall, err := parseDigits(s[:15])
	if err != nil {
		return HLC{}, ErrBadHLC
	}
	counter, err := parseDigits(s[16:21])
	if err != nil {
		return HLC{}, ErrBadHLC
	}
	node := s[22:]
	if node == "" || len(node) > 64 || strings.ContainsAny(node, " \t\r\n") {
		return HLC{}, ErrBadHLC
	}
	return HLC{Wall: wall, Counter: uint32(counter), Node: node}, nil
}

func parseDigits(s string) (int64, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrBadHLC
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// Clock issues HLC timestamps for one node. It is safe for concurrent use.
// The physical time source can be replaced (tests, or a device that has
// learnt its clock is wrong) and corrected by an offset.
type Clock struct {
	mu     sync.Mutex
	node   string
	now    func() time.Time
	offset time.Duration
	last   HLC
}

// NewClock returns a clock for node reading physical time from now (nil means
// time.Now).
func NewClock(node string, now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{node: node, now: now}
}

// Node returns the node id the clock stamps.
func (c *Clock) Node() string { return c.node }

// SetOffset sets a correction added to physical time, for a device whose
// clock the server has reported as wrong (see CodeClockSkew).
func (c *Clock) SetOffset(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

// Physical returns the corrected physical time in milliseconds.
func (c *Clock) Physical() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.physical()
}

func (c *Clock) physical() int64 { return c.now().Add(c.offset).UnixMilli() }

// Now returns a new timestamp greater than every one this clock has issued
// or observed.
func (c *Clock) Now() HLC {
	h, _ := c.NowAhead()
	return h
}

// NowAhead is Now, and whether the timestamp is ahead of physical time
// (the clock observed a later one than its own time).
func (c *Clock) NowAhead() (HLC, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pt := c.physical()
	c.last = advance(c.last, pt, HLC{})
	c.last.Node = c.node
	return c.last, c.last.Wall > pt
}

// Observe merges a remote timestamp (a server_hlc, or a pulled field's HLC)
// into the clock so that later local timestamps sort after it. It returns the
// clock's new latest timestamp.
func (c *Clock) Observe(remote HLC) HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = advance(c.last, c.physical(), remote)
	c.last.Node = c.node
	return c.last
}

// Last returns the latest timestamp issued or observed.
func (c *Clock) Last() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// advance is the HLC send/receive rule: the wall component is the maximum of
// the local last, the remote and physical time; the counter increases when
// the wall does not.
func advance(last HLC, pt int64, remote HLC) HLC {
	wall := max(last.Wall, remote.Wall, pt)
	var counter uint32
	switch {
	case wall == last.Wall && wall == remote.Wall:
		counter = max(last.Counter, remote.Counter) + 1
	case wall == last.Wall:
		counter = last.Counter + 1
	case wall == remote.Wall:
		counter = remote.Counter + 1
	}
	if counter > MaxCounter {
		wall, counter = wall+1, 0
	}
	return HLC{Wall: wall, Counter: counter}
}

package syncproto

import (
	"cmp"
	"testing"
	"time"
)

func TestHLCStringRoundTripAndOrder(t *testing.T) {
	hs := []HLC{
		{Wall: 1, Counter: 0, Node: "a"},
		{Wall: 1, Counter: 0, Node: "b"},
		{Wall: 1, Counter: 2, Node: "a"},
		{Wall: 1732800000000, Counter: 0, Node: "0191f0a0-0000-7000-8000-000000000001"},
		{Wall: 1732800000000, Counter: 99999, Node: "0191f0a0-0000-7000-8000-000000000001"},
		{Wall: 1732800000000, Counter: 99999, Node: ServerNode},
		{Wall: 1732800000001, Counter: 0, Node: "0"},
	}
	for i, h := range hs {
		p, err := ParseHLC(h.String())
		if err != nil || p != h {
			t.Fatalf("round trip %v: got %v, %v", h, p, err)
		}
		for j, o := range hs {
			want := cmp.Compare(i, j)
			if got := h.Compare(o); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", h, o, got, want)
			}
			if got := cmp.Compare(h.String(), o.String()); got != want {
				t.Errorf("string order of %v and %v = %d, want %d", h, o, got, want)
			}
		}
	}
}

func TestParseHLCRejectsMalformed(t *testing.T) {
	for _, s := range []string{
		"x", "1-2-3", "00000000000000a-00000-n", "000000000000001-0000a-n",
		"000000000000001-00000-", "000000000000001-00000-node with space",
		"000000000000001_00000-n", "+00000000000001-00000-n", "-00000000000001-00000-n",
	} {
		if _, err := ParseHLC(s); err == nil {
			t.Errorf("ParseHLC(%q) accepted", s)
		}
	}
	if h, err := ParseHLC(""); err != nil || !h.IsZero() {
		t.Errorf(`ParseHLC("") = %v, %v; want zero`, h, err)
	}
}

func FuzzParseHLC(f *testing.F) {
	f.Add("001732800000000-00000-0191f0a0-0000-7000-8000-000000000001")
	f.Add("")
	f.Add("000000000000001-99999-~server")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHLC(s)
		if err != nil {
			return
		}
		if h.String() != s {
			t.Fatalf("accepted %q but encodes as %q", s, h.String())
		}
	})
}

func TestClockIsMonotonicAndObserves(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	c := NewClock("dev", func() time.Time { return now })
	a := c.Now()
	b := c.Now()
	if a.Compare(b) >= 0 || b.Counter != a.Counter+1 {
		t.Fatalf("same-millisecond stamps %v, %v not increasing by counter", a, b)
	}
	now = now.Add(-time.Hour) // the phone's clock jumps back
	if d := c.Now(); d.Compare(b) <= 0 {
		t.Fatalf("after clock went back, %v not after %v", d, b)
	}
	remote := HLC{Wall: 5_000_000, Counter: 7, Node: "server"}
	o := c.Observe(remote)
	if o.Wall != remote.Wall || o.Counter != 8 || o.Node != "dev" {
		t.Fatalf("Observe(%v) = %v, want wall %d counter 8 node dev", remote, o, remote.Wall)
	}
	if n := c.Now(); n.Compare(remote) <= 0 {
		t.Fatalf("stamp %v after observing %v does not sort after it", n, remote)
	}
}

func TestClockCounterOverflowAdvancesWall(t *testing.T) {
	c := NewClock("dev", func() time.Time { return time.UnixMilli(10) })
	if h := c.Observe(HLC{Wall: 10, Counter: MaxCounter, Node: "x"}); h.Wall != 11 || h.Counter != 0 {
		t.Fatalf("after counter overflow got %v, want wall 11 counter 0", h)
	}
	if h := c.Now(); h.Wall != 11 || h.Counter != 1 {
		t.Fatalf("next stamp %v, want wall 11 counter 1", h)
	}
}

func TestClockConcurrentStampsAreUnique(t *testing.T) {
	c := NewClock("dev", nil)
	const n = 2000
	out := make(chan HLC, n)
	for i := 0; i < 4; i++ {
		go func() {
			for j := 0; j < n/4; j++ {
				out <- c.Now()
			}
		}()
	}
	seen := map[HLC]bool{}
	for i := 0; i < n; i++ {
		h := <-out
		if seen[h] {
			t.Fatalf("duplicate stamp %v", h)
		}
		seen[h] = true
	}
}

package storetest

import (
	"bytes"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// sharedCases: the state several servers share beyond the Store proper
// (server.KeyStore, server.LoginStore, part of server.Store).
var sharedCases = []testCase{
	{"SigningKeys", testSigningKeys},
	{"LoginAttempts", testLoginAttempts},
}

func testSigningKeys(t *testing.T, open Opener) {
	e := newEnv(t, open)
	var ks server.KeyStore = e.st
	if keys, err := ks.SigningKeys(e.ctx); err != nil || len(keys) != 0 {
		t.Fatalf("keys of a new store: %v %v", keys, err)
	}
	secret := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	for i, id := range []string{"k1", "k2", "k3"} {
		if err := ks.AddSigningKey(e.ctx, server.SigningKey{ID: id, Secret: secret(byte(i + 1)), CreatedAt: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, ks.AddSigningKey(e.ctx, server.SigningKey{ID: "k2", Secret: secret(9), CreatedAt: t0}), syncproto.CodeConflict, "key id taken")
	keys, err := ks.SigningKeys(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[0].ID != "k3" || keys[1].ID != "k2" || keys[2].ID != "k1" {
		t.Fatalf("keys %v, want newest first", keys)
	}
	if !bytes.Equal(keys[1].Secret, secret(2)) || !keys[1].CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("key k2 %+v", keys[1])
	}
	// Keys created before t0+90m go, except the newest.
	if n, err := ks.RemoveSigningKeys(e.ctx, t0.Add(90*time.Minute)); err != nil || n != 2 {
		t.Errorf("removed %d %v, want 2", n, err)
	}
	if keys, _ := ks.SigningKeys(e.ctx); len(keys) != 1 || keys[0].ID != "k3" {
		t.Errorf("keys after removal %v", keys)
	}
	if n, err := ks.RemoveSigningKeys(e.ctx, t0.Add(10*time.Hour)); err != nil || n != 0 {
		t.Errorf("removing the newest: %d %v, want 0", n, err)
	}
	if keys, _ := ks.SigningKeys(e.ctx); len(keys) != 1 {
		t.Errorf("the newest key removed: %v", keys)
	}
}

func testLoginAttempts(t *testing.T, open Opener) {
	e := newEnv(t, open)
	var ls server.LoginStore = e.st
	if got, err := ls.LoginAttempts(e.ctx, []string{"wang", "192.0.2.1"}); err != nil || len(got) != 0 {
		t.Fatalf("attempts of a new store: %v %v", got, err)
	}
	if got, err := ls.LoginAttempts(e.ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("attempts of no keys: %v %v", got, err)
	}
	a := server.LoginAttempts{Failures: 3, Until: t0.Add(time.Minute), Last: t0}
	b := server.LoginAttempts{Failures: 1, Last: t0.Add(-2 * time.Hour)}
	c := server.LoginAttempts{Failures: 5, Until: t0.Add(time.Hour), Last: t0.Add(-time.Minute)}
	put := func(states map[string]server.LoginAttempts) {
		t.Helper()
		keys := slices.Collect(maps.Keys(states))
		err := ls.UpdateLoginAttempts(e.ctx, keys, func(m map[string]server.LoginAttempts) { maps.Copy(m, states) })
		if err != nil {
			t.Fatal(err)
		}
	}
	put(map[string]server.LoginAttempts{"wang": a, "192.0.2.1": b, "li": c})
	same := func(x, y server.LoginAttempts) bool {
		return x.Failures == y.Failures && x.Until.Equal(y.Until) && x.Last.Equal(y.Last)
	}
	if got, err := ls.LoginAttempts(e.ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("attempts of no keys, some stored: %v %v", got, err)
	}
	got, err := ls.LoginAttempts(e.ctx, []string{"wang", "192.0.2.1", "nobody"})
	if err != nil || len(got) != 2 || !same(got["wang"], a) || !same(got["192.0.2.1"], b) {
		t.Errorf("attempts %+v %v", got, err)
	}
	// A new state replaces the old.
	a.Failures, a.Last = 4, t0.Add(time.Second)
	put(map[string]server.LoginAttempts{"wang": a})
	if got, _ := ls.LoginAttempts(e.ctx, []string{"wang"}); !same(got["wang"], a) {
		t.Errorf("replaced %+v", got["wang"])
	}
	// An update sees the stored state, and concurrent updates of the same
	// keys all count (each adds one failure to two keys, in either order).
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		keys := []string{"race:a", "race:b"}
		if i%2 == 1 {
			keys = []string{"race:b", "race:a"}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- ls.UpdateLoginAttempts(e.ctx, keys, func(m map[string]server.LoginAttempts) {
				for _, k := range keys {
					st := m[k]
					st.Failures++
					st.Last = t0
					m[k] = st
				}
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := ls.LoginAttempts(e.ctx, []string{"race:a", "race:b"}); got["race:a"].Failures != 40 || got["race:b"].Failures != 40 {
		t.Errorf("40 concurrent updates left %+v, want 40 failures each", got)
	}
	// An update that drops a key forgets it.
	if err := ls.UpdateLoginAttempts(e.ctx, []string{"race:a"}, func(m map[string]server.LoginAttempts) { delete(m, "race:a") }); err != nil {
		t.Fatal(err)
	}
	if got, _ := ls.LoginAttempts(e.ctx, []string{"race:a", "race:b"}); len(got) != 1 || got["race:b"].Failures != 40 {
		t.Errorf("after dropping race:a: %+v", got)
	}
	// Clearing wang forgets it and every key whose last failure is before
	// t0-1h (192.0.2.1), not li.
	if err := ls.ClearLoginAttempts(e.ctx, "wang", t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err = ls.LoginAttempts(e.ctx, []string{"wang", "192.0.2.1", "li"})
	if err != nil || len(got) != 1 || !same(got["li"], c) {
		t.Errorf("after clearing: %+v %v", got, err)
	}

	// Attempts in flight are kept, alone or beside failures; a key with
	// an attempt in flight since the cutoff is not forgotten with the old
	// ones; one with nothing left is dropped.
	flying := server.LoginAttempts{InFlight: 2, InFlightUntil: t0.Add(time.Minute)}
	c.InFlight, c.InFlightUntil = 1, t0.Add(30*time.Second)
	put(map[string]server.LoginAttempts{"fly": flying, "li": c})
	got, _ = ls.LoginAttempts(e.ctx, []string{"fly", "li"})
	for k, want := range map[string]server.LoginAttempts{"fly": flying, "li": c} {
		if g := got[k]; !same(g, want) || g.InFlight != want.InFlight || !g.InFlightUntil.Equal(want.InFlightUntil) {
			t.Errorf("%s in flight: %+v, want %+v", k, g, want)
		}
	}
	if err := ls.ClearLoginAttempts(e.ctx, "", t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := ls.LoginAttempts(e.ctx, []string{"fly"}); got["fly"].InFlight != 2 {
		t.Errorf("an attempt in flight was forgotten with the old keys: %+v", got)
	}
	put(map[string]server.LoginAttempts{"fly": {}})
	if got, _ := ls.LoginAttempts(e.ctx, []string{"fly"}); len(got) != 0 {
		t.Errorf("a key with nothing left is kept: %+v", got)
	}
}

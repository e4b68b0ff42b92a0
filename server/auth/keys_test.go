package auth

import (
	"context"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
)

// TestRetireSigningKeys: retiring keys removes those created before the
// limit except the newest; within SigningSwitch of a rotation it keeps the
// key before the newest too (a server may still sign with it), and says
// until when; after that it removes it.
func TestRetireSigningKeys(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Unix(1_800_000_000, 0)
	var keys []server.SigningKey
	for i := range 3 {
		k := NewSigningKey(t0.Add(time.Duration(i) * time.Hour))
		if err := st.AddSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	rotated := keys[2].CreatedAt
	n, kept, err := RetireSigningKeys(ctx, st, time.Nanosecond, rotated.Add(time.Second))
	if err != nil || n != 1 || !kept.Equal(rotated.Add(SigningSwitch)) {
		t.Fatalf("right after a rotation: removed %d, kept until %v, %v; want the oldest removed, the one before the newest kept until %v", n, kept, err, rotated.Add(SigningSwitch))
	}
	left, _ := st.SigningKeys(ctx)
	if len(left) != 2 || left[1].ID != keys[1].ID {
		t.Fatalf("keys left: %v", left)
	}
	later := rotated.Add(SigningSwitch + time.Second)
	if n, kept, err := RetireSigningKeys(ctx, st, time.Nanosecond, later); err != nil || n != 1 || !kept.IsZero() {
		t.Fatalf("after the switch: removed %d, kept until %v, %v; want the one before the newest removed", n, kept, err)
	}
	if left, _ := st.SigningKeys(ctx); len(left) != 1 || left[0].ID != keys[2].ID {
		t.Fatalf("keys left: %v", left)
	}
}

// TestRetireAfterTwoRotations: two rotations in a row, then a retire at
// once: every key a server may still sign with — the two before the
// newest — is kept.
func TestRetireAfterTwoRotations(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Unix(1_800_000_000, 0)
	old := NewSigningKey(t0)
	a := NewSigningKey(t0.Add(time.Hour))
	b := NewSigningKey(t0.Add(time.Hour + 500*time.Millisecond))
	for _, k := range []server.SigningKey{old, a, b} {
		if err := st.AddSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	now := b.CreatedAt.Add(time.Second)
	n, kept, err := RetireSigningKeys(ctx, st, time.Nanosecond, now)
	if err != nil || n != 0 || kept.IsZero() {
		t.Fatalf("retire right after two rotations: removed %d, kept until %v, %v; want nothing removed", n, kept, err)
	}
	// a was the newest half a second before b: servers may sign with it;
	// and old until a was made, a second and a half ago.
	if left, _ := st.SigningKeys(ctx); len(left) != 3 {
		t.Fatalf("keys left: %d, want 3", len(left))
	}
	later := b.CreatedAt.Add(SigningSwitch + time.Second)
	if n, _, err := RetireSigningKeys(ctx, st, time.Nanosecond, later); err != nil || n != 2 {
		t.Fatalf("after the switch: removed %d, %v; want the two before the newest", n, err)
	}
}

// TestRetireByWhenAKeyStoppedSigning: --older-than counts from when a key
// stopped signing (the next key was made), not from when it was made: a
// key made long ago that signed until a rotation a minute ago signed tokens
// that are still valid, and is kept for an access token's lifetime.
func TestRetireByWhenAKeyStoppedSigning(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Unix(1_800_000_000, 0)
	old := NewSigningKey(t0)
	rotated := NewSigningKey(t0.Add(24 * time.Hour))
	for _, k := range []server.SigningKey{old, rotated} {
		if err := st.AddSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	ttl := 15 * time.Minute
	if n, next, err := RetireSigningKeys(ctx, st, ttl, rotated.CreatedAt.Add(time.Minute)); err != nil || n != 0 || !next.Equal(rotated.CreatedAt.Add(ttl)) {
		t.Fatalf("a day-old key that stopped signing a minute ago: removed %d, next %v, %v; want kept until %v", n, next, err, rotated.CreatedAt.Add(ttl))
	}
	if n, _, err := RetireSigningKeys(ctx, st, ttl, rotated.CreatedAt.Add(ttl+time.Second)); err != nil || n != 1 {
		t.Fatalf("an access token's lifetime after it stopped: removed %d, %v; want it removed", n, err)
	}
}

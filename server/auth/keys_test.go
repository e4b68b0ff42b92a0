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
	n, kept, err := RetireSigningKeys(ctx, st, rotated.Add(time.Second), rotated.Add(time.Second))
	if err != nil || n != 1 || !kept.Equal(rotated.Add(SigningSwitch)) {
		t.Fatalf("right after a rotation: removed %d, kept until %v, %v; want the oldest removed, the one before the newest kept until %v", n, kept, err, rotated.Add(SigningSwitch))
	}
	left, _ := st.SigningKeys(ctx)
	if len(left) != 2 || left[1].ID != keys[1].ID {
		t.Fatalf("keys left: %v", left)
	}
	later := rotated.Add(SigningSwitch + time.Second)
	if n, kept, err := RetireSigningKeys(ctx, st, later, later); err != nil || n != 1 || !kept.IsZero() {
		t.Fatalf("after the switch: removed %d, kept until %v, %v; want the one before the newest removed", n, kept, err)
	}
	if left, _ := st.SigningKeys(ctx); len(left) != 1 || left[0].ID != keys[2].ID {
		t.Fatalf("keys left: %v", left)
	}
}

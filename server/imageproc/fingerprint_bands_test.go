package imageproc_test

import (
	"math/rand/v2"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
)

// TestBandsAreTheStores: the stores index a row by the bands the lookups
// probe (server.PhotoHashRow.Bands is imageproc.Bands).
func TestBandsAreTheStores(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, h := range []uint64{0, 1 << 63, 1<<64 - 1, rng.Uint64(), rng.Uint64(), rng.Uint64()} {
		if got, want := (server.PhotoHashRow{Hash: h}).Bands(), imageproc.Bands(h); got != want {
			t.Errorf("bands of %x: the store's %x, the lookup's %x", h, got, want)
		}
	}
}

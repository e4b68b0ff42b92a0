package sqlstore

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestEncodeAheadAsEncode checks that EncodeAhead gives, row by row, what
// Encode gives for the same pending records — new ones (upserts) and ones
// the transaction read (updates of the changed columns) — and leaves the
// transaction as Encode does: the same High and the same rows noted as
// written.
func TestEncodeAheadAsEncode(t *testing.T) {
	e := server.EntityByName(syncproto.EntityVehicleCheck)
	codec := NewCodec(e, false)
	codecOf := func(*server.Entity) *Codec { return codec }
	clock := syncproto.NewClock("dev-a", nil)
	hlcs := make([]syncproto.HLC, 100)
	for i := range hlcs {
		hlcs[i] = clock.Now()
	}
	// fill queues 100 records, the even ones read before (Loaded), each
	// with its own plate and HLC.
	fill := func() *TxRecords {
		c := &TxRecords{}
		for i := range 100 {
			r := &server.StoredRecord{Entity: e, ID: fmt.Sprintf("id-%03d", i), County: "140902",
				State: syncproto.Record{Fields: map[string]syncproto.FieldState{
					"county": {Value: []byte(`"140902"`), HLC: hlcs[i]},
					"plate":  {Value: fmt.Appendf(nil, `"晋H%05d"`, i), HLC: hlcs[i]},
				}}}
			if i%2 == 0 {
				vals, _, err := codec.RowValues(r)
				if err != nil {
					t.Fatal(err)
				}
				c.Loaded(r, vals)
				r.State.Fields["note"] = syncproto.FieldState{Value: []byte(`"复查"`), HLC: hlcs[i]}
			}
			c.Put(r)
		}
		return c
	}
	all, ahead := fill(), fill()
	want := all.Encode(codecOf)
	enc := ahead.EncodeAhead(codecOf)
	for i := range want {
		if got := enc.Row(i); !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("row %d: %+v, want %+v", i, got, want[i])
		}
		if want[i].Update != (i%2 == 0) {
			t.Fatalf("row %d: update %v", i, want[i].Update)
		}
		// Apart from Encode: an update writes the note it gained and
		// names its row last; an upsert writes the record's id first.
		args := want[i].Args
		id := fmt.Sprintf("id-%03d", i)
		if want[i].Update && (args[len(args)-1] != id || !slices.Contains(args, any("复查"))) {
			t.Fatalf("row %d: update args %v, want the note and then %s", i, args, id)
		}
		if !want[i].Update && args[0] != id {
			t.Fatalf("row %d: upsert args %v, want %s first", i, args, id)
		}
	}
	enc.Done()
	if ahead.High != all.High || all.High != hlcs[99] {
		t.Errorf("High %v, Encode's %v, want %v", ahead.High, all.High, hlcs[99])
	}
	if !reflect.DeepEqual(ahead.written, all.written) || len(all.written) != 50 {
		t.Errorf("%d rows noted as written, Encode's %d, want 50", len(ahead.written), len(all.written))
	}
}

package syncproto

import (
	"bytes"
	"encoding/json"
)

// FieldState is a field's stored value and the HLC of the write that set it.
type FieldState struct {
	Value json.RawMessage
	HLC   HLC
}

// Record is the mergeable state of one record: every field with its HLC, and
// the tombstone's HLC if the record was deleted.
type Record struct {
	Fields  map[string]FieldState
	Deleted HLC
}

// IsDeleted reports whether the record carries a tombstone.
func (r *Record) IsDeleted() bool { return !r.Deleted.IsZero() }

// Highest returns the greatest HLC in the record: its fields' and its
// tombstone's (the zero HLC for an empty record).
func (r *Record) Highest() HLC {
	h := r.Deleted
	for _, st := range r.Fields {
		if st.HLC.Compare(h) > 0 {
			h = st.HLC
		}
	}
	return h
}

// Loss is a field value that did not survive a merge: either the incoming
// value lost to a newer stored one, or a stored value was overwritten by a
// newer incoming one. Nothing is discarded silently: callers keep losses in a
// conflict log.
type Loss struct {
	Field string
	// Value and HLC are the value that lost and its write's HLC.
	Value json.RawMessage
	HLC   HLC
	// WinnerHLC is the HLC of the value that was kept.
	WinnerHLC HLC
	// Incoming is true when the losing value was the incoming one.
	Incoming bool
}

// Outcome says what Merge did.
type Outcome struct {
	Won    []string // fields whose incoming value was stored
	Same   []string // fields already stored with the same HLC and value
	Losses []Loss
	// DeleteApplied is true when a delete set or advanced the tombstone;
	// DeleteSame when the same tombstone was already there; DeleteOlder
	// when a newer one was (another device's delete).
	DeleteApplied, DeleteSame, DeleteOlder bool
}

// Status summarises the outcome as a PushResult status.
func (o Outcome) Status() string {
	switch {
	case len(o.Won) > 0 || o.DeleteApplied:
		return StatusApplied
	case o.DeleteOlder:
		return StatusStale
	case len(o.Losses) == 0 || o.DeleteSame:
		return StatusDuplicate
	default:
		return StatusStale
	}
}

// wins reports whether an incoming write (v, h) beats the stored one. HLCs
// decide; equal HLCs (which only a misbehaving node produces) fall back to
// the byte order of the values' canonical encodings, so that the rule stays
// a total order and every delivery order converges on the same value — the
// greater one — while the other is reported as a loss.
func wins(v json.RawMessage, h HLC, cur FieldState) bool {
	if c := h.Compare(cur.HLC); c != 0 {
		return c > 0
	}
	return bytes.Compare(v, cur.Value) > 0
}

// Superseded reports whether the mutation stamped h is in r already, as
// sent or overwritten since by later writes of its own node (h.Node) or
// ones decides takes for its own (an office's decision on a field; nil:
// none), so that merging it changes nothing: its delete is r's tombstone
// or older than one of its node's; or each of its fields (one at least),
// on a record not deleted, is stored at h with this value, or at a later
// HLC of its node or one decides takes. It is then answered duplicate, or
// stale with losses only to those writes.
func Superseded(r *Record, fields map[string]json.RawMessage, del bool, h HLC, decides func(field string, at HLC) bool) bool {
	later := func(field string, at HLC) bool {
		return at.Compare(h) > 0 && (at.Node == h.Node || decides != nil && decides(field, at))
	}
	if del {
		return r.Deleted == h || later("", r.Deleted)
	}
	if len(fields) == 0 || r.IsDeleted() {
		return false
	}
	for name, v := range fields {
		cur, ok := r.Fields[name]
		switch {
		case !ok:
			return false
		case cur.HLC == h:
			if !bytes.Equal(cur.Value, v) {
				return false
			}
		case !later(name, cur.HLC):
			return false
		}
	}
	return true
}

// Merge applies one mutation stamped h to r by per-field last-writer-wins.
// It is commutative, associative and idempotent: applying any set of
// mutations, in any order and any number of times, yields the same record.
// A delete sets the tombstone to the greatest delete HLC seen; a deleted
// record stays deleted (field writes still merge, so states converge, but
// they are reported as losses to the tombstone).
func Merge(r *Record, fields map[string]json.RawMessage, del bool, h HLC) Outcome {
	var o Outcome
	if r.Fields == nil {
		r.Fields = make(map[string]FieldState, len(fields))
	}
	if del {
		switch c := h.Compare(r.Deleted); {
		case c > 0:
			r.Deleted = h
			o.DeleteApplied = true
		case c == 0:
			o.DeleteSame = true
		default:
			o.DeleteOlder = true
		}
		return o
	}
	// The order of the outcome's lists is unspecified (map order): the
	// merge itself does not depend on it. Most writes win every field.
	o.Won = make([]string, 0, len(fields))
	for name, v := range fields {
		cur, ok := r.Fields[name]
		switch {
		case ok && cur.HLC == h && bytes.Equal(cur.Value, v):
			o.Same = append(o.Same, name)
		case !ok || wins(v, h, cur):
			// A node overwriting its own earlier value is an edit, not a
			// conflict; the same HLC carrying another value is one (only a
			// misbehaving node reuses an HLC), and its loser is kept.
			if ok && (cur.HLC.Node != h.Node || cur.HLC == h) {
				o.Losses = append(o.Losses, Loss{Field: name, Value: cur.Value, HLC: cur.HLC, WinnerHLC: h})
			}
			r.Fields[name] = FieldState{Value: v, HLC: h}
			o.Won = append(o.Won, name)
		default:
			o.Losses = append(o.Losses, Loss{Field: name, Value: v, HLC: h, WinnerHLC: cur.HLC, Incoming: true})
		}
	}
	return o
}

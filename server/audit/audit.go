// Package audit is fieldsync's sealed audit trail, as a domain: the
// entries that record review decisions, changes to reviewed records,
// evidence flags and task progress, each carrying the hash of the one
// before it; the check of such a chain; and the monthly seals, signed with
// the server's Ed25519 key, that fix a month's entries so that a rewrite
// of the chain, even one that recomputes every hash, is found. It knows no
// SQL and no HTTP; the stores keep the entries (table audit_log) and the
// seals (audit_seals). docs/audit.md describes the scheme.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Actions: what an entry records.
const (
	// ActionReview is an office's decision on an inspection.
	ActionReview = "review"
	// ActionRecordChange is a change to an approved or returned
	// inspection, or to one of its findings or photos, or a change to a
	// roadside check by another user than the one who made it or after
	// the day it was made.
	ActionRecordChange = "record_change"
	// ActionEvidenceFlags is a change of a photo's evidence flags.
	ActionEvidenceFlags = "evidence_flags"
	// ActionTaskProgress is a county's progress report on a task.
	ActionTaskProgress = "task_progress"
	// ActionAccount is an administrator's change to an account, a device
	// or a console session (a user added, disabled or enabled, a password
	// reset, counties changed, a device revoked or reinstated, a session
	// ended): the entry's Entity is "user", "device" or
	// "console_session", its RecordID the username or the id, its changes
	// "operation" (user_added, password_reset, …) and what was set.
	ActionAccount = "account"
)

// Actions lists every action, in the order seals and reports show them.
// (A seal signed before an action was added has no count of it: read as
// none, which it was.)
var Actions = []string{ActionReview, ActionRecordChange, ActionEvidenceFlags, ActionTaskProgress, ActionAccount}

// Genesis is the prev_hash of the first entry of a chain.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one audit record. Every field but Hash is covered by Hash.
type Entry struct {
	Seq int64 `json:"seq"` // 1, 2, 3, … with no gap
	// At is when the server made the entry (UTC, millisecond precision:
	// the hash covers its Unix milliseconds).
	At time.Time `json:"at"`
	// ActorID and ActorName are the user who acted; ActorID is "" for the
	// server itself (photo processing).
	ActorID   string `json:"actor_id"`
	ActorName string `json:"actor_name"`
	// DeviceID is the phone the change came from ("" for the console and
	// the server).
	DeviceID string `json:"device_id"`
	Action   string `json:"action"`
	Entity   string `json:"entity"`
	RecordID string `json:"record_id"`
	// InspectionID is the inspection the record belongs to (itself for an
	// inspection; "" when none), so an inspection's history includes its
	// findings and photos.
	InspectionID string `json:"inspection_id"`
	County       string `json:"county"`
	// Changes is a JSON object, field name → {"old": …, "new": …}, kept
	// and hashed byte for byte as written (MakeChanges writes it).
	Changes  json.RawMessage `json:"changes"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Change is one field's values before and after (JSON null when absent).
type Change struct {
	Old json.RawMessage `json:"old"`
	New json.RawMessage `json:"new"`
}

// MakeChanges encodes changes as an entry's Changes: keys sorted, values
// as given (null for none).
func MakeChanges(changes map[string]Change) json.RawMessage {
	for k, c := range changes {
		if len(c.Old) == 0 {
			c.Old = json.RawMessage("null")
		}
		if len(c.New) == 0 {
			c.New = json.RawMessage("null")
		}
		changes[k] = c
	}
	b, err := json.Marshal(changes) // map keys sorted
	if err != nil {
		// Values are the store's canonical JSON; a failure is a bug.
		panic(fmt.Sprintf("audit changes: %v", err))
	}
	return b
}

// DecodeChanges reads an entry's Changes (nil if it is not an object).
func (e *Entry) DecodeChanges() map[string]Change {
	var m map[string]Change
	_ = json.Unmarshal(e.Changes, &m)
	return m
}

// canonical writes parts as "fieldsync-audit-v1" followed, for each part,
// by its length in bytes in decimal, a colon and the part itself: no part
// can be shifted into its neighbour.
func canonical(tag string, parts ...string) []byte {
	var b strings.Builder
	b.WriteString(tag)
	b.WriteByte('\n')
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return []byte(b.String())
}

// ComputeHash returns the hex SHA-256 of the entry's canonical encoding:
// tag "fieldsync-audit-v1", then seq, at (Unix ms), actor_id, actor_name,
// device_id, action, entity, record_id, inspection_id, county, changes
// (its bytes) and prev_hash, each length-prefixed (canonical).
func (e *Entry) ComputeHash() string {
	sum := sha256.Sum256(canonical("fieldsync-audit-v1",
		strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At.UnixMilli(), 10),
		e.ActorID, e.ActorName, e.DeviceID, e.Action, e.Entity, e.RecordID, e.InspectionID, e.County,
		string(e.Changes), e.PrevHash))
	return hex.EncodeToString(sum[:])
}

// Link makes e the entry after one with sequence number seq and hash
// head: it sets Seq, PrevHash and Hash (and rounds At to the millisecond).
func (e *Entry) Link(seq int64, head string) {
	e.At = e.At.UTC().Truncate(time.Millisecond)
	e.Seq, e.PrevHash = seq+1, head
	e.Hash = e.ComputeHash()
}

// Mismatch is the first entry of a chain (or a seal) that does not match.
type Mismatch struct {
	Seq    int64  // the entry's sequence number (0: the seal itself)
	Reason string // what differs
}

func (m *Mismatch) Error() string {
	if m.Seq == 0 {
		return m.Reason
	}
	return fmt.Sprintf("entry %d: %s", m.Seq, m.Reason)
}

// Chain checks entries one after another: their sequence numbers follow
// with no gap, each names the hash of the one before, and each hash is
// that of its content.
type Chain struct {
	next int64  // the sequence number expected next
	head string // the hash of the last entry seen
}

// NewChain starts a check at the entry numbered first, whose prev_hash
// must be base (Genesis for the chain's first entry).
func NewChain(first int64, base string) *Chain { return &Chain{next: first, head: base} }

// Add checks the next entry and returns the mismatch, if any. After a
// mismatch the chain follows the entry as stored, so later calls report
// later problems.
func (c *Chain) Add(e *Entry) *Mismatch {
	var m *Mismatch
	switch {
	case e.Seq > c.next:
		m = &Mismatch{Seq: c.next, Reason: fmt.Sprintf("missing (the next entry stored is %d)", e.Seq)}
	case e.Seq < c.next:
		m = &Mismatch{Seq: e.Seq, Reason: fmt.Sprintf("out of order (expected %d)", c.next)}
	case e.PrevHash != c.head:
		m = &Mismatch{Seq: e.Seq, Reason: fmt.Sprintf("prev_hash %s is not the hash of the entry before (%s)", short(e.PrevHash), short(c.head))}
	case e.ComputeHash() != e.Hash:
		m = &Mismatch{Seq: e.Seq, Reason: fmt.Sprintf("content does not match its hash (stored %s, computed %s)", short(e.Hash), short(e.ComputeHash()))}
	}
	c.next, c.head = e.Seq+1, e.Hash
	return m
}

// Next is the sequence number the chain expects next.
func (c *Chain) Next() int64 { return c.next }

// Head is the hash of the last entry added (the base before any).
func (c *Chain) Head() string { return c.head }

// Verify checks entries as a chain from first and base and returns the
// first mismatch, or nil.
func Verify(first int64, base string, entries []Entry) *Mismatch {
	c := NewChain(first, base)
	for i := range entries {
		if m := c.Add(&entries[i]); m != nil {
			return m
		}
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

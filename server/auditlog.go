package server

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file decides what the audit log records (package audit keeps the
// chain): review decisions (Review), device changes to an inspection that
// an office has approved or returned and to its findings and photos, and
// to a roadside check by another user than the one who made it or after
// the day it was made (apply), changes of a photo's evidence flags, and
// task progress reports (writeCanonical). Each entry is appended in the write transaction of
// the change, so both commit or neither does.

// AuditedStatuses are the stored inspection statuses whose changes (and
// their findings' and photos') are audited: the office has judged them.
var AuditedStatuses = []string{"approved", "returned"}

// AuditServerName is the actor name of the server's own entries (photo
// processing), whose actor id is "".
const AuditServerName = "服务器"

// auditTarget tells whether a device write by p at now to r is audited
// and which inspection r belongs to. It reads r as stored (before the
// merge) and the references vals sets (a new record's), and at most its
// parent records, which the push has usually read for its checks already
// (cached in the transaction).
func (s *Syncer) auditTarget(ctx context.Context, tx WriteTx, p *Principal, r *StoredRecord, vals map[string]json.RawMessage, now time.Time) (string, bool, error) {
	ref := func(name string) string {
		var id string
		if v, ok := vals[name]; ok {
			_ = json.Unmarshal(v, &id)
		} else {
			id = r.Text(name)
		}
		return id
	}
	inspID := ""
	switch r.Entity.Name {
	case syncproto.EntityInspection:
		return r.ID, slices.Contains(AuditedStatuses, r.Text("status")), nil
	case syncproto.EntityVehicleCheck:
		// A roadside check is the record of a stop and counts in the
		// month's figures: a change by someone else than the inspector
		// who made it, or on a later day, is kept with what it replaced
		// (the correction made at the truck, the same day, is not).
		return "", r.Seq != 0 && (p.UserID != r.CreatedBy || ChinaDay(now) != ChinaDay(r.CreatedAt)), nil
	case syncproto.EntityFinding:
		inspID = ref("inspection_id")
	case syncproto.EntityPhoto:
		if inspID = ref("inspection_id"); inspID == "" {
			if fid := ref("finding_id"); fid != "" {
				f, err := tx.Get(ctx, EntityByName(syncproto.EntityFinding), fid)
				if err != nil || f == nil {
					return "", false, err
				}
				inspID = f.Text("inspection_id")
			}
		}
	}
	if inspID == "" {
		return "", false, nil
	}
	insp, err := tx.Get(ctx, EntityByName(syncproto.EntityInspection), inspID)
	if err != nil || insp == nil {
		return "", false, err
	}
	return inspID, slices.Contains(AuditedStatuses, insp.Text("status")), nil
}

// auditSnapshot returns the stored values of the fields vals names.
func auditSnapshot(r *StoredRecord, vals map[string]json.RawMessage) map[string]json.RawMessage {
	old := make(map[string]json.RawMessage, len(vals))
	for name := range vals {
		old[name] = r.State.Fields[name].Value
	}
	return old
}

// auditChanges lists, for the fields named, the old value and r's value.
func auditChanges(r *StoredRecord, old map[string]json.RawMessage, fields []string) map[string]audit.Change {
	out := make(map[string]audit.Change, len(fields))
	for _, f := range fields {
		out[f] = audit.Change{Old: old[f], New: r.State.Fields[f].Value}
	}
	return out
}

// appendAudit appends an entry about r.
func appendAudit(ctx context.Context, tx WriteTx, action string, actorID, actorName, deviceID string, r *StoredRecord,
	inspectionID string, changes map[string]audit.Change, now time.Time) error {
	return tx.AppendAudit(ctx, &audit.Entry{At: now, ActorID: actorID, ActorName: actorName, DeviceID: deviceID,
		Action: action, Entity: r.Entity.Name, RecordID: r.ID, InspectionID: inspectionID, County: r.County,
		Changes: audit.MakeChanges(changes)})
}

// AccountAction is an administrator's change to an account, for the
// audit log (audit.ActionAccount): a password reset lets whoever did it
// sign in as the user, so it is kept where nobody can quietly rewrite it.
type AccountAction struct {
	// ActorID and ActorName are the administrator ("" and 命令行 for the
	// command line, run by whoever holds the server's data).
	ActorID, ActorName string
	Action             string // user_added, password_reset, user_disabled, …
	Entity, RecordID   string // "user" and the username, "device" and its id, …
	// Set is what the action set (a role, counties), by name; Was what
	// those were before, where the action replaced them (counties).
	Set, Was map[string]any
}

// By names p as the action's actor: their display name with the
// username beside it (names are not unique, and any administrator may be
// given one that reads as another's). A nil p leaves the actor as it is.
func (a AccountAction) By(p *Principal) AccountAction {
	if p != nil {
		a.ActorID, a.ActorName = p.UserID, p.Name+"（"+p.Username+"）"
	}
	return a
}

// DeviceByID returns any user's device by its id (the caller is an
// administrator). Errors: not_found.
func DeviceByID(ctx context.Context, st AccountStore, id string) (*Device, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, Errorf(syncproto.CodeNotFound, "设备不存在")
	}
	return st.Device(ctx, id)
}

// SetDeviceRevoked revokes the device (revoke) or reinstates it, and
// returns the device as it was and the account action for the audit log
// (naming the device and its user), or a nil action when the device was
// in that state already: a request sent twice changes nothing and is not
// recorded twice. The console, the API and the command line all change
// devices through it. Errors: not_found.
func SetDeviceRevoked(ctx context.Context, st AccountStore, id string, revoke bool, now time.Time) (*Device, *AccountAction, error) {
	d, err := DeviceByID(ctx, st, id)
	if err != nil {
		return nil, nil, err
	}
	if (d.RevokedAt != nil) == revoke {
		return d, nil, nil
	}
	action, change := "device_revoked", st.RevokeDevice
	if !revoke {
		action, change = "device_reinstated", st.ReinstateDevice
	}
	if err := change(ctx, d.ID, now); err != nil {
		return nil, nil, err
	}
	return d, &AccountAction{Action: action, Entity: "device", RecordID: d.ID,
		Set: map[string]any{"device_name": d.Name, "user": d.Username}}, nil
}

// AuditAccount appends a to the audit log, in a write transaction of its
// own: after the change it records, which is already made (an entry that
// cannot be appended is the caller's to report; the change stands).
func AuditAccount(ctx context.Context, st Store, a AccountAction, now time.Time) error {
	changes := map[string]audit.Change{"operation": {New: mustJSON(a.Action)}}
	for k, v := range a.Set {
		c := audit.Change{New: mustJSON(v)}
		if old, ok := a.Was[k]; ok {
			c.Old = mustJSON(old)
		}
		changes[k] = c
	}
	return st.Update(ctx, func(tx WriteTx) error {
		return tx.AppendAudit(ctx, &audit.Entry{At: now, ActorID: a.ActorID, ActorName: a.ActorName,
			Action: audit.ActionAccount, Entity: a.Entity, RecordID: a.RecordID, Changes: audit.MakeChanges(changes)})
	})
}

// auditServerWrite says whether a server write of these changed fields
// to r is audited, and as what: a photo's flags, or a task progress row.
func auditServerWrite(r *StoredRecord, changed map[string]json.RawMessage) string {
	switch r.Entity.Name {
	case syncproto.EntityPhoto:
		if v, ok := changed["flags"]; ok && !(noFlags(v) && noFlags(r.State.Fields["flags"].Value)) {
			return audit.ActionEvidenceFlags
		}
	case syncproto.EntityTaskProgress:
		return audit.ActionTaskProgress
	}
	return ""
}

// noFlags reports whether a flags value raises none (absent, null, an
// empty object or list).
func noFlags(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return isNull(v) || bytes.Equal(v, []byte("{}")) || bytes.Equal(v, []byte("[]"))
}

// auditServerEntry appends the entry of an audited server write: action
// from auditServerWrite, old the stored values of changed's fields.
func (s *Syncer) auditServerEntry(ctx context.Context, tx WriteTx, action string, r *StoredRecord, old map[string]json.RawMessage,
	changed map[string]json.RawMessage, now time.Time) error {
	switch action {
	case audit.ActionEvidenceFlags:
		inspID := r.Text("inspection_id")
		if inspID == "" && r.Text("finding_id") != "" {
			f, err := tx.Get(ctx, EntityByName(syncproto.EntityFinding), r.Text("finding_id"))
			if err != nil {
				return err
			}
			if f != nil {
				inspID = f.Text("inspection_id")
			}
		}
		return appendAudit(ctx, tx, action, "", AuditServerName, "", r, inspID, auditChanges(r, old, []string{"flags"}), now)
	default: // task progress, reported by an office
		// reported_at included: when the report says it was made (the
		// demo's are dated in the month before it is written), which a
		// past month's report reads the entry by (ProgressAsOf).
		return appendAudit(ctx, tx, action, r.Text("reported_by"), r.Text("reported_by_name"), "", r, "",
			auditChanges(r, old, slices.Collect(maps.Keys(changed))), now)
	}
}

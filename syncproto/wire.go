package syncproto

import "encoding/json"

// API paths, relative to the server's base URL.
const (
	PathLogin   = "/api/v1/auth/login"
	PathRefresh = "/api/v1/auth/refresh"
	PathLogout  = "/api/v1/auth/logout"
	PathMe      = "/api/v1/me"
	PathPull    = "/api/v1/sync/pull"
	PathPush    = "/api/v1/sync/push"

	// HLCsGrouped is the value of the pull parameter hlcs that asks for
	// each change's HLCs as hlc_groups rather than per field.
	HLCsGrouped = "grouped"
)

// HeaderServerHLC carries the server's HLC on every response, so a client can
// advance its clock from any exchange, errors included.
const HeaderServerHLC = "X-Server-HLC"

// Entity names used in mutations and changes.
const (
	EntityCounty       = "county"
	EntityTemplate     = "checklist_template"
	EntityTask         = "rectification_task"
	EntitySite         = "site"
	EntityInspection   = "inspection"
	EntityFinding      = "finding"
	EntityPhoto        = "photo"
	EntityVehicleCheck = "vehicle_check"
	EntityReview       = "review"
	// EntityTaskProgress is a county's progress on a rectification task,
	// written by offices and read by phones.
	EntityTaskProgress = "task_progress"
)

// Mutation statuses in a PushResult.
const (
	// StatusApplied: at least one field (or the delete) took effect.
	StatusApplied = "applied"
	// StatusDuplicate: everything in the mutation was already stored with the
	// same HLC — a retry. Nothing changed.
	StatusDuplicate = "duplicate"
	// StatusStale: every field lost to a newer value already stored; the
	// losing values are kept in the conflict log.
	StatusStale = "stale"
	// StatusRejected: the mutation was refused; Code says why. Nothing of it
	// was stored, and it should not be retried unchanged.
	StatusRejected = "rejected"
)

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	DeviceID   string `json:"device_id"`
	DeviceName string `json:"device_name"`
}

// RefreshRequest is the body of POST /api/v1/auth/refresh. (Logout takes
// no body: it ends the refresh token of the calling device.)
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// TokenResponse answers a login or a refresh.
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	User             User   `json:"user"`
	ServerHLC        string `json:"server_hlc"`
}

// User describes the signed-in user and the counties they may see.
type User struct {
	ID          string   `json:"id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Role        string   `json:"role"`
	Counties    []string `json:"counties"`
	DeviceID    string   `json:"device_id,omitempty"`
}

// Mutation is one change a device makes to one record: a set of field values
// stamped with one HLC, or a delete.
type Mutation struct {
	Entity string                     `json:"entity"`
	ID     string                     `json:"id"`
	Fields map[string]json.RawMessage `json:"fields,omitempty"`
	Delete bool                       `json:"delete,omitempty"`
	HLC    string                     `json:"hlc"`
}

// PushRequest is the body of POST /api/v1/sync/push. BatchID (a UUID the
// device makes once per batch and keeps across retries) makes the push
// idempotent.
type PushRequest struct {
	DeviceID  string     `json:"device_id"`
	BatchID   string     `json:"batch_id"`
	Mutations []Mutation `json:"mutations"`
}

// PushResult is the outcome of one mutation, in request order.
type PushResult struct {
	Entity  string `json:"entity"`
	ID      string `json:"id"`
	Status  string `json:"status"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// LostFields names fields whose incoming values lost to newer ones.
	LostFields []string `json:"lost_fields,omitempty"`
}

// PushResponse answers a push.
type PushResponse struct {
	BatchID   string       `json:"batch_id"`
	Results   []PushResult `json:"results"`
	ServerHLC string       `json:"server_hlc"`
	// Replayed is true when the batch had been received before and these are
	// the stored results of that first delivery.
	Replayed bool `json:"replayed"`
}

// Change is one record's current state in a pull page.
type Change struct {
	Seq    int64                      `json:"seq"`
	Entity string                     `json:"entity"`
	ID     string                     `json:"id"`
	County string                     `json:"county"`
	Fields map[string]json.RawMessage `json:"fields"`
	// HLCs holds each field's last-write HLC, so a device can merge the
	// change with its own unsent edits by the same rule as the server.
	// A pull with hlcs=grouped sends HLCGroups instead (and HLCs empty).
	HLCs map[string]string `json:"hlcs"`
	// HLCGroups maps each HLC to the fields it last wrote (the fields of
	// one write share one HLC, so this is several times smaller than
	// HLCs). Sent only to a pull that asks for it with hlcs=grouped;
	// Client.Pull asks, and expands it into HLCs.
	HLCGroups  map[string][]string `json:"hlc_groups,omitempty"`
	Deleted    bool                `json:"deleted"`
	DeletedHLC string              `json:"deleted_hlc,omitempty"`
}

// PullResponse answers GET /api/v1/sync/pull.
type PullResponse struct {
	Changes   []Change `json:"changes"`
	Cursor    string   `json:"cursor"`
	HasMore   bool     `json:"has_more"`
	ServerHLC string   `json:"server_hlc"`
}

// ErrorBody is every error response's JSON body.
type ErrorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
	ServerHLC string `json:"server_hlc,omitempty"`
}

// ExpandHLCs moves HLCGroups into HLCs (each field of a group gets the
// group's HLC), so a change pulled with hlcs=grouped merges like one pulled
// without. A field named in two groups, or already in HLCs, keeps the
// greatest HLC, so the result does not depend on map order.
func (c *Change) ExpandHLCs() {
	if len(c.HLCGroups) == 0 {
		return
	}
	if c.HLCs == nil {
		c.HLCs = make(map[string]string)
	}
	for h, names := range c.HLCGroups {
		for _, name := range names {
			if cur, ok := c.HLCs[name]; !ok || h > cur {
				c.HLCs[name] = h
			}
		}
	}
	c.HLCGroups = nil
}

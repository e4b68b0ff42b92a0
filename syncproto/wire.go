package syncproto

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// API paths, relative to the server's base URL.
const (
	PathLogin   = "/api/v1/auth/login"
	PathRefresh = "/api/v1/auth/refresh"
	PathLogout  = "/api/v1/auth/logout"
	// PathPassword is the signed-in user's own password change.
	PathPassword = "/api/v1/auth/password"
	PathMe       = "/api/v1/me"
	PathPull     = "/api/v1/sync/pull"
	PathPush     = "/api/v1/sync/push"

	// HLCsGrouped is the value of the pull parameter hlcs that asks for
	// each change's HLCs as hlc_groups rather than per field.
	HLCsGrouped = "grouped"

	// FormCompact is the value of the pull parameter form that asks for a
	// CompactPage instead of a PullResponse.
	FormCompact = "compact"
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
	// KnownClient is the known_client of this account's last sign-in on
	// this device, if it kept one: the account's failed sign-ins from
	// elsewhere do not hold it back.
	KnownClient string `json:"known_client,omitempty"`
}

// RefreshRequest is the body of POST /api/v1/auth/refresh. (Logout takes
// no body: it ends the refresh token of the calling device.)
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// PasswordRequest is the body of POST /api/v1/auth/password: the signed-in
// user's own password change, answered with the device's new tokens
// (TokenResponse).
type PasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// TokenResponse answers a login, a refresh or a password change.
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	User             User   `json:"user"`
	ServerHLC        string `json:"server_hlc"`
	// KnownClient, in a sign-in's answer, is a token the device keeps
	// and sends with its next sign-in of the account (LoginRequest).
	KnownClient string `json:"known_client,omitempty"`
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
	// Seen names, for fields of Fields, the HLC of the value the device
	// held when it wrote this one (the server's value it had last
	// learnt, with no unsent change of its own to it): a stored value of
	// that HLC overwritten by this write was known to the writer — a
	// later edit, not a conflict — and is not logged as one. Optional.
	Seen map[string]string `json:"seen,omitempty"`
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
	// Field, in a rejection for one field's value, names it (plate,
	// answers.fence, a member of a map field by its dotted path).
	Field string `json:"field,omitempty"`
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
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field, when the fault is at one place of the request body, is its
	// JSON path (mutations[3].fields.summary, refresh_token): for programs,
	// where Message names it for people.
	Field     string `json:"field,omitempty"`
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

// CompactPage answers GET /api/v1/sync/pull?form=compact: the same records
// as a PullResponse in about two thirds of the bytes (sync.md §8.4).
// Records are grouped by entity; each carries one HLC for most of its
// fields and names only the exceptions; every HLC is written as
// "wall-counter-n", n an index into Nodes. Response expands it.
type CompactPage struct {
	Records map[string][]CompactRecord `json:"records"`
	// Nodes is the page's node table: the node ids of its HLCs.
	Nodes []string `json:"nodes"`
	// ServerFields are the fields a record carries without an HLC
	// (created_by, received_at): the record's HLC does not cover them.
	ServerFields []string `json:"server_fields"`
	Cursor       string   `json:"cursor"`
	HasMore      bool     `json:"has_more"`
	ServerHLC    string   `json:"server_hlc"`
}

// CompactRecord is one record's current state in a CompactPage.
type CompactRecord struct {
	ID string `json:"id"`
	// County is sent only when fields.county does not give it (absent:
	// the county field's value, or "" when there is none).
	County *string                    `json:"county,omitempty"`
	Fields map[string]json.RawMessage `json:"fields,omitempty"`
	// HLC is the last-write HLC of every field not in HLCFields and not
	// a server field.
	HLC        string            `json:"hlc,omitempty"`
	HLCFields  map[string]string `json:"hlc_fields,omitempty"`
	Deleted    bool              `json:"deleted,omitempty"`
	DeletedHLC string            `json:"deleted_hlc,omitempty"`
}

// Response expands the page into the PullResponse a pull without
// form=compact would have given: Changes with per-field HLCs, sorted by
// entity and then in page order (a page is applied in one transaction,
// so its order carries no meaning), each with Seq 0 (the compact form
// does not send it). A malformed page is an error.
func (p *CompactPage) Response() (*PullResponse, error) {
	resp := &PullResponse{Changes: []Change{}, Cursor: p.Cursor, HasMore: p.HasMore, ServerHLC: p.ServerHLC}
	server := make(map[string]bool, len(p.ServerFields))
	for _, name := range p.ServerFields {
		server[name] = true
	}
	expand := func(h string) (string, error) {
		parts := strings.Split(h, "-")
		if len(parts) == 3 {
			w, ok1 := compactDigits(parts[0], 15)
			c, ok2 := compactDigits(parts[1], 5)
			n, ok3 := compactDigits(parts[2], 9)
			if ok1 && ok2 && ok3 && c <= MaxCounter && n < int64(len(p.Nodes)) {
				hl := HLC{Wall: w, Counter: uint32(c), Node: p.Nodes[n]}
				if _, err := ParseHLC(hl.String()); err == nil && !hl.IsZero() {
					return hl.String(), nil
				}
			}
		}
		return "", fmt.Errorf("compact page: malformed hlc %q", h)
	}
	entities := make([]string, 0, len(p.Records))
	for entity := range p.Records {
		entities = append(entities, entity)
	}
	slices.Sort(entities)
	for _, entity := range entities {
		for _, r := range p.Records[entity] {
			ch := Change{Entity: entity, ID: r.ID, Fields: map[string]json.RawMessage{}, HLCs: map[string]string{}}
			if r.County != nil {
				ch.County = *r.County
			} else if v, ok := r.Fields["county"]; ok {
				if err := json.Unmarshal(v, &ch.County); err != nil {
					return nil, fmt.Errorf("compact page: %s %s: county: %w", entity, r.ID, err)
				}
			}
			if r.Deleted {
				h, err := expand(r.DeletedHLC)
				if err != nil {
					return nil, err
				}
				ch.Deleted, ch.DeletedHLC = true, h
				resp.Changes = append(resp.Changes, ch)
				continue
			}
			var main string
			if r.HLC != "" {
				var err error
				if main, err = expand(r.HLC); err != nil {
					return nil, err
				}
			}
			for name, v := range r.Fields {
				ch.Fields[name] = v
				if server[name] {
					continue
				}
				h, ok := r.HLCFields[name]
				if !ok {
					if main == "" {
						return nil, fmt.Errorf("compact page: %s %s: field %s has no hlc", entity, r.ID, name)
					}
					ch.HLCs[name] = main
					continue
				}
				var err error
				if ch.HLCs[name], err = expand(h); err != nil {
					return nil, err
				}
			}
			resp.Changes = append(resp.Changes, ch)
		}
	}
	return resp, nil
}

// compactDigits reads a part of a compact HLC: 1 to max decimal digits.
func compactDigits(s string, max int) (int64, bool) {
	if len(s) == 0 || len(s) > max {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// EncodedBody reports whether a request's Content-Encoding values (its
// header's, in order) code its body other than as itself ("identity").
// The server takes no coded bodies: read as they come, a gzipped JSON body
// would be "malformed JSON" and a gzipped photo chunk stored as the
// photo's bytes.
func EncodedBody(contentEncoding []string) bool {
	for _, v := range contentEncoding {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return true
			}
		}
	}
	return false
}

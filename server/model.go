package server

import (
	"context"
	"slices"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Role is what a user may do.
type Role string

// The roles. Inspectors work in their own counties; a county office reviews
// its counties; the city office and admins see every county.
const (
	RoleInspector    Role = "inspector"
	RoleCountyOffice Role = "county_office"
	RoleCityOffice   Role = "city_office"
	RoleAdmin        Role = "admin"
)

// RoleLabels are the roles' Chinese names.
var RoleLabels = map[Role]string{
	RoleInspector: "巡查员", RoleCountyOffice: "区县督查", RoleCityOffice: "市级督查", RoleAdmin: "管理员",
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleInspector, RoleCountyOffice, RoleCityOffice, RoleAdmin:
		return true
	}
	return false
}

// Check refuses a role that is not known. Errors: invalid_value (field
// role).
func (r Role) Check() error {
	if !r.Valid() {
		return Errorf(syncproto.CodeInvalidValue, "未知角色，可选：巡查员（inspector）、区县督查（county_office）、市级督查（city_office）、管理员（admin）").At("role")
	}
	return nil
}

// AllCounties reports whether the role sees every county whatever its list.
func (r Role) AllCounties() bool { return r == RoleCityOffice || r == RoleAdmin }

// CheckCounties says whether a user of the role may have these counties:
// an inspector or a county office with none could do nothing (nothing to
// pull, every write out of scope). Errors: missing_field.
func (r Role) CheckCounties(counties []string) error {
	if !r.AllCounties() && len(counties) == 0 {
		return Errorf(syncproto.CodeMissingField, "巡查员和区县督查至少要有一个区县")
	}
	return nil
}

// CheckCountiesChange says whether a user of the role may have their
// counties replaced by these: as CheckCounties, and none but an empty
// list for a role that sees every county whatever its list — stored and
// shown, such a list made an administrator believe a city office's view
// was limited. Errors: missing_field, invalid_value.
func (r Role) CheckCountiesChange(counties []string) error {
	if r.AllCounties() && len(counties) > 0 {
		return Errorf(syncproto.CodeInvalidValue, "市级督查和管理员查看全部区县，不能限定区县；如只应看部分区县，请为其另建区县督查账号")
	}
	return r.CheckCounties(counties)
}

// CanReview reports whether the role may approve or return inspections.
func (r Role) CanReview() bool { return r != RoleInspector && r.Valid() }

// User is an account.
type User struct {
	ID           string
	Username     string
	DisplayName  string
	Role         Role
	Counties     []string
	Disabled     bool
	ScopeVersion int64
	CreatedAt    time.Time
}

// Device is a phone (or client) registered to a user at login.
type Device struct {
	ID       string
	UserID   string
	Username string
	UserName string // the user's display name (Devices fills it)
	// UserDisabled: an administrator disabled the user (Devices fills
	// it): the device can no longer sync, whatever its own state.
	UserDisabled bool
	Name         string
	CreatedAt    time.Time
	LastSeenAt   time.Time
	RevokedAt    *time.Time
	Health       DeviceHealth
}

// StaleAfter is how long without a sync makes a device stale.
const StaleAfter = 72 * time.Hour

// Stale reports whether the device has gone StaleAfter without a sync
// (pull or push, or since it signed in) at now, while it could sync: a
// revoked device, or one whose user is disabled, is not expected to.
func (d *Device) Stale(now time.Time) bool {
	if d.RevokedAt != nil || d.UserDisabled {
		return false
	}
	last := d.CreatedAt
	for _, t := range []*time.Time{d.Health.LastPullAt, d.Health.LastPushAt} {
		if t != nil && t.After(last) {
			last = *t
		}
	}
	return now.Sub(last) > StaleAfter
}

// PullsBehind reports whether a device that is not Stale (it pushes) has
// gone StaleAfter without a pull — or never pulled, StaleAfter after it
// signed in: its work goes up, but the offices' reviews, returns and site
// changes do not come down.
func (d *Device) PullsBehind(now time.Time) bool {
	if d.RevokedAt != nil || d.UserDisabled || d.Stale(now) {
		return false
	}
	last := d.CreatedAt
	if t := d.Health.LastPullAt; t != nil {
		last = *t
	}
	return now.Sub(last) > StaleAfter
}

// PushesRefused returns the device's last push refused whole when no push
// has been applied since (DeviceHealth.PushRefused), while it could sync
// (not revoked, its user not disabled); nil otherwise.
func (d *Device) PushesRefused() *RefusedPush {
	if d.RevokedAt != nil || d.UserDisabled {
		return nil
	}
	return d.Health.PushRefused()
}

// DeviceHealth is what the server knows of a device's syncing, so an office
// can see a phone that has stopped.
type DeviceHealth struct {
	LastPullAt     *time.Time
	LastPushAt     *time.Time
	LastAckSeq     int64 // the cursor position the device last sent back
	LastBatchID    string
	PendingUploads int // photo records whose bytes have not arrived
	// LastRefused is the last push refused whole (nil: none).
	LastRefused *RefusedPush
}

// RefusedPush is a push the server refused whole: none of its mutations
// was applied, and the phone keeps them to send again.
type RefusedPush struct {
	At            time.Time
	Code, Message string
}

// PushRefused returns the device's last push refused whole when no push
// has been applied since: its pushes fail, though it may still pull
// (nil otherwise).
func (h DeviceHealth) PushRefused() *RefusedPush {
	if r := h.LastRefused; r != nil && (h.LastPushAt == nil || r.At.After(*h.LastPushAt)) {
		return r
	}
	return nil
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID   string
	Username string
	Name     string
	Role     Role
	Counties []string // sorted
	DeviceID string
	// Session is the device's session generation. Every access token
	// carries the generation it was issued in; signing out, and the reuse
	// of a spent refresh token, increment the device's, which voids every
	// token issued before, whatever its timing.
	Session int64
}

// DeviceSession is a device, its user, and the device's session
// generation: what the store answers when a refresh token is exchanged, and
// what a new access token is signed with.
type DeviceSession struct {
	UserID   string
	DeviceID string
	Session  int64
}

// CanSee reports whether county is in the principal's scope. Global
// reference data (county "") is visible to everyone.
func (p *Principal) CanSee(county string) bool {
	return county == "" || p.Role.AllCounties() || slices.Contains(p.Counties, county)
}

// Scope is the set of counties a read is limited to; All means no limit.
type Scope struct {
	All      bool
	Counties []string
}

// Scope returns the principal's read scope.
func (p *Principal) Scope() Scope {
	return Scope{All: p.Role.AllCounties(), Counties: p.Counties}
}

type principalKey struct{}

// ContextWithPrincipal returns ctx carrying p (for handlers that only see a
// context, such as the upload hooks).
func ContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

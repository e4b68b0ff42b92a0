package server

import (
	"context"
	"encoding/json"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// StoredRecord is a synced record as the store keeps it.
type StoredRecord struct {
	Entity        *Entity
	ID            string
	County        string // "" for global reference data
	Seq           int64  // position in the change feed, set by WriteTx.Put
	State         syncproto.Record
	CreatedDevice string
	CreatedBy     string    // user id; "" for the server's own records
	CreatedAt     time.Time // when the server received the record
	UpdatedAt     time.Time
}

// Value returns the stored value of a field (nil when absent).
func (r *StoredRecord) Value(field string) json.RawMessage {
	return r.State.Fields[field].Value
}

// Text returns a text field's value, or "".
func (r *StoredRecord) Text(field string) string {
	var s string
	_ = json.Unmarshal(r.Value(field), &s)
	return s
}

// Conflict is one losing field value, kept so that nothing is lost silently.
type Conflict struct {
	ID        int64           `json:"id"`
	Entity    string          `json:"entity"`
	RecordID  string          `json:"record_id"`
	County    string          `json:"county"`
	Field     string          `json:"field"`
	Value     json.RawMessage `json:"value"`
	HLC       string          `json:"hlc"`
	WinnerHLC string          `json:"winner_hlc"`
	// Reason is ConflictOlder, ConflictEqualHLC or ConflictDeleted.
	Reason   string    `json:"reason"`
	DeviceID string    `json:"device_id"`
	UserID   string    `json:"user_id"`
	At       time.Time `json:"at"`
}

// Why a value is in the conflict log.
const (
	// ConflictOlder: the value lost to one with a greater HLC.
	ConflictOlder = "older"
	// ConflictEqualHLC: another value arrived with the very same HLC (a
	// device that reused a timestamp); the greater canonical value was
	// kept, whatever the order of arrival, and this one is logged.
	ConflictEqualHLC = "equal_hlc"
	// ConflictDeleted: the value was written to a deleted record.
	ConflictDeleted = "deleted"
)

// Batch is a push batch's stored outcome, kept so a retry answers the same.
type Batch struct {
	DeviceID    string
	BatchID     string
	RequestHash string
	Response    []byte
}

// EarlyDelete is a device's delete of a record the store did not hold when
// it arrived: a delete that overtook its record's create (the creating
// phone's batch resent after the deleting phone's, after a restore; a
// client sending its batches out of order). It is kept, with who made it
// and their scope then, so that the create, when it comes, ends deleted
// as it would in the other order (sync.md 6, not_found).
type EarlyDelete struct {
	Entity string
	ID     string
	HLC    syncproto.HLC
	// By is the deleting user and device, with the counties they held.
	By Principal
	At time.Time
}

// WriteTx is the storage a write runs in: one transaction, and the only one
// writing at that moment, so sequence numbers are assigned in commit order.
type WriteTx interface {
	// Get returns a record, or nil if there is none.
	Get(ctx context.Context, e *Entity, id string) (*StoredRecord, error)
	// Prefetch loads the records with these ids (those that exist) so the
	// Gets of a batch that follow need no query each. It is an
	// optimisation: Get must work without it.
	Prefetch(ctx context.Context, e *Entity, ids []string) error
	// Put inserts or replaces a record and gives it the next sequence number.
	Put(ctx context.Context, r *StoredRecord) error
	// Find returns the records whose field (a column of the entity) has
	// the given value.
	Find(ctx context.Context, e *Entity, field, value string) ([]*StoredRecord, error)
	AddConflicts(ctx context.Context, cs []Conflict) error
	// GetBatch returns a stored batch, or nil.
	GetBatch(ctx context.Context, deviceID, batchID string) (*Batch, error)
	PutBatch(ctx context.Context, b *Batch) error
	// MarkPushed records a device's last push, for sync health.
	MarkPushed(ctx context.Context, deviceID, batchID string, at time.Time) error
	// DeviceKey returns a device's capture key by id, or nil.
	DeviceKey(ctx context.Context, keyID string) (*DeviceKey, error)
	// AfterCommit queues fn to run once the transaction has committed,
	// once per key, and not if it rolls back: what follows a write
	// outside the database (photos queued for processing).
	AfterCommit(key string, fn func())
	UploadTx
	CompletenessTx
	AuditTx
	EarlyDeleteTx
}

// EarlyDeleteTx is the part of a write transaction that keeps the deletes
// of records the store does not hold (EarlyDelete).
type EarlyDeleteTx interface {
	// EarlyDelete returns the delete kept for a record, or nil.
	EarlyDelete(ctx context.Context, e *Entity, id string) (*EarlyDelete, error)
	// PrefetchEarlyDeletes loads the deletes kept for these ids in one
	// query, so that the EarlyDelete calls of a batch that follow cost
	// none. It is an optimisation: EarlyDelete must work without it.
	PrefetchEarlyDeletes(ctx context.Context, e *Entity, ids []string) error
	// PutEarlyDelete keeps d, replacing the delete kept for its record.
	PutEarlyDelete(ctx context.Context, d *EarlyDelete) error
	// DropEarlyDelete forgets the delete kept for a record.
	DropEarlyDelete(ctx context.Context, e *Entity, id string) error
}

// CompletenessTx is the part of a write transaction that the check of
// inspections against their checklists reads (completeness.go).
type CompletenessTx interface {
	// InspectionPhotos returns the live photo records of these
	// inspections that name an item (item_key), by inspection id, as the
	// transaction sees them (its own writes included).
	InspectionPhotos(ctx context.Context, inspectionIDs []string) (map[string][]syncproto.ItemPhoto, error)
	// UncheckedInspections returns up to limit ids of live inspections
	// whose completeness was never computed (no missing_items).
	UncheckedInspections(ctx context.Context, limit int) ([]string, error)
}

// UploadTx is the part of a write transaction that keeps the completed
// photo uploads and the blobs being deleted (possession.go, sweep.go).
type UploadTx interface {
	// PhotoUpload returns the upload recorded for a photo id, or nil.
	PhotoUpload(ctx context.Context, photoID string) (*PhotoUpload, error)
	// PutPhotoUpload records u, replacing the earlier upload of its photo
	// id if there is one.
	PutPhotoUpload(ctx context.Context, u *PhotoUpload) error
	// StaleUploads returns the unclaimed uploads completed before t.
	StaleUploads(ctx context.Context, before time.Time) ([]PhotoUpload, error)
	// DeletePhotoUploads removes the uploads of these photo ids.
	DeletePhotoUploads(ctx context.Context, photoIDs []string) error
	// BlobRefs returns what refers to the bytes of sum.
	BlobRefs(ctx context.Context, sum string) (*BlobRefs, error)
	// SetBlobDeleting marks the bytes of sum as being deleted since at, or
	// removes the mark when at is zero.
	SetBlobDeleting(ctx context.Context, sum string, at time.Time) error
	// BlobsDeleting returns the sums marked as being deleted since before t.
	BlobsDeleting(ctx context.Context, before time.Time) ([]string, error)
}

// SyncStore is what the sync engine needs of a store. Implementations must
// give Changes a consistent snapshot and must make sequence numbers commit
// in order (a feed ordered by a sequence that commits out of order skips
// rows).
type SyncStore interface {
	// Update runs fn in a write transaction and commits if fn returns nil.
	Update(ctx context.Context, fn func(WriteTx) error) error
	// Changes returns up to limit records in scope with Seq > after, in Seq
	// order, and whether more follow.
	Changes(ctx context.Context, scope Scope, after int64, limit int) ([]*StoredRecord, bool, error)
	// WireChanges is Changes in wire form: each record as the JSON of
	// ToChange (with its HLCs as hlc_groups instead if grouped), written
	// from the rows without building records, for pull pages, in mem's
	// buffers (nil: new memory).
	WireChanges(ctx context.Context, scope Scope, after int64, limit int, grouped bool, mem *PageMemory) ([]json.RawMessage, bool, error)
	// CompactChanges is WireChanges in the compact form (CompactPage).
	CompactChanges(ctx context.Context, scope Scope, after int64, limit int, mem *PageMemory) (*CompactPage, error)
	// Get reads one record outside any write (nil if absent).
	Get(ctx context.Context, entity, id string) (*StoredRecord, error)
	// HighHLC returns the greatest HLC of any committed write (a field's or
	// a tombstone's) or given to RaiseHighHLC, kept across restarts so the
	// server's clock can be set past it.
	HighHLC(ctx context.Context) (syncproto.HLC, error)
	// RaiseHighHLC raises the stored high-water mark to h if h is
	// greater, outside any write of records (for the timestamps the
	// server answers with, Syncer.ServerHLC).
	RaiseHighHLC(ctx context.Context, h syncproto.HLC) error
	// Epoch identifies this database; cursors from another are refused.
	Epoch() string
	// FeedHead returns the last Seq the change feed has numbered; a
	// cursor past it was made by a later state of the database (one
	// restored from a backup since) or forged.
	FeedHead(ctx context.Context) (int64, error)
	// MarkPulled records a device's last pull and the cursor position it
	// acknowledged, for sync health.
	MarkPulled(ctx context.Context, deviceID string, ackSeq int64, at time.Time) error
	// MarkPushRefused records a device's push refused whole, with the
	// refusal's code and message, for sync health (Syncer.PushRefused).
	MarkPushRefused(ctx context.Context, deviceID string, refused RefusedPush) error
	// UnclaimedUploads returns a device's completed uploads that no photo
	// record has claimed (read snapshot).
	UnclaimedUploads(ctx context.Context, deviceID string) ([]PhotoUpload, error)
	// UserUnclaimedUploads returns the completed uploads of all a user's
	// devices that no photo record has claimed (read snapshot).
	UserUnclaimedUploads(ctx context.Context, userID string) ([]PhotoUpload, error)
}

// ConsoleSession is an office-console sign-in, stored so that it survives a
// restart and can be revoked. ID is the hash of the random token in the
// browser's cookie (never the token itself).
type ConsoleSession struct {
	ID         string
	UserID     string
	Username   string
	CSRF       string // the session's form token, checked on every POST
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute limit; the idle limit is the caller's
	RevokedAt  *time.Time
	UserAgent  string
	IP         string
}

// ConsoleSessionStore keeps console sessions. A session is live while it
// is not revoked, now is before ExpiresAt, and it was last seen within the
// idle limit; the store drops sessions that ended long ago as new ones are
// created.
type ConsoleSessionStore interface {
	// CreateConsoleSession stores a new session (s.UserID set).
	CreateConsoleSession(ctx context.Context, s *ConsoleSession) error
	// TouchConsoleSession returns the live session with this id and
	// records now as its last use. Errors: unauthorized (unknown, revoked,
	// expired or idle for longer than idle).
	TouchConsoleSession(ctx context.Context, id string, idle time.Duration, now time.Time) (*ConsoleSession, error)
	// RevokeConsoleSession ends one session (logout, or an admin's
	// revocation). Revoking one already ended does nothing. Errors:
	// not_found.
	RevokeConsoleSession(ctx context.Context, id string, at time.Time) error
	// ConsoleSessions lists a user's live sessions, newest first.
	ConsoleSessions(ctx context.Context, username string, idle time.Duration, now time.Time) ([]*ConsoleSession, error)
	// SetUserDisabled disables or enables a user. Disabling revokes the
	// user's console sessions and ends every device session (tokens stop
	// working and stay stopped after enabling). Errors: not_found,
	// conflict (the last enabled administrator disabled).
	SetUserDisabled(ctx context.Context, username string, disabled bool) error
	// SetUserPassword replaces a user's password hash and, like
	// disabling, ends their console and device sessions. Errors:
	// not_found.
	SetUserPassword(ctx context.Context, username, passwordHash string) error
	// ReplaceUserPassword is a user's own change: it stores newHash only
	// if the stored hash is still oldHash (the password they proved) and
	// the user is enabled, and ends their sessions like SetUserPassword.
	// Errors: not_found, user_disabled, conflict (an administrator's
	// reset, another change or a disable came first).
	ReplaceUserPassword(ctx context.Context, username, oldHash, newHash string) error
}

// RecordReader reads stored records outside any write.
type RecordReader interface {
	// Get returns one record (a tombstone included), nil if there is
	// none. An unknown entity is an error (not a *Error: a caller's bug).
	Get(ctx context.Context, entity, id string) (*StoredRecord, error)
	// Find returns the live and deleted records whose field (a column of
	// the entity) has the given value, in feed (Seq) order. An unknown
	// entity or a field that is not a column is a caller's bug (an error,
	// not a *Error).
	Find(ctx context.Context, entity, field, value string) ([]*StoredRecord, error)
}

// AuthStore is what signing in needs of the store. Refresh tokens reach it
// only as hashes.
type AuthStore interface {
	// UserByUsername returns a user and their password hash: the user
	// spelled exactly so, or else the only one whose username differs
	// from it in ASCII letter case. Errors: not_found.
	UserByUsername(ctx context.Context, username string) (*User, string, error)
	// RegisterDevice binds a device to its user at login, stores the hash
	// of its new refresh token (a new family: the tokens it spent before
	// no longer count as reused) and returns the device's session
	// generation. A sign-in over a session not ended (its refresh token
	// still set) ends it: the generation is incremented, so that its
	// tokens stop working — and the logout an app still owes for it (a
	// sign-out made offline) cannot end the new one. Errors: device_revoked,
	// conflict (the device belongs to another user).
	RegisterDevice(ctx context.Context, d *Device, refreshHash string, refreshExpires time.Time) (session int64, err error)
	// RotateRefresh replaces the refresh token whose hash is oldHash,
	// keeping oldHash as spent, and returns its device's session. An
	// oldHash spent before within the device's current session ends that
	// session and answers token_invalid with the cause ErrRefreshReuse,
	// together with the device's session as it is now. Errors:
	// token_invalid, token_expired, device_revoked, user_disabled.
	RotateRefresh(ctx context.Context, oldHash, newHash string, newExpires, now time.Time) (DeviceSession, error)
	// SignOut ends the device's session: its refresh token and every
	// access token issued to it so far stop working.
	SignOut(ctx context.Context, deviceID string, at time.Time) error
	// Principal loads a token's user and device with the device's session
	// generation. Errors: token_invalid (unknown user or device),
	// user_disabled, device_revoked.
	Principal(ctx context.Context, userID, deviceID string) (*Principal, error)
}

// AccountStore keeps users, their devices and their console sessions.
type AccountStore interface {
	AuthStore
	ConsoleSessionStore
	// CreateUser stores a new user (u.ID set by the caller). Errors:
	// conflict (the username is taken), invalid_value (an unknown county).
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// Users lists every user, by username.
	Users(ctx context.Context) ([]*User, error)
	// SetUserCounties replaces a user's counties and bumps their scope
	// version (their devices' cursors become resync_required). Errors:
	// not_found, invalid_value (an unknown county).
	SetUserCounties(ctx context.Context, username string, counties []string) error
	// SetUserAccess gives a user a role (role "": the one held) with the
	// counties it works in (none for a role that sees every county),
	// bumps their scope version as SetUserCounties does, and returns the
	// user as they were (their role and counties). Errors: not_found,
	// invalid_value (an unknown role or county; counties for a role that
	// sees every county), missing_field (no county for a role that needs
	// one), conflict (the last enabled administrator).
	SetUserAccess(ctx context.Context, username string, role Role, counties []string) (was *User, err error)
	// Devices lists the devices whose users work in scope, with their sync
	// health, by username and then first sign-in.
	Devices(ctx context.Context, scope Scope) ([]*Device, error)
	// Device returns any user's device by its id, with its sync health.
	// Errors: not_found.
	Device(ctx context.Context, id string) (*Device, error)
	// LastPushes returns the last stored push (with its answer) of each of
	// these devices that has one still stored, by device id: in one read,
	// for a page of devices.
	LastPushes(ctx context.Context, deviceIDs []string) (map[string]*Batch, error)
	// DeviceIDs lists the ids of every device registered to a user,
	// revoked ones too, in no order.
	DeviceIDs(ctx context.Context, userID string) ([]string, error)
	// RevokeDevice stops a device for good: its tokens stop working and
	// it cannot sign in again. Errors: not_found.
	RevokeDevice(ctx context.Context, deviceID string, at time.Time) error
	// ReinstateDevice undoes a revocation made by mistake: the device may
	// sign in again (its user's password; every token it held stays
	// ended) and send the work it kept, and the capture keys its
	// revocation revoked are its own again. Errors: not_found, conflict
	// (not revoked).
	ReinstateDevice(ctx context.Context, deviceID string, at time.Time) error
}

// OfficeStore is what the office console reads: lists, pages and tallies.
// It returns rows and counts; the rules that judge them (which statuses
// count, what a task covers) are the server package's.
type OfficeStore interface {
	RecordReader
	// Conflicts lists logged losing values in scope, newest first,
	// optionally of one entity and record.
	Conflicts(ctx context.Context, scope Scope, entity, recordID string, limit int) ([]Conflict, error)
	// Inspections returns a page of the inspections q selects and how many
	// it selects in all, newest first. A filter value it does not know
	// selects as if it were unset (the console validates its filters).
	Inspections(ctx context.Context, q InspectionQuery) ([]*StoredRecord, int, error)
	// InspectionCounts counts q's inspections by county (q's own county
	// filter ignored), for the county choices of the queue's filter.
	InspectionCounts(ctx context.Context, q InspectionQuery) (map[string]int, error)
	// InspectionTally counts q's inspections by county, checklist and
	// status.
	InspectionTally(ctx context.Context, q InspectionQuery) ([]Tally, error)
	// InspectionQueue is a sorted page of the review queue with the counts
	// a reviewer judges by. Errors: bad_request (a sort key not in
	// QueueSortKeys).
	InspectionQueue(ctx context.Context, q InspectionQuery, s QueueSort) ([]QueueEntry, int, error)
	// VehicleStats tallies the roadside checks q selects (its page
	// aside) by county, checkpoint and campaign.
	VehicleStats(ctx context.Context, q VehicleQuery) ([]VehicleStat, error)
	// VehicleChecks returns a page of the roadside checks q selects and
	// their number.
	VehicleChecks(ctx context.Context, q VehicleQuery) ([]*StoredRecord, int, error)
	// Tasks returns the live rectification tasks by id.
	Tasks(ctx context.Context) ([]*StoredRecord, error)
	// TaskProgress returns the live progress rows in scope by id.
	TaskProgress(ctx context.Context, scope Scope) ([]TaskProgress, error)
	// MonthTallies counts, per county given, checklist and status, the
	// live inspections started in month (YYYY-MM, the phone's local time)
	// with their live findings, photos and flagged photos. Every status is
	// counted; MonthlyReport decides which count.
	MonthTallies(ctx context.Context, month string, counties []string) ([]MonthTally, error)
	// MonthItemFailures counts, per county given, checklist, status and
	// item, the live inspections started in month whose failed_items
	// name that item. Every status is counted, as in MonthTallies.
	MonthItemFailures(ctx context.Context, month string, counties []string) ([]ItemTally, error)
	// Search finds records in q's scope by plate, site, inspector, id or
	// text.
	Search(ctx context.Context, q SearchQuery) ([]SearchHit, error)
	// Overview counts the first page's figures in scope: flagged
	// inspections waiting, findings overdue on day today, and the weekly
	// roadside figures of the dates from since up to before.
	Overview(ctx context.Context, scope Scope, today, since, before string) (*Overview, error)
	// Sites returns a page of the sites q selects and their number.
	Sites(ctx context.Context, q SiteQuery) ([]*StoredRecord, int, error)
	// Findings returns a page of the findings q selects, the earliest
	// deadline first, and their number.
	Findings(ctx context.Context, q FindingQuery) ([]*StoredRecord, int, error)
}

// PhotoStore is what photo processing and the blob sweep read.
type PhotoStore interface {
	RecordReader
	// UnprocessedPhotos returns the ids of live photos whose bytes are
	// stored but not yet processed.
	UnprocessedPhotos(ctx context.Context) ([]string, error)
	// StoredPhotoSums returns the SHA-256 of the newest live photos whose
	// bytes are stored, at most limit, newest first: what a server checks
	// its photo store by at start.
	StoredPhotoSums(ctx context.Context, limit int) ([]string, error)
	// VisitPhotos returns the live processed photos of these visits —
	// inspections (their own and their findings') or roadside checks —
	// and of these sites (those their processing placed there): the
	// photos whose flags a change of the visit or the site may change.
	// Either list may be empty.
	VisitPhotos(ctx context.Context, visits, sites []string) ([]string, error)
	// PhotosFlagged returns the live photos with any of these flags.
	PhotosFlagged(ctx context.Context, flags ...string) ([]string, error)
	// SetPhotoHashes replaces the fingerprint rows of photo id (its
	// perceptual hashes, see imageproc.Fingerprint), which
	// PhotoHashCandidates finds by their bands.
	SetPhotoHashes(ctx context.Context, id string, rows []PhotoHashRow) error
	// PhotoHashRows returns the fingerprint rows of photo id (none for a
	// photo processed before fingerprints, or not yet processed).
	PhotoHashRows(ctx context.Context, id string) ([]PhotoHashRow, error)
	// PhotoHashCandidates returns the rows whose band i
	// (PhotoHashRow.Bands) is one of p.Any[i], or, for rows of kind 0, one
	// of p.DHash[i], or, for rows of kind 1, one of p.Full[i], or, for rows
	// of kinds 1, 2, 18 and 42, one of p.Centre[i], for any i: the
	// candidates of a near-duplicate lookup,
	// which the caller verifies, then keeps those of live photos
	// (LivePhotoSites). A row may be returned more than once. SiteID is
	// not set.
	PhotoHashCandidates(ctx context.Context, p HashProbes) ([]HashCandidate, error)
	// LivePhotoSites returns, of the photos ids, those processed (with a
	// phash) and not deleted, each with its site ("" if none).
	LivePhotoSites(ctx context.Context, ids []string) (map[string]string, error)
	// UnindexedPhotos returns the processed live photos that have a
	// perceptual hash (phash) but no fingerprint rows: those processed
	// before fingerprints existed.
	UnindexedPhotos(ctx context.Context) ([]string, error)
	// BlobRefs returns what refers to the bytes of sum (read snapshot).
	BlobRefs(ctx context.Context, sum string) (*BlobRefs, error)
}

// Store is the whole storage contract of fieldsync: what a database must
// provide for the server to run on it. SQLite (package sqlite) and
// PostgreSQL (package postgres) implement it; package storetest is the
// conformance suite both pass. Errors are *Error values whose Code says
// what went wrong (the codes named on each method), or plain errors for
// failures of the database itself.
type Store interface {
	SyncStore
	OfficeStore
	AccountStore
	PhotoStore
	KeyStore
	LoginStore
	DeviceKeyStore
	AuditStore
	// Ping checks that the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// SigningKey is a key that signs access tokens. Every server reads the
// keys from the store, so a token one server issued is accepted by all.
type SigningKey struct {
	ID        string // the token header's kid
	Secret    []byte // at least 32 random bytes
	CreatedAt time.Time
}

// KeyStore keeps the token signing keys.
type KeyStore interface {
	// SigningKeys returns the keys, newest first (the newest signs; all
	// verify). It may return none.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores a new key. Errors: conflict (the id exists).
	AddSigningKey(ctx context.Context, k SigningKey) error
	// RemoveSigningKeys deletes the keys created before t except the
	// newest, ending the tokens they signed.
	RemoveSigningKeys(ctx context.Context, before time.Time) (int, error)
}

// LoginAttempts is what is known of failed sign-ins under one key (a
// username or a client address).
type LoginAttempts struct {
	Failures int
	Until    time.Time // locked until then
	Last     time.Time // the last failure
	// InFlight counts the attempts begun and not yet done, on every
	// server, until InFlightUntil (then none: a server that died in an
	// attempt leaves a count that lapses).
	InFlight      int
	InFlightUntil time.Time
}

// Zero reports whether a holds nothing to keep.
func (a LoginAttempts) Zero() bool {
	return a.Failures == 0 && a.Until.IsZero() && a.Last.IsZero() && a.InFlight == 0
}

// LoginStore keeps failed sign-ins, so every server slows the same
// guesser. The rule (how long a lock lasts) is package auth's.
type LoginStore interface {
	// LoginAttempts returns the state of these keys (absent: none).
	LoginAttempts(ctx context.Context, keys []string) (map[string]LoginAttempts, error)
	// UpdateLoginAttempts reads the state of keys (absent: none), lets
	// update change the map, and stores what it holds for those keys, as
	// one step: concurrent updates of the same keys, from any server
	// sharing the store, apply one after the other, so no failure is lost.
	UpdateLoginAttempts(ctx context.Context, keys []string, update func(map[string]LoginAttempts)) error
	// ClearLoginAttempts forgets a key (after a success) and every key
	// whose last failure, and last attempt in flight, are before
	// forgetBefore.
	ClearLoginAttempts(ctx context.Context, key string, forgetBefore time.Time) error
}

// AuditTx is the part of a write transaction that appends to the audit
// log (auditlog.go), so that an audited change and its entry commit
// together or not at all.
type AuditTx interface {
	// AppendAudit links e after the last entry of the log (the
	// transaction's own appends included: Entry.Link sets its Seq,
	// PrevHash and Hash) and stores it. Appends are serialized with every
	// other write, on every server, so the chain is linear.
	AppendAudit(ctx context.Context, e *audit.Entry) error
}

// AuditStore reads the audit log and keeps its monthly seals. The log
// itself is append-only: no method changes an entry or a seal.
type AuditStore interface {
	// AuditEntries returns up to limit entries with Seq > after, in Seq
	// order.
	AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error)
	// AuditEntriesBefore returns the entries with Seq > after made before
	// t, in Seq order (a month's entries, to seal).
	AuditEntriesBefore(ctx context.Context, after int64, t time.Time) ([]audit.Entry, error)
	// AuditHistory returns the entries of the record of entity and
	// recordID and, for an inspection, those of its findings and photos,
	// in Seq order (a record of another entity with the same id is
	// another record).
	AuditHistory(ctx context.Context, entity, recordID string) ([]audit.Entry, error)
	// AccountAudit returns every account entry (audit.ActionAccount: what
	// administrators, and users to their own passwords, did to accounts
	// and devices), in Seq order.
	AccountAudit(ctx context.Context) ([]audit.Entry, error)
	// AuditSeals returns every seal, by FirstSeq.
	AuditSeals(ctx context.Context) ([]audit.Seal, error)
	// AddAuditSeal stores a seal. Errors: conflict (its month is sealed).
	AddAuditSeal(ctx context.Context, s *audit.Seal) error
}

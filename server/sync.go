package server

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Syncer applies pushes and serves pulls by the rules of DESIGN.md: scope on
// every read and write, per-field HLC last-writer-wins, idempotent batches,
// server-owned fields, locks, tombstones and clock-skew protection.
type Syncer struct {
	Store SyncStore
	// Clock stamps the server's own writes and every response.
	Clock *syncproto.Clock
	// MaxSkew is how far ahead of server time a mutation's HLC may be.
	MaxSkew time.Duration
	// MaxBatch is the most mutations one push may carry.
	MaxBatch int
	// Now is the server's physical clock.
	Now func() time.Time
	// Blobs stores the photo bytes uploads bring (StoreUpload).
	Blobs BlobStore
	// UploadQuota caps, per device and per user (over all its devices),
	// the bytes uploaded (or being uploaded)
	// for photo records that have not arrived yet; 0 is no limit
	// (CheckUpload).
	UploadQuota int64
	// PhotoReady, if set, is called after a commit with the ids of photo
	// records whose bytes are stored and that need processing.
	PhotoReady func(ids []string)
	// VisitChanged, if set, is called after a commit that changed what
	// photos' flags depend on beyond their own records: the time or the
	// approval of these inspections, the position of these roadside
	// checks (visits both), the position or geofence of these sites
	// (noteVisitChange). Their photos' flags are computed again.
	VisitChanged func(visits, sites []string)
	// EncodePage, if set, encodes the head of a pull page's JSON
	// (PullPage.AppendHead) in a content encoding (PullQuery.Encoding;
	// nil if it has no such encoding), for the pages read ahead
	// (pullahead.go); the caller that sends the page finishes it.
	EncodePage func(pg *PullPage, encoding string) any

	checklists checklistCache // parsed checklist items (completeness.go)
	pullMarks  sync.Map       // device id → time.Time of its last stored pull mark (pull.go)
	ahead      pullAhead      // pages read ahead (pullahead.go)
	covered    atomic.Int64   // every answer before this millisecond is below the stored HighHLC (ServerHLC)
	coverMu    sync.Mutex
}

// NewSyncer returns a Syncer with the default limits.
func NewSyncer(st SyncStore, now func() time.Time) *Syncer {
	if now == nil {
		now = time.Now
	}
	return &Syncer{
		Store:    st,
		Clock:    syncproto.NewClock(syncproto.ServerNode, now),
		MaxSkew:  5 * time.Minute,
		MaxBatch: 1000,
		Now:      now,
	}
}

// RestoreClock sets the server's clock past the greatest HLC the store has
// committed, so that it never goes backwards across a restart — not even
// after following a device whose clock ran ahead within MaxSkew. Call it
// once after opening the store, before serving; with other servers on the
// store, every second too (app), so that one never answers much earlier
// than another has (the mark covers what each answered ahead of physical
// time, ServerHLC).
func (s *Syncer) RestoreClock(ctx context.Context) error {
	h, err := s.Store.HighHLC(ctx)
	if err != nil {
		return err
	}
	s.Clock.Observe(h)
	s.coverTo(h.Wall)
	return nil
}

// coverTo raises covered to wall (never lowers it).
func (s *Syncer) coverTo(wall int64) {
	for {
		c := s.covered.Load()
		if wall <= c || s.covered.CompareAndSwap(c, wall) {
			return
		}
	}
}

// ServerHLC returns a fresh server timestamp for a response. An answer is
// never earlier than one given before, across restarts included
// (sync.md §3): the clock restarts past the stored high-water mark, and
// past the physical time of any answer given before (the host's clock
// does not go back). So only an answer ahead of physical time, which the
// clock is after observing a device's HLC from a little ahead, must be
// covered by the mark: its millisecond is stored before it is given.
func (s *Syncer) ServerHLC() string {
	h, ahead := s.Clock.NowAhead()
	if ahead && h.Wall >= s.covered.Load() {
		s.cover(h.Wall)
	}
	return h.String()
}

// cover raises the stored high-water mark past every timestamp of the
// millisecond wall, once (covered, the mark's millisecond, is the first
// not yet past). If the store fails, the answer is given anyway, and the
// next one tries again.
func (s *Syncer) cover(wall int64) {
	s.coverMu.Lock()
	defer s.coverMu.Unlock()
	if wall < s.covered.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Store.RaiseHighHLC(ctx, syncproto.HLC{Wall: wall + 1, Node: syncproto.ServerNode}); err == nil {
		s.coverTo(wall + 1)
	}
}

// Push applies a device's batch. Each mutation gets its own result; one bad
// mutation never fails the others. A batch already received (same device,
// same batch_id, same content) is not applied again: its stored results are
// returned. Errors: bad_request, device_mismatch, batch_mismatch.
func (s *Syncer) Push(ctx context.Context, p *Principal, req *syncproto.PushRequest) (*syncproto.PushResponse, error) {
	return s.PushAt(ctx, p, req, s.Now())
}

// PushAt is Push received at now instead of the server's clock: the
// demo's month, whose phones synced on the days they worked, writes its
// records with the times they would have reached the server (received_at,
// the device's last push, the audit log). The server's HLC is its own.
func (s *Syncer) PushAt(ctx context.Context, p *Principal, req *syncproto.PushRequest, now time.Time) (*syncproto.PushResponse, error) {
	switch {
	case req.DeviceID == "":
		return nil, Errorf(syncproto.CodeBadRequest, "缺少 device_id（本设备的 id）").At("device_id")
	case req.DeviceID != p.DeviceID:
		return nil, Errorf(syncproto.CodeDeviceMismatch, "device_id 与登录设备不一致").At("device_id")
	case !IsCanonicalUUID(req.BatchID):
		return nil, Errorf(syncproto.CodeBadRequest, "batch_id 应为小写 UUID").At("batch_id")
	case len(req.Mutations) == 0:
		return nil, Errorf(syncproto.CodeBadRequest, "mutations 不能为空").At("mutations")
	case len(req.Mutations) > s.MaxBatch:
		return nil, Errorf(syncproto.CodeBadRequest, "一次最多提交 %d 条变更", s.MaxBatch).At("mutations")
	}
	digest, fieldErrs, err := requestHash(req.Mutations)
	if err != nil {
		return nil, err
	}
	// The checks that need no stored state run before the write lock is
	// taken, so that concurrent pushes overlap them with each other's
	// transactions.
	prepared := make([]prepared, len(req.Mutations))
	par.Do(len(prepared), func(i int) { prepared[i] = s.prepare(p, &req.Mutations[i], fieldErrs[i], now) })
	resp := &syncproto.PushResponse{BatchID: req.BatchID}
	err = s.Store.Update(ctx, func(tx WriteTx) error {
		prev, err := tx.GetBatch(ctx, p.DeviceID, req.BatchID)
		if err != nil {
			return err
		}
		if prev != nil {
			if !digest.matches(prev.RequestHash, req.Mutations) {
				return Errorf(syncproto.CodeBatchMismatch, "batch_id 已用于内容不同的批次")
			}
			resp.Replayed = true
			if resp.Results, err = decodeResults(prev.Response, req.Mutations); err != nil {
				return err
			}
			// The device's push went through (its answer had been lost):
			// its sync health says so, and a refusal since is over.
			return tx.MarkPushed(ctx, p.DeviceID, req.BatchID, now)
		}
		if err := prefetch(ctx, tx, req.Mutations); err != nil {
			return err
		}
		resp.Results = make([]syncproto.PushResult, len(req.Mutations))
		var recheck []string // inspections whose completeness may have changed
		for i := range prepared {
			if resp.Results[i], err = s.applyDevice(ctx, tx, p, &prepared[i], now); err != nil {
				return err
			}
			if id := prepared[i].recheck; id != "" && !slices.Contains(recheck, id) {
				recheck = append(recheck, id)
			}
		}
		if err := s.refreshCompleteness(ctx, tx, recheck, now); err != nil {
			return err
		}
		stored, err := encodeResults(resp.Results)
		if err != nil {
			return err
		}
		if err := tx.PutBatch(ctx, &Batch{DeviceID: p.DeviceID, BatchID: req.BatchID, RequestHash: digest.sum, Response: stored}); err != nil {
			return err
		}
		return tx.MarkPushed(ctx, p.DeviceID, req.BatchID, now)
	})
	if err != nil {
		return nil, err
	}
	// The clock follows the device HLCs the store now holds (not refused
	// ones): the store's high-water mark covers each of them, so the
	// clock restored after a restart is never behind what it answered.
	for i := range prepared {
		if resp.Results[i].Status != syncproto.StatusRejected || prepared[i].kept {
			s.Clock.Observe(prepared[i].h)
		}
	}
	var ready []string
	for i := range prepared {
		if prepared[i].ready && !resp.Replayed {
			ready = append(ready, prepared[i].m.ID)
		}
	}
	if len(ready) > 0 && s.PhotoReady != nil {
		s.PhotoReady(ready)
	}
	resp.ServerHLC = s.ServerHLC()
	return resp, nil
}

// prefetch loads every record a batch names, entity by entity.
func prefetch(ctx context.Context, tx WriteTx, ms []syncproto.Mutation) error {
	ids := map[*Entity][]string{}
	for _, m := range ms {
		if e := EntityByName(m.Entity); e != nil && IsCanonicalUUID(m.ID) {
			ids[e] = append(ids[e], m.ID)
		}
	}
	for e, list := range ids {
		if err := tx.Prefetch(ctx, e, list); err != nil {
			return err
		}
		if !e.DeviceDeletable {
			continue
		}
		// The deletes kept for the records not held (EarlyDelete), which
		// the creates among them end with.
		absent := list[:0:0]
		for _, id := range list {
			if r, err := tx.Get(ctx, e, id); err != nil {
				return err
			} else if r == nil {
				absent = append(absent, id)
			}
		}
		if err := tx.PrefetchEarlyDeletes(ctx, e, absent); err != nil {
			return err
		}
	}
	return nil
}

// requestDigest is a batch's hash (Batch.RequestHash), and what is
// needed to compute the one servers before canonical forms stored.
type requestDigest struct {
	sum string
	// before holds, per mutation, the values its fields' canonical forms
	// changed, as they were (nil: none changed).
	before [][]fieldValue
}

// fieldValue is a field's value.
type fieldValue struct {
	name  string
	value json.RawMessage
}

// matches reports whether stored, the hash a batch id was first stored
// with, is this batch's: its hash now, or the one a server before
// 23ebd18 stored, whose hash took each value as sent (not the field's
// canonical form: a time at its offset, a plate as typed), so that a
// retry of a batch sent before an upgrade is replayed, not refused
// batch_mismatch (upgrade probe).
func (d requestDigest) matches(stored string, ms []syncproto.Mutation) bool {
	if stored == d.sum {
		return true
	}
	if !slices.ContainsFunc(d.before, func(b []fieldValue) bool { return b != nil }) {
		return false
	}
	h := sha256.New()
	for i := range ms {
		sum := mutationSum(&ms[i], d.before[i])
		h.Write(sum[:])
	}
	return stored == hex.EncodeToString(h.Sum(nil))
}

// requestHash checks every field value of a batch (NormalizeValue: a bad
// one refuses the whole request, naming it), replaces each by its
// canonical form (canonicalField: the field's own, a time at +08:00, a
// plate's spelling), and returns a hash of the batch's content, so that a
// batch id re-used for different mutations is caught while a retry that
// spells the same values otherwise (spacing, key order, escapes, 1.0 for
// 1, a time at another offset, a plate in lower case) is the same batch.
// fieldErrs[i] is what mutation i's fields alone are refused for (an
// unknown or server-owned field, a value the field refuses): that
// mutation's rejection, which prepare gives in its turn.
func requestHash(ms []syncproto.Mutation) (digest requestDigest, fieldErrs []error, err error) {
	digests := make([][sha256.Size]byte, len(ms))
	errs := make([]error, len(ms))
	fieldErrs = make([]error, len(ms))
	digest.before = make([][]fieldValue, len(ms))
	par.Do(len(ms), func(i int) { digests[i], digest.before[i], fieldErrs[i], errs[i] = mutationDigest(i, &ms[i]) })
	for _, err := range errs {
		if err != nil {
			return requestDigest{}, nil, err // the first bad mutation's
		}
	}
	h := sha256.New()
	for i := range digests {
		h.Write(digests[i][:])
	}
	digest.sum = hex.EncodeToString(h.Sum(nil))
	return digest, fieldErrs, nil
}

// mutationDigest puts the field values of mutation i in canonical form in
// place and hashes it (as mutationSum). before holds the values the
// field's canonical form changed, as they were; fieldErr is the first
// field (in name order) the mutation is refused for; err a value that
// refuses the whole request.
func mutationDigest(i int, m *syncproto.Mutation) (sum [sha256.Size]byte, before []fieldValue, fieldErr, err error) {
	var h partHash
	h.mutation(m)
	names := make([]string, 0, len(m.Fields))
	for name := range m.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	e := EntityByName(m.Entity)
	for _, name := range names {
		raw := m.Fields[name]
		v, p := normalizeValue(raw)
		if p != nil {
			return sum, nil, nil, problemError(p, MaxValueDepth, "mutations["+strconv.Itoa(i)+"].fields."+name)
		}
		if e != nil {
			if c, err := canonicalField(e, name, v, true, true); err != nil {
				fieldErr = cmp.Or(fieldErr, err)
			} else if !sameBytes(c, v) {
				before = append(before, fieldValue{name, v})
				v = c
			}
		}
		if !sameBytes(v, raw) {
			m.Fields[name] = v
		}
		h.parts(name, string(v))
	}
	h.seen(m)
	return h.sum(), before, fieldErr, nil
}

// mutationSum hashes a mutation as mutationDigest does, each field's
// value from values if it has one there, else from m.Fields.
func mutationSum(m *syncproto.Mutation, values []fieldValue) [sha256.Size]byte {
	var h partHash
	h.mutation(m)
	for _, name := range slices.Sorted(maps.Keys(m.Fields)) {
		v := m.Fields[name]
		if j := slices.IndexFunc(values, func(f fieldValue) bool { return f.name == name }); j >= 0 {
			v = values[j].value
		}
		h.parts(name, string(v))
	}
	h.seen(m)
	return h.sum()
}

// checkSeen checks a mutation's seen: each name one of its fields, each
// value an HLC as the server writes them (its standard form, a device's
// id or the server's as its node), the only kind a stored value has.
// Errors: invalid_field, invalid_value.
func checkSeen(m *syncproto.Mutation) error {
	if len(m.Seen) == 0 {
		return nil // most mutations: nothing to sort, on the push path
	}
	for _, name := range slices.Sorted(maps.Keys(m.Seen)) {
		if _, ok := m.Fields[name]; !ok {
			return Errorf(syncproto.CodeInvalidField, "seen 中的 %s 不是此变更写入的字段", name).At("seen." + name)
		}
		if h, err := syncproto.ParseHLC(m.Seen[name]); err != nil || h.IsZero() || h.String() != m.Seen[name] ||
			(h.Node != syncproto.ServerNode && !IsCanonicalUUID(h.Node)) {
			return Errorf(syncproto.CodeInvalidValue, "seen 中 %s 的值不是 HLC 时间戳", name).At("seen." + name)
		}
	}
	return nil
}

// partHash hashes a mutation's parts, each length-prefixed: its entity,
// id, HLC, delete and field count (mutation), then each field's name and
// value (parts), in name order.
type partHash struct {
	h   hash.Hash
	buf bytes.Buffer
}

func (p *partHash) mutation(m *syncproto.Mutation) {
	p.h = sha256.New()
	p.parts(m.Entity, m.ID, m.HLC, strconv.FormatBool(m.Delete), strconv.Itoa(len(m.Fields)))
}

// seen hashes a mutation's seen, in name order, after its fields; a
// mutation without one hashes as before seen was sent.
func (p *partHash) seen(m *syncproto.Mutation) {
	if len(m.Seen) == 0 {
		return
	}
	p.parts("seen", strconv.Itoa(len(m.Seen)))
	for _, name := range slices.Sorted(maps.Keys(m.Seen)) {
		p.parts(name, m.Seen[name])
	}
}

func (p *partHash) parts(parts ...string) {
	for _, s := range parts {
		p.buf.Reset()
		p.buf.WriteString(strconv.Itoa(len(s)))
		p.buf.WriteByte(':')
		p.buf.WriteString(s)
		p.h.Write(p.buf.Bytes())
	}
}

func (p *partHash) sum() (sum [sha256.Size]byte) {
	p.h.Sum(sum[:0])
	return sum
}

// sameBytes reports whether a and b are the same slice of the same
// memory (so a value checked and returned unchanged is not stored again).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// prepared is a mutation after the checks that need no stored state.
type prepared struct {
	m    *syncproto.Mutation
	e    *Entity
	h    syncproto.HLC
	vals map[string]json.RawMessage
	err  error // the refusal, if the mutation failed a check
	// ready is set for a new photo record whose bytes were uploaded for it
	// before it arrived (ClaimEarlierUpload), and for a processed photo
	// whose device fields changed: it is processed (again).
	ready bool
	// recheck is the inspection whose completeness the mutation may have
	// changed (completenessTrigger).
	recheck string
	// kept: a delete of a record the store does not hold, refused
	// (not_found) but kept for its create (keepEarlyDelete): its HLC is
	// stored, and the clock follows it.
	kept bool
}

// prepare runs a mutation's stateless checks: entity (known, writable,
// deletable), id, HLC (format, node, clock skew), the delete's form, and
// each field's name, ownership and value (fieldErr, which requestHash
// found).
func (s *Syncer) prepare(p *Principal, m *syncproto.Mutation, fieldErr error, now time.Time) prepared {
	pm := prepared{m: m, e: EntityByName(m.Entity)}
	e := pm.e
	switch {
	case e == nil:
		pm.err = Errorf(syncproto.CodeUnknownEntity, "未知的数据类型 %q", m.Entity)
	case !e.DeviceWritable:
		pm.err = Errorf(syncproto.CodeReadOnlyEntity, "%s只能由服务器或办公室修改", e.Label)
	case m.Delete && !e.DeviceDeletable:
		// What the entity allows, before its stamp: a delete no clock
		// makes right is not sent back to be stamped again (clock_skew).
		pm.err = Errorf(syncproto.CodeNotDeletable, "设备不能删除%s", e.Label)
	case !IsCanonicalUUID(m.ID):
		pm.err = Errorf(syncproto.CodeInvalidID, "记录 id 应为小写 UUID")
	}
	if pm.err != nil {
		return pm
	}
	if pm.h, pm.err = s.checkHLC(m.HLC, p.DeviceID, now); pm.err != nil {
		return pm
	}
	switch {
	case m.Delete && len(m.Fields) > 0:
		pm.err = Errorf(syncproto.CodeBadRequest, "删除操作不能同时带字段")
	case m.Delete && len(m.Seen) > 0:
		pm.err = Errorf(syncproto.CodeBadRequest, "删除操作不能带 seen").At("seen")
	case !m.Delete && len(m.Fields) == 0:
		pm.err = Errorf(syncproto.CodeMissingField, "变更没有任何字段")
	default:
		pm.vals, pm.err = m.Fields, fieldErr // requestHash put them in canonical form
		if pm.err == nil {
			pm.err = checkSeen(m)
		}
		if pm.err == nil {
			pm.err = s.checkTimes(e, pm.vals, now)
		}
	}
	return pm
}

// DeviceTimeLead is how far ahead of the server's clock a time a device
// writes may be: a day, as a phone whose zone is set wrong writes its
// local time as UTC, eight hours ahead, which an office still reads for
// what it is (an HLC, which decides merges, may lead by MaxSkew only).
const DeviceTimeLead = 24 * time.Hour

// EarliestDeviceTime is the earliest time a device may write: no
// inspection was made with fieldsync before it, and a phone whose clock
// was reset (to 1970, 1980) writes times before it.
var EarliestDeviceTime = time.Date(2000, 1, 1, 0, 0, 0, 0, ChinaTime)

// checkTimes refuses a device's time (vals canonical) more than
// DeviceTimeLead ahead of the server's clock or before
// EarliestDeviceTime, and a device's date (a finding's deadline) more
// than a year after the server's day (LatestNewDeadline). Every time a device writes says when something
// happened in front of it — a visit started or ended, a roadside check, a
// photo taken — and one in 2099 or in 1970 is a wrong clock's, which would
// count the record in that month's statistics and reports.
func (s *Syncer) checkTimes(e *Entity, vals map[string]json.RawMessage, now time.Time) error {
	for i := range e.Fields {
		f := &e.Fields[i]
		if f.Type == TypeDate && !isNull(vals[f.Name]) {
			// A deadline a phone sets (a finding's) is weeks or months
			// ahead: one past a year is a year typed wrong, which keeps
			// the finding out of every overdue count (verification probe:
			// 2099-12-31 applied), as an office's new deadline is refused.
			if latest := LatestNewDeadline(now); string(vals[f.Name]) > `"`+latest+`"` {
				return Errorf(syncproto.CodeInvalidValue, "%s %s 在一年以后（最晚 %s），请核对年份",
					FieldSaid(f.Name), strings.Trim(string(vals[f.Name]), `"`), latest).At(f.Name)
			}
			continue
		}
		if f.Type != TypeTime || isNull(vals[f.Name]) {
			continue
		}
		// Canonical: a JSON string without escapes (RFC 3339 has no
		// character to escape).
		v := vals[f.Name]
		if len(v) < 2 || v[0] != '"' {
			continue // refused by its canonical form (canonicalField)
		}
		t, ok := parseTime(string(v[1 : len(v)-1]))
		switch {
		case !ok:
			continue
		case t.After(now.Add(DeviceTimeLead)):
			return Errorf(syncproto.CodeInvalidValue, "%s的时间 %s 比服务器当前时间 %s 晚一天以上，手机时钟可能不准：请校准时间后改正再提交",
				FieldSaid(f.Name), t.In(ChinaTime).Format("2006-01-02 15:04"), now.In(ChinaTime).Format("2006-01-02 15:04")).At(f.Name)
		case t.Before(EarliestDeviceTime):
			return Errorf(syncproto.CodeInvalidValue, "%s的时间 %s 早于 %s，手机时钟可能不准：请校准时间后改正再提交",
				FieldSaid(f.Name), t.In(ChinaTime).Format("2006-01-02 15:04"), EarliestDeviceTime.Format("2006-01-02")).At(f.Name)
		}
	}
	return nil
}

// applyDevice applies one prepared device mutation and turns a refusal
// into a rejected result. Only storage failures are returned as errors
// (they abort the whole batch, which the device then retries).
func (s *Syncer) applyDevice(ctx context.Context, tx WriteTx, p *Principal, pm *prepared, now time.Time) (syncproto.PushResult, error) {
	res := syncproto.PushResult{Entity: pm.m.Entity, ID: pm.m.ID}
	err := pm.err
	if err == nil {
		err = s.apply(ctx, tx, p, pm, now, &res)
	}
	var e *Error
	if errors.As(err, &e) {
		res.Status, res.Code, res.Message, res.Field, res.LostFields = syncproto.StatusRejected, e.Code, e.Message, e.Field, nil
		return res, nil
	}
	return res, err
}

// apply runs the checks that need stored state (existence, county and
// scope, immutable fields, locks, references) and merges.
func (s *Syncer) apply(ctx context.Context, tx WriteTx, p *Principal, pm *prepared, now time.Time, res *syncproto.PushResult) error {
	m, e, h, vals := pm.m, pm.e, pm.h, pm.vals
	cur, err := tx.Get(ctx, e, m.ID)
	if err != nil {
		return err
	}
	// A mutation the record holds already, as sent or overwritten since by
	// its own device (a batch sent again under a new id, the outbox sent
	// again after a restore) — or by an office's decision (the
	// inspection approved, the rectification verified) on a record in
	// the user's scope or of this device's own making — is
	// answered duplicate or stale, whatever has changed since that would
	// refuse it now — the inspection submitted or judged, the user's
	// counties —: the phone is not told to keep aside work the server
	// holds. Only its own device can send it (its HLC's node); its losses
	// (to its own later writes, to decisions) are not conflicts.
	held := cur != nil && syncproto.Superseded(&cur.State, vals, m.Delete, h, func(field string, at syncproto.HLC) bool {
		return at.Node == syncproto.ServerNode && decisionField(e, field) && (p.CanSee(cur.County) || cur.CreatedDevice == p.DeviceID)
	})
	if !held {
		if err := s.checkApply(ctx, tx, p, pm, &cur, now); err != nil {
			return err
		}
	}

	// A change to an inspection the office has judged (and to its
	// findings and photos), or to a roadside check after the fact, is
	// audited, with the stored values it replaces.
	auditInsp, audited, err := s.auditTarget(ctx, tx, p, cur, vals, now)
	if err != nil {
		return err
	}
	var auditOld map[string]json.RawMessage
	if audited {
		auditOld = auditSnapshot(cur, vals)
	}
	wasDeleted := cur.State.IsDeleted()
	o := syncproto.Merge(&cur.State, vals, m.Delete, h)
	conflicts := losses(cur, o.Losses, m.Seen, p, now)
	if held {
		conflicts = nil
	}
	res.Status = o.Status()
	if o.DeleteOlder {
		res.Code, res.Message = syncproto.CodeRecordDeleted, "记录已被另一次更晚的删除删除"
	}
	var logged []string // of the incoming values lost, those the log keeps
	for _, l := range o.Losses {
		if l.Incoming {
			res.LostFields = append(res.LostFields, l.Field)
			if !ownOlder(l) {
				logged = append(logged, l.Field)
			}
		}
	}
	switch {
	case o.DeleteApplied && !wasDeleted:
		conflicts = append(conflicts, hiddenByDelete(cur, h, now)...)
	case !wasDeleted || m.Delete:
	case len(o.Won)+len(res.LostFields) == 0:
		// The same writes sent again (their answer was lost), or writes
		// applied before a later delete: stale, as the record is gone;
		// anything to log was logged the first time.
		res.Status, res.Code, res.Message = syncproto.StatusStale, syncproto.CodeRecordDeleted, "记录已删除，此修改不再生效"
		res.LostFields = slices.Collect(maps.Keys(vals))
	default:
		// Field writes to a deleted record still merge (so every delivery
		// order converges) but are invisible, whatever their HLCs: each
		// is lost and logged as written to a deleted record.
		res.Status, res.Code, res.Message = syncproto.StatusStale, syncproto.CodeRecordDeleted, "记录已删除，此修改已记入冲突日志"
		// Only they are logged: the stored values they merged over were
		// hidden by the delete already (and logged then if written after
		// it: hiddenByDelete), not lost to these.
		res.LostFields = append(res.LostFields, o.Won...)
		conflicts = nil
		for _, f := range append(logged, o.Won...) {
			conflicts = append(conflicts, Conflict{Entity: e.Name, RecordID: cur.ID, County: cur.County, Field: f,
				Value: vals[f], HLC: h.String(), WinnerHLC: cur.State.Deleted.String(), Reason: ConflictDeleted,
				DeviceID: p.DeviceID, UserID: p.UserID, At: now})
		}
	}
	slices.Sort(res.LostFields)
	if len(conflicts) > 0 {
		if err := tx.AddConflicts(ctx, conflicts); err != nil {
			return err
		}
	}
	if len(o.Won) == 0 && !o.DeleteApplied {
		return nil
	}
	if siteNeedsDerive(e, o.Won) {
		s.deriveSite(cur)
	}
	s.noteVisitChange(tx, cur, o.Won)
	if e.Name == syncproto.EntityFinding && slices.Contains(o.Won, "status") && cur.Text("status") == "rectified" {
		// When the report arrived, beside the time its phone gave it.
		vals, err := canonicalValues(e, map[string]any{"rectified_received_at": now.Format(time.RFC3339Nano)})
		if err != nil {
			return err
		}
		syncproto.Merge(&cur.State, vals, false, s.Clock.Observe(cur.State.Highest()))
	}
	if captureNeedsCheck(e, o.Won, cur.Seq == 0) {
		if err := s.checkCapture(ctx, tx, cur, now); err != nil {
			return err
		}
	}
	if cur.Seq == 0 && e.Name == syncproto.EntityPhoto {
		if pm.ready, err = s.ClaimEarlierUpload(ctx, tx, p, cur, now); err != nil {
			return err
		}
	} else if e.Name == syncproto.EntityPhoto && len(o.Won) > 0 && cur.Value("processed_at") != nil {
		// Its flags and place were computed from the fields as they were
		// (position, time, visit, item, signature): compute them again.
		pm.ready = true
	}
	pm.recheck = completenessTrigger(cur, o.Won, cur.Seq == 0, o.DeleteApplied)
	cur.UpdatedAt = now
	auditFields := o.Won
	if audited {
		// Values sent again as they were change nothing to record: an
		// answer saved again with a photo added read 合格 → 合格 in the
		// history of a resubmission (county office probe).
		auditFields = slices.DeleteFunc(slices.Clone(o.Won), func(f string) bool { return bytes.Equal(auditOld[f], cur.State.Fields[f].Value) })
		audited = len(auditFields) > 0 || o.DeleteApplied
	}
	if audited {
		changes := auditChanges(cur, auditOld, auditFields)
		if o.DeleteApplied {
			changes["deleted"] = audit.Change{Old: json.RawMessage("false"), New: json.RawMessage("true")}
		}
		if err := appendAudit(ctx, tx, audit.ActionRecordChange, p.UserID, p.Name, p.DeviceID, cur, auditInsp, changes, now); err != nil {
			return err
		}
	}
	created := cur.Seq == 0
	if err := tx.Put(ctx, cur); err != nil {
		return err
	}
	if created && e.DeviceDeletable {
		return s.applyEarlyDelete(ctx, tx, cur, now, res)
	}
	return nil
}

// decisionField says whether field of e is one an office's decision writes
// that a device writes too: the status of an inspection (approved,
// returned) and of a finding (verified, reopened). A device's earlier
// value of it lost to a decision is not a conflict.
func decisionField(e *Entity, field string) bool {
	return field == "status" && (e.Name == syncproto.EntityInspection || e.Name == syncproto.EntityFinding)
}

// checkApply runs the checks of a mutation that would change the record
// (*cur, nil if there is none: a create, which it makes): existence,
// county and scope, immutable fields, locks, references, a photo's file.
func (s *Syncer) checkApply(ctx context.Context, tx WriteTx, p *Principal, pm *prepared, cur **StoredRecord, now time.Time) error {
	m, e, h, vals := pm.m, pm.e, pm.h, pm.vals
	if *cur == nil {
		if m.Delete {
			pm.kept = true
			return keepEarlyDelete(ctx, tx, p, e, m.ID, h, now)
		}
		r, err := s.newRecord(ctx, tx, p, e, m.ID, vals, h, now)
		if err != nil {
			return err
		}
		*cur = r
	} else if err := s.checkUpdate(ctx, tx, p, *cur, vals, m.Delete, h); err != nil {
		return err
	}
	if err := checkMapSize(*cur, vals); err != nil {
		return err
	}
	if err := s.checkRefs(ctx, tx, *cur, vals, h); err != nil {
		return err
	}
	if e.Name == syncproto.EntityPhoto {
		return s.checkDeclaredFile(ctx, tx, p, *cur, vals)
	}
	return nil
}

// keepEarlyDelete answers a device's delete of a record the store does not
// hold (not_found: the phone is done with it) and keeps it, so that the
// record's create, if it comes later (it was overtaken: a restore's
// resend, batches sent out of order), ends deleted, as when the create
// comes first: the same state in every order of delivery. Of two such
// deletes the later (greater HLC) is kept, as a record keeps its latest
// tombstone.
func keepEarlyDelete(ctx context.Context, tx WriteTx, p *Principal, e *Entity, id string, h syncproto.HLC, now time.Time) error {
	kept, err := tx.EarlyDelete(ctx, e, id)
	if err != nil {
		return err
	}
	if kept == nil || kept.HLC.Compare(h) < 0 {
		if err := tx.PutEarlyDelete(ctx, &EarlyDelete{Entity: e.Name, ID: id, HLC: h, By: *p, At: now}); err != nil {
			return err
		}
	}
	return Errorf(syncproto.CodeNotFound, "要删除的记录不存在")
}

// applyEarlyDelete applies to the record just created the delete that
// reached the server before it (keepEarlyDelete), as its deleter sent it
// — with the same checks (their scope then, the record's lock), so that
// one refused in this order is refused in the other too — and forgets it.
// The create's result then says the record is deleted.
func (s *Syncer) applyEarlyDelete(ctx context.Context, tx WriteTx, cur *StoredRecord, now time.Time, res *syncproto.PushResult) error {
	d, err := tx.EarlyDelete(ctx, cur.Entity, cur.ID)
	if err != nil || d == nil {
		return err
	}
	if err := tx.DropEarlyDelete(ctx, cur.Entity, cur.ID); err != nil {
		return err
	}
	del := prepared{m: &syncproto.Mutation{Entity: cur.Entity.Name, ID: cur.ID, HLC: d.HLC.String(), Delete: true}, e: cur.Entity, h: d.HLC}
	var dres syncproto.PushResult
	if err := s.apply(ctx, tx, &d.By, &del, now, &dres); err != nil {
		if _, refused := errors.AsType[*Error](err); refused {
			return nil
		}
		return err
	}
	if cur.State.IsDeleted() {
		res.Status, res.Code, res.Message = syncproto.StatusStale, syncproto.CodeRecordDeleted, "记录已删除：删除它的修改先于新建到达了服务器"
	}
	return nil
}

// hiddenByDelete are the conflict log's entries for the values a delete
// at h hides that were written at or after h (an edit made after the
// delete on another phone, which reached the server first): the same
// entries as when the edit arrives after the delete (written to a deleted
// record), so that nothing is lost silently in either order. Values
// written before the delete are deleted with the record, not lost; the
// server's own fields are not a device's work.
func hiddenByDelete(r *StoredRecord, h syncproto.HLC, now time.Time) []Conflict {
	var out []Conflict
	for _, name := range slices.Sorted(maps.Keys(r.State.Fields)) {
		st := r.State.Fields[name]
		if f, _ := r.Entity.Field(name); f == nil || f.Server || st.HLC.Compare(h) < 0 || isNull(st.Value) {
			continue
		}
		out = append(out, Conflict{Entity: r.Entity.Name, RecordID: r.ID, County: r.County, Field: name, Value: st.Value,
			HLC: st.HLC.String(), WinnerHLC: h.String(), Reason: ConflictDeleted, DeviceID: st.HLC.Node, At: now})
	}
	return out
}

// MaxMapKeys bounds the members of one record's map field (an
// inspection's answers: one per checklist item, and the longest checklist
// has 20): a device cannot grow a record, which every phone of its county
// pulls, without end.
const MaxMapKeys = 200

// checkMapSize refuses a write that would leave a map field of r with more
// than MaxMapKeys members holding a value.
func checkMapSize(r *StoredRecord, vals map[string]json.RawMessage) error {
	for _, f := range r.Entity.Fields {
		if !f.Map {
			continue
		}
		prefix := f.Name + "."
		held := 0
		for name, st := range r.State.Fields {
			if strings.HasPrefix(name, prefix) && !isNull(st.Value) {
				if v, sent := vals[name]; !sent || !isNull(v) {
					held++
				}
			}
		}
		for name, v := range vals {
			if st, had := r.State.Fields[name]; strings.HasPrefix(name, prefix) && !isNull(v) && (!had || isNull(st.Value)) {
				held++
			}
		}
		if held > MaxMapKeys {
			return Errorf(syncproto.CodeInvalidValue, "%s最多有 %d 项 %s（此次写入后将有 %d 项）", r.Entity.Label, MaxMapKeys, f.Name, held).At(f.Name)
		}
	}
	return nil
}

// checkHLC parses a device HLC and refuses one not made by this device or
// too far in the future, so that a phone with a wrong clock can never win
// every later write: more than MaxSkew ahead of the server's physical
// time, and ahead of the server's own HLC. A stamp no later than the
// server's HLC is what a phone makes after observing a server_hlc, and
// wins over nothing the server has not already passed: were it refused,
// a server whose HLC ran ahead of its physical time (a looser --max-skew
// once, a host clock set back) would refuse every phone until its
// physical time caught up — days, or years — while a phone cannot push
// the HLC further than MaxSkew ahead of physical time.
func (s *Syncer) checkHLC(raw, deviceID string, now time.Time) (syncproto.HLC, error) {
	h, err := syncproto.ParseHLC(raw)
	switch {
	case err != nil || h.IsZero():
		return h, Errorf(syncproto.CodeInvalidHLC, "hlc 格式无效")
	case h.Node != deviceID:
		return h, Errorf(syncproto.CodeInvalidHLC, "hlc 的节点必须是本设备的 id")
	case h.Wall > now.Add(s.MaxSkew).UnixMilli() && h.Wall > s.Clock.Last().Wall:
		return h, Errorf(syncproto.CodeClockSkew, "设备时钟比服务器快了约 %s，超过允许的 %s，请校准时间后重新提交（服务器时间见 server_hlc）",
			chineseLead(h.Wall-now.UnixMilli()), ChineseDuration(s.MaxSkew))
	}
	return h, nil
}

// chineseLead says a lead of ms milliseconds as ChineseDuration does up
// to two days, and in days or years, the nearest, beyond (a
// time.Duration would overflow past 292 years, and 1517134 小时 says
// little).
func chineseLead(ms int64) string {
	const day = 24 * 60 * 60 * 1000
	switch {
	case ms < 2*day:
		return ChineseDuration(time.Duration(ms) * time.Millisecond)
	case ms < 2*365*day:
		return strconv.FormatInt((ms+day/2)/day, 10) + " 天"
	}
	return strconv.FormatInt((ms+365*day/2)/(365*day), 10) + " 年"
}

// CheckDeviceField checks the value a device means to push for field name
// of entity as a push checks it (the field exists, is the device's to
// write, and holds a value the server stores: a plate without line
// breaks, a number in range, a known enum value) and returns its
// canonical encoding. An app calls it at entry, so that what the server
// would refuse is refused while the user can still correct it, not after
// it was queued. Checks that need stored state (scope, references, locks)
// are the server's.
func CheckDeviceField(entity, name string, raw json.RawMessage) (json.RawMessage, error) {
	e := EntityByName(entity)
	if e == nil {
		return nil, Errorf(syncproto.CodeUnknownEntity, "未知的数据类型 %q", entity)
	}
	v, err := NormalizeValue(raw, name)
	if err != nil {
		return nil, err
	}
	return canonicalField(e, name, v, true, true)
}

// canonicalField checks a wire field of entity e (its name, its
// ownership when a device writes, its value) and returns the value's
// canonical encoding; normalized says raw is NormalizeValue's output.
func canonicalField(e *Entity, name string, raw json.RawMessage, device, normalized bool) (json.RawMessage, error) {
	f, _ := e.Field(name)
	switch {
	case f == nil:
		return nil, Errorf(syncproto.CodeUnknownField, "%s没有字段 %q", e.Label, name).At(name)
	case device && f.Server:
		return nil, Errorf(syncproto.CodeServerOwnedField, "%s只能由服务器或办公室写入", FieldSaid(name)).At(name)
	}
	v, err := f.canonical(raw, device, normalized)
	var ferr *Error
	if err != nil && name != f.Name && errors.As(err, &ferr) && strings.HasPrefix(ferr.Message, FieldSaid(f.Name)) {
		// A member of a map field (answers.fence): the message names it,
		// not the whole map.
		named := *ferr
		named.Message = FieldSaid(name) + strings.TrimPrefix(ferr.Message, FieldSaid(f.Name))
		named.Field = name
		return nil, &named
	}
	if errors.As(err, &ferr) {
		return v, ferr.At(name)
	}
	return v, err
}

// newRecord checks a create (required fields, references, county, scope)
// and returns the new record with its server-owned creation fields set.
func (s *Syncer) newRecord(ctx context.Context, tx WriteTx, p *Principal, e *Entity, id string, vals map[string]json.RawMessage, h syncproto.HLC, now time.Time) (*StoredRecord, error) {
	for _, f := range e.Fields {
		if f.Required && isNull(vals[f.Name]) {
			return nil, Errorf(syncproto.CodeMissingField, "新建%s缺少必填的%s", e.Label, FieldSaid(f.Name)).At(f.Name)
		}
	}
	county, from, err := s.recordCounty(ctx, tx, e, vals, h)
	if err != nil {
		return nil, err
	}
	if !p.CanSee(county) {
		if e.CountyField == "" {
			// The county is its parent's, a record named by its id:
			// which county holds that is not said, only which
			// reference named it.
			return nil, Errorf(syncproto.CodeOutOfScope, "%s引用了其他区县的%s，无权在其他区县写入数据", FieldSaid(from), EntityByName(refOf(e, from)).Label).At(from)
		}
		return nil, Errorf(syncproto.CodeOutOfScope, "无权在%s写入数据", CountyName(ctx, s.Store.Get, county)).At(from)
	}
	r := &StoredRecord{Entity: e, ID: id, County: county, CreatedDevice: p.DeviceID, CreatedBy: p.UserID, CreatedAt: now}
	r.State.Fields = make(map[string]syncproto.FieldState, len(vals))
	return r, nil
}

// recordCounty finds the county a new record belongs to: the one it names,
// or its parent's; from is the field that gave it. A parent the same
// device deleted after it made the record (h) still gives it
// (lock.before).
func (s *Syncer) recordCounty(ctx context.Context, tx WriteTx, e *Entity, vals map[string]json.RawMessage, h syncproto.HLC) (county, from string, err error) {
	if e.Global {
		return "", "", nil
	}
	if e.CountyField != "" {
		var code string
		_ = json.Unmarshal(vals[e.CountyField], &code)
		c, err := tx.Get(ctx, EntityByName(syncproto.EntityCounty), code)
		if err != nil {
			return "", "", err
		}
		if c == nil {
			return "", "", Errorf(syncproto.CodeInvalidValue, "未知的区县代码 %q", code).At(e.CountyField)
		}
		return code, e.CountyField, nil
	}
	for _, name := range e.Parents {
		var ref string
		if json.Unmarshal(vals[name], &ref) != nil || ref == "" {
			continue
		}
		f, _ := e.Field(name)
		parent, err := tx.Get(ctx, EntityByName(f.Ref), ref)
		if err != nil {
			return "", "", err
		}
		if parent == nil {
			return "", "", Errorf(syncproto.CodeUnknownReference, "%s引用的%s尚未上传或不存在", FieldSaid(name), EntityByName(f.Ref).Label).At(name)
		}
		if parent.State.IsDeleted() && !lockDeleted.before(parent.State.Deleted, h) {
			return "", "", Errorf(syncproto.CodeUnknownReference, "%s引用的%s已被删除", FieldSaid(name), EntityByName(f.Ref).Label).At(name)
		}
		return parent.County, name, nil
	}
	return "", "", Errorf(syncproto.CodeMissingField, "新建%s须关联 %s 之一", e.Label, strings.Join(e.Parents, "、"))
}

// countyFrom is the field that put record r in its county: its county
// field, or the first of its parent references it holds ("" if none) —
// what an out_of_scope refusal names, as a create's does.
func countyFrom(r *StoredRecord) string {
	if r.Entity.CountyField != "" {
		return r.Entity.CountyField
	}
	for _, name := range r.Entity.Parents {
		if v, ok := r.State.Fields[name]; ok && !isNull(v.Value) {
			return name
		}
	}
	return ""
}

// refOf is the entity reference field name of e refers to.
func refOf(e *Entity, name string) string {
	if f, _ := e.Field(name); f != nil {
		return f.Ref
	}
	return ""
}

// checkUpdate refuses an update outside the caller's scope, one that changes
// an immutable field, and one to a locked inspection — unless the mutation
// is a retry of one already stored, which is answered as a duplicate.
func (s *Syncer) checkUpdate(ctx context.Context, tx WriteTx, p *Principal, cur *StoredRecord, vals map[string]json.RawMessage, del bool, h syncproto.HLC) error {
	if !p.CanSee(cur.County) {
		return Errorf(syncproto.CodeOutOfScope, "无权修改其他区县的数据").At(countyFrom(cur))
	}
	if alreadyStored(cur, vals, del, h) {
		return nil
	}
	// An immutable field is what the record was created with: one it was
	// created without stays unset too, as the first device to set it
	// later would otherwise win whatever its HLC (and the next be
	// refused), so that the order of delivery would decide.
	for name, v := range vals {
		if f, _ := cur.Entity.Field(name); !f.Immutable {
			continue
		}
		switch old, ok := cur.State.Fields[name]; {
		case !ok || isNull(old.Value):
			if !isNull(v) {
				return Errorf(syncproto.CodeImmutableField, "%s只能在创建%s时填写", FieldSaid(name), cur.Entity.Label).At(name)
			}
		case !bytes.Equal(old.Value, v):
			return Errorf(syncproto.CodeImmutableField, "%s创建后不能修改", FieldSaid(name)).At(name)
		}
	}
	// Fields of the record's own device: another may resend what they
	// hold, not change them.
	if !cur.OwnDevice(p.DeviceID) {
		for name, v := range vals {
			if f, _ := cur.Entity.Field(name); !f.OwnDevice {
				continue
			}
			if old, ok := cur.State.Fields[name]; ok && bytes.Equal(old.Value, v) || !ok && isNull(v) {
				continue
			}
			return Errorf(syncproto.CodeImmutableField, "%s只有创建这条%s的设备能修改（它记录的是那台设备拍摄时的情况）", FieldSaid(name), cur.Entity.Label).At(name)
		}
	}
	// A required field is never cleared: a device would otherwise empty
	// a record's evidence (a roadside check's plate) without deleting it.
	for name, v := range vals {
		if f, _ := cur.Entity.Field(name); f.Required && isNull(v) {
			return Errorf(syncproto.CodeInvalidValue, "%s是必填项，不能清空", FieldSaid(name)).At(name)
		}
	}
	if cur.State.IsDeleted() && !del {
		// The record itself is deleted: its own delete decides, not its
		// inspection's lock. The change merges unseen and is answered
		// stale with record_deleted, its values kept in the conflict log
		// (SDK probe: a finding deleted with its inspection by one phone
		// and edited by another was refused record_locked, which the
		// phone keeps for a return that could never come).
		return nil
	}
	l, since, err := s.lockOf(ctx, tx, cur)
	// A device's own change stamped before the submission (lock.before)
	// is taken for the records under the inspection — its findings and
	// photos, which a restore's resend sends after it — but not for the
	// submitted inspection itself: its own earlier writes are sent before
	// its submission in every order a phone sends (its writes in HLC
	// order), so one that comes after is backdated, and would change or
	// delete an inspection under review.
	itself := l == lockSubmitted && cur.Entity.Name == syncproto.EntityInspection
	switch {
	case err != nil:
		return err
	case del && cur.Entity.KeptOnce != "" && cur.Text(cur.Entity.KeptOnce) != "":
		// Before the lock: an approved inspection is locked for good, and
		// a delete set aside until it is returned (record_locked) would
		// wait for ever.
		return Errorf(syncproto.CodeNotDeletable, "%s已经督查审核，审核记录和证据都要保留，设备不能删除；如需更正，请修改后重新提交", cur.Entity.Label)
	case !l.allows(cur, vals, del) && (itself || !l.before(since, h)):
		return l.refused(cur)
	case !del && cur.Entity.KeptOnce != "" && cur.Text(cur.Entity.KeptOnce) != "" && string(vals["status"]) == `"draft"` &&
		cur.State.Fields["status"].HLC.Compare(h) < 0:
		// Nor set back to a draft, which offices do not see: a returned
		// inspection left as one would drop out of the queue, the report
		// and the overdue findings as a delete would. (A draft stamped
		// before the status held loses to it: stale, not refused.)
		return Errorf(syncproto.CodeInvalidValue, "%s已经督查审核（退回），只能修改后重新提交，不能改回草稿", cur.Entity.Label).At("status")
	}
	return nil
}

// checkRefs checks every reference a mutation sets: the record referred to
// exists, is not deleted, and is in the same county — so a photo can never
// be tied to another county's finding, and a dangling id is a clear
// rejection rather than a failed batch. A new child of a locked inspection
// is refused like an edit of it.
func (s *Syncer) checkRefs(ctx context.Context, tx WriteTx, r *StoredRecord, vals map[string]json.RawMessage, h syncproto.HLC) error {
	for name, v := range vals {
		f, _ := r.Entity.Field(name)
		if f.Type != TypeRef || isNull(v) {
			continue
		}
		if old, ok := r.State.Fields[name]; ok && bytes.Equal(old.Value, v) && r.Seq != 0 {
			continue // unchanged on an existing record: checked when set
		}
		var id string
		_ = json.Unmarshal(v, &id)
		ref, err := tx.Get(ctx, EntityByName(f.Ref), id)
		switch {
		case err != nil:
			return err
		case ref == nil || ref.State.IsDeleted() && !lockDeleted.before(ref.State.Deleted, h):
			// A record its device made before it deleted the parent
			// (lockDeleted's before) is taken as it was in its order.
			return Errorf(syncproto.CodeUnknownReference, "%s引用的%s不存在或已删除", FieldSaid(name), EntityByName(f.Ref).Label).At(name)
		case ref.County != r.County:
			return Errorf(syncproto.CodeOutOfScope, "%s引用了其他区县的%s", FieldSaid(name), EntityByName(f.Ref).Label).At(name)
		}
		if r.Seq != 0 {
			continue
		}
		// A new record under one whose own parent is deleted (a photo of
		// a deleted inspection's finding) is refused as under a deleted
		// one; a new finding also under a judged inspection.
		l, since, err := s.lockOf(ctx, tx, ref)
		switch {
		case err != nil:
			return err
		case l == lockDeleted && !l.before(since, h):
			return l.refused(r)
		case l != unlocked && r.Entity.Name == syncproto.EntityFinding && !l.before(since, h):
			return Errorf(syncproto.CodeRecordLocked, "检查已提交或已通过审核，不能再新增问题")
		case (l == lockVerified || l == lockVoided) && r.Entity.Name == syncproto.EntityPhoto && h.Compare(since) >= 0:
			// The office judged the rectification on its evidence, or
			// voided the check: a photo taken since is no part of it (one
			// taken before, sent late, still is).
			return l.refused(r)
		}
	}
	if err := checkRoadsidePhoto(ctx, tx, r, vals); err != nil {
		return err
	}
	return checkWithin(ctx, tx, r, vals)
}

// checkRoadsidePhoto refuses a new photo that is evidence of a roadside
// check and of an inspection (or its finding) unless the inspection is
// one of a checkpoint: the truck stopped there, recorded on a roadside
// checklist and as the check (what the demo's roadside visits send). A
// construction site's photo listed as a truck's evidence, 11.7 km from
// it and unflagged, would judge each by the other's place and time.
// The links are immutable: only a create sets them.
func checkRoadsidePhoto(ctx context.Context, tx WriteTx, r *StoredRecord, vals map[string]json.RawMessage) error {
	if r.Seq != 0 || r.Entity.Name != syncproto.EntityPhoto || isNull(vals["vehicle_check_id"]) {
		return nil
	}
	var inspID, findingID string
	_ = json.Unmarshal(vals["inspection_id"], &inspID)
	_ = json.Unmarshal(vals["finding_id"], &findingID)
	what := "检查记录（inspection_id）"
	if inspID == "" && findingID != "" {
		f, err := tx.Get(ctx, EntityByName(syncproto.EntityFinding), findingID)
		if err != nil || f == nil {
			return err // a missing finding was answered above
		}
		inspID, what = f.Text("inspection_id"), "发现问题（finding_id）"
	}
	if inspID == "" {
		return nil
	}
	insp, err := tx.Get(ctx, EntityByName(syncproto.EntityInspection), inspID)
	if err != nil || insp == nil {
		return err
	}
	kind, err := siteKindOf(ctx, tx, map[string]string{}, insp.Text("site_id"))
	if err != nil {
		return err
	}
	if kind != "checkpoint" {
		return Errorf(syncproto.CodeInvalidValue, "照片同时关联路检记录（vehicle_check_id）和%s时，所属检查须是路检点的检查；此检查的点位是%s",
			what, syncproto.Label(syncproto.SiteKinds, kind)).At("vehicle_check_id")
	}
	return nil
}

// checkWithin refuses a record whose references, as they stand after
// vals, disagree: a reference field with Within names a record whose
// Within field is not the record's own (a photo naming a finding of
// another inspection than its inspection_id, which would count as
// evidence of one and be audited as the other's). Checked when either
// field is in vals.
func checkWithin(ctx context.Context, tx WriteTx, r *StoredRecord, vals map[string]json.RawMessage) error {
	ref := func(name string) string {
		v, ok := vals[name]
		if !ok {
			v = r.State.Fields[name].Value
		}
		var id string
		if isNull(v) || json.Unmarshal(v, &id) != nil {
			return ""
		}
		return id
	}
	for i := range r.Entity.Fields {
		f := &r.Entity.Fields[i]
		if f.Within == "" {
			continue
		}
		_, c1 := vals[f.Name]
		_, c2 := vals[f.Within]
		id, shared := ref(f.Name), ref(f.Within)
		if (!c1 && !c2) || id == "" || shared == "" {
			continue
		}
		other, err := tx.Get(ctx, EntityByName(f.Ref), id)
		if err != nil || other == nil {
			return err // a missing record was answered by checkRefs
		}
		if other.Text(f.Within) != shared {
			within, _ := r.Entity.Field(f.Within)
			return Errorf(syncproto.CodeInvalidValue, "%s所指的%s不属于本记录的%s（%s）", FieldSaid(f.Name), EntityByName(f.Ref).Label, EntityByName(within.Ref).Label, f.Within).At(f.Name)
		}
	}
	return nil
}

func alreadyStored(cur *StoredRecord, vals map[string]json.RawMessage, del bool, h syncproto.HLC) bool {
	if del {
		return cur.State.Deleted == h
	}
	for name, v := range vals {
		if st, ok := cur.State.Fields[name]; !ok || st.HLC != h || !bytes.Equal(st.Value, v) {
			return false
		}
	}
	return true
}

// lock is why devices may not change a record, if they may not.
type lock int

const (
	unlocked lock = iota
	// lockSubmitted: the record's inspection awaits an office's review.
	lockSubmitted
	// lockApproved: the record's inspection was approved. A finding's
	// rectification (its Rectification fields) may still progress.
	lockApproved
	// lockVerified: an office verified the finding's rectification.
	lockVerified
	// lockDeleted: the record's inspection (or finding) is deleted. Its
	// findings and photos take no change and no new photo; a device may
	// still delete them.
	lockDeleted
	// lockVoided: an office voided the roadside check. Its photos'
	// records take no change either, and no new photo taken since.
	lockVoided
)

// refused is the rejection of a device's change to a record under l.
func (l lock) refused(r *StoredRecord) error {
	switch {
	case l == lockSubmitted:
		return Errorf(syncproto.CodeRecordLocked, "检查已提交，待督查审核；退回前不能修改")
	case l == lockVerified:
		return Errorf(syncproto.CodeRecordLocked, "问题的整改已由督查核实，不能再修改或补充照片")
	case l == lockDeleted:
		return Errorf(syncproto.CodeRecordLocked, "所属的检查记录或问题已删除，不能再修改或补充照片")
	case l == lockVoided && r.Entity.Name == syncproto.EntityVehicleCheck:
		return Errorf(syncproto.CodeRecordLocked, "此路检记录已被督查作废（%s），不能再修改", r.Text("void_reason"))
	case l == lockVoided:
		return Errorf(syncproto.CodeRecordLocked, "所属的路检记录已被督查作废，照片不能再修改或补充")
	case r.Entity.Name == syncproto.EntityFinding:
		return Errorf(syncproto.CodeRecordLocked, "检查已通过审核，问题只能更新整改状态和整改说明（%s）",
			strings.Join(r.Entity.rectification, "、"))
	}
	return Errorf(syncproto.CodeRecordLocked, "检查已通过审核，不能修改")
}

// allows reports whether a device may still make a change to r under l:
// none to a locked record, but the progress of an approved inspection's
// finding (a deadline passes after the approval, the site is put right,
// the inspector says so) until an office verifies it.
func (l lock) allows(r *StoredRecord, vals map[string]json.RawMessage, del bool) bool {
	if l == unlocked {
		return true
	}
	if l == lockDeleted {
		return del
	}
	if l != lockApproved || del || r.Entity.Name != syncproto.EntityFinding {
		return false
	}
	for name := range vals {
		if f, _ := r.Entity.Field(name); !f.Rectification {
			return false
		}
	}
	return true
}

// before reports whether a device's change stamped h is part of what the
// same device did before the lock took hold at since — the submission of
// the record's inspection, or the deletion of its inspection or finding,
// both that device's own (an earlier HLC of the same node). Such a change
// arrives after the lock only because it was sent again later: after a
// restore, a phone sends the inspection (submitted, or deleted) before
// its findings (sync.md 8.3), and refused, those would be lost. Another
// device's change is refused while the lock holds, whenever it was made:
// it reaches that phone as a rejection it can act on, and the office
// reviews what the submitting phone sent. An office's decisions
// (approval, verification, voiding) hold whatever the change's HLC.
func (l lock) before(since, h syncproto.HLC) bool {
	return (l == lockSubmitted || l == lockDeleted) && !since.IsZero() && h.Node == since.Node && h.Compare(since) < 0
}

// lockOf says whether and why devices may not change r: a submitted or
// approved inspection, or a record of one — a finding, a photo of it or
// of one of its findings; a verified finding and its photos. New evidence
// may still arrive late (a photo's creation is not an update), but the
// evidence an office reviews or approved is not re-dated, moved or
// re-assigned under it.
func (s *Syncer) lockOf(ctx context.Context, tx WriteTx, r *StoredRecord) (l lock, since syncproto.HLC, err error) {
	switch r.Entity.Name {
	case syncproto.EntityInspection:
		switch r.Text("status") {
		case "submitted":
			return lockSubmitted, r.State.Fields["status"].HLC, nil
		case "approved":
			return lockApproved, since, nil
		}
		return unlocked, since, nil
	case syncproto.EntityFinding:
		if r.Text("status") == "verified" {
			return lockVerified, r.State.Fields["status"].HLC, nil
		}
	case syncproto.EntityVehicleCheck:
		if r.Text("voided_at") != "" {
			return lockVoided, r.State.Fields["voided_at"].HLC, nil
		}
		return unlocked, since, nil
	}
	for _, ref := range [...]struct{ entity, field string }{
		{syncproto.EntityPhoto, "vehicle_check_id"},
		{syncproto.EntityFinding, "inspection_id"}, {syncproto.EntityPhoto, "inspection_id"}, {syncproto.EntityPhoto, "finding_id"},
	} {
		id := r.Text(ref.field)
		if r.Entity.Name != ref.entity || id == "" {
			continue
		}
		f, _ := r.Entity.Field(ref.field)
		parent, err := tx.Get(ctx, EntityByName(f.Ref), id)
		if err != nil || parent == nil {
			return unlocked, since, err
		}
		if parent.State.IsDeleted() {
			return lockDeleted, parent.State.Deleted, nil
		}
		l, since, err := s.lockOf(ctx, tx, parent)
		if err == nil && l == unlocked && ref.field == "vehicle_check_id" {
			continue // a checkpoint inspection's photo: it decides too
		}
		if err != nil || l != unlocked || ref.field != "inspection_id" || r.Text("finding_id") == "" {
			return l, since, err
		}
		// A photo of an open inspection's verified finding: the finding
		// decides.
	}
	return unlocked, since, nil
}

// ownOlder says whether l is a device's value sent again after the same
// device had written a newer one (a create re-sent under a new batch id,
// everything sent again after a restore): an edit it superseded itself,
// not a conflict, as its newer value overwriting it was not one either
// (syncproto.Merge). The status of the mutation still says it was stale.
func ownOlder(l syncproto.Loss) bool {
	return l.Incoming && l.HLC.Node == l.WinnerHLC.Node && l.HLC != l.WinnerHLC
}

// knownTo says whether l is a stored value the writer had seen when it
// overwrote it (the mutation's seen names its HLC for the field): a
// later edit, as an office's decision answered or a colleague's report
// followed, not a conflict. Two values of one HLC stay a conflict.
func knownTo(seen map[string]string, l syncproto.Loss) bool {
	h, ok := seen[l.Field]
	return ok && !l.Incoming && l.HLC != l.WinnerHLC && h == l.HLC.String()
}

// losses are the conflicts to log of a merge's losses (ls) of record r,
// the write of p whose seen is seen.
func losses(r *StoredRecord, ls []syncproto.Loss, seen map[string]string, p *Principal, now time.Time) []Conflict {
	if len(ls) == 0 {
		return nil
	}
	out := make([]Conflict, 0, len(ls))
	for _, l := range ls {
		if ownOlder(l) || knownTo(seen, l) {
			continue
		}
		c := Conflict{Entity: r.Entity.Name, RecordID: r.ID, County: r.County, Field: l.Field, Value: l.Value,
			HLC: l.HLC.String(), WinnerHLC: l.WinnerHLC.String(), Reason: ConflictOlder, At: now}
		if l.HLC == l.WinnerHLC {
			c.Reason = ConflictEqualHLC
		}
		if l.Incoming {
			c.DeviceID, c.UserID = p.DeviceID, p.UserID
		} else {
			c.DeviceID = l.HLC.Node
		}
		out = append(out, c)
	}
	return out
}

func isNull(v json.RawMessage) bool { return len(v) == 0 || bytes.Equal(v, nullJSON) }

func mustJSON(v any) json.RawMessage {
	if s, ok := v.(string); ok && IsPlain(s) {
		return json.RawMessage(`"` + s + `"`)
	}
	b, err := marshalCanonical(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ChineseDuration writes d in Chinese units for messages people read:
// "1 小时 5 分 3 秒", rounded to the second; under a minute to the tenth
// of a second ("0.5 秒").
func ChineseDuration(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + " 秒"
	}
	d = d.Round(time.Second)
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var parts []string
	if h > 0 {
		parts = append(parts, strconv.Itoa(h)+" 小时")
	}
	if m > 0 {
		// 分 alone reads as points: 5 分钟, 1 小时 5 分钟, but 2 分 30 秒.
		unit := " 分钟"
		if sec > 0 {
			unit = " 分"
		}
		parts = append(parts, strconv.Itoa(m)+unit)
	}
	if sec > 0 {
		parts = append(parts, strconv.Itoa(sec)+" 秒")
	}
	return strings.Join(parts, " ")
}

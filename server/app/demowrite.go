package app

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/photos"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Writing the demo's month (demomonth.go) through the server's own paths:
// the phones' records by Syncer.Push, as the devices of the demo
// inspectors; the photo bytes by Syncer.StoreUpload, the call a finished
// tus upload makes, with the uploading phone as principal, so a photo
// counts as uploaded only because bytes were sent for it (possession.go);
// the offices' decisions by Syncer.Review. The processing pool then reads
// the photos and raises the flags as for any upload.
//
// Idempotence. Every id and every push batch id is fixed, and so is every
// mutation (its HLC included): re-sending a batch the server has is a
// replay that changes nothing. The month is dated by the day the demo was
// first made, which a later start reads back from the first visit's
// started_at (demoDay). A start that finds the last planned review made
// skips the records; one cut short sends its batches again.
//
// Speed. Start-up writes only the records without photos (a second or so
// on this machine): the review queue, ledger and roadside pages show the
// month at once. The photos — made (the JPEG encoding is most of the
// work), pushed and uploaded phone by phone and day by day, as phones back
// on the network would — follow in the background once the server is
// serving (sendDemoPhotos), and the processing pool flags them as they
// come. A later start finds them there and sends nothing.

// demoPhotos is the background part of the demo: the photos' batches.
type demoPhotos struct {
	batches    []demoPhotoBatch
	principals map[string]*server.Principal // by device id
	done       chan struct{}                // closed when the photos are sent
}

// loadDemoMonth writes the month's records if they are not written yet,
// and leaves its photos for Serve.
func (a *App) loadDemoMonth(ctx context.Context, set *seeds.Set, demo *seeds.Demo) error {
	day0, err := a.demoDay(ctx, set, demo)
	if err != nil {
		return err
	}
	m := planDemoMonth(set, demo, day0, a.demoDays())
	principals, written, err := a.demoDevices(ctx, m)
	if err != nil {
		return err
	}
	visits, photoBatches := m.batches()
	if !written {
		if err := a.writeDemoMonth(ctx, m, visits, principals); err != nil {
			return err
		}
	}
	a.demo = &demoPhotos{batches: photoBatches, principals: principals, done: make(chan struct{})}
	return nil
}

// demoDays is how many days the demo's month spans.
func (a *App) demoDays() int {
	if a.Cfg.DemoDays > 0 {
		return a.Cfg.DemoDays
	}
	return demoDays
}

// demoDay returns the day the demo's month ends: the day it was first
// made, read back from its first visit, or today (China time).
func (a *App) demoDay(ctx context.Context, set *seeds.Set, demo *seeds.Demo) (time.Time, error) {
	now := a.Syncer.Now().In(chinaTime)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chinaTime)
	first := planDemoMonth(set, demo, today, a.demoDays()).visits[0]
	r, err := a.Syncer.Store.Get(ctx, syncproto.EntityInspection, first.id)
	if err != nil || r == nil {
		return today, err
	}
	started := r.Time("started_at").In(chinaTime)
	if started.IsZero() {
		return today, fmt.Errorf("demo inspection %s has no started_at", first.id)
	}
	day := time.Date(started.Year(), started.Month(), started.Day(), 0, 0, 0, 0, chinaTime)
	return day.AddDate(0, 0, first.day), nil
}

// demoDevices returns the demo phones' principals, registering the phones
// unless the month is written already (which it reports: the last planned
// review was made).
func (a *App) demoDevices(ctx context.Context, m *demoMonth) (map[string]*server.Principal, bool, error) {
	written := false
	for i := len(m.visits) - 1; i >= 0; i-- {
		if v := m.visits[i]; v.review != "" {
			r, err := a.Syncer.Store.Get(ctx, syncproto.EntityInspection, v.id)
			if err != nil {
				return nil, false, err
			}
			written = r != nil && r.Text("status") != "submitted"
			break
		}
	}
	out := map[string]*server.Principal{}
	for _, d := range m.devices {
		u, _, err := a.DB.UserByUsername(ctx, d.user.Username)
		if err != nil {
			return nil, false, fmt.Errorf("demo user %s: %w", d.user.Username, err)
		}
		if !written {
			// The phone signed in once; its refresh token is random and
			// already expired, so nobody can use the device.
			// It signed in the morning before the month's first day.
			secret := make([]byte, 32)
			_, _ = rand.Read(secret)
			at := m.date(m.days + 1).Add(8 * time.Hour)
			dev := &server.Device{ID: d.id, UserID: u.ID, Name: d.name, CreatedAt: at}
			if _, err := a.DB.RegisterDevice(ctx, dev, hex.EncodeToString(secret), at); err != nil && !demoDeviceBarred(err) {
				return nil, false, fmt.Errorf("demo device %s: %w", d.name, err)
			}
		}
		p, err := a.DB.Principal(ctx, u.ID, d.id)
		switch {
		case demoDeviceBarred(err):
			// An office revoked the phone or disabled its user: it
			// sends nothing more.
			a.Log.Info("demo phone barred; its records and photos are not sent", "device", d.name, "err", err)
		case err != nil:
			return nil, false, fmt.Errorf("demo device %s: %w", d.name, err)
		default:
			out[d.id] = p
		}
	}
	return out, written, nil
}

// demoDeviceBarred reports whether err says a demo phone may no longer
// sync: an office revoked it or disabled its user.
func demoDeviceBarred(err error) bool {
	code := server.ErrorCode(err)
	return code == syncproto.CodeDeviceRevoked || code == syncproto.CodeUserDisabled
}

// writeDemoMonth writes the month as it happened, in time order and each
// at its time (Syncer.PushAt, ReviewAt): each phone's push on the evening
// of its day's work (one per phone and day), each office's decision the
// morning after the visit — so that the console's times of arrival and
// decision read as a month of work, not as one start. Then each phone
// pulls once (so the devices page shows their sync health) and the task
// progress is reported. The last planned decision is made last: it is
// what a later start checks (demoDevices).
func (a *App) writeDemoMonth(ctx context.Context, m *demoMonth, batches []demoBatch, principals map[string]*server.Principal) error {
	reviewers, err := a.demoReviewers(ctx)
	if err != nil {
		return err
	}
	for _, e := range m.timeline(batches) {
		if e.batch != nil {
			if p := principals[e.batch.dev.id]; p != nil {
				if err := a.pushDemo(ctx, p, *e.batch, e.at); err != nil {
					return err
				}
			}
			continue
		}
		v := e.visit
		// Decided at an earlier start (the inspection may have been
		// resubmitted since, by a person: it is theirs to decide now).
		if rs, err := a.DB.Find(ctx, syncproto.EntityReview, "inspection_id", v.id); err != nil || len(rs) > 0 {
			if err != nil {
				return err
			}
			continue
		}
		p := reviewers[v.site.county]
		if p == nil {
			p = reviewers[""]
		}
		_, err := a.Syncer.ReviewAt(ctx, p, v.id, v.review, v.comment, server.Seen{}, e.at)
		if err != nil && server.ErrorCode(err) != syncproto.CodeNotFound { // not found: its phone was barred
			return fmt.Errorf("demo review of %s: %w", v.id, err)
		}
	}
	for _, d := range m.devices {
		if p := principals[d.id]; p != nil {
			if err := a.pullDemo(ctx, p); err != nil {
				return fmt.Errorf("demo pull by %s: %w", d.name, err)
			}
		}
	}
	return a.writeDemoTaskProgress(ctx, m.set, planDemoTaskProgress(m.set, m.day0))
}

// demoEvent is a push (batch) or an office's decision (visit) of the
// demo's month, at its time.
type demoEvent struct {
	at    time.Time
	batch *demoBatch
	visit *demoVisit
}

// timeline orders the month's pushes and decisions by their times: a
// phone pushes half an hour after the last change of its day's batch; an
// office decides on a visit from 9:00 the next morning, a few minutes
// after its previous decision. The last planned decision comes last.
func (m *demoMonth) timeline(batches []demoBatch) []demoEvent {
	var out []demoEvent
	for i := range batches {
		var last int64
		for _, mu := range batches[i].mutations {
			if h, err := syncproto.ParseHLC(mu.HLC); err == nil && h.Wall > last {
				last = h.Wall
			}
		}
		out = append(out, demoEvent{at: time.UnixMilli(last).Add(30 * time.Minute), batch: &batches[i]})
	}
	var final *demoVisit
	for i, v := range m.visits {
		if v.review == "" {
			continue
		}
		final = v
		y, mo, d := v.end.In(chinaTime).Date()
		at := time.Date(y, mo, d+1, 9, 0, 0, 0, chinaTime).Add(time.Duration(i%97) * 3 * time.Minute)
		out = append(out, demoEvent{at: at, visit: v})
	}
	slices.SortStableFunc(out, func(a, b demoEvent) int { return a.at.Compare(b.at) })
	if n := len(out); final != nil && out[n-1].visit != final {
		i := slices.IndexFunc(out, func(e demoEvent) bool { return e.visit == final })
		e := out[i]
		e.at = out[n-1].at.Add(time.Minute)
		out = append(slices.Delete(out, i, i+1), e)
	}
	return out
}

// pullDemo pulls p's whole slice, as a phone's first sync does.
func (a *App) pullDemo(ctx context.Context, p *server.Principal) error {
	cursor := ""
	for {
		resp, err := a.Syncer.Pull(ctx, p, cursor, server.MaxPullLimit, server.FormGrouped)
		if err != nil {
			return err
		}
		if cursor = resp.Cursor; !resp.HasMore {
			return nil
		}
	}
}

// pushDemo pushes one batch as its phone, received at at; any rejection
// is an error (the plan is wrong).
func (a *App) pushDemo(ctx context.Context, p *server.Principal, b demoBatch, at time.Time) error {
	resp, err := a.Syncer.PushAt(ctx, p, &syncproto.PushRequest{DeviceID: b.dev.id, BatchID: b.id, Mutations: b.mutations}, at)
	if err != nil {
		return fmt.Errorf("demo push %s: %w", b.id, err)
	}
	for _, r := range resp.Results {
		if r.Status == syncproto.StatusRejected {
			return fmt.Errorf("demo push %s: %s %s rejected: %s %s", b.id, r.Entity, r.ID, r.Code, r.Message)
		}
	}
	return nil
}

// demoReviewers returns who decides on each county's inspections: its
// county office if the demo has one, else the city office (key "").
func (a *App) demoReviewers(ctx context.Context) (map[string]*server.Principal, error) {
	demo, err := seeds.LoadDemo()
	if err != nil {
		return nil, err
	}
	out := map[string]*server.Principal{}
	for _, du := range demo.Users {
		if du.Role != seeds.RoleCountyOffice && du.Role != seeds.RoleCityOffice {
			continue
		}
		u, _, err := a.DB.UserByUsername(ctx, du.Username)
		if err != nil {
			return nil, fmt.Errorf("demo reviewer %s: %w", du.Username, err)
		}
		p := &server.Principal{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Role: u.Role, Counties: u.Counties}
		if du.Role == seeds.RoleCityOffice {
			if out[""] == nil {
				out[""] = p
			}
			continue
		}
		for _, c := range du.Counties {
			out[c] = p
		}
	}
	if out[""] == nil {
		return nil, fmt.Errorf("the demo has no city office to review inspections")
	}
	return out, nil
}

// demoBatch is one push of one phone.
type demoBatch struct {
	id        string
	dev       *demoDevice
	mutations []syncproto.Mutation
}

// demoPhotoBatch is one phone's photo records of one day, pushed once
// their bytes are made (the records declare the SHA-256).
type demoPhotoBatch struct {
	id     string
	dev    *demoDevice
	photos []*demoPhoto
}

// batches returns the phones' pushes: each phone syncs once a day, after
// its visits, sending the sites it created, then each visit — the
// inspection, its truck record and findings, and last the submission, as
// sync.md section 9 asks — and, in a batch of their own, the day's photo
// records. Every mutation is stamped with the phone's clock when it made
// the change.
func (m *demoMonth) batches() ([]demoBatch, []demoPhotoBatch) {
	for _, d := range m.devices {
		d.last = syncproto.HLC{}
	}
	var out []demoBatch
	var photos []demoPhotoBatch
	for day := m.days; day >= 1; day-- {
		for _, d := range m.devices {
			b := demoBatch{id: demoID("batch", d.user.Username, day), dev: d}
			pb := demoPhotoBatch{id: demoID("photo batch", d.user.Username, day), dev: d}
			add := func(entity, id string, at time.Time, fields map[string]any) {
				b.mutations = append(b.mutations, syncproto.Mutation{Entity: entity, ID: id, HLC: d.hlc(at), Fields: rawFields(fields)})
			}
			for _, s := range m.newSites {
				if s.by == d && s.createdDay == day {
					add(syncproto.EntitySite, s.id, m.date(day).Add(7*time.Hour+50*time.Minute), map[string]any{
						"county": s.county, "kind": s.kind, "name": s.name, "address": "忻府区云中河南岸（巡查员在高德地图上选点）",
						"lon": s.sent.Lon, "lat": s.sent.Lat, "crs": s.crs, "radius_m": s.radius, "active": true})
				}
			}
			for _, v := range m.visits {
				if v.dev == d && v.day == day {
					v.mutations(add)
					pb.photos = append(pb.photos, v.photos...)
				}
			}
			if len(b.mutations) > 0 {
				out = append(out, b)
			}
			if len(pb.photos) > 0 {
				photos = append(photos, pb)
			}
		}
	}
	return out, photos
}

// mutations adds v's changes, as its phone made them, and stamps its
// photos' records (sent later, with the day's other photos).
func (v *demoVisit) mutations(add func(entity, id string, at time.Time, fields map[string]any)) {
	f := map[string]any{"site_id": v.site.id, "template_id": v.tmpl.ID, "template_version": v.tmpl.Version,
		"status": "draft", "started_at": v.start.Format(time.RFC3339), "lon": v.site.at.Lon, "lat": v.site.at.Lat}
	for k, a := range v.answers {
		f["answers."+k] = a
	}
	add(syncproto.EntityInspection, v.id, v.start, f)
	if v.vehicle != nil {
		add(syncproto.EntityVehicleCheck, v.vehicleID, v.start.Add(10*time.Minute), v.vehicle)
	}
	for _, fd := range v.findings {
		f := map[string]any{"inspection_id": v.id, "item_key": fd.item, "description": fd.description,
			"severity": fd.severity, "deadline": fd.deadline, "status": fd.status}
		if fd.note != "" {
			f["rectification_note"] = fd.note
		}
		add(syncproto.EntityFinding, fd.id, fd.at, f)
	}
	for _, p := range v.photos {
		p.hlc = v.dev.hlc(p.taken)
	}
	if v.submitted {
		add(syncproto.EntityInspection, v.id, v.end, map[string]any{"status": "submitted",
			"finished_at": v.end.Format(time.RFC3339), "summary": v.summary})
	}
}

// batch returns the push of b's photo records; their bytes must be made.
func (b demoPhotoBatch) batch() demoBatch {
	out := demoBatch{id: b.id, dev: b.dev}
	for _, p := range b.photos {
		v := p.visit
		at := toCRS(p.where, v.dev.crs)
		f := map[string]any{"inspection_id": v.id, "item_key": p.item, "sha256": p.sum, "content_type": "image/jpeg",
			"size_bytes": len(p.data), "captured_at": p.taken.Format(time.RFC3339), "lon": at.Lon, "lat": at.Lat,
			"crs": v.dev.crs, "accuracy_m": p.accuracy}
		if p.findingID != "" {
			f["finding_id"] = p.findingID
		}
		if p.vehicleID != "" {
			f["vehicle_check_id"] = p.vehicleID
		}
		out.mutations = append(out.mutations, syncproto.Mutation{Entity: syncproto.EntityPhoto, ID: p.id, HLC: p.hlc, Fields: rawFields(f)})
	}
	return out
}

func rawFields(in map[string]any) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(in))
	for k, v := range in {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // the plan holds only strings, numbers, booleans and maps of them
		}
		out[k] = b
	}
	return out
}

// demoUploadWorkers is how many demo photos are uploaded at once.
const demoUploadWorkers = 2

// demoQuiet is how long no device must have synced before the demo sends
// more photos: making, storing and processing them takes both cores of a
// small server for most of a minute, which real phones syncing right
// after a start (or a benchmark) must not wait behind.
const demoQuiet = 2 * time.Second

// demoPatience is the longest a batch of the demo's photos waits for
// devices to be quiet: under traffic that never pauses it goes on anyway,
// one batch (a phone's day, about ten photos) at most this often, so the
// demo is never starved and its share of the server stays small.
const demoPatience = 10 * time.Second

// sendDemoPhotos sends the demo's photos, day by day and phone by phone,
// until done or ctx ends: the bytes are made, the records pushed, the
// bytes uploaded, each stored photo queued for processing. Photos already
// on the server are skipped. A failure is logged and left for the next
// start. It begins demoQuiet after the server starts serving, and each
// batch and each photo waits until devices have been quiet for demoQuiet
// (App.Activity), the batch's photos together at most demoPatience: the
// demo gives way to real phones.
func (a *App) sendDemoPhotos(ctx context.Context) {
	defer close(a.demo.done)
	// Phones sync right after a start (all of them after an upgrade): the
	// demo begins once the server has served for demoQuiet, so that their
	// first requests find it quiet.
	wait := time.NewTimer(demoQuiet)
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return
	case <-wait.C:
	}
	start := time.Now()
	sent := 0
	for _, b := range a.demo.batches {
		until := time.Now().Add(cmp.Or(a.demoPatience, demoPatience))
		if a.giveWay(ctx, until) != nil {
			return
		}
		if a.demo.principals[b.dev.id] == nil {
			continue // the phone is barred
		}
		n, err := a.sendDemoPhotoBatch(ctx, b, until)
		if err != nil && ctx.Err() == nil {
			a.Log.Warn("demo photos", "batch", b.id, "err", err)
		}
		sent += n
	}
	if sent > 0 {
		a.Log.Info("demo photos sent", "photos", sent, "took", time.Since(start).Round(time.Millisecond))
	}
}

// sendDemoPhotoBatch sends one batch's photos that are not on the server
// yet, and returns how many it uploaded; each upload gives way to devices
// until the batch's patience runs out at until.
func (a *App) sendDemoPhotoBatch(ctx context.Context, b demoPhotoBatch, until time.Time) (int, error) {
	var todo []*demoPhoto
	pushed := true
	for _, p := range b.photos {
		r, err := a.Syncer.Store.Get(ctx, syncproto.EntityPhoto, p.id)
		if err != nil {
			return 0, err
		}
		pushed = pushed && r != nil
		if p.upload && (r == nil || !r.Uploaded()) {
			todo = append(todo, p)
		}
	}
	if pushed && len(todo) == 0 {
		return 0, nil
	}
	makeBytes(b.photos)
	defer func() {
		for _, p := range b.photos {
			p.data = nil // a month of photos need not stay in memory
		}
	}()
	if !pushed {
		if err := a.pushDemo(ctx, a.demo.principals[b.dev.id], b.batch(), a.Syncer.Now()); err != nil {
			return 0, err
		}
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for w := range demoUploadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(todo); i += demoUploadWorkers {
				errs[i] = a.uploadDemoPhoto(ctx, todo[i], until)
			}
		}()
	}
	wg.Wait()
	return len(todo), errors.Join(errs...)
}

// demoGaveWay, if set (by tests), is called each time the demo found a
// device request in flight or just ended, with how long it then waited.
var demoGaveWay func(waited time.Duration)

// giveWay waits until devices have been quiet for demoQuiet, or until, or
// ctx ends (returning its error).
func (a *App) giveWay(ctx context.Context, until time.Time) error {
	if a.Activity.Quiet() >= demoQuiet {
		return ctx.Err()
	}
	start := time.Now()
	err := a.Activity.GiveWay(ctx, demoQuiet, until)
	if demoGaveWay != nil {
		demoGaveWay(time.Since(start))
	}
	return err
}

// uploadDemoPhoto does what a finished tus upload of p does: check the
// bytes are an image of the declared type, then store them for p's record
// as its phone.
func (a *App) uploadDemoPhoto(ctx context.Context, p *demoPhoto, until time.Time) error {
	if err := a.giveWay(ctx, until); err != nil {
		return err
	}
	pr := a.demo.principals[p.visit.dev.id]
	size := int64(len(p.data))
	if err := photos.CheckOriginal(bytes.NewReader(p.data), size, "image/jpeg", photos.DefaultConfig().Limits); err != nil {
		return err
	}
	req := server.UploadRequest{PhotoID: p.id, SHA256: p.sum, ContentType: "image/jpeg", Size: size}
	if err := a.Syncer.CheckUpload(ctx, pr, req, nil); err != nil {
		return err
	}
	u := server.PhotoUpload{PhotoID: p.id, SHA256: p.sum, DeviceID: pr.DeviceID, UserID: pr.UserID, Size: size}
	ids, err := a.Syncer.StoreUpload(ctx, pr, u, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(p.data)), nil })
	if err != nil {
		return err
	}
	a.PhotoQueue.EnqueueLater(ids) // after any phone's
	return nil
}

// WaitDemo blocks until the demo's photos, which Serve sends in the
// background, are on the server (at once without a demo month).
func (a *App) WaitDemo() {
	if a.demo != nil {
		<-a.demo.done
	}
}

package photos

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The evidence flags. Each is a key of the photo's flags object, present
// only when raised, with the facts a reviewer needs as its value.
const (
	FlagNoGPS         = "no_gps"            // the photo itself carries no GPS position
	FlagFarFromSite   = "far_from_site"     // taken outside the site's geofence
	FlagTimeMismatch  = "time_mismatch"     // EXIF time, phone time, visit and receipt disagree
	FlagPosMismatch   = "position_mismatch" // the photo's EXIF position is far from the phone's own fix
	FlagMockLocation  = "mock_location"     // position accuracy exactly 0 (Android mock location)
	FlagEdited        = "edited"            // EXIF software names an image editor
	FlagDuplicate     = "duplicate"         // the same bytes were evidence of another inspection first (server.ReuseDuplicate)
	FlagNearDuplicate = "near_duplicate"    // a near-identical picture was taken at another site first (server.ReuseNearDuplicate)
	FlagDuplicateItem = "duplicate_item"    // the same bytes are the photo of another checklist item of the same inspection (server.ReuseOtherItem)
	FlagUnreadable    = "unreadable"        // the bytes could not be read as an image
	// FlagSignatureInvalid: the capture signature fails (capture.go).
	FlagSignatureInvalid = "signature_invalid"
)

// evidence is what the flags are computed from.
type evidence struct {
	rec        *server.StoredRecord
	exif       imageproc.EXIF
	hash       *uint64
	fp         imageproc.Fingerprint // nil when hash is
	unreadable string
	visit      *server.StoredRecord // the inspection, if any
	decisions  []decided            // an office's decisions on the inspection (its reviews), in time order
	site       *server.StoredRecord
	check      *server.StoredRecord // the roadside check, if any
	where      *geo.Point           // the photo's position in WGS-84: EXIF, else the phone's
	fix        *geo.Point           // the phone's own fix at capture, in WGS-84
}

// flags computes every flag but the reuse flags (duplicate and
// near_duplicate, see reuseFlags), which depend on other photos.
func (p *Processor) flags(ctx context.Context, ev *evidence) (map[string]any, error) {
	flags := map[string]any{}
	if err := p.place(ctx, ev); err != nil {
		return nil, err
	}
	if ev.unreadable != "" {
		flags[FlagUnreadable] = map[string]any{"reason": ev.unreadable}
	}
	if ev.exif.GPS == nil {
		f := map[string]any{"device_location": ev.where != nil}
		if ev.exif.GPSInvalid {
			f["invalid_gps"] = true
		}
		flags[FlagNoGPS] = f
	}
	if f := p.farFromSite(ev); f != nil {
		flags[FlagFarFromSite] = f
	}
	if f := p.timeMismatch(ev); f != nil {
		flags[FlagTimeMismatch] = f
	}
	if f := positionMismatch(ev); f != nil {
		flags[FlagPosMismatch] = f
	}
	if acc, ok := ev.rec.Float("accuracy_m"); ok && acc == 0 {
		flags[FlagMockLocation] = map[string]any{"source": "device", "accuracy_m": 0}
	} else if ev.exif.GPSAccuracyM != nil && *ev.exif.GPSAccuracyM == 0 {
		flags[FlagMockLocation] = map[string]any{"source": "exif", "accuracy_m": 0}
	}
	if editor, ok := imageproc.EditedBy(ev.exif.Software); ok {
		flags[FlagEdited] = map[string]any{"software": ev.exif.Software, "editor": editor}
	}
	if f := signatureFlag(ev.rec); f != nil {
		flags[FlagSignatureInvalid] = f
	}
	return flags, nil
}

// place finds the photo's visit, site and position.
func (p *Processor) place(ctx context.Context, ev *evidence) error {
	get := func(entity, id string) (*server.StoredRecord, error) {
		if id == "" {
			return nil, nil
		}
		r, err := p.store.Get(ctx, entity, id)
		if r != nil && r.State.IsDeleted() {
			r = nil
		}
		return r, err
	}
	inspID := ev.rec.Text("inspection_id")
	if inspID == "" && ev.rec.Text("finding_id") != "" {
		f, err := get(syncproto.EntityFinding, ev.rec.Text("finding_id"))
		if err != nil {
			return err
		}
		if f != nil {
			inspID = f.Text("inspection_id")
		}
	}
	var err error
	if ev.visit, err = get(syncproto.EntityInspection, inspID); err != nil {
		return err
	}
	if ev.visit != nil {
		if ev.site, err = get(syncproto.EntitySite, ev.visit.Text("site_id")); err != nil {
			return err
		}
		reviews, err := p.store.Find(ctx, syncproto.EntityReview, "inspection_id", ev.visit.ID)
		if err != nil {
			return err
		}
		for _, r := range reviews {
			if at := r.Time("decided_at"); !r.State.IsDeleted() && !at.IsZero() {
				ev.decisions = append(ev.decisions, decided{at: at, returned: r.Text("decision") == server.DecisionReturn})
			}
		}
		slices.SortFunc(ev.decisions, func(a, b decided) int { return a.at.Compare(b.at) })
	}
	if ev.check, err = get(syncproto.EntityVehicleCheck, ev.rec.Text("vehicle_check_id")); err != nil {
		return err
	}
	lon, okLon := ev.rec.Float("lon")
	lat, okLat := ev.rec.Float("lat")
	if okLon && okLat {
		crs := ev.rec.Text("crs")
		if crs == "" {
			crs = "wgs84"
		}
		if pt, err := geo.ToWGS84(geo.Point{Lon: lon, Lat: lat}, crs); err == nil {
			ev.fix = &pt
		}
	}
	ev.where = ev.fix
	if ev.exif.GPS != nil {
		pt := *ev.exif.GPS
		ev.where = &pt
	}
	return nil
}

// Tolerances of positionMismatch: what an honest phone's two positions of
// one moment may differ by. The camera writes the fix it had when the
// shutter fired, the app the one it had when it saved the record; indoors
// or under cover either may be a coarse network fix.
const (
	posBaseSlackM = 100 // on top of both reported accuracies
	posMaxAccM    = 500 // a reported accuracy counts up to this
)

// positionMismatch compares the photo's EXIF position with the phone's own
// fix at capture (both WGS-84): farther apart than both reported
// accuracies and posBaseSlackM allow, the file was not taken where the
// phone was (a picture from elsewhere, or a position set by hand).
func positionMismatch(ev *evidence) map[string]any {
	if ev.exif.GPS == nil || ev.fix == nil {
		return nil
	}
	allowed := float64(posBaseSlackM)
	out := map[string]any{}
	if acc, ok := ev.rec.Float("accuracy_m"); ok && acc > 0 {
		allowed += math.Min(acc, posMaxAccM)
		out["device_accuracy_m"] = acc
	}
	if ev.exif.GPSAccuracyM != nil && *ev.exif.GPSAccuracyM > 0 {
		allowed += math.Min(*ev.exif.GPSAccuracyM, posMaxAccM)
		out["exif_accuracy_m"] = *ev.exif.GPSAccuracyM
	}
	d := geo.DistanceM(*ev.exif.GPS, *ev.fix)
	if d <= allowed {
		return nil
	}
	out["distance_m"], out["allowed_m"] = math.Round(d), math.Round(allowed)
	return out
}

// RoadsideRadiusM is how far from its roadside check's position a photo
// of it may be taken before it is far_from_site. The check's lon/lat
// have no crs and are taken as WGS-84: one a phone took from a Chinese
// map's SDK (GCJ-02) is about 580 m off in Xinzhou, and its honest photos
// are within this; a photo of another place, kilometres off, is not.
const RoadsideRadiusM = 1000

// farFromSite compares the photo's position with the site's geofence,
// allowing the reported accuracy on top of the radius, or for a roadside
// check's photo with the check's own position (RoadsideRadiusM). Both
// positions are WGS-84, whatever systems the phones sent them in.
func (p *Processor) farFromSite(ev *evidence) map[string]any {
	if ev.where == nil {
		return nil
	}
	var at geo.Point
	var radius float64
	ok := false
	switch {
	case ev.site != nil:
		at, ok = server.SiteLocation(ev.site) // WGS-84, like ev.where
		if radius, _ = ev.site.Float("radius_m"); radius <= 0 {
			radius = 200
		}
	case ev.check != nil:
		lon, okLon := ev.check.Float("lon")
		lat, okLat := ev.check.Float("lat")
		at, ok, radius = geo.Point{Lon: lon, Lat: lat}, okLon && okLat, RoadsideRadiusM
	}
	if !ok {
		return nil
	}
	slack := 0.0
	if acc, ok := ev.rec.Float("accuracy_m"); ok {
		slack = math.Min(acc, 100)
	}
	d := geo.DistanceM(*ev.where, at)
	if d <= radius+slack {
		return nil
	}
	source := "device"
	if ev.exif.GPS != nil {
		source = "exif"
	}
	out := map[string]any{"distance_m": math.Round(d), "radius_m": radius, "source": source}
	if ev.site != nil {
		out["site_id"] = ev.site.ID
	} else {
		out["vehicle_check_id"] = ev.check.ID
	}
	return out
}

// rectification says whether a photo taken at taken, after its visit
// ended, is evidence of its finding's rectification: of a finding, taken
// once the office had approved the inspection (the phone reports a
// finding's rectification only then, up to its deadline and after). Such
// a photo is after the visit by nature; a finding's photo taken after the
// visit but before the approval is still out of place.
func rectification(ev *evidence, taken time.Time, slack time.Duration) bool {
	if ev.rec.Text("finding_id") == "" || ev.visit.Text("status") != "approved" {
		return false
	}
	approved := ev.visit.Time("reviewed_at")
	return !approved.IsZero() && !taken.Before(approved.Add(-slack))
}

// decided is an office's decision on an inspection: when, and whether it
// returned it.
type decided struct {
	at       time.Time
	returned bool
}

// retaken says whether a photo taken at taken was taken while its
// inspection stood returned — the office's last decision before it a
// return: evidence the return asked for (补拍), after the visit by nature
// (verification probe: every photo taken for a return was flagged
// 拍摄时间不在本次检查的起止时间内, which teaches reviewers to pass flags
// by). One taken after the visit but before any return, or after the
// approval that followed, is still out of place.
func retaken(ev *evidence, taken time.Time) bool {
	last := false
	for _, d := range ev.decisions {
		if taken.Before(d.at.Truncate(time.Second)) { // a camera's time is to the second
			break
		}
		last = d.returned
	}
	return last
}

// timeMismatch checks EXIF time against the phone's capture time, the
// photo's time against its visit, and against the server's receipt (a
// photo cannot be taken after the server received its record).
func (p *Processor) timeMismatch(ev *evidence) map[string]any {
	captured := ev.rec.Time("captured_at")
	var exifTime time.Time
	if ev.exif.Time != nil {
		exifTime = *ev.exif.Time
	}
	taken := exifTime
	if taken.IsZero() {
		taken = captured
	}
	var reasons []string
	out := map[string]any{}
	if exifTime.IsZero() && ev.unreadable == "" {
		// A camera writes the time; a file without it (stripped, or a
		// picture saved by another app) cannot be checked against the
		// visit — and a recycled photo passes every other time check.
		reasons = append(reasons, "no_exif_time")
	}
	if !exifTime.IsZero() && !captured.IsZero() && absDur(exifTime.Sub(captured)) > p.cfg.TimeSlack {
		reasons = append(reasons, "exif_vs_device")
		out["exif_minus_device_s"] = secondsBetween(exifTime, captured)
	}
	var start, end time.Time
	if ev.visit != nil {
		start, end = ev.visit.Time("started_at"), ev.visit.Time("finished_at")
		if end.IsZero() && !start.IsZero() {
			end = start.Add(12 * time.Hour)
		}
		switch {
		case taken.IsZero() || start.IsZero():
		case taken.Before(start.Add(-p.cfg.TimeSlack)):
			reasons = append(reasons, "outside_visit")
			out["outside_visit_s"] = secondsBetween(taken, start) // negative: before the visit began
		case taken.After(end.Add(p.cfg.TimeSlack)) && !rectification(ev, taken, p.cfg.TimeSlack) && !retaken(ev, taken):
			reasons = append(reasons, "outside_visit")
			out["outside_visit_s"] = secondsBetween(taken, end) // positive: after it ended
		}
	}
	if !taken.IsZero() && taken.After(ev.rec.CreatedAt.Add(p.cfg.TimeSlack)) {
		reasons = append(reasons, "after_receipt")
		out["after_receipt_s"] = secondsBetween(taken, ev.rec.CreatedAt)
	}
	if len(reasons) == 0 {
		return nil
	}
	out["reasons"], out["received_at"] = reasons, ev.rec.CreatedAt.In(server.ChinaTime).Format(time.RFC3339)
	for k, t := range map[string]time.Time{"exif_time": exifTime, "captured_at": captured, "visit_start": start, "visit_end": end} {
		if !t.IsZero() {
			out[k] = t.In(server.ChinaTime).Format(time.RFC3339) // as every time the server writes
		}
	}
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// secondsBetween is a − b in whole seconds, also beyond the ±292 years a
// time.Duration holds (an EXIF time of year 9999), where Sub would stop.
func secondsBetween(a, b time.Time) int64 {
	if d := a.Sub(b); d > math.MinInt64 && d < math.MaxInt64 {
		return int64(d.Seconds())
	}
	return a.Unix() - b.Unix()
}

package photos

import (
	"context"
	"encoding/json"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// reuseFlagNames are the flags reuseFlags sets: they depend on the other
// photos, not on the photo's visit, and reflag keeps them as they are.
var reuseFlagNames = []string{FlagDuplicate, FlagNearDuplicate, FlagDuplicateItem}

// reflag computes again the flags of photo id, processed before, from
// what its processing stored of its bytes (EXIF, position) and from the
// records as they now are: its own fields, its visit (the inspection's
// start and end, its approval) and its site (position, radius). A change
// of any of those changes the flags (sync.md 10.7: the flags describe the
// record as it stands) without the bytes being decoded again. It reports
// false, having done nothing, for a photo that needs processing from its
// bytes: not processed, unreadable, or whose derivatives are not stored.
func (p *Processor) reflag(ctx context.Context, id string) (bool, error) {
	unlock, err := p.lockLink(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	rec, err := p.uploaded(ctx, id)
	if err != nil || rec == nil {
		return rec == nil && err == nil, err // gone: nothing to do either way
	}
	stored := map[string]json.RawMessage{}
	if rec.Value("processed_at") == nil || jsonUnmarshal(rec.Value("flags"), &stored) != nil || stored[FlagUnreadable] != nil {
		return false, nil
	}
	exif, ok := storedEXIF(rec.Value("exif"))
	if !ok {
		return false, nil
	}
	// Both derivatives: one gone (removed by hand, a photo store restored
	// in part) is made again from the bytes (fieldsync check --repair).
	for _, v := range []string{server.VariantThumbnail, server.VariantPreview} {
		if has, err := p.blobs.Has(ctx, rec.Text("sha256"), v); err != nil || !has {
			return false, err
		}
	}
	ev := evidence{rec: rec, exif: exif}
	flags, err := p.flags(ctx, &ev)
	if err != nil {
		return false, err
	}
	for _, name := range reuseFlagNames {
		if v, ok := stored[name]; ok {
			flags[name] = v
		}
	}
	vals := map[string]any{}
	if !sameJSON(rec.Value("flags"), flags) {
		vals["flags"] = flags
	}
	if ev.site != nil && rec.Text("site_id") != ev.site.ID {
		vals["site_id"] = ev.site.ID
	}
	if ev.where != nil {
		for name, v := range map[string]float64{"lon_wgs84": ev.where.Lon, "lat_wgs84": ev.where.Lat} {
			if got, ok := rec.Float(name); !ok || got != v {
				vals[name] = v
			}
		}
	}
	if len(vals) == 0 {
		return true, nil
	}
	return true, p.syncer.SetServerFields(ctx, syncproto.EntityPhoto, id, vals)
}

// storedEXIF reads back the EXIF a photo's processing stored (exifJSON):
// what the flags are computed from. ok is false if there is none.
func storedEXIF(raw json.RawMessage) (e imageproc.EXIF, ok bool) {
	var s struct {
		Orientation           int
		Time                  string
		Lon, Lat              *float64
		GPSAccuracyM          *float64 `json:"gps_accuracy_m"`
		Make, Model, Software string
	}
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil || string(raw) == "null" {
		return e, false
	}
	e.Orientation, e.GPSAccuracyM, e.Make, e.Model, e.Software = s.Orientation, s.GPSAccuracyM, s.Make, s.Model, s.Software
	if s.Time != "" {
		t, err := time.Parse(time.RFC3339, s.Time)
		if err != nil {
			return e, false
		}
		e.Time = &t
	}
	if s.Lon != nil && s.Lat != nil {
		e.GPS = &geo.Point{Lon: *s.Lon, Lat: *s.Lat}
	}
	return e, true
}

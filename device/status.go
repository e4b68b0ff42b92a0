package device

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Site is a pulled inspection site.
type Site struct {
	ID, County, Kind, Name, Address string
	// Retired is a site the office has retired (停用): no new
	// inspection is made there.
	Retired bool
}

// Sites lists the local sites, of kind if it is not empty, by county and
// name.
func (d *Device) Sites(ctx context.Context, kind string) ([]Site, error) {
	recs, err := d.records(ctx, syncproto.EntitySite)
	if err != nil {
		return nil, err
	}
	var out []Site
	for _, r := range recs {
		s := Site{ID: r.ID, County: r.County, Kind: r.Str("kind"), Name: r.Str("name"), Address: r.Str("address"), Retired: r.Retired()}
		if kind == "" || s.Kind == kind {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].County != out[j].County {
			return out[i].County < out[j].County
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Templates lists the local checklist templates.
func (d *Device) Templates(ctx context.Context) ([]*Template, error) {
	recs, err := d.records(ctx, syncproto.EntityTemplate)
	if err != nil {
		return nil, err
	}
	out := make([]*Template, len(recs))
	for i, r := range recs {
		out[i] = templateOf(r)
	}
	return out, nil
}

// Rejection is a mutation the server refused, kept for the user and
// support to see (sync.md 6).
type Rejection struct {
	Entity, ID, Code, Message, At string
}

// UploadJob is a photo waiting to be uploaded.
type UploadJob struct {
	PhotoID      string
	Path         string
	Offset, Size int64
	Error        string
}

// Review is an office decision that came back on an inspection.
type Review struct {
	InspectionID, Status, Comment string
}

// PhotoFlags are the evidence flags the server raised on a photo.
type PhotoFlags struct {
	PhotoID string
	Flags   json.RawMessage
}

// Status is what is waiting to go out and what came back.
type Status struct {
	DeviceID, Server, User string
	Outbox                 int
	Rejected               []Rejection
	Uploads                []UploadJob
	LastSync, LastSyncOK   string
	Reviews                []Review
	Flags                  []PhotoFlags
	Current                string
}

// Status reports the device's state from the local database alone.
func (d *Device) Status(ctx context.Context) (*Status, error) {
	s := &Status{DeviceID: d.id}
	s.Server, _ = d.get(keyServer)
	s.User, _ = d.get(keyUser)
	s.LastSync, _ = d.get(keyLastSync)
	s.LastSyncOK, _ = d.get(keyLastSyncOK)
	s.Current, _ = d.get(keyCurrent)
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&s.Outbox); err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT entity, id, code, message, at FROM rejected ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r Rejection
		if err := rows.Scan(&r.Entity, &r.ID, &r.Code, &r.Message, &r.At); err != nil {
			rows.Close()
			return nil, err
		}
		s.Rejected = append(s.Rejected, r)
	}
	rows.Close()
	rows, err = d.db.QueryContext(ctx, `SELECT photo_id, path, state, error FROM uploads WHERE done = 0 ORDER BY photo_id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var j UploadJob
		var state string
		if err := rows.Scan(&j.PhotoID, &j.Path, &state, &j.Error); err != nil {
			rows.Close()
			return nil, err
		}
		var u syncproto.Upload
		_ = json.Unmarshal([]byte(state), &u)
		j.Offset, j.Size = u.Offset, u.Size
		s.Uploads = append(s.Uploads, j)
	}
	rows.Close()
	insps, err := d.records(ctx, syncproto.EntityInspection)
	if err != nil {
		return nil, err
	}
	// The user's own inspections' reviews and photos' flags, not every
	// one of the county it pulls (a device signed in before the user's id
	// was kept shows them all).
	uid, err := d.get(keyUserID)
	if err != nil {
		return nil, err
	}
	mine := func(r *Record) bool { return uid == "" || r.Str("created_by") == uid }
	for _, r := range insps {
		if st := r.Str("status"); (st == "returned" || st == "approved") && mine(r) {
			s.Reviews = append(s.Reviews, Review{InspectionID: r.ID, Status: st, Comment: r.Str("review_comment")})
		}
	}
	photos, err := d.records(ctx, syncproto.EntityPhoto)
	if err != nil {
		return nil, err
	}
	for _, r := range photos {
		if f := r.Fields["flags"]; mine(r) && len(f) > 0 && string(f) != "null" && string(f) != "[]" && string(f) != "{}" {
			s.Flags = append(s.Flags, PhotoFlags{PhotoID: r.ID, Flags: f})
		}
	}
	return s, nil
}

// CountyNames shows county codes for people: "忻府区（140902）" for the
// counties the device has pulled, the bare code for the others.
func (d *Device) CountyNames(ctx context.Context, codes []string) []string {
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = code
		if r, err := d.Record(ctx, syncproto.EntityCounty, code); err == nil && r.Str("name") != "" {
			out[i] = r.Str("name") + "（" + code + "）"
		}
	}
	return out
}

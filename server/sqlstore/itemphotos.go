package sqlstore

import (
	"database/sql"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// ItemPhotosSQL selects the stored live photos of some inspections that
// name an item (id, inspection_id, item_key, uploaded, flags); the
// condition on inspection_id (Dialect.In) completes it.
const ItemPhotosSQL = `SELECT id, inspection_id, item_key, uploaded, flags FROM photo
	WHERE deleted_hlc = '' AND item_key IS NOT NULL AND item_key != '' AND `

// ItemPhotos gathers the photos of some inspections that name an item, as
// a write transaction sees them (server.CompletenessTx.InspectionPhotos):
// the stored rows first (Read), then the transaction's own records laid
// over them (Result), which as the only writer holds their current state.
type ItemPhotos struct {
	wanted map[string]bool
	byID   map[string]itemPhoto
}

type itemPhoto struct {
	insp string
	p    syncproto.ItemPhoto
}

// NewItemPhotos starts gathering the photos of these inspections.
func NewItemPhotos(inspections []string) *ItemPhotos {
	g := &ItemPhotos{wanted: make(map[string]bool, len(inspections)), byID: map[string]itemPhoto{}}
	for _, id := range inspections {
		g.wanted[id] = true
	}
	return g
}

// Read adds the rows of an ItemPhotosSQL query (the caller closes rows).
// uploaded scans as a sql.NullBool from either store's column (SQLite's
// 0/1 integer, PostgreSQL's boolean); NULL is not uploaded.
func (g *ItemPhotos) Read(rows Rows) error {
	for rows.Next() {
		var id, insp, key string
		var uploaded sql.NullBool
		var flags sql.NullString
		if err := rows.Scan(&id, &insp, &key, &uploaded, &flags); err != nil {
			return err
		}
		g.byID[id] = itemPhoto{insp, syncproto.ItemPhoto{ItemKey: key, Uploaded: uploaded.Bool,
			Unreadable: server.FlagsUnreadable([]byte(flags.String))}}
	}
	return rows.Err()
}

// Result lays the transaction's cached photo records over the stored rows
// and returns the photos by inspection.
func (g *ItemPhotos) Result(t *TxRecords) map[string][]syncproto.ItemPhoto {
	for r := range t.CachedOf(syncproto.EntityPhoto) {
		g.overlay(r)
	}
	out := make(map[string][]syncproto.ItemPhoto, len(g.wanted))
	for _, p := range g.byID {
		out[p.insp] = append(out[p.insp], p.p)
	}
	return out
}

// overlay puts the transaction's state of a photo in place of the stored
// one (dropping it when it no longer names an item of these inspections).
func (g *ItemPhotos) overlay(r *server.StoredRecord) {
	insp, key := r.Text("inspection_id"), r.Text("item_key")
	if r.State.IsDeleted() || key == "" || !g.wanted[insp] {
		delete(g.byID, r.ID)
		return
	}
	g.byID[r.ID] = itemPhoto{insp, syncproto.ItemPhoto{ItemKey: key, Uploaded: r.Uploaded(), Unreadable: r.Unreadable()}}
}

// PhotosFlaggedSQL selects, in feed order, the live photos whose flags
// have the key bound to its one ?.
func (d *Dialect) PhotosFlaggedSQL() string {
	return `SELECT id FROM photo WHERE deleted_hlc = '' AND ` + d.HasFlag("flags") + ` ORDER BY seq`
}

// PhotosFlagged returns the ids of the photos with any of these flags,
// each once (server.PhotoStore.PhotosFlagged), asking withFlag for the ids
// of each valid flag name (PhotosFlaggedSQL); other names match nothing.
func PhotosFlagged(flags []string, withFlag func(flag string) ([]string, error)) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	for _, f := range flags {
		if !ValidFlagName(f) {
			continue
		}
		got, err := withFlag(f)
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// VisitPhotosSQL returns the query of PhotoStore.VisitPhotos and its
// arguments: the live processed photos of the visits (an inspection's
// own, and its findings'; a roadside check's), and of the sites (the site
// their processing placed them at). visits or sites may be empty, not
// both.
func VisitPhotosSQL(d *Dialect, visits, sites []string) (string, []any) {
	var or []string
	var args []any
	if len(visits) > 0 {
		c, a := d.In("inspection_id", visits)
		f, b := d.In("inspection_id", visits)
		v, e := d.In("vehicle_check_id", visits)
		or = append(or, c, "finding_id IN (SELECT id FROM finding WHERE "+f+")", v)
		args = append(append(append(args, a...), b...), e...)
	}
	if len(sites) > 0 {
		c, a := d.In("site_id", sites)
		or = append(or, c)
		args = append(args, a...)
	}
	return `SELECT id FROM photo WHERE deleted_hlc = '' AND processed_at IS NOT NULL AND (` + strings.Join(or, " OR ") + `) ORDER BY seq`, args
}
